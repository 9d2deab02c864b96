//! Session logs from the bundled real capture (`examples/`, three SSH sessions recorded
//! by `scripts/capture-examples`), written by `sshtrail replay --session-storage` and
//! read back with `sshtrail sessions`: what an auditor does with "show me session X".

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn sshtrail(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sshtrail"))
        .args(args)
        .env_remove("SSHTRAIL_SESSION_STORAGE")
        .output()
        .expect("run sshtrail")
}

/// `sshtrail replay --audit-log AUDIT --sshd-log SSHD --session-storage URL`: its events.
fn replay_into(audit: &Path, sshd: &Path, url: &str) -> Vec<Value> {
    let (audit, sshd) = (audit.display().to_string(), sshd.display().to_string());
    let out = sshtrail(&[
        "replay",
        "--audit-log",
        &audit,
        "--sshd-log",
        &sshd,
        "--session-storage",
        url,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    lines(&out.stdout)
}

fn lines(bytes: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

struct Stored {
    dir: PathBuf,
    url: String,
    events: Vec<Value>,
}

impl Stored {
    /// Replays the bundled sample into a fresh `file://` store.
    fn replay(name: &str) -> Stored {
        let dir = std::env::temp_dir().join(format!("sshtrail-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let url = format!("file://{}", dir.display());
        let out = sshtrail(&["replay", "--session-storage", &url]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        Stored {
            dir,
            url,
            events: lines(&out.stdout),
        }
    }

    fn sessions(&self, args: &[&str]) -> Output {
        let mut all = vec!["sessions", "--storage", &self.url];
        all.extend_from_slice(args);
        sshtrail(&all)
    }

    fn list(&self) -> Vec<Value> {
        let out = self.sessions(&["list"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        lines(&out.stdout)
    }

    fn id_of(&self, user: &str) -> String {
        self.list()
            .into_iter()
            .find(|s| s["user"] == user)
            .and_then(|s| s["id"].as_str().map(str::to_string))
            .unwrap_or_else(|| panic!("a session of {user}"))
    }

    fn log_file(&self, id: &str) -> PathBuf {
        let path = self.dir.join(format!("{id}.sshlog"));
        assert!(path.exists(), "{} exists", path.display());
        path
    }

    fn logout_of(&self, user: &str) -> &Value {
        self.events
            .iter()
            .find(|e| e["type"] == "UserLogout" && e["subjects"]["loggedAs"] == user)
            .unwrap_or_else(|| panic!("a UserLogout of {user}"))
    }
}

impl Drop for Stored {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn every_session_gets_a_log_listed_with_who_from_where_and_when() {
    let stored = Stored::replay("sessions-list");
    let sessions = stored.list();
    let mut users: Vec<&str> = sessions.iter().filter_map(|s| s["user"].as_str()).collect();
    users.sort_unstable();
    assert_eq!(users, ["sshtrail-alice", "sshtrail-bob", "sshtrail-carol"]);
    for session in &sessions {
        let logout = stored.logout_of(session["user"].as_str().unwrap_or_default());
        assert_eq!(session["host"], "vm");
        assert_eq!(session["source"], logout["source"]["value"]);
        assert_eq!(session["end"], logout["loggedAt"]);
        let id = session["id"].as_str().unwrap_or_default();
        // <machine id 12 hex>-<boot id 8 hex>-<kernel ses>, from the logs themselves.
        assert!(id.starts_with("3d1219c7c4c5-"), "{id}");
        assert!(
            id.ends_with(&format!(
                "-{}",
                logout["metadata"]["auditId"].as_str().unwrap_or("?")
            )),
            "{id}"
        );
        let login = stored
            .events
            .iter()
            .find(|e| {
                e["type"] == "UserLogin"
                    && e["metadata"]["auditId"] == logout["metadata"]["auditId"]
            })
            .expect("the session's login");
        assert_eq!(session["start"], login["loggedAt"]);
    }
    // Failed logins are not sessions.
    assert_eq!(sessions.len(), 3);
}

#[test]
fn the_export_holds_the_sessions_own_commands_in_order() {
    let stored = Stored::replay("sessions-export");
    let alice = stored.id_of("sshtrail-alice");
    let out = stored.sessions(&["export", &alice, "--format", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let records = lines(&out.stdout);
    let argvs: Vec<String> = records
        .iter()
        .filter_map(|r| r["argv"].as_array())
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    let marked = |needle: &str| argvs.iter().position(|a| a == needle);
    let (Some(id), Some(ls)) = (marked("id"), marked("ls /")) else {
        panic!("alice's commands in her log: {argvs:#?}");
    };
    assert!(id < ls, "in the order they ran");
    let kinds: Vec<&str> = records.iter().filter_map(|r| r["kind"].as_str()).collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "login").count(),
        1,
        "{kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| **k == "logout").count(),
        1,
        "{kinds:?}"
    );
    let login = records
        .iter()
        .find(|r| r["kind"] == "login")
        .expect("login");
    assert_eq!(login["user"], "sshtrail-alice");
    assert_eq!(login["method"], "publickey");

    // Nothing of another session leaks in.
    assert!(!argvs.iter().any(|a| a.contains("sshtrail-example-carol")));

    let text = stored.sessions(&["export", &alice, "--format", "text"]);
    assert!(text.status.success());
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("ls /"), "{text}");
    assert!(text.contains("sshtrail-alice"), "{text}");

    let show = stored.sessions(&["show", &alice]);
    assert!(show.status.success());
    let show = String::from_utf8_lossy(&show.stdout);
    assert!(show.contains(&format!("session  {alice}")), "{show}");
    assert!(show.contains("ls /"), "{show}");

    // These sessions ran commands without a terminal: nothing to play back.
    let cast = stored.sessions(&["export", &alice, "--format", "asciinema"]);
    assert_eq!(cast.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&cast.stderr).contains("no terminal data"));
}

#[test]
fn the_logout_event_carries_the_digest_that_verify_checks() {
    let stored = Stored::replay("sessions-verify");
    for user in ["sshtrail-alice", "sshtrail-bob", "sshtrail-carol"] {
        let id = stored.id_of(user);
        let digest = stored.logout_of(user)["data"]["session_log_digest"]
            .as_str()
            .expect("UserLogout has data.session_log_digest")
            .to_string();
        assert!(
            digest.starts_with("sha256:") && digest.len() == 71,
            "{digest}"
        );
        let out = stored.sessions(&["verify", &id, "--digest", &digest]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report = &lines(&out.stdout)[0];
        assert_eq!(report["ok"], true);
        assert_eq!(report["sealed"], true);
        assert_eq!(report["digest"], digest.as_str());
    }
    let alice = stored.id_of("sshtrail-alice");
    let wrong = format!("sha256:{}", "0".repeat(64));
    let out = stored.sessions(&["verify", &alice, "--digest", &wrong]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a digest that is not the log's fails"
    );
}

#[test]
fn replaying_the_same_logs_gives_the_same_digests() {
    let first = Stored::replay("sessions-det-1");
    let second = Stored::replay("sessions-det-2");
    for user in ["sshtrail-alice", "sshtrail-bob", "sshtrail-carol"] {
        assert_eq!(
            first.logout_of(user)["data"]["session_log_digest"],
            second.logout_of(user)["data"]["session_log_digest"],
            "{user}"
        );
    }
}

fn flip_byte(path: &Path, offset: usize) {
    let mut bytes = std::fs::read(path).expect("read log");
    bytes[offset] ^= 0x20;
    std::fs::write(path, bytes).expect("write log");
}

#[test]
fn an_edited_byte_fails_verify_and_says_where() {
    let stored = Stored::replay("sessions-tamper");
    let alice = stored.id_of("sshtrail-alice");
    let path = stored.log_file(&alice);
    let length = std::fs::metadata(&path).expect("log").len() as usize;
    flip_byte(&path, length / 2);
    let out = stored.sessions(&["verify", &alice]);
    assert_eq!(out.status.code(), Some(1));
    let report = &lines(&out.stdout)[0];
    assert_eq!(report["ok"], false);
    let problems = report["problems"].to_string();
    assert!(
        problems.contains("offset") || problems.contains("record"),
        "{problems}"
    );
}

#[test]
fn a_log_cut_short_gives_its_whole_records_and_fails_verify() {
    let stored = Stored::replay("sessions-truncate");
    let alice = stored.id_of("sshtrail-alice");
    let path = stored.log_file(&alice);
    let whole = stored.sessions(&["export", &alice, "--format", "json"]);
    let whole = lines(&whole.stdout).len();
    let length = std::fs::metadata(&path).expect("log").len();
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .expect("open log");
    file.set_len(length * 2 / 3).expect("truncate");
    drop(file);

    let out = stored.sessions(&["export", &alice, "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "a torn log is reported");
    let kept = lines(&out.stdout).len();
    assert!(kept > 1 && kept < whole, "{kept} of {whole} records kept");
    assert!(!out.stderr.is_empty(), "and says why");

    let out = stored.sessions(&["verify", &alice]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(lines(&out.stdout)[0]["sealed"], false);
}

#[test]
fn ids_that_try_to_leave_the_store_are_refused() {
    let stored = Stored::replay("sessions-ids");
    for id in ["../../etc/passwd", "/etc/passwd", ".hidden", ""] {
        let out = stored.sessions(&["show", id]);
        assert!(!out.status.success(), "{id:?} must be refused");
    }
}

/// A log of two boots (the real ssh-login capture, then the same records as the next
/// boot writes them, fabricated: serials from 1 again, an hour later) without sshd lines,
/// so without boot ids: both boots' session is kernel session 33. Each gets a log of its
/// own, whole and verifiable; the second never replaces the first.
#[test]
fn a_log_of_two_boots_keeps_each_boots_session_log() {
    let capture = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../audit/tests/data/ssh-login.log"),
    )
    .expect("capture");
    let dir = std::env::temp_dir().join(format!("sshtrail-two-boots-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let log = dir.join("audit.log");
    std::fs::write(
        &log,
        capture.clone() + &support::as_next_boot(&capture, 3_600),
    )
    .expect("log");
    let url = format!("file://{}", dir.join("store").display());
    let events = replay_into(&log, Path::new("/dev/null"), &url);
    let logouts: Vec<&Value> = events
        .iter()
        .filter(|e| e["type"] == "UserLogout")
        .collect();
    assert_eq!(logouts.len(), 2, "one logout per boot");
    let actions = |first_boot: bool| {
        events
            .iter()
            .filter(|e| e["type"] == "UserAction")
            .filter(|e| (e["metadata"]["extra"]["sequence"].as_u64() > Some(1000)) == first_boot)
            .count()
    };
    assert!(actions(true) > 0);
    assert_eq!(
        actions(false),
        actions(true),
        "the second boot's events are whole too"
    );
    let mut ids = Vec::new();
    for logout in logouts {
        assert_eq!(logout["metadata"]["auditId"], "33");
        let id = logout["data"]["session_log_id"]
            .as_str()
            .expect("id")
            .to_string();
        let digest = logout["data"]["session_log_digest"]
            .as_str()
            .expect("digest");
        let verify = sshtrail(&[
            "sessions",
            "--storage",
            &url,
            "verify",
            &id,
            "--digest",
            digest,
        ]);
        assert!(
            verify.status.success(),
            "{id}: {}",
            String::from_utf8_lossy(&verify.stdout)
        );
        ids.push(id);
    }
    assert_ne!(ids[0], ids[1]);
    assert_eq!(ids[1], format!("{}-2", ids[0]));
    let listed = lines(&sshtrail(&["sessions", "--storage", &url, "list"]).stdout);
    assert_eq!(listed.len(), 2, "{listed:#?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The bundled journal and audit log, then both again as the next boot writes them
/// (fabricated: the journal's boot id and times changed, the audit serials counted from 1
/// an hour later). Each boot's sessions are filed under their own boot, as the daemon
/// files them, and none replaces another's log.
#[test]
fn sessions_of_a_later_boot_in_the_journal_carry_that_boot() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let audit = std::fs::read_to_string(root.join("sshd-session.audit.log")).expect("audit");
    let journal = std::fs::read_to_string(root.join("sshd-session.journal.json")).expect("journal");
    let first_boot = "86a86f7a6ad446c093b9739e6b1dbeb2";
    assert!(journal.contains(first_boot));
    let next_boot = "b007b007b007b007b007b007b007b007";
    let later_journal: String = journal
        .lines()
        .map(|line| {
            let mut entry: Value = serde_json::from_str(line).expect("journal entry");
            for key in ["__REALTIME_TIMESTAMP", "_SOURCE_REALTIME_TIMESTAMP"] {
                if let Some(us) = entry[key].as_str().and_then(|v| v.parse::<u64>().ok()) {
                    entry[key] = Value::from((us + 3_600_000_000).to_string());
                }
            }
            entry["_BOOT_ID"] = Value::from(next_boot);
            entry.to_string() + "\n"
        })
        .collect();
    let dir = std::env::temp_dir().join(format!("sshtrail-boots-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let (audit_path, journal_path) = (dir.join("audit.log"), dir.join("journal.json"));
    std::fs::write(
        &audit_path,
        audit.clone() + &support::as_next_boot(&audit, 3_600),
    )
    .expect("audit log");
    std::fs::write(&journal_path, journal.clone() + &later_journal).expect("journal");
    let url = format!("file://{}", dir.join("store").display());
    replay_into(&audit_path, &journal_path, &url);
    let listed = lines(&sshtrail(&["sessions", "--storage", &url, "list"]).stdout);
    let boots: Vec<&str> = listed
        .iter()
        .map(|s| {
            s["id"]
                .as_str()
                .expect("id")
                .split('-')
                .nth(1)
                .expect("boot part")
        })
        .collect();
    let count = |boot: &str| boots.iter().filter(|b| **b == boot).count();
    assert_eq!(count(&first_boot[..8]), 3, "{listed:#?}");
    assert_eq!(count(&next_boot[..8]), 3, "{listed:#?}");
    assert!(listed.iter().all(|s| s["id"]
        .as_str()
        .is_some_and(|id| id.split('-').count() == 3)));
    let _ = std::fs::remove_dir_all(&dir);
}
