//! `sshtrail replay` on the bundled sample (examples/, a real auditd + journald + sshd
//! run recorded by scripts/capture-examples): every login is joined to its kernel
//! session, every marked command is one UserAction of its own login, every event is valid
//! against the schema.

use serde_json::Value;
use std::process::Command;

fn replay() -> Vec<Value> {
    let output = Command::new(env!("CARGO_BIN_EXE_sshtrail"))
        .arg("replay")
        .output()
        .expect("run sshtrail replay");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

/// The kernel session the sample's LOGIN records gave each pid, read from the raw log
/// without the parser under test: pid → ses.
fn login_sessions() -> Vec<(String, String)> {
    let text = include_str!("../../../examples/sshd-session.audit.log");
    text.lines()
        .filter(|l| l.starts_with("type=LOGIN "))
        .map(|l| {
            let field = |key: &str| {
                let start = l.find(&format!(" {key}=")).expect("field") + key.len() + 2;
                l[start..]
                    .split([' ', '\x1d'])
                    .next()
                    .unwrap_or("")
                    .to_string()
            };
            (field("pid"), field("ses"))
        })
        .collect()
}

#[test]
fn every_event_is_valid() {
    let schema: Value =
        serde_json::from_str(include_str!("../../event/schema/auditevent.schema.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let events = replay();
    assert!(!events.is_empty());
    for event in &events {
        let errors: Vec<String> = validator
            .iter_errors(event)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{errors:?}: {event}");
    }
}

#[test]
fn logins_are_joined_to_their_kernel_sessions() {
    let events = replay();
    let sessions = login_sessions();
    assert_eq!(sessions.len(), 3, "the sample has three logins");
    for (pid, ses) in &sessions {
        let logins: Vec<&Value> = events
            .iter()
            .filter(|e| e["type"] == "UserLogin" && e["subjects"]["pid"] == pid.as_str())
            .collect();
        assert_eq!(logins.len(), 1, "one login for sshd pid {pid}");
        assert_eq!(logins[0]["metadata"]["auditId"], ses.as_str());
        assert_eq!(logins[0]["metadata"]["extra"]["correlation"], "joined");
        let logouts = events
            .iter()
            .filter(|e| e["type"] == "UserLogout" && e["metadata"]["auditId"] == ses.as_str())
            .count();
        assert_eq!(logouts, 1, "one logout for session {ses}");
    }
}

#[test]
fn marked_commands_belong_to_their_own_login() {
    let events = replay();
    // (marker in the command line, user, source address) as scripts/capture-examples ran them.
    let expected = [
        ("sshtrail-example-alice", "sshtrail-alice", "127.0.0.1"),
        ("sshtrail-example-bob", "sshtrail-bob", "::1"),
        ("sshtrail-example-carol", "sshtrail-carol", "127.0.0.1"),
    ];
    for (marker, user, ip) in expected {
        let actions: Vec<&Value> = events
            .iter()
            .filter(|e| {
                e["type"] == "UserAction"
                    && e["metadata"]["extra"]["process_args"]
                        .as_array()
                        .is_some_and(|a| {
                            a.iter()
                                .any(|x| x.as_str().is_some_and(|s| s.contains(marker)))
                        })
            })
            .collect();
        assert_eq!(actions.len(), 1, "{marker}: one UserAction");
        let action = actions[0];
        assert_eq!(action["subjects"]["loggedAs"], user);
        assert_eq!(action["source"]["value"], ip);
        assert_eq!(action["metadata"]["extra"]["correlation"], "joined");
        let login = events
            .iter()
            .find(|e| {
                e["type"] == "UserLogin"
                    && e["outcome"] == "succeeded"
                    && e["metadata"]["auditId"] == action["metadata"]["auditId"]
            })
            .expect("the action's login");
        assert_eq!(login["subjects"]["loggedAs"], user);
        assert_eq!(login["source"], action["source"], "same source ip and port");
    }
    let carol = events
        .iter()
        .find(|e| {
            e["type"] == "UserLogin"
                && e["subjects"]["loggedAs"] == "sshtrail-carol"
                && e["outcome"] == "succeeded"
        })
        .expect("carol's certificate login");
    assert_eq!(carol["subjects"]["userID"], "carol@sshtrail-test");
}

#[test]
fn hostile_user_names_keep_the_true_source() {
    let events = replay();
    let eve = events
        .iter()
        .find(|e| e["subjects"]["loggedAs"] == "eve from 6.6.6.6 port 4444 ssh2")
        .expect("the hostile attempt");
    assert_eq!(eve["outcome"], "failed");
    assert_eq!(eve["source"]["value"], "127.0.0.1");
    assert_ne!(eve["source"]["extra"]["port"], "4444");
}
