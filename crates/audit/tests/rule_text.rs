//! Rule text ⇄ kernel form without a kernel: auditctl's listing form of rules (the
//! expected lines were printed by `auditctl -l` 3.0.9 on this machine for the same
//! input), syntax errors that name the problem, and hostile kernel bytes.

use proptest::prelude::*;
use sshtrail_audit::interpret::Arch;
use sshtrail_audit::rule::{format_rule, Command, RuleData, RuleError, RuleParser};

fn parser() -> RuleParser {
    // Decide dir watches without looking at this machine's file system.
    RuleParser::new(Arch::X86_64).with_dir_probe(|p| p == "/etc/ssh")
}

fn listed(text: &str) -> String {
    match parser().parse_line(text) {
        Ok(Command::Add(rule)) => {
            // What the kernel returns has the syscall-class bits cleared.
            let mut rule = rule;
            rule.mask[63] &= 0xffff;
            let back = RuleData::decode(&rule.encode()).unwrap();
            assert_eq!(back, rule);
            format_rule(&back, Arch::X86_64)
        }
        other => panic!("{text}: {other:?}"),
    }
}

#[test]
fn listing_form_as_auditctl_prints_it() {
    for (input, auditctl_l) in [
        (
            "-a always,exit -F arch=b64 -S openat,execve -F auid>=1000 -F auid!=unset -k k",
            "-a always,exit -F arch=b64 -S execve,openat -F auid>=1000 -F auid!=-1 -F key=k",
        ),
        (
            "-a always,exit -F arch=b32 -S open -F exit=-EACCES -k k -k two",
            "-a always,exit -F arch=b32 -S open -F exit=-EACCES -F key=k -F key=two",
        ),
        ("-w /etc/passwd -p wa -k k", "-w /etc/passwd -p wa -k k"),
        ("-w /etc/ssh/ -p rwxa -k k", "-w /etc/ssh -p rwxa -k k"),
        (
            "-a always,exit -F arch=b64 -S mount -F a0&0x10 -F a1&=3 -F a2=0x20 -F uid=0 -F gid=0 -F filetype=dir -k k",
            "-a always,exit -F arch=b64 -S mount -F a0&0x10 -F a1&=0x3 -F a2=0x20 -F uid=0 -F gid=0 -F filetype=16384 -F key=k",
        ),
        (
            "-a always,exit -F arch=b64 -C uid!=euid -F euid=0 -S execve -k k",
            "-a always,exit -F arch=b64 -S execve -C uid!=euid -F euid=0 -F key=k",
        ),
        (
            "-a always,exit -F arch=b64 -S chmod -F exe=/usr/bin/bash -F success=1 -F inode=4294967295 -k k",
            "-a always,exit -F arch=b64 -S chmod -F exe=/usr/bin/bash -F success=1 -F inode=4294967295 -F key=k",
        ),
        (
            "-a always,exit -F arch=b64 -S 0,1,2 -F saddr_fam=2 -F devmajor=8 -F devminor<5 -F pers=0 -F obj_uid=0 -F obj_gid=0 -k k",
            "-a always,exit -F arch=b64 -S read,write,open -F saddr_fam=2 -F devmajor=8 -F devminor<5 -F pers=0 -F obj_uid=0 -F obj_gid=0 -F key=k",
        ),
        (
            "-a never,filesystem -F fstype=tracefs -F key=k",
            "-a never,filesystem -F fstype=tracefs -F key=k",
        ),
        ("-a exit,never -F arch=b64 -S all", "-a never,exit -F arch=b64 -S all"),
        ("-a always,exclude -F msgtype=CWD", "-a always,exclude -F msgtype=CWD"),
        // An exit rule with only watch fields prints as a watch, and one whose perm
        // comes first prints glued (" -p x-w /path"), exactly as auditctl does.
        (
            "-a always,exit -F path=/usr/bin/su -F perm=x -F key=k",
            "-w /usr/bin/su -p x -k k",
        ),
        (
            "-a always,exit -F perm=x -F path=/usr/bin/dnf-3 -F key=k",
            " -p x-w /usr/bin/dnf-3 -k k",
        ),
    ] {
        assert_eq!(listed(input), auditctl_l, "{input}");
    }
}

#[test]
fn settings_and_deletes() {
    let p = parser();
    assert_eq!(p.parse_line("-b 8192"), Ok(Command::BacklogLimit(8192)));
    assert_eq!(p.parse_line("-f 1"), Ok(Command::Failure(1)));
    assert_eq!(p.parse_line("-e 2"), Ok(Command::Enabled(2)));
    assert_eq!(
        p.parse_line("--backlog_wait_time 60000"),
        Ok(Command::BacklogWaitTime(60000))
    );
    assert_eq!(
        p.parse_line("--loginuid-immutable"),
        Ok(Command::LoginuidImmutable)
    );
    assert_eq!(p.parse_line("-D"), Ok(Command::DeleteAll { key: None }));
    assert_eq!(
        p.parse_line("-D -k mine"),
        Ok(Command::DeleteAll {
            key: Some("mine".into())
        })
    );
    assert_eq!(p.parse_line("  # comment"), Ok(Command::Nothing));
    let (Ok(Command::Add(add)), Ok(Command::Delete(del))) = (
        p.parse_line("-w /etc/passwd -p wa -k k"),
        p.parse_line("-W /etc/passwd -p wa -k k"),
    ) else {
        panic!("watch/unwatch")
    };
    assert_eq!(add, del);
    // -A is the same rule with the prepend flag.
    let (Ok(Command::Add(a)), Ok(Command::Add(pre))) = (
        p.parse_line("-a always,exit -S openat"),
        p.parse_line("-A always,exit -S openat"),
    ) else {
        panic!("-a/-A")
    };
    assert_eq!(pre.flags, a.flags | 0x10);
}

#[test]
fn syntax_errors_name_the_problem() {
    let p = parser();
    for (line, needle) in [
        ("-a always,exit -S nosuchcall", "nosuchcall"),
        ("-a always,exit -F nosuchfield=1", "nosuchfield"),
        ("-a always,exit -F uid", "no operator"),
        (
            "-a always,exit -F arch=b64 -F exit=-ENOTANERRNO",
            "ENOTANERRNO",
        ),
        ("-a always,exit -S openat -F arch=b64", "before -S"),
        ("-a always,exit -F subj_type<x", "only = and !="),
        ("-a sometimes,exit", "sometimes,exit"),
        ("-a always,entry", "deprecated"),
        ("-w relative -p wa", "absolute"),
        ("-w /etc/passwd -p rwz", "permission"),
        ("-a always,user -F exit=1", "exit list"),
        ("-a always,exit -C uid=gid", "cannot be compared"),
        ("-k lonely", "needs a rule"),
        ("-w '/unterminated", "quote"),
        ("-e 3", "0, 1 or 2"),
        ("-a never,exclude -F path=/etc/passwd", "exclude list"),
        ("-a never,exclude -F success=1", "exclude list"),
    ] {
        match p.parse_line(line) {
            Err(RuleError::Syntax(m)) => assert!(m.contains(needle), "{line}: {m}"),
            other => panic!("{line}: {other:?}"),
        }
    }
}

proptest! {
    #[test]
    fn hostile_kernel_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..1400)) {
        if let Ok(rule) = RuleData::decode(&bytes) {
            let _ = format_rule(&rule, Arch::X86_64);
            let again = rule.encode();
            let decoded = RuleData::decode(&again);
            prop_assert_eq!(decoded, Ok(rule));
        }
    }

    #[test]
    fn hostile_rule_text_never_panics(line in "[-a-zA-Z0-9=!<>&,/ '\"_]{0,80}") {
        let _ = parser().parse_line(&line);
    }

    #[test]
    fn any_header_with_fields_decodes_safely(
        count in 0u32..70, buflen in 0u32..2000, extra in 0usize..300, field in any::<u32>(), value in any::<u32>()
    ) {
        let mut rule = RuleData::new(4, 2);
        rule.fields.push(sshtrail_audit::rule::FieldEntry { field, op: 0x4000_0000, value });
        let mut bytes = rule.encode();
        bytes[8..12].copy_from_slice(&count.to_ne_bytes());
        let at = sshtrail_audit::rule::HEADER_LEN - 4;
        bytes[at..at + 4].copy_from_slice(&buflen.to_ne_bytes());
        bytes.extend(std::iter::repeat_n(b'x', extra));
        if let Ok(rule) = RuleData::decode(&bytes) {
            let _ = format_rule(&rule, Arch::X86_64);
        }
    }
}
