//! The netlink client's status against `auditctl -s` on the real kernel, and a status
//! change made through the client seen by auditctl (then put back).

mod netlink_support;

use netlink_support::*;
use sshtrail_audit::netlink::{AuditClient, Status, STATUS_BACKLOG_LIMIT};

fn value(status: &[(String, u64)], name: &str) -> u64 {
    status
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| *v)
        .unwrap_or_else(|| panic!("auditctl -s has no {name}"))
}

#[test]
fn status_equals_auditctl_s() {
    if !can_run() {
        return;
    }
    let _lock = kernel_lock();
    let mut client = AuditClient::open().unwrap();
    let ours = client.status().unwrap();
    let features = client.features().unwrap();
    let theirs = auditctl_status();
    // Settings are stable between the two reads; counters only grow.
    for (name, v) in [
        ("enabled", ours.enabled),
        ("failure", ours.failure),
        ("pid", ours.pid),
        ("rate_limit", ours.rate_limit),
        ("backlog_limit", ours.backlog_limit),
        ("backlog_wait_time", ours.backlog_wait_time),
        (
            "loginuid_immutable",
            u32::from(features.loginuid_immutable()),
        ),
    ] {
        assert_eq!(u64::from(v), value(&theirs, name), "{name}");
    }
    assert!(u64::from(ours.lost) <= value(&theirs, "lost"));
    assert!(u64::from(ours.backlog_wait_time_actual) <= value(&theirs, "backlog_wait_time_actual"));
    assert!(ours.enabled <= 2 && ours.failure <= 2);
    // TTY auditing of this test process: off unless pam_tty_audit turned it on.
    let tty = client.tty_status().unwrap();
    assert!(tty.enabled <= 1 && tty.log_passwd <= 1, "{tty:?}");
}

/// Puts the backlog limit back even if the test fails.
struct RestoreBacklog(u32);

impl Drop for RestoreBacklog {
    fn drop(&mut self) {
        let (ok, _, err) = auditctl(&["-b", &self.0.to_string()]);
        if !ok {
            eprintln!("could not restore backlog limit {}: {err}", self.0);
        }
    }
}

#[test]
fn set_backlog_limit_is_seen_by_auditctl() {
    if !can_run() {
        return;
    }
    let _lock = kernel_lock();
    let mut client = AuditClient::open().unwrap();
    let before = client.status().unwrap();
    let _restore = RestoreBacklog(before.backlog_limit);
    let want = before.backlog_limit + 7;
    let change = Status {
        backlog_limit: want,
        ..Status::default()
    };
    client.set_status(&change, STATUS_BACKLOG_LIMIT).unwrap();
    assert_eq!(value(&auditctl_status(), "backlog_limit"), u64::from(want));
    // Only the masked value changed.
    let after = client.status().unwrap();
    assert_eq!(
        (after.enabled, after.failure, after.pid),
        (before.enabled, before.failure, before.pid)
    );
    let back = Status {
        backlog_limit: before.backlog_limit,
        ..Status::default()
    };
    client.set_status(&back, STATUS_BACKLOG_LIMIT).unwrap();
    assert_eq!(
        value(&auditctl_status(), "backlog_limit"),
        u64::from(before.backlog_limit)
    );
}
