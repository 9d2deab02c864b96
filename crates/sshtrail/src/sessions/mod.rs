//! Session logs: each SSH session the tracker follows is written, as its events pass on
//! the way to the sink, into its own tamper-evident log (`sshtrail-sessionlog`) kept by a
//! store (`sshtrail-sessionstore`: none, a directory, or S3).
//!
//! The recorder sits between the tracker and the event sink. It opens a log at the
//! session's `UserLogin`, appends every `UserAction` of the session, and at `UserLogout`
//! seals the log and writes its final digest into the event
//! (`data.session_log_digest`) *before* the event leaves the host, so that a log edited
//! later no longer matches what the event stream recorded.
//!
//! Durability follows the daemon's checkpoint: [`Recorder::sync`] makes every open log
//! durable, and [`Recorder::snapshot`] records, per open log, how far it was written and
//! the hash chain at that point. After `kill -9` the daemon re-reads its sources from
//! the checkpoint; [`Recorder::restore`] cuts each open log back to its checkpointed
//! length so that the events written again are written once. A log created after the
//! last checkpoint is simply created again (creation starts the file over).

mod convert;
pub mod id;
#[cfg(test)]
mod tests;

use convert::{login_message, logout_message, message_for_action, meta_for, Opening};
use serde::{Deserialize, Serialize};
use sshtrail_event::{Event, Host, SessionLogRef};
use sshtrail_sessionlog::{ChainState, Header, Message, Writer};
use sshtrail_sessionstore::{SessionMeta, ShutdownReport, Store, StoreStats};
use std::collections::{HashMap, HashSet, VecDeque};
use std::fs::File;
use std::io::{Seek, SeekFrom};
use std::time::Duration;

/// Ended sessions remembered so that a late event does not reopen a sealed log.
const CLOSED_REMEMBERED: usize = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum RecorderError {
    #[error("session log {id}: {source}")]
    Store {
        id: String,
        #[source]
        source: sshtrail_sessionstore::Error,
    },
    #[error("session log {id}: {source}")]
    Log {
        id: String,
        #[source]
        source: sshtrail_sessionlog::Error,
    },
    #[error("session log {id}: {source}")]
    Io {
        id: String,
        #[source]
        source: std::io::Error,
    },
    #[error("session log {id}: the store keeps no local file to write to")]
    NoLocalFile { id: String },
    #[error("session log state in the checkpoint unreadable: {0}")]
    Snapshot(#[from] serde_json::Error),
}

/// What became of a record given to [`Recorder::file_recorded`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Filed {
    Written,
    /// The session has no open log (yet).
    NotOpen,
    /// The session's log is sealed.
    Sealed,
}

/// What the recorder did, for metrics and the trail's own health events.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RecorderStats {
    pub logs_opened: u64,
    pub logs_sealed: u64,
    pub records_written: u64,
    /// Events of a session whose log was already sealed (processes left behind).
    pub late_events: u64,
    /// Events that could not be written (storage errors): each is also logged.
    pub write_failures: u64,
}

struct OpenLog {
    writer: Writer<File>,
    meta: SessionMeta,
    start_ms: u64,
    /// How far each stream (stdin, stdout, stderr) of the session's terminal recording
    /// is in the log: what a recorder resuming after a restart is compared with.
    recorded: [u64; 3],
}

/// One open log as the checkpoint keeps it.
#[derive(Serialize, Deserialize)]
struct SavedLog {
    audit_id: String,
    meta: SessionMeta,
    start_ms: u64,
    state: ChainState,
    #[serde(default)]
    recorded: [u64; 3],
}

pub struct Recorder {
    store: Box<dyn Store>,
    boot_id: String,
    open: HashMap<String, OpenLog>,
    /// Logs the checkpoint had open that were sealed and stored before the crash: their
    /// events come again (from the checkpoint's source positions) but the log is whole;
    /// the repeated logout gets the stored digest. (id, digest) by audit id.
    sealed_before_restart: HashMap<String, (String, String)>,
    closed: HashSet<String>,
    closed_order: VecDeque<String>,
    /// Replay only (see [`Recorder::keep_reused_ids_apart`]): every id opened so far.
    opened_this_run: Option<HashSet<String>>,
    stats: RecorderStats,
}

impl Recorder {
    /// `boot_id` names the boot the sessions belong to (part of every session id).
    pub fn new(store: Box<dyn Store>, boot_id: &str) -> Recorder {
        Recorder {
            store,
            boot_id: boot_id.to_string(),
            open: HashMap::new(),
            sealed_before_restart: HashMap::new(),
            closed: HashSet::new(),
            closed_order: VecDeque::new(),
            opened_this_run: None,
            stats: RecorderStats::default(),
        }
    }

    /// For a replay: a session id opened a second time in this run gets a suffix (`-2`,
    /// `-3`, …) instead of replacing the first session's log. Logs of several boots
    /// without boot ids (an audit log alone, syslog) give the kernel's session numbers
    /// again; the daemon never does (its ids carry the boot), and it must rewrite a log of
    /// the same id after a crash, so it does not use this.
    pub fn keep_reused_ids_apart(&mut self) {
        self.opened_this_run = Some(HashSet::new());
    }

    /// Replay reads logs of past boots: the boot is learnt from the logs as they go.
    pub fn set_boot_id(&mut self, boot_id: &str) {
        boot_id.clone_into(&mut self.boot_id);
    }

    pub fn stats(&self) -> RecorderStats {
        self.stats
    }

    pub fn store_stats(&self) -> StoreStats {
        self.store.stats()
    }

    pub fn open_logs(&self) -> usize {
        self.open.len()
    }

    /// Files one record that did not come from an event (a terminal recording's) into the
    /// open log of session `audit_id`.
    /// `reaches` says which recorded stream the record brings how far (an `io` record).
    pub fn file_recorded(
        &mut self,
        audit_id: &str,
        time_ms: u64,
        message: &Message,
        reaches: Option<(usize, u64)>,
    ) -> Result<Filed, RecorderError> {
        if self.is_sealed(audit_id) {
            return Ok(Filed::Sealed);
        }
        let Some(log) = self.open.get_mut(audit_id) else {
            return Ok(Filed::NotOpen);
        };
        let result = log.writer.append(time_ms, message);
        if let Err(source) = result {
            self.stats.write_failures += 1;
            return Err(RecorderError::Log {
                id: log.meta.id.clone(),
                source,
            });
        }
        if let Some((stream, offset)) = reaches {
            if let Some(slot) = log.recorded.get_mut(stream) {
                *slot = offset;
            }
        }
        self.stats.records_written += 1;
        Ok(Filed::Written)
    }

    /// Whether session `audit_id`'s log is sealed (nothing more goes into it).
    pub fn is_sealed(&self, audit_id: &str) -> bool {
        self.closed.contains(audit_id) || self.sealed_before_restart.contains_key(audit_id)
    }

    /// How far each stream of session `audit_id`'s recording is in its open log.
    pub fn recorded(&self, audit_id: &str) -> Option<[u64; 3]> {
        self.open.get(audit_id).map(|log| log.recorded)
    }

    /// Files one event into its session's log; a `UserLogout` gets the log's digest.
    ///
    /// A storage failure loses that session's log, never the event: the error is
    /// returned for the caller to report, and the event goes on to the sink.
    pub fn record(&mut self, event: &mut Event, host: &Host) -> Result<(), RecorderError> {
        let result = match event {
            Event::Login(login) => {
                let opening = Opening {
                    time_ms: login.time_ms,
                    actor: &login.actor,
                    correlation: login.correlation,
                    method: Some(&login.method),
                    geo: login.geo.as_ref(),
                };
                let message = login_message(login);
                self.open_log(&login.audit_id, host, &opening, Some(message))
                    .map(|_| ())
            }
            Event::Action(action) => self.action(action, host),
            Event::Logout(logout) => self.close(logout),
            Event::LoginFailed(_) | Event::System(_) => Ok(()),
        };
        if result.is_err() {
            self.stats.write_failures += 1;
        }
        result
    }

    fn open_log(
        &mut self,
        audit_id: &str,
        host: &Host,
        opening: &Opening<'_>,
        login: Option<Message>,
    ) -> Result<&mut OpenLog, RecorderError> {
        let mut id = id::session_id(&host.machine_id, &self.boot_id, audit_id);
        if let Some(opened) = self.opened_this_run.as_mut() {
            let base = id.clone();
            let mut n = 1;
            while opened.contains(&id) {
                n += 1;
                id = format!("{base}-{n}");
            }
            opened.insert(id.clone());
        }
        let store_err = |source| RecorderError::Store {
            id: id.clone(),
            source,
        };
        let Some(mut file) = self.store.open_local(&id).map_err(store_err)? else {
            return Err(RecorderError::NoLocalFile { id });
        };
        let io_err = |source| RecorderError::Io {
            id: id.clone(),
            source,
        };
        // A log of the same name left by a run that crashed before its checkpoint
        // covered it: its events are being written again, from the start.
        file.set_len(0).map_err(io_err)?;
        file.seek(SeekFrom::Start(0)).map_err(io_err)?;
        let start_ms = opening.time_ms;
        let mut meta = meta_for(&id, &self.boot_id, audit_id, host, opening);
        let header = Header {
            session_id: id.clone(),
            host: meta.host.clone(),
            machine_id: meta.machine_id.clone(),
            boot_id: self.boot_id.clone(),
            created_ms: start_ms,
        };
        let log_err = |source| RecorderError::Log {
            id: id.clone(),
            source,
        };
        let mut writer = Writer::create(file, &header).map_err(log_err)?;
        if let Some(login) = login {
            writer.append(start_ms, &login).map_err(log_err)?;
            self.stats.records_written += 1;
        }
        update_counts(&mut meta, &writer);
        self.store.write_meta(&meta).map_err(store_err)?;
        self.stats.logs_opened += 1;
        self.closed.remove(audit_id);
        Ok(self.open.entry(audit_id.to_string()).or_insert(OpenLog {
            writer,
            meta,
            start_ms,
            recorded: [0; 3],
        }))
    }

    fn action(
        &mut self,
        action: &sshtrail_event::Action,
        host: &Host,
    ) -> Result<(), RecorderError> {
        let audit_id = action.ses.to_string();
        if self.sealed_before_restart.contains_key(&audit_id) {
            return Ok(());
        }
        if self.closed.contains(&audit_id) {
            // In a replay of several boots a LOGIN record begins the next session with
            // this kernel id; anything else after the logout is late.
            let begins_again =
                self.opened_this_run.is_some() && action.detail.record_type == "LOGIN";
            if !begins_again {
                self.stats.late_events += 1;
                return Ok(());
            }
            self.closed.remove(&audit_id);
        }
        let log = match self.open.get_mut(&audit_id) {
            Some(log) => log,
            // No login seen (audit-only attribution): the session still gets a log,
            // described by what the audit records say.
            None => {
                let opening = Opening {
                    time_ms: action.time_ms,
                    actor: &action.actor,
                    correlation: action.correlation,
                    method: None,
                    geo: None,
                };
                self.open_log(&audit_id, host, &opening, None)?
            }
        };
        let message = message_for_action(action);
        log.writer
            .append(action.time_ms, &message)
            .map_err(|source| RecorderError::Log {
                id: log.meta.id.clone(),
                source,
            })?;
        self.stats.records_written += 1;
        Ok(())
    }

    fn close(&mut self, logout: &mut sshtrail_event::Logout) -> Result<(), RecorderError> {
        let audit_id = logout.audit_id.clone();
        let Some(mut log) = self.open.remove(&audit_id) else {
            if let Some((id, digest)) = self.sealed_before_restart.remove(&audit_id) {
                self.remember_closed(&audit_id);
                logout.session_log = Some(SessionLogRef { id, digest });
            }
            return Ok(());
        };
        self.remember_closed(&audit_id);
        let id = log.meta.id.clone();
        let log_err = |source| RecorderError::Log {
            id: id.clone(),
            source,
        };
        let end_ms = logout.time_ms;
        log.writer
            .append(end_ms, &logout_message(logout, log.start_ms))
            .map_err(log_err)?;
        self.stats.records_written += 1;
        let records = log.writer.state().records;
        let (file, digest) = log.writer.finish_at(end_ms).map_err(log_err)?;
        file.sync_data().map_err(|source| RecorderError::Io {
            id: id.clone(),
            source,
        })?;
        let bytes = file.metadata().map(|m| m.len()).unwrap_or_default();
        logout.session_log = Some(SessionLogRef {
            id: id.clone(),
            digest: digest.clone(),
        });
        log.meta.end = Some(convert::rfc3339(end_ms));
        log.meta.digest = Some(digest);
        log.meta.records = records + 1;
        log.meta.bytes = bytes;
        self.stats.logs_sealed += 1;
        self.store
            .finish(&log.meta)
            .map_err(|source| RecorderError::Store { id, source })
    }

    fn remember_closed(&mut self, audit_id: &str) {
        if self.closed.insert(audit_id.to_string()) {
            self.closed_order.push_back(audit_id.to_string());
        }
        while self.closed_order.len() > CLOSED_REMEMBERED {
            if let Some(old) = self.closed_order.pop_front() {
                self.closed.remove(&old);
            }
        }
    }

    /// Makes every open log durable (before a checkpoint is saved).
    pub fn sync(&mut self) -> Result<(), RecorderError> {
        for log in self.open.values_mut() {
            log.writer
                .get_mut()
                .sync_data()
                .map_err(|source| RecorderError::Io {
                    id: log.meta.id.clone(),
                    source,
                })?;
        }
        Ok(())
    }

    /// The open logs and how far each is written, for the checkpoint.
    pub fn snapshot(&mut self) -> serde_json::Value {
        let saved: Vec<SavedLog> = self
            .open
            .iter_mut()
            .map(|(audit_id, log)| {
                update_counts(&mut log.meta, &log.writer);
                SavedLog {
                    audit_id: audit_id.clone(),
                    meta: log.meta.clone(),
                    start_ms: log.start_ms,
                    state: log.writer.state(),
                    recorded: log.recorded,
                }
            })
            .collect();
        serde_json::to_value(saved).unwrap_or(serde_json::Value::Null)
    }

    /// Reopens the logs a previous run had open, each cut back to its checkpointed
    /// length. Returns how many were reopened; a log that cannot be reopened is
    /// reported and skipped (its session is then written without a log).
    pub fn restore(&mut self, snapshot: serde_json::Value) -> Result<usize, RecorderError> {
        if snapshot.is_null() {
            return Ok(0);
        }
        let saved: Vec<SavedLog> = serde_json::from_value(snapshot)?;
        let mut reopened = 0;
        for saved in saved {
            // Sealed and stored after the checkpoint, before the crash (an s3 spool file
            // is even gone by then): the log is whole, only its digest is needed again.
            if let Ok(stored) = self.store.meta(&saved.meta.id) {
                if let (Some(_), Some(digest)) = (&stored.end, stored.digest) {
                    self.sealed_before_restart
                        .insert(saved.audit_id, (saved.meta.id, digest));
                    continue;
                }
            }
            match self.reopen(&saved) {
                Ok(writer) => {
                    self.open.insert(
                        saved.audit_id,
                        OpenLog {
                            writer,
                            meta: saved.meta,
                            start_ms: saved.start_ms,
                            recorded: saved.recorded,
                        },
                    );
                    reopened += 1;
                }
                Err(e) => {
                    self.stats.write_failures += 1;
                    tracing::error!("{e}; the session goes on without its log");
                }
            }
        }
        Ok(reopened)
    }

    fn reopen(&self, saved: &SavedLog) -> Result<Writer<File>, RecorderError> {
        let id = &saved.meta.id;
        let io_err = |source| RecorderError::Io {
            id: id.clone(),
            source,
        };
        let Some(mut file) = self
            .store
            .open_local(id)
            .map_err(|source| RecorderError::Store {
                id: id.clone(),
                source,
            })?
        else {
            return Err(RecorderError::NoLocalFile { id: id.clone() });
        };
        let length = file.metadata().map_err(io_err)?.len();
        if length < saved.state.offset {
            return Err(RecorderError::Io {
                id: id.clone(),
                source: std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    format!(
                        "{length} bytes on disk, the checkpoint says {} were durable",
                        saved.state.offset
                    ),
                ),
            });
        }
        file.set_len(saved.state.offset).map_err(io_err)?;
        file.seek(SeekFrom::Start(saved.state.offset))
            .map_err(io_err)?;
        Ok(Writer::resume(file, &saved.state))
    }

    /// Waits (up to the deadline) for the store to finish what it has queued (uploads).
    pub fn shutdown(&self, deadline: Duration) -> ShutdownReport {
        self.store.shutdown(deadline)
    }
}

fn update_counts(meta: &mut SessionMeta, writer: &Writer<File>) {
    let state = writer.state();
    meta.records = state.records;
    meta.bytes = state.offset;
}
