//! The same real sessions, their sshd side in three formats, join the same.
//!
//! `tests/data/formats` (see its README) holds one real run of 17 short SSH sessions and
//! two failed logins: the kernel's audit log, and sshd's lines as journald has them and
//! as the testbed's rsyslog wrote them with its traditional template (RFC 3164: whole
//! seconds, no year, local time — UTC on the capturing machine) and its ISO 8601 one. A
//! short session's every RFC 3164 line carries the same second, so the whole session
//! sorts before its own `LOGIN` record; it must still be joined. Whatever the format,
//! `replay` must join exactly what it joins from the journal: every command to the
//! login it belongs to, with the same account, source address and port.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, UNIX_EPOCH};

fn data() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/formats")
}

/// The capture's files in a directory of the test's own, each syslog file last changed
/// when the capture ended (RFC 3164 stamps have no year: a replay reads them relative to
/// that, as for any captured file), whatever the checkout's times are.
fn fixture_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sshtrail-formats-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let journal = std::fs::read_to_string(data().join("journal.json")).expect("journal");
    let last_us: u64 = journal
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|e| e["__REALTIME_TIMESTAMP"].as_str()?.parse().ok())
        .max()
        .expect("journal times");
    let ended = UNIX_EPOCH + Duration::from_micros(last_us) + Duration::from_secs(1);
    for name in [
        "audit.log",
        "journal.json",
        "auth-rfc3164.log",
        "auth-iso8601.log",
    ] {
        std::fs::copy(data().join(name), dir.join(name)).expect("copy");
        let file = std::fs::File::options()
            .write(true)
            .open(dir.join(name))
            .expect("open");
        file.set_modified(ended).expect("set mtime");
    }
    dir
}

fn replay(dir: &Path, sshd_log: &str) -> Vec<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_sshtrail"))
        .args(["replay", "--timezone", "UTC", "--audit-log"])
        .arg(dir.join("audit.log"))
        .arg("--sshd-log")
        .arg(dir.join(sshd_log))
        .output()
        .expect("run sshtrail replay");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect()
}

/// What a replay joined, without the times (a whole-second stamp is not the journal's):
/// per kernel session, its login's attribution and each command's; and the failed
/// logins by user and source.
fn joins(events: &[Value]) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for e in events {
        let attribution = format!(
            "{} {} {} {}",
            e["type"], e["metadata"]["extra"]["correlation"], e["subjects"], e["source"]
        );
        let (key, entry) = match (e["type"].as_str(), e["outcome"].as_str()) {
            (Some("UserLogin"), Some("failed")) => ("failed".to_string(), attribution),
            (Some("UserAction"), _) => (
                e["metadata"]["auditId"].as_str().unwrap_or("").to_string(),
                format!("{attribution} {}", e["metadata"]["extra"]["sequence"]),
            ),
            (Some("UserLogout"), _) => (
                e["metadata"]["auditId"].as_str().unwrap_or("").to_string(),
                format!("{attribution} {}", e["data"]["actions"]),
            ),
            _ => (
                e["metadata"]["auditId"].as_str().unwrap_or("").to_string(),
                attribution,
            ),
        };
        out.entry(key).or_default().push(entry);
    }
    for entries in out.values_mut() {
        entries.sort();
    }
    out
}

#[test]
fn rfc3164_and_iso8601_syslog_join_exactly_what_the_journal_joins() {
    let dir = fixture_dir("same");
    let journal = replay(&dir, "journal.json");
    let expected = joins(&journal);
    for format in ["auth-rfc3164.log", "auth-iso8601.log"] {
        let got = joins(&replay(&dir, format));
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            expected.keys().collect::<Vec<_>>(),
            "{format}: the same sessions"
        );
        for (session, entries) in &expected {
            assert_eq!(&got[session], entries, "{format}: session {session}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn every_captured_session_is_joined_from_whole_second_syslog() {
    let dir = fixture_dir("rfc3164");
    let events = replay(&dir, "auth-rfc3164.log");
    let expected = std::fs::read_to_string(data().join("expected.tsv")).expect("expected");
    let rows: Vec<Vec<&str>> = expected
        .lines()
        .skip(1)
        .map(|l| l.split('\t').collect())
        .collect();
    assert_eq!(rows.len(), 17);
    for row in rows {
        let (marker, user, ses, ip, port) = (row[0], row[1], row[2], row[3], row[4]);
        let in_session = |kind: &str| -> Vec<&Value> {
            events
                .iter()
                .filter(|e| e["type"] == kind && e["metadata"]["auditId"] == ses)
                .collect()
        };
        let logins = in_session("UserLogin");
        assert_eq!(logins.len(), 1, "{marker}: one login");
        assert_eq!(logins[0]["metadata"]["extra"]["correlation"], "joined");
        assert_eq!(logins[0]["subjects"]["loggedAs"], user, "{marker}");
        assert_eq!(logins[0]["source"]["value"], ip, "{marker}");
        assert_eq!(logins[0]["source"]["extra"]["port"], port, "{marker}");
        assert_eq!(in_session("UserLogout").len(), 1, "{marker}: one logout");
        let actions = in_session("UserAction");
        assert!(!actions.is_empty());
        for action in &actions {
            assert_eq!(
                action["metadata"]["extra"]["correlation"], "joined",
                "{marker}: {action}"
            );
            assert_eq!(action["subjects"], logins[0]["subjects"], "{marker}");
            assert_eq!(action["source"], logins[0]["source"], "{marker}");
        }
        assert!(
            actions
                .iter()
                .any(|a| a["metadata"]["extra"]["process_args"]
                    .as_array()
                    .is_some_and(|args| args.iter().any(|x| x == marker))),
            "{marker}: its command"
        );
    }
    let failed = events
        .iter()
        .filter(|e| e["type"] == "UserLogin" && e["outcome"] == "failed")
        .count();
    assert_eq!(failed, 2, "the wrong password and the hostile invalid user");
    let _ = std::fs::remove_dir_all(&dir);
}
