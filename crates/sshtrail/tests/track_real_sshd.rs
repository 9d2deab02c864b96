//! The tracker on sshd's own log lines captured from a real sshd through a standalone
//! journald (`crates/sshd/tests/data/debian12-journal.json`, cases listed in
//! `debian12-cases.tsv`), with no audit side: every login is written sshd-only.

use serde_json::Value;
use sshtrail::track::from_sshd::sshd_fact;
use sshtrail::track::{Config, Tracker};
use sshtrail_event::Host;
use sshtrail_sshd::framing::frame_journal_json;

fn data(name: &str) -> String {
    let path = format!("{}/../sshd/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path).expect("fixture")
}

fn events() -> Vec<Value> {
    let mut tracker = Tracker::new(Config::default());
    for line in data("debian12-journal.json").lines() {
        let framed = frame_journal_json(line).expect("captured lines frame");
        if let Some(fact) = sshd_fact(&framed, None) {
            tracker.on_sshd(fact);
        }
    }
    tracker.finish();
    tracker
        .drain()
        .map(|e| serde_json::from_slice(&e.to_line(&Host::default())).unwrap())
        .collect()
}

/// (case, client ip, user) rows of the capture script's case list.
fn cases() -> Vec<(String, String, String)> {
    data("debian12-cases.tsv")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let mut cols = l.splitn(3, '\t').map(str::to_string);
            let mut next = || cols.next().unwrap_or_default();
            (next(), next(), next())
        })
        .collect()
}

const SUCCESSFUL: [&str; 11] = [
    "key_v4",
    "key_v6",
    "key_pty",
    "sftp",
    "password_v4",
    "password_v6",
    "kbdint",
    "cert",
    "cert_v6",
    "none",
    "allow_ok",
];
const SCANNERS: [&str; 7] = [
    "timeout",
    "closed_before_banner",
    "banner_garbage",
    "protocol_1",
    "unable_to_negotiate",
    "unable_to_negotiate_hostkey",
    "connection_reset",
];

#[test]
fn every_successful_login_is_one_login_and_one_logout() {
    let events = events();
    let logins: Vec<&Value> = events
        .iter()
        .filter(|e| e["type"] == "UserLogin" && e["outcome"] == "succeeded")
        .collect();
    assert_eq!(logins.len(), SUCCESSFUL.len());
    for login in &logins {
        let id = &login["metadata"]["auditId"];
        let logouts = events
            .iter()
            .filter(|e| e["type"] == "UserLogout" && &e["metadata"]["auditId"] == id)
            .count();
        assert_eq!(logouts, 1, "one logout for {login}");
    }
    for (case, ip, user) in cases()
        .iter()
        .filter(|c| SUCCESSFUL.contains(&c.0.as_str()))
    {
        let found = logins
            .iter()
            .filter(|e| {
                e["subjects"]["loggedAs"] == user.as_str() && e["source"]["value"] == ip.as_str()
            })
            .count();
        assert!(found >= 1, "{case}: no login for {user} from {ip}");
    }
    let cert = logins
        .iter()
        .find(|e| e["data"]["cert_id"].is_string())
        .expect("a certificate login");
    assert_eq!(cert["subjects"]["userID"], cert["data"]["cert_id"]);
    assert_ne!(cert["subjects"]["userID"], cert["subjects"]["loggedAs"]);
}

#[test]
fn failed_attempts_name_the_exact_user_and_the_real_source() {
    let events = events();
    let failed: Vec<&Value> = events.iter().filter(|e| e["outcome"] == "failed").collect();
    for (case, ip, user) in cases() {
        if SUCCESSFUL.contains(&case.as_str()) || SCANNERS.contains(&case.as_str()) {
            continue;
        }
        let found = failed
            .iter()
            .filter(|e| {
                let logged = e["subjects"]["loggedAs"].as_str().unwrap_or("");
                // sshd itself cuts a user name at the first ':' (its user@host:port parse).
                let expected = user.split(':').next().unwrap_or("");
                logged.starts_with(expected) && e["source"]["value"] == ip.as_str()
            })
            .count();
        assert!(found >= 1, "{case}: no failed login for {user:?} from {ip}");
    }
    // Hostile names never move the source: every failed login's source is loopback.
    for e in &failed {
        let source = e["source"]["value"].as_str().unwrap_or("");
        assert!(["127.0.0.1", "::1", "unknown"].contains(&source), "{e}");
        assert!(e["data"]["reason"].is_string());
    }
}

#[test]
fn scanners_that_name_no_user_are_not_logins_and_none_probes_are_not_failures() {
    let events = events();
    assert!(events.iter().all(|e| e["subjects"]["loggedAs"] != ""));
    assert!(events
        .iter()
        .all(|e| e["data"]["method"] != "none" || e["outcome"] == "succeeded"));
}
