//! The tracker's rules, one test each. Every event any test produces is also validated
//! against the repository's JSON Schema.
//!
//! [`Feed`] hands the tracker its facts the way the pipeline does: before each fact,
//! the tracker hears that the fact's side has delivered up to the fact's time.

use super::facts::{AuditFact, AuditRole, Login, SshdFact, SshdWhat};
use super::progress::{Progress, SideProgress};
use super::{Config, Tracker};
use serde_json::Value;
use sshtrail_event::{ActionDetail, Certificate, Host, Outcome};

const SES: u32 = 29;
const PID: u32 = 12716;

/// The tracker with its two sides' progress, as the pipeline keeps it.
struct Feed {
    t: Tracker,
    progress: Progress,
}

impl Feed {
    fn new() -> Feed {
        Feed::with(Config::default())
    }

    fn with(config: Config) -> Feed {
        Feed {
            t: Tracker::new(config),
            progress: Progress::default(),
        }
    }

    fn advance(&mut self) {
        self.t.advance(self.progress);
    }

    fn audit(&mut self, fact: AuditFact) {
        self.progress.audit.watermark_ms = self.progress.audit.watermark_ms.max(fact.time_ms);
        self.progress.audit.idle_since_ms = None;
        self.advance();
        self.t.on_audit(fact);
    }

    fn sshd(&mut self, fact: SshdFact) {
        self.progress.sshd.watermark_ms = self.progress.sshd.watermark_ms.max(fact.time_ms);
        self.progress.sshd.idle_since_ms = None;
        self.advance();
        self.t.on_sshd(fact);
    }

    /// The audit side has delivered everything before `time_ms` (other facts of it).
    fn audit_passes(&mut self, time_ms: u64) {
        self.progress.audit.watermark_ms = time_ms;
        self.advance();
    }

    fn sshd_passes(&mut self, time_ms: u64) {
        self.progress.sshd.watermark_ms = time_ms;
        self.advance();
    }

    fn both_pass(&mut self, time_ms: u64) {
        self.progress.audit.watermark_ms = time_ms;
        self.progress.sshd.watermark_ms = time_ms;
        self.advance();
    }

    fn side(&mut self, audit: bool) -> &mut SideProgress {
        if audit {
            &mut self.progress.audit
        } else {
            &mut self.progress.sshd
        }
    }

    /// Wall clock `now`; the given side caught up (idle) since `since`.
    fn idle(&mut self, audit: bool, since: u64, now: u64) {
        self.side(audit).idle_since_ms = Some(since);
        self.progress.wall_ms = now;
        self.advance();
    }

    fn wall(&mut self, now: u64) {
        self.progress.wall_ms = now;
        self.advance();
    }

    fn finish(&mut self) {
        self.t.finish();
    }

    /// Drains events, checks each against the schema, returns them as JSON.
    fn events(&mut self) -> Vec<Value> {
        events(&mut self.t)
    }
}

fn host() -> Host {
    Host {
        name: "web-1".into(),
        machine_id: "4f1c0e0d2b6a4c7e9f3a1b2c3d4e5f60".into(),
    }
}

fn login_at(time_ms: u64) -> SshdFact {
    login_of(time_ms, PID, "alice")
}

fn login_of(time_ms: u64, pid: u32, user: &str) -> SshdFact {
    SshdFact {
        time_ms,
        resolution_ms: 1,
        pid,
        ses: None,
        what: SshdWhat::Accepted(Login {
            user: user.into(),
            method: "publickey".into(),
            ip: "127.0.0.1".into(),
            port: 59145,
            key_type: Some("ED25519".into()),
            fingerprint: Some("SHA256:abc".into()),
            cert: None,
        }),
    }
}

fn closed(time_ms: u64, reason: &str) -> SshdFact {
    SshdFact {
        time_ms,
        resolution_ms: 1,
        pid: PID,
        ses: None,
        what: SshdWhat::SessionClosed {
            reason: reason.into(),
        },
    }
}

fn audit(time_ms: u64, sequence: u64, role: AuditRole) -> AuditFact {
    AuditFact {
        time_ms,
        node: None,
        ses: Some(SES),
        role,
        auid_name: Some("alice".into()),
        addr: Some("127.0.0.1".into()),
        outcome: Outcome::Succeeded,
        exit: None,
        detail: ActionDetail {
            action: "executed".into(),
            sequence,
            ..ActionDetail::default()
        },
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

fn session_end(time_ms: u64, sequence: u64) -> AuditFact {
    audit(time_ms, sequence, AuditRole::SessionEnd { pid: PID })
}

/// Drains events, checks each against the schema, returns them as JSON.
fn events(t: &mut Tracker) -> Vec<Value> {
    let schema: Value = serde_json::from_str(include_str!(
        "../../../../event/schema/auditevent.schema.json"
    ))
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    t.drain()
        .map(|e| {
            let v: Value = serde_json::from_slice(&e.to_line(&host())).unwrap();
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
    let mut f = Feed::new();
    f.sshd(login_at(1_000));
    assert!(f.events().is_empty(), "the login waits for its session id");
    f.audit(session_start(1_010));
    f.audit(audit(1_020, 101, AuditRole::Action));
    f.audit(session_end(1_030, 102));
    f.sshd(closed(1_040, "disconnected"));
    let out = f.events();
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
    // The earlier of the two ends: the session's USER_END.
    assert_eq!(out[4]["data"]["reason"], "session ended (USER_END)");
    assert_eq!(out[4]["data"]["actions"], 3);
    assert_eq!(out[4]["data"]["duration_seconds"], 0.02);
}

#[test]
fn audit_first_holds_events_until_the_login_arrives() {
    let mut f = Feed::new();
    f.audit(session_start(1_000));
    f.audit(audit(1_010, 101, AuditRole::Action));
    assert!(f.events().is_empty(), "actions wait for their login");
    f.sshd(login_at(990));
    let out = f.events();
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
fn a_session_whose_login_never_comes_is_attributed_audit_only_once_sshd_shows_it() {
    let mut f = Feed::new();
    f.audit(session_start(1_000));
    f.audit(audit(1_010, 101, AuditRole::Action));
    // Hours of wall clock while sshd's side is still behind: the session keeps waiting.
    f.wall(10_000_000);
    f.sshd_passes(11_000);
    assert!(f.events().is_empty(), "sshd has not shown it yet");
    f.sshd_passes(11_001);
    assert!(
        f.events().is_empty(),
        "the audit side must have shown its own records up to then too"
    );
    f.audit(audit(11_010, 102, AuditRole::Action));
    let out = f.events();
    assert_eq!(out.len(), 3);
    for e in &out {
        assert_eq!(e["metadata"]["extra"]["correlation"], "audit-only");
        assert_eq!(e["subjects"]["loggedAs"], "alice");
        assert_eq!(e["source"]["value"], "127.0.0.1", "from the PAM records");
    }
    assert_eq!(f.t.stats().giveup_no_sshd_login, 1);
}

#[test]
fn a_quiet_caught_up_side_ends_waits_after_the_grace_not_before() {
    let mut f = Feed::new();
    f.wall(100_000);
    f.audit(session_start(1_000));
    f.audit(audit(1_010, 101, AuditRole::Action));
    // sshd is caught up (nothing pending) since 99 s; the wait began at 100 s.
    f.idle(false, 99_000, 104_999);
    assert!(f.events().is_empty(), "within the grace");
    f.idle(true, 100_000, 105_000);
    let out = f.events();
    assert_eq!(out.len(), 2, "{out:#?}");
    assert!(out
        .iter()
        .all(|e| e["metadata"]["extra"]["correlation"] == "audit-only"));
}

#[test]
fn a_login_whose_session_never_comes_is_still_written_and_logged_out() {
    let mut f = Feed::new();
    f.sshd(login_at(1_000));
    f.audit_passes(11_000);
    assert!(f.events().is_empty());
    f.audit_passes(11_001);
    f.sshd(closed(20_000, "disconnected"));
    let out = f.events();
    assert_eq!(out.len(), 2);
    assert_eq!(out[0]["type"], "UserLogin");
    assert_eq!(out[0]["metadata"]["extra"]["correlation"], "sshd-only");
    assert_eq!(out[1]["type"], "UserLogout");
    assert_eq!(out[0]["metadata"]["auditId"], out[1]["metadata"]["auditId"]);
    assert_eq!(f.t.stats().giveup_no_audit_login, 1);
}

#[test]
fn a_whole_session_logged_before_its_login_record_is_still_joined() {
    // RFC 3164 syslog: every line of a short session carries the same whole second,
    // so the whole session, `session closed` included, sorts before its LOGIN record.
    let mut f = Feed::new();
    let coarse = |mut fact: SshdFact| {
        fact.resolution_ms = 1000;
        fact
    };
    f.sshd(coarse(login_at(31_000)));
    f.sshd(coarse(closed(31_000, "received disconnect")));
    assert!(f.events().is_empty());
    f.audit(session_start(31_337));
    f.audit(audit(31_400, 101, AuditRole::Action));
    f.audit(session_end(31_950, 102));
    let out = f.events();
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
    let logout = &out[4];
    assert_eq!(logout["data"]["reason"], "received disconnect");
    assert_eq!(
        logout["loggedAt"], "1970-01-01T00:00:31.950Z",
        "a whole second that covers USER_END takes its precise time"
    );
    assert!(out[1..4]
        .iter()
        .all(|e| e["metadata"]["extra"]["correlation"] == "joined"));
}

#[test]
fn the_audit_records_of_the_last_commands_come_before_the_logout() {
    // sshd's disconnect line can overtake the audit records of the session's last
    // commands (the sources are read independently): the logout waits for USER_END.
    let mut f = Feed::new();
    f.sshd(login_at(1_000));
    f.audit(session_start(1_000));
    f.events();
    f.sshd(closed(2_000, "received disconnect"));
    assert!(f.events().is_empty(), "the logout waits");
    f.audit(audit(1_990, 110, AuditRole::Action));
    f.audit(session_end(1_995, 111));
    let out = f.events();
    assert_eq!(
        kinds(&out),
        vec!["UserAction/29", "UserAction/29", "UserLogout/29"]
    );
    let logout = &out[2];
    assert_eq!(logout["data"]["reason"], "session ended (USER_END)");
    assert_eq!(
        logout["loggedAt"], "1970-01-01T00:00:01.995Z",
        "the earlier end"
    );
    assert_eq!(logout["data"]["actions"], 3);
}

#[test]
fn without_the_audit_sides_end_the_logout_comes_once_the_audit_side_passed_it() {
    let mut f = Feed::new();
    f.sshd(login_at(1_000));
    f.audit(session_start(1_000));
    f.events();
    f.sshd(closed(2_000, "received disconnect"));
    f.audit_passes(12_000);
    assert!(f.events().is_empty());
    f.audit_passes(12_001);
    let out = f.events();
    assert_eq!(kinds(&out), vec!["UserLogout/29"]);
    assert_eq!(out[0]["data"]["reason"], "received disconnect");
}

#[test]
fn what_follows_user_end_comes_after_the_logout() {
    let mut f = Feed::new();
    f.sshd(login_at(1_000));
    f.audit(session_start(1_000));
    f.audit(session_end(1_500, 101));
    // CRED_DISP and a process left behind, before sshd's close line arrives.
    f.audit(audit(1_501, 102, AuditRole::Action));
    assert_eq!(
        kinds(&f.events()),
        vec!["UserLogin/29", "UserAction/29", "UserAction/29"]
    );
    f.sshd(closed(1_490, "disconnected"));
    let out = f.events();
    assert_eq!(kinds(&out), vec!["UserLogout/29", "UserAction/29"]);
    assert_eq!(
        out[0]["data"]["reason"], "disconnected",
        "sshd's end was earlier"
    );
    assert_eq!(out[0]["data"]["actions"], 2);
    assert_eq!(out[1]["metadata"]["extra"]["sequence"], 102);
}

#[test]
fn logout_is_written_exactly_once() {
    let mut f = Feed::new();
    f.sshd(login_at(1_000));
    f.audit(session_start(1_000));
    f.sshd(closed(2_000, "disconnected"));
    f.audit(session_end(2_001, 110));
    f.sshd(closed(2_002, "session closed"));
    let out = f.events();
    assert_eq!(out.iter().filter(|e| e["type"] == "UserLogout").count(), 1);
    // A process left behind after logout is still attributed to its login.
    f.audit(audit(3_000, 111, AuditRole::Action));
    let late = f.events();
    assert_eq!(late[0]["metadata"]["extra"]["correlation"], "joined");
    f.finish();
    assert!(f.events().is_empty());
}

#[test]
fn certificate_logins_carry_the_key_id_as_user_id() {
    let mut f = Feed::new();
    let mut cert_login = login_at(1_000);
    if let SshdWhat::Accepted(login) = &mut cert_login.what {
        login.cert = Some(Certificate {
            id: "alice@corp".into(),
            serial: 42,
            ca_key_type: "ED25519".into(),
            ca_fingerprint: "SHA256:ca".into(),
        });
    }
    f.sshd(cert_login);
    f.audit(session_start(1_001));
    let out = f.events();
    assert_eq!(out[0]["subjects"]["userID"], "alice@corp");
    assert_eq!(out[0]["subjects"]["loggedAs"], "alice");
    assert_eq!(out[0]["data"]["cert_serial"], 42);
    assert_eq!(out[1]["subjects"]["userID"], "alice@corp");
}

#[test]
fn events_of_unknown_sessions_are_written_audit_only_at_once() {
    let mut f = Feed::new();
    f.audit(audit(1_000, 5, AuditRole::Action));
    let out = f.events();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0]["metadata"]["extra"]["correlation"], "audit-only");
}

#[test]
fn non_ssh_sessions_are_counted_not_written() {
    let mut f = Feed::new();
    let mut cron = session_start(1_000);
    cron.role = AuditRole::SessionStart {
        pid: 77,
        auid: 0,
        exe: Some("/usr/sbin/cron".into()),
    };
    f.audit(cron);
    f.audit(audit(1_001, 101, AuditRole::Action));
    f.finish();
    assert!(f.events().is_empty());
    assert_eq!(f.t.stats().non_ssh_events, 2);
}

fn failure(reason: &str) -> SshdFact {
    SshdFact {
        time_ms: 1_000,
        resolution_ms: 1,
        pid: 500,
        ses: None,
        what: SshdWhat::AuthFailure {
            user: "eve from 6.6.6.6 port 4444 ssh2".into(),
            ip: Some("127.0.0.1".into()),
            port: Some(40000),
            method: Some("password".into()),
            reason: reason.into(),
        },
    }
}

fn preauth_end(user: Option<&str>) -> SshdFact {
    SshdFact {
        time_ms: 1_100,
        resolution_ms: 1,
        pid: 500,
        ses: None,
        what: SshdWhat::PreauthEnded {
            user: user.map(str::to_string),
            ip: Some("127.0.0.1".into()),
            port: Some(40000),
            reason: "disconnected before authentication".into(),
        },
    }
}

#[test]
fn each_failure_line_is_one_failed_login_and_the_close_adds_none() {
    let mut f = Feed::new();
    f.sshd(failure("failed password"));
    f.sshd(failure("failed password"));
    f.sshd(preauth_end(Some("eve")));
    let out = f.events();
    assert_eq!(out.len(), 2);
    assert!(out.iter().all(|e| e["outcome"] == "failed"));
    assert_eq!(
        out[0]["subjects"]["loggedAs"],
        "eve from 6.6.6.6 port 4444 ssh2"
    );
    assert_eq!(out[0]["source"]["value"], "127.0.0.1");
    // The auditId is derived from the line, so two identical lines share it; each is
    // still its own event, with its own eventId (the id's repeat ordinal).
    assert_eq!(out[0]["metadata"]["auditId"], out[1]["metadata"]["auditId"]);
}

#[test]
fn a_connection_ending_without_failure_lines_is_one_failed_login() {
    let mut f = Feed::new();
    f.sshd(SshdFact {
        time_ms: 1_000,
        resolution_ms: 1,
        pid: 500,
        ses: None,
        what: SshdWhat::InvalidUser {
            user: "admin".into(),
        },
    });
    f.sshd(preauth_end(None));
    let out = f.events();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0]["data"]["reason"], "invalid user");
    assert_eq!(out[0]["subjects"]["loggedAs"], "admin");

    f.sshd(preauth_end(Some("bob")));
    let out = f.events();
    assert_eq!(
        out[0]["data"]["reason"],
        "disconnected before authentication"
    );

    // A scanner that never names a user is noise, not a login attempt.
    f.sshd(preauth_end(None));
    assert!(f.events().is_empty());
}

#[test]
fn held_events_are_bounded() {
    let mut f = Feed::with(Config {
        max_buffered_per_session: 2,
        ..Config::default()
    });
    f.audit(session_start(1_000));
    for seq in 0..5 {
        f.audit(audit(1_001, 200 + seq, AuditRole::Action));
    }
    assert_eq!(
        f.t.stats().giveup_buffer_full,
        4,
        "start + 1 held, the rest released"
    );
    assert_eq!(f.t.drain().count(), 4);
}

#[test]
fn sudo_closing_its_own_pam_session_does_not_end_the_ssh_session() {
    let mut f = Feed::new();
    f.sshd(login_at(1_000));
    f.audit(session_start(1_000));
    f.audit(audit(1_500, 120, AuditRole::SessionEnd { pid: 4242 }));
    f.audit(audit(1_600, 121, AuditRole::Action));
    let out = f.events();
    assert!(out.iter().all(|e| e["type"] != "UserLogout"));
    assert_eq!(
        out.last().unwrap()["metadata"]["extra"]["correlation"],
        "joined"
    );
}

#[test]
fn a_session_that_ends_before_its_login_line_arrives_is_still_joined() {
    // Live, journald can deliver sshd's lines after the audit log has the whole session.
    let mut f = Feed::new();
    f.audit(session_start(1_000));
    f.audit(audit(1_010, 101, AuditRole::Action));
    f.audit(session_end(1_020, 102));
    assert!(f.events().is_empty(), "everything waits for the login");
    f.sshd(login_at(990));
    f.sshd(closed(1_030, "disconnected"));
    let out = f.events();
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
    let mut before = Feed::new();
    before.sshd(login_at(1_000));
    before.audit(session_start(1_000));
    before.audit(audit(1_010, 101, AuditRole::Action));
    before.events();
    let snapshot = serde_json::to_string(&before.t.snapshot()).unwrap();
    drop(before);

    let mut after = Feed::new();
    after
        .t
        .restore(serde_json::from_str(&snapshot).unwrap())
        .unwrap();
    after.audit(audit(5_000, 102, AuditRole::Action));
    after.audit(session_end(5_010, 103));
    after.sshd(closed(5_020, "disconnected"));
    let out = after.events();
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
    assert!(Tracker::new(Config::default())
        .restore(serde_json::json!({"nonsense": 1}))
        .is_err());
}

#[test]
fn the_json_snapshot_the_daemon_saves_restores_as_the_value_one_does() {
    let mut before = Feed::new();
    before.sshd(login_at(1_000));
    before.audit(session_start(1_000));
    // Held for its login's join: buffered facts are in the snapshot too.
    before.audit(audit(1_010, 101, AuditRole::Action));
    let text = before.t.snapshot_json();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(text.get()).unwrap(),
        before.t.snapshot()
    );
    let mut from_text = Feed::new();
    from_text.t.restore_json(&text).unwrap();
    let mut from_value = Feed::new();
    from_value.t.restore(before.t.snapshot()).unwrap();
    assert_eq!(from_text.t.snapshot(), from_value.t.snapshot());
    for feed in [&mut from_text, &mut from_value] {
        feed.audit(audit(5_000, 102, AuditRole::Action));
        feed.audit(session_end(5_010, 103));
        feed.sshd(closed(5_020, "disconnected"));
    }
    assert_eq!(from_text.events(), from_value.events());
    let null = serde_json::value::RawValue::NULL;
    assert!(Tracker::new(Config::default()).restore_json(null).is_ok());
    let nonsense = serde_json::value::to_raw_value(&serde_json::json!({"nonsense": 1})).unwrap();
    assert!(Tracker::new(Config::default())
        .restore_json(&nonsense)
        .is_err());
}

#[test]
fn waits_restored_after_downtime_end_by_the_sources_not_by_the_hours_that_passed() {
    // The daemon was down for hours with a session's audit side read but not its login.
    let mut before = Feed::new();
    before.wall(1_000);
    before.audit(session_start(1_000));
    before.audit(audit(1_010, 101, AuditRole::Action));
    let snapshot = serde_json::to_string(&before.t.snapshot()).unwrap();

    let mut after = Feed::new();
    after
        .t
        .restore(serde_json::from_str(&snapshot).unwrap())
        .unwrap();
    // Started again hours later: the sources are behind, catching up.
    after.wall(7_200_000);
    after.audit(audit(1_020, 102, AuditRole::Action));
    assert!(
        after.events().is_empty(),
        "still waiting for sshd's backlog"
    );
    after.sshd(login_at(990));
    let out = after.events();
    assert_eq!(out.len(), 4, "{out:#?}");
    assert!(out
        .iter()
        .skip(1)
        .all(|e| e["metadata"]["extra"]["correlation"] == "joined"));
}

#[test]
fn an_audit_only_session_survives_a_restart_too() {
    // Its source has no port (nothing from sshd): the snapshot must still read back.
    let mut before = Feed::new();
    before.audit(session_start(1_000));
    before.audit(audit(1_010, 101, AuditRole::Action));
    before.both_pass(11_001);
    assert_eq!(before.events().len(), 2);
    let snapshot = serde_json::to_string(&before.t.snapshot()).unwrap();

    let mut after = Feed::new();
    after
        .t
        .restore(serde_json::from_str(&snapshot).unwrap())
        .expect("an audit-only session's snapshot reads back");
    after.audit(audit(12_000, 102, AuditRole::Action));
    after.audit(session_end(12_010, 103));
    after.sshd_passes(30_000);
    let out = after.events();
    assert_eq!(
        kinds(&out),
        vec!["UserAction/29", "UserAction/29", "UserLogout/29"]
    );
    assert_eq!(out[0]["metadata"]["extra"]["correlation"], "audit-only");
}

#[test]
fn a_reused_session_id_settles_the_old_session_instead_of_dropping_it() {
    // Session ids restart after a reboot; a burst of events can also bring the next
    // LOGIN for an id before any wait ended.
    let mut f = Feed::new();
    for round in 0..3u64 {
        let base = 1_000 + round * 100;
        f.audit(session_start(base));
        f.audit(audit(base + 1, 200 + round * 10, AuditRole::Action));
        f.audit(session_end(base + 2, 201 + round * 10));
    }
    f.finish();
    let out = f.events();
    let count = |kind: &str| out.iter().filter(|e| e["type"] == kind).count();
    assert_eq!(count("UserAction"), 9, "every action of every round");
    assert_eq!(count("UserLogout"), 3, "one logout per round");
}

#[test]
fn a_reboot_ends_every_session_of_the_old_boot_once() {
    // Before the reboot: a joined session with a command, and a login whose kernel
    // session never came.
    let mut before = Feed::new();
    before.sshd(login_at(1_000));
    before.audit(session_start(1_000));
    before.audit(audit(1_010, 101, AuditRole::Action));
    before.sshd(login_of(1_100, PID + 1, "bob"));
    before.events();
    let snapshot = serde_json::to_string(&before.t.snapshot()).unwrap();

    let mut after = Feed::new();
    after
        .t
        .restore(serde_json::from_str(&snapshot).unwrap())
        .unwrap();
    assert_eq!(after.t.end_all(2_000, "host rebooted"), 2);
    let out = after.events();
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
    assert_eq!(after.t.end_all(3_000, "host rebooted"), 0);
    after.audit(session_start(4_000));
    after.audit(audit(4_010, 300, AuditRole::Action));
    after.both_pass(20_000);
    let out = after.events();
    assert!(out.iter().all(|e| e["type"] != "UserLogout"), "{out:#?}");
    let action = out.iter().find(|e| e["type"] == "UserAction").unwrap();
    assert_eq!(action["metadata"]["extra"]["correlation"], "audit-only");
}

#[test]
fn finish_with_writes_what_finish_and_drain_would() {
    // Several sessions and a login still waiting at the end of input.
    let run = |streamed: bool| {
        let mut f = Feed::new();
        for i in 0..20u32 {
            let mut start = session_start(1_000 + u64::from(i));
            start.ses = Some(SES + i);
            start.role = AuditRole::SessionStart {
                pid: PID + i,
                auid: 1010,
                exe: Some("/usr/sbin/sshd".into()),
            };
            f.audit(start);
            let mut action = audit(1_100 + u64::from(i), 200 + u64::from(i), AuditRole::Action);
            action.ses = Some(SES + i);
            f.audit(action);
        }
        f.sshd(login_of(2_000, 99, "alice"));
        let mut lines: Vec<String> = Vec::new();
        let mut line = |event: sshtrail_event::Event| {
            let text = String::from_utf8_lossy(&event.to_line(&host())).into_owned();
            let value: Value = serde_json::from_str(&text).unwrap();
            // Generated ids differ from run to run.
            let id = value["metadata"]["auditId"]
                .as_str()
                .unwrap_or("")
                .to_string();
            lines.push(if id.len() > 20 {
                text.replace(&id, "ID")
            } else {
                text
            });
        };
        if streamed {
            f.t.finish_with(|event| {
                line(event);
                Ok::<(), ()>(())
            })
            .unwrap();
        } else {
            f.finish();
            let drained: Vec<_> = f.t.drain().collect();
            drained.into_iter().for_each(&mut line);
        }
        assert_eq!(f.t.drain().count(), 0);
        (lines, f.t.stats())
    };
    let (streamed, stats) = run(true);
    assert_eq!(streamed.len(), 41);
    assert_eq!(
        (streamed, stats),
        run(false),
        "same events in the same order"
    );
}

mod log_actions;
