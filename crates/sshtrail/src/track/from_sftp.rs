//! sftp-server's lines (`sftp-server -l INFO`, `internal-sftp -l INFO`) → the file
//! transfers and changes of a session, as [`SshdFact`]s the tracker files under the
//! session (see `log_actions`). OpenSSH ≥ 9 `scp` speaks sftp, so its copies are here too.
//!
//! | line | action | `bytes` |
//! |---|---|---|
//! | `close "<f>" bytes read 0 written N` (N > 0, or opened for writing) | `uploaded-file` | N |
//! | `close "<f>" bytes read N written 0` (N > 0) | `downloaded-file` | N |
//! | `remove name "<f>"` | `removed-file` | |
//! | `rename old "<a>" new "<b>"`, `posix-rename …` | `renamed-file` (secondary: the new name) | |
//! | `mkdir name "<d>" mode …` / `rmdir name "<d>"` | `made-directory` / `removed-directory` | |
//! | `set "<f>" mode …` / `size` / `modtime` / `owner …` | `changed-file-attributes` (`how`: what) | |
//! | `symlink old … new …` / `hardlink …` | `made-link` | |
//! | `refusing …` (a request the server's `-P`/`-p` lists deny) | `refused-request`, failed | |
//! | `sent status <error>` after one of the above | `request-failed`, failed | |
//!
//! sftp-server logs a request when it takes it, before doing it: a remove that then
//! fails is followed by `sent status Permission denied`, which becomes a `request-failed`
//! event naming the request and its file, instead of holding every request back until
//! the next line says how it went. A file both read and written in one open counts as
//! uploaded (what it wrote), with the reads in `how`. Reading a directory, `realpath`
//! and `stat` are not file transfers and are left out.
//!
//! Names are shown decoded when that is plain text, and as sftp-server escaped them when
//! not (bytes that are not UTF-8, control characters such as a newline, a backslash):
//! a shown name without a backslash is the name itself, one with a backslash is the
//! escaped form. Nothing is lost or invented, and no name can break a line.

use super::facts::{SshdFact, SshdWhat};
use super::from_sshd::line_time;
use serde::{Deserialize, Serialize};
use sshtrail_event::{ActionDetail, Object, Origin, Outcome};
use sshtrail_sshd::framing::Framed;
use sshtrail_sshd::sftp::{parse_sftp, SetStatChange, SftpEvent, SftpPath, TwoNameOp, TwoNames};
use std::collections::HashMap;

/// sftp-server processes remembered at most (a process is forgotten at its
/// `session closed`; beyond this, all are).
const MAX_PROCESSES: usize = 10_000;
/// Open files remembered per process at most.
const MAX_OPEN_FILES: usize = 1_024;

/// What the lines so far said, per sftp-server process. It is in the checkpoint: a
/// restart in the middle of a session still knows which files were opened for writing.
#[derive(Default, Serialize, Deserialize)]
pub struct SftpLog {
    processes: HashMap<u32, Process>,
}

#[derive(Default, Serialize, Deserialize)]
struct Process {
    /// Files open now, by their logged name: the flags they were opened with.
    open: HashMap<String, String>,
    /// The request the previous line logged, for a `sent status` error that follows it.
    last: Option<(String, String)>,
}

impl SftpLog {
    /// The state, for a checkpoint.
    pub fn snapshot(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    /// Takes back a [`SftpLog::snapshot`]; one that does not fit leaves it empty.
    pub fn restore(&mut self, snapshot: serde_json::Value) -> Result<(), serde_json::Error> {
        if snapshot.is_null() {
            return Ok(());
        }
        *self = serde_json::from_value(snapshot)?;
        Ok(())
    }

    /// What a line of sftp-server means, if anything.
    pub fn fact(&mut self, framed: &Framed<'_>, received_ms: Option<u64>) -> Option<SshdFact> {
        let pid = framed.pid?;
        let (time_ms, resolution_ms) = line_time(framed, received_ms)?;
        let event = parse_sftp(&framed.message);
        if let SftpEvent::SessionClosed { .. } = event {
            self.processes.remove(&pid);
            return Some(SshdFact {
                time_ms,
                resolution_ms,
                pid,
                ses: framed.audit_session,
                what: SshdWhat::SftpServerEnded,
            });
        }
        if self.processes.len() >= MAX_PROCESSES && !self.processes.contains_key(&pid) {
            self.processes.clear();
        }
        let process = self.processes.entry(pid).or_default();
        let (outcome, mut detail) = process.detail(event)?;
        detail.origin = Origin::SftpServer;
        detail.channel = Some("subsystem:sftp".to_string());
        detail.pid = Some(pid.to_string());
        if outcome == Outcome::Succeeded {
            process.last = Some((detail.action.to_string(), detail.object.primary.clone()));
        }
        Some(SshdFact {
            time_ms,
            resolution_ms,
            pid,
            ses: framed.audit_session,
            what: SshdWhat::SessionAction {
                outcome,
                detail: Box::new(detail),
            },
        })
    }
}

impl Process {
    fn detail(&mut self, event: SftpEvent<'_>) -> Option<(Outcome, ActionDetail)> {
        let ok = Outcome::Succeeded;
        // A status refers to the line right before it, nothing older.
        let previous = self.last.take();
        let made = match event {
            SftpEvent::Open { path, flags, .. } => {
                if self.open.len() < MAX_OPEN_FILES {
                    self.open.insert(path.raw.to_string(), flags.to_string());
                }
                self.last = Some(("open".to_string(), path.display().into_owned()));
                return None;
            }
            SftpEvent::Close {
                path,
                read,
                written,
            } => {
                let flags = self.open.remove(path.raw).unwrap_or_default();
                let for_writing = ["WRITE", "CREATE", "TRUNCATE", "APPEND"]
                    .iter()
                    .any(|f| flags.split(',').any(|g| g == *f));
                let (action, bytes) = if written > 0 || (read == 0 && for_writing) {
                    ("uploaded-file", written)
                } else if read > 0 {
                    ("downloaded-file", read)
                } else {
                    // Opened and closed without reading or writing: nothing moved.
                    return None;
                };
                let how = match (written > 0 && read > 0, flags.is_empty()) {
                    (true, _) => format!("{flags} (read {read} bytes too)")
                        .trim()
                        .to_string(),
                    (false, _) => flags,
                };
                let mut detail = file(action, &path, how);
                detail.bytes = Some(bytes);
                (ok, detail)
            }
            SftpEvent::Remove { path } => (ok, file("removed-file", &path, String::new())),
            SftpEvent::MakeDir { path, mode } => {
                let mut detail = file("made-directory", &path, format!("mode {mode:04o}"));
                detail.object.kind = "directory".into();
                (ok, detail)
            }
            SftpEvent::RemoveDir { path } => {
                let mut detail = file("removed-directory", &path, String::new());
                detail.object.kind = "directory".into();
                (ok, detail)
            }
            SftpEvent::TwoNames { op, names } => {
                let action = match op {
                    TwoNameOp::Rename | TwoNameOp::PosixRename => "renamed-file",
                    TwoNameOp::Symlink | TwoNameOp::Hardlink => "made-link",
                };
                let how = match op {
                    TwoNameOp::Rename => "rename",
                    TwoNameOp::PosixRename => "posix-rename",
                    TwoNameOp::Symlink => "symlink",
                    TwoNameOp::Hardlink => "hardlink",
                };
                let detail = match names {
                    TwoNames::Split { old, new } => {
                        let mut detail = file(action, &old, how.to_string());
                        detail.object.secondary = new.display().into_owned();
                        detail
                    }
                    // A name held `" new "`: which quote ends the old name is not
                    // knowable, so both stay together, as logged.
                    TwoNames::Ambiguous { raw } => ActionDetail {
                        action: action.into(),
                        how: format!("{how} (names ambiguous)"),
                        object: Object {
                            kind: "file".into(),
                            primary: raw.to_string(),
                            secondary: String::new(),
                        },
                        ..ActionDetail::default()
                    },
                };
                (ok, detail)
            }
            SftpEvent::SetStat { path, change } => {
                let how = match change {
                    SetStatChange::Size(size) => format!("size {size}"),
                    SetStatChange::Mode(mode) => format!("mode {mode:04o}"),
                    SetStatChange::ModTime(time) => format!("modtime {time}"),
                    SetStatChange::Owner { uid, gid } => format!("owner {uid} group {gid}"),
                };
                (ok, file("changed-file-attributes", &path, how))
            }
            SftpEvent::Refused { text } => {
                let detail = ActionDetail {
                    action: "refused-request".into(),
                    how: text.to_string(),
                    ..ActionDetail::default()
                };
                (Outcome::Failed, detail)
            }
            // At DEBUG sftp-server logs its successes too.
            SftpEvent::SentStatus {
                status: "Success" | "End of file",
            } => return None,
            SftpEvent::SentStatus { status } => {
                let (action, primary) = previous?;
                let detail = ActionDetail {
                    action: "request-failed".into(),
                    how: format!("{action}: {status}"),
                    object: Object {
                        kind: "file".into(),
                        primary,
                        secondary: String::new(),
                    },
                    ..ActionDetail::default()
                };
                (Outcome::Failed, detail)
            }
            SftpEvent::SessionOpened { .. }
            | SftpEvent::SessionClosed { .. }
            | SftpEvent::OpenDir { .. }
            | SftpEvent::CloseDir { .. }
            | SftpEvent::Other => return None,
        };
        Some(made)
    }
}

fn file(action: &'static str, path: &SftpPath<'_>, how: String) -> ActionDetail {
    ActionDetail {
        action: action.into(),
        how,
        object: Object {
            kind: "file".into(),
            primary: path.display().into_owned(),
            secondary: String::new(),
        },
        ..ActionDetail::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sshtrail_sshd::framing::frame_journal_json;

    /// sftp-server's and internal-sftp's lines captured from the testbed (OpenSSH 9.2):
    /// uploads, downloads, renames, removes, scp both ways, hostile names.
    const CAPTURE: &str = include_str!("../../../sshd/tests/data/debian12-sftp-journal.json");

    /// (action, object, bytes, outcome failed, session) of a fact.
    type Seen = (String, String, Option<u64>, bool, Option<u32>);

    /// Every fact the capture makes.
    fn facts() -> Vec<Seen> {
        let mut log = SftpLog::default();
        CAPTURE
            .lines()
            .filter_map(|line| {
                let framed = frame_journal_json(line).expect("captured lines frame");
                let fact = log.fact(&framed, None)?;
                let SshdWhat::SessionAction { outcome, detail } = fact.what else {
                    assert_eq!(fact.what, SshdWhat::SftpServerEnded);
                    return None;
                };
                assert_eq!(detail.origin, Origin::SftpServer);
                assert_eq!(detail.channel.as_deref(), Some("subsystem:sftp"));
                assert_eq!(detail.pid, Some(fact.pid.to_string()));
                Some((
                    detail.action.to_string(),
                    detail.object.primary.clone(),
                    detail.bytes,
                    outcome == Outcome::Failed,
                    fact.ses,
                ))
            })
            .collect()
    }

    fn count(facts: &[Seen], action: &str) -> usize {
        facts.iter().filter(|f| f.0 == action).count()
    }

    #[test]
    fn every_transfer_of_the_capture_is_one_fact_with_its_bytes_and_session() {
        let facts = facts();
        let upload = |name: &str| {
            facts
                .iter()
                .filter(|f| f.0 == "uploaded-file" && f.1 == name)
                .map(|f| f.2)
                .collect::<Vec<_>>()
        };
        assert_eq!(upload("/home/sshtrail-alice/up file.txt"), [Some(12)]);
        // A name that could break a line is shown escaped, as sftp-server logged it.
        assert_eq!(upload("/home/sshtrail-alice/w/new\\nline.txt"), [Some(7)]);
        // The quote in the name is the name's: the suffix is read from the right.
        assert_eq!(
            upload("/home/sshtrail-alice/w/q\"uote\" bytes read 0 written 99"),
            [Some(7)]
        );
        assert_eq!(
            upload("/home/sshtrail-alice/w/caf\u{e9} \u{2603}.txt"),
            [Some(7)]
        );
        // Not UTF-8: shown as sftp-server escaped it, nothing lost.
        assert_eq!(
            upload("/home/sshtrail-alice/w/\\377\\376-bin\\\\slash\\ttab.txt"),
            [Some(7)]
        );
        assert_eq!(
            facts
                .iter()
                .filter(|f| f.0 == "downloaded-file" && f.1 == "scp_up.bin")
                .map(|f| f.2)
                .collect::<Vec<_>>(),
            [Some(10_000)]
        );
        assert!(
            facts.iter().all(|f| f.4.is_some()),
            "journald names the session"
        );
        assert!(count(&facts, "removed-file") >= 9);
        assert_eq!(count(&facts, "made-directory"), 2);
        assert_eq!(count(&facts, "removed-directory"), 2);
        assert!(count(&facts, "renamed-file") >= 2);
        assert!(count(&facts, "changed-file-attributes") >= 2);
        // `sent status No such file` before any request (scp probing its target) is
        // nobody's failure.
        assert_eq!(count(&facts, "request-failed"), 0);
    }

    /// A journald entry of sftp-server `pid` in session 7 saying `message`.
    fn entry(pid: u32, message: &str) -> String {
        serde_json::json!({
            "MESSAGE": message,
            "_PID": pid.to_string(),
            "SYSLOG_IDENTIFIER": "sftp-server",
            "_AUDIT_SESSION": "7",
            "__REALTIME_TIMESTAMP": "1795431565848485",
        })
        .to_string()
    }

    fn run(lines: &[(u32, &str)]) -> Vec<(String, String, Option<u64>, bool)> {
        let mut log = SftpLog::default();
        lines
            .iter()
            .filter_map(|(pid, message)| {
                let line = entry(*pid, message);
                let framed = frame_journal_json(&line).expect("frames");
                let fact = log.fact(&framed, None)?;
                let SshdWhat::SessionAction { outcome, detail } = fact.what else {
                    return None;
                };
                Some((
                    detail.action.to_string(),
                    detail.object.primary,
                    detail.bytes,
                    outcome == Outcome::Failed,
                ))
            })
            .collect()
    }

    #[test]
    fn an_empty_file_uploaded_is_an_upload_and_a_file_only_opened_is_nothing() {
        let facts = run(&[
            (1, "open \"/h/empty\" flags WRITE,CREATE,TRUNCATE mode 0644"),
            (1, "close \"/h/empty\" bytes read 0 written 0"),
            (1, "open \"/h/looked-at\" flags READ mode 0666"),
            (1, "close \"/h/looked-at\" bytes read 0 written 0"),
        ]);
        assert_eq!(
            facts,
            [("uploaded-file".into(), "/h/empty".into(), Some(0), false)]
        );
    }

    #[test]
    fn a_failed_request_is_said_by_the_status_right_after_it_and_only_then() {
        let facts = run(&[
            (1, "remove name \"/h/locked\""),
            (1, "sent status Permission denied"),
            (2, "remove name \"/h/other\""),
            (1, "sent status Permission denied"),
        ]);
        assert_eq!(
            facts,
            [
                ("removed-file".into(), "/h/locked".into(), None, false),
                ("request-failed".into(), "/h/locked".into(), None, true),
                ("removed-file".into(), "/h/other".into(), None, false),
            ]
        );
        let facts = run(&[
            (1, "open \"/h/missing\" flags READ mode 0666"),
            (1, "sent status No such file"),
        ]);
        assert_eq!(
            facts,
            [("request-failed".into(), "/h/missing".into(), None, true)]
        );
    }

    #[test]
    fn a_process_is_forgotten_at_its_session_end() {
        let mut log = SftpLog::default();
        for message in [
            "session opened for local user a from [127.0.0.1]",
            "open \"/h/x\" flags WRITE mode 0644",
            "session closed for local user a from [127.0.0.1]",
        ] {
            let line = entry(1, message);
            log.fact(&frame_journal_json(&line).expect("frames"), None);
        }
        assert!(log.processes.is_empty());
    }

    #[test]
    fn a_restart_between_open_and_close_still_knows_the_file_was_written() {
        let mut before = SftpLog::default();
        let open = entry(1, "open \"/h/empty\" flags WRITE,CREATE,TRUNCATE mode 0644");
        assert!(before
            .fact(&frame_journal_json(&open).expect("frames"), None)
            .is_none());
        let mut after = SftpLog::default();
        after.restore(before.snapshot()).expect("its own snapshot");
        let close = entry(1, "close \"/h/empty\" bytes read 0 written 0");
        let fact = after
            .fact(&frame_journal_json(&close).expect("frames"), None)
            .expect("an upload");
        let SshdWhat::SessionAction { detail, .. } = fact.what else {
            panic!()
        };
        assert_eq!(detail.action, "uploaded-file");
        assert!(after.restore(serde_json::json!({"processes": 7})).is_err());
    }
}
