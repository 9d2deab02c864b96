//! The daemon's checkpoint: where each source resumes, what the tracker knew, and how
//! much of the output was durable when it was written.
//!
//! Saved only after the sink has made everything before it durable, by writing a new
//! file, syncing it, renaming it over the old one and syncing the directory, so that a
//! crash at any instant leaves either the old checkpoint or the new one, whole.

use crate::source::audit_dir::FilePosition;
use serde::{Deserialize, Serialize};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

const FILE_NAME: &str = "checkpoint.json";
const VERSION: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{path}: not a checkpoint this version of sshtrail can read: {reason}")]
    Unreadable { path: PathBuf, reason: String },
}

/// Where the audit log file source stands.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditPosition {
    /// Where to start reading again: the first record of the oldest event still being
    /// assembled (or the end of what was read, when none was).
    pub resume: FilePosition,
    /// The end of the last line handled: records re-read up to here whose event was
    /// already written are skipped.
    pub read_until: FilePosition,
    /// Per node, the serial of the last event written.
    pub high_water: Vec<(Option<String>, u64)>,
}

/// How far the output file was durable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputMark {
    pub inode: u64,
    pub length: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub version: u32,
    /// Wall-clock time of the save (ms since the epoch): the start of any downtime.
    pub saved_at_ms: u64,
    pub audit: Option<AuditPosition>,
    /// Per node, the serial of the last audit event written, whatever the source: the
    /// `plugin` and `netlink` sources backfill from the audit log above it.
    #[serde(default)]
    pub audit_high_water: Vec<(Option<String>, u64)>,
    /// Per node, the latest time stamp (ms) of the audit events written: what tells a
    /// record of a later boot (serials counted from 1 again) from one already written.
    /// Absent from older checkpoints: serials alone decide then.
    #[serde(default)]
    pub audit_emitted_times: Vec<(Option<String>, u64)>,
    /// The kernel's boot id (`/proc/sys/kernel/random/boot_id`) at the save: a restart
    /// into another boot ends the sessions of the old one.
    #[serde(default)]
    pub boot_id: Option<String>,
    pub journald_cursor: Option<String>,
    /// Where the syslog file sshd source (`--sshd-source syslog`) resumes.
    #[serde(default)]
    pub sshd_file: Option<FilePosition>,
    /// The session tracker's state ([`crate::track::Tracker::snapshot_json`]), kept as
    /// the JSON text it is written as.
    pub tracker: SavedJson,
    pub output: Option<OutputMark>,
    /// The other sinks' marks, by name (a spool's mark is its segment and length).
    #[serde(default)]
    pub sinks: Vec<(String, OutputMark)>,
    /// The event ids' window of recent contents (repeats get the next ordinal).
    #[serde(default)]
    pub event_ids: sshtrail_event::IdWindow,
    /// The session logs open at the save, and how far each was durable.
    #[serde(default)]
    pub sessions: serde_json::Value,
    /// What each running sftp-server's lines said so far (open files, the last request).
    #[serde(default)]
    pub sftp: serde_json::Value,
}

impl Checkpoint {
    pub fn new(saved_at_ms: u64) -> Checkpoint {
        Checkpoint {
            version: VERSION,
            saved_at_ms,
            audit: None,
            audit_high_water: Vec::new(),
            audit_emitted_times: Vec::new(),
            boot_id: None,
            journald_cursor: None,
            sshd_file: None,
            tracker: SavedJson::default(),
            sftp: serde_json::Value::Null,
            output: None,
            sinks: Vec::new(),
            event_ids: sshtrail_event::IdWindow::default(),
            sessions: serde_json::Value::Null,
        }
    }
}

/// A part of the checkpoint held as JSON text: written as it is, read back by its owner.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SavedJson(pub Box<serde_json::value::RawValue>);

impl Default for SavedJson {
    /// `null`: nothing saved.
    fn default() -> SavedJson {
        SavedJson(serde_json::value::RawValue::NULL.to_owned())
    }
}

impl PartialEq for SavedJson {
    fn eq(&self, other: &SavedJson) -> bool {
        self.0.get() == other.0.get()
    }
}

fn at(path: &Path) -> impl FnOnce(io::Error) -> CheckpointError + '_ {
    move |source| CheckpointError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Atomically replaces the checkpoint in `dir`.
pub fn save(dir: &Path, checkpoint: &Checkpoint) -> Result<(), CheckpointError> {
    let path = dir.join(FILE_NAME);
    let tmp = dir.join(format!("{FILE_NAME}.tmp"));
    let bytes = serde_json::to_vec(checkpoint).map_err(|e| CheckpointError::Unreadable {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    // Positions in the host's logs and session ids: as private as the trail itself,
    // whatever the umask (a Kubernetes pod has no umask setting).
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o640)
        .open(&tmp)
        .map_err(at(&tmp))?;
    file.set_permissions(fs::Permissions::from_mode(0o640))
        .map_err(at(&tmp))?;
    file.write_all(&bytes).map_err(at(&tmp))?;
    file.sync_all().map_err(at(&tmp))?;
    fs::rename(&tmp, &path).map_err(at(&path))?;
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(at(dir))?;
    Ok(())
}

/// The checkpoint in `dir`, if there is one.
pub fn load(dir: &Path) -> Result<Option<Checkpoint>, CheckpointError> {
    let path = dir.join(FILE_NAME);
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(at(&path)(e)),
    };
    let checkpoint: Checkpoint =
        serde_json::from_slice(&bytes).map_err(|e| CheckpointError::Unreadable {
            path: path.clone(),
            reason: e.to_string(),
        })?;
    if checkpoint.version != VERSION {
        return Err(CheckpointError::Unreadable {
            path,
            reason: format!("version {}", checkpoint.version),
        });
    }
    Ok(Some(checkpoint))
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::source::audit_dir::Fingerprint;

    #[test]
    fn round_trip_and_damage() {
        let dir = std::env::temp_dir().join(format!("sshtrail-ckpt-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        assert_eq!(load(&dir).unwrap(), None);
        let mut checkpoint = Checkpoint::new(42);
        checkpoint.journald_cursor = Some("s=1;i=2".into());
        checkpoint.audit = Some(AuditPosition {
            resume: FilePosition {
                inode: 7,
                offset: 10,
                fingerprint: Some(Fingerprint {
                    len: 4096,
                    hash: u64::MAX,
                }),
            },
            read_until: FilePosition {
                inode: 7,
                offset: 99,
                fingerprint: Some(Fingerprint { len: 12, hash: 3 }),
            },
            high_water: vec![(None, 5)],
        });
        checkpoint.sshd_file = Some(FilePosition {
            inode: 8,
            offset: 1,
            fingerprint: Some(Fingerprint { len: 1, hash: 0 }),
        });
        let state = serde_json::json!({"sessions": {"29": {"pid": 7}}});
        checkpoint.tracker = SavedJson(serde_json::value::to_raw_value(&state).unwrap());
        save(&dir, &checkpoint).unwrap();
        let loaded = load(&dir).unwrap();
        assert_eq!(loaded, Some(checkpoint));
        let tracker = loaded.map(|c| c.tracker.0.get().to_string());
        assert_eq!(tracker.as_deref(), Some(r#"{"sessions":{"29":{"pid":7}}}"#));
        fs::write(dir.join(FILE_NAME), b"{\"version\":1,").unwrap();
        assert!(matches!(
            load(&dir),
            Err(CheckpointError::Unreadable { .. })
        ));
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_checkpoint_is_private_whatever_the_umask() {
        let dir = std::env::temp_dir().join(format!("sshtrail-ckpt-mode-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        // A temporary file left 0644 by an earlier version is narrowed too.
        fs::write(dir.join(format!("{FILE_NAME}.tmp")), b"").unwrap();
        fs::set_permissions(
            dir.join(format!("{FILE_NAME}.tmp")),
            fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        save(&dir, &Checkpoint::new(1)).unwrap();
        let mode = fs::metadata(dir.join(FILE_NAME))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o640);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_checkpoint_from_before_fingerprints_still_loads() {
        // Written by hand in the shape the previous version saved (positions were only an
        // inode and an offset): its positions load without a fingerprint, which the tailer
        // takes as "trust the inode".
        let dir = std::env::temp_dir().join(format!("sshtrail-ckpt-old-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let old = r#"{"version":1,"saved_at_ms":1700000000000,
            "audit":{"resume":{"inode":131,"offset":2048},
                     "read_until":{"inode":131,"offset":4096},
                     "high_water":[[null,77]]},
            "audit_high_water":[[null,77]],
            "journald_cursor":null,
            "sshd_file":{"inode":262,"offset":512},
            "tracker":null,
            "output":{"inode":5,"length":900},
            "sessions":null}"#;
        fs::write(dir.join(FILE_NAME), old).unwrap();
        let loaded = load(&dir).unwrap().unwrap();
        let audit = loaded.audit.unwrap();
        assert_eq!(
            audit.resume,
            FilePosition {
                inode: 131,
                offset: 2048,
                fingerprint: None,
            }
        );
        assert_eq!(audit.read_until.offset, 4096);
        assert_eq!(audit.read_until.fingerprint, None);
        assert!(loaded.audit_emitted_times.is_empty());
        assert_eq!(loaded.boot_id, None);
        let sshd = loaded.sshd_file.unwrap();
        assert_eq!(
            (sshd.inode, sshd.offset, sshd.fingerprint),
            (262, 512, None)
        );
        let _ = fs::remove_dir_all(&dir);
    }
}
