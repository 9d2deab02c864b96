//! A real `nats-server` with JetStream on loopback, for tests (feature `testing`): this
//! crate's and the daemon's. Test support: it panics on what a test cannot go on without.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Whether `nats-server` (Debian package, installed by scripts/install-deps) is here.
/// Says why when it is not; panics instead when `SSHTRAIL_REQUIRE_LIVE=1`, so CI cannot
/// pass by skipping.
pub fn installed(test: &str) -> bool {
    let found = Command::new("nats-server")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        if std::env::var("SSHTRAIL_REQUIRE_LIVE").as_deref() == Ok("1") {
            panic!("{test}: nats-server is not installed (scripts/install-deps)");
        }
        eprintln!("{test}: skipped (nats-server is not installed; scripts/install-deps)");
    }
    found
}

/// A `nats-server -js` in its own temporary directory; killed and removed on drop.
pub struct Server {
    child: Option<Child>,
    pub port: u16,
    pub dir: PathBuf,
    extra: Vec<String>,
}

impl Server {
    /// Starts one; `extra` goes to its command line (`--auth TOKEN`, …).
    pub fn start(name: &str, extra: &[&str]) -> Server {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let dir = std::env::temp_dir().join(format!("sshtrail-nats-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("the server's directory");
        let mut server = Server {
            child: None,
            port,
            dir,
            extra: extra.iter().map(|s| s.to_string()).collect(),
        };
        server.run();
        server
    }

    /// (Re)starts the process on the same port and store, and waits until it listens.
    pub fn run(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("server.log"))
            .expect("server.log");
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
            .expect("nats-server");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "nats-server did not listen");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `kill -9`: what it had not written to its store is gone.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// `nats://127.0.0.1:<port>/sshtrail?<query>`.
    pub fn url(&self, query: &str) -> String {
        format!("nats://127.0.0.1:{}/sshtrail?{query}", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
