//! The daemon's sinks besides `--output`: what `--sink URL` and `[[sink]]` tables name,
//! and opening them.
//!
//! | URL | sink |
//! |---|---|
//! | `file:///var/log/sshtrail/copy.json` | another file, appended and marked like `--output` |
//! | `nats://host:4222/<prefix>?stream=SSHTRAIL&create=true` | NATS JetStream ([`nats`], [`sshtrail_nats`]) |
//! | `s3-lake://bucket/<prefix>?endpoint=…&region=…` | Parquet objects on S3 ([`lake`], [`sshtrail_lake`]) |
//!
//! A file sink is local and takes each line at once; the daemon's checkpoint carries each
//! sink's mark, and after a crash each is cut back to it, so every sink holds every event
//! exactly once. A remote sink (NATS JetStream, the S3 lake)
//! is a spool under `<state-dir>/sinks/<name>/` with a forwarder thread
//! ([`sshtrail_spool`], [`open_spooled`]): the forwarder sends on what a checkpoint
//! committed, so a slow or unreachable destination never holds up the others.
//!
//! In TOML, a sink is a URL string or a table with options:
//!
//! ```toml
//! [[sink]]
//! url = "nats://127.0.0.1:4222/sshtrail?stream=SSHTRAIL&create=true"
//! name = "bus"              # default: the URL's scheme (nats, s3-lake, file), numbered
//! spool_max_mb = 1024       # what may wait for the destination (then dropped, reported)
//! batch_events = 1000       # at most this many events per delivery
//! batch_seconds = 0         # how long a delivery waits to fill (the lake: 60)
//! ```

pub mod lake;
pub mod nats;

use sshtrail_event::sink::{FileSink, Sink};
use sshtrail_spool::{Forwarder, Gather, Limits, Spool, Watch};
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

/// One `--sink` / `[[sink]]`.
#[derive(Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(from = "SinkEntry")]
pub struct SinkSpec {
    pub url: String,
    pub name: Option<String>,
    pub spool_max_mb: Option<u64>,
    pub batch_events: Option<usize>,
    pub batch_seconds: Option<u64>,
}

#[derive(serde::Deserialize)]
#[serde(untagged)]
enum SinkEntry {
    Url(String),
    Table {
        url: String,
        #[serde(default)]
        name: Option<String>,
        #[serde(default)]
        spool_max_mb: Option<u64>,
        #[serde(default)]
        batch_events: Option<usize>,
        #[serde(default)]
        batch_seconds: Option<u64>,
    },
}

impl From<SinkEntry> for SinkSpec {
    fn from(entry: SinkEntry) -> SinkSpec {
        match entry {
            SinkEntry::Url(url) => SinkSpec::from_url(url),
            SinkEntry::Table {
                url,
                name,
                spool_max_mb,
                batch_events,
                batch_seconds,
            } => SinkSpec {
                url,
                name,
                spool_max_mb,
                batch_events,
                batch_seconds,
            },
        }
    }
}

impl SinkSpec {
    fn from_url(url: String) -> SinkSpec {
        SinkSpec {
            url,
            name: None,
            spool_max_mb: None,
            batch_events: None,
            batch_seconds: None,
        }
    }

    fn scheme(&self) -> &str {
        self.url.split_once("://").map_or("", |(scheme, _)| scheme)
    }
}

impl FromStr for SinkSpec {
    type Err = String;
    fn from_str(url: &str) -> Result<SinkSpec, String> {
        if !url.contains("://") {
            return Err(format!(
                "not a sink URL (file:///…, nats://…, s3-lake://…): {}",
                redacted(url)
            ));
        }
        Ok(SinkSpec::from_url(url.to_string()))
    }
}

/// The URL without what could be a secret: user information and query values.
pub fn redacted(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let authority = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let mut out = format!("{scheme}://{authority}");
    if !path.is_empty() {
        out.push('/');
        out.push_str(path);
    }
    if !query.is_empty() {
        let keys: Vec<&str> = query
            .split('&')
            .map(|pair| pair.split_once('=').map_or(pair, |(k, _)| k))
            .collect();
        out.push('?');
        out.push_str(&keys.join("=…&"));
        out.push_str("=…");
    }
    out
}

impl fmt::Debug for SinkSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SinkSpec")
            .field("url", &redacted(&self.url))
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl crate::settings::Describe for Vec<SinkSpec> {
    fn describe(&self) -> String {
        if self.is_empty() {
            "none".into()
        } else {
            let urls: Vec<String> = self.iter().map(|s| redacted(&s.url)).collect();
            urls.join(" ")
        }
    }
}

/// An opened sink, ready for [`crate::pipeline::outputs::Output`].
pub struct Opened {
    pub name: String,
    pub sink: Box<dyn Sink>,
    pub watch: Option<Watch>,
    /// A remote sink's forwarder, stopped at shutdown.
    pub forwarder: Option<Forwarder>,
}

/// What opening needs from the daemon.
pub struct Context<'a> {
    pub state_dir: &'a Path,
    /// The marks of the last checkpoint, by sink name.
    pub marks: &'a [(String, (u64, u64))],
    /// The host name events carry (the subjects and partitions of remote sinks).
    pub host: &'a str,
}

/// The sinks' names: given, or the scheme numbered (`nats`, `nats-2`, …). A name is
/// also a directory and a metrics label: lowercase letters, digits, `-` and `_`.
pub fn names(specs: &[SinkSpec]) -> Result<Vec<String>, String> {
    let mut names: Vec<String> = Vec::new();
    for spec in specs {
        let base = match &spec.name {
            Some(name) => name.clone(),
            None => spec
                .scheme()
                .replace(|c: char| !c.is_ascii_alphanumeric(), "-"),
        };
        let valid = !base.is_empty()
            && base.len() <= 64
            && base != "output"
            && base
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !valid {
            return Err(format!(
                "sink name {base:?}: use lowercase letters, digits, - and _ (not `output`)"
            ));
        }
        let mut name = base.clone();
        let mut n = 2;
        while names.contains(&name) {
            if spec.name.is_some() {
                return Err(format!("two sinks are named {base:?}"));
            }
            name = format!("{base}-{n}");
            n += 1;
        }
        names.push(name);
    }
    Ok(names)
}

/// Checks every spec (URL form, options) without opening anything: a bad one is a
/// settings error (exit 2).
pub fn check(specs: &[SinkSpec]) -> Result<(), String> {
    names(specs)?;
    for spec in specs {
        match spec.scheme() {
            "file" => {
                file_path(&spec.url)?;
            }
            "nats" | "tls" => {
                sshtrail_nats::NatsTarget::parse(&spec.url)
                    .map_err(|e| format!("sink {}: {e}", redacted(&spec.url)))?;
            }
            "s3-lake" => {
                lake::check(&spec.url).map_err(|e| format!("sink {}: {e}", redacted(&spec.url)))?;
            }
            other => {
                return Err(format!(
                    "sink {}: unknown kind {other:?} (file, nats, s3-lake)",
                    redacted(&spec.url)
                ))
            }
        }
    }
    Ok(())
}

fn file_path(url: &str) -> Result<PathBuf, String> {
    match url.strip_prefix("file://") {
        Some(path) if path.starts_with('/') => Ok(PathBuf::from(path)),
        _ => Err(format!("sink {url}: a file sink is file:///absolute/path")),
    }
}

/// The directory of a remote sink's spool.
pub fn spool_dir(state_dir: &Path, name: &str) -> PathBuf {
    state_dir.join("sinks").join(name)
}

/// Opens every sink, each cut back to its mark in the checkpoint first (what was written
/// after the mark is written again, once).
pub fn open_all(specs: &[SinkSpec], context: &Context<'_>) -> anyhow::Result<Vec<Opened>> {
    let names = names(specs).map_err(anyhow::Error::msg)?;
    let mut opened = Vec::new();
    for (spec, name) in specs.iter().zip(names) {
        let mark = context
            .marks
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, mark)| *mark);
        opened.push(open(spec, name, mark, context)?);
    }
    Ok(opened)
}

fn open(
    spec: &SinkSpec,
    name: String,
    mark: Option<(u64, u64)>,
    context: &Context<'_>,
) -> anyhow::Result<Opened> {
    if matches!(spec.scheme(), "nats" | "tls") {
        let target = sshtrail_nats::NatsTarget::parse(&spec.url)?;
        // A stream wants each event at once: no wait to fill a batch.
        let deliver = nats::NatsDeliver::new(target, gather(spec, 1000, 0), context.host);
        return open_spooled(spec, name, mark, context, Box::new(deliver));
    }
    if spec.scheme() == "s3-lake" {
        // An object store wants few large objects: a batch waits up to a minute to fill.
        let deliver = lake::LakeDeliver::new(&spec.url, gather(spec, 100_000, 60))
            .map_err(|e| anyhow::anyhow!("sink {}: {e}", redacted(&spec.url)))?;
        return open_spooled(spec, name, mark, context, Box::new(deliver));
    }
    if spec.scheme() == "file" {
        let path = file_path(&spec.url).map_err(anyhow::Error::msg)?;
        if let Some((inode, length)) = mark {
            let mark = sshtrail_event::sink::Mark {
                inode,
                length,
                created_by_ms: None,
            };
            let report = FileSink::restore_to_mark(&path, None, mark)?;
            tracing::info!(sink = %name, "{report}");
        }
        return Ok(Opened {
            name,
            sink: Box::new(FileSink::open(&path, None)?),
            watch: None,
            forwarder: None,
        });
    }
    anyhow::bail!("sink {}: unknown kind", redacted(&spec.url))
}

/// Opens a remote sink: its spool under the state directory, cut back to its `mark`,
/// and a forwarder handing what is committed to `deliver`.
pub fn open_spooled(
    spec: &SinkSpec,
    name: String,
    mark: Option<(u64, u64)>,
    context: &Context<'_>,
    deliver: Box<dyn sshtrail_spool::Deliver>,
) -> anyhow::Result<Opened> {
    let dir = spool_dir(context.state_dir, &name);
    if let Some(mark) = mark {
        let removed = Spool::restore_to_mark(&dir, mark)?;
        if removed > 0 {
            tracing::info!(sink = %name, removed, "spool cut back to the checkpoint");
        }
    }
    let limits = Limits {
        max_bytes: spec.spool_max_mb.unwrap_or(1024).saturating_mul(1 << 20),
        ..Limits::default()
    };
    let spool = Spool::open(&dir, limits)?;
    let forwarder = spool.forward(&name, deliver)?;
    tracing::info!(sink = %name, url = %redacted(&spec.url), "sink open");
    Ok(Opened {
        name,
        watch: Some(spool.watch()),
        sink: Box::new(spool),
        forwarder: Some(forwarder),
    })
}

/// A spec's batch shape, with a kind's defaults.
pub fn gather(spec: &SinkSpec, events: usize, seconds: u64) -> Gather {
    Gather {
        max_lines: spec.batch_events.unwrap_or(events).max(1),
        max_bytes: 8 << 20,
        max_wait: Duration::from_secs(spec.batch_seconds.unwrap_or(seconds)),
    }
}

/// Stops every forwarder, each given up to `wait` to deliver what is committed; whether
/// every one delivered everything.
pub fn stop_all(forwarders: Vec<(String, Forwarder)>, wait: Duration) -> bool {
    let mut all = true;
    for (name, forwarder) in forwarders {
        if !forwarder.stop(wait) {
            tracing::warn!(sink = %name, "undelivered events stay in the spool for the next start");
            all = false;
        }
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(url: &str) -> SinkSpec {
        url.parse().unwrap()
    }

    #[test]
    fn names_are_the_scheme_numbered_unless_given() {
        let specs = [spec("file:///a"), spec("file:///b"), spec("s3-lake://b/p")];
        assert_eq!(names(&specs).unwrap(), ["file", "file-2", "s3-lake"]);
        let mut named = spec("file:///x");
        named.name = Some("Bad/Name".into());
        assert!(names(&[named]).is_err());
        let mut output = spec("file:///x");
        output.name = Some("output".into());
        assert!(names(&[output]).is_err());
    }

    #[test]
    fn secrets_never_show() {
        let url = "nats://alice:hunter2@h:4222/p?token=s3cr3t&stream=S";
        let shown = format!("{:?} {}", spec(url), redacted(url));
        assert!(
            !shown.contains("hunter2") && !shown.contains("s3cr3t"),
            "{shown}"
        );
        assert!(
            shown.contains("nats://h:4222/p?token=…&stream=…"),
            "{shown}"
        );
    }

    #[test]
    fn toml_takes_urls_and_tables() {
        #[derive(serde::Deserialize)]
        struct Doc {
            sink: Vec<SinkSpec>,
        }
        let doc: Doc = toml::from_str("sink = [\"file:///a\"]\n").unwrap();
        assert_eq!(doc.sink[0].url, "file:///a");
        let doc: Doc =
            toml::from_str("[[sink]]\nurl = \"nats://h/p\"\nname = \"bus\"\nbatch_events = 5\n")
                .unwrap();
        assert_eq!(doc.sink[0].name.as_deref(), Some("bus"));
        assert_eq!(doc.sink[0].batch_events, Some(5));
    }

    #[test]
    fn bad_specs_are_refused_before_anything_opens() {
        assert!(check(&[spec("ftp://x/y")]).is_err());
        assert!(check(&[spec("file://relative")]).is_err());
        assert!("no-scheme".parse::<SinkSpec>().is_err());
        assert!(check(&[spec("file:///tmp/x")]).is_ok());
        assert!(check(&[spec("nats://127.0.0.1/p?stream=S&create=true")]).is_ok());
        assert!(check(&[spec("nats://127.0.0.1/p?stream=a.b")]).is_err());
    }
}
