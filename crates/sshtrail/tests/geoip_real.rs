//! GeoIP lookups against real databases, checked address by address against an
//! independent reader: Python's `maxminddb` module (its C extension wraps libmaxminddb),
//! which shares no code with the Rust `maxminddb` crate.
//!
//! Databases (installed by `scripts/install-deps` from PyPI):
//! * `maxminddb-geolite2`: MaxMind's GeoLite2-City (2018 build);
//! * `python-geoacumen`: Geoacumen-Country, a Country database with no city and no names.
//!
//! When they are missing the tests skip, unless `SSHTRAIL_REQUIRE_LIVE=1`, where they fail.

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;
use sshtrail::geoip::{Geo, GeoIp, GeoIpError};

/// The path a Python package reports for its database, or `None` (after saying why) when
/// it is not installed and live tests are not required.
fn database(test: &str, python_expr: &str) -> Option<PathBuf> {
    let found = Command::new("python3")
        .args(["-c", &format!("print({python_expr})")])
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
        .filter(|p| p.is_file());
    if found.is_none() {
        let why =
            format!("{test}: no database from python3 `{python_expr}` (run scripts/install-deps)");
        if std::env::var("SSHTRAIL_REQUIRE_LIVE").as_deref() == Ok("1") {
            panic!("{why}");
        }
        eprintln!("{why}: skipped");
    }
    found
}

fn city_db(test: &str) -> Option<PathBuf> {
    database(test, "__import__('geolite2').geolite2.filename")
}

fn country_db(test: &str) -> Option<PathBuf> {
    database(test, "__import__('geoacumen').db_path")
}

/// What the independent reader finds for each address: the record, or `Null` when the
/// address is not in the database.
fn reference(db: &Path, ips: &[IpAddr]) -> Vec<Value> {
    const SCRIPT: &str = "import json, sys, maxminddb\n\
        r = maxminddb.open_database(sys.argv[1])\n\
        for line in sys.stdin:\n    print(json.dumps(r.get(line.strip())))\n";
    let mut child = Command::new("python3")
        .args(["-c", SCRIPT])
        .arg(db)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3");
    let input: String = ips.iter().map(|ip| format!("{ip}\n")).collect();
    let mut stdin = child.stdin.take().expect("stdin");
    // Write from a thread: the reader's output pipe could fill before input ends.
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().expect("python3 output");
    writer.join().expect("writer").expect("write to python3");
    assert!(out.status.success(), "independent reader failed");
    let records: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json from reader"))
        .collect();
    assert_eq!(records.len(), ips.len());
    records
}

/// The `Geo` the reference record implies (location fields only; no ASN database here).
fn expected(record: &Value) -> Option<Geo> {
    let text = |v: &Value| v.as_str().map(str::to_string);
    let geo = Geo {
        country_iso: text(&record["country"]["iso_code"])
            .filter(|c| c.len() == 2 && c.chars().all(|ch| ch.is_ascii_alphabetic())),
        country: text(&record["country"]["names"]["en"]),
        city: text(&record["city"]["names"]["en"]),
        asn: None,
        as_org: None,
    };
    (geo != Geo::default()).then_some(geo)
}

fn ips(list: &[&str]) -> Vec<IpAddr> {
    list.iter().map(|s| s.parse().expect(s)).collect()
}

/// Public resolvers and networks whose records are well known, and MaxMind's documented
/// test networks (81.2.69.142, 89.160.20.112, 2001:218::, 2a02:cf40::) as they appear in
/// the real database.
const WELL_KNOWN: &[&str] = &[
    "8.8.8.8",
    "1.1.1.1",
    "9.9.9.9",
    "193.0.14.129",
    "81.2.69.142",
    "89.160.20.112",
    "216.160.83.56",
    "2001:4860:4860::8888",
    "2606:4700:4700::1111",
    "2001:218::",
    "2a02:cf40::",
];

#[test]
fn well_known_addresses_match_the_independent_reader() {
    let Some(db) = city_db("well_known_addresses") else {
        return;
    };
    let geo = GeoIp::open(&db, None).expect("open GeoLite2-City");
    let addresses = ips(WELL_KNOWN);
    for (ip, record) in addresses.iter().zip(reference(&db, &addresses)) {
        assert_eq!(geo.lookup(*ip), expected(&record), "{ip}");
    }
    // Anchors, checked by hand with the Python reader against this database (2018 build),
    // so that the comparison above cannot pass with both sides empty.
    let iso = |ip: &str| geo.lookup_str(ip).and_then(|g| g.country_iso);
    assert_eq!(iso("8.8.8.8").as_deref(), Some("US"));
    assert_eq!(iso("2001:4860:4860::8888").as_deref(), Some("US"));
    assert_eq!(iso("81.2.69.142").as_deref(), Some("GB"));
    assert_eq!(iso("2001:218::").as_deref(), Some("JP"));
    let sweden = geo.lookup_str("89.160.20.112").expect("89.160.20.112");
    assert_eq!(sweden.country.as_deref(), Some("Sweden"));
    assert_eq!(sweden.city.as_deref(), Some("Stockholm"));
    assert_eq!(sweden.asn, None, "no ASN database given");
}

/// A deterministic spread of addresses over the IPv4 space and the IPv6 global unicast
/// range (2000::/3), so the comparison covers many networks and record shapes.
fn spread(count: usize) -> Vec<IpAddr> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        // xorshift64: any fixed sequence will do; it only has to be reproducible.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..count)
        .map(|i| {
            if i % 4 == 3 {
                let high = (u128::from(next()) << 64) | u128::from(next());
                IpAddr::from(Ipv6Addr::from((high >> 3) | (1u128 << 125)))
            } else {
                IpAddr::from(Ipv4Addr::from((next() >> 32) as u32))
            }
        })
        .collect()
}

#[test]
fn thousands_of_addresses_match_the_independent_reader() {
    let Some(db) = city_db("thousands_of_addresses") else {
        return;
    };
    let geo = GeoIp::open(&db, None).expect("open GeoLite2-City");
    let addresses = spread(4000);
    let mut found = 0;
    let mut with_city = 0;
    for (ip, record) in addresses.iter().zip(reference(&db, &addresses)) {
        let got = geo.lookup(*ip);
        assert_eq!(got, expected(&record), "{ip}");
        found += usize::from(got.is_some());
        with_city += usize::from(got.is_some_and(|g| g.city.is_some()));
    }
    eprintln!("{found} of 4000 addresses located, {with_city} with a city");
    // Most of the IPv4 space is allocated; a reader that finds nothing must not pass.
    assert!(
        found > 1500 && with_city > 500,
        "found {found}, with city {with_city}"
    );
}

#[test]
fn unrouted_addresses_are_not_located() {
    let Some(db) = city_db("unrouted_addresses") else {
        return;
    };
    let geo = GeoIp::open(&db, None).expect("open GeoLite2-City");
    let addresses = ips(&[
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.1.1",
        "0.0.0.0",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fd00::1",
    ]);
    for (ip, record) in addresses.iter().zip(reference(&db, &addresses)) {
        assert_eq!(record, Value::Null, "independent reader locates {ip}");
        assert_eq!(geo.lookup(*ip), None, "{ip}");
    }
}

#[test]
fn text_addresses_as_logs_have_them() {
    let Some(db) = city_db("text_addresses") else {
        return;
    };
    let geo = GeoIp::open(&db, None).expect("open GeoLite2-City");
    let v6: IpAddr = "2001:4860:4860::8888".parse().unwrap();
    assert!(geo.lookup(v6).is_some());
    assert_eq!(geo.lookup_str("2001:4860:4860::8888"), geo.lookup(v6));
    assert_eq!(geo.lookup_str("[2001:4860:4860::8888]"), geo.lookup(v6));
    assert_eq!(geo.lookup_str(" 8.8.8.8\n"), geo.lookup_str("8.8.8.8"));
    // As sshd logs IPv4 clients of a dual-stack socket.
    assert_eq!(geo.lookup_str("::ffff:8.8.8.8"), geo.lookup_str("8.8.8.8"));
    for junk in [
        "",
        "not an address",
        "999.1.1.1",
        "8.8.8.8:22",
        "8.8.8",
        "::ffff:zz",
        "8.8.8.8\0",
        "[8.8.8.8",
        "\u{feff}8.8.8.8",
    ] {
        assert_eq!(geo.lookup_str(junk), None, "{junk:?}");
    }
}

#[test]
fn country_database_gives_countries_without_cities() {
    let Some(db) = country_db("country_database") else {
        return;
    };
    let geo = GeoIp::open(&db, None).expect("open Geoacumen-Country");
    let mut addresses = ips(WELL_KNOWN);
    addresses.extend(spread(1000));
    let mut found = 0;
    for (ip, record) in addresses.iter().zip(reference(&db, &addresses)) {
        let got = geo.lookup(*ip);
        assert_eq!(got, expected(&record), "{ip}");
        assert_eq!(got.as_ref().and_then(|g| g.city.clone()), None, "{ip}");
        found += usize::from(got.is_some());
    }
    assert!(found > 500, "found {found}");
    let iso = |ip: &str| geo.lookup_str(ip).and_then(|g| g.country_iso);
    assert_eq!(iso("8.8.8.8").as_deref(), Some("US"));
    assert_eq!(iso("193.0.14.129").as_deref(), Some("NL"));
    // This database has no alias for IPv4-mapped IPv6 addresses (the independent reader
    // finds nothing for them); they are looked up as the IPv4 addresses they are.
    let mapped: IpAddr = "::ffff:8.8.8.8".parse().unwrap();
    assert_eq!(reference(&db, &[mapped]), [Value::Null]);
    assert_eq!(iso("::ffff:8.8.8.8").as_deref(), Some("US"));
    // This database maps loopback to the placeholder code "None"; that is no country.
    assert_eq!(geo.lookup_str("127.0.0.1"), None);
}

/// A scratch directory of this test process, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir =
            std::env::temp_dir().join(format!("sshtrail-geoip-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch dir");
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn assert_invalid(result: Result<GeoIp, GeoIpError>, path: &Path, what: &str) {
    let err = result.expect_err(what);
    assert!(matches!(err, GeoIpError::Invalid { .. }), "{what}: {err:?}");
    let msg = err.to_string();
    assert!(msg.contains(&*path.to_string_lossy()), "{what}: {msg}");
    eprintln!("{what}: {msg}");
}

#[test]
fn truncated_and_spliced_copies_are_refused_clearly() {
    let Some(db) = city_db("truncated_copies") else {
        return;
    };
    let real = std::fs::read(&db).expect("read database");
    let scratch = Scratch::new("cut");

    // Cut short, as by an interrupted download or a full disk: the metadata at the end
    // is gone.
    for keep in [0, 1, real.len() / 2, real.len() - 1] {
        let path = scratch.0.join(format!("head-{keep}.mmdb"));
        std::fs::write(&path, &real[..keep]).expect("write copy");
        assert_invalid(
            GeoIp::open(&path, None),
            &path,
            &format!("first {keep} bytes"),
        );
    }

    // A chunk lost from the middle, the metadata at the end intact: the reader would
    // accept the file and fail (or panic) on lookups; the layout check refuses it.
    let tail = real.len() - 100_000;
    for (from, to) in [(real.len() / 3, tail), (1_000_000, 1_000_100), (4096, 8192)] {
        let mut cut = real[..from].to_vec();
        cut.extend_from_slice(&real[to..]);
        let path = scratch.0.join(format!("spliced-{from}-{to}.mmdb"));
        std::fs::write(&path, &cut).expect("write copy");
        assert_invalid(
            GeoIp::open(&path, None),
            &path,
            &format!("bytes {from}..{to} removed"),
        );
    }
}

#[test]
fn damage_inside_the_data_section_never_panics_a_lookup() {
    let Some(db) = city_db("damaged_data_section") else {
        return;
    };
    let real = std::fs::read(&db).expect("read database");
    let intact = GeoIp::open(&db, None).expect("open GeoLite2-City");
    let scratch = Scratch::new("data");
    // The search tree of this build ends near 25.2 MB; records from there on.
    let (from, to) = (30_000_000, 30_000_100);
    let mut cut = real[..from].to_vec();
    cut.extend_from_slice(&real[to..]);
    let path = scratch.0.join("data-cut.mmdb");
    std::fs::write(&path, &cut).expect("write copy");
    // The tree and metadata are intact, so the file opens; records past the cut are
    // misread, and the reader panics on some. Lookups must return, never unwind into the
    // caller, and once the damage shows, the database is off: no more misread records.
    let damaged = GeoIp::open(&path, None).expect("tree intact");
    assert!(!damaged.is_damaged());
    let addresses = spread(4000);
    let noticed = addresses
        .iter()
        .position(|ip| {
            damaged.lookup(*ip);
            damaged.is_damaged()
        })
        .expect("no lookup noticed the damage");
    eprintln!("damage noticed at lookup {noticed} of 4000");
    for ip in &addresses {
        assert_eq!(
            damaged.lookup(*ip),
            None,
            "{ip} after the damage was noticed"
        );
    }
    assert_eq!(damaged.lookup_str("8.8.8.8"), None);
    // The intact database is unaffected.
    assert!(!intact.is_damaged());
    assert!(intact.lookup_str("8.8.8.8").is_some());
}

#[test]
fn asn_database_is_optional_and_checked() {
    let Some(db) = city_db("asn_database") else {
        return;
    };
    let geo = GeoIp::open(&db, None).expect("open without ASN");
    let google = geo.lookup_str("8.8.8.8").expect("8.8.8.8");
    assert_eq!((google.asn, google.as_org.as_deref()), (None, None));
    let map = google.to_map();
    assert!(
        !map.contains_key("asn") && !map.contains_key("as_org"),
        "{map:?}"
    );
    assert_eq!(map.get("country_iso").map(String::as_str), Some("US"));

    // A City database where the ASN database belongs would give no ASN for any address.
    let err = GeoIp::open(&db, Some(&db)).expect_err("City db as ASN db");
    assert!(matches!(err, GeoIpError::WrongKind { .. }), "{err:?}");
    assert!(err.to_string().contains("GeoLite2-City"), "{err}");

    let missing = Path::new("/nonexistent/sshtrail/GeoLite2-ASN.mmdb");
    let err = GeoIp::open(&db, Some(missing)).expect_err("missing ASN db");
    assert!(matches!(err, GeoIpError::Read { .. }), "{err:?}");
    assert!(
        err.to_string().contains(&*missing.to_string_lossy()),
        "{err}"
    );
}

/// The daemon's use of it, through `replay`: a login's `data.geo` and its session's
/// metadata. Input: the bundled real capture (`examples/`) with its IPv4 client address
/// 127.0.0.1 rewritten to 89.160.20.112 in both logs — a derived, not captured, fixture
/// (sshd on loopback cannot be reached from a public address); the ::1 session is left
/// as it was and must get no location.
#[test]
fn replayed_logins_and_their_session_logs_say_where_the_client_was() {
    let Some(db) = city_db("replayed_logins_geo") else {
        return;
    };
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let scratch = Scratch::new("replay-geo");
    let public = "89.160.20.112";
    let mut inputs = Vec::new();
    for name in ["sshd-session.audit.log", "sshd-session.journal.json"] {
        let text = std::fs::read_to_string(repo.join("examples").join(name)).expect("example");
        let path = scratch.0.join(name);
        std::fs::write(&path, text.replace("127.0.0.1", public)).expect("write");
        inputs.push(path);
    }
    let storage = format!("file://{}", scratch.0.join("sessions").display());
    let out = Command::new(env!("CARGO_BIN_EXE_sshtrail"))
        .arg("replay")
        .arg("--audit-log")
        .arg(&inputs[0])
        .arg("--sshd-log")
        .arg(&inputs[1])
        .arg("--geoip-db")
        .arg(&db)
        .args(["--session-storage", &storage])
        .output()
        .expect("sshtrail replay");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let events: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    let want = expected(&reference(&db, &ips(&[public]))[0]).expect("the address is located");
    let want = serde_json::to_value(want.to_map()).expect("map");
    let logins: Vec<&Value> = events
        .iter()
        .filter(|e| e["type"] == "UserLogin" && e["outcome"] == "succeeded")
        .collect();
    assert_eq!(logins.len(), 3);
    for login in logins {
        if login["source"]["value"] == public {
            assert_eq!(login["data"]["geo"], want, "{login}");
            let id = events
                .iter()
                .find(|e| {
                    e["type"] == "UserLogout"
                        && e["metadata"]["auditId"] == login["metadata"]["auditId"]
                })
                .and_then(|e| e["data"]["session_log_id"].as_str())
                .expect("the session's log id");
            let meta: Value = serde_json::from_slice(
                &std::fs::read(scratch.0.join(format!("sessions/{id}.meta.json")))
                    .expect("sidecar"),
            )
            .expect("sidecar JSON");
            assert_eq!(meta["geo"], want, "{meta}");
        } else {
            assert_eq!(login["source"]["value"], "::1");
            assert!(login["data"].get("geo").is_none(), "{login}");
        }
    }
}
