//! What the host's sshd, as configured, keeps out of its log, found at start from its
//! effective configuration (`sshd -T`, which needs root and readable host keys; where it
//! cannot run, nothing is said). At `LogLevel INFO` (Debian's default) sshd does not log
//! the channels a session opens, nor the key or certificate of a login; without `-l INFO`
//! (or more) on its sftp subsystem, sftp-server logs no file transfers. Both are said in
//! the `daemon-started` event and the daemon's log, so that an auditor knows the trail
//! is thinner for it; `deploy/sshd_config.d/` has the drop-ins that fix it.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long `sshd -T` may take (it reads the configuration and host keys only).
const SSHD_T_LIMIT: Duration = Duration::from_secs(5);

/// What the effective configuration of `sshd` (a program path) hides, as one sentence;
/// `None` when nothing is hidden or `sshd -T` could not be run.
pub fn logging_problem(sshd: &str) -> Option<String> {
    let text = effective_config(sshd)?;
    let problems = problems_in(&text);
    (!problems.is_empty()).then(|| problems.join("; "))
}

fn effective_config(sshd: &str) -> Option<String> {
    let mut child = Command::new(sshd)
        .arg("-T")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => break,
            Ok(Some(_)) | Err(_) => return None,
            Ok(None) if started.elapsed() > SSHD_T_LIMIT => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    let mut out = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take()?, &mut out).ok()?;
    Some(out)
}

/// The problems `sshd -T`'s output shows (lower-case keys, one setting a line).
pub fn problems_in(config: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let value = |key: &str| {
        config.lines().find_map(|line| {
            let (k, v) = line.split_once(' ')?;
            k.eq_ignore_ascii_case(key).then_some(v.trim())
        })
    };
    if let Some(level) = value("loglevel") {
        let level = level.to_ascii_uppercase();
        if matches!(level.as_str(), "QUIET" | "FATAL" | "ERROR" | "INFO") {
            problems.push(format!(
                "sshd logs at LogLevel {level}: the channels a session opens (shell, command, \
                 sftp) and the key of each login are not logged (needs VERBOSE)"
            ));
        }
    }
    if let Some(sftp) = config.lines().find_map(|line| {
        let rest = line.strip_prefix("subsystem ")?;
        let (name, command) = rest.split_once(' ')?;
        (name == "sftp").then_some(command.trim())
    }) {
        if !logs_transfers(sftp) {
            problems.push(format!(
                "sshd's sftp subsystem `{sftp}` logs no file operations (needs `-l INFO`)"
            ));
        }
    }
    problems
}

/// Whether an sftp subsystem command line logs file operations: `-l` at INFO or above.
fn logs_transfers(command: &str) -> bool {
    let words: Vec<&str> = command.split_whitespace().collect();
    words.iter().enumerate().any(|(i, word)| {
        let level = match word.strip_prefix("-l") {
            Some("") => words.get(i + 1).copied(),
            Some(level) => Some(level),
            None => None,
        };
        level.is_some_and(|l| {
            matches!(
                l.to_ascii_uppercase().as_str(),
                "INFO" | "VERBOSE" | "DEBUG" | "DEBUG1" | "DEBUG2" | "DEBUG3"
            )
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // The relevant lines of `sshd -T` on Debian 12 (OpenSSH 9.2): the stock
    // configuration, then the testbed's.
    const STOCK: &str = "x11forwarding yes\nallowtcpforwarding yes\nloglevel INFO\n\
                         syslogfacility AUTH\nsubsystem sftp /usr/lib/openssh/sftp-server\n";
    const TESTBED: &str = "loglevel VERBOSE\nsubsystem sftp /usr/lib/openssh/sftp-server -l INFO\n";
    const INTERNAL: &str = "loglevel VERBOSE\nsubsystem sftp internal-sftp -l INFO\n";

    #[test]
    fn the_stock_debian_sshd_hides_channels_and_transfers() {
        let problems = problems_in(STOCK);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("LogLevel INFO"));
        assert!(problems[1].contains("/usr/lib/openssh/sftp-server"));
    }

    #[test]
    fn verbose_and_sftp_at_info_hide_nothing() {
        assert!(problems_in(TESTBED).is_empty());
        assert!(problems_in(INTERNAL).is_empty());
        assert!(
            problems_in("loglevel DEBUG3\nsubsystem sftp internal-sftp -lVERBOSE\n").is_empty()
        );
    }

    #[test]
    fn a_quieter_sftp_level_or_none_at_all_is_said() {
        assert_eq!(
            problems_in("loglevel VERBOSE\nsubsystem sftp internal-sftp -l ERROR\n").len(),
            1
        );
        // No sftp subsystem: nothing to log, nothing hidden.
        assert!(problems_in("loglevel VERBOSE\n").is_empty());
    }

    #[test]
    fn an_sshd_that_cannot_run_says_nothing() {
        assert_eq!(logging_problem("/nonexistent/sshd"), None);
    }
}
