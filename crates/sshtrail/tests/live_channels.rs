//! Inside the connection, live: what a session opened and moved is an event of that
//! session, against the testbed's real sshd (LogLevel VERBOSE, `sftp-server -l INFO`),
//! the real kernel and auditd.
//!
//! * A terminal shell and a command each give one `opened-channel` (`shell` on its
//!   `pts/N`, `command`), joined to their own login.
//! * An sftp session that uploads, downloads, renames and removes files whose names hold
//!   spaces, quotes, a newline, a tab, a backslash, bytes that are not UTF-8 and UTF-8
//!   gives exactly one event per file and operation, with the names as they are, in the
//!   sftp session and nowhere else; `scp` both ways (the sftp protocol since OpenSSH 9)
//!   likewise, each copy in its own session.
//! * `ssh -L` used by a real HTTP request is one `forwarded-to` its target, `ssh -R`
//!   a `listening-for-forward` on its port, each in its own session; a forward sshd
//!   refuses (PermitOpen) is a failed `refused-forward` of that user; nothing sshd does
//!   for itself (PAM, syslog, name lookups) is taken for a forward.
//! * `replay` of the journal and auditd's log gives the same events, session by session;
//!   so does `replay` of rsyslog's files (ISO 8601, and RFC 3164's whole seconds with no
//!   year), where no line names its audit session and the sftp lines join through the
//!   exec of their sftp-server.
//!
//! Needs root, auditd and the testbed (`scripts/test` starts them); skips without them
//! unless `SSHTRAIL_REQUIRE_LIVE=1`.

mod support;

use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use support::live::{
    grown_since, journal_cursor, journal_since, repo, session_facts, sessions_cli, ssh,
    verified_log, Daemon, LiveCase,
};

const USER: &str = "sshtrail-alice";

/// The names the sftp session moves, each with the test's key in it.
fn hostile_names(key: &str) -> Vec<Vec<u8>> {
    [
        format!("plain {key}.txt").into_bytes(),
        format!("q\"uote\" bytes read 0 written 99 {key}").into_bytes(),
        format!("new\nline {key}").into_bytes(),
        [b"\xff\xfe-bin\\slash\ttab ".as_slice(), key.as_bytes()].concat(),
        format!("caf\u{e9} \u{2603} {key}").into_bytes(),
    ]
    .into()
}

/// How a name is shown: itself when it is plain UTF-8 text, else as OpenSSH's logger
/// escaped it (not UTF-8, a control character, a backslash).
fn shown(name: &[u8]) -> String {
    if let Ok(text) = std::str::from_utf8(name) {
        if !text.chars().any(|c| c == '\\' || c.is_control()) {
            return text.to_string();
        }
    }
    let mut out = String::new();
    for &b in name {
        match b {
            b'\n' => out.push_str("\\n"),
            b'\t' => out.push_str("\\t"),
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\{b:03o}")),
        }
    }
    out
}

fn home_of(user: &str) -> String {
    let out = Command::new("getent")
        .args(["passwd", user])
        .output()
        .expect("getent");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .split(':')
        .nth(5)
        .expect("a home directory")
        .to_string()
}

/// Runs a testbed client call in `dir` with `input` on its stdin; panics on failure.
fn client_in(dir: &Path, call: &str, input: &str) -> String {
    let script = repo().join("scripts/testbed/client.sh");
    let mut child = Command::new("bash")
        .arg("-c")
        .arg(format!(". {} && {call}", script.display()))
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the client");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("input");
    let out = child.wait_with_output().expect("the client ends");
    assert!(
        out.status.success(),
        "{call}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn extra<'a>(e: &'a Value, key: &str) -> &'a Value {
    &e["metadata"]["extra"][key]
}

fn action_is(e: &Value, action: &str) -> bool {
    e["type"] == "UserAction" && extra(e, "action") == action
}

fn id_of(e: &Value) -> String {
    e["metadata"]["auditId"].as_str().unwrap_or("").to_string()
}

/// The events of `action` on `primary`.
fn on<'a>(events: &'a [Value], action: &str, primary: &str) -> Vec<&'a Value> {
    events
        .iter()
        .filter(|e| action_is(e, action) && extra(e, "object")["primary"] == primary)
        .collect()
}

/// Exactly one event of `action` on `primary`: it.
fn one<'a>(events: &'a [Value], action: &str, primary: &str) -> &'a Value {
    let found = on(events, action, primary);
    assert_eq!(found.len(), 1, "one {action} of {primary:?}: {found:#?}");
    found[0]
}

/// Every event of session `ses` is alice's and joined, and its login is there.
fn assert_own_session(events: &[Value], ses: &str) {
    let ours: Vec<&Value> = events.iter().filter(|e| id_of(e) == ses).collect();
    let logins = ours
        .iter()
        .filter(|e| e["type"] == "UserLogin" && e["outcome"] == "succeeded")
        .count();
    assert_eq!(logins, 1, "session {ses} has its login: {ours:#?}");
    for e in &ours {
        assert_eq!(e["subjects"]["loggedAs"], USER, "{e}");
        if e["type"] == "UserAction" {
            assert_eq!(extra(e, "correlation"), "joined", "{e}");
        }
    }
}

fn logged_out(events: &[Value], ses: &str) -> bool {
    events
        .iter()
        .any(|e| e["type"] == "UserLogout" && id_of(e) == ses)
}

/// The one session that opened an sftp channel and did `action` on `primary`.
fn sftp_session_of(events: &[Value], action: &str, primary: &str) -> String {
    let ses = id_of(one(events, action, primary));
    let channels: Vec<&Value> = events
        .iter()
        .filter(|e| id_of(e) == ses && action_is(e, "opened-channel"))
        .collect();
    assert_eq!(channels.len(), 1, "{channels:#?}");
    assert_eq!(extra(channels[0], "channel"), "subsystem:sftp");
    assert_eq!(channels[0]["component"], "sshd");
    ses
}

/// Each session's events by origin (audit records, log lines), each in order: how the
/// two interleave follows their arrival. The session log's name and digest are left out
/// (the replay writes none).
fn per_session(lines: &str, ours: &[String]) -> BTreeMap<(String, String), Vec<String>> {
    let mut out: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for line in lines.lines() {
        let mut e: Value = serde_json::from_str(line).expect("JSON");
        if let Some(data) = e.get_mut("data").and_then(Value::as_object_mut) {
            data.remove("session_log_digest");
            data.remove("session_log_id");
        }
        let line = e.to_string();
        let line = line.as_str();
        let id = id_of(&e);
        if !ours.contains(&id) {
            continue;
        }
        let origin = if e["type"] == "UserAction" {
            e["component"].as_str().unwrap_or("").to_string()
        } else {
            "login and logout".to_string()
        };
        out.entry((id, origin)).or_default().push(line.to_string());
    }
    out
}

fn replay(audit: &Path, sshd: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_sshtrail"))
        .args(["replay", "--audit-log"])
        .arg(audit)
        .arg("--sshd-log")
        .arg(sshd)
        .output()
        .expect("sshtrail replay");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn channels_and_file_transfers_are_events_of_their_own_session_live_and_in_replay() {
    use std::os::unix::fs::MetadataExt;
    let Some(case) = LiveCase::new("channels_live", "chan") else {
        return;
    };
    let key = case.key.clone();
    let audit_log = PathBuf::from("/var/log/audit/audit.log");
    let meta = std::fs::metadata(&audit_log).expect("auditd's log");
    let (inode, offset) = (meta.ino(), meta.len());
    let syslog_dir = PathBuf::from(
        std::env::var("TESTBED_DIR").unwrap_or_else(|_| "/run/sshtrail-testbed".into()),
    )
    .join("syslog");
    // rsyslog's default file format (microseconds) and the classic one (whole seconds,
    // no year), each from where it ends now.
    let syslogs: Vec<(PathBuf, u64)> = ["auth-iso8601.log", "auth-rfc3164.log"]
        .iter()
        .map(|name| {
            let path = syslog_dir.join(name);
            let offset = std::fs::metadata(&path).map_or(0, |m| m.len());
            (path, offset)
        })
        .collect();
    let cursor = journal_cursor();
    let storage = format!("file://{}/sessions", case.dir.display());
    let daemon = Daemon::start_with(&case.dir, 1, &["--session-storage", &storage]);

    // A terminal shell, typed into.
    let typed = client_in(
        &case.dir,
        "tb_ssh_typed 22830 sshtrail-alice alice",
        &format!("echo ses=$(cat /proc/self/sessionid)\n/bin/echo shell-{key}\nexit\n"),
    );
    let shell_ses = typed
        .lines()
        .filter_map(|l| l.trim_end_matches('\r').rsplit("ses=").next())
        .find(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
        .expect("the shell's session id")
        .to_string();
    // A command.
    let (ok, out) = ssh(&format!(
        "tb_ssh_key 127.0.0.1 22830 sshtrail-alice alice 'echo ses=$(cat /proc/self/sessionid); echo client=$SSH_CLIENT; /bin/echo cmd-{key}'"
    ));
    assert!(ok, "{out}");
    let (command_ses, _, _) = session_facts(&out);

    // sftp with hostile names, then scp both ways.
    let local = case.dir.join("local");
    let down = case.dir.join("down");
    std::fs::create_dir_all(&local).expect("local dir");
    std::fs::create_dir_all(&down).expect("download dir");
    let names = hostile_names(&key);
    for (i, name) in names.iter().enumerate() {
        let path = local.join(std::ffi::OsStr::from_bytes(name));
        std::fs::write(&path, vec![b'x'; 100 + i]).expect("a local file");
    }
    let remote = format!("chan-{key}");
    let batch = format!(
        "mkdir {remote}\nput * {remote}/\nget {remote}/* {down}/\nrename \"{remote}/plain {key}.txt\" \"{remote}/renamed {key}.txt\"\nrm {remote}/*\nrmdir {remote}\n",
        down = down.display()
    );
    client_in(&local, "tb_sftp_key 22830 sshtrail-alice alice", &batch);
    for name in &names {
        let back = std::fs::read(down.join(std::ffi::OsStr::from_bytes(name))).expect("downloaded");
        assert!(back.len() >= 100);
    }
    let scp_name = format!("scp-{key}.bin");
    client_in(
        &local,
        &format!("tb_scp_key 22830 alice 'plain {key}.txt' sshtrail-alice@127.0.0.1:{scp_name}"),
        "",
    );
    client_in(
        &local,
        &format!("tb_scp_key 22830 alice sshtrail-alice@127.0.0.1:{scp_name} scp-back.bin"),
        "",
    );
    let (ok, _) = ssh(&format!(
        "tb_ssh_key 127.0.0.1 22830 sshtrail-alice alice 'rm -f {scp_name}'"
    ));
    assert!(ok);

    let home = home_of(USER);
    let dir = format!("{home}/{remote}");
    let file = |name: &[u8]| format!("{dir}/{}", shown(name));
    let renamed = format!("{dir}/renamed {key}.txt");
    let events = daemon.wait_for(|events| {
        [&shell_ses, &command_ses]
            .iter()
            .all(|s| logged_out(events, s))
            && on(events, "removed-directory", &dir).len() == 1
            && on(events, "downloaded-file", &scp_name).len() == 1
            && events.iter().filter(|e| e["type"] == "UserLogout").count() >= 6
    });

    // The shell and the command: one channel each, in their own session.
    for (ses, channel) in [(&shell_ses, "shell"), (&command_ses, "command")] {
        let opened: Vec<&Value> = events
            .iter()
            .filter(|e| id_of(e) == **ses && action_is(e, "opened-channel"))
            .collect();
        assert_eq!(opened.len(), 1, "{opened:#?}");
        assert_eq!(extra(opened[0], "channel"), channel);
        assert_own_session(&events, ses);
    }
    let shell_channel = events
        .iter()
        .find(|e| id_of(e) == shell_ses && action_is(e, "opened-channel"))
        .expect("the shell's channel");
    assert!(
        extra(shell_channel, "tty")
            .as_str()
            .is_some_and(|t| t.starts_with("pts/")),
        "{shell_channel}"
    );
    let command_channel = events
        .iter()
        .find(|e| id_of(e) == command_ses && action_is(e, "opened-channel"))
        .expect("the command's channel");
    assert!(extra(command_channel, "tty").is_null());

    // sftp: every file and operation once, in the sftp session only.
    let sftp_ses = sftp_session_of(&events, "made-directory", &dir);
    assert_own_session(&events, &sftp_ses);
    for (i, name) in names.iter().enumerate() {
        let size = 100 + i as u64;
        let up = one(&events, "uploaded-file", &file(name));
        let got = one(&events, "downloaded-file", &file(name));
        for e in [up, got] {
            assert_eq!(id_of(e), sftp_ses, "{e}");
            assert_eq!(extra(e, "bytes"), size, "{e}");
            assert_eq!(e["component"], "sftp-server");
            assert_eq!(extra(e, "channel"), "subsystem:sftp");
        }
        let removed = if name.starts_with(b"plain ") {
            renamed.clone()
        } else {
            file(name)
        };
        assert_eq!(id_of(one(&events, "removed-file", &removed)), sftp_ses);
    }
    let rename = one(&events, "renamed-file", &file(&names[0]));
    assert_eq!(extra(rename, "object")["secondary"], renamed.as_str());
    assert_eq!(id_of(rename), sftp_ses);
    assert_eq!(id_of(one(&events, "removed-directory", &dir)), sftp_ses);
    // No name of the test is in any other session's events.
    for e in &events {
        if id_of(e) != sftp_ses && !e["metadata"]["extra"]["object"].is_null() {
            let text = e["metadata"]["extra"]["object"].to_string();
            assert!(!text.contains(&format!("chan-{key}")), "misattributed: {e}");
        }
    }

    // scp: each copy in its own sftp session.
    let up_ses = sftp_session_of(&events, "uploaded-file", &scp_name);
    let down_ses = sftp_session_of(&events, "downloaded-file", &scp_name);
    assert_ne!(up_ses, down_ses);
    assert_eq!(
        extra(one(&events, "uploaded-file", &scp_name), "bytes"),
        100
    );
    assert_eq!(
        extra(one(&events, "downloaded-file", &scp_name), "bytes"),
        100
    );
    for ses in [&up_ses, &down_ses] {
        assert_own_session(&events, ses);
    }
    // The sftp session's log holds each transfer once, and `sessions show` says it.
    let logout = events
        .iter()
        .find(|e| e["type"] == "UserLogout" && id_of(e) == sftp_ses)
        .expect("the sftp session's logout");
    let log_id = verified_log(&storage, logout);
    let export = sessions_cli(&storage, &["export", &log_id, "--format", "json"]);
    assert!(export.status.success());
    let records: Vec<Value> = String::from_utf8_lossy(&export.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    for name in &names {
        let n = records
            .iter()
            .filter(|r| r["action"] == "uploaded-file" && r["object_primary"] == file(name))
            .count();
        assert_eq!(n, 1, "the log holds the upload of {} once", shown(name));
    }
    let show = sessions_cli(&storage, &["show", &log_id]);
    let show = String::from_utf8_lossy(&show.stdout);
    assert!(show.contains("opened-channel"), "{show}");
    assert!(show.contains("uploaded-file"), "{show}");
    assert!(show.contains("channel subsystem:sftp"), "{show}");

    std::thread::sleep(std::time::Duration::from_secs(1));
    let written = std::fs::read_to_string(&daemon.output).expect("events");
    drop(daemon.stop());

    // Replay of the journal and auditd's log: the same events, session by session.
    let ours = vec![
        shell_ses.clone(),
        command_ses.clone(),
        sftp_ses.clone(),
        up_ses.clone(),
        down_ses.clone(),
    ];
    let audit_slice = case.dir.join("audit.log");
    std::fs::write(&audit_slice, grown_since(&audit_log, inode, offset)).expect("audit slice");
    let entries = journal_since(&cursor, &["sshd", "sftp-server", "internal-sftp"]);
    let journal_slice = case.dir.join("journal.json");
    std::fs::write(&journal_slice, entries).expect("journal slice");
    let run = per_session(&written, &ours);
    let again = per_session(&replay(&audit_slice, &journal_slice), &ours);
    for (key, lines) in &run {
        let replayed = again.get(key).cloned().unwrap_or_default();
        let first_difference = lines
            .iter()
            .zip(&replayed)
            .find(|(a, b)| a != b)
            .map(|(a, b)| format!("run:    {a}\nreplay: {b}"));
        assert_eq!(
            lines.len(),
            replayed.len(),
            "{key:?}: replay writes as many lines; {first_difference:?}"
        );
        assert!(
            first_difference.is_none(),
            "{key:?}: replay of the journal writes the daemon's lines\n{}",
            first_difference.unwrap_or_default()
        );
    }
    assert_eq!(again.len(), run.len(), "the same sessions");

    // Replay of rsyslog's files: no audit session on their lines; the same file events,
    // joined through the exec of each sftp-server, with microseconds or whole seconds.
    for (syslog, syslog_offset) in &syslogs {
        let grown = std::fs::read(syslog).unwrap_or_default();
        let syslog_slice = case.dir.join("auth.log");
        std::fs::write(
            &syslog_slice,
            grown.get(*syslog_offset as usize..).unwrap_or_default(),
        )
        .expect("syslog slice");
        let from_syslog = replay(&audit_slice, &syslog_slice);
        let replayed: Vec<Value> = from_syslog
            .lines()
            .map(|l| serde_json::from_str(l).expect("JSON"))
            .collect();
        let which = syslog.display();
        for name in &names {
            for action in ["uploaded-file", "downloaded-file"] {
                assert_eq!(
                    id_of(one(&replayed, action, &file(name))),
                    sftp_ses,
                    "{which}: {action} {}",
                    shown(name)
                );
            }
        }
        assert_eq!(id_of(one(&replayed, "removed-directory", &dir)), sftp_ses);
        assert_eq!(
            id_of(one(&replayed, "uploaded-file", &scp_name)),
            up_ses,
            "{which}"
        );
        assert_eq!(
            id_of(one(&replayed, "downloaded-file", &scp_name)),
            down_ses,
            "{which}"
        );
        for ses in [&shell_ses, &command_ses] {
            let channels = replayed
                .iter()
                .filter(|e| id_of(e) == **ses && action_is(e, "opened-channel"))
                .count();
            assert_eq!(channels, 1, "{which}: the channel of session {ses}");
        }
    }
}

/// Waits until something listens on TCP `port`, without connecting to it (a connection
/// through a forward is a use of it).
fn wait_listening(port: u16) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    let listening = || {
        Command::new("ss")
            .args(["-Hltn", &format!("sport = :{port}")])
            .output()
            .is_ok_and(|o| !o.stdout.is_empty())
    };
    while !listening() {
        assert!(
            std::time::Instant::now() < deadline,
            "nothing listens on {port}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// A real HTTP request to 127.0.0.1:`port`; its status line.
fn http_get(port: u16) -> String {
    use std::io::Read;
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .expect("timeout");
    stream
        .write_all(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")
        .expect("request");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.lines().next().unwrap_or_default().to_string()
}

/// A process killed (and reaped) when dropped.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn port_forwards_are_events_of_the_session_that_made_them() {
    let Some(case) = LiveCase::new("forwards_live", "fwd") else {
        return;
    };
    let key = format!("{}-forward", case.key);
    let _forward_rule = support::AuditRule::add(&[
        "-a",
        "always,exit",
        "-F",
        "arch=b64",
        "-S",
        "connect,bind,accept,accept4",
        "-F",
        "exe=/usr/sbin/sshd",
        "-F",
        "auid>=1000",
        "-F",
        "auid!=unset",
        "-k",
        &key,
    ]);
    let base = 20_000 + (std::process::id() % 5_000) as u16 * 3;
    let (web, local, remote) = (base, base + 1, base + 2);
    let _server = Running(
        Command::new("python3")
            .args(["-m", "http.server", &web.to_string(), "--bind", "127.0.0.1"])
            .current_dir(&case.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("an HTTP server"),
    );
    wait_listening(web);
    let daemon = Daemon::start(&case.dir);

    // ssh -L, used by a real request.
    let l_forward = Running(support::live::background_ssh(&format!(
        "tb_ssh_forward 127.0.0.1 22830 sshtrail-alice alice -L {local}:127.0.0.1:{web}"
    )));
    wait_listening(local);
    assert!(http_get(local).contains("200"), "the -L forward works");
    // ssh -R, used by a real request on this (the server's) side.
    let r_forward = Running(support::live::background_ssh(&format!(
        "tb_ssh_forward 127.0.0.1 22830 sshtrail-alice alice -R {remote}:127.0.0.1:{web}"
    )));
    wait_listening(remote);
    assert!(http_get(remote).contains("200"), "the -R forward works");
    // bob may forward only to 127.0.0.1:18081 (the testbed's PermitOpen): refused.
    let denied = base + 3;
    let refused = Running(support::live::background_ssh(&format!(
        "exec sshpass -p \"$TESTBED_PASSWORD\" ssh \"${{TB_SSH_OPTS[@]}}\" -p 22830 -o PubkeyAuthentication=no -o PreferredAuthentications=password -N -L {denied}:127.0.0.1:{web} -l sshtrail-bob 127.0.0.1 </dev/null"
    )));
    wait_listening(denied);
    assert!(
        !http_get(denied).contains("200"),
        "bob's forward is refused"
    );
    let target = format!("127.0.0.1:{web}");
    let listening = format!("127.0.0.1:{remote}");
    let events = daemon.wait_for(|events| {
        !on(events, "forwarded-to", &target).is_empty()
            && !on(events, "listening-for-forward", &listening).is_empty()
            && !on(events, "refused-forward", &target).is_empty()
    });
    drop(l_forward);
    drop(r_forward);
    drop(refused);
    let no = one(&events, "refused-forward", &target);
    assert_eq!(no["subjects"]["loggedAs"], "sshtrail-bob");
    assert_eq!(no["outcome"], "failed");
    assert_eq!(no["component"], "sshd");
    assert_eq!(extra(no, "channel"), "direct-tcpip");
    assert_eq!(extra(no, "correlation"), "joined");

    let to = one(&events, "forwarded-to", &target);
    assert_eq!(extra(to, "channel"), "direct-tcpip");
    // The kernel said EINPROGRESS (sshd does not wait): a forward begun, not a failure.
    assert_eq!(to["outcome"], "succeeded", "{to}");
    assert!(extra(to, "how")
        .as_str()
        .is_some_and(|h| h.contains("EINPROGRESS")));
    let bound = one(&events, "listening-for-forward", &listening);
    assert_eq!(extra(bound, "channel"), "tcpip-forward");
    let (l_ses, r_ses) = (id_of(to), id_of(bound));
    assert_ne!(l_ses, r_ses, "each forward in its own session");
    let events = daemon.wait_for(|events| logged_out(events, &l_ses) && logged_out(events, &r_ses));
    for ses in [&l_ses, &r_ses] {
        assert_own_session(&events, ses);
    }
    // Nothing of sshd's own (PAM, syslog, name lookups) is taken for a forward, and no
    // session but these two has one (bob's was refused before any system call).
    let forwards: Vec<&Value> = events
        .iter()
        .filter(|e| {
            extra(e, "action")
                .as_str()
                .is_some_and(|a| a == "forwarded-to" || a.starts_with("listening-for-"))
        })
        .collect();
    for e in &forwards {
        assert!(id_of(e) == l_ses || id_of(e) == r_ses, "{e}");
    }
    assert_eq!(
        on(&events, "forwarded-to", &target).len(),
        1,
        "one request, one forward"
    );
}

#[test]
fn transfers_made_while_the_daemon_was_down_are_joined_once_after_its_restart() {
    let Some(case) = LiveCase::new("channels_downtime", "chandown") else {
        return;
    };
    let key = case.key.clone();
    let daemon = Daemon::start(&case.dir);
    // Past a checkpoint, so that the restart resumes from one.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    daemon.crash();

    let local = case.dir.join("local");
    std::fs::create_dir_all(&local).expect("local dir");
    let name = format!("down {key}.txt");
    std::fs::write(local.join(&name), b"written while nobody watched").expect("a file");
    let batch = format!("put \"{name}\"\nrm \"{name}\"\n");
    client_in(&local, "tb_sftp_key 22830 sshtrail-alice alice", &batch);
    std::thread::sleep(std::time::Duration::from_secs(2));

    let daemon = Daemon::start_nth(&case.dir, 2);
    let path = format!("{}/{name}", home_of(USER));
    let events = daemon.wait_for(|events| {
        on(events, "removed-file", &path).len() == 1
            && events.iter().any(|e| {
                e["type"] == "UserLogout"
                    && on(events, "removed-file", &path)
                        .first()
                        .is_some_and(|r| id_of(r) == id_of(e))
            })
    });
    let ses = sftp_session_of(&events, "uploaded-file", &path);
    assert_own_session(&events, &ses);
    assert_eq!(id_of(one(&events, "removed-file", &path)), ses);
    assert_eq!(extra(one(&events, "uploaded-file", &path), "bytes"), 28);
    drop(daemon.stop());
}
