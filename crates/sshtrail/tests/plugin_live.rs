//! `sshtrail plugin` under the real auditd: auditd starts it from a `plugins.d` file, and
//! deactivating the plugin (`active = no` and a SIGHUP to auditd, as an operator does)
//! ends it promptly, its checkpoint written and its stop reported, however often it is
//! done: no `sshtrail plugin` is left behind under auditd.
//!
//! auditd 3.0's dispatcher exits when the last active plugin goes, and plugins activated
//! after that are not started again until auditd itself is restarted (seen here with
//! 3.0.9). So, as on a host with some other plugin active, a second plugin (`/bin/cat`,
//! reading what it is sent and throwing it away) is active from an auditd start on, and
//! auditd is restarted as it ran at the start and at the end.
//!
//! Needs root and a running auditd; skips without them unless `SSHTRAIL_REQUIRE_LIVE=1`.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};
use support::{kernel_audit_lock, require_live};

fn auditd_pid() -> i32 {
    let out = Command::new("auditctl")
        .arg("-s")
        .output()
        .expect("auditctl -s");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("pid "))
        .and_then(|p| p.trim().parse().ok())
        .expect("auditd's pid")
}

/// Restarts auditd with the command line it runs with, and waits until it is registered.
fn restart_auditd() {
    let pid = auditd_pid();
    let cmdline: Vec<String> = std::fs::read(format!("/proc/{pid}/cmdline"))
        .expect("auditd's command line")
        .split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    let exe = std::fs::read_link(format!("/proc/{pid}/exe")).expect("auditd's program");
    assert!(Command::new("kill")
        .arg(pid.to_string())
        .status()
        .expect("kill")
        .success());
    wait_until(Duration::from_secs(10), "auditd stops", || {
        !Path::new(&format!("/proc/{pid}")).exists()
    });
    let status = Command::new(exe)
        .args(&cmdline[1..])
        .status()
        .expect("start auditd");
    assert!(status.success(), "auditd {cmdline:?}");
    wait_until(Duration::from_secs(10), "auditd registers", || {
        Command::new("auditctl").arg("-s").output().is_ok_and(|o| {
            let text = String::from_utf8_lossy(&o.stdout);
            text.lines()
                .any(|l| l.starts_with("pid ") && l.trim() != "pid 0")
                && text.lines().any(|l| l.trim() == "enabled 1")
        })
    });
}

fn reload_auditd() {
    let status = Command::new("kill")
        .args(["-HUP", &auditd_pid().to_string()])
        .status()
        .expect("kill -HUP");
    assert!(status.success());
}

/// The processes running `sshtrail plugin --config=<config>`.
fn plugins_of(config: &Path) -> Vec<u32> {
    let want = format!("--config={}", config.display());
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let args: Vec<String> = cmdline
            .split(|b| *b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        if args.iter().any(|a| a == "plugin") && args.contains(&want) {
            found.push(pid);
        }
    }
    found
}

/// A plugins.d file; removed (and auditd told) when dropped.
struct PluginConf(PathBuf);

impl PluginConf {
    fn keeper() -> PluginConf {
        let conf = PluginConf(PathBuf::from(format!(
            "/etc/audit/plugins.d/sshtrail-test-keeper-{}.conf",
            std::process::id()
        )));
        std::fs::write(
            &conf.0,
            "# written by sshtrail's tests/plugin_live.rs; removed when it ends
             active = yes
direction = out
type = always
format = string
path = /bin/cat
",
        )
        .expect("plugins.d file");
        conf
    }

    fn write(&self, active: bool, config: &Path) {
        let text = format!(
            "# written by sshtrail's tests/plugin_live.rs; removed when it ends\n\
             active = {}\ndirection = out\ntype = always\nformat = string\n\
             path = {}\nargs = plugin --config={}\n",
            if active { "yes" } else { "no" },
            env!("CARGO_BIN_EXE_sshtrail"),
            config.display()
        );
        std::fs::write(&self.0, text).expect("plugins.d file");
    }
}

impl Drop for PluginConf {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Puts auditd back as it ran (without the test's plugins) when dropped.
struct AuditdRestart;

impl Drop for AuditdRestart {
    fn drop(&mut self) {
        restart_auditd();
    }
}

fn count(path: &Path, action: &str) -> usize {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .matches(&format!("\"action\":\"{action}\""))
        .count()
}

/// When the checkpoint in `path` was saved (ms since the epoch).
fn saved_at(path: &Path) -> u64 {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|c| c["saved_at_ms"].as_u64())
        .unwrap_or(0)
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn wait_until(limit: Duration, what: &str, done: impl Fn() -> bool) -> Duration {
    let start = Instant::now();
    let mut probed = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "{what} within {limit:?}");
        std::thread::sleep(Duration::from_millis(50));
        // auditd starts a plugin as events come: give it one now and then.
        if probed.elapsed() > Duration::from_millis(500) {
            let _ = Command::new("auditctl")
                .args(["-m", "sshtrail-plugin-live-probe"])
                .status();
            probed = Instant::now();
        }
    }
    start.elapsed()
}

#[test]
fn deactivating_the_plugin_ends_it_promptly_with_its_checkpoint_written() {
    if !require_live("plugin_live") {
        return;
    }
    let _lock = kernel_audit_lock();
    let dir = std::env::temp_dir().join(format!("sshtrail-plugin-live-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let output = dir.join("events.json");
    let state = dir.join("state");
    std::fs::write(dir.join("auth.log"), "").expect("auth log");
    let config = dir.join("sshtrail.toml");
    std::fs::write(
        &config,
        format!(
            "output = \"{}\"\nstate-dir = \"{}\"\nmetrics-listen = \"off\"\n\
             sshd-source = \"syslog\"\nsshd-log = \"{}\"\n",
            output.display(),
            state.display(),
            dir.join("auth.log").display()
        ),
    )
    .expect("config");
    // Dropped after the plugins.d files (declared before them): auditd as it was.
    let _restart = AuditdRestart;
    let conf = PluginConf(PathBuf::from(format!(
        "/etc/audit/plugins.d/sshtrail-test-{}.conf",
        std::process::id()
    )));
    let checkpoint = state.join("checkpoint.json");
    let keeper = PluginConf::keeper();
    restart_auditd();
    for round in 1..=5 {
        conf.write(true, &config);
        reload_auditd();
        wait_until(Duration::from_secs(20), "auditd starts the plugin", || {
            count(&output, "daemon-started") == round && plugins_of(&config).len() == 1
        });
        let running = plugins_of(&config);
        std::thread::sleep(Duration::from_millis(300));
        let deactivated = now_ms();
        conf.write(false, &config);
        reload_auditd();
        let took = wait_until(Duration::from_secs(5), "the plugin ends", || {
            running
                .iter()
                .all(|pid| !Path::new(&format!("/proc/{pid}")).exists())
        });
        eprintln!("round {round}: the plugin ended {took:?} after the reload");
        assert_eq!(
            count(&output, "daemon-stopped"),
            round,
            "its stop is reported"
        );
        assert!(
            saved_at(&checkpoint) >= deactivated,
            "the checkpoint is written at the stop"
        );
    }
    assert!(plugins_of(&config).is_empty(), "none left behind");
    drop(conf);
    drop(keeper);
    let _ = std::fs::remove_dir_all(&dir);
}
