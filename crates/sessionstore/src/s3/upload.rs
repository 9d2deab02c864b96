//! One session's way from the spool to S3: log object (single PUT, or multipart with parts
//! numbered from 1, several in flight, resumed under a recorded upload id), then the sidecar,
//! then its index entries, then the spool files are removed. Progress is written to the upload record after each step.

use super::client::Body;
use super::job::{self, UploadRecord};
use super::throttle::ThrottledReader;
use super::url::{S3Config, Sse, MIN_PART_SIZE};
use super::worker::{lock, Shared};
use super::{time, LOG_SUFFIX, META_SUFFIX};
use crate::{fsutil, Error, SessionMeta};
use std::collections::VecDeque;
use std::os::unix::fs::FileExt;
use std::sync::Mutex;

/// Object metadata values are HTTP header values: printable ASCII only. Anything else (a
/// hostile user name, say) is %-encoded, so it survives and cannot inject a header.
pub fn meta_value(v: &str) -> String {
    super::url::percent_encode(v, b"-._~:@+=,/")
}

/// Headers set when an object is created (PutObject, CreateMultipartUpload): encryption and
/// retention. Never on UploadPart: S3 refuses them there.
pub(super) fn creation_headers(cfg: &S3Config) -> Vec<(String, String)> {
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
    /// Brings one session from the spool to S3.
    pub(super) fn upload(&self, id: &str) -> Result<(), Error> {
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
        if !rec.index_uploaded {
            let meta: SessionMeta =
                crate::file::parse_meta(&meta_bytes, &meta_path.display().to_string())?;
            self.put_index(&meta)?;
            rec.index_uploaded = true;
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
                        // parts it lists with the size we would send. Its ETag wins; if it
                        // lists none, the one we recorded serves; with neither, the part is
                        // sent again (CompleteMultipartUpload needs every ETag).
                        let recorded = std::mem::take(&mut rec.parts);
                        for p in listed {
                            if !(1..=count).contains(&p.number) {
                                continue;
                            }
                            let (a, b) = rec.part_range(p.number);
                            let etag = p.etag.or_else(|| recorded.get(&p.number).cloned());
                            if let (true, Some(etag)) = (p.size == b - a, etag) {
                                rec.parts.insert(p.number, etag);
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
                        // Killed after CompleteMultipartUpload but before recording it? Then
                        // the object is there and nothing needs sending again.
                        if self.object_is_ours(key, &rec.id, rec.size)? {
                            return Ok(());
                        }
                        self.restart_upload(rec, rec_path)?;
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
                    self.restart_upload(rec, rec_path)?;
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
                    self.restart_upload(rec, rec_path)?;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// The server forgot the upload: forget it too and start a new one.
    fn restart_upload(
        &self,
        rec: &mut UploadRecord,
        rec_path: &std::path::Path,
    ) -> Result<(), Error> {
        tracing::warn!(session = %rec.id, upload_id = ?rec.upload_id, "server no longer knows the multipart upload; starting a new one");
        rec.upload_id = None;
        rec.parts.clear();
        lock(&self.stats).uploads_restarted += 1;
        job::save(rec_path, rec)
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
                                    // Another part failed for good: do not start this one.
                                    _ if lock(&first_error).is_some() => Err(Error::ShuttingDown),
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
    fn encryption_and_retention_go_on_object_creation() {
        let cfg = super::super::url::parse(
            "s3://b?sse=aws:kms&sse_kms_key_id=key-1&object_lock_mode=COMPLIANCE&object_lock_retain_days=30",
        )
        .unwrap();
        let meta = SessionMeta {
            id: "s1".into(),
            user: "bob".into(),
            digest: Some("sha256:ab".into()),
            ..Default::default()
        };
        let h = log_headers(&cfg, &meta);
        let get = |k: &str| h.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        assert_eq!(
            get("x-amz-server-side-encryption").as_deref(),
            Some("aws:kms")
        );
        assert_eq!(
            get("x-amz-server-side-encryption-aws-kms-key-id").as_deref(),
            Some("key-1")
        );
        assert_eq!(get("x-amz-object-lock-mode").as_deref(), Some("COMPLIANCE"));
        let until = get("x-amz-object-lock-retain-until-date").unwrap();
        let expect_day = time::rfc3339(time::now_unix() + 30 * 86_400);
        assert_eq!(until[..10], expect_day[..10], "{until}");
        assert_eq!(get("x-amz-meta-user").as_deref(), Some("bob"));
        assert_eq!(get("x-amz-meta-digest").as_deref(), Some("sha256:ab"));
        // The sidecar object gets the same protection.
        let s = sidecar_headers(&cfg, "s1");
        assert!(s
            .iter()
            .any(|(k, v)| k == "x-amz-object-lock-mode" && v == "COMPLIANCE"));
        // Without options: no such headers.
        let plain = log_headers(&super::super::url::parse("s3://b").unwrap(), &meta);
        assert!(
            !plain
                .iter()
                .any(|(k, _)| k.starts_with("x-amz-server-side")
                    || k.starts_with("x-amz-object-lock"))
        );
    }

    #[test]
    fn metadata_values_are_header_safe() {
        assert_eq!(meta_value("alice"), "alice");
        assert_eq!(meta_value("2026-11-23T10:00:00Z"), "2026-11-23T10:00:00Z");
        assert_eq!(meta_value("a b\r\nX-Evil: 1"), "a%20b%0D%0AX-Evil:%201");
        assert_eq!(meta_value("é"), "%C3%A9");
    }
}
