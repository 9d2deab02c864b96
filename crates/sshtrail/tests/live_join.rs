//! The join, live, whatever the order and the delay in which the two sides arrive: real
//! `ssh` sessions of every login kind against the testbed's sshd, the real kernel and
//! auditd, journald or rsyslog's whole-second syslog file.
//!
//! * Sessions that ran while the daemon was down (killed with SIGKILL) are joined after
//!   its restart, however long it was down: their audit records and sshd lines are read
//!   back long after the fact, and the waits end by what the sources show, not by the
//!   clock.
//! * A classic RFC 3164 `auth.log` (whole seconds: a short session's lines all come
//!   before its own `LOGIN` record) is joined as well as the journal.
//! * `replay` of what the daemon read writes, session by session, the lines it wrote.
//!
//! Needs root, auditd and the testbed (`scripts/test` starts them); skips without them
//! unless `SSHTRAIL_REQUIRE_LIVE=1`.

mod support;

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use support::live::{
    grown_since, journal_cursor, journal_since, session_facts, ssh, Daemon, LiveCase,
};

/// The login kinds a session is made with.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Key,
    Password,
    Certificate,
    Ipv6,
    Terminal,
}

const KINDS: [Kind; 5] = [
    Kind::Key,
    Kind::Password,
    Kind::Certificate,
    Kind::Ipv6,
    Kind::Terminal,
];

/// What a session was, by its own account: who, and where the kernel and sshd put it.
#[derive(Clone, Debug)]
struct Session {
    marker: String,
    user: &'static str,
    user_id: &'static str,
    ses: String,
    ip: String,
    port: String,
}

/// One short session of `kind` that runs `/bin/echo MARKER` and leaves at once.
fn session(kind: Kind, marker: &str) -> Session {
    let report = "echo ses=$(cat /proc/self/sessionid); echo client=$SSH_CLIENT";
    let command = format!("'{report}; /bin/echo {marker}'");
    let (user, user_id, call) = match kind {
        Kind::Key => (
            "sshtrail-alice",
            "sshtrail-alice",
            format!("tb_ssh_key 127.0.0.1 22830 sshtrail-alice alice {command}"),
        ),
        Kind::Password => (
            "sshtrail-bob",
            "sshtrail-bob",
            format!(
                "tb_ssh_pass password 127.0.0.1 22830 sshtrail-bob \"$TESTBED_PASSWORD\" 1 {command}"
            ),
        ),
        Kind::Certificate => (
            "sshtrail-carol",
            "carol@sshtrail-test",
            format!("tb_ssh_key 127.0.0.1 22830 sshtrail-carol carol {command}"),
        ),
        Kind::Ipv6 => (
            "sshtrail-bob",
            "sshtrail-bob",
            format!(
                "tb_ssh_pass password ::1 22830 sshtrail-bob \"$TESTBED_PASSWORD\" 1 {command}"
            ),
        ),
        Kind::Terminal => (
            "sshtrail-alice",
            "sshtrail-alice",
            format!("tb_ssh_tty 127.0.0.1 22830 sshtrail-alice alice {command}"),
        ),
    };
    // sshd's MaxStartups may refuse a connection when many arrive at once.
    for _ in 0..6 {
        let (ok, stdout) = ssh(&call);
        if ok {
            let (ses, ip, port) = session_facts(&stdout);
            return Session {
                marker: marker.to_string(),
                user,
                user_id,
                ses,
                ip,
                port,
            };
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    panic!("{kind:?} session {marker} never got in");
}

/// `count` sessions of every kind in turn, `at_once` at a time.
fn sessions(key: &str, prefix: &str, count: usize, at_once: usize) -> Vec<Session> {
    let mut done = Vec::with_capacity(count);
    let mut n = 0;
    while n < count {
        let batch: Vec<_> = (n..count.min(n + at_once))
            .map(|i| {
                let marker = format!("{prefix}-{i}-{key}");
                let kind = KINDS[i % KINDS.len()];
                std::thread::spawn(move || session(kind, &marker))
            })
            .collect();
        n += batch.len();
        done.extend(batch.into_iter().map(|h| h.join().expect("session thread")));
    }
    done
}

fn logged_out(events: &[Value], ses: &str) -> bool {
    events
        .iter()
        .any(|e| e["type"] == "UserLogout" && e["metadata"]["auditId"] == ses)
}

/// Every session: one login, joined, with its own source; its command once, joined to
/// that login; one logout.
fn assert_each_joined(events: &[Value], sessions: &[Session]) {
    for s in sessions {
        let of_session = |kind: &str| -> Vec<&Value> {
            events
                .iter()
                .filter(|e| e["type"] == kind && e["metadata"]["auditId"] == s.ses.as_str())
                .collect()
        };
        let logins = of_session("UserLogin");
        assert_eq!(logins.len(), 1, "{}: one login in {logins:#?}", s.marker);
        let login = logins[0];
        assert_eq!(
            login["metadata"]["extra"]["correlation"], "joined",
            "{}",
            s.marker
        );
        assert_eq!(login["subjects"]["loggedAs"], s.user, "{}", s.marker);
        assert_eq!(login["subjects"]["userID"], s.user_id, "{}", s.marker);
        assert_eq!(login["source"]["value"], s.ip.as_str(), "{}", s.marker);
        assert_eq!(
            login["source"]["extra"]["port"],
            s.port.as_str(),
            "{}",
            s.marker
        );
        let marked: Vec<&Value> = events
            .iter()
            .filter(|e| {
                e["metadata"]["extra"]["process_args"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|x| x == s.marker.as_str()))
            })
            .collect();
        assert_eq!(marked.len(), 1, "{}: its command once", s.marker);
        let action = marked[0];
        assert_eq!(
            action["metadata"]["auditId"],
            s.ses.as_str(),
            "{}",
            s.marker
        );
        assert_eq!(
            action["metadata"]["extra"]["correlation"], "joined",
            "{}",
            s.marker
        );
        assert_eq!(action["subjects"], login["subjects"], "{}", s.marker);
        assert_eq!(action["source"], login["source"], "{}", s.marker);
        assert_eq!(
            of_session("UserLogout").len(),
            1,
            "{}: one logout",
            s.marker
        );
    }
    for e in events.iter().filter(|e| e["type"] == "UserAction") {
        let ours = sessions
            .iter()
            .any(|s| e["metadata"]["auditId"] == s.ses.as_str());
        if ours {
            assert_eq!(e["metadata"]["extra"]["correlation"], "joined", "{e}");
        }
    }
}

/// Kill the daemon, run `sequential` then `concurrent` sessions while it is down, wait
/// until it has been down `down_for`, restart it: every session is joined.
fn down_and_back(
    case: &LiveCase,
    sequential: usize,
    concurrent: usize,
    down_for: Duration,
    extra: &[&str],
) {
    let daemon = Daemon::start_with(&case.dir, 1, extra);
    std::thread::sleep(Duration::from_millis(1500)); // a checkpoint or two
    daemon.crash();
    let down = Instant::now();
    let mut ran = sessions(&case.key, "seq", sequential, 1);
    ran.extend(sessions(&case.key, "conc", concurrent, 25));
    while down.elapsed() < down_for {
        std::thread::sleep(Duration::from_millis(500));
    }
    let daemon = Daemon::start_with(&case.dir, 2, extra);
    daemon.wait_for_within(Duration::from_secs(180), |events| {
        ran.iter().all(|s| logged_out(events, &s.ses))
    });
    std::thread::sleep(Duration::from_secs(2)); // anything repeated would show by now
    let events = daemon.stop();
    assert_each_joined(&events, &ran);
    let restart = events
        .iter()
        .find(|e| e["data"]["action"] == "daemon-started" && e["data"]["resumed"] == true)
        .expect("the restart says it resumed");
    let down_secs = restart["data"]["downtime_seconds"].as_f64().unwrap_or(0.0);
    assert!(down_secs >= down_for.as_secs_f64() - 2.0, "{restart}");
}

#[test]
fn sessions_that_ran_while_the_daemon_was_down_are_joined_after_its_restart() {
    let Some(case) = LiveCase::new("down_20s", "down") else {
        return;
    };
    // Ten one after another (each login kind twice), twelve at once; down 20 s.
    down_and_back(&case, 10, 12, Duration::from_secs(20), &[]);
}

#[test]
fn hundreds_of_sessions_during_five_minutes_down_are_all_joined() {
    let Some(case) = LiveCase::new("down_5min", "long") else {
        return;
    };
    down_and_back(&case, 5, 200, Duration::from_secs(300), &[]);
}

fn rsyslog_file(name: &str) -> String {
    let dir = std::env::var("TESTBED_DIR").unwrap_or_else(|_| "/run/sshtrail-testbed".into());
    let path = format!("{dir}/syslog/{name}");
    assert!(
        Path::new(&path).exists(),
        "{path}: the testbed's rsyslog writes it"
    );
    path
}

#[test]
fn a_whole_second_syslog_file_is_joined_live_and_after_downtime() {
    let Some(case) = LiveCase::new("rfc3164_live", "rfc3164") else {
        return;
    };
    let auth = rsyslog_file("auth-rfc3164.log");
    let extra = ["--sshd-source", "syslog", "--sshd-log", auth.as_str()];
    let daemon = Daemon::start_with(&case.dir, 1, &extra);
    let mut ran = sessions(&case.key, "live", 5, 1);
    ran.extend(sessions(&case.key, "live-conc", 6, 6));
    daemon.wait_for_within(Duration::from_secs(60), |events| {
        ran.iter().all(|s| logged_out(events, &s.ses))
    });
    std::thread::sleep(Duration::from_millis(1500));
    daemon.crash();
    let down = Instant::now();
    let while_down = sessions(&case.key, "down", 5, 1);
    ran.extend(while_down);
    while down.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(200));
    }
    let daemon = Daemon::start_with(&case.dir, 2, &extra);
    daemon.wait_for_within(Duration::from_secs(60), |events| {
        ran.iter().all(|s| logged_out(events, &s.ses))
    });
    let events = daemon.stop();
    assert_each_joined(&events, &ran);
}

/// The journal's cursor now, for reading what comes after it.
/// Events by the session they belong to (generated ids masked, the daemon's own
/// SystemActions left out): each session's lines in order.
fn per_session(lines: &str, ours: &[Session]) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in lines.lines() {
        let e: Value = serde_json::from_str(line).expect("JSON");
        let id = e["metadata"]["auditId"].as_str().unwrap_or("").to_string();
        let key = if ours.iter().any(|s| s.ses == id) {
            // What sshd's lines say inside the session (the channel it opened) is in the
            // lines' order; how it interleaves with the audit records follows arrival.
            if e["type"] == "UserAction" && e["component"] != "auditd" {
                format!("{id} from sshd's lines")
            } else {
                id.clone()
            }
        } else if e["type"] == "UserLogin" && e["outcome"] == "failed" {
            format!("failed {}", e["subjects"]["loggedAs"])
        } else {
            continue;
        };
        out.entry(key).or_default().push(line.replace(&id, "ID"));
    }
    out
}

#[test]
fn replay_of_what_the_daemon_read_writes_what_it_wrote() {
    use std::os::unix::fs::MetadataExt;
    let Some(case) = LiveCase::new("replay_equals_run", "same") else {
        return;
    };
    let audit_log = PathBuf::from("/var/log/audit/audit.log");
    let meta = std::fs::metadata(&audit_log).expect("auditd's log");
    let (inode, offset) = (meta.ino(), meta.len());
    let cursor = journal_cursor();
    let daemon = Daemon::start(&case.dir);
    let ran = sessions(&case.key, "same", 5, 1);
    let (failed, _) =
        ssh("tb_ssh_pass password 127.0.0.1 22830 sshtrail-bob wrong-password 1 true");
    assert!(!failed);
    daemon.wait_for(|events| {
        ran.iter().all(|s| logged_out(events, &s.ses))
            && events
                .iter()
                .any(|e| e["outcome"] == "failed" && e["subjects"]["loggedAs"] == "sshtrail-bob")
    });
    std::thread::sleep(Duration::from_secs(1));
    let written = std::fs::read_to_string(&daemon.output).expect("events");
    drop(daemon.stop());

    // What the daemon read: auditd's log from where it started, and sshd's journal
    // entries after the cursor.
    std::fs::write(
        case.dir.join("audit.log"),
        grown_since(&audit_log, inode, offset),
    )
    .expect("audit slice");
    let entries = journal_since(&cursor, &["sshd", "sshd-session", "sshd-auth"]);
    std::fs::write(case.dir.join("journal.json"), entries).expect("journal slice");
    let replay = Command::new(env!("CARGO_BIN_EXE_sshtrail"))
        .args(["replay", "--audit-log"])
        .arg(case.dir.join("audit.log"))
        .arg("--sshd-log")
        .arg(case.dir.join("journal.json"))
        .output()
        .expect("sshtrail replay");
    assert!(
        replay.status.success(),
        "{}",
        String::from_utf8_lossy(&replay.stderr)
    );
    let replayed = String::from_utf8_lossy(&replay.stdout);

    let run = per_session(&written, &ran);
    let again = per_session(&replayed, &ran);
    assert_eq!(
        run.keys()
            .filter(|k| !k.ends_with(" from sshd's lines"))
            .count(),
        ran.len() + 1,
        "every session and the failed login"
    );
    assert_eq!(again.len(), run.len(), "the same sessions");
    for (session, lines) in &run {
        assert_eq!(
            again.get(session),
            Some(lines),
            "session {session}: replay writes the daemon's lines, byte for byte"
        );
    }
}
