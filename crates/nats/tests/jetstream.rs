//! Against a real `nats-server` with JetStream on loopback (Debian package `nats-server`,
//! installed by scripts/install-deps). Skips, saying why, when it is not installed.

use bytes::Bytes;
use sshtrail_nats::{subject_for, JetStream, Message, NatsError, NatsTarget};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Server {
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
    extra: Vec<String>,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn installed() -> bool {
    let found = Command::new("nats-server")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !found {
        eprintln!("skipped: nats-server is not installed (scripts/install-deps installs it)");
    }
    found
}

impl Server {
    fn start(name: &str, extra: &[&str]) -> Server {
        let dir = std::env::temp_dir().join(format!("sshtrail-nats-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut server = Server {
            child: None,
            port: free_port(),
            dir,
            extra: extra.iter().map(|s| s.to_string()).collect(),
        };
        server.run();
        server
    }

    fn run(&mut self) {
        let log = std::fs::File::create(self.dir.join("server.log")).unwrap();
        let child = Command::new("nats-server")
            .args([
                "-js",
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-sd",
            ])
            .arg(self.dir.join("store"))
            .args(&self.extra)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "nats-server did not listen");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn url(&self, query: &str) -> String {
        format!("nats://127.0.0.1:{}/sshtrail?{query}", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

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
    if !installed() {
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
    if !installed() {
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
}

#[test]
fn the_stream_must_exist_unless_the_url_says_create() {
    if !installed() {
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
    if !installed() {
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
    if !installed() {
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
