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
    file
}

/// Whether the kernel audit tests can run here (root with auditctl); prints why not.
pub fn can_run() -> bool {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let auditctl = Command::new("auditctl").arg("-s").output().is_ok_and(|o| o.status.success());
    if !root || !auditctl {
        eprintln!("skipped: needs root and a working auditctl");
    }
    root && auditctl
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
    out.lines().filter(|l| has_key(l, key)).map(str::to_string).collect()
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

/// Deletes, with auditctl, every rule carrying `key` when dropped (also on panic).
pub struct KeyCleanup(pub String);

impl Drop for KeyCleanup {
    fn drop(&mut self) {
        for line in listed_with_key(&self.0) {
            let (ok, _, err) = auditctl(&delete_args(&line));
            if !ok {
                eprintln!("cleanup: could not delete {line}: {err}");
            }
        }
    }
}
