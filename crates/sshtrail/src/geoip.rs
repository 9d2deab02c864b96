//! GeoIP: where a login came from.
//!
//! An auditor reading "root logged in from 203.0.113.7" wants to know at a glance whether
//! that address is in the expected country and network. This module looks a source address
//! up in MaxMind-format databases (`.mmdb`) given by path and returns a [`Geo`]: country
//! ISO code and English name, city, and autonomous system. The daemon puts
//! [`Geo::fields`] into `UserLogin` events (`data.geo`) and into session metadata.
//!
//! Databases that work:
//! * the location database (required): any City or Country database in the GeoIP2 layout,
//!   such as MaxMind's GeoLite2-City, GeoLite2-Country, GeoIP2-City, GeoIP2-Country, or
//!   DB-IP's `dbip-city-lite` / `dbip-country-lite`. A Country database simply yields no
//!   city;
//! * the ASN database (optional): GeoLite2-ASN or another database whose records carry
//!   `autonomous_system_number` / `autonomous_system_organization` (such as `dbip-asn-lite`).
//!
//! Giving one kind where the other is expected (an ASN database as the location database,
//! or the reverse) is refused at [`GeoIp::open`], because it would otherwise silently
//! yield empty results for every address.
//!
//! The country reported is where the network is located (`country`), not where its block
//! is registered (`registered_country`), since that is what "where did this login come
//! from" asks.
//!
//! Robustness: the addresses looked up come from logs and may be anything; they never
//! cause a panic. The database file is configuration, trusted like the binary, but a
//! truncated or half-copied file is a common operational accident, so [`GeoIp::open`]
//! checks the file's layout before accepting it, and a database that turns out to be
//! damaged inside is switched off at its first crashed lookup, with one error in the log,
//! rather than crash the daemon or keep reporting misread records.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use maxminddb::{geoip2, Metadata, Reader};

/// Why a database could not be opened. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum GeoIpError {
    /// The file could not be read (missing, permissions, …).
    #[error("cannot read GeoIP database {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The file is not a well-formed MaxMind DB (truncated, corrupt, another format).
    #[error("GeoIP database {} is not a valid MaxMind DB file: {reason}", path.display())]
    Invalid { path: PathBuf, reason: String },
    /// A valid database of the wrong kind for its role.
    #[error("GeoIP database {} is of type {found:?}, but {expected} database was expected", path.display())]
    WrongKind {
        path: PathBuf,
        found: String,
        expected: &'static str,
    },
}

pub use sshtrail_event::Geo;

/// Opened GeoIP databases, read fully into memory (no mmap, so replacing the file on disk
/// while the daemon runs cannot fault it).
#[derive(Debug)]
pub struct GeoIp {
    location: Db,
    asn: Option<Db>,
}

/// One database, switched off for good once it has been found damaged (see [`Db::get`]).
#[derive(Debug)]
struct Db {
    path: PathBuf,
    reader: Reader<Vec<u8>>,
    damaged: AtomicBool,
}

impl Db {
    /// Looks `ip` up; "not found", decoding errors and a damaged database all give `None`.
    ///
    /// maxminddb 0.24 indexes its buffer without bounds checks, so a database that is
    /// corrupt inside its data section panics in the reader instead of returning an
    /// error. A GeoIP annotation is never worth losing an audit event or the daemon for,
    /// so the panic is caught here. Records read from such a file cannot be trusted
    /// either (a misread record is as likely to be a wrong country as garbage), so the
    /// database is switched off after the first panic, with one error in the log. (The
    /// default panic hook also prints that one panic.)
    fn get<'a, T: serde::Deserialize<'a>>(&'a self, ip: IpAddr) -> Option<T> {
        if self.damaged.load(Ordering::Relaxed) {
            return None;
        }
        match catch_unwind(AssertUnwindSafe(|| self.reader.lookup::<T>(ip))) {
            Ok(found) => found.ok(),
            Err(_) => {
                if !self.damaged.swap(true, Ordering::Relaxed) {
                    tracing::error!(
                        path = %self.path.display(),
                        %ip,
                        "GeoIP database is damaged (the reader crashed); not using it until restart"
                    );
                }
                None
            }
        }
    }
}

/// The role a database is opened for.
#[derive(Clone, Copy)]
enum Role {
    Location,
    Asn,
}

impl GeoIp {
    /// Opens `city_or_country` (a City or Country database) and, if given, `asn` (an ASN
    /// database).
    pub fn open(city_or_country: &Path, asn: Option<&Path>) -> Result<GeoIp, GeoIpError> {
        Ok(GeoIp {
            location: open_db(city_or_country, Role::Location)?,
            asn: asn.map(|p| open_db(p, Role::Asn)).transpose()?,
        })
    }

    /// Whether a database was found damaged during lookups and switched off.
    pub fn is_damaged(&self) -> bool {
        std::iter::once(&self.location)
            .chain(&self.asn)
            .any(|db| db.damaged.load(Ordering::Relaxed))
    }

    /// What the databases know about `ip`; `None` when they know nothing (loopback,
    /// private and other unrouted addresses are not in the databases).
    pub fn lookup(&self, ip: IpAddr) -> Option<Geo> {
        // sshd on a dual-stack socket logs IPv4 clients as ::ffff:a.b.c.d. MaxMind's own
        // databases alias that range to the IPv4 tree, but not every database does.
        let ip = ip.to_canonical();
        let mut geo = Geo::default();
        if let Some(city) = self.location.get::<geoip2::City>(ip) {
            if let Some(country) = city.country {
                geo.country_iso = country
                    .iso_code
                    .filter(|c| is_iso_code(c))
                    .map(str::to_string);
                geo.country = english(country.names);
            }
            geo.city = city.city.and_then(|c| english(c.names));
        }
        if let Some(reader) = &self.asn {
            if let Some(asn) = reader.get::<geoip2::Asn>(ip) {
                geo.asn = asn.autonomous_system_number;
                geo.as_org = asn.autonomous_system_organization.map(str::to_string);
            }
        }
        (!geo.is_empty()).then_some(geo)
    }

    /// [`lookup`](GeoIp::lookup) for an address in text form, as it appears in logs;
    /// text that is not an IP address gives `None`.
    pub fn lookup_str(&self, ip: &str) -> Option<Geo> {
        // sshd writes IPv6 addresses bare, but tolerate a bracketed form too.
        let ip = ip.trim();
        let ip = ip
            .strip_prefix('[')
            .and_then(|s| s.strip_suffix(']'))
            .unwrap_or(ip);
        ip.parse().ok().and_then(|ip| self.lookup(ip))
    }
}

/// Some databases fill unknown entries with placeholders (Geoacumen-Country maps loopback
/// to the text "None"); a country code that is not two ASCII letters is no country code.
fn is_iso_code(code: &str) -> bool {
    code.len() == 2 && code.bytes().all(|b| b.is_ascii_alphabetic())
}

fn english(names: Option<BTreeMap<&str, &str>>) -> Option<String> {
    names.and_then(|n| n.get("en").map(|s| s.to_string()))
}

/// The marker that starts the metadata section at the end of every MaxMind DB file.
const METADATA_MARKER: &[u8] = b"\xab\xcd\xefMaxMind.com";
/// The search tree and the data section are separated by this many zero bytes.
const DATA_SEPARATOR: usize = 16;

fn open_db(path: &Path, role: Role) -> Result<Db, GeoIpError> {
    let invalid = |reason: String| GeoIpError::Invalid {
        path: path.to_path_buf(),
        reason,
    };
    let bytes = std::fs::read(path).map_err(|source| GeoIpError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let Some(marker) = memchr::memmem::rfind(&bytes, METADATA_MARKER) else {
        return Err(invalid(
            "no metadata section (file truncated, or not a .mmdb file)".into(),
        ));
    };
    // Parse over a borrowed view first: the layout check needs both the metadata and the
    // bytes, and the owning reader below hides its buffer. Parsing metadata is cheap.
    {
        let view = open_reader(&bytes[..]).map_err(invalid)?;
        check_layout(&bytes, &view.metadata, marker).map_err(invalid)?;
        check_kind(path, &view.metadata.database_type, role)?;
    }
    Ok(Db {
        path: path.to_path_buf(),
        reader: open_reader(bytes).map_err(invalid)?,
        damaged: AtomicBool::new(false),
    })
}

/// `Reader::from_source`, with a panic (see [`Db::get`]) turned into an error.
fn open_reader<S: AsRef<[u8]>>(bytes: S) -> Result<Reader<S>, String> {
    match catch_unwind(AssertUnwindSafe(|| Reader::from_source(bytes))) {
        Ok(Ok(reader)) => Ok(reader),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("the reader crashed on its metadata or search tree (file damaged)".into()),
    }
}

/// Checks that the search tree the metadata announces fits in the file and is followed by
/// the zero separator, which catches files cut or spliced in the middle (the metadata at
/// the end survives those, so the reader alone would accept them and fail later).
fn check_layout(bytes: &[u8], meta: &Metadata, marker: usize) -> Result<(), String> {
    if !matches!(meta.record_size, 24 | 28 | 32) {
        return Err(format!("unsupported record size {}", meta.record_size));
    }
    if !matches!(meta.ip_version, 4 | 6) {
        return Err(format!("unsupported IP version {}", meta.ip_version));
    }
    let tree_size = (meta.node_count as usize)
        .checked_mul(meta.record_size as usize)
        .map(|bits| bits / 4)
        .ok_or("search tree size overflows")?;
    let separator = tree_size
        .checked_add(DATA_SEPARATOR)
        .filter(|&data_start| data_start <= marker)
        .and_then(|data_start| bytes.get(tree_size..data_start))
        .ok_or_else(|| {
            format!(
                "its search tree of {} nodes needs {tree_size} bytes, more than the file \
                 holds (file truncated?)",
                meta.node_count
            )
        })?;
    if separator.iter().any(|&b| b != 0) {
        return Err("no data section separator after the search tree (file damaged)".into());
    }
    Ok(())
}

fn check_kind(path: &Path, database_type: &str, role: Role) -> Result<(), GeoIpError> {
    let is_asn = database_type.to_ascii_uppercase().contains("ASN");
    let is_location = ["City", "Country", "Enterprise"]
        .iter()
        .any(|k| database_type.contains(k));
    let (wrong, expected) = match role {
        Role::Location => (is_asn && !is_location, "a City or Country"),
        Role::Asn => (is_location && !is_asn, "an ASN"),
    };
    if wrong {
        return Err(GeoIpError::WrongKind {
            path: path.to_path_buf(),
            found: database_type.to_string(),
            expected,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    //! Checks that need no database file; lookups against real databases are in
    //! `tests/geoip_real.rs`.
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("sshtrail-geoip-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join(name)
    }

    #[test]
    fn to_map_holds_exactly_the_present_fields() {
        let full = Geo {
            country_iso: Some("SE".into()),
            country: Some("Sweden".into()),
            city: Some("Linköping".into()),
            asn: Some(29518),
            as_org: Some("Bredband2 AB".into()),
        };
        let map = full.to_map();
        let keys: Vec<&str> = map.keys().map(String::as_str).collect();
        assert_eq!(keys, ["as_org", "asn", "city", "country", "country_iso"]);
        assert_eq!(map["asn"], "29518");
        assert_eq!(map["city"], "Linköping");

        let country_only = Geo {
            country_iso: Some("SE".into()),
            ..Geo::default()
        };
        assert_eq!(
            country_only.to_map(),
            BTreeMap::from([("country_iso".to_string(), "SE".to_string())])
        );
        assert!(Geo::default().to_map().is_empty());
    }

    #[test]
    fn iso_codes_are_two_letters() {
        assert!(is_iso_code("US"));
        for bad in ["None", "", "U", "U1", "ÜS", "USA"] {
            assert!(!is_iso_code(bad), "{bad}");
        }
    }

    #[test]
    fn kinds_are_told_apart_by_database_type() {
        let p = Path::new("/x.mmdb");
        for ok in [
            "GeoLite2-City",
            "GeoIP2-Country",
            "Geoacumen-Country",
            "Custom",
        ] {
            assert!(check_kind(p, ok, Role::Location).is_ok(), "{ok}");
        }
        for ok in [
            "GeoLite2-ASN",
            "DBIP-ASN-Lite (compat=GeoLite2-ASN)",
            "Custom",
        ] {
            assert!(check_kind(p, ok, Role::Asn).is_ok(), "{ok}");
        }
        let err = check_kind(p, "GeoLite2-ASN", Role::Location).unwrap_err();
        assert!(matches!(err, GeoIpError::WrongKind { .. }));
        assert!(err.to_string().contains("/x.mmdb"), "{err}");
        assert!(check_kind(p, "GeoLite2-City", Role::Asn).is_err());
    }

    #[test]
    fn missing_file_error_names_it() {
        let path = scratch("does-not-exist.mmdb");
        let err = GeoIp::open(&path, None).unwrap_err();
        assert!(matches!(err, GeoIpError::Read { .. }));
        assert!(err.to_string().contains(&*path.to_string_lossy()), "{err}");
    }

    #[test]
    fn non_mmdb_file_is_invalid_and_named() {
        let path = scratch("not-a-database.mmdb");
        std::fs::write(&path, b"just some text, no MaxMind DB here\n").unwrap();
        let err = GeoIp::open(&path, None).unwrap_err();
        assert!(matches!(err, GeoIpError::Invalid { .. }));
        let msg = err.to_string();
        assert!(
            msg.contains(&*path.to_string_lossy()) && msg.contains("metadata"),
            "{msg}"
        );
    }

    /// Fabricated metadata and bytes: a 2-node tree of 24-bit records (two records per
    /// node: 12 bytes), the separator, then the metadata marker.
    fn layout(node_count: u32, record_size: u16, separator: u8) -> (Vec<u8>, Metadata, usize) {
        let mut bytes = vec![0u8; 12];
        bytes.extend([separator; DATA_SEPARATOR]);
        let marker = bytes.len();
        bytes.extend(METADATA_MARKER);
        let meta = Metadata {
            binary_format_major_version: 2,
            binary_format_minor_version: 0,
            build_epoch: 0,
            database_type: "Test".into(),
            description: BTreeMap::new(),
            ip_version: 6,
            languages: vec![],
            node_count,
            record_size,
        };
        (bytes, meta, marker)
    }

    #[test]
    fn layout_check_catches_cut_and_damaged_files() {
        let (bytes, meta, marker) = layout(2, 24, 0);
        assert_eq!(check_layout(&bytes, &meta, marker), Ok(()));

        let (bytes, meta, marker) = layout(3, 24, 0);
        let err = check_layout(&bytes, &meta, marker).unwrap_err();
        assert!(err.contains("truncated"), "{err}");

        let (bytes, meta, marker) = layout(2, 24, 0xff);
        let err = check_layout(&bytes, &meta, marker).unwrap_err();
        assert!(err.contains("separator"), "{err}");

        let (bytes, meta, marker) = layout(2, 20, 0);
        assert!(check_layout(&bytes, &meta, marker).is_err());

        let (bytes, meta, marker) = layout(u32::MAX, 32, 0);
        assert!(check_layout(&bytes, &meta, marker).is_err());
    }
}
