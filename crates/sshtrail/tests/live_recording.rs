//! Terminal recording on stock OpenSSH, live: the testbed's recording sshd runs
//! `sshtrail-record` (installed setgid `sshtrail-record`, as the packages install it) as its
//! `ForceCommand`, and the daemon under test files what it sends into the session logs.
//!
//! * A shell on a terminal (`ssh -tt` from a pty of the test's): what it showed — the
//!   output of the builtins typed (`cd`, `echo`), a full-screen program (`less`), a window
//!   resize the client sent — is in the session's log; its asciinema export holds it and
//!   `asciinema cat` prints it; the log verifies; ssh's exit status is the shell's. With
//!   `--record-input` the keystrokes are in it too, except a password typed at a prompt
//!   with echo off.
//! * Without a terminal the session's bytes pass unchanged: `ssh host 'cat F' | sha256sum`,
//!   a 50 MB file both ways with scp and with sftp keep their checksums; exit statuses
//!   pass through; a command's stdout and stderr are in its log, the file transfers' bytes
//!   are not.
//! * A process of the user that talks to the recording socket itself, and a copy of the
//!   recorder without its group, are refused and reported (`recording-refused`, with the
//!   uid the kernel gave), and nothing of theirs lands in any log.
//!
//! Needs root, auditd and the testbed (`scripts/test` starts them); skips without them
//! unless `SSHTRAIL_REQUIRE_LIVE=1`.

mod support;

use serde_json::Value;
use sha2::{Digest, Sha256};
use std::path::Path;
use std::process::Command;
use support::live::{repo, sessions_cli, ssh, verified_log, Daemon, LiveCase};

const USER: &str = "sshtrail-alice";
const PORT: u16 = 22842;
const PLAIN_PORT: u16 = 22830;
const RECORD_DIR: &str = "/run/sshtrail-testbed/record";

fn sha256_of(path: &Path) -> String {
    let bytes = std::fs::read(path).expect("read");
    format!("{:x}", Sha256::digest(bytes))
}

/// The recorder where the recording sshd's ForceCommand runs it, setgid as packaged.
fn install_recorder() {
    let target = Path::new(RECORD_DIR).join("sshtrail-record");
    let status = Command::new("install")
        .args(["-o", "root", "-g", "sshtrail-record", "-m", "2755"])
        .arg(env!("CARGO_BIN_EXE_sshtrail-record"))
        .arg(&target)
        .status()
        .expect("install");
    assert!(status.success(), "install the recorder");
}

fn logouts(events: &[Value]) -> Vec<&Value> {
    events
        .iter()
        .filter(|e| e["type"] == "UserLogout")
        .collect()
}

fn export(storage: &str, id: &str, format: &str) -> String {
    let out = sessions_cli(storage, &["export", id, "--format", format]);
    assert!(
        out.status.success(),
        "export {id} {format}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The records of a session log, as `export --format json` gives them.
fn records(storage: &str, id: &str) -> Vec<Value> {
    export(storage, id, "json")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON record"))
        .collect()
}

/// The bytes of one stream the log's `io` records hold, in order.
fn stream_bytes(records: &[Value], stream: &str) -> Vec<u8> {
    use base64::Engine;
    let mut out = Vec::new();
    for r in records {
        if r["kind"] == "io" && r["stream"] == stream {
            let data = r["data"].as_str().expect("io data");
            out.extend(
                base64::engine::general_purpose::STANDARD
                    .decode(data)
                    .expect("base64"),
            );
        }
    }
    out
}

/// The session log of the logout that comes after `before` logouts.
fn next_log(daemon: &Daemon, storage: &str, before: usize) -> (String, Vec<Value>) {
    let events = daemon.wait_for(|e| logouts(e).len() > before);
    let logout = logouts(&events)[before].clone();
    let id = verified_log(storage, &logout);
    let recs = records(storage, &id);
    (id, recs)
}

/// A login on the recording sshd from a terminal of the test's own, driven by `steps`
/// (tests/data/recording/pty_steps.py says what they can be).
fn pty_session(steps: &Value) -> Command {
    let mut command = Command::new("python3");
    command
        .arg(repo().join("crates/sshtrail/tests/data/recording/pty_steps.py"))
        .args([&PORT.to_string(), USER, "/run/sshtrail-testbed/keys/alice"])
        .arg(steps.to_string())
        .current_dir(repo());
    command
}

/// The recorder installed, a session-log directory in `dir`, and the daemon flags that
/// file recordings into it (then `extra`): (storage URL, flags).
fn recording_setup(dir: &Path, extra: &[&str]) -> (String, Vec<String>) {
    install_recorder();
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs).expect("logs dir");
    let storage = format!("file://{}", logs.display());
    let mut flags: Vec<String> = [
        "--session-storage",
        &storage,
        "--record-socket",
        &format!("{RECORD_DIR}/record.sock"),
        "--record-group",
        "sshtrail-record",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    flags.extend(extra.iter().map(|s| s.to_string()));
    (storage, flags)
}

fn strs(flags: &[String]) -> Vec<&str> {
    flags.iter().map(String::as_str).collect()
}

fn ssh_rec(args: &str) -> (bool, String) {
    ssh(&format!("tb_ssh_key 127.0.0.1 {PORT} {USER} alice {args}"))
}

#[test]
fn terminal_sessions_are_recorded_and_everything_else_passes_unchanged() {
    let Some(case) = LiveCase::new(
        "terminal_sessions_are_recorded_and_everything_else_passes_unchanged",
        "rec",
    ) else {
        return;
    };
    let (storage, flags) = recording_setup(
        &case.dir,
        &[
            "--record-input",
            "true",
            "--require-recording",
            USER,
            "--record-wait-ms",
            "2000",
        ],
    );
    let socket = format!("{RECORD_DIR}/record.sock");
    let daemon = Daemon::start_with(&case.dir, 1, &strs(&flags));
    let marker = format!("m{}", std::process::id());
    let mut seen_logouts = 0;

    // A shell on a terminal, typed into: builtins, a resize to 100x30, a password prompt
    // (what is typed with echo off must never be recorded), a full-screen program.
    let steps = serde_json::json!([
        ["expect", "$ "],
        ["type", "cd /tmp\r"],
        ["type", format!("echo builtin-{marker}\r")],
        ["expect", format!("\rbuiltin-{marker}")],
        ["resize", [30, 100]],
        ["sleep", 0.5],
        ["type", "stty size\r"],
        ["expect", "30 100"],
        ["type", "read -s -p 'secret: ' PW; echo got-${#PW}\r"],
        ["expect", "secret: "],
        ["sleep", 0.3],
        ["type", format!("hunter2-{marker}\r")],
        ["expect", "got-"],
        [
            "type",
            format!("printf 'page-%s\\n' {marker} > /tmp/{marker}.txt; less /tmp/{marker}.txt\r")
        ],
        ["expect", format!("page-{marker}")],
        ["type", "q"],
        ["sleep", 0.3],
        ["type", "exit 3\r"],
    ]);
    let out = pty_session(&steps).output().expect("the pty session");
    assert_eq!(
        out.status.code(),
        Some(3),
        "the shell's exit status passes through: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let (id, recs) = next_log(&daemon, &storage, seen_logouts);
    seen_logouts += 1;
    let shown = String::from_utf8_lossy(&stream_bytes(&recs, "stdout")).into_owned();
    for expected in [
        format!("\rbuiltin-{marker}"),
        "30 100".to_string(),
        format!("page-{marker}"),
        "\x1b[?1049h".to_string(), // less switched to the alternate screen
    ] {
        assert!(
            shown.contains(&expected),
            "{expected:?} in the recorded output: {shown:?}"
        );
    }
    let kinds: Vec<&str> = recs.iter().filter_map(|r| r["kind"].as_str()).collect();
    for kind in ["pty", "shell", "window_change", "exit_status"] {
        assert!(kinds.contains(&kind), "a {kind} record: {kinds:?}");
    }
    let auth = recs
        .iter()
        .find(|r| r["kind"] == "env" && r["name"] == "SSH_USER_AUTH")
        .expect("the key the session used (ExposeAuthInfo)");
    assert!(
        auth["value"]
            .as_str()
            .is_some_and(|v| v.starts_with("publickey ssh-ed25519 ")),
        "{auth}"
    );
    let resized = recs
        .iter()
        .any(|r| r["kind"] == "window_change" && r["columns"] == 100 && r["rows"] == 30);
    assert!(resized, "the resize to 100x30 is recorded");
    let typed = String::from_utf8_lossy(&stream_bytes(&recs, "stdin")).into_owned();
    assert!(
        typed.contains(&format!("echo builtin-{marker}")),
        "keystrokes are recorded with --record-input: {typed:?}"
    );
    assert!(
        !typed.contains("hunter2") && !shown.contains("hunter2"),
        "what is typed with echo off is never recorded: {typed:?}"
    );
    let played = sessions_cli(&storage, &["play", &id, "--speed", "1000"]);
    assert!(played.status.success(), "sessions play");
    assert!(
        String::from_utf8_lossy(&played.stdout).contains(&format!("\rbuiltin-{marker}")),
        "sessions play shows what the user saw"
    );
    let cast = export(&storage, &id, "asciinema");
    assert!(cast.contains(&format!("builtin-{marker}")));
    assert!(
        cast.contains("\"r\", \"100x30\""),
        "the resize is in the cast"
    );
    let cast_file = case.dir.join("session.cast");
    std::fs::write(&cast_file, &cast).expect("write cast");
    // asciinema 2.2's `cat` opens /dev/tty (for its keyboard): `script` gives it one.
    let have_asciinema = Command::new("asciinema").arg("--version").output().is_ok();
    let played = have_asciinema.then(|| {
        Command::new("script")
            .arg("-qec")
            .arg(format!("asciinema cat {}", cast_file.display()))
            .arg("/dev/null")
            .stdin(std::process::Stdio::null())
            .output()
    });
    match played.transpose() {
        Ok(Some(played)) => {
            assert!(played.status.success(), "asciinema cat");
            assert!(String::from_utf8_lossy(&played.stdout).contains(&format!("builtin-{marker}")));
        }
        Err(e) => panic!("script: {e}"),
        Ok(None) if std::env::var("SSHTRAIL_REQUIRE_LIVE").as_deref() == Ok("1") => {
            panic!("asciinema is not installed (scripts/install-deps)")
        }
        Ok(None) => eprintln!("asciinema not installed: cast not played"),
    }

    // Without a terminal: bytes unchanged, exit statuses passed on.
    let big = case.dir.join("big.bin");
    {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut data = Vec::with_capacity(50 << 20);
        while data.len() < 50 << 20 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            data.extend_from_slice(&x.to_le_bytes());
        }
        std::fs::write(&big, &data).expect("write the big file");
    }
    let big_sum = sha256_of(&big);
    let world = format!("/tmp/{marker}-big.bin");
    std::fs::copy(&big, &world).expect("copy for the user");
    let (ok, sum) = ssh_rec(&format!("'cat {world}' | sha256sum"));
    assert!(ok);
    assert_eq!(
        sum.split_whitespace().next(),
        Some(big_sum.as_str()),
        "cat through the recorder"
    );
    seen_logouts += 1;
    let (ok, printed) = ssh_rec(&format!("'echo out-{marker}; echo err-{marker} >&2'"));
    assert!(ok);
    assert!(printed.contains(&format!("out-{marker}")));
    seen_logouts += 1;
    let (ok, _) = ssh_rec("'exit 7'");
    assert!(!ok, "a failing command fails");
    let status = Command::new("bash")
        .arg("-c")
        .arg(format!(
            ". scripts/testbed/client.sh && tb_ssh_key 127.0.0.1 {PORT} {USER} alice 'exit 7'"
        ))
        .current_dir(repo())
        .status()
        .expect("ssh");
    assert_eq!(status.code(), Some(7), "the exit status passes through");
    seen_logouts += 2;

    let up = format!("/tmp/{marker}-up.bin");
    let down = case.dir.join("down.bin");
    let (ok, _) = ssh(&format!(
        "tb_scp_key {PORT} alice {} {USER}@127.0.0.1:{up} && tb_scp_key {PORT} alice {USER}@127.0.0.1:{up} {}",
        big.display(),
        down.display()
    ));
    assert!(ok, "scp both ways");
    assert_eq!(sha256_of(Path::new(&up)), big_sum, "scp upload");
    assert_eq!(sha256_of(&down), big_sum, "scp download");
    seen_logouts += 2;
    let sftp_down = case.dir.join("sftp-down.bin");
    let batch = format!(
        "put {} /tmp/{marker}-sftp.bin\nget /tmp/{marker}-sftp.bin {}\n",
        big.display(),
        sftp_down.display()
    );
    let mut child = Command::new("bash")
        .arg("-c")
        .arg(format!(
            ". scripts/testbed/client.sh && tb_sftp_key {PORT} {USER} alice"
        ))
        .current_dir(repo())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("sftp");
    std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), batch.as_bytes())
        .expect("batch");
    assert!(child.wait().expect("sftp ends").success(), "sftp both ways");
    assert_eq!(sha256_of(&sftp_down), big_sum, "sftp round trip");
    seen_logouts += 1;

    // Every session's log: the command's own output is there, no transfer's bytes are.
    let events = daemon.wait_for(|e| logouts(e).len() >= seen_logouts);
    let mut command_logs = 0;
    for logout in &logouts(&events)[1..] {
        let id = verified_log(&storage, logout);
        let recs = records(&storage, &id);
        let program = recs
            .iter()
            .find_map(|r| match r["kind"].as_str() {
                Some("exec") => r["program"].as_str().map(String::from),
                Some("subsystem") => Some("sftp".to_string()),
                _ => None,
            })
            .unwrap_or_default();
        let stdout = stream_bytes(&recs, "stdout");
        if program.contains(&format!("echo out-{marker}")) {
            command_logs += 1;
            assert_eq!(stdout, format!("out-{marker}\n").as_bytes());
            assert_eq!(
                stream_bytes(&recs, "stderr"),
                format!("err-{marker}\n").as_bytes()
            );
        } else if program.contains("sftp") {
            assert!(
                stdout.is_empty(),
                "a transfer's bytes are never kept ({program})"
            );
        } else if program.contains("cat ") {
            assert_eq!(stdout.len(), 1 << 20, "content up to --record-max-bytes");
        }
        assert!(
            recs.iter().any(|r| r["kind"] == "exit_status"),
            "{program}: its exit is recorded"
        );
    }
    assert_eq!(command_logs, 1);

    // Refused: the user's own process on the socket, and the recorder without its group.
    let before: Vec<Value> = daemon.events();
    let refused_before = before
        .iter()
        .filter(|e| e["data"]["action"] == "recording-refused")
        .count();
    // The user's own process says hello as a recorder would.
    let forger = format!("/tmp/{marker}-forger.py");
    std::fs::write(
        &forger,
        format!(
            "import json, socket, struct\n\
             s = socket.socket(socket.AF_UNIX)\n\
             s.connect('{socket}')\n\
             h = json.dumps({{'version': 1, 'mode': 'pipes', 'program': '/bin/sh', 'started_us': 1}}).encode()\n\
             try:\n\
             \x20   s.sendall(bytes([1]) + struct.pack('<I', len(h)) + h)\n\
             \x20   print('answer', len(s.recv(100)))\n\
             except OSError:\n\
             \x20   print('answer 0')\n"
        ),
    )
    .expect("write the forger");
    let (_, answer) = ssh(&format!(
        "tb_ssh_key 127.0.0.1 {PLAIN_PORT} {USER} alice 'python3 {forger}'"
    ));
    assert!(
        answer.contains("answer 0"),
        "no answer for a forger: {answer}"
    );
    let copy = format!("/tmp/{marker}-recorder");
    std::fs::copy(env!("CARGO_BIN_EXE_sshtrail-record"), &copy).expect("copy");
    let (_, _) = ssh(&format!(
        "tb_ssh_key 127.0.0.1 {PLAIN_PORT} {USER} alice 'SSH_ORIGINAL_COMMAND=true {copy} --socket {socket} --unavailable deny'"
    ));
    let uid = String::from_utf8(
        Command::new("id")
            .args(["-u", USER])
            .output()
            .expect("id")
            .stdout,
    )
    .expect("utf8")
    .trim()
    .parse::<u64>()
    .expect("uid");
    let events = daemon.wait_for(|e| {
        e.iter()
            .filter(|e| e["data"]["action"] == "recording-refused")
            .count()
            >= refused_before + 2
    });
    for refused in events
        .iter()
        .filter(|e| e["data"]["action"] == "recording-refused")
        .skip(refused_before)
    {
        assert_eq!(refused["data"]["uid"], uid, "{refused}");
    }
    // The three logins through the sshd without the recorder (the forger's, the copy's and
    // this one) are reported as not recorded; no recorded session is.
    let (ok, _) = ssh(&format!(
        "tb_ssh_key 127.0.0.1 {PLAIN_PORT} {USER} alice true"
    ));
    assert!(ok);
    let events = daemon.wait_for(|e| {
        e.iter()
            .filter(|e| e["data"]["action"] == "session-not-recorded")
            .count()
            >= 3
    });
    let recorded: Vec<&Value> = logouts(&events)[..seen_logouts].to_vec();
    for missing in events
        .iter()
        .filter(|e| e["data"]["action"] == "session-not-recorded")
    {
        assert_eq!(missing["data"]["user"], USER);
        assert_eq!(missing["data"]["source"], "127.0.0.1");
        assert!(
            recorded
                .iter()
                .all(|l| l["metadata"]["auditId"] != missing["data"]["session"]),
            "a recorded session reported as not recorded: {missing}"
        );
    }
    for path in [
        &up,
        &world,
        &copy,
        &forger,
        &format!("/tmp/{marker}-sftp.bin"),
    ] {
        let _ = std::fs::remove_file(path);
    }
    daemon.stop();
}

/// Waits for a file the session driver makes.
fn wait_file(path: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !Path::new(path).exists() {
        assert!(std::time::Instant::now() < deadline, "{path} never came");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn a_recording_resumes_into_the_same_log_after_the_daemon_is_killed() {
    let Some(case) = LiveCase::new(
        "a_recording_resumes_into_the_same_log_after_the_daemon_is_killed",
        "recrash",
    ) else {
        return;
    };
    let (storage, flags) = recording_setup(&case.dir, &[]);
    let flags = strs(&flags);
    let daemon = Daemon::start_with(&case.dir, 1, &flags);
    let m = format!("k{}", std::process::id());
    let flag = |n: u32| format!("/tmp/{m}-{n}");
    let steps = serde_json::json!([
        ["expect", "$ "],
        ["type", format!("echo before-{m}\r")],
        ["expect", format!("\rbefore-{m}")],
        ["touch", flag(1)],
        ["wait", flag(2)],
        ["type", format!("echo during-{m}\r")],
        ["expect", format!("\rduring-{m}")],
        ["touch", flag(3)],
        ["wait", flag(4)],
        ["type", format!("echo after-{m}\r")],
        ["expect", format!("\rafter-{m}")],
        ["type", "exit\r"],
    ]);
    let session = pty_session(&steps)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("the pty session");
    wait_file(&flag(1));
    // Long enough for a checkpoint to cover the first output, then gone without a word.
    std::thread::sleep(std::time::Duration::from_millis(2500));
    daemon.crash();
    std::fs::write(flag(2), "").expect("flag");
    wait_file(&flag(3));
    let daemon = Daemon::start_with(&case.dir, 2, &flags);
    // The recorder looks for the daemon once a second.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    std::fs::write(flag(4), "").expect("flag");
    let out = session.wait_with_output().expect("the session ends");
    assert!(
        out.status.success(),
        "the session went on through the daemon's crash: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let events = daemon.wait_for(|e| !logouts(e).is_empty());
    let id = verified_log(&storage, logouts(&events)[0]);
    let recs = records(&storage, &id);
    let shown = String::from_utf8_lossy(&stream_bytes(&recs, "stdout")).into_owned();
    assert!(
        shown.contains(&format!("\rbefore-{m}")),
        "before the crash: {shown:?}"
    );
    assert!(
        shown.contains(&format!("\rafter-{m}")),
        "after the restart: {shown:?}"
    );
    assert!(
        stream_bytes(&recs, "stdin").is_empty(),
        "no keyboard input without --record-input"
    );
    let gaps: Vec<&Value> = recs
        .iter()
        .filter(|r| r["kind"] == "recording_gap")
        .collect();
    assert!(!gaps.is_empty(), "the downtime is a gap in the recording");
    let reported: Vec<&Value> = events
        .iter()
        .filter(|e| e["data"]["action"] == "recording-gap")
        .collect();
    assert_eq!(reported.len(), gaps.len(), "each gap is also an event");
    for (event, record) in reported.iter().zip(&gaps) {
        assert_eq!(event["data"]["from"], record["from"]);
        assert_eq!(event["data"]["to"], record["to"]);
        assert_eq!(
            event["data"]["session"],
            logouts(&events)[0]["metadata"]["auditId"]
        );
    }
    // The offsets add up: every stdout byte is either in the log or in a gap, once.
    let total = recs
        .iter()
        .find(|r| r["kind"] == "stream_total" && r["stream"] == "stdout")
        .and_then(|r| r["bytes"].as_u64())
        .expect("stdout's total");
    let gap_bytes: u64 = gaps
        .iter()
        .map(|g| g["to"].as_u64().unwrap_or(0) - g["from"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(
        stream_bytes(&recs, "stdout").len() as u64 + gap_bytes,
        total,
        "recorded + missing = all the output"
    );
    assert_eq!(
        recs.iter()
            .filter(|r| r["kind"] == "pty" || r["kind"] == "shell")
            .count(),
        2,
        "one recording, resumed, not a second one"
    );
    for n in 1..=4 {
        let _ = std::fs::remove_file(flag(n));
    }
    daemon.stop();
}
