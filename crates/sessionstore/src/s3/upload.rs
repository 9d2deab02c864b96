//! The uploader: one background thread takes finished sessions from the queue and brings each
//! to S3 (log object, then sidecar), parts of large logs in parallel, every request retried
//! with capped exponential backoff and jitter, progress recorded in the spool after each step.

use super::client::{Body, Client};
use super::job::{self, UploadRecord};
use super::spool::Spool;
use super::throttle::{Limiter, ThrottledReader};
use super::url::{S3Config, Sse, MIN_PART_SIZE};
use super::{time, LOG_SUFFIX, META_SUFFIX};
use crate::{fsutil, Error, RetryPolicy, SessionMeta, StoreStats};
use std::collections::{BTreeSet, VecDeque};
use std::os::unix::fs::FileExt;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Queue state guarded by one mutex; the condvar wakes the worker, `shutdown` and sleepers.
#[derive(Default)]
pub struct Queue {
    pub pending: VecDeque<String>,
    pub active: Option<String>,
    /// Set by `shutdown` after its deadline (or by drop): stop at the next request boundary.
    pub stop: bool,
    /// Given up for this run after a permanent error (still in the spool).
    pub failed: BTreeSet<String>,
}

/// What the store and its upload thread share.
pub struct Shared {
    pub client: Client,
    pub spool: Option<Spool>,
    pub policy: RetryPolicy,
    pub limiter: Option<Limiter>,
    pub queue: Mutex<Queue>,
    pub wake: Condvar,
    pub stats: Mutex<StoreStats>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking upload thread must not wedge the daemon's own calls.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

pub fn lock_queue(m: &Mutex<Queue>) -> MutexGuard<'_, Queue> {
    lock(m)
}

pub fn lock_stats(m: &Mutex<StoreStats>) -> MutexGuard<'_, StoreStats> {
    lock(m)
}

/// Small xorshift for jitter; quality is irrelevant, only spreading retries matters.
fn jitter_fraction() -> f64 {
    use std::cell::Cell;
    thread_local!(static STATE: Cell<u64> = Cell::new({
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1);
        t ^ (std::process::id() as u64) << 32 | 1
    }));
    STATE.with(|s| {
        let mut x = s.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.set(x);
        (x >> 11) as f64 / (1u64 << 53) as f64
    })
}

/// Delay before retry number `attempt` (0-based): doubling from `initial`, capped at `max`,
/// then a random point in its upper half, so that many hosts do not retry in lockstep.
pub fn backoff(policy: &RetryPolicy, attempt: u32) -> Duration {
    let base = policy
        .initial
        .saturating_mul(1u32 << attempt.min(20))
        .min(policy.max);
    base.mul_f64(0.5 + 0.5 * jitter_fraction())
}

/// Object metadata values are HTTP header values: printable ASCII only. Anything else (a
/// hostile user name, say) is %-encoded, so it survives and cannot inject a header.
pub fn meta_value(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:@+=,/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Headers set when an object is created (PutObject, CreateMultipartUpload): encryption and
/// retention. Never on UploadPart: S3 refuses them there.
fn creation_headers(cfg: &S3Config) -> Vec<(String, String)> {
    let mut h = Vec::new();
    match &cfg.sse {
        Some(Sse::Aes256) => h.push(("x-amz-server-side-encryption".into(), "AES256".into())),
        Some(Sse::Kms { key_id }) => {
            h.push(("x-amz-server-side-encryption".into(), "aws:kms".into()));
            if let Some(k) = key_id {
                h.push((
                    "x-amz-server-side-encryption-aws-kms-key-id".into(),
                    k.clone(),
                ));
            }
        }
        None => {}
    }
    if let Some(lock) = &cfg.object_lock {
        let until = time::now_unix() + u64::from(lock.retain_days) * 86_400;
        h.push(("x-amz-object-lock-mode".into(), lock.mode.clone()));
        h.push((
            "x-amz-object-lock-retain-until-date".into(),
            time::rfc3339(until),
        ));
    }
    h
}

/// Headers of the log object: who, from where, on which host, when, and its digest.
pub fn log_headers(cfg: &S3Config, meta: &SessionMeta) -> Vec<(String, String)> {
    let mut h = vec![
        (
            "content-type".to_string(),
            "application/octet-stream".to_string(),
        ),
        ("x-amz-meta-session-id".to_string(), meta_value(&meta.id)),
        ("x-amz-meta-user".to_string(), meta_value(&meta.user)),
        ("x-amz-meta-source-ip".to_string(), meta_value(&meta.source)),
        ("x-amz-meta-host".to_string(), meta_value(&meta.host)),
        ("x-amz-meta-start".to_string(), meta_value(&meta.start)),
    ];
    if let Some(d) = &meta.digest {
        h.push(("x-amz-meta-digest".to_string(), meta_value(d)));
    }
    h.extend(creation_headers(cfg));
    h
}

fn sidecar_headers(cfg: &S3Config, id: &str) -> Vec<(String, String)> {
    let mut h = vec![
        ("content-type".to_string(), "application/json".to_string()),
        ("x-amz-meta-session-id".to_string(), meta_value(id)),
    ];
    h.extend(creation_headers(cfg));
    h
}

impl Shared {
    pub fn stopped(&self) -> bool {
        lock(&self.queue).stop
    }

    pub fn note_error(&self, e: &Error) {
        lock(&self.stats).last_error = Some(e.to_string());
    }

    /// Sleeps unless the store stops first.
    fn sleep(&self, d: Duration) -> Result<(), Error> {
        let until = Instant::now() + d;
        let mut q = lock(&self.queue);
        loop {
            if q.stop {
                return Err(Error::ShuttingDown);
            }
            let now = Instant::now();
            if now >= until {
                return Ok(());
            }
            q = self
                .wake
                .wait_timeout(q, until - now)
                .map(|(g, _)| g)
                .unwrap_or_else(|p| p.into_inner().0);
        }
    }

    /// Runs one request until it succeeds, the store stops, or it fails permanently
    /// `permanent_attempts` times. `NoSuchUpload` is returned at once: the caller reacts.
    fn retrying<T>(&self, what: &str, mut f: impl FnMut() -> Result<T, Error>) -> Result<T, Error> {
        let mut attempt = 0u32;
        let mut permanent = 0u32;
        loop {
            if self.stopped() {
                return Err(Error::ShuttingDown);
            }
            let e = match f() {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            if self.stopped() {
                return Err(Error::ShuttingDown);
            }
            self.note_error(&e);
            if e.s3_code() == Some("NoSuchUpload") {
                return Err(e);
            }
            if !e.is_transient() {
                permanent += 1;
                if permanent >= self.policy.permanent_attempts.max(1) {
                    return Err(e);
                }
            }
            let delay = backoff(&self.policy, attempt);
            lock(&self.stats).upload_retries += 1;
            tracing::warn!(what, error = %e, retry_in_ms = delay.as_millis() as u64, "S3 request failed; retrying");
            self.sleep(delay)?;
            attempt += 1;
        }
    }

    /// The upload thread's loop.
    pub fn run_worker(&self) {
        loop {
            let id = {
                let mut q = lock(&self.queue);
                loop {
                    if q.stop {
                        return;
                    }
                    if let Some(id) = q.pending.pop_front() {
                        q.active = Some(id.clone());
                        break id;
                    }
                    q = self.wake.wait(q).unwrap_or_else(|p| p.into_inner());
                }
            };
            let result = self.upload(&id);
            let mut q = lock(&self.queue);
            q.active = None;
            match result {
                Ok(()) => {}
                Err(Error::ShuttingDown) => {}
                Err(e) => {
                    tracing::error!(session = %id, error = %e, "upload given up for now; it stays in the spool and is retried at the next start");
                    self.note_error(&e);
                    lock(&self.stats).upload_failures += 1;
                    q.failed.insert(id);
                }
            }
            self.wake.notify_all();
        }
    }

    /// Brings one session from the spool to S3.
    fn upload(&self, id: &str) -> Result<(), Error> {
        let Some(spool) = &self.spool else {
            return Ok(());
        };
        let rec_path = spool.record(id);
        let Some(mut rec) = job::load(&rec_path)? else {
            return Ok(()); // finished before a crash that happened after the last cleanup step
        };
        let cfg = self.client.config();
        let meta_path = spool.meta(id);
        let meta_bytes = fsutil::read_or_not_found(&meta_path, id)?;
        if !rec.log_uploaded {
            let meta: SessionMeta =
                crate::file::parse_meta(&meta_bytes, &meta_path.display().to_string())?;
            let headers = log_headers(cfg, &meta);
            let key = cfg.key(id, LOG_SUFFIX);
            let log_path = spool.log(id);
            let file =
                std::fs::File::open(&log_path).map_err(|e| Error::io("open", &log_path, e))?;
            let len = file
                .metadata()
                .map_err(|e| Error::io("stat", &log_path, e))?
                .len();
            if len < rec.size {
                return Err(Error::io(
                    "upload",
                    &log_path,
                    std::io::Error::other(format!(
                        "spool file shrank from {} to {len} bytes",
                        rec.size
                    )),
                ));
            }
            if rec.size < MIN_PART_SIZE {
                let mut data = vec![0u8; rec.size as usize];
                file.read_exact_at(&mut data, 0)
                    .map_err(|e| Error::io("read", &log_path, e))?;
                self.retrying("PutObject", || {
                    self.client.put_object(&key, &data, &headers)
                })?;
                lock(&self.stats).bytes_uploaded += rec.size;
            } else {
                self.multipart(&mut rec, &rec_path, &file, &key, &headers)?;
            }
            rec.log_uploaded = true;
            job::save(&rec_path, &rec)?;
        }
        if !rec.meta_uploaded {
            let key = cfg.key(id, META_SUFFIX);
            let headers = sidecar_headers(cfg, id);
            self.retrying("PutObject", || {
                self.client.put_object(&key, &meta_bytes, &headers)
            })?;
            lock(&self.stats).bytes_uploaded += meta_bytes.len() as u64;
            rec.meta_uploaded = true;
            job::save(&rec_path, &rec)?;
        }
        // Both objects are stored: the spool copy may go. The record goes last, so a crash in
        // between leaves a record that says "done" and is only cleaned up.
        fsutil::remove_if_exists(&spool.log(id))?;
        fsutil::remove_if_exists(&meta_path)?;
        fsutil::remove_if_exists(&rec_path)?;
        fsutil::sync_dir(spool.dir())?;
        lock(&self.stats).uploads_done += 1;
        tracing::info!(session = %id, bytes = rec.size, "session log stored in S3");
        Ok(())
    }

    /// Multipart upload of a log, resuming an earlier upload id when the record has one.
    fn multipart(
        &self,
        rec: &mut UploadRecord,
        rec_path: &std::path::Path,
        file: &std::fs::File,
        key: &str,
        headers: &[(String, String)],
    ) -> Result<(), Error> {
        let count = rec.part_count();
        loop {
            if let Some(uid) = rec.upload_id.clone() {
                match self.retrying("ListParts", || self.client.list_parts(key, &uid)) {
                    Ok(listed) => {
                        // The server is the authority on what it holds: keep exactly the
                        // parts it lists with the size we would send.
                        rec.parts.clear();
                        for p in listed {
                            if (1..=count).contains(&p.number) {
                                let (a, b) = rec.part_range(p.number);
                                if p.size == b - a {
                                    rec.parts.insert(p.number, p.etag);
                                }
                            }
                        }
                        {
                            let mut s = lock(&self.stats);
                            s.uploads_resumed += 1;
                            s.parts_reused += rec.parts.len() as u64;
                        }
                        tracing::info!(key, upload_id = %uid, parts_held = rec.parts.len(), parts = count, "resuming multipart upload");
                        job::save(rec_path, rec)?;
                    }
                    Err(e) if e.s3_code() == Some("NoSuchUpload") => {
                        tracing::warn!(key, upload_id = %uid, "server forgot the multipart upload; starting a new one");
                        rec.upload_id = None;
                        rec.parts.clear();
                        job::save(rec_path, rec)?;
                    }
                    Err(e) => return Err(e),
                }
            }
            let uid = match rec.upload_id.clone() {
                Some(u) => u,
                None => {
                    let u = self.retrying("CreateMultipartUpload", || {
                        self.client.create_multipart(key, headers)
                    })?;
                    rec.upload_id = Some(u.clone());
                    rec.parts.clear();
                    job::save(rec_path, rec)?;
                    u
                }
            };
            match self.send_parts(rec, rec_path, file, key, &uid) {
                Ok(()) => {}
                Err(e) if e.s3_code() == Some("NoSuchUpload") => {
                    rec.upload_id = None;
                    rec.parts.clear();
                    job::save(rec_path, rec)?;
                    continue;
                }
                Err(e) => return Err(e),
            }
            let parts: Vec<(u32, String)> =
                rec.parts.iter().map(|(n, e)| (*n, e.clone())).collect();
            match self.retrying("CompleteMultipartUpload", || {
                self.client.complete(key, &uid, &parts)
            }) {
                Ok(()) => return Ok(()),
                Err(e) if e.s3_code() == Some("NoSuchUpload") => {
                    // Completed by an earlier attempt whose answer was lost? Then the object
                    // is there, with our session id and size.
                    if self.object_is_ours(key, &rec.id, rec.size)? {
                        return Ok(());
                    }
                    rec.upload_id = None;
                    rec.parts.clear();
                    job::save(rec_path, rec)?;
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn object_is_ours(&self, key: &str, id: &str, size: u64) -> Result<bool, Error> {
        let Some(h) = self.retrying("HeadObject", || self.client.head(key))? else {
            return Ok(false);
        };
        let get = |name: &str| h.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        Ok(get("x-amz-meta-session-id") == Some(&meta_value(id))
            && get("content-length").and_then(|v| v.parse::<u64>().ok()) == Some(size))
    }

    /// Sends every part the record lacks, `concurrency` at a time; each finished part is
    /// recorded in the spool before the next is taken.
    fn send_parts(
        &self,
        rec: &mut UploadRecord,
        rec_path: &std::path::Path,
        file: &std::fs::File,
        key: &str,
        uid: &str,
    ) -> Result<(), Error> {
        let todo: VecDeque<u32> = (1..=rec.part_count())
            .filter(|n| !rec.parts.contains_key(n))
            .collect();
        if todo.is_empty() {
            return Ok(());
        }
        let workers = self.client.config().concurrency.min(todo.len()).max(1);
        let todo = Mutex::new(todo);
        let shared_rec = Mutex::new(&mut *rec);
        let first_error: Mutex<Option<Error>> = Mutex::new(None);
        let geometry = {
            let r = lock(&shared_rec);
            (r.size, r.part_size)
        };
        let range = |n: u32| {
            let start = u64::from(n - 1) * geometry.1;
            (start, (start + geometry.1).min(geometry.0))
        };
        let stop_requested = || self.stopped() || lock(&first_error).is_some();
        std::thread::scope(|s| {
            for _ in 0..workers {
                s.spawn(|| {
                    let mut buf = Vec::new();
                    loop {
                        if stop_requested() {
                            return;
                        }
                        let Some(n) = lock(&todo).pop_front() else {
                            return;
                        };
                        let (a, b) = range(n);
                        buf.resize((b - a) as usize, 0);
                        let result = file
                            .read_exact_at(&mut buf, a)
                            .map_err(|e| Error::io("read part", format!("part {n} of {key}"), e))
                            .and_then(|()| {
                                self.retrying("UploadPart", || match &self.limiter {
                                    Some(l) => {
                                        let mut r = ThrottledReader::new(&buf, l, &stop_requested);
                                        self.client.upload_part(
                                            key,
                                            uid,
                                            n,
                                            Body::Throttled(&buf, &mut r),
                                        )
                                    }
                                    None => self.client.upload_part(key, uid, n, Body::Bytes(&buf)),
                                })
                            });
                        match result {
                            Ok(etag) => {
                                let mut r = lock(&shared_rec);
                                r.parts.insert(n, etag);
                                if let Err(e) = job::save(rec_path, &r) {
                                    lock(&first_error).get_or_insert(e);
                                    return;
                                }
                                let mut st = lock(&self.stats);
                                st.parts_uploaded += 1;
                                st.bytes_uploaded += b - a;
                            }
                            Err(e) => {
                                lock(&first_error).get_or_insert(e);
                                return;
                            }
                        }
                    }
                });
            }
        });
        if let Some(e) = first_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
            return Err(e);
        }
        if self.stopped() {
            return Err(Error::ShuttingDown);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let p = RetryPolicy {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(2),
            ..Default::default()
        };
        for attempt in 0..40 {
            let d = backoff(&p, attempt);
            let base = Duration::from_millis(100)
                .saturating_mul(1 << attempt.min(20))
                .min(p.max);
            assert!(d >= base / 2 && d <= base, "{attempt}: {d:?}");
        }
    }

    #[test]
    fn metadata_values_are_header_safe() {
        assert_eq!(meta_value("alice"), "alice");
        assert_eq!(meta_value("2026-11-23T10:00:00Z"), "2026-11-23T10:00:00Z");
        assert_eq!(meta_value("a b\r\nX-Evil: 1"), "a%20b%0D%0AX-Evil:%201");
        assert_eq!(meta_value("é"), "%C3%A9");
    }
}
