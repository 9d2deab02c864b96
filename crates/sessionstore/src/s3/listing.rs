//! Reading and writing the session index ([`super::index`] says what it looks like): the
//! uploader adds a session's entries after its sidecar, a listing reads entries instead of
//! sidecars once the index is marked complete, and [`S3Store::reindex`] brings a prefix
//! written before the index up to date.

use super::index::{self, Entry};
use super::upload::creation_headers;
use super::worker::Shared;
use super::{S3Store, META_SUFFIX};
use crate::{validate_id, Error, Filter, SessionMeta, Store};
use std::collections::{BTreeMap, BTreeSet};

/// What [`S3Store::reindex`] did.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct ReindexReport {
    /// Sessions with a sidecar in the store.
    pub sessions: u64,
    /// Of those, sessions that had no complete set of entries and got them now.
    pub indexed: u64,
    /// Sidecars that could not be read or parsed (left out of the index, named in the log).
    pub unreadable: u64,
}

impl Shared {
    fn marker_key(&self) -> String {
        format!("{}{}", self.client.config().list_prefix(), index::MARKER)
    }

    /// Writes a session's three index entries (empty objects). A server may refuse the long
    /// keys (s3s-fs keeps a key's base64 in one file name, so it fails above ~160 bytes):
    /// after a few refusals the short entries go up instead, retried like every upload.
    pub(super) fn put_index(&self, meta: &SessionMeta) -> Result<(), Error> {
        let cfg = self.client.config();
        let headers = creation_headers(cfg);
        let prefix = cfg.list_prefix();
        let short = index::short_keys(&prefix, meta);
        for (i, key) in index::keys(&prefix, meta).into_iter().enumerate() {
            let mut attempt = 0;
            let stored = loop {
                match self.client.put_object(&key, b"", &headers) {
                    Ok(_) => break true,
                    Err(e) if attempt + 1 >= self.policy.permanent_attempts.max(1) => {
                        tracing::warn!(key, error = %e, "index entry refused; storing the short form");
                        break false;
                    }
                    Err(e) => {
                        self.note_error(&e);
                        if self.stopped() {
                            return Err(Error::ShuttingDown);
                        }
                        std::thread::sleep(super::worker::backoff(&self.policy, attempt));
                        attempt += 1;
                    }
                }
            };
            if !stored {
                let key = &short[i];
                self.retrying("PutObject", || self.client.put_object(key, b"", &headers))?;
            }
        }
        Ok(())
    }

    /// At the uploader's start: a prefix with nothing in it yet gets the marker, because
    /// every session it will hold is indexed as it is uploaded. A prefix that already holds
    /// sessions without the marker is left to `sessions reindex` (listings read the
    /// sidecars meanwhile).
    pub(super) fn mark_index_if_new(&self) {
        let result = (|| -> Result<(), Error> {
            let marker = self.marker_key();
            if self.client.head(&marker)?.is_some() {
                return Ok(());
            }
            let prefix = self.client.config().list_prefix();
            let index_root = format!("{prefix}{}", index::ROOT);
            // Keys sort bytewise: one key from before the index tree and one from after it
            // (`_index0` sorts after every `_index/…`) tell whether anything else is there.
            let first = self.client.list_keys_after(&prefix, None, Some(1))?;
            let after = format!("{prefix}_index0");
            let others = match first.first() {
                None => Vec::new(),
                Some(k) if k.starts_with(&index_root) => {
                    self.client
                        .list_keys_after(&prefix, Some(&after), Some(1))?
                }
                Some(k) => vec![k.clone()],
            };
            if others.is_empty() {
                let headers = creation_headers(self.client.config());
                self.client.put_object(&marker, b"", &headers)?;
                tracing::info!(marker, "new session store: index marked complete");
            } else {
                tracing::warn!(
                    prefix,
                    "this store holds sessions from before the session index: run `sshtrail sessions reindex` once; until then listings read every sidecar"
                );
            }
            Ok(())
        })();
        if let Err(e) = result {
            self.note_error(&e);
            tracing::warn!(error = %e, "could not check the session index marker; listings read sidecars until it is set");
        }
    }
}

impl S3Store {
    /// Whether the index is marked complete.
    fn index_complete(&self) -> Result<bool, Error> {
        let key = self.shared.marker_key();
        Ok(self
            .read_retrying(|| self.shared.client.head(&key))?
            .is_some())
    }

    /// `list_matching` through the index when it is complete, through the sidecars when not.
    pub(super) fn list_indexed(&self, filter: &Filter) -> Result<Vec<SessionMeta>, Error> {
        filter.check()?;
        if !self.index_complete()? {
            tracing::warn!("no session index in this store (run `sshtrail sessions reindex`): reading every sidecar");
            let mut all = self.list_sidecars()?;
            all.retain(|m| filter.matches(m));
            return Ok(all);
        }
        let list_prefix = self.shared.client.config().list_prefix();
        let mut found: BTreeMap<String, SessionMeta> = BTreeMap::new();
        for prefix in index::prefixes(&list_prefix, filter) {
            let keys = self.read_retrying(|| self.shared.client.list_keys(&prefix))?;
            for key in keys {
                let meta = match index::parse_entry(&key) {
                    Some(Entry::Whole(m)) => *m,
                    Some(Entry::IdOnly { start, id })
                        if validate_id(&id).is_ok() && filter.matches_start(&start) =>
                    {
                        match self.meta(&id) {
                            Ok(m) => m,
                            Err(Error::NotFound(_)) => continue,
                            Err(e) => return Err(e),
                        }
                    }
                    _ => continue, // not ours, or outside the days
                };
                if validate_id(&meta.id).is_err() || !filter.matches(&meta) {
                    continue;
                }
                // A session finished again after a restart has entries for both ends; the
                // later end is the truth.
                match found.get(&meta.id) {
                    Some(had) if newer_end(had, &meta) => {}
                    _ => {
                        found.insert(meta.id.clone(), meta);
                    }
                }
            }
        }
        let mut out: Vec<SessionMeta> = found.into_values().collect();
        crate::file::sort_listing(&mut out);
        Ok(out)
    }

    /// Gives every session in the store its index entries, then marks the index complete.
    /// Reads one listing of the prefix and the sidecar of each session without a complete
    /// set of entries; safe to run while daemons upload (entries are written idempotently),
    /// and again.
    pub fn reindex(&self) -> Result<ReindexReport, Error> {
        let client = &self.shared.client;
        let list_prefix = client.config().list_prefix();
        let index_root = format!("{list_prefix}{}", index::ROOT);
        let keys = self.read_retrying(|| client.list_keys(&list_prefix))?;
        let present: BTreeSet<&str> = keys.iter().map(String::as_str).collect();
        let day_tree = format!("{index_root}day/");
        let indexed: BTreeMap<String, SessionMeta> = keys
            .iter()
            .filter(|k| k.starts_with(&day_tree))
            .filter_map(|k| match index::parse_entry(k) {
                Some(Entry::Whole(m)) => Some((m.id.clone(), *m)),
                _ => None,
            })
            .collect();
        let complete = |m: &SessionMeta| {
            [
                index::keys(&list_prefix, m),
                index::short_keys(&list_prefix, m),
            ]
            .iter()
            .any(|keys| keys.iter().all(|k| present.contains(k.as_str())))
        };
        let mut report = ReindexReport::default();
        for key in &keys {
            let Some(id) = key
                .strip_prefix(&list_prefix)
                .and_then(|k| k.strip_suffix(META_SUFFIX))
            else {
                continue;
            };
            if validate_id(id).is_err() || key.starts_with(&index_root) {
                continue;
            }
            report.sessions += 1;
            if indexed.get(id).is_some_and(complete) {
                continue; // no need to read the sidecar
            }
            let meta = match self.read_retrying(|| client.get_bytes(key)) {
                Ok(bytes) => {
                    match crate::file::parse_meta(
                        &bytes,
                        &format!("s3://{}/{key}", client.config().bucket),
                    ) {
                        Ok(m) => m,
                        Err(e) => {
                            tracing::warn!(key, error = %e, "unreadable sidecar left out of the index");
                            report.unreadable += 1;
                            continue;
                        }
                    }
                }
                Err(Error::S3 { status: 404, .. }) => continue, // deleted meanwhile
                Err(e) => return Err(e),
            };
            if complete(&meta) {
                continue;
            }
            self.shared.put_index(&meta)?;
            report.indexed += 1;
        }
        let headers = creation_headers(client.config());
        let marker = self.shared.marker_key();
        self.read_retrying(|| client.put_object(&marker, b"", &headers))?;
        tracing::info!(?report, "session index complete");
        Ok(report)
    }
}

/// Whether `had` ended later than `other` (an end beats no end).
fn newer_end(had: &SessionMeta, other: &SessionMeta) -> bool {
    match (&had.end, &other.end) {
        (Some(a), Some(b)) => a > b,
        (Some(_), None) => true,
        _ => false,
    }
}
