//! The daemon tailing an audit log full of hostile lines (garbage, non-UTF-8, truncated
//! records, a 2 MB line) between real records: it stays up, skips the bad lines and
//! still reports every real event exactly once. Needs no root: the log is a temporary
//! directory that the test writes like auditd would.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn hostile_lines_are_skipped_and_real_events_still_reported() {
    let dir = std::env::temp_dir().join(format!("sshtrail-hostile-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let audit_dir = dir.join("audit");
    std::fs::create_dir_all(&audit_dir).expect("dirs");
    let log = audit_dir.join("audit.log");
    std::fs::write(&log, b"").expect("log");
    let fifo = dir.join("sshd.fifo");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo")
        .success());
    let output = dir.join("events.json");
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
        probe.local_addr().expect("addr").port()
    };
    let metrics_addr = format!("127.0.0.1:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_sshtrail"))
        .args(["run", "--audit-log-dir"])
        .arg(&audit_dir)
        .args(["--sshd-source", "fifo", "--sshd-log"])
        .arg(&fifo)
        .arg("--output")
        .arg(&output)
        .arg("--state-dir")
        .arg(dir.join("state"))
        .args(["--metrics-listen", &metrics_addr])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start");
    // A first start reads from the end of the log: write only once the daemon runs.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !std::fs::read_to_string(&output)
        .unwrap_or_default()
        .contains("daemon-started")
    {
        assert!(Instant::now() < deadline, "daemon did not start");
        std::thread::sleep(Duration::from_millis(50));
    }

    let real =
        std::fs::read(repo().join("crates/audit/tests/data/ssh-login.log")).expect("fixture");
    let hostile: Vec<Vec<u8>> = vec![
        b"garbage without any structure".to_vec(),
        vec![0xff, 0xfe, 0x00, 0x1d, b'\n' ^ 0x01],
        b"type=SYSCALL msg=audit(".to_vec(),
        b"type=SYSCALL msg=audit(1.1:): x".to_vec(),
        b"type=\x1b[31mEVIL msg=audit(1.1:1): a=b".to_vec(),
        vec![b'x'; 2_000_000],
        b"node= type= msg=".to_vec(),
    ];
    {
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&log)
            .expect("open");
        for (i, line) in real
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .enumerate()
        {
            file.write_all(line).expect("write");
            file.write_all(b"\n").expect("write");
            if i % 5 == 0 {
                let bad = &hostile[(i / 5) % hostile.len()];
                file.write_all(bad).expect("write");
                file.write_all(b"\n").expect("write");
            }
        }
    }

    let deadline = Instant::now() + Duration::from_secs(20);
    let text = loop {
        let text = std::fs::read_to_string(&output).unwrap_or_default();
        if text.contains("UserLogout") {
            break text;
        }
        assert!(Instant::now() < deadline, "no logout: {text}");
        assert!(
            child.try_wait().expect("status").is_none(),
            "the daemon exited"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(child.try_wait().expect("status").is_none(), "still running");
    let get = |path: &str| {
        let mut stream = std::net::TcpStream::connect(&metrics_addr).expect("metrics endpoint");
        stream
            .write_all(format!("GET {path} HTTP/1.1\r\n\r\n").as_bytes())
            .expect("request");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("answer");
        answer
    };
    assert!(get("/healthz").starts_with("HTTP/1.1 200"));
    assert!(get("/readyz").starts_with("HTTP/1.1 200"));
    let metrics = get("/metrics");
    let value = |line_start: &str| -> u64 {
        metrics
            .lines()
            .find(|l| l.starts_with(line_start))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    assert!(
        value("sshtrail_audit_parse_errors_total{kind=\"missing_type\"}") > 0,
        "{metrics}"
    );
    assert!(
        value("sshtrail_audit_parse_errors_total{kind=\"too_long\"}") >= 1,
        "{metrics}"
    );
    assert!(
        value("sshtrail_events_written_total{type=\"UserAction\"}") > 0,
        "{metrics}"
    );
    // As root the kernel's own counters are there too (read over netlink).
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    if root {
        assert!(metrics.contains("sshtrail_kernel_audit_lost "), "{metrics}");
        assert!(
            metrics.contains("sshtrail_kernel_audit_backlog "),
            "{metrics}"
        );
    }
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let status = child.wait().expect("wait");
    assert!(status.success(), "clean stop after hostile input: {status}");
    let events: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("output stays one JSON object per line"))
        .collect();
    let marked = events
        .iter()
        .filter(|e| {
            e["metadata"]["extra"]["process_args"]
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x == "sshtrail-ssh-session"))
        })
        .count();
    assert_eq!(marked, 1);
    let _ = std::fs::remove_dir_all(dir);
}
