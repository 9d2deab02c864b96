//! Every rule of Debian's sample rule sets (`/usr/share/doc/auditd/examples/rules`,
//! shipped with auditd), loaded through the netlink client, lists the same under
//! `auditctl -l` as when auditctl itself loads it; rules auditctl refuses are refused by
//! us too. One rule at a time: add through the client, list, delete through the client;
//! then the same with auditctl.
//!
//! Rules on the exit list and watches get this test's key added so they are told apart
//! from the host's and deleted exactly; the few keyless ones (task and filesystem lists)
//! are only added when the host does not already have them. `-D`, `-e`, `-b`, `-f`,
//! `--backlog_wait_time` and `--loginuid-immutable` lines change no rule: they are
//! checked for parsing only (`-e 2` and `--loginuid-immutable` last until reboot).

mod netlink_support;

use netlink_support::*;
use sshtrail_audit::netlink::AuditClient;
use sshtrail_audit::rule::{split_words, Command, RuleParser};
use std::path::Path;

const KEY: &str = "sshtrail-netlink-sample";
const SAMPLES: &str = "/usr/share/doc/auditd/examples/rules";

/// New lines of `auditctl -l` compared with `before` that can be this test's: with its
/// key, or for a keyless rule without any key (so a rule another process adds meanwhile
/// is neither compared nor deleted).
fn new_lines(before: &[String], keyed: bool) -> Vec<String> {
    let (ok, out, err) = auditctl(&["-l"]);
    assert!(ok, "auditctl -l: {err}");
    out.lines()
        .filter(|l| !before.iter().any(|b| b == l))
        .filter(|l| {
            if keyed {
                has_key(l, KEY)
            } else {
                !l.contains("key=") && !l.contains(" -k ")
            }
        })
        .map(str::to_string)
        .collect()
}

fn listing() -> Vec<String> {
    let (ok, out, err) = auditctl(&["-l"]);
    assert!(ok, "auditctl -l: {err}");
    out.lines().map(str::to_string).collect()
}

#[test]
fn debian_sample_rules_load_like_auditctl() {
    if !can_run() {
        return;
    }
    if !Path::new(SAMPLES).is_dir() {
        eprintln!("skipped: {SAMPLES} not found (apt-get install auditd)");
        return;
    }
    let _lock = kernel_lock();
    let _cleanup = KeyCleanup(KEY.into());
    let parser = RuleParser::default();
    let mut client = AuditClient::open().unwrap();
    let mut files: Vec<_> = std::fs::read_dir(SAMPLES)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "rules"))
        .collect();
    files.sort();
    let (mut compared, mut refused, mut settings) = (0, 0, 0);
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let words = split_words(line).unwrap();
            let is_rule = matches!(words[0].as_str(), "-a" | "-A" | "-w");
            if !is_rule {
                // Settings and -D: parsed, never applied here.
                let cmd = parser
                    .parse_line(line)
                    .unwrap_or_else(|e| panic!("{line}: {e}"));
                assert!(
                    !matches!(cmd, Command::Add(_) | Command::Delete(_)),
                    "{line}"
                );
                settings += 1;
                continue;
            }
            let keyed = words[0] == "-w" || words[1].contains("exit");
            let mut args = words.clone();
            if keyed {
                args.extend(["-k".to_string(), KEY.to_string()]);
            }
            let before = listing();

            // Through the client.
            let ours = match parser.parse_args(&args) {
                Err(e) => Err(e.to_string()),
                Ok(Command::Add(rule)) => {
                    if !keyed
                        && before.iter().any(|l| {
                            *l == sshtrail_audit::rule::format_rule(&rule, parser.native())
                        })
                    {
                        eprintln!("host already has {line}; not touching it");
                        continue;
                    }
                    match client.add_rule(&rule) {
                        Err(e) => Err(e.to_string()),
                        Ok(()) => {
                            let lines = new_lines(&before, keyed);
                            client
                                .delete_rule(&rule)
                                .unwrap_or_else(|e| panic!("delete {line}: {e}"));
                            Ok(lines)
                        }
                    }
                }
                Ok(other) => panic!("{line}: parsed as {other:?}"),
            };
            assert_eq!(
                new_lines(&before, keyed),
                Vec::<String>::new(),
                "{line}: left behind"
            );

            // Through auditctl.
            let (ok, _, err) = auditctl(&args);
            let theirs = if ok {
                let lines = new_lines(&before, keyed);
                for l in &lines {
                    if let Err(err) = auditctl_delete(l) {
                        panic!("auditctl could not delete {l}: {err}");
                    }
                }
                Ok(lines)
            } else {
                Err(err)
            };
            match (&ours, &theirs) {
                (Ok(a), Ok(b)) => {
                    assert_eq!(a, b, "{}: {line}", file.display());
                    assert_eq!(a.len(), 1, "{line}");
                    compared += 1;
                }
                (Err(a), Err(b)) => {
                    eprintln!(
                        "refused by both: {line}\n  ours: {a}\n  auditctl: {}",
                        b.trim()
                    );
                    refused += 1;
                }
                _ => panic!(
                    "{}: {line}\n  ours {ours:?}\n  auditctl {theirs:?}",
                    file.display()
                ),
            }
        }
    }
    eprintln!("{compared} sample rules list the same, {refused} refused by both, {settings} setting lines parsed");
    assert!(compared > 150, "only {compared} rules compared");
}
