//! `sshtrail replay` on the bundled sample (examples/, a real auditd + journald + sshd
//! run recorded by scripts/capture-examples): every login is joined to its kernel
//! session, every marked command is one UserAction of its own login, every event is valid
//! against the schema.

use serde_json::Value;
use std::process::Command;

fn replay() -> Vec<Value> {
    replay_with(&[])
}

/// `sshtrail replay ARGS…`: its events, one JSON value a line.
fn replay_with(args: &[&std::ffi::OsStr]) -> Vec<Value> {
    let output = Command::new(env!("CARGO_BIN_EXE_sshtrail"))
        .arg("replay")
        .args(args)
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

/// Fabricated from real records: the sample's first LOGIN event and the first exec of
/// that session, copied into `sessions` sessions (new ses, pid and serials, same times).
/// Without sshd lines every session is given up at the end of the replay at the same
/// instant: the case where the tracker's map order used to decide the output order.
fn many_sessions_log(sessions: u32) -> String {
    let text = include_str!("../../../examples/sshd-session.audit.log");
    let serial_of = |line: &str| -> Option<String> {
        let start = line.find("msg=audit(")? + "msg=audit(".len();
        let end = start + line[start..].find(')')?;
        let (_, serial) = line[start..end].split_once(':')?;
        Some(serial.to_string())
    };
    let login = text
        .lines()
        .find(|l| l.starts_with("type=LOGIN "))
        .expect("a LOGIN record");
    let login_serial = serial_of(login).expect("serial");
    let ses = login
        .split([' ', '\x1d'])
        .find_map(|f| f.strip_prefix("ses="))
        .expect("ses=")
        .to_string();
    let exec_serial = text
        .lines()
        .find(|l| {
            l.starts_with("type=SYSCALL ")
                && l.contains(" syscall=59 ")
                && l.contains(&format!(" ses={ses} "))
        })
        .and_then(serial_of)
        .expect("an exec of the session");
    let event = |serial: &str| -> Vec<&str> {
        text.lines()
            .filter(|l| serial_of(l).as_deref() == Some(serial))
            .collect()
    };
    let mut out = String::new();
    let mut serial = 1u64;
    for i in 0..sessions {
        for lines in [event(&login_serial), event(&exec_serial)] {
            for line in lines {
                let (head, rest) = line.split_once(')').expect("header");
                let head = head.rsplit_once(':').expect("serial").0;
                let rest = rest
                    .replace(&format!(" ses={ses} "), &format!(" ses={} ", 5000 + i))
                    .replace(
                        &format!(" ses={ses}\u{1d}"),
                        &format!(" ses={}\u{1d}", 5000 + i),
                    );
                out.push_str(&format!("{head}:{serial}){rest}\n"));
            }
            serial += 1;
        }
    }
    out
}

#[test]
fn a_replay_writes_the_same_events_in_the_same_order_every_time() {
    let dir = std::env::temp_dir().join(format!("sshtrail-order-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let log = dir.join("audit.log");
    std::fs::write(&log, many_sessions_log(64)).expect("write log");
    let run = || {
        let args = [
            "--audit-log".as_ref(),
            log.as_os_str(),
            "--sshd-log".as_ref(),
            "/dev/null".as_ref(),
        ];
        // Random ids (SystemActions, logins never seen by the kernel) differ by design.
        replay_with(&args)
            .into_iter()
            .map(|mut event| {
                let id = &mut event["metadata"]["auditId"];
                if id.as_str().is_some_and(|s| s.parse::<u32>().is_err()) {
                    *id = Value::from("random");
                }
                event.to_string()
            })
            .collect::<Vec<_>>()
    };
    let first = run();
    let actions = first
        .iter()
        .filter(|l| l.contains("\"UserAction\""))
        .count();
    assert!(actions >= 64, "{actions} UserActions from 64 sessions");
    for _ in 0..3 {
        assert_eq!(run(), first);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `metadata.eventId`: every event has one, no two share one, and a second replay of the
/// same logs gives every event the same id (what lets a consumer drop repeats).
#[test]
fn every_event_has_a_stable_id_of_its_own() {
    let ids = |events: &[Value]| -> Vec<String> {
        events
            .iter()
            .map(|e| {
                let id = e["metadata"]["eventId"].as_str().expect("an eventId");
                assert!(
                    id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()),
                    "{id}"
                );
                id.to_string()
            })
            .collect()
    };
    let first = replay();
    let first_ids = ids(&first);
    let unique: std::collections::BTreeSet<&String> = first_ids.iter().collect();
    assert_eq!(unique.len(), first_ids.len(), "two events share an id");
    assert_eq!(ids(&replay()), first_ids, "a second replay gives other ids");
    // The generated auditIds (failed logins, the trail's own reports) are stable too.
    let audit_ids = |events: &[Value]| -> Vec<String> {
        events
            .iter()
            .map(|e| e["metadata"]["auditId"].to_string())
            .collect()
    };
    assert_eq!(audit_ids(&replay()), audit_ids(&first));
}
