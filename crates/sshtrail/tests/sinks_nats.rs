//! `--sink nats://…`: the daemon's events into a real `nats-server` with JetStream, each
//! exactly once, while the server is killed and restarted and while the daemon is
//! killed and restarted; the file output meanwhile goes on as if NATS were not there.
//!
//! Needs no root and no kernel: the audit log is a temporary directory the test writes
//! like auditd would, with copies of the real capture `examples/sshd-session.audit.log`
//! renumbered so that every event is distinct (see `support::renumbered_capture`).
//! Skips when `nats-server` is not installed, unless `SSHTRAIL_REQUIRE_LIVE=1`.

mod support;

use support::wait_until;

use serde_json::Value;
use sshtrail_nats::testing::{installed, Server};
use sshtrail_nats::{subject_for, JetStream, NatsTarget, Stored};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::{action_serials, complete_events, event_id, renumbered_capture, system_actions};

struct Setup {
    dir: PathBuf,
    output: PathBuf,
    sink: String,
}

impl Setup {
    fn new(name: &str, sink: String) -> Setup {
        let dir = std::env::temp_dir().join(format!("sshtrail-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("audit")).expect("dirs");
        std::fs::write(dir.join("audit/audit.log"), b"").expect("audit.log");
        std::fs::write(dir.join("auth.log"), b"").expect("auth.log");
        Setup {
            output: dir.join("events.json"),
            dir,
            sink,
        }
    }

    fn start(&self, run: usize) -> Child {
        let stderr = std::fs::File::create(self.dir.join(format!("stderr.{run}"))).expect("log");
        Command::new(env!("CARGO_BIN_EXE_sshtrail"))
            .args(["run", "--audit-source", "file", "--audit-log-dir"])
            .arg(self.dir.join("audit"))
            .args(["--sshd-source", "syslog", "--sshd-log"])
            .arg(self.dir.join("auth.log"))
            .arg("--output")
            .arg(&self.output)
            .arg("--state-dir")
            .arg(self.dir.join("state"))
            .args(["--metrics-listen", "off", "--join-deadline-ms", "200"])
            .args(["--sink", &self.sink])
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("start the daemon")
    }

    /// Appends copies `copies` of the capture; the serials of their UserActions.
    fn append(&self, copies: std::ops::RangeInclusive<u64>) -> BTreeSet<u64> {
        let mut log = std::fs::OpenOptions::new()
            .append(true)
            .open(self.dir.join("audit/audit.log"))
            .expect("audit.log");
        let mut serials = BTreeSet::new();
        for n in copies {
            let (text, with_session) = renumbered_capture(n);
            log.write_all(text.as_bytes()).expect("append");
            serials.extend(with_session);
        }
        serials
    }

    fn events(&self) -> Vec<Value> {
        complete_events(&self.output)
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// What the stream holds now (empty while the server is unreachable).
fn stored(url: &str) -> Vec<Stored> {
    let Ok(target) = NatsTarget::parse(url) else {
        panic!("the test's URL parses");
    };
    JetStream::connect(&target)
        .and_then(|js| js.stored_messages())
        .unwrap_or_default()
}

/// Waits until the stream holds as many messages as the output has events.
fn wait_delivered(setup: &Setup, url: &str, what: &str) -> (Vec<Value>, Vec<Stored>) {
    wait_until(what, 90, || {
        let events = setup.events();
        let messages = stored(url);
        (!events.is_empty() && messages.len() >= events.len()).then_some((events, messages))
    })
}

#[test]
fn every_event_reaches_the_stream_once_across_kills_of_the_server_and_the_daemon() {
    if !installed("sinks_nats") {
        return;
    }
    let mut server = Server::start("daemon-sink", &[]);
    let url = server.url("stream=TRAIL&create=true&ack_timeout_ms=1000&connect_timeout_ms=1000");
    let setup = Setup::new("sinks-nats", url.clone());
    let mut daemon = setup.start(1);

    // Without a checkpoint the daemon starts at the end of audit.log: append only now.
    wait_until("daemon-started", 30, || {
        (system_actions(&setup.events(), "daemon-started") == 1).then_some(())
    });
    // 1. The server is up: the events of a first copy arrive.
    let mut expected = setup.append(0..=0);
    wait_until("the first copy in the output", 30, || {
        action_serials(&setup.events())
            .is_superset(&expected)
            .then_some(())
    });
    wait_delivered(&setup, &url, "the first copy in the stream");

    // 2. The server is killed: the output goes on by itself, the sink reports failing.
    server.kill9();
    expected.extend(setup.append(1..=1));
    wait_until(
        "the second copy in the output while NATS is down",
        30,
        || {
            let events = setup.events();
            (action_serials(&events).is_superset(&expected)
                && system_actions(&events, "sink-failed") > 0)
                .then_some(())
        },
    );

    // 3. The server is back: what was spooled is sent on, and the sink says so.
    server.run();
    wait_until("sink-recovered", 90, || {
        (system_actions(&setup.events(), "sink-recovered") > 0).then_some(())
    });
    let (_, before) = wait_delivered(&setup, &url, "the spooled events in the stream");

    // 4. The daemon is killed as soon as the stream takes some of what came next, so
    //    most likely between the stream's ack and the spool's note of it.
    expected.extend(setup.append(2..=6));
    wait_until("the stream to grow", 60, || {
        (stored(&url).len() > before.len()).then_some(())
    });
    let _ = daemon.kill();
    let _ = daemon.wait();
    let mut daemon = setup.start(2);
    wait_until("every copy in the output after the restart", 60, || {
        action_serials(&setup.events())
            .is_superset(&expected)
            .then_some(())
    });
    // Judged once output and stream agree in size and stay so for 3 s (time for a
    // duplicate, were there one, to arrive).
    let mut agreed_since: Option<(Instant, usize)> = None;
    let (events, messages) = wait_until("output and stream to settle", 90, || {
        let events = setup.events();
        let messages = stored(&url);
        if messages.len() != events.len() {
            agreed_since = None;
            return None;
        }
        match agreed_since {
            Some((since, n)) if n == events.len() => {
                (since.elapsed() >= Duration::from_secs(3)).then_some((events, messages))
            }
            _ => {
                agreed_since = Some((Instant::now(), events.len()));
                None
            }
        }
    });
    let _ = daemon.kill();
    let _ = daemon.wait();

    // The output holds each event once…
    let file_ids: Vec<String> = events.iter().map(event_id).collect();
    let unique: BTreeSet<&String> = file_ids.iter().collect();
    assert_eq!(unique.len(), file_ids.len(), "an event twice in the output");
    assert_eq!(
        action_serials(&events),
        expected,
        "every UserAction in the output"
    );
    // …and the stream holds exactly the output's events, each once, byte for byte.
    let by_id: BTreeMap<String, &Value> = events.iter().map(|e| (event_id(e), e)).collect();
    let mut seen = BTreeSet::new();
    for message in &messages {
        let id = message.id.clone().expect("every message has a Nats-Msg-Id");
        assert!(seen.insert(id.clone()), "{id} twice in the stream");
        let event = by_id
            .get(&id)
            .unwrap_or_else(|| panic!("{id} is in the stream but not in the output"));
        let payload: Value = serde_json::from_slice(&message.payload).expect("a JSON payload");
        assert_eq!(&&payload, event, "the message is the output's line");
        let host = event["target"]["host"].as_str().expect("target.host");
        let kind = event["type"].as_str().expect("type");
        assert_eq!(message.subject, subject_for("sshtrail", host, kind));
    }
    assert_eq!(
        seen.len(),
        by_id.len(),
        "every event of the output is in the stream"
    );
    assert!(
        system_actions(&events, "daemon-started") >= 2,
        "both runs are in the output and the stream"
    );
    drop(server);
}
