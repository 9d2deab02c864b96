//! # sshtrail-sessionstore: where session logs are kept
//!
//! A session log is an opaque byte file (its format belongs to `sshtrail-sessionlog`); this
//! crate stores such files, one per SSH session, with a small JSON metadata sidecar
//! ([`SessionMeta`]), and reads them back for `sshtrail sessions list|show|export|verify`.
//!
//! ```no_run
//! use sshtrail_sessionstore::{open, Options, SessionMeta};
//! use std::io::Write;
//! let store = open("file:///var/lib/sshtrail/sessions", &Options::default())?;
//! let meta = SessionMeta { id: "3f1c0a9b2d4e-8a7b6c5d-42".into(), ..Default::default() };
//! let mut log = store.open_local(&meta.id)?.expect("file keeps logs");
//! log.write_all(b"...records...")?;
//! log.sync_all()?;
//! store.finish(&meta)?;
//! for m in store.list()? { println!("{} {}", m.id, m.user); }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Storage URLs
//!
//! | URL | backend |
//! |---|---|
//! | `none` | no session logs: writes keep nothing, reads find nothing |
//! | `file:///abs/dir` | `<dir>/<id>.sshlog` + `<dir>/<id>.meta.json`; directory created 0750, files 0640 |
//! | `s3://bucket[/prefix][?key=value&…]` | objects `<prefix>/<id>.sshlog` + `<prefix>/<id>.meta.json`, written through a local spool |
//!
//! Query keys of `s3://` (any other key is an error that names it):
//!
//! | key | meaning | default |
//! |---|---|---|
//! | `endpoint` | `http[s]://host[:port]` of an S3-compatible server | `https://s3.<region>.amazonaws.com` |
//! | `region` | SigV4 signing region | `us-east-1` (or `AWS_REGION`) |
//! | `path_style` | `true`: `endpoint/bucket/key`; `false`: `bucket.endpoint/key` | `true` when `endpoint` is given |
//! | `ca_file` | PEM bundle: the only roots trusted for `https` | Mozilla's roots |
//! | `access_key_id`, `secret_access_key`, `session_token` | credentials in the URL | see below |
//! | `profile`, `credentials_file` | profile and file of AWS shared credentials | `AWS_PROFILE` or `default`; `AWS_SHARED_CREDENTIALS_FILE` or `~/.aws/credentials` |
//! | `sse` | server-side encryption: `AES256` or `aws:kms` | none |
//! | `sse_kms_key_id` | KMS key for `sse=aws:kms` | the bucket's |
//! | `object_lock_mode`, `object_lock_retain_days` | `GOVERNANCE`/`COMPLIANCE` retention of N days, set when each object is created | none |
//! | `part_size` | multipart part size in bytes (≥ 5 MiB) | 8 MiB |
//! | `concurrency` | parts in flight at once | 4 |
//! | `max_bandwidth` | upload limit in bytes/s, shared by all parts | unlimited |
//!
//! Credentials are taken from the first that has them: [`Options::credentials`] or the URL
//! keys; the environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`);
//! the shared-credentials INI file. Object metadata on the log object: `x-amz-meta-session-id`,
//! `-user`, `-source-ip`, `-host`, `-start`, `-digest`, values percent-encoded outside
//! printable ASCII (a hostile user name cannot inject a header). Encryption and retention
//! headers go on PutObject and CreateMultipartUpload only (S3 refuses them on UploadPart), for
//! the sidecar object too; every upload carries `Content-MD5`, which S3 also requires for
//! object-lock writes, and a signed SHA-256 of the body.
//!
//! Errors name the URL key, file, bucket, key or endpoint at fault (a URL quoted in a message
//! has its secrets replaced by `***`); S3 errors carry the HTTP status and the S3 error code
//! ([`Error::S3`]).
//!
//! Session ids come from the daemon and from the command line: every method checks them
//! ([`validate_id`]: `[A-Za-z0-9._-]{1,128}`, no leading dot), so no id reaches outside the
//! directory or key prefix.
//!
//! ## Durability
//!
//! * **file**: the caller appends to the file from [`Store::open_local`] (opened `O_APPEND`,
//!   never truncated here) and fsyncs it; sidecars are replaced atomically (temporary file,
//!   fsync, rename, fsync of the directory).
//! * **s3**: the live log is a spool file (`<spool>/<id>.sshlog`). [`Store::finish`] writes the
//!   final sidecar and an upload record `<spool>/<id>.upload.json` (atomically) and returns; a
//!   background thread uploads. Small logs (< 5 MiB) go up in one `PUT`, larger ones as a
//!   multipart upload with parts numbered from 1, `concurrency` parts in flight. After each
//!   part the upload record is rewritten with the upload id and every finished part's ETag, so
//!   a process killed with `kill -9` resumes at the next start: it asks the server
//!   (`ListParts`) which parts it holds, sends only the others, and starts a new upload only if
//!   the server has forgotten the old one (`NoSuchUpload`). The sidecar object goes up after
//!   the log object; the spool files are deleted only when both are stored, the record last.
//!   Failed requests are retried with capped exponential backoff and jitter ([`RetryPolicy`]):
//!   network and server errors without limit, errors that retrying cannot fix
//!   (authorization, missing bucket) a few times, after which the upload is given up for this
//!   run (`upload_failures`) and stays in the spool for the next start.
//!   [`Store::shutdown`] waits for the queue until a deadline, then stops the uploader at its
//!   next request boundary and reports what is left; that is still safe in the spool.
//! * One process uploads from a spool at a time (`<spool>/.lock`, an `flock` the kernel drops
//!   when the process dies). A reader beside the daemon (the CLI) opens the same spool with
//!   [`Options::spool_read_only`]: it then sees live and queued sessions too, and writes
//!   nothing.
//!
//! [`Store::stats`] counts what happened ([`StoreStats`]): uploads done and pending, retries,
//! failures, bytes and parts sent, parts a resumed upload did not need to send again.
//!
//! ## Testing against real servers
//!
//! `scripts/s3-server start DIR PORT` runs s3s-fs (from crates.io; it keeps objects and
//! unfinished multipart uploads on disk and verifies every SigV4 signature), so a server
//! restart in the middle of an upload is a real restart; `S3_SERVER_KIND=moto` runs
//! moto_server instead, whose restart forgets uploads (the `NoSuchUpload` path). Two s3s-fs
//! 0.14 deviations the client copes with: `ListParts` lists parts without ETags (the store
//! then uses the ETags it recorded, and re-sends a part it has none for), and an unknown
//! upload id is `AccessDenied` rather than `NoSuchUpload`.
//!
//! ## Why an own S3 client
//!
//! The issue asks for a light client rather than `aws-sdk-s3`. `object_store` is async
//! (tokio + reqwest + hyper), numbers its multipart parts by index without a way to ask the
//! server which parts it already has (no `ListParts`), and offers no object-lock headers;
//! `rust-s3` has no `ListParts` either and no per-store CA bundle. Resuming an upload across a
//! restart needs exactly those, so this crate speaks the few S3 operations it uses itself
//! (PutObject, Create/UploadPart/ListParts/Complete multipart, Get/Head, ListObjectsV2,
//! CreateBucket) over `ureq` (synchronous, rustls) with its own AWS Signature V4 signer,
//! checked against AWS's published example signatures in [`s3::sigv4`]'s tests. The build
//! stays light: no async runtime, no SDK; `ring` (through rustls) is the only C code.
//! [`s3::connect`] hands out the same client for tools and tests (HEAD, ListParts).
//!
//! `rusty-s3` (sans-IO, would pair with `ureq`) was weighed as the signer and has every
//! operation used here, ListParts included. It signs only presigned URLs, whose payload is
//! `UNSIGNED-PAYLOAD`: the signature then covers no byte of the body. This client signs
//! each request's SHA-256 in `x-amz-content-sha256`, so S3 refuses a log part or sidecar that
//! changed on the way; for a tamper-evident log that is worth the ~270 lines of
//! [`s3::sigv4`], which are checked against AWS's examples and against a server (s3s-fs)
//! that verifies every signature.

mod error;
mod file;
mod fsutil;
mod id;
mod none;
pub mod s3;

pub use error::Error;
pub use file::FileStore;
pub use id::{validate_id, MAX_ID_LEN};
pub use none::NoneStore;
pub use s3::{connect, create_bucket, Credentials, ReindexReport, S3Store};

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// What is known about one session, stored beside its log as `<id>.meta.json`.
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct SessionMeta {
    /// Session id (machine id, boot id, kernel `ses`; made by `sshtrail::sessions::id`):
    /// `[A-Za-z0-9._-]{1,128}`, no leading dot.
    pub id: String,
    pub user: String,
    /// Source IP address.
    pub source: String,
    pub source_port: Option<u16>,
    pub host: String,
    pub machine_id: String,
    /// RFC 3339.
    pub start: String,
    /// RFC 3339, once the session ended.
    pub end: Option<String>,
    /// `sha256:<hex>` of the finished log, as the log format defines it.
    pub digest: Option<String>,
    pub bytes: u64,
    pub records: u64,
    /// GeoIP of the source (country, city, asn…), when configured.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub geo: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, String>,
}

/// Which sessions a listing wants: each given field must match (days are the UTC day the
/// session started, `YYYY-MM-DD`, both ends included).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Filter {
    pub user: Option<String>,
    pub host: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
}

impl Filter {
    /// Whether a session passes.
    pub fn matches(&self, meta: &SessionMeta) -> bool {
        if self.user.as_ref().is_some_and(|u| *u != meta.user)
            || self.host.as_ref().is_some_and(|h| *h != meta.host)
        {
            return false;
        }
        self.matches_start(&meta.start)
    }

    /// Whether a session that started at `start` (RFC 3339) is within the days.
    pub fn matches_start(&self, start: &str) -> bool {
        if self.since.is_none() && self.until.is_none() {
            return true;
        }
        let Some(day) = s3::index::day(start) else {
            return false;
        };
        self.since.as_ref().is_none_or(|s| day >= *s)
            && self.until.as_ref().is_none_or(|u| day <= *u)
    }

    /// Checks that the days are days.
    pub fn check(&self) -> Result<(), Error> {
        for (key, value) in [("since", &self.since), ("until", &self.until)] {
            if let Some(v) = value {
                if v.len() != 10 || s3::index::day(&format!("{v}T00:00:00Z")).as_ref() != Some(v) {
                    return Err(Error::BadValue {
                        key: key.into(),
                        reason: format!("{v:?} is not a day (YYYY-MM-DD)"),
                    });
                }
            }
        }
        Ok(())
    }
}

/// How long to wait between retries of a failed request.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// First delay; doubled after each failure, with jitter, up to `max`.
    pub initial: Duration,
    pub max: Duration,
    /// Attempts at a request that failed with a permanent error (403, 404 bucket, …) before
    /// the upload is given up for this run. Transient errors are retried without limit.
    pub permanent_attempts: u32,
    /// Attempts at a read (`list`, `meta`, `open`) before its error is returned.
    pub read_attempts: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            initial: Duration::from_millis(200),
            max: Duration::from_secs(30),
            permanent_attempts: 3,
            read_attempts: 3,
        }
    }
}

/// Settings that are not part of the URL (or override it).
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// S3 write side: the local spool directory (the daemon passes `<state-dir>/spool`).
    /// Without it an S3 store is read-only (`list`/`meta`/`open`, as the CLI needs).
    pub spool_dir: Option<PathBuf>,
    /// Use the spool only to find sessions not uploaded yet (the CLI beside a running daemon):
    /// no upload thread, no writes, no spool lock. Only one process may upload from a spool;
    /// a second writable open of the same spool fails.
    pub spool_read_only: bool,
    /// S3 credentials; take precedence over the URL, environment and file.
    pub credentials: Option<Credentials>,
    /// The environment variables the S3 credential chain reads (`AWS_*`, `HOME`). The
    /// default is the process environment; [`s3::Env::from_vars`] gives one store its own
    /// set (the tests in `tests/s3_credentials.rs` do, since they run in parallel).
    pub env: s3::Env,
    /// Overrides the URL's `part_size`.
    pub part_size: Option<u64>,
    /// Overrides the URL's `concurrency`.
    pub concurrency: Option<usize>,
    /// Overrides the URL's `max_bandwidth` (bytes/s).
    pub max_bandwidth: Option<u64>,
    pub retry: RetryPolicy,
    /// Time limit of one S3 request (default 5 minutes), extended by the time a body needs
    /// under `max_bandwidth`; a log streamed by `open` is limited only until its response
    /// headers arrive.
    pub request_timeout: Option<Duration>,
}

/// What [`Store::shutdown`] left undone.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ShutdownReport {
    /// Sessions whose upload is still in the spool (resumed at the next start).
    pub pending: Vec<String>,
    /// Whether the deadline passed before the queue was empty.
    pub deadline_reached: bool,
}

impl ShutdownReport {
    /// Nothing left to do.
    pub fn is_clean(&self) -> bool {
        self.pending.is_empty()
    }
}

/// Counters for metrics (monotonic except `uploads_pending`).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct StoreStats {
    /// Uploads queued or in progress.
    pub uploads_pending: u64,
    /// Sessions whose log and sidecar are both stored.
    pub uploads_done: u64,
    /// Failed requests that were tried again.
    pub upload_retries: u64,
    /// Uploads given up for this run after a permanent error (left in the spool).
    pub upload_failures: u64,
    /// Payload bytes successfully sent (logs and sidecars).
    pub bytes_uploaded: u64,
    /// Multipart parts sent.
    pub parts_uploaded: u64,
    /// Parts not sent again because the server already had them (resume).
    pub parts_reused: u64,
    /// Multipart uploads continued under their earlier upload id after a restart.
    pub uploads_resumed: u64,
    /// Multipart uploads started afresh because the server no longer knew the upload
    /// (`NoSuchUpload`).
    pub uploads_restarted: u64,
    /// Failed reads (`list`, `meta`, `open`) that were tried again.
    pub read_retries: u64,
    /// S3 requests sent (all kinds), GetObject requests, ListObjectsV2 pages: what reads cost.
    pub requests: u64,
    pub get_requests: u64,
    pub list_requests: u64,
    /// The most recent error, for logs and health output.
    pub last_error: Option<String>,
}

/// A place to keep session logs. All methods are safe to call from several threads.
pub trait Store: Send + Sync {
    /// `"none"`, `"file"` or `"s3"`.
    fn kind(&self) -> &'static str;
    /// The local file a live session's log is appended to: created if absent, never truncated
    /// (the caller truncates to its checkpoint). `None` for `none`. For s3 it is in the spool.
    fn open_local(&self, id: &str) -> Result<Option<std::fs::File>, Error>;
    /// Writes the metadata sidecar atomically (temporary file, fsync, rename).
    fn write_meta(&self, meta: &SessionMeta) -> Result<(), Error>;
    /// The session's log is complete and fsynced by the caller: file → final sidecar; s3 →
    /// queue the upload (persistently, in the spool) and return at once.
    fn finish(&self, meta: &SessionMeta) -> Result<(), Error>;
    /// Every stored session (s3: what is uploaded), oldest first.
    fn list(&self) -> Result<Vec<SessionMeta>, Error>;
    /// The stored sessions a filter passes, oldest first. The s3 store reads its session
    /// index (key listings only; see [`s3::index`]); the others filter [`Store::list`].
    fn list_matching(&self, filter: &Filter) -> Result<Vec<SessionMeta>, Error> {
        let mut all = self.list()?;
        all.retain(|m| filter.matches(m));
        Ok(all)
    }
    /// Brings the store's session index up to date (s3; the others keep none: `None`).
    fn reindex(&self) -> Result<Option<ReindexReport>, Error> {
        Ok(None)
    }
    /// One session's metadata.
    fn meta(&self, id: &str) -> Result<SessionMeta, Error>;
    /// One session's log bytes.
    fn open(&self, id: &str) -> Result<Box<dyn std::io::Read + Send>, Error>;
    /// Waits for queued uploads until the deadline; reports what is left (still safe in the
    /// spool).
    fn shutdown(&self, deadline: Duration) -> ShutdownReport;
    fn stats(&self) -> StoreStats;
}

/// Opens the store a URL names (see the table above).
pub fn open(url: &str, options: &Options) -> Result<Box<dyn Store>, Error> {
    let url = url.trim();
    if url == "none" {
        return Ok(Box::new(NoneStore));
    }
    if let Some(rest) = url.strip_prefix("file://") {
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        if let Some((key, _)) = s3::url::query_pairs(query, url)?.into_iter().next() {
            return Err(Error::UnknownKey {
                key,
                scheme: "file",
                known: "none",
            });
        }
        let path = s3::url::percent_decode(path, url)?;
        if !path.starts_with('/') {
            return Err(Error::Url {
                url: s3::url::redact(url),
                reason: "a file URL needs an absolute path: file:///dir".into(),
            });
        }
        return Ok(Box::new(FileStore::new(std::path::Path::new(&path))?));
    }
    if url.starts_with("s3://") {
        return Ok(Box::new(S3Store::open(url, options)?));
    }
    Err(Error::Url {
        url: s3::url::redact(url),
        reason: "expected none, file:///dir or s3://bucket/prefix?…".into(),
    })
}
