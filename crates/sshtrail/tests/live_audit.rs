//! Against the real kernel and auditd: programs executed under an audit rule show up in
//! `sshtrail audit parse --coalesce` with their exact arguments, once each.
//!
//! The host may have audit rules of its own (most audited hosts record every execve under
//! some key): the test's rule goes first (`-A`), and its events are found by what they
//! ran, so a host rule that matched first would still show the command once.
//!
//! Needs root and a running auditd. Without them the tests skip, unless
//! `SSHTRAIL_REQUIRE_LIVE=1` (set by `scripts/test`) makes that a failure.

mod support;

use std::process::Command;
use support::{kernel_audit_lock, require_live, AuditRule};

const AUDIT_LOG: &str = "/var/log/audit/audit.log";

#[test]
fn executed_programs_appear_once_with_exact_arguments() {
    if !require_live("executed_programs_appear_once_with_exact_arguments") {
        return;
    }
    let _lock = kernel_audit_lock();
    let key = format!("sshtrail-live-{}", std::process::id());
    let rule = AuditRule::add(&[
        "-A",
        "always,exit",
        "-F",
        "arch=b64",
        "-S",
        "execve",
        "-k",
        &key,
    ]);

    let marker = format!("marker-{}", std::process::id());
    let hostile = "héllo \u{1b}[31mred\u{1b}[0m \"quoted\" back\\slash";
    let long = "x".repeat(20_000);
    let runs: Vec<Vec<String>> = vec![
        vec!["/bin/echo".into(), marker.clone(), hostile.into()],
        vec!["/bin/true".into(), marker.clone(), long.clone()],
    ];
    for argv in &runs {
        let status = Command::new(&argv[0])
            .args(&argv[1..])
            .output()
            .expect("run");
        assert!(status.status.success());
    }
    // auditd writes asynchronously: wait for the second (last) command's record.
    support::wait_for_log(AUDIT_LOG, &marker, 2);
    drop(rule);

    let output = Command::new(env!("CARGO_BIN_EXE_sshtrail"))
        .args(["audit", "parse", "--coalesce", AUDIT_LOG])
        .output()
        .expect("run sshtrail");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let events: Vec<serde_json::Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("every line is JSON"))
        .collect();

    for argv in &runs {
        let expected: Vec<serde_json::Value> = argv[1..]
            .iter()
            .map(|a| serde_json::Value::String(a.clone()))
            .collect();
        let matching: Vec<&serde_json::Value> = events
            .iter()
            .filter(|e| {
                e["process"]["args"]
                    .as_array()
                    .is_some_and(|a| a.len() == argv.len() && a[1..] == expected[..])
            })
            .collect();
        assert_eq!(matching.len(), 1, "exactly one event for {:?}", &argv[0]);
        let event = matching[0];
        assert_eq!(event["summary"]["action"], "executed");
        assert_eq!(event["result"], "success");
        assert_eq!(
            event["process"]["exe"],
            argv[0].replace("/bin/", "/usr/bin/")
        );
    }
}
