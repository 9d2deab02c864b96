//! The deployment files in deploy/ are what the daemon accepts: the example config
//! passes `--check-config`, config mistakes exit 2 naming the key, the systemd unit
//! verifies, and the auditd plugin set-up (records on stdin) produces events.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn sshtrail(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sshtrail"))
        .args(args)
        .current_dir(repo())
        .output()
        .expect("run sshtrail");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

fn temp_file(name: &str, text: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("sshtrail-deploy-{}-{name}", std::process::id()));
    std::fs::write(&path, text).expect("write temp file");
    path
}

#[test]
fn the_example_config_is_accepted() {
    let (code, out) = sshtrail(&["run", "--config", "deploy/sshtrail.toml", "--check-config"]);
    assert_eq!((code, out.trim()), (0, "configuration ok"));
}

#[test]
fn config_mistakes_exit_2_naming_the_key() {
    let cases = [
        ("unknown", "outptu = \"x\"\n", "outptu"),
        (
            "badvalue",
            "audit-source = \"bogus\"\noutput = \"-\"\nstate-dir = \"/tmp\"\n",
            "audit-source",
        ),
        (
            "badtype",
            "join-deadline-ms = \"ten\"\n",
            "join-deadline-ms",
        ),
        (
            "badstorage",
            "session-storage = \"ftp://x\"\noutput = \"-\"\nstate-dir = \"/tmp\"\n",
            "session-storage",
        ),
        (
            "badstoragekey",
            "session-storage = \"s3://b/p?colour=blue\"\noutput = \"-\"\nstate-dir = \"/tmp\"\n",
            "colour",
        ),
        (
            "badgeoip",
            "geoip-db = \"/nonexistent/GeoLite2-City.mmdb\"\noutput = \"-\"\nstate-dir = \"/tmp\"\n",
            "geoip-db",
        ),
    ];
    for (name, text, key) in cases {
        let path = temp_file(name, text);
        let (code, out) = sshtrail(&["run", "--config", &path.to_string_lossy(), "--check-config"]);
        assert_eq!(code, 2, "{name}: {out}");
        assert!(
            out.contains(key),
            "{name}: the message names `{key}`: {out}"
        );
        let _ = std::fs::remove_file(path);
    }
    let (code, out) = sshtrail(&["run", "--check-config"]);
    assert_eq!(code, 2);
    assert!(out.contains("--output"), "{out}");
}

#[test]
fn the_systemd_unit_verifies() {
    if Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped: no systemd-analyze");
        return;
    }
    let unit = std::fs::read_to_string(repo().join("deploy/sshtrail.service")).expect("unit");
    for hardening in [
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ProtectHome=yes",
    ] {
        assert!(unit.contains(hardening), "{hardening}");
    }
    // Verify against this build of the binary (the unit names the installed path).
    let unit = unit.replace("/usr/bin/sshtrail", env!("CARGO_BIN_EXE_sshtrail"));
    let dir = std::env::temp_dir().join(format!("sshtrail-unit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("sshtrail.service");
    std::fs::write(&path, unit).expect("write unit");
    // The man page the unit names is the package's (tests/packaging.rs verifies the
    // installed unit with it); this checkout has none installed.
    let out = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(&path)
        .output()
        .expect("systemd-analyze");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && stderr.trim().is_empty(), "{stderr}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_plugin_source_reads_records_on_stdin() {
    let plugin = std::fs::read_to_string(repo().join("deploy/audit-plugin.conf")).expect("plugin");
    let args: Vec<&str> = plugin
        .lines()
        .find_map(|l| l.strip_prefix("args = "))
        .expect("an args line")
        .split_whitespace()
        .collect();
    // auditd passes a plugin at most two arguments (auditd-plugins(5)).
    assert!(args.len() <= 2, "{args:?}");
    assert_eq!(args, ["plugin", "--config=/etc/sshtrail/sshtrail.toml"]);
    let dir = std::env::temp_dir().join(format!("sshtrail-plugin-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let fifo = dir.join("sshd.fifo");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo")
        .success());
    let output = dir.join("events.json");
    // The packaged config says audit-source = "file"; `plugin` must win over it.
    let config = dir.join("sshtrail.toml");
    std::fs::write(
        &config,
        format!(
            "audit-source = \"file\"\nsshd-source = \"fifo\"\nsshd-log = \"{}\"\noutput = \"{}\"\nstate-dir = \"{}\"\nmetrics-listen = \"off\"\n",
            fifo.display(),
            output.display(),
            dir.join("state").display()
        ),
    )
    .expect("config");
    let mut child = Command::new(env!("CARGO_BIN_EXE_sshtrail"))
        .arg(args[0])
        .arg(format!("--config={}", config.display()))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start");
    // Real records of a login captured from this machine's auditd, as auditd's plugin
    // framework would write them.
    let records =
        std::fs::read(repo().join("crates/audit/tests/data/ssh-login.log")).expect("fixture");
    if let Some(stdin) = child.stdin.as_mut() {
        stdin.write_all(&records).expect("write records");
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    let events = loop {
        let text = std::fs::read_to_string(&output).unwrap_or_default();
        if text.contains("UserLogout") {
            break text;
        }
        assert!(Instant::now() < deadline, "no logout yet: {text}");
        std::thread::sleep(Duration::from_millis(200));
    };
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    let marked = events
        .lines()
        .filter(|l| l.contains("\"sshtrail-ssh-session\"") && l.contains("\"UserAction\""))
        .count();
    assert_eq!(marked, 1, "{events}");
    let _ = std::fs::remove_dir_all(dir);
}
