//! What only the logs show inside a session (channels, file transfers): which session
//! each joins, whatever the order in which the two sides arrive.

use super::*;

/// A channel sshd's user child `child` logged (`Starting session: shell on pts/0 …`).
fn channel_from(time_ms: u64, child: u32, ses: Option<u32>) -> SshdFact {
    SshdFact {
        time_ms,
        resolution_ms: 1,
        pid: child,
        ses,
        what: SshdWhat::SessionAction {
            outcome: Outcome::Succeeded,
            detail: Box::new(ActionDetail {
                origin: sshtrail_event::Origin::Sshd,
                action: "opened-channel".into(),
                channel: Some("shell".into()),
                tty: Some("pts/0".into()),
                ..ActionDetail::default()
            }),
        },
    }
}

fn user_child(time_ms: u64, child: u32) -> SshdFact {
    SshdFact {
        time_ms,
        resolution_ms: 1,
        pid: PID,
        ses: None,
        what: SshdWhat::UserChild { child },
    }
}

/// A file sftp-server `pid` logged as uploaded.
fn upload_by(time_ms: u64, pid: u32, ses: Option<u32>) -> SshdFact {
    SshdFact {
        time_ms,
        resolution_ms: 1,
        pid,
        ses,
        what: SshdWhat::SessionAction {
            outcome: Outcome::Succeeded,
            detail: Box::new(ActionDetail {
                origin: sshtrail_event::Origin::SftpServer,
                action: "uploaded-file".into(),
                bytes: Some(12),
                ..ActionDetail::default()
            }),
        },
    }
}

fn exec_of(time_ms: u64, sequence: u64, exe: &str, pid: u32) -> AuditFact {
    let mut fact = audit(time_ms, sequence, AuditRole::Action);
    fact.detail.exe = Some(exe.into());
    fact.detail.pid = Some(pid.to_string());
    fact
}

/// Each event's type and its action, when it has one.
fn steps(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| {
            let action = e["metadata"]["extra"]["action"].as_str().unwrap_or("");
            format!("{} {action}", e["type"].as_str().unwrap())
                .trim_end()
                .to_string()
        })
        .collect()
}

#[test]
fn a_channel_sshds_user_child_opened_joins_its_monitors_session() {
    let mut f = Feed::new();
    f.sshd(login_at(1_000));
    f.sshd(user_child(1_010, 4242));
    f.audit(session_start(1_005));
    f.sshd(channel_from(1_050, 4242, None));
    let events = f.events();
    assert_eq!(
        steps(&events),
        [
            "UserLogin",
            "UserAction executed",
            "UserAction opened-channel"
        ]
    );
    let channel = &events[2];
    assert_eq!(channel["metadata"]["auditId"], SES.to_string());
    assert_eq!(channel["component"], "sshd");
    assert_eq!(channel["metadata"]["extra"]["channel"], "shell");
    assert_eq!(channel["metadata"]["extra"]["tty"], "pts/0");
    assert_eq!(channel["metadata"]["extra"]["correlation"], "joined");
    assert_eq!(channel["subjects"]["loggedAs"], "alice");
}

#[test]
fn a_channel_logged_before_the_login_record_waits_for_it_and_follows_the_login() {
    let mut f = Feed::new();
    f.sshd(login_at(1_000));
    f.sshd(user_child(1_010, 4242));
    f.sshd(channel_from(1_050, 4242, None));
    assert!(f.events().is_empty(), "nothing before the session is known");
    f.audit(session_start(1_005));
    let events = f.events();
    assert_eq!(
        steps(&events),
        [
            "UserLogin",
            "UserAction executed",
            "UserAction opened-channel"
        ]
    );
    assert_eq!(events[2]["metadata"]["auditId"], SES.to_string());
}

#[test]
fn a_line_with_its_own_audit_session_joins_it_even_before_the_sshd_login() {
    // journald's `_AUDIT_SESSION`: the line names its session; the login comes later.
    let mut f = Feed::new();
    f.sshd(upload_by(1_100, 777, Some(SES)));
    f.audit(session_start(1_005));
    f.audit(exec_of(1_090, 101, "/usr/lib/openssh/sftp-server", 777));
    assert!(f.events().is_empty(), "held until the login is known");
    f.sshd(login_at(1_000));
    let events = f.events();
    assert_eq!(
        steps(&events),
        [
            "UserLogin",
            "UserAction executed",
            "UserAction uploaded-file",
            "UserAction executed"
        ]
    );
    assert_eq!(events[2]["component"], "sftp-server");
    assert_eq!(events[2]["metadata"]["extra"]["bytes"], 12);
    assert_eq!(events[2]["metadata"]["extra"]["correlation"], "joined");
}

#[test]
fn a_syslog_sftp_line_joins_the_session_whose_process_executed_that_sftp_server() {
    let mut f = Feed::new();
    f.sshd(login_at(1_000));
    f.audit(session_start(1_005));
    // The line first, the exec record after: the line waits for the exec.
    f.sshd(upload_by(1_100, 777, None));
    assert_eq!(steps(&f.events()), ["UserLogin", "UserAction executed"]);
    f.audit(exec_of(1_090, 101, "/usr/lib/openssh/sftp-server", 777));
    f.sshd(upload_by(1_200, 777, None));
    // Another process's line is not taken for it.
    f.sshd(upload_by(1_210, 778, None));
    let events = f.events();
    assert_eq!(
        steps(&events),
        [
            "UserAction executed",
            "UserAction uploaded-file",
            "UserAction uploaded-file"
        ]
    );
    let ses = SES.to_string();
    assert!(events
        .iter()
        .all(|e| e["metadata"]["auditId"].as_str() == Some(ses.as_str())));
    assert_eq!(f.t.stats().giveup_log_actions, 0);
    // The stray line's session never shows: counted once the audit side is past it.
    f.both_pass(1_210 + 10_001);
    f.both_pass(1_210 + 12_000);
    assert!(steps(&f.events()).is_empty());
    assert_eq!(f.t.stats().giveup_log_actions, 1);
}

#[test]
fn an_ended_sessions_late_sftp_line_is_still_its_own() {
    let mut f = Feed::new();
    f.sshd(login_at(1_000));
    f.audit(session_start(1_005));
    f.audit(session_end(2_000, 150));
    f.sshd(closed(2_001, "disconnected"));
    f.sshd(upload_by(2_010, 777, Some(SES)));
    let events = f.events();
    assert_eq!(
        steps(&events),
        [
            "UserLogin",
            "UserAction executed",
            "UserAction executed",
            "UserLogout",
            "UserAction uploaded-file"
        ]
    );
    assert_eq!(events[4]["metadata"]["auditId"], SES.to_string());
}

#[test]
fn pending_log_actions_survive_a_restart() {
    let mut f = Feed::new();
    f.sshd(login_at(1_000));
    f.sshd(user_child(1_010, 4242));
    f.sshd(channel_from(1_050, 4242, None));
    f.sshd(upload_by(1_100, 777, Some(SES + 1)));
    let snapshot = f.t.snapshot();
    let mut g = Feed::new();
    g.t.restore(snapshot).unwrap();
    g.audit(session_start(1_005));
    assert_eq!(
        steps(&g.events()),
        [
            "UserLogin",
            "UserAction executed",
            "UserAction opened-channel"
        ]
    );
    let mut other = session_start(1_060);
    other.ses = Some(SES + 1);
    other.role = AuditRole::SessionStart {
        pid: PID + 1,
        auid: 1010,
        exe: Some("/usr/sbin/sshd".into()),
    };
    g.audit(other);
    g.sshd(login_of(1_055, PID + 1, "alice"));
    assert_eq!(
        steps(&g.events()),
        [
            "UserLogin",
            "UserAction executed",
            "UserAction uploaded-file"
        ]
    );
}

#[test]
fn a_reused_monitor_pid_files_the_new_logins_channel_under_the_new_session() {
    let mut f = Feed::new();
    f.sshd(login_at(1_000));
    f.audit(session_start(1_005));
    f.audit(session_end(2_000, 150));
    f.sshd(closed(2_001, "disconnected"));
    f.events();
    // The same monitor pid logs in again (syslog: no audit session on the lines); its
    // channel comes before its LOGIN record.
    f.sshd(login_at(3_000));
    f.sshd(user_child(3_010, 4243));
    f.sshd(channel_from(3_050, 4243, None));
    let mut next = session_start(3_005);
    next.ses = Some(SES + 1);
    f.audit(next);
    let events = f.events();
    let channel = events
        .iter()
        .find(|e| e["metadata"]["extra"]["action"] == "opened-channel")
        .expect("the channel");
    assert_eq!(channel["metadata"]["auditId"], (SES + 1).to_string());
}

fn sftp_ended(time_ms: u64, pid: u32) -> SshdFact {
    SshdFact {
        time_ms,
        resolution_ms: 1,
        pid,
        ses: None,
        what: SshdWhat::SftpServerEnded,
    }
}

#[test]
fn an_sftp_servers_pid_reused_by_the_next_session_is_not_taken_for_the_old_one() {
    let mut f = Feed::new();
    f.sshd(login_at(1_000));
    f.audit(session_start(1_005));
    f.audit(exec_of(1_090, 101, "/usr/lib/openssh/sftp-server", 777));
    f.sshd(upload_by(1_100, 777, None));
    f.sshd(sftp_ended(1_200, 777));
    // Another login's sftp-server gets pid 777; its line comes before its exec record.
    f.sshd(login_of(5_000, PID + 1, "alice"));
    let mut other = session_start(5_005);
    other.ses = Some(SES + 1);
    other.role = AuditRole::SessionStart {
        pid: PID + 1,
        auid: 1010,
        exe: Some("/usr/sbin/sshd".into()),
    };
    f.audit(other);
    f.sshd(upload_by(5_100, 777, None));
    let mut exec = exec_of(5_090, 201, "/usr/lib/openssh/sftp-server", 777);
    exec.ses = Some(SES + 1);
    f.audit(exec);
    let uploads: Vec<String> = f
        .events()
        .iter()
        .filter(|e| e["metadata"]["extra"]["action"] == "uploaded-file")
        .map(|e| e["metadata"]["auditId"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(uploads, [SES.to_string(), (SES + 1).to_string()]);
}
