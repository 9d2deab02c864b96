//! Helpers for tests that change the kernel's audit state: the machine-wide lock, the
//! real auditctl as the reference, and cleanup that deletes exactly the rules a test
//! added (by its own key), never `auditctl -D`.
#![allow(dead_code)]

use std::fs::File;
use std::process::Command;

/// Serializes every test that touches kernel audit state (shared with the other
/// kernel tests of the workspace).
pub fn kernel_lock() -> File {
    let file = File::create("/tmp/sshtrail-kernel-audit.lock").expect("lock file");
    file.lock().expect("lock");
    ensure_auditing_enabled();
    file
}

/// Turns kernel auditing on (1, never 2) if it is off. auditd started with `-s enable`
/// (the default) switches auditing off again when it exits, so a test that stopped or
/// restarted auditd can leave it off for every test after it.
pub fn ensure_auditing_enabled() {
    let off = Command::new("auditctl")
        .arg("-s")
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .any(|l| l.trim() == "enabled 0")
        })
        .unwrap_or(false);
    if off {
        let _ = Command::new("auditctl").args(["-e", "1"]).status();
    }
}

/// Whether the kernel audit tests can run here (auditctl works, so we are root with
/// audit control); prints why not.
pub fn can_run() -> bool {
    let ok = Command::new("auditctl")
        .arg("-s")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("skipped: needs root and a working auditctl");
    }
    ok
}

/// Runs auditctl; (success, stdout, stderr).
pub fn auditctl<S: AsRef<str>>(args: &[S]) -> (bool, String, String) {
    let out = Command::new("auditctl")
        .args(args.iter().map(|a| a.as_ref()))
        .output()
        .expect("run auditctl");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `auditctl -s` as name → value (the first word after the name).
pub fn auditctl_status() -> Vec<(String, u64)> {
    let (ok, out, err) = auditctl(&["-s"]);
    assert!(ok, "auditctl -s: {err}");
    out.lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            Some((w.next()?.to_string(), w.next()?.parse().ok()?))
        })
        .collect()
}

/// Lines of `auditctl -l` that carry `key` (as `-k key` or `-F key=key`).
pub fn listed_with_key(key: &str) -> Vec<String> {
    let (ok, out, err) = auditctl(&["-l"]);
    assert!(ok, "auditctl -l: {err}");
    out.lines()
        .filter(|l| has_key(l, key))
        .map(str::to_string)
        .collect()
}

pub fn has_key(line: &str, key: &str) -> bool {
    line.split_whitespace()
        .collect::<Vec<_>>()
        .windows(2)
        .any(|w| (w[0] == "-k" && w[1] == key) || (w[0] == "-F" && w[1] == format!("key={key}")))
}

/// The auditctl arguments deleting a listed rule (`-a` → `-d`, `-w` → `-W`).
pub fn delete_args(line: &str) -> Vec<String> {
    line.split_whitespace()
        .enumerate()
        .map(|(i, w)| match (i, w) {
            (0, "-a") => "-d".to_string(),
            (0, "-w") => "-W".to_string(),
            _ => w.to_string(),
        })
        .collect()
}

/// Deletes a rule `auditctl -l` listed. A `-w` line can stand for three kernel rules:
/// a path watch, a dir watch, or an exit rule written with `-F dir=`/`-F path=` and
/// `-F perm=` (auditctl prints those as watches too, with the path as given, so `-W`
/// cannot delete them): try each.
pub fn auditctl_delete(line: &str) -> Result<(), String> {
    let (ok, _, err) = auditctl(&delete_args(line));
    if ok {
        return Ok(());
    }
    let words: Vec<&str> = line.split_whitespace().collect();
    let watch = words.first() == Some(&"-w") && words.len() >= 2;
    for field in ["dir", "path"].into_iter().filter(|_| watch) {
        let mut args = vec!["-d".to_string(), "always,exit".to_string()];
        args.extend(["-F".to_string(), format!("{field}={}", words[1])]);
        for pair in words[2..].chunks(2) {
            match pair {
                ["-p", p] => args.extend(["-F".to_string(), format!("perm={p}")]),
                ["-k", k] => args.extend(["-F".to_string(), format!("key={k}")]),
                _ => {}
            }
        }
        if auditctl(&args).0 {
            return Ok(());
        }
    }
    // auditctl prints a watch-like rule whose perm comes before its path as
    // " -p x-w /path …", which it cannot read back: delete the kernel rule that prints
    // as this line instead.
    delete_listed_with_client(line).map_err(|e| format!("{err}; {e}"))
}

/// Deletes, through the netlink client, the kernel rules that print as `line`.
pub fn delete_listed_with_client(line: &str) -> Result<(), String> {
    use sshtrail_audit::rule::{format_rule, native_arch};
    let mut client = sshtrail_audit::netlink::AuditClient::open().map_err(|e| e.to_string())?;
    let rules = client.list_rules().map_err(|e| e.to_string())?;
    let matching: Vec<_> = rules
        .iter()
        .filter(|r| format_rule(r, native_arch()) == line)
        .collect();
    if matching.is_empty() {
        return Err(format!("no kernel rule prints as {line}"));
    }
    for rule in matching {
        client.delete_rule(rule).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Deletes, with auditctl, every rule carrying `key` when dropped (also on panic).
pub struct KeyCleanup(pub String);

impl Drop for KeyCleanup {
    fn drop(&mut self) {
        for line in listed_with_key(&self.0) {
            if let Err(err) = auditctl_delete(&line) {
                eprintln!("cleanup: could not delete {line}: {err}");
            }
        }
    }
}
