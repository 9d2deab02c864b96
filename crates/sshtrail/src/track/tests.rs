//! The tracker's rules, one test each. Every event any test produces is also validated
//! against the repository's JSON Schema.

use super::facts::{AuditFact, AuditRole, CertIdentity, Login, SshdFact};
use super::{Config, Tracker};
use serde_json::Value;
use sshtrail_event::{Host, Outcome};

const SES: u32 = 29;
const PID: u32 = 12716;

fn tracker() -> Tracker {
    Tracker::new(
        Config::default(),
        Host {
            name: "web-1".into(),
            machine_id: "4f1c0e0d2b6a4c7e9f3a1b2c3d4e5f60".into(),
        },
    )
}

fn login(time_ms: u64) -> Login {
    Login {
        time_ms,
        pid: PID,
        user: "alice".into(),
        method: "publickey".into(),
        ip: "127.0.0.1".into(),
        port: 59145,
        key_type: Some("ED25519".into()),
        fingerprint: Some("SHA256:abc".into()),
        cert: None,
    }
}

fn audit(time_ms: u64, sequence: u64, role: AuditRole) -> AuditFact {
    let mut extra = serde_json::Map::new();
    extra.insert("action".into(), "executed".into());
    extra.insert("sequence".into(), sequence.into());
    AuditFact {
        time_ms,
        logged_at: super::build::rfc3339(time_ms),
        node: None,
        sequence,
        ses: Some(SES),
        role,
        auid_name: Some("alice".into()),
        addr: Some("127.0.0.1".into()),
        outcome: Outcome::Succeeded,
        extra,
    }
}

fn session_start(time_ms: u64) -> AuditFact {
    audit(
        time_ms,
        100,
        AuditRole::SessionStart {
            pid: PID,
            auid: 1010,
            exe: Some("/usr/sbin/sshd".into()),
        },
    )
}

/// Drains events, checks each against the schema, returns them as JSON.
fn events(t: &mut Tracker) -> Vec<Value> {
    let schema: Value =
        serde_json::from_str(include_str!("../../../event/schema/auditevent.schema.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    t.drain()
        .map(|e| {
            let v: Value = serde_json::from_slice(&e.to_line()).unwrap();
            let errors: Vec<String> = validator.iter_errors(&v).map(|e| e.to_string()).collect();
            assert!(errors.is_empty(), "{errors:?} in {v}");
            v
        })
        .collect()
}

fn kinds(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| {
            format!(
                "{}/{}",
                e["type"].as_str().unwrap(),
                e["metadata"]["auditId"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn sshd_first_then_audit_joins_with_the_kernel_session_id() {
    let mut t = tracker();
    t.on_sshd(SshdFact::Accepted(login(1_000)));
    assert!(
        events(&mut t).is_empty(),
        "the login waits for its session id"
    );
    t.on_audit(session_start(1_010));
    t.on_audit(audit(1_020, 101, AuditRole::Action));
    t.on_audit(audit(1_030, 102, AuditRole::SessionEnd { pid: PID }));
    t.on_sshd(SshdFact::SessionClosed {
        time_ms: 1_040,
        pid: PID,
        reason: "disconnected".into(),
    });
    let out = events(&mut t);
    assert_eq!(
        kinds(&out),
        vec![
            "UserLogin/29",
            "UserAction/29",
            "UserAction/29",
            "UserAction/29",
            "UserLogout/29"
        ]
    );
    let action = &out[2];
    assert_eq!(action["subjects"]["loggedAs"], "alice");
    assert_eq!(action["subjects"]["pid"], "12716");
    assert_eq!(action["source"]["value"], "127.0.0.1");
    assert_eq!(action["source"]["extra"]["port"], "59145");
    assert_eq!(action["metadata"]["extra"]["correlation"], "joined");
    assert_eq!(out[4]["data"]["actions"], 3);
    assert_eq!(out[4]["data"]["duration_seconds"], 0.02);
}

#[test]
fn audit_first_holds_events_until_the_login_arrives() {
    let mut t = tracker();
    t.on_audit(session_start(1_000));
    t.on_audit(audit(1_010, 101, AuditRole::Action));
    assert!(events(&mut t).is_empty(), "actions wait for their login");
    t.on_sshd(SshdFact::Accepted(login(990)));
    let out = events(&mut t);
    assert_eq!(
        kinds(&out),
        vec!["UserLogin/29", "UserAction/29", "UserAction/29"]
    );
    assert_eq!(
        out[0]["loggedAt"], "1970-01-01T00:00:00.990Z",
        "source time, not ours"
    );
    assert_eq!(out[2]["metadata"]["extra"]["sequence"], 101);
}

#[test]
fn a_session_whose_login_never_comes_is_attributed_audit_only() {
    let mut t = tracker();
    t.on_audit(session_start(1_000));
    t.on_audit(audit(1_010, 101, AuditRole::Action));
    t.tick(10_999);
    assert!(events(&mut t).is_empty());
    t.tick(11_000);
    t.on_audit(audit(11_010, 102, AuditRole::Action));
    let out = events(&mut t);
    assert_eq!(out.len(), 3);
    for e in &out {
        assert_eq!(e["metadata"]["extra"]["correlation"], "audit-only");
        assert_eq!(e["subjects"]["loggedAs"], "alice");
    }
    assert_eq!(t.stats().giveup_no_sshd_login, 1);
}

#[test]
fn a_login_whose_session_never_comes_is_still_written_and_logged_out() {
    let mut t = tracker();
    t.on_sshd(SshdFact::Accepted(login(1_000)));
    t.tick(11_000);
    t.on_sshd(SshdFact::SessionClosed {
        time_ms: 20_000,
        pid: PID,
        reason: "disconnected".into(),
    });
    let out = events(&mut t);
    assert_eq!(out.len(), 2);
    assert_eq!(out[0]["type"], "UserLogin");
    assert_eq!(out[0]["metadata"]["extra"]["correlation"], "sshd-only");
    assert_eq!(out[1]["type"], "UserLogout");
    assert_eq!(out[0]["metadata"]["auditId"], out[1]["metadata"]["auditId"]);
    assert_eq!(t.stats().giveup_no_audit_login, 1);
}

#[test]
fn the_audit_records_of_the_last_commands_come_before_the_logout() {
    // sshd's disconnect line can overtake the audit records of the session's last
    // commands (the sources are read independently): the logout waits for USER_END.
    let mut t = tracker();
    t.on_sshd(SshdFact::Accepted(login(1_000)));
    t.on_audit(session_start(1_000));
    events(&mut t);
    t.on_sshd(SshdFact::SessionClosed {
        time_ms: 2_000,
        pid: PID,
        reason: "received disconnect".into(),
    });
    assert!(events(&mut t).is_empty(), "the logout waits");
    t.on_audit(audit(1_990, 110, AuditRole::Action));
    t.on_audit(audit(1_995, 111, AuditRole::SessionEnd { pid: PID }));
    let out = events(&mut t);
    assert_eq!(
        kinds(&out),
        vec!["UserAction/29", "UserAction/29", "UserLogout/29"]
    );
    let logout = &out[2];
    assert_eq!(logout["data"]["reason"], "received disconnect");
    assert_eq!(
        logout["loggedAt"], "1970-01-01T00:00:02.000Z",
        "sshd's time"
    );
    assert_eq!(logout["data"]["actions"], 3);
}

#[test]
fn without_the_audit_sides_end_the_logout_is_written_at_the_deadline() {
    let mut t = tracker();
    t.on_sshd(SshdFact::Accepted(login(1_000)));
    t.on_audit(session_start(1_000));
    events(&mut t);
    t.on_sshd(SshdFact::SessionClosed {
        time_ms: 2_000,
        pid: PID,
        reason: "received disconnect".into(),
    });
    t.tick(11_999);
    assert!(events(&mut t).is_empty());
    t.tick(12_000);
    assert_eq!(kinds(&events(&mut t)), vec!["UserLogout/29"]);
}

#[test]
fn logout_is_written_exactly_once() {
    let mut t = tracker();
    t.on_sshd(SshdFact::Accepted(login(1_000)));
    t.on_audit(session_start(1_000));
    t.on_sshd(SshdFact::SessionClosed {
        time_ms: 2_000,
        pid: PID,
        reason: "disconnected".into(),
    });
    t.on_audit(audit(2_001, 110, AuditRole::SessionEnd { pid: PID }));
    t.on_sshd(SshdFact::SessionClosed {
        time_ms: 2_002,
        pid: PID,
        reason: "session closed".into(),
    });
    let out = events(&mut t);
    assert_eq!(out.iter().filter(|e| e["type"] == "UserLogout").count(), 1);
    // A process left behind after logout is still attributed to its login.
    t.on_audit(audit(3_000, 111, AuditRole::Action));
    let late = events(&mut t);
    assert_eq!(late[0]["metadata"]["extra"]["correlation"], "joined");
}

#[test]
fn certificate_logins_carry_the_key_id_as_user_id() {
    let mut t = tracker();
    let mut cert_login = login(1_000);
    cert_login.cert = Some(CertIdentity {
        id: "alice@corp".into(),
        serial: 42,
        ca_key_type: "ED25519".into(),
        ca_fingerprint: "SHA256:ca".into(),
    });
    t.on_sshd(SshdFact::Accepted(cert_login));
    t.on_audit(session_start(1_001));
    let out = events(&mut t);
    assert_eq!(out[0]["subjects"]["userID"], "alice@corp");
    assert_eq!(out[0]["subjects"]["loggedAs"], "alice");
    assert_eq!(out[0]["data"]["cert_serial"], 42);
    assert_eq!(out[1]["subjects"]["userID"], "alice@corp");
}

#[test]
fn events_of_unknown_sessions_are_written_audit_only_at_once() {
    let mut t = tracker();
    t.on_audit(audit(1_000, 5, AuditRole::Action));
    let out = events(&mut t);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0]["metadata"]["extra"]["correlation"], "audit-only");
}

#[test]
fn non_ssh_sessions_are_counted_not_written() {
    let mut t = tracker();
    let mut cron = session_start(1_000);
    cron.role = AuditRole::SessionStart {
        pid: 77,
        auid: 0,
        exe: Some("/usr/sbin/cron".into()),
    };
    t.on_audit(cron);
    t.on_audit(audit(1_001, 101, AuditRole::Action));
    t.finish();
    assert!(events(&mut t).is_empty());
    assert_eq!(t.stats().non_ssh_events, 2);
}

fn failure(reason: &str) -> SshdFact {
    SshdFact::AuthFailure {
        time_ms: 1_000,
        pid: 500,
        user: "eve from 6.6.6.6 port 4444 ssh2".into(),
        ip: Some("127.0.0.1".into()),
        port: Some(40000),
        method: Some("password".into()),
        reason: reason.into(),
    }
}

fn preauth_end(user: Option<&str>) -> SshdFact {
    SshdFact::PreauthEnded {
        time_ms: 1_100,
        pid: 500,
        user: user.map(str::to_string),
        ip: Some("127.0.0.1".into()),
        port: Some(40000),
        reason: "disconnected before authentication".into(),
    }
}

#[test]
fn each_failure_line_is_one_failed_login_and_the_close_adds_none() {
    let mut t = tracker();
    t.on_sshd(failure("failed password"));
    t.on_sshd(failure("failed password"));
    t.on_sshd(preauth_end(Some("eve")));
    let out = events(&mut t);
    assert_eq!(out.len(), 2);
    assert!(out.iter().all(|e| e["outcome"] == "failed"));
    assert_eq!(
        out[0]["subjects"]["loggedAs"],
        "eve from 6.6.6.6 port 4444 ssh2"
    );
    assert_eq!(out[0]["source"]["value"], "127.0.0.1");
    assert_ne!(out[0]["metadata"]["auditId"], out[1]["metadata"]["auditId"]);
}

#[test]
fn a_connection_ending_without_failure_lines_is_one_failed_login() {
    let mut t = tracker();
    t.on_sshd(SshdFact::InvalidUser {
        time_ms: 1_000,
        pid: 500,
        user: "admin".into(),
        ip: Some("127.0.0.1".into()),
        port: Some(40000),
    });
    t.on_sshd(preauth_end(None));
    let out = events(&mut t);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0]["data"]["reason"], "invalid user");
    assert_eq!(out[0]["subjects"]["loggedAs"], "admin");

    t.on_sshd(preauth_end(Some("bob")));
    let out = events(&mut t);
    assert_eq!(
        out[0]["data"]["reason"],
        "disconnected before authentication"
    );

    // A scanner that never names a user is noise, not a login attempt.
    t.on_sshd(preauth_end(None));
    assert!(events(&mut t).is_empty());
}

#[test]
fn held_events_are_bounded() {
    let mut t = Tracker::new(
        Config {
            max_buffered_per_session: 2,
            ..Config::default()
        },
        Host::default(),
    );
    t.on_audit(session_start(1_000));
    for seq in 0..5 {
        t.on_audit(audit(1_001, 200 + seq, AuditRole::Action));
    }
    assert_eq!(
        t.stats().giveup_buffer_full,
        4,
        "start + 1 held, the rest released"
    );
    assert_eq!(t.drain().count(), 4);
}

#[test]
fn sudo_closing_its_own_pam_session_does_not_end_the_ssh_session() {
    let mut t = tracker();
    t.on_sshd(SshdFact::Accepted(login(1_000)));
    t.on_audit(session_start(1_000));
    t.on_audit(audit(1_500, 120, AuditRole::SessionEnd { pid: 4242 }));
    t.on_audit(audit(1_600, 121, AuditRole::Action));
    let out = events(&mut t);
    assert!(out.iter().all(|e| e["type"] != "UserLogout"));
    assert_eq!(
        out.last().unwrap()["metadata"]["extra"]["correlation"],
        "joined"
    );
}

#[test]
fn a_session_that_ends_before_its_login_line_arrives_is_still_joined() {
    // Live, journald can deliver sshd's lines after the audit log has the whole session.
    let mut t = tracker();
    t.on_audit(session_start(1_000));
    t.on_audit(audit(1_010, 101, AuditRole::Action));
    t.on_audit(audit(1_020, 102, AuditRole::SessionEnd { pid: PID }));
    assert!(events(&mut t).is_empty(), "everything waits for the login");
    t.on_sshd(SshdFact::Accepted(login(990)));
    let out = events(&mut t);
    assert_eq!(
        kinds(&out),
        vec![
            "UserLogin/29",
            "UserAction/29",
            "UserAction/29",
            "UserAction/29",
            "UserLogout/29"
        ]
    );
    assert!(out[1..4]
        .iter()
        .all(|e| e["metadata"]["extra"]["correlation"] == "joined"));
}

#[test]
fn a_session_begun_before_a_restart_is_still_attributed_after_it() {
    let mut before = tracker();
    before.on_sshd(SshdFact::Accepted(login(1_000)));
    before.on_audit(session_start(1_000));
    before.on_audit(audit(1_010, 101, AuditRole::Action));
    events(&mut before);
    let snapshot = serde_json::to_string(&before.snapshot()).unwrap();
    drop(before);

    let mut after = tracker();
    after
        .restore(serde_json::from_str(&snapshot).unwrap())
        .unwrap();
    after.on_audit(audit(5_000, 102, AuditRole::Action));
    after.on_audit(audit(5_010, 103, AuditRole::SessionEnd { pid: PID }));
    let out = events(&mut after);
    assert_eq!(
        kinds(&out),
        vec!["UserAction/29", "UserAction/29", "UserLogout/29"]
    );
    assert_eq!(out[0]["metadata"]["extra"]["correlation"], "joined");
    assert_eq!(out[0]["source"]["extra"]["port"], "59145");
    assert_eq!(
        out[2]["data"]["actions"], 4,
        "counts carry over the restart"
    );
    assert!(tracker()
        .restore(serde_json::json!({"nonsense": 1}))
        .is_err());
}

#[test]
fn an_audit_only_session_survives_a_restart_too() {
    // Its source has no port (nothing from sshd): the snapshot must still read back.
    let mut before = tracker();
    before.on_audit(session_start(1_000));
    before.on_audit(audit(1_010, 101, AuditRole::Action));
    before.tick(11_000);
    assert_eq!(events(&mut before).len(), 2);
    let snapshot = serde_json::to_string(&before.snapshot()).unwrap();

    let mut after = tracker();
    after
        .restore(serde_json::from_str(&snapshot).unwrap())
        .expect("an audit-only session's snapshot reads back");
    after.on_audit(audit(12_000, 102, AuditRole::Action));
    after.on_audit(audit(12_010, 103, AuditRole::SessionEnd { pid: PID }));
    let out = events(&mut after);
    assert_eq!(
        kinds(&out),
        vec!["UserAction/29", "UserAction/29", "UserLogout/29"]
    );
    assert_eq!(out[0]["metadata"]["extra"]["correlation"], "audit-only");
}

#[test]
fn a_reused_session_id_settles_the_old_session_instead_of_dropping_it() {
    // Session ids restart after a reboot; a burst of events can also bring the next
    // LOGIN for an id before any deadline passed.
    let mut t = tracker();
    for round in 0..3u64 {
        let base = 1_000 + round * 100;
        t.on_audit(session_start(base));
        t.on_audit(audit(base + 1, 200 + round * 10, AuditRole::Action));
        t.on_audit(audit(
            base + 2,
            201 + round * 10,
            AuditRole::SessionEnd { pid: PID },
        ));
    }
    t.finish();
    let out = events(&mut t);
    let count = |kind: &str| out.iter().filter(|e| e["type"] == kind).count();
    assert_eq!(count("UserAction"), 9, "every action of every round");
    assert_eq!(count("UserLogout"), 3, "one logout per round");
}

#[test]
fn a_reboot_ends_every_session_of_the_old_boot_once() {
    // Before the reboot: a joined session with a command, a login whose kernel session
    // never came, and a session already ended.
    let mut before = tracker();
    before.on_sshd(SshdFact::Accepted(login(1_000)));
    before.on_audit(session_start(1_000));
    before.on_audit(audit(1_010, 101, AuditRole::Action));
    let mut lonely = login(1_100);
    lonely.pid = PID + 1;
    lonely.user = "bob".into();
    before.on_sshd(SshdFact::Accepted(lonely));
    events(&mut before);
    let snapshot = serde_json::to_string(&before.snapshot()).unwrap();

    let mut after = tracker();
    after
        .restore(serde_json::from_str(&snapshot).unwrap())
        .unwrap();
    assert_eq!(after.end_all(2_000, "host rebooted"), 2);
    let out = events(&mut after);
    let logouts: Vec<&Value> = out.iter().filter(|e| e["type"] == "UserLogout").collect();
    assert_eq!(logouts.len(), 2, "{out:#?}");
    assert_eq!(logouts[0]["metadata"]["auditId"], "29");
    assert_eq!(logouts[0]["subjects"]["loggedAs"], "alice");
    assert_eq!(logouts[0]["data"]["reason"], "host rebooted");
    assert_eq!(logouts[0]["data"]["actions"], 2);
    assert_eq!(logouts[0]["data"]["duration_seconds"], 1.0);
    assert_eq!(logouts[1]["subjects"]["loggedAs"], "bob");
    assert_eq!(logouts[1]["data"]["reason"], "host rebooted");
    // Nothing of the old boot is left to end twice, and the new boot's session 29 is
    // a session of its own.
    assert_eq!(after.end_all(3_000, "host rebooted"), 0);
    after.on_audit(session_start(4_000));
    after.on_audit(audit(4_010, 300, AuditRole::Action));
    after.tick(20_000);
    let out = events(&mut after);
    assert!(out.iter().all(|e| e["type"] != "UserLogout"), "{out:#?}");
    let action = out.iter().find(|e| e["type"] == "UserAction").unwrap();
    assert_eq!(action["metadata"]["extra"]["correlation"], "audit-only");
}

#[test]
fn finish_with_writes_what_finish_and_drain_would() {
    // Several sessions and a login still waiting at the end of input. Session order at
    // give-up follows each tracker's own hash order, so events are compared per session.
    let run = |streamed: bool| {
        let mut t = tracker();
        for i in 0..20u32 {
            let mut start = session_start(1_000 + u64::from(i));
            start.ses = Some(SES + i);
            start.role = AuditRole::SessionStart {
                pid: PID + i,
                auid: 1010,
                exe: Some("/usr/sbin/sshd".into()),
            };
            t.on_audit(start);
            let mut action = audit(1_100 + u64::from(i), 200 + u64::from(i), AuditRole::Action);
            action.ses = Some(SES + i);
            t.on_audit(action);
        }
        let mut waiting = login(2_000);
        waiting.pid = 99;
        t.on_sshd(SshdFact::Accepted(waiting));
        let mut lines: Vec<Vec<u8>> = Vec::new();
        if streamed {
            t.finish_with(|event| {
                lines.push(event.to_line());
                Ok::<(), ()>(())
            })
            .unwrap();
        } else {
            t.finish();
            lines.extend(t.drain().map(|event| event.to_line()));
        }
        assert_eq!(t.drain().count(), 0);
        let mut by_session: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        for line in &lines {
            let value: Value = serde_json::from_slice(line).unwrap();
            let id = value["metadata"]["auditId"]
                .as_str()
                .unwrap_or("")
                .to_string();
            let key = if value["type"] == "UserLogin" && id.len() > 20 {
                "sshd-only".to_string()
            } else {
                id
            };
            by_session.entry(key).or_default().push(
                String::from_utf8_lossy(line)
                    .replace(value["metadata"]["auditId"].as_str().unwrap_or(""), "ID"),
            );
        }
        (lines.len(), by_session, t.stats())
    };
    let (n, streamed, stats) = run(true);
    assert_eq!(n, 41);
    assert_eq!((n, streamed, stats), run(false));
}
