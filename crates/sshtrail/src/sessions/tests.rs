//! The recorder across crashes, on a real directory store. The events are made in the
//! shape the tracker makes them (the real ones are exercised end to end by the live
//! daemon tests and `tests/sessions_replay.rs`).

use super::*;
use sshtrail_event::{Action, ActionDetail, Actor, Correlation, Login, Logout, Outcome, Peer};
use sshtrail_sessionstore::Options;
use std::sync::Arc;

fn host() -> Host {
    Host {
        name: "web-1".into(),
        machine_id: "0123456789abcdef0123456789abcdef".into(),
    }
}

fn alice() -> Arc<Actor> {
    Arc::new(Actor {
        logged_as: "alice".into(),
        user_id: "alice".into(),
        pid: Some(900),
        source: Peer::new("10.1.2.3", Some(2222)),
    })
}

fn login(time_ms: u64) -> Event {
    Event::Login(Box::new(Login {
        time_ms,
        audit_id: "42".into(),
        actor: alice(),
        correlation: Correlation::Joined,
        method: "publickey".into(),
        key_type: Some("ED25519".into()),
        fingerprint: None,
        cert: None,
        geo: None,
    }))
}

fn action(time_ms: u64, n: u64) -> Event {
    Event::Action(Box::new(Action {
        time_ms,
        ses: 42,
        actor: alice(),
        correlation: Correlation::Joined,
        outcome: Outcome::Succeeded,
        detail: ActionDetail {
            action: "executed".into(),
            record_type: "SYSCALL".into(),
            sequence: 1000 + n,
            args: vec!["/bin/echo".into(), format!("command-{n}")],
            ..ActionDetail::default()
        },
    }))
}

fn logout(time_ms: u64) -> Event {
    Event::Logout(Box::new(Logout {
        time_ms,
        audit_id: "42".into(),
        actor: alice(),
        start_ms: 1_000,
        actions: 6,
        reason: "session ended (USER_END)".into(),
        session_log: None,
    }))
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
fn session() -> Vec<Event> {
    let mut events = vec![login(1_000)];
    events.extend((0..6).map(|n| action(2_000 + n * 100, n)));
    events.push(logout(9_000));
    events
}

fn digest_of(event: &Event) -> String {
    let Event::Logout(logout) = event else {
        panic!("a logout");
    };
    logout
        .session_log
        .as_ref()
        .expect("a digest")
        .digest
        .clone()
}

/// Records `events`, returning the logout's digest (if it was among them).
fn record(recorder: &mut Recorder, events: &[Event]) -> Option<String> {
    let mut digest = None;
    for event in events {
        let mut event = event.clone();
        recorder.record(&mut event, &host()).expect("recorded");
        if matches!(event, Event::Logout(_)) {
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
