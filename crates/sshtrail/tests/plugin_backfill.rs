//! The `plugin` source cannot rewind: auditd hands a restarted plugin only new records.
//! What happened while sshtrail was down is read back from auditd's own log directory,
//! above the checkpoint's high-water mark, and what is in neither is reported.
//!
//! Records: a real SSH login captured from this machine's auditd
//! (`crates/audit/tests/data/ssh-login.log`, 19 events). The test plays auditd: the whole
//! capture is "its log", and slices of it are what it writes to the plugin's stdin.

mod support;

use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The capture's lines grouped by event serial, in order.
fn events_by_serial() -> Vec<(u64, Vec<String>)> {
    let text = std::fs::read_to_string(repo().join("crates/audit/tests/data/ssh-login.log"))
        .expect("fixture");
    let mut events: Vec<(u64, Vec<String>)> = Vec::new();
    for line in text.lines() {
        let serial: u64 = line
            .split_once("msg=audit(")
            .and_then(|(_, rest)| rest.split_once(':'))
            .and_then(|(_, rest)| rest.split_once(')'))
            .and_then(|(serial, _)| serial.parse().ok())
            .expect("a record with a serial");
        match events.last_mut() {
            Some((last, lines)) if *last == serial => lines.push(line.to_string()),
            _ => events.push((serial, vec![line.to_string()])),
        }
    }
    events
}

fn lines_of(events: &[(u64, Vec<String>)]) -> String {
    events
        .iter()
        .flat_map(|(_, lines)| lines.iter().map(|l| format!("{l}\n")))
        .collect()
}

struct Plugin {
    child: Child,
    output: PathBuf,
}

impl Plugin {
    fn start(dir: &Path) -> Plugin {
        let child = Command::new(env!("CARGO_BIN_EXE_sshtrail"))
            .args(["run", "--audit-source", "plugin", "--audit-log-dir"])
            .arg(dir.join("audit"))
            .args(["--sshd-source", "syslog", "--sshd-log"])
            .arg(dir.join("auth.log"))
            .arg("--output")
            .arg(dir.join("events.json"))
            .arg("--state-dir")
            .arg(dir.join("state"))
            .args(["--metrics-listen", "off"])
            // No sshd lines here (the syslog file stays empty, so that source is idle):
            // the session is attributed from the audit records alone once the grace
            // has passed.
            .args(["--join-deadline-ms", "300", "--join-grace-ms", "300"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start sshtrail run");
        Plugin {
            child,
            output: dir.join("events.json"),
        }
    }

    fn feed(&mut self, records: &str) {
        let stdin = self.child.stdin.as_mut().expect("stdin");
        stdin.write_all(records.as_bytes()).expect("write records");
        stdin.flush().expect("flush");
    }

    fn events(&self) -> Vec<Value> {
        support::complete_events(&self.output)
    }

    fn wait_for(&self, what: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let events = self.events();
            if done(&events) {
                return events;
            }
            assert!(Instant::now() < deadline, "waiting for {what}: {events:#?}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn crash(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn stop(mut self) -> Vec<Value> {
        drop(self.child.stdin.take());
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let status = self.child.wait().expect("wait");
        assert!(status.success(), "{status}");
        self.events()
    }
}

impl Drop for Plugin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn work_dir(name: &str, log: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sshtrail-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("audit")).expect("dir");
    std::fs::write(dir.join("audit/audit.log"), log).expect("audit log");
    std::fs::write(dir.join("auth.log"), "").expect("auth log");
    dir
}

/// The audit sequence numbers of the events written, each as often as it was written.
fn sequences(events: &[Value]) -> Vec<u64> {
    let mut found: Vec<u64> = events
        .iter()
        .filter(|e| e["type"] == "UserAction")
        .filter_map(|e| e["metadata"]["extra"]["sequence"].as_u64())
        .collect();
    found.sort_unstable();
    found
}

fn system<'a>(events: &'a [Value], action: &str) -> Vec<&'a Value> {
    events
        .iter()
        .filter(|e| e["type"] == "SystemAction" && e["data"]["action"] == action)
        .collect()
}

/// What one uninterrupted run makes of the whole capture (`name`: the calling test's,
/// for a directory of its own: tests run at the same time).
fn reference(name: &str, all: &[(u64, Vec<String>)]) -> Vec<u64> {
    let dir = work_dir(&format!("{name}-reference"), "");
    let mut plugin = Plugin::start(&dir);
    plugin.feed(&lines_of(all));
    plugin.wait_for("the logout", |e| {
        e.iter().any(|e| e["type"] == "UserLogout")
    });
    let events = plugin.stop();
    let _ = std::fs::remove_dir_all(&dir);
    sequences(&events)
}

/// Run 1 is given the first events and killed; while it is down auditd logs more; run 2
/// is given only what auditd sends after the restart (overlapping what the log has).
fn crash_and_restart(name: &str, log: &str, all: &[(u64, Vec<String>)]) -> (PathBuf, Vec<Value>) {
    let dir = work_dir(name, log);
    let mut first = Plugin::start(&dir);
    first.feed(&lines_of(&all[..6]));
    let sixth = all[5].0;
    first.wait_for("the first events", |e| {
        e.iter()
            .any(|e| e["metadata"]["extra"]["sequence"].as_u64() >= Some(sixth - 1))
    });
    std::thread::sleep(Duration::from_millis(2500)); // a checkpoint covers them
    first.crash();

    let mut second = Plugin::start(&dir);
    second.feed(&lines_of(&all[all.len() - 7..]));
    second.wait_for("the logout", |e| {
        e.iter().any(|e| e["type"] == "UserLogout")
    });
    std::thread::sleep(Duration::from_millis(800)); // anything repeated would show by now
    let events = second.stop();
    (dir, events)
}

#[test]
fn events_missed_while_down_are_backfilled_from_the_log_once() {
    let all = events_by_serial();
    assert_eq!(all.len(), 19);
    let expected = reference("backfill", &all);
    assert!(expected.len() >= 10, "{expected:?}");

    let (dir, events) = crash_and_restart("backfill", &lines_of(&all), &all);
    assert_eq!(
        sequences(&events),
        expected,
        "every event exactly once: those before the crash, those only in the log, and \
         those both backfilled and sent again on stdin"
    );
    let backfilled = system(&events, "audit-backfilled");
    assert_eq!(backfilled.len(), 1);
    assert_eq!(backfilled[0]["outcome"], "succeeded");
    assert!(
        backfilled[0]["data"]["records_backfilled"].as_u64() > Some(0),
        "{}",
        backfilled[0]
    );
    assert!(system(&events, "audit-records-lost").is_empty());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn what_neither_the_log_nor_the_stream_has_is_reported_lost() {
    let all = events_by_serial();
    // auditd's log no longer reaches back to the events just after the crash (rotated
    // away): four serials are in neither the log nor the stream.
    let log = lines_of(&all[10..]);
    let (dir, events) = crash_and_restart("backfill-gap", &log, &all);
    let lost = system(&events, "audit-records-lost");
    assert_eq!(lost.len(), 1, "{events:#?}");
    assert_eq!(lost[0]["data"]["count"], 4);
    assert_eq!(lost[0]["data"]["after_sequence"], all[5].0);
    let written = sequences(&events);
    for (serial, _) in &all[6..10] {
        assert!(
            !written.contains(serial),
            "{serial} cannot have been written"
        );
    }
    let mut unique = written.clone();
    unique.dedup();
    assert_eq!(unique, written, "nothing twice");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_log_directory_that_cannot_be_read_is_reported_with_the_time_span() {
    let all = events_by_serial();
    let dir = work_dir("backfill-nolog", "");
    let mut first = Plugin::start(&dir);
    first.feed(&lines_of(&all[..3]));
    std::thread::sleep(Duration::from_millis(2500));
    first.crash();
    std::fs::remove_dir_all(dir.join("audit")).expect("remove the log dir");
    let mut second = Plugin::start(&dir);
    second.feed(&lines_of(&all[3..]));
    second.wait_for("the logout", |e| {
        e.iter().any(|e| e["type"] == "UserLogout")
    });
    let events = second.stop();
    let failed = system(&events, "audit-backfill-failed");
    assert_eq!(failed.len(), 1, "{events:#?}");
    assert_eq!(failed[0]["outcome"], "failed");
    for key in ["since", "until", "error"] {
        assert!(failed[0]["data"][key].is_string(), "{key}: {}", failed[0]);
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_new_boot_counting_serials_from_1_again_is_not_taken_for_repeats() {
    let all = events_by_serial();
    let expected = reference("next-boot", &all).len();
    // The next boot's records, an hour later. Their serials (1–19) are below the old
    // mark.
    let later = support::as_next_boot(&lines_of(&all), 3_600);

    // Run 1 writes the whole capture and stops; then the host "reboots": auditd's log
    // goes on with the new boot's records, and the plugin is started again and given
    // the same records on stdin (the backfill and the stream overlap).
    let dir = work_dir("backfill-next-boot", &lines_of(&all));
    let mut first = Plugin::start(&dir);
    first.feed(&lines_of(&all));
    first.wait_for("the logout", |e| {
        e.iter().any(|e| e["type"] == "UserLogout")
    });
    first.stop();
    let mut log = std::fs::OpenOptions::new()
        .append(true)
        .open(dir.join("audit/audit.log"))
        .expect("audit log");
    log.write_all(later.as_bytes())
        .expect("append the new boot's records");
    drop(log);

    let mut second = Plugin::start(&dir);
    second.feed(&later);
    let new_boot = |events: &[Value]| -> Vec<u64> {
        sequences(events)
            .into_iter()
            .filter(|s| *s <= all.len() as u64)
            .collect()
    };
    second.wait_for("the new boot's events", |e| new_boot(e).len() >= expected);
    std::thread::sleep(Duration::from_millis(800)); // anything repeated would show by now
    let events = second.stop();
    let written = new_boot(&events);
    assert_eq!(
        written.len(),
        expected,
        "every event of the new boot: {written:?}"
    );
    let mut unique = written.clone();
    unique.dedup();
    assert_eq!(unique, written, "and none twice");
    let _ = std::fs::remove_dir_all(dir);
}
