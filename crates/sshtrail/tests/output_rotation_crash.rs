//! `kill -9` of the daemon after its output file rotated past the last checkpoint, then a
//! restart: every event is in the output files exactly once.
//!
//! The output rotates at 4,000 bytes (`--output-max-bytes`), so one batch of events
//! rotates it several times. The daemon checkpoints the output's (inode, length) every
//! second; the kill lands after the second batch was written and rotated, before a
//! checkpoint covered it, so the file the checkpoint names is no longer `events.json`
//! but one of the rotated ones. On restart the daemon must put the files back as they
//! were at the checkpoint before it writes the second batch again.
//!
//! Needs no root and no kernel: the audit log is a temporary directory the test writes
//! like auditd would, with the records of the real capture `examples/sshd-session.audit.log`.
//! Each batch is a copy of the capture with its serials and time stamps renumbered
//! (copy `n`: serials + n·1000, times + n·100 s) so that every event of every copy is
//! distinct; a UserAction names its audit serial in `metadata.extra.sequence`.
//!
//! A second sink (`--sink file://…/copy.json`, not rotated) is cut back to its own mark
//! in the same checkpoint: after the restart it holds the very same lines as the rotated
//! output, and every event's `metadata.eventId` is in each exactly once.

mod support;

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::renumbered_capture as batch;

const MAX_BYTES: u64 = 4000;
const KEEP: u32 = 20;
const ATTEMPTS: usize = 5;
/// Kill once second-batch events are in `events.json.<KILL_AT>`.
const KILL_AT: u32 = 3;

struct Setup {
    dir: PathBuf,
    audit_log: PathBuf,
    output: PathBuf,
    state: PathBuf,
}

impl Setup {
    fn new(attempt: usize) -> Setup {
        let dir = std::env::temp_dir().join(format!(
            "sshtrail-rotation-crash-{}-{attempt}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("audit")).expect("dirs");
        let audit_log = dir.join("audit/audit.log");
        std::fs::write(&audit_log, b"").expect("audit.log");
        std::fs::write(dir.join("auth.log"), b"").expect("auth.log");
        Setup {
            output: dir.join("events.json"),
            state: dir.join("state"),
            audit_log,
            dir,
        }
    }

    fn start(&self, run: usize) -> Daemon {
        let stderr = std::fs::File::create(self.dir.join(format!("stderr.{run}"))).expect("log");
        let child = Command::new(env!("CARGO_BIN_EXE_sshtrail"))
            .args(["run", "--audit-source", "file", "--audit-log-dir"])
            .arg(self.dir.join("audit"))
            .args(["--sshd-source", "syslog", "--sshd-log"])
            .arg(self.dir.join("auth.log"))
            .arg("--output")
            .arg(&self.output)
            .args(["--output-max-bytes", &MAX_BYTES.to_string()])
            .args(["--output-keep", &KEEP.to_string()])
            .arg("--state-dir")
            .arg(&self.state)
            .args(["--metrics-listen", "off", "--join-deadline-ms", "200"])
            .arg("--sink")
            .arg(format!("file://{}", self.copy().display()))
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("start the daemon");
        Daemon(child)
    }

    fn append(&self, text: &str) {
        let mut log = std::fs::OpenOptions::new()
            .append(true)
            .open(&self.audit_log)
            .expect("audit.log");
        log.write_all(text.as_bytes()).expect("append");
    }

    /// The second sink's file.
    fn copy(&self) -> PathBuf {
        self.dir.join("copy.json")
    }

    /// `events.json.<n>` (0: `events.json` itself).
    fn file(&self, n: u32) -> PathBuf {
        if n == 0 {
            self.output.clone()
        } else {
            PathBuf::from(format!("{}.{n}", self.output.display()))
        }
    }

    /// Every line of the output, oldest file first. A line cut short (the last one, while
    /// the daemon writes or after a kill) is returned as an error.
    fn lines(&self) -> Vec<Result<Value, String>> {
        let mut lines = Vec::new();
        for n in (0..=KEEP + 1).rev() {
            let Ok(text) = std::fs::read_to_string(self.file(n)) else {
                continue;
            };
            for line in text.split_inclusive('\n') {
                lines.push(serde_json::from_str(line).map_err(|_| line.to_string()));
            }
        }
        lines
    }

    /// How many times each UserAction's serial appears, and how many `daemon-started`.
    fn tally(&self) -> (BTreeMap<u64, usize>, usize) {
        let mut actions = BTreeMap::new();
        let mut started = 0;
        for event in self.lines().into_iter().flatten() {
            if event["type"] == "UserAction" {
                if let Some(serial) = event["metadata"]["extra"]["sequence"].as_u64() {
                    *actions.entry(serial).or_insert(0) += 1;
                }
            }
            if event["type"] == "SystemAction" && event["data"]["action"] == "daemon-started" {
                started += 1;
            }
        }
        (actions, started)
    }

    /// The output mark of the last checkpoint: (inode, length, saved_at_ms).
    fn checkpoint(&self) -> Option<(u64, u64, u64)> {
        let text = std::fs::read_to_string(self.state.join("checkpoint.json")).ok()?;
        let value: Value = serde_json::from_str(&text).ok()?;
        Some((
            value["output"]["inode"].as_u64()?,
            value["output"]["length"].as_u64()?,
            value["saved_at_ms"].as_u64()?,
        ))
    }

    /// Which output file has this inode: 0 for `events.json`, n for `events.json.n`.
    fn slot_of(&self, inode: u64) -> Option<u32> {
        (0..=KEEP).find(|n| std::fs::metadata(self.file(*n)).is_ok_and(|m| m.ino() == inode))
    }

    fn contains_any(&self, n: u32, serials: &BTreeSet<u64>) -> bool {
        let Ok(text) = std::fs::read_to_string(self.file(n)) else {
            return false;
        };
        text.lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .any(|e| {
                e["metadata"]["extra"]["sequence"]
                    .as_u64()
                    .is_some_and(|s| serials.contains(&s))
            })
    }
}

/// The daemon, killed if a failed assertion leaves it running.
struct Daemon(Child);

impl Daemon {
    fn alive(&mut self) -> bool {
        self.0.try_wait().expect("status").is_none()
    }

    fn kill_9(mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }

    fn terminate(mut self) -> std::process::ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        self.0.wait().expect("wait")
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_until(what: &str, daemon: &mut Daemon, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(daemon.alive(), "the daemon exited while waiting: {what}");
        assert!(Instant::now() < deadline, "timed out: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// One run of the scenario. Returns whether the kill landed where it should: the file the
/// last checkpoint names had been rotated away from `events.json`.
fn scenario(attempt: usize) -> bool {
    let setup = Setup::new(attempt);
    let (first, first_serials) = batch(0);
    let (second, second_serials) = batch(1);
    assert_eq!(
        first_serials.len(),
        43,
        "the capture's events with a session"
    );
    let expected: BTreeSet<u64> = first_serials.union(&second_serials).copied().collect();

    let mut daemon = setup.start(1);
    // Without a checkpoint the daemon starts at the end of audit.log: append only now.
    wait_until("daemon-started", &mut daemon, || setup.tally().1 == 1);
    setup.append(&first);
    wait_until("the first batch written", &mut daemon, || {
        let actions = setup.tally().0;
        first_serials.iter().all(|s| actions.contains_key(s))
    });
    // A checkpoint (within a second of a change) covers the first batch: its mark is
    // the whole of events.json as the first batch left it.
    let written = std::fs::metadata(setup.file(0)).map_or(0, |m| m.len());
    wait_until("a checkpoint covering the first batch", &mut daemon, || {
        setup
            .checkpoint()
            .is_some_and(|(_, length, _)| length >= written)
    });
    let (mark_inode, _, _) = setup.checkpoint().expect("a checkpoint");
    assert_eq!(
        setup.slot_of(mark_inode),
        Some(0),
        "checkpoint names events.json"
    );

    // The second batch rotates the output several times; kill as soon as it went into
    // `events.json.KILL_AT`: rotated that many times since the checkpoint.
    setup.append(&second);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !setup.contains_any(KILL_AT, &second_serials) {
        assert!(daemon.alive(), "the daemon exited");
        assert!(
            Instant::now() < deadline,
            "the second batch never rotated out"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    daemon.kill_9();

    let (mark_inode, mark_length, saved_at) = setup.checkpoint().expect("a checkpoint");
    let slot = setup.slot_of(mark_inode);
    let rotated_after_checkpoint = slot.is_some_and(|s| s > 0);
    let before = setup.tally().0;
    let written_twice_if_not_cut = second_serials
        .iter()
        .filter(|s| before.contains_key(s))
        .count();
    eprintln!(
        "attempt {attempt}: checkpoint saved at {saved_at} names inode {mark_inode} length \
         {mark_length}, now events.json{}; {written_twice_if_not_cut} second-batch events \
         written before the kill",
        match slot {
            Some(0) => String::new(),
            Some(n) => format!(".{n}"),
            None => " (gone)".to_string(),
        }
    );

    let mut daemon = setup.start(2);
    wait_until("daemon-started again", &mut daemon, || setup.tally().1 == 2);
    wait_until("every event written", &mut daemon, || {
        let actions = setup.tally().0;
        expected.iter().all(|s| actions.contains_key(s))
    });
    // Anything written twice would have been written by now (the deadline is 200 ms).
    std::thread::sleep(Duration::from_millis(1500));
    let status = daemon.terminate();
    assert!(status.success(), "clean stop: {status}");
    let log = std::fs::read_to_string(setup.dir.join("stderr.2")).unwrap_or_default();
    for line in log.lines().filter(|l| l.contains("mark")) {
        eprintln!("attempt {attempt}, restart: {line}");
    }

    let lines = setup.lines();
    let broken: Vec<&String> = lines.iter().filter_map(|l| l.as_ref().err()).collect();
    assert!(broken.is_empty(), "lines that are not JSON: {broken:?}");
    let (actions, _) = setup.tally();
    let wrong: Vec<(u64, usize)> = actions
        .iter()
        .filter(|(serial, count)| **count != 1 || !expected.contains(serial))
        .map(|(s, c)| (*s, *c))
        .collect();
    assert!(
        wrong.is_empty(),
        "attempt {attempt} (rotated after the checkpoint: {rotated_after_checkpoint}): \
         UserActions not exactly once (serial, times): {wrong:?}"
    );
    assert!(
        !setup.file(KEEP).exists(),
        "rotation reached events.json.{KEEP}: events may have been dropped, raise KEEP"
    );
    let missing: Vec<&u64> = expected
        .iter()
        .filter(|s| !actions.contains_key(s))
        .collect();
    assert!(missing.is_empty(), "missing: {missing:?}");
    // Logouts have no serial: (session, time) names each, and each copy has three.
    let mut logouts = BTreeMap::new();
    for event in lines.iter().flatten() {
        if event["type"] == "UserLogout" {
            let key = format!("{} {}", event["metadata"]["auditId"], event["loggedAt"]);
            *logouts.entry(key).or_insert(0) += 1;
        }
    }
    assert_eq!(logouts.len(), 6, "{logouts:?}");
    assert!(logouts.values().all(|n| *n == 1), "{logouts:?}");

    // Every event has its id, once; the second sink has the same lines in the same order.
    let mut ids = BTreeMap::new();
    for event in lines.iter().flatten() {
        let id = event["metadata"]["eventId"].as_str().unwrap_or_default();
        assert_eq!(id.len(), 32, "an eventId: {event}");
        *ids.entry(id.to_string()).or_insert(0) += 1;
    }
    let repeated: Vec<_> = ids.iter().filter(|(_, n)| **n != 1).collect();
    assert!(repeated.is_empty(), "eventIds not once: {repeated:?}");
    let copy = std::fs::read_to_string(setup.copy()).expect("the second sink's file");
    let main: String = lines
        .iter()
        .flatten()
        .map(|event| format!("{event}\n"))
        .collect();
    let copied: String = copy
        .lines()
        .map(|line| {
            let event: Value = serde_json::from_str(line).expect("a whole JSON line");
            format!("{event}\n")
        })
        .collect();
    assert_eq!(copied, main, "the second sink holds what the output holds");

    let _ = std::fs::remove_dir_all(&setup.dir);
    rotated_after_checkpoint
}

#[test]
fn kill_after_rotation_past_the_checkpoint_writes_every_event_once() {
    let mut exercised = 0;
    for attempt in 0..ATTEMPTS {
        if scenario(attempt) {
            exercised += 1;
            break;
        }
    }
    assert!(
        exercised > 0,
        "in {ATTEMPTS} attempts the kill never landed after a rotation past the checkpoint"
    );
}
