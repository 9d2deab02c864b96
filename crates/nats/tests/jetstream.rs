//! Against a real `nats-server` with JetStream on loopback (Debian package `nats-server`,
//! installed by scripts/install-deps). Skips, saying why, when it is not installed.

use bytes::Bytes;
use sshtrail_nats::testing::{installed, Server};
use sshtrail_nats::{subject_for, JetStream, Message, NatsError, NatsTarget};
use std::time::{Duration, Instant};

fn events(host: &str, n: usize) -> Vec<Message> {
    (0..n)
        .map(|i| Message {
            subject: subject_for("sshtrail", host, "UserAction"),
            id: format!("{host}-{i:08}"),
            payload: Bytes::from(format!("{{\"n\":{i}}}\n")),
        })
        .collect()
}

fn connect(url: &str) -> JetStream {
    JetStream::connect(&NatsTarget::parse(url).unwrap()).unwrap()
}

#[test]
fn every_message_is_stored_once_and_a_resent_batch_is_all_duplicates() {
    if !installed("every_message_is_stored_once_and_a_resent_batch_is_all_duplicates") {
        return;
    }
    let server = Server::start("once", &[]);
    let js = connect(&server.url("create=true"));
    let batch = events("web-1", 700);
    let first = js.publish_all(&batch).unwrap();
    assert_eq!((first.published, first.duplicates), (700, 0));
    let again = js.publish_all(&batch).unwrap();
    assert_eq!((again.published, again.duplicates), (700, 700));
    assert_eq!(js.stream_messages().unwrap(), 700);
}

#[test]
fn a_server_killed_mid_stream_and_restarted_holds_every_message_once() {
    if !installed("a_server_killed_mid_stream_and_restarted_holds_every_message_once") {
        return;
    }
    let mut server = Server::start("sigkill", &[]);
    let url = server.url("create=true&ack_timeout_ms=1000&connect_timeout_ms=1000");
    let batch = events("db.example.com", 2000);
    let js = connect(&url);
    js.publish_all(&batch[..1000]).unwrap();
    server.kill9();
    let failed = js.publish_all(&batch[1000..]);
    assert!(matches!(failed, Err(NatsError::Publish(_))), "{failed:?}");
    server.run();
    // The client reconnects by itself; a retry of everything, the part that was stored
    // included, stores each message once.
    let deadline = Instant::now() + Duration::from_secs(20);
    let report = loop {
        match js.publish_all(&batch) {
            Ok(report) => break report,
            Err(e) => {
                assert!(Instant::now() < deadline, "no reconnect: {e}");
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    };
    assert_eq!(report.published, 2000);
    assert!(report.duplicates >= 1000, "{report:?}");
    assert_eq!(js.stream_messages().unwrap(), 2000);
    // What a consumer reads: each id once, in the order sent, with its own payload.
    let stored = js.stored_messages().unwrap();
    let ids: Vec<String> = stored.iter().filter_map(|m| m.id.clone()).collect();
    let sent: Vec<String> = batch.iter().map(|m| m.id.clone()).collect();
    assert_eq!(ids, sent);
    assert!(stored
        .iter()
        .zip(&batch)
        .all(|(s, m)| s.payload == m.payload && s.subject == m.subject));
}

#[test]
fn the_stream_must_exist_unless_the_url_says_create() {
    if !installed("the_stream_must_exist_unless_the_url_says_create") {
        return;
    }
    let server = Server::start("exists", &[]);
    let missing = JetStream::connect(&NatsTarget::parse(&server.url("stream=NOPE")).unwrap());
    assert!(
        matches!(missing, Err(NatsError::Stream { .. })),
        "{:?}",
        missing.err()
    );
    connect(&server.url("stream=NOPE&create=true"));
    connect(&server.url("stream=NOPE"));
}

#[test]
fn a_token_server_takes_the_right_token_only() {
    if !installed("a_token_server_takes_the_right_token_only") {
        return;
    }
    let server = Server::start("token", &["--auth", "s3cr3t"]);
    let wrong = JetStream::connect(
        &NatsTarget::parse(&server.url("create=true&token=nope&connect_timeout_ms=1000")).unwrap(),
    );
    assert!(
        matches!(wrong, Err(NatsError::Connect { .. })),
        "{:?}",
        wrong.err()
    );
    let js = connect(&server.url("create=true&token=s3cr3t"));
    assert_eq!(js.publish_all(&events("h", 3)).unwrap().published, 3);
}

#[test]
fn a_message_over_the_servers_max_payload_is_refused_as_that_message() {
    if !installed("a_message_over_the_servers_max_payload_is_refused_as_that_message") {
        return;
    }
    let server = Server::start("payload", &[]);
    let js = connect(&server.url("create=true"));
    let mut batch = events("h", 3);
    batch[1].payload = Bytes::from(vec![b'x'; 2 << 20]);
    match js.publish_all(&batch) {
        Err(NatsError::Message { index, .. }) => assert_eq!(index, 1),
        other => panic!("{other:?}"),
    }
}
