//! The recorder across crashes, on a real directory store. The events are fabricated in
//! the shape the tracker writes (the real ones are exercised end to end by the live
//! daemon tests and `tests/sessions_replay.rs`).

use super::*;
use crate::track::build::rfc3339;
use sshtrail_event::{Host, Source};
use sshtrail_sessionstore::Options;

fn host() -> Host {
    Host {
        name: "web-1".into(),
        machine_id: "0123456789abcdef0123456789abcdef".into(),
    }
}

fn login(time_ms: u64) -> AuditEvent {
    let mut event = AuditEvent::new(
        EventType::UserLogin,
        "sshd",
        rfc3339(time_ms),
        "42".into(),
        Outcome::Succeeded,
        &host(),
    )
    .subject("loggedAs", "alice")
    .subject("userID", "alice")
    .subject("pid", 900);
    event.source = Source::ip("10.1.2.3", Some(2222));
    event.data = Some(serde_json::json!({"method": "publickey", "key_type": "ED25519"}));
    event
        .metadata
        .extra
        .insert("correlation".into(), "joined".into());
    event
}

fn action(time_ms: u64, n: u64) -> AuditEvent {
    let mut event = AuditEvent::new(
        EventType::UserAction,
        "auditd",
        rfc3339(time_ms),
        "42".into(),
        Outcome::Succeeded,
        &host(),
    )
    .subject("loggedAs", "alice");
    let extra = serde_json::json!({
        "action": "executed",
        "record_type": "SYSCALL",
        "sequence": 1000 + n,
        "process_args": ["/bin/echo", format!("command-{n}")],
        "correlation": "joined",
    });
    if let serde_json::Value::Object(map) = extra {
        event.metadata.extra = map;
    }
    event
}

fn logout(time_ms: u64) -> AuditEvent {
    let mut event = AuditEvent::new(
        EventType::UserLogout,
        "sshd",
        rfc3339(time_ms),
        "42".into(),
        Outcome::Succeeded,
        &host(),
    );
    event.data = Some(serde_json::json!({"reason": "session ended (USER_END)", "actions": 6}));
    event
}

struct Dir(std::path::PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let dir =
            std::env::temp_dir().join(format!("sshtrail-recorder-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        Dir(dir)
    }

    fn recorder(&self) -> Recorder {
        let url = format!("file://{}", self.0.display());
        let store = sshtrail_sessionstore::open(&url, &Options::default()).expect("store");
        Recorder::new(store, "fedcba98-7654-3210-fedc-ba9876543210")
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The session's events in order: login, 6 actions, logout.
fn session() -> Vec<AuditEvent> {
    let mut events = vec![login(1_000)];
    events.extend((0..6).map(|n| action(2_000 + n * 100, n)));
    events.push(logout(9_000));
    events
}

fn digest_of(event: &AuditEvent) -> String {
    event.data.as_ref().expect("data")["session_log_digest"]
        .as_str()
        .expect("a digest")
        .to_string()
}

/// Records `events`, returning the logout's digest (if it was among them).
fn record(recorder: &mut Recorder, events: &[AuditEvent]) -> Option<String> {
    let mut digest = None;
    for event in events {
        let mut event = event.clone();
        recorder.record(&mut event).expect("recorded");
        if event.event_type == EventType::UserLogout {
            digest = Some(digest_of(&event));
        }
    }
    digest
}

/// (Each test its own directory: tests run in parallel.)
fn uninterrupted_digest(test: &str) -> String {
    let dir = Dir::new(&format!("whole-{test}"));
    record(&mut dir.recorder(), &session()).expect("digest")
}

fn log_commands(dir: &Dir) -> Vec<String> {
    let id = "0123456789ab-fedcba98-42";
    let file = std::fs::File::open(dir.0.join(format!("{id}.sshlog"))).expect("log");
    let reader = sshtrail_sessionlog::Reader::new(std::io::BufReader::new(file)).expect("reader");
    reader
        .filter_map(|entry| match entry.expect("whole records").message {
            sshtrail_sessionlog::Message::Action(a) => Some(a.argv.join(" ")),
            _ => None,
        })
        .collect()
}

#[test]
fn a_crash_after_a_checkpoint_rewrites_what_followed_it_once() {
    let dir = Dir::new("crash");
    let events = session();
    let mut before = dir.recorder();
    record(&mut before, &events[..3]);
    before.sync().expect("sync");
    let checkpoint = before.snapshot();
    // Written after the checkpoint, then lost to kill -9 as far as the checkpoint knows.
    record(&mut before, &events[3..6]);
    drop(before);

    let mut after = dir.recorder();
    assert_eq!(after.restore(checkpoint).expect("restore"), 1);
    // The sources resume at the checkpoint: everything after it comes again.
    let digest = record(&mut after, &events[3..]).expect("digest");
    assert_eq!(digest, uninterrupted_digest("crash"));
    let commands = log_commands(&dir);
    assert_eq!(commands.len(), 6, "{commands:?}");
    for n in 0..6 {
        assert_eq!(
            commands
                .iter()
                .filter(|c| **c == format!("/bin/echo command-{n}"))
                .count(),
            1
        );
    }
}

#[test]
fn a_crash_after_the_log_was_sealed_but_before_the_checkpoint_keeps_the_log_and_its_digest() {
    let dir = Dir::new("sealed");
    let events = session();
    let mut before = dir.recorder();
    record(&mut before, &events[..4]);
    before.sync().expect("sync");
    let checkpoint = before.snapshot();
    let sealed = record(&mut before, &events[4..]).expect("digest");
    drop(before);

    let mut after = dir.recorder();
    assert_eq!(
        after.restore(checkpoint).expect("restore"),
        0,
        "nothing to reopen"
    );
    let again = record(&mut after, &events[4..]).expect("the repeated logout has the digest");
    assert_eq!(again, sealed);
    assert_eq!(sealed, uninterrupted_digest("sealed"));
    assert_eq!(
        log_commands(&dir).len(),
        6,
        "nothing appended to the sealed log"
    );
}

#[test]
fn events_after_the_logout_do_not_reopen_the_log() {
    let dir = Dir::new("late");
    let mut recorder = dir.recorder();
    let digest = record(&mut recorder, &session()).expect("digest");
    record(&mut recorder, &[action(9_500, 99)]);
    assert_eq!(recorder.stats().late_events, 1);
    assert_eq!(log_commands(&dir).len(), 6);
    let file = std::fs::File::open(dir.0.join("0123456789ab-fedcba98-42.sshlog")).expect("log");
    assert!(sshtrail_sessionlog::verify(file).matches(&digest));
}
