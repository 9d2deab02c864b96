//! The `s3` backend: a local spool for live logs, a persistent upload queue, and a small
//! SigV4 client (see the crate documentation for the URL keys and the durability story).

pub mod client;
pub mod creds;
pub mod index;
mod job;
mod listing;
pub mod sigv4;
mod spool;
mod throttle;
mod time;
mod upload;
pub mod url;
mod worker;
mod xml;

pub use creds::{Credentials, CredentialsSource, Env};
pub use job::UploadRecord;
pub use listing::ReindexReport;
pub use spool::RECORD_SUFFIX;
pub use url::S3Config;

use crate::file::{meta_json, parse_meta, sort_listing};
use crate::{
    fsutil, validate_id, Error, Filter, Options, SessionMeta, ShutdownReport, Store, StoreStats,
};
pub use client::{Client, ListedPart};
use spool::Spool;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use worker::{lock_queue, Shared};

pub use crate::file::{LOG_SUFFIX, META_SUFFIX};

/// Session logs in an S3 bucket, written through a local spool.
pub struct S3Store {
    shared: Arc<Shared>,
    worker: Mutex<Option<JoinHandle<()>>>,
    /// The spool lock, held for the store's life (not the worker's: a worker still finishing
    /// a request after shutdown must not keep a restarted store out).
    _lock: Option<std::fs::File>,
    read_only: bool,
}

fn build_client(url: &str, options: &Options) -> Result<Client, Error> {
    let mut cfg = url::parse(url)?;
    if let Some(p) = options.part_size {
        cfg.part_size = p;
    }
    if let Some(c) = options.concurrency {
        cfg.concurrency = c;
    }
    if options.max_bandwidth.is_some() {
        cfg.max_bandwidth = options.max_bandwidth;
    }
    url::check_tuning(&cfg)?;
    let creds = creds::chain(&cfg, options.credentials.as_ref(), &options.env)?;
    if creds.kind() != "static" {
        tracing::info!(
            source = creds.kind(),
            "S3 credentials are temporary; renewed before they expire"
        );
    }
    Client::with_source(
        cfg,
        Arc::new(creds),
        options.request_timeout.unwrap_or(Duration::from_secs(300)),
    )
}

/// A low-level client for the bucket a URL names (same keys and credentials as the store):
/// for tools and tests that need to look at objects directly (HEAD, ListParts).
pub fn connect(url: &str, options: &Options) -> Result<Client, Error> {
    build_client(url, options)
}

/// Creates the bucket a URL names (an existing bucket of ours is fine). For tests and first
/// set-up; the store itself never creates buckets.
pub fn create_bucket(url: &str, options: &Options) -> Result<(), Error> {
    build_client(url, options)?.create_bucket()
}

impl S3Store {
    /// Opens the store; with a spool directory, also starts the upload thread and queues every
    /// upload a previous process left unfinished.
    pub fn open(url: &str, options: &Options) -> Result<Self, Error> {
        let client = build_client(url, options)?;
        let read_only = options.spool_read_only || options.spool_dir.is_none();
        let (spool, lock) = match &options.spool_dir {
            Some(dir) if options.spool_read_only => (Some(Spool::existing(dir)), None),
            Some(dir) => {
                let spool = Spool::new(dir)?;
                let lock = spool.lock()?;
                (Some(spool), Some(lock))
            }
            None => (None, None),
        };
        let limiter = client.config().max_bandwidth.map(throttle::Limiter::new);
        let shared = Arc::new(Shared {
            client,
            spool,
            policy: options.retry.clone(),
            limiter,
            queue: Mutex::new(Default::default()),
            wake: Default::default(),
            stats: Mutex::new(StoreStats::default()),
        });
        let worker = match &shared.spool {
            Some(spool) if !read_only => {
                let left = spool.pending()?;
                if !left.is_empty() {
                    tracing::info!(
                        count = left.len(),
                        "resuming session uploads left in the spool"
                    );
                }
                lock_queue(&shared.queue).pending.extend(left);
                let s = Arc::clone(&shared);
                let handle = std::thread::Builder::new()
                    .name("s3-upload".into())
                    .spawn(move || s.run_worker())
                    .map_err(|e| Error::io("spawn upload thread", "s3-upload", e))?;
                Some(handle)
            }
            _ => None,
        };
        Ok(S3Store {
            shared,
            worker: Mutex::new(worker),
            _lock: lock,
            read_only,
        })
    }

    /// The spool, for writing.
    fn spool(&self) -> Result<&Spool, Error> {
        match &self.shared.spool {
            Some(spool) if !self.read_only => Ok(spool),
            _ => Err(Error::BadValue {
                key: "spool_dir".into(),
                reason: "writing to an s3 store needs Options::spool_dir (and not spool_read_only)"
                    .into(),
            }),
        }
    }

    /// Runs a read, retrying transient errors a few times.
    fn read_retrying<T>(&self, mut f: impl FnMut() -> Result<T, Error>) -> Result<T, Error> {
        let mut attempt = 0;
        loop {
            match f() {
                Ok(v) => return Ok(v),
                Err(e) if e.is_transient() && attempt + 1 < self.shared.policy.read_attempts => {
                    self.shared.note_error(&e);
                    let mut s = worker::lock_stats(&self.shared.stats);
                    s.read_retries += 1;
                    drop(s);
                    std::thread::sleep(worker::backoff(&self.shared.policy, attempt));
                    attempt += 1;
                }
                Err(e) => {
                    self.shared.note_error(&e);
                    return Err(e);
                }
            }
        }
    }

    /// The upload record of a freshly finished session (the spool sidecar first, so that a
    /// record never exists without it).
    fn new_record(&self, spool: &Spool, meta: &SessionMeta) -> Result<(), Error> {
        let id = &meta.id;
        let log = spool.log(id);
        let size = std::fs::metadata(&log)
            .map_err(|e| Error::io("finish", &log, e))?
            .len();
        fsutil::write_atomic(&spool.meta(id), &meta_json(meta)?)?;
        // S3 allows 10,000 parts: grow the part size for very large logs.
        let part_size = self
            .shared
            .client
            .config()
            .part_size
            .max(size.div_ceil(10_000));
        let rec = UploadRecord {
            id: id.clone(),
            size,
            part_size,
            ..Default::default()
        };
        job::save(&spool.record(id), &rec)
    }

    /// Every uploaded session, from its sidecar (one GET each): complete metadata.
    fn list_sidecars(&self) -> Result<Vec<SessionMeta>, Error> {
        let cfg = self.shared.client.config();
        let keys = self.read_retrying(|| self.shared.client.list_keys(&cfg.list_prefix()))?;
        let prefix = cfg.list_prefix();
        let mut out = Vec::new();
        for key in keys {
            let Some(id) = key
                .strip_prefix(&prefix)
                .and_then(|k| k.strip_suffix(META_SUFFIX))
            else {
                continue;
            };
            if validate_id(id).is_err() {
                continue; // deeper prefixes, strangers
            }
            let bytes = match self.read_retrying(|| self.shared.client.get_bytes(&key)) {
                Ok(b) => b,
                Err(Error::S3 { status: 404, .. }) => continue, // deleted meanwhile
                Err(e) => return Err(e),
            };
            match parse_meta(&bytes, &format!("s3://{}/{key}", cfg.bucket)) {
                Ok(m) => out.push(m),
                Err(e) => tracing::warn!(key, error = %e, "skipping unreadable sidecar"),
            }
        }
        sort_listing(&mut out);
        Ok(out)
    }

    fn queue(&self, id: &str) {
        let mut q = lock_queue(&self.shared.queue);
        let id = id.to_owned();
        q.failed.remove(&id);
        if q.active.as_ref() != Some(&id) && !q.pending.contains(&id) {
            q.pending.push_back(id);
        }
        self.shared.wake.notify_all();
    }
}

impl Store for S3Store {
    fn kind(&self) -> &'static str {
        "s3"
    }

    fn open_local(&self, id: &str) -> Result<Option<std::fs::File>, Error> {
        validate_id(id)?;
        fsutil::open_append(&self.spool()?.log(id)).map(Some)
    }

    fn write_meta(&self, meta: &SessionMeta) -> Result<(), Error> {
        validate_id(&meta.id)?;
        fsutil::write_atomic(&self.spool()?.meta(&meta.id), &meta_json(meta)?)
    }

    fn finish(&self, meta: &SessionMeta) -> Result<(), Error> {
        validate_id(&meta.id)?;
        let spool = self.spool()?;
        let id = &meta.id;
        let rec_path = spool.record(id);
        match job::load(&rec_path)? {
            // Finished again (a restarted daemon): the newer sidecar wins while it is not
            // uploaded yet; the upload itself carries on.
            Some(rec) => {
                if !rec.meta_uploaded {
                    fsutil::write_atomic(&spool.meta(id), &meta_json(meta)?)?;
                }
            }
            None => self.new_record(spool, meta)?,
        }
        self.queue(id);
        Ok(())
    }

    fn list(&self) -> Result<Vec<SessionMeta>, Error> {
        self.list_sidecars()
    }

    fn list_matching(&self, filter: &Filter) -> Result<Vec<SessionMeta>, Error> {
        self.list_indexed(filter)
    }

    fn reindex(&self) -> Result<Option<ReindexReport>, Error> {
        S3Store::reindex(self).map(Some)
    }

    fn meta(&self, id: &str) -> Result<SessionMeta, Error> {
        validate_id(id)?;
        let cfg = self.shared.client.config();
        let key = cfg.key(id, META_SUFFIX);
        match self.read_retrying(|| self.shared.client.get_bytes(&key)) {
            Ok(bytes) => parse_meta(&bytes, &format!("s3://{}/{key}", cfg.bucket)),
            Err(Error::S3 { status: 404, .. }) => {
                // Not uploaded yet: the spool has it while the session is live or queued.
                match &self.shared.spool {
                    Some(spool) => {
                        let path = spool.meta(id);
                        let bytes = fsutil::read_or_not_found(&path, id)?;
                        parse_meta(&bytes, &path.display().to_string())
                    }
                    None => Err(Error::NotFound(id.to_owned())),
                }
            }
            Err(e) => Err(e),
        }
    }

    fn open(&self, id: &str) -> Result<Box<dyn std::io::Read + Send>, Error> {
        validate_id(id)?;
        let key = self.shared.client.config().key(id, LOG_SUFFIX);
        match self.read_retrying(|| self.shared.client.get(&key)) {
            Ok(r) => Ok(r),
            Err(Error::S3 { status: 404, .. }) => match &self.shared.spool {
                Some(spool) => match std::fs::File::open(spool.log(id)) {
                    Ok(f) => Ok(Box::new(f)),
                    Err(_) => Err(Error::NotFound(id.to_owned())),
                },
                None => Err(Error::NotFound(id.to_owned())),
            },
            Err(e) => Err(e),
        }
    }

    fn shutdown(&self, deadline: Duration) -> ShutdownReport {
        let until = Instant::now() + deadline;
        let mut timed_out = false;
        {
            let mut q = lock_queue(&self.shared.queue);
            while !q.stop && (!q.pending.is_empty() || q.active.is_some()) {
                let now = Instant::now();
                if now >= until {
                    timed_out = true;
                    break;
                }
                q = self
                    .shared
                    .wake
                    .wait_timeout(q, until - now)
                    .map(|(g, _)| g)
                    .unwrap_or_else(|p| p.into_inner().0);
            }
            q.stop = true;
            self.shared.wake.notify_all();
        }
        // The worker stops at its next request boundary; an in-flight request is not waited
        // for beyond a short grace (its progress is in the spool either way).
        if let Some(handle) = self.worker.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let grace = Instant::now() + Duration::from_secs(2);
            while !handle.is_finished() && Instant::now() < grace {
                std::thread::sleep(Duration::from_millis(10));
            }
            if handle.is_finished() {
                let _ = handle.join();
            }
        }
        let pending = match &self.shared.spool {
            Some(spool) if !self.read_only => spool.pending().unwrap_or_default(),
            _ => Vec::new(),
        };
        ShutdownReport {
            deadline_reached: timed_out,
            pending,
        }
    }

    fn stats(&self) -> StoreStats {
        let mut s = worker::lock_stats(&self.shared.stats).clone();
        let counts = self.shared.client.counts();
        s.get_requests = counts.gets.load(std::sync::atomic::Ordering::Relaxed);
        s.list_requests = counts.lists.load(std::sync::atomic::Ordering::Relaxed);
        s.requests = counts.all.load(std::sync::atomic::Ordering::Relaxed);
        let q = lock_queue(&self.shared.queue);
        s.uploads_pending = (q.pending.len() + usize::from(q.active.is_some())) as u64;
        s
    }
}

impl Drop for S3Store {
    fn drop(&mut self) {
        // Without a shutdown call the worker is told to stop; unfinished uploads stay in the
        // spool for the next start.
        lock_queue(&self.shared.queue).stop = true;
        self.shared.wake.notify_all();
    }
}
