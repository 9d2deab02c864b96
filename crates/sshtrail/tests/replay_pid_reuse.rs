//! A process id comes round again (a busy host wraps its pids in minutes) while one side
//! of the join was read far ahead of the other: each login still joins its own audit
//! session, and each close ends its own session.
//!
//! The input is the real capture (`examples/`) three times over, 100 s apart, with the
//! same sshd process ids every time and the kernel's session ids and serials moved on
//! (`support::renumbered_capture`, `support::renumbered_sshd`): fabricated from real lines,
//! since no real host repeats a pid on cue. Replayed from a file, the audit side runs
//! ahead of the sshd side by hundreds of records while the reassembler waits out the
//! serials the rules did not log; before this was fixed, every login joined the *next*
//! copy's session and the first copy's sessions were logged out by the second's closes.

mod support;

use serde_json::Value;
use std::collections::BTreeMap;
use std::process::Command;
use support::{renumbered_capture, renumbered_sshd};

const COPIES: u64 = 3;

/// `2026-11-23T11:32:55.723226+00:00 vm sshd[8927]: …` → `Nov 23 11:32:55 vm sshd[8927]: …`
fn rfc3164(iso: &str) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    iso.lines()
        .map(|line| {
            let (stamp, rest) = line.split_once(' ').expect("a stamp");
            let month: usize = stamp[5..7].parse().expect("a month");
            let day: u32 = stamp[8..10].parse().expect("a day");
            format!("{} {day:>2} {} {rest}\n", MONTHS[month - 1], &stamp[11..19])
        })
        .collect()
}

fn replay(sshd_log: &str) -> Vec<Value> {
    let dir = tempfile_dir();
    let mut audit = String::new();
    for n in 0..COPIES {
        audit.push_str(&renumbered_capture(n).0);
    }
    std::fs::write(dir.join("audit.log"), audit).expect("audit.log");
    std::fs::write(dir.join("auth.log"), sshd_log).expect("auth.log");
    let out = Command::new(env!("CARGO_BIN_EXE_sshtrail"))
        .args(["replay", "--timezone", "UTC", "--audit-log"])
        .arg(dir.join("audit.log"))
        .args(["--sshd-format", "syslog", "--sshd-log"])
        .arg(dir.join("auth.log"))
        .output()
        .expect("run sshtrail replay");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
    String::from_utf8(out.stdout)
        .expect("UTF-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("an event"))
        .collect()
}

fn tempfile_dir() -> std::path::PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "sshtrail-pid-reuse-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    dir
}

/// Seconds since the first copy's first login, to tell the copies apart (100 s each).
fn copy_of(event: &Value, origin_s: i64) -> i64 {
    let t = event["loggedAt"].as_str().expect("loggedAt");
    let seconds = |t: &str| -> i64 {
        let h: i64 = t[11..13].parse().expect("hour");
        let m: i64 = t[14..16].parse().expect("minute");
        let s: i64 = t[17..19].parse().expect("second");
        h * 3600 + m * 60 + s
    };
    (seconds(t) - origin_s).div_euclid(100)
}

fn check(events: &[Value], form: &str) {
    let logins: Vec<&Value> = events
        .iter()
        .filter(|e| e["type"] == "UserLogin" && e["outcome"] == "succeeded")
        .collect();
    assert_eq!(
        logins.len() as u64,
        3 * COPIES,
        "{form}: every successful login"
    );
    let first = logins[0]["loggedAt"].as_str().expect("loggedAt");
    let origin_s = {
        let h: i64 = first[11..13].parse().expect("hour");
        let m: i64 = first[14..16].parse().expect("minute");
        let s: i64 = first[17..19].parse().expect("second");
        h * 3600 + m * 60 + s - 10
    };
    // The capture's sessions are 62, 63 and 64; copy n's are 62 + 100n, …
    let mut logouts: BTreeMap<String, &Value> = BTreeMap::new();
    for e in events.iter().filter(|e| e["type"] == "UserLogout") {
        let ses = e["metadata"]["auditId"]
            .as_str()
            .expect("auditId")
            .to_string();
        assert!(
            logouts.insert(ses.clone(), e).is_none(),
            "{form}: session {ses} logged out twice"
        );
    }
    for login in &logins {
        let ses: i64 = login["metadata"]["auditId"]
            .as_str()
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("{form}: a login not joined: {login}"));
        let copy = copy_of(login, origin_s);
        assert_eq!(
            ses / 100,
            copy,
            "{form}: the login of copy {copy} joined session {ses}: {login}"
        );
        assert_eq!(login["metadata"]["extra"]["correlation"], "joined");
        let logout = logouts
            .get(&ses.to_string())
            .unwrap_or_else(|| panic!("{form}: session {ses} has no logout"));
        assert_eq!(
            copy_of(logout, origin_s),
            copy,
            "{form}: session {ses} of copy {copy} was ended by another copy's close: {logout}"
        );
        assert_eq!(
            logout["subjects"]["loggedAs"],
            login["subjects"]["loggedAs"]
        );
    }
    // Every action of a session is its own copy's.
    for e in events.iter().filter(|e| e["type"] == "UserAction") {
        let Some(ses) = e["metadata"]["auditId"]
            .as_str()
            .and_then(|a| a.parse::<i64>().ok())
        else {
            continue;
        };
        let serial = e["metadata"]["extra"]["sequence"].as_i64();
        if let Some(serial) = serial {
            assert_eq!(serial / 1000 - 44, ses / 100, "{form}: {e}");
        }
    }
}

#[test]
fn with_microsecond_stamps_each_login_joins_its_own_session() {
    let sshd: String = (0..COPIES).map(renumbered_sshd).collect();
    check(&replay(&sshd), "ISO 8601");
}

#[test]
fn with_whole_second_rfc3164_stamps_each_login_joins_its_own_session() {
    let sshd: String = (0..COPIES).map(|n| rfc3164(&renumbered_sshd(n))).collect();
    check(&replay(&sshd), "RFC 3164");
}
