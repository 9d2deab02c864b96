//! `sshtrail audit status` and `sshtrail audit rules …` on the real kernel, against
//! auditctl. Rules carry this test's key and are deleted afterwards.

#[path = "../../audit/tests/netlink_support/mod.rs"]
mod netlink_support;

use netlink_support::*;
use std::process::{Command, Output};

fn sshtrail(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sshtrail"))
        .args(args)
        .output()
        .expect("run sshtrail")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn status_json_matches_auditctl_s() {
    if !can_run() {
        return;
    }
    let _lock = kernel_lock();
    let out = sshtrail(&["audit", "status"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let theirs = auditctl_status();
    for (name, v) in &theirs {
        let ours = json[name.as_str()]
            .as_u64()
            .unwrap_or_else(|| panic!("no integer {name} in {json}"));
        match name.as_str() {
            // Counters only grow between our read and auditctl's; the queue moves.
            "lost" | "backlog_wait_time_actual" => assert!(ours <= *v, "{name}"),
            "backlog" => {}
            _ => assert_eq!(ours, *v, "{name}"),
        }
    }
    for name in [
        "enabled",
        "failure",
        "pid",
        "rate_limit",
        "backlog_limit",
        "lost",
        "backlog",
        "backlog_wait_time",
        "backlog_wait_time_actual",
        "loginuid_immutable",
    ] {
        assert!(json[name].is_u64(), "{name} missing from {json}");
    }
}

#[test]
fn rules_list_prints_what_auditctl_l_prints() {
    if !can_run() {
        return;
    }
    let _lock = kernel_lock();
    let key = "sshtrail-cli-list";
    let _cleanup = KeyCleanup(key.into());
    for rule in [
        format!("-a always,exit -F arch=b64 -S execve -F auid>=1000 -F auid!=unset -k {key}"),
        format!("-w /etc/hosts -p wa -k {key}"),
        format!("-a always,exit -F arch=b32 -S open,openat -F exit=-EPERM -k {key}"),
    ] {
        let args: Vec<&str> = rule.split_whitespace().collect();
        assert!(auditctl(&args).0, "{rule}");
    }
    // The whole listing, host rules included; another process may change rules
    // between the two reads, so allow a retry.
    let mut last = None;
    for _ in 0..3 {
        let ours = sshtrail(&["audit", "rules", "list"]);
        assert!(ours.status.success(), "{}", stderr(&ours));
        let (_, theirs, _) = auditctl(&["-l"]);
        if stdout(&ours) == theirs {
            assert!(theirs.lines().filter(|l| has_key(l, key)).count() == 3);
            return;
        }
        last = Some((stdout(&ours), theirs));
    }
    panic!("listings differ: {last:#?}");
}

#[test]
fn rules_add_and_delete_with_auditctl_arguments() {
    if !can_run() {
        return;
    }
    let _lock = kernel_lock();
    let key = "sshtrail-cli-add";
    let _cleanup = KeyCleanup(key.into());
    let add = [
        "audit",
        "rules",
        "add",
        "-a",
        "always,exit",
        "-F",
        "arch=b64",
        "-S",
        "openat",
        "-k",
        key,
    ];
    let out = sshtrail(&add);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        listed_with_key(key),
        vec![format!("-a always,exit -F arch=b64 -S openat -F key={key}")]
    );
    // The kernel refuses a duplicate: exit 1 with its reason.
    let again = sshtrail(&add);
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr(&again).contains("File exists"), "{}", stderr(&again));

    let watch = [
        "audit",
        "rules",
        "add",
        "-w",
        "/etc/hostname",
        "-p",
        "wa",
        "-k",
        key,
    ];
    assert!(sshtrail(&watch).status.success());
    assert_eq!(listed_with_key(key).len(), 2);

    let del = [
        "audit",
        "rules",
        "delete",
        "-d",
        "always,exit",
        "-F",
        "arch=b64",
        "-S",
        "openat",
        "-k",
        key,
    ];
    let out = sshtrail(&del);
    assert!(out.status.success(), "{}", stderr(&out));
    let unwatch = [
        "audit",
        "rules",
        "delete",
        "-W",
        "/etc/hostname",
        "-p",
        "wa",
        "-k",
        key,
    ];
    assert!(sshtrail(&unwatch).status.success());
    assert!(listed_with_key(key).is_empty());
    let gone = sshtrail(&del);
    assert_eq!(gone.status.code(), Some(1));
    assert!(stderr(&gone).contains("No such file"), "{}", stderr(&gone));
}

#[test]
fn bad_rule_syntax_exits_2_naming_the_problem() {
    // Parsing happens before any kernel call: no root needed.
    for (args, needle) in [
        (
            vec!["-a", "always,exit", "-S", "notasyscall", "-k", "x"],
            "notasyscall",
        ),
        (
            vec!["-a", "always,exit", "-F", "nosuchfield=1"],
            "nosuchfield",
        ),
        (
            vec!["-a", "sometimes,exit", "-S", "openat"],
            "sometimes,exit",
        ),
        (vec!["-w", "relative/path"], "relative/path"),
        (vec!["-a", "always,exit", "-F", "auid"], "auid"),
    ] {
        let mut full = vec!["audit", "rules", "add"];
        full.extend(&args);
        let out = sshtrail(&full);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(needle), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn rules_load_matches_auditctl_r() {
    if !can_run() {
        return;
    }
    let _lock = kernel_lock();
    let key = "sshtrail-cli-load";
    let _cleanup = KeyCleanup(key.into());
    let dir = std::env::temp_dir().join(format!("sshtrail-cli-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("test.rules");
    std::fs::write(
        &file,
        format!(
            "# rules for the load test\n-c\n\n\
             -a always,exit -F arch=b64 -S adjtimex,settimeofday -k {key}\n\
             -w /etc/localtime -p wa -k {key}\n\
             -a always,exit -F arch=b64 -S unlink,unlinkat,rename,renameat -F auid>=1000 -F auid!=unset -F key={key}\n\
             -a always,exit -F dir=/etc -F perm=wa -F key={key}\n\
             -a always,exit -F arch=b64 -S open -F exit=-EACCES -F key=access -F key={key}\n"
        ),
    )
    .unwrap();
    let path = file.to_str().unwrap();
    let out = sshtrail(&["audit", "rules", "load", path]);
    assert!(out.status.success(), "{}", stderr(&out));
    let ours = listed_with_key(key);
    assert_eq!(ours.len(), 5, "{ours:#?}");
    drop(KeyCleanup(key.into()));
    assert!(listed_with_key(key).is_empty());
    let (ok, _, err) = auditctl(&["-R", path]);
    assert!(ok, "auditctl -R: {err}");
    assert_eq!(listed_with_key(key), ours);
    drop(KeyCleanup(key.into()));

    // A bad line anywhere: exit 2 naming file and line, nothing applied.
    std::fs::write(
        &file,
        format!("-w /etc/localtime -p wa -k {key}\n-a always,exit -S nosuchcall -k {key}\n"),
    )
    .unwrap();
    let out = sshtrail(&["audit", "rules", "load", path]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(":2:") && stderr(&out).contains("nosuchcall"),
        "{}",
        stderr(&out)
    );
    assert!(listed_with_key(key).is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}
