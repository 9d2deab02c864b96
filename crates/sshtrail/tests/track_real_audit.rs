//! The tracker on a real sshd login captured from this machine's auditd
//! (`crates/audit/tests/data/ssh-login.log`, see its README): parse → reassemble →
//! audit facts → tracker, with no sshd side, so every event is attributed audit-only.

use sshtrail::track::facts::AuditRole;
use sshtrail::track::from_audit::audit_fact;
use sshtrail::track::{Config, Tracker};
use sshtrail_audit::interpret::NoNames;
use sshtrail_audit::parse_line;
use sshtrail_audit::reassemble::{Output, Reassembler};
use sshtrail_event::Host;

/// `key=value` of the fixture's LOGIN line, read with a plain string search so the
/// expectation does not depend on the parser under test (captures change every id).
fn login_field(name: &str, key: &str) -> String {
    let path = format!("{}/../audit/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = String::from_utf8_lossy(&std::fs::read(path).expect("fixture")).into_owned();
    let line = text
        .lines()
        .find(|l| l.starts_with("type=LOGIN "))
        .expect("a LOGIN line")
        .to_string();
    let start = line.find(&format!(" {key}=")).expect("key") + key.len() + 2;
    line[start..]
        .split([' ', '\x1d'])
        .next()
        .unwrap_or("")
        .to_string()
}

fn facts(name: &str) -> Vec<sshtrail::track::facts::AuditFact> {
    let path = format!("{}/../audit/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read(&path).expect("fixture");
    let mut reassembler = Reassembler::default();
    let mut events = Vec::new();
    for (i, line) in text
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .enumerate()
    {
        let record = parse_line(line).expect("real records parse");
        reassembler.push(record, i as u64, &mut |o| {
            if let Output::Event(e) = o {
                events.push(e);
            }
        });
    }
    reassembler.finish(&mut |o| {
        if let Output::Event(e) = o {
            events.push(e);
        }
    });
    events
        .iter()
        .map(|e| audit_fact(e.records(), &NoNames))
        .collect()
}

#[test]
fn login_record_starts_the_session_of_the_sshd_process() {
    let facts = facts("ssh-login.log");
    let start = facts
        .iter()
        .find(|f| matches!(f.role, AuditRole::SessionStart { .. }))
        .expect("a LOGIN event");
    let ses: u32 = login_field("ssh-login.log", "ses").parse().unwrap();
    let login_pid: u32 = login_field("ssh-login.log", "pid").parse().unwrap();
    let login_auid: u32 = login_field("ssh-login.log", "auid").parse().unwrap();
    assert_eq!(start.ses, Some(ses));
    let AuditRole::SessionStart { pid, auid, exe } = &start.role else {
        unreachable!()
    };
    assert_eq!((*pid, *auid), (login_pid, login_auid));
    assert_eq!(exe.as_deref(), Some("/usr/sbin/sshd"));
    assert!(start.is_sshd_login());
    // ENRICHED logs name the auid even without this machine's passwd.
    assert_eq!(start.auid_name.as_deref(), Some("sshtrailfx"));
    let end = facts
        .iter()
        .find(|f| matches!(f.role, AuditRole::SessionEnd { .. }))
        .expect("USER_END");
    assert_eq!(end.role, AuditRole::SessionEnd { pid: login_pid });
}

#[test]
fn without_sshd_the_session_is_attributed_from_audit_and_ends_once() {
    let mut tracker = Tracker::new(Config::default());
    for fact in facts("ssh-login.log") {
        tracker.on_audit(fact);
    }
    tracker.finish();
    let events: Vec<serde_json::Value> = tracker
        .drain()
        .map(|e| serde_json::from_slice(&e.to_line(&Host::default())).unwrap())
        .collect();
    let marked: Vec<&serde_json::Value> = events
        .iter()
        .filter(|e| {
            e["metadata"]["extra"]["process_args"]
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x == "sshtrail-ssh-session"))
        })
        .collect();
    assert_eq!(marked.len(), 1, "the marked command is one UserAction");
    let action = marked[0];
    assert_eq!(action["type"], "UserAction");
    assert_eq!(
        action["metadata"]["auditId"],
        login_field("ssh-login.log", "ses").as_str()
    );
    assert_eq!(action["metadata"]["extra"]["correlation"], "audit-only");
    assert_eq!(action["metadata"]["extra"]["action"], "executed");
    assert_eq!(action["subjects"]["loggedAs"], "sshtrailfx");
    assert_eq!(action["source"]["value"], "127.0.0.1");
    assert_eq!(
        events.iter().filter(|e| e["type"] == "UserLogout").count(),
        1
    );
    assert_eq!(tracker.stats().giveup_no_sshd_login, 1);
}
