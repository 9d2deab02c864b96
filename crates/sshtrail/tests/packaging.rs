//! sshtrail installed the way operators install it, and run against the real testbed:
//!
//! - the Debian package: built with cargo-deb from the release binary
//!   (`scripts/package-deb`), installed with `dpkg -i`; every file, owner and mode checked;
//!   `systemd-analyze verify` on the installed unit; the installed binary run as the unit
//!   runs it joins a real ssh login; upgraded and rolled back with apt (the README's
//!   commands); removed (config, state and trail kept) and purged (all gone);
//! - the container image: built with podman from local files (`deploy/container/build-image`)
//!   and run against this host's real logs mounted read-only, with every capability
//!   dropped: a real login's events come out;
//! - the Kubernetes DaemonSet: validated against the Kubernetes API schemas
//!   (kubernetes-validate, strict), its host mounts exactly the image's list
//!   (`deploy/container/mounts`), as the README's `podman run` command's are.
//!
//! Needs root, auditd, the testbed and the tools (scripts/install-deps installs them: cargo-deb,
//! podman, runc, kubernetes-validate); skips without them unless `SSHTRAIL_REQUIRE_LIVE=1`.
//! Everything is put back: the package purged, the system user removed if the test made
//! it, the image and container removed, the audit rules deleted.

mod support;

use serde_json::Value;
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use support::live::{repo, ssh, testbed_up, with_marker, LiveCase};
use support::{kernel_audit_lock, require_live, AuditRule};

/// Whether `program` can be run here.
fn have(program: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {program}"))
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The tools a test needs: true when all are there; a skip, or a failure under
/// `SSHTRAIL_REQUIRE_LIVE=1`, when not.
fn tools(test: &str, programs: &[&str]) -> bool {
    let missing: Vec<&str> = programs.iter().copied().filter(|p| !have(p)).collect();
    if missing.is_empty() {
        return true;
    }
    if std::env::var("SSHTRAIL_REQUIRE_LIVE").as_deref() == Ok("1") {
        panic!("{test}: missing {missing:?} (scripts/install-deps installs them)");
    }
    eprintln!("{test}: skipped (missing {missing:?})");
    false
}

/// Runs `command`, which must succeed; its output.
fn run(command: &mut Command) -> Output {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("{command:?}: {e}"));
    assert!(
        out.status.success(),
        "{command:?}: {}\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stdout(command: &mut Command) -> String {
    String::from_utf8_lossy(&run(command).stdout).into_owned()
}

/// This build's target directory (the test binary is `<target>/debug/deps/packaging-…`).
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary");
    exe.ancestors().nth(3).expect("target dir").to_path_buf()
}

/// The release binary, built once for both the package and the image (the published
/// artifacts are built with `--profile dist`; release is the same code, quicker to build).
fn release_binary() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            run(Command::new(cargo)
                .args(["build", "--locked", "--release", "-p", "sshtrail"])
                .env("CARGO_TARGET_DIR", target_dir())
                .current_dir(repo()));
            target_dir().join("release/sshtrail")
        })
        .clone()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sshtrail-pkg-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// The host paths of `deploy/container/mounts`: (path, read-only).
fn mount_list() -> Vec<(String, bool)> {
    let text = std::fs::read_to_string(repo().join("deploy/container/mounts")).expect("mounts");
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let mut words = l.split_whitespace();
            let path = words.next().expect("path").to_string();
            let access = words.next().expect("access");
            assert!(access == "ro" || access == "rw", "{l}");
            (path, access == "ro")
        })
        .collect()
}

fn events_of(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("every line is one JSON event"))
        .collect()
}

fn wait_for_events(path: &Path, what: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let events = events_of(path);
        if done(&events) {
            return events;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; events so far: {events:#?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn daemon_started(events: &[Value]) -> bool {
    events
        .iter()
        .any(|e| e["data"]["action"] == "daemon-started")
}

/// A real key login to the testbed running `/bin/echo MARKER`, and the events that show it
/// was joined: the login (correlation joined), the marked command in it, and the logout.
fn login_is_joined(output: &Path, marker: &str) -> Vec<Value> {
    let (ok, out) = ssh(&format!(
        "tb_ssh_key 127.0.0.1 22830 sshtrail-alice alice '/bin/echo {marker}'"
    ));
    assert!(ok && out.contains(marker), "ssh login: {out}");
    let events = wait_for_events(output, "the login's events", |events| {
        let marked = with_marker(events, marker);
        let login = events.iter().any(|e| {
            e["type"] == "UserLogin"
                && e["subjects"]["loggedAs"] == "sshtrail-alice"
                && e["metadata"]["extra"]["correlation"] == "joined"
        });
        let logout = events.iter().any(|e| e["type"] == "UserLogout");
        login && logout && !marked.is_empty()
    });
    let marked = with_marker(&events, marker);
    let action = marked[0];
    assert_eq!(action["type"], "UserAction", "{action:#}");
    assert_eq!(
        action["metadata"]["extra"]["correlation"], "joined",
        "{action:#}"
    );
    assert_eq!(action["subjects"]["loggedAs"], "sshtrail-alice");
    events
}

/// `GET path` on 127.0.0.1:port: the status line.
fn http_status(port: u16, path: &str) -> String {
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return String::new();
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = write!(stream, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n");
    let mut text = String::new();
    let _ = stream.read_to_string(&mut text);
    text.lines().next().unwrap_or_default().to_string()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn stop(mut child: Child) -> std::process::ExitStatus {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    child.wait().expect("wait")
}

// ---------------------------------------------------------------------------------------
// The Debian package

const PACKAGE: &str = "sshtrail";

fn package_status() -> String {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", PACKAGE])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

fn user_exists(name: &str) -> bool {
    Command::new("getent")
        .args(["passwd", name])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Purges the package on drop, and removes the system user and group if the test made
/// them; also when the test fails half way.
struct InstalledPackage {
    user_existed: bool,
}

impl Drop for InstalledPackage {
    fn drop(&mut self) {
        if !package_status().is_empty() {
            let _ = Command::new("dpkg")
                .args(["--purge", PACKAGE])
                .stdout(Stdio::null())
                .status();
        }
        if !self.user_existed {
            let _ = Command::new("userdel").arg(PACKAGE).status();
            let _ = Command::new("groupdel")
                .arg(PACKAGE)
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// `scripts/package-deb` on the release binary, at `deb` (version `version`).
fn build_deb(deb: &Path, version: &str) {
    release_binary();
    run(Command::new(repo().join("scripts/package-deb"))
        .args(["--deb-version", version, "--output"])
        .arg(deb)
        .env("PROFILE", "release")
        .env("NO_BUILD", "1")
        .env("CARGO_TARGET_DIR", target_dir())
        .current_dir(repo()));
}

/// (mode, owner, group) of `path`, without following a last symlink.
fn stat(path: &str) -> (u32, String, String) {
    let meta =
        std::fs::symlink_metadata(path).unwrap_or_else(|e| panic!("{path} is installed: {e}"));
    let name = |db: &str, id: u32| {
        let out = stdout(Command::new("getent").args([db, &id.to_string()]));
        out.split(':').next().unwrap_or_default().to_string()
    };
    (
        meta.permissions().mode() & 0o7777,
        name("passwd", meta.uid()),
        name("group", meta.gid()),
    )
}

/// Every file the package ships, with its mode, owner and group; then what the postinst
/// makes.
fn expected_files(bin: &Path) -> Vec<(String, u32, &'static str, &'static str)> {
    let mut files: Vec<(String, u32, &str, &str)> = [
        ("/usr/bin/sshtrail", 0o755, "root", "root"),
        // setgid: the recording socket hears only this group (a statoverride).
        (
            "/usr/lib/sshtrail/sshtrail-record",
            0o2755,
            "root",
            "sshtrail-record",
        ),
        (
            "/usr/lib/systemd/system/sshtrail.service",
            0o644,
            "root",
            "root",
        ),
        ("/usr/lib/sysusers.d/sshtrail.conf", 0o644, "root", "root"),
        ("/usr/lib/tmpfiles.d/sshtrail.conf", 0o644, "root", "root"),
        // May hold storage credentials: not for everyone; the service's group reads it.
        ("/etc/sshtrail/sshtrail.toml", 0o640, "root", "sshtrail"),
        ("/etc/audit/plugins.d/sshtrail.conf", 0o640, "root", "root"),
        (
            "/etc/audit/rules.d/50-sshtrail.rules",
            0o640,
            "root",
            "root",
        ),
        (
            "/usr/share/sshtrail/sshd_config.d/20-sshtrail-verbose.conf",
            0o644,
            "root",
            "root",
        ),
        (
            "/usr/share/sshtrail/sshd_config.d/20-sshtrail-sftp.conf",
            0o644,
            "root",
            "root",
        ),
        (
            "/usr/share/sshtrail/sshd_config.d/30-sshtrail-record.conf",
            0o644,
            "root",
            "root",
        ),
        (
            "/usr/share/sshtrail/sshd_config.d/README.md",
            0o644,
            "root",
            "root",
        ),
        (
            "/usr/share/bash-completion/completions/sshtrail",
            0o644,
            "root",
            "root",
        ),
        (
            "/usr/share/zsh/vendor-completions/_sshtrail",
            0o644,
            "root",
            "root",
        ),
        (
            "/usr/share/fish/vendor_completions.d/sshtrail.fish",
            0o644,
            "root",
            "root",
        ),
        ("/usr/share/doc/sshtrail/README.md", 0o644, "root", "root"),
        ("/usr/share/doc/sshtrail/copyright", 0o644, "root", "root"),
        (
            "/usr/share/doc/sshtrail/changelog.Debian.gz",
            0o644,
            "root",
            "root",
        ),
    ]
    .into_iter()
    .map(|(p, m, o, g)| (p.to_string(), m, o, g))
    .collect();
    // One man page per visible command, as the binary writes them.
    let pages = temp_dir("man");
    run(Command::new(bin).arg("man").arg(&pages));
    for page in std::fs::read_dir(&pages).expect("pages") {
        let name = page
            .expect("page")
            .file_name()
            .to_string_lossy()
            .into_owned();
        files.push((
            format!("/usr/share/man/man1/{name}.gz"),
            0o644,
            "root",
            "root",
        ));
    }
    let _ = std::fs::remove_dir_all(pages);
    assert!(files.len() > 30, "man pages: {files:?}");
    files
}

/// The package's files are in place with their modes and owners, and nothing else is
/// shipped; the directories, user, group, statoverride and conffiles are as promised; the
/// unit is enabled and nothing runs.
fn check_installed(expected: &[(String, u32, &str, &str)], version: &str) {
    assert_eq!(package_status(), "install ok installed");
    let installed = stdout(Command::new("dpkg-query").args(["-W", "-f=${Version}", PACKAGE]));
    assert_eq!(installed, version);
    for (path, mode, owner, group) in expected {
        assert_eq!(
            stat(path),
            (*mode, owner.to_string(), group.to_string()),
            "{path}: mode, owner, group"
        );
    }
    let listed = stdout(Command::new("dpkg").args(["-L", PACKAGE]));
    let expected_paths: BTreeSet<&str> = expected.iter().map(|(p, ..)| p.as_str()).collect();
    for path in listed.lines().filter(|p| !Path::new(p).is_dir()) {
        assert!(expected_paths.contains(path), "unexpected file {path}");
    }
    // Made by the postinst (tmpfiles.d): 0750 sshtrail:sshtrail.
    for dir in ["/var/lib/sshtrail", "/var/log/sshtrail"] {
        assert_eq!(
            stat(dir),
            (0o750, "sshtrail".into(), "sshtrail".into()),
            "{dir}"
        );
    }
    // A system user without a shell, and its group.
    let user = stdout(Command::new("getent").args(["passwd", PACKAGE]));
    let fields: Vec<&str> = user.trim().split(':').collect();
    let uid: u32 = fields[2].parse().expect("uid");
    assert!(uid < 1000, "a system uid: {user}");
    assert_eq!(fields[6], "/usr/sbin/nologin", "{user}");
    run(Command::new("getent").args(["group", PACKAGE]));
    let overrides =
        stdout(Command::new("dpkg-statoverride").args(["--list", "/etc/sshtrail/sshtrail.toml"]));
    assert_eq!(
        overrides.trim(),
        "root sshtrail 640 /etc/sshtrail/sshtrail.toml"
    );
    let overrides = stdout(
        Command::new("dpkg-statoverride").args(["--list", "/usr/lib/sshtrail/sshtrail-record"]),
    );
    assert_eq!(
        overrides.trim(),
        "root sshtrail-record 2755 /usr/lib/sshtrail/sshtrail-record"
    );
    let conffiles = stdout(Command::new("dpkg-query").args(["-W", "-f=${Conffiles}", PACKAGE]));
    let conffiles: BTreeSet<&str> = conffiles
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(
        conffiles,
        BTreeSet::from([
            "/etc/audit/plugins.d/sshtrail.conf",
            "/etc/audit/rules.d/50-sshtrail.rules",
            "/etc/sshtrail/sshtrail.toml"
        ])
    );
    // Enabled (deb-systemd-helper's symlink, made without systemd running) ...
    let wants = "/etc/systemd/system/multi-user.target.wants/sshtrail.service";
    let link = std::fs::read_link(wants).unwrap_or_else(|e| panic!("{wants}: {e}"));
    assert!(
        link.ends_with("systemd/system/sshtrail.service"),
        "{link:?}"
    );
    assert!(Path::new(wants).exists(), "{wants} resolves");
    // ... and not started.
    assert!(
        installed_daemons().is_empty(),
        "nothing runs the installed binary"
    );
}

/// Processes running the installed /usr/bin/sshtrail (that file, by device and inode: a
/// container's /usr/bin/sshtrail is another).
fn installed_daemons() -> Vec<u32> {
    let Ok(installed) = std::fs::metadata("/usr/bin/sshtrail") else {
        return Vec::new();
    };
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()))
        .filter(|pid| {
            std::fs::metadata(format!("/proc/{pid}/exe"))
                .is_ok_and(|exe| exe.dev() == installed.dev() && exe.ino() == installed.ino())
        })
        .collect()
}

/// The installed files are the repository's.
fn check_contents() {
    for (installed, source) in [
        (
            "/usr/lib/systemd/system/sshtrail.service",
            "deploy/sshtrail.service",
        ),
        (
            "/usr/lib/sysusers.d/sshtrail.conf",
            "deploy/sshtrail.sysusers",
        ),
        (
            "/usr/lib/tmpfiles.d/sshtrail.conf",
            "deploy/sshtrail.tmpfile",
        ),
        ("/etc/sshtrail/sshtrail.toml", "deploy/sshtrail.toml"),
        (
            "/etc/audit/plugins.d/sshtrail.conf",
            "deploy/audit-plugin.conf",
        ),
        (
            "/etc/audit/rules.d/50-sshtrail.rules",
            "deploy/sshtrail.rules",
        ),
        (
            "/usr/share/sshtrail/sshd_config.d/20-sshtrail-verbose.conf",
            "deploy/sshd_config.d/20-sshtrail-verbose.conf",
        ),
        (
            "/usr/share/sshtrail/sshd_config.d/20-sshtrail-sftp.conf",
            "deploy/sshd_config.d/20-sshtrail-sftp.conf",
        ),
        (
            "/usr/share/sshtrail/sshd_config.d/30-sshtrail-record.conf",
            "deploy/sshd_config.d/30-sshtrail-record.conf",
        ),
    ] {
        let a = std::fs::read(installed).expect(installed);
        let b = std::fs::read(repo().join(source)).expect(source);
        assert!(a == b, "{installed} is {source}");
    }
    // The auditd plugin: inactive, naming the installed binary.
    let plugin = std::fs::read_to_string("/etc/audit/plugins.d/sshtrail.conf").expect("plugin");
    assert!(plugin.lines().any(|l| l == "active = no"), "{plugin}");
    assert!(
        plugin.lines().any(|l| l == "path = /usr/bin/sshtrail"),
        "{plugin}"
    );
    // The man pages render, and say what the flags are.
    let page = stdout(
        Command::new("man")
            .args(["-l", "/usr/share/man/man1/sshtrail-run.1.gz"])
            .env("MANWIDTH", "100"),
    );
    assert!(
        page.contains("--audit-source") && page.contains("sshtrail-run"),
        "{page}"
    );
    let found = stdout(Command::new("man").args(["-w", "sshtrail"]));
    assert_eq!(found.trim(), "/usr/share/man/man1/sshtrail.1.gz");
    // bash completes the command's own subcommands (and not the packaging ones).
    let complete = stdout(Command::new("bash").arg("-c").arg(
        "source /usr/share/bash-completion/completions/sshtrail && complete -p sshtrail && \
         COMP_WORDS=(sshtrail rep); COMP_CWORD=1; _sshtrail sshtrail rep sshtrail && echo ${COMPREPLY[@]}",
    ));
    assert!(complete.contains("-F _sshtrail sshtrail"), "{complete}");
    assert!(complete.lines().any(|l| l.trim() == "replay"), "{complete}");
    let all = stdout(Command::new("bash").arg("-c").arg(
        "source /usr/share/bash-completion/completions/sshtrail && \
         COMP_WORDS=(sshtrail ''); COMP_CWORD=1; _sshtrail sshtrail '' sshtrail && echo ${COMPREPLY[@]}",
    ));
    assert!(
        all.contains("sessions") && !all.contains("completions"),
        "{all}"
    );
}

/// The sshd drop-ins are shipped inactive, and are valid sshd settings.
fn check_sshd_dropins(dir: &Path) {
    let shipped = "/usr/share/sshtrail/sshd_config.d";
    if let Ok(entries) = std::fs::read_dir("/etc/ssh/sshd_config.d") {
        for entry in entries.filter_map(|e| e.ok()) {
            let path = entry.path();
            let target = std::fs::canonicalize(&path).unwrap_or(path.clone());
            assert!(
                !target.starts_with(shipped),
                "{path:?}: the package activated a drop-in"
            );
        }
    }
    // What sshd makes of each, alone (a host key of the test's own).
    let key = dir.join("hostkey");
    run(Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&key));
    let effective = |settings: &str| -> String {
        let config = dir.join("sshd_config");
        std::fs::write(&config, settings).expect("sshd_config");
        stdout(
            Command::new("/usr/sbin/sshd")
                .arg("-T")
                .arg("-f")
                .arg(&config)
                .arg("-h")
                .arg(&key),
        )
    };
    let verbose = effective(&format!("Include {shipped}/20-sshtrail-verbose.conf\n"));
    assert!(
        verbose.lines().any(|l| l == "loglevel VERBOSE"),
        "{verbose}"
    );
    // The sftp line is commented out even in the drop-in; uncommented it is valid.
    let sftp = std::fs::read_to_string(format!("{shipped}/20-sshtrail-sftp.conf")).expect("sftp");
    let active: Vec<&str> = sftp
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .collect();
    assert!(active.is_empty(), "{active:?}");
    let line = sftp
        .lines()
        .find_map(|l| l.strip_prefix("#Subsystem "))
        .expect("the commented Subsystem line");
    let uncommented = effective(&format!("Subsystem {line}\n"));
    assert!(
        uncommented
            .lines()
            .any(|l| l == "subsystem sftp /usr/lib/openssh/sftp-server -l INFO"),
        "{uncommented}"
    );
    // The recorder's drop-in: inactive, naming the installed setgid recorder.
    let record =
        std::fs::read_to_string(format!("{shipped}/30-sshtrail-record.conf")).expect("record");
    assert!(
        record
            .lines()
            .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#')),
        "{record}"
    );
    let forced = record
        .lines()
        .find_map(|l| {
            l.trim_start_matches('#')
                .trim()
                .strip_prefix("ForceCommand ")
        })
        .expect("the commented ForceCommand");
    assert_eq!(forced, "/usr/lib/sshtrail/sshtrail-record");
    let with_it = effective(&format!("ExposeAuthInfo yes\nForceCommand {forced}\n"));
    assert!(
        with_it
            .lines()
            .any(|l| l == "forcecommand /usr/lib/sshtrail/sshtrail-record"),
        "{with_it}"
    );
}

/// The shipped rules in the kernel for the test (unless the host has them already),
/// deleted on drop.
fn load_shipped_rules() -> Vec<AuditRule> {
    let rules = std::fs::read_to_string("/etc/audit/rules.d/50-sshtrail.rules").expect("rules");
    let mut loaded = Vec::new();
    let mut count = 0;
    for line in rules
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        count += 1;
        let args: Vec<&str> = line.split_whitespace().collect();
        let out = run_status(Command::new("auditctl").args(&args));
        if out.status.success() {
            loaded.push(AuditRule::delete_on_drop(&args));
        } else {
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains("exists"), "auditctl {line}: {err}");
        }
    }
    assert_eq!(
        count, 6,
        "b64 and b32 execve; b64 and b32 forwards, each for sshd and sshd-session"
    );
    loaded
}

fn run_status(command: &mut Command) -> Output {
    command
        .output()
        .unwrap_or_else(|e| panic!("{command:?}: {e}"))
}

/// The installed unit's ExecStart, with the test's own output, state and metrics port.
fn start_as_the_unit_does(dir: &Path) -> (Child, PathBuf) {
    let unit = std::fs::read_to_string("/usr/lib/systemd/system/sshtrail.service").expect("unit");
    let exec = unit
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .expect("ExecStart");
    let mut words = exec.split_whitespace();
    let program = words.next().expect("program");
    assert_eq!(program, "/usr/bin/sshtrail");
    let output = dir.join("events.json");
    // As root, not as User=sshtrail: this testbed's standalone journald keeps its files
    // root-only (no systemd-tmpfiles gave them to group systemd-journal, as on a real host).
    let child = Command::new(program)
        .args(words)
        .arg("--output")
        .arg(&output)
        .arg("--state-dir")
        .arg(dir.join("state"))
        .arg(format!(
            "--session-storage=file://{}",
            dir.join("sessions").display()
        ))
        .args(["--metrics-listen", "127.0.0.1:0"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the installed sshtrail");
    (child, output)
}

#[test]
fn the_debian_package_installs_runs_upgrades_and_purges_cleanly() {
    let test = "packaging_deb";
    if !require_live(test)
        || !testbed_up()
        || !tools(
            test,
            &[
                "cargo-deb",
                "dpkg",
                "apt-get",
                "systemd-analyze",
                "setpriv",
                "man",
                "sshd",
            ],
        )
    {
        return;
    }
    let status = package_status();
    if !status.is_empty() && !status.ends_with("not-installed") {
        // Not ours to replace.
        assert!(
            std::env::var("SSHTRAIL_REQUIRE_LIVE").as_deref() != Ok("1"),
            "{test}: sshtrail is installed on this machine ({status})"
        );
        eprintln!("{test}: skipped (sshtrail is installed here: {status})");
        return;
    }
    let dir = temp_dir("deb");
    let version = env!("CARGO_PKG_VERSION");
    let (first, second) = (format!("{version}-1"), format!("{version}-2"));
    let started = Instant::now();
    let deb1 = dir.join(format!("sshtrail_{first}_amd64.deb"));
    let deb2 = dir.join(format!("sshtrail_{second}_amd64.deb"));
    build_deb(&deb1, &first);
    build_deb(&deb2, &second);
    eprintln!("{test}: packages built in {:?}", started.elapsed());
    let expected = expected_files(&release_binary());

    let _installed = InstalledPackage {
        user_existed: user_exists(PACKAGE),
    };
    // Install, as the issue says: dpkg -i.
    run(Command::new("dpkg").arg("-i").arg(&deb1));
    check_installed(&expected, &first);
    check_contents();
    check_sshd_dropins(&dir);

    // The installed unit verifies (binary, user, sandboxing), with nothing to say.
    let verify = run(Command::new("systemd-analyze")
        .arg("verify")
        .arg("/usr/lib/systemd/system/sshtrail.service"));
    let said = String::from_utf8_lossy(&verify.stderr);
    assert!(said.trim().is_empty(), "systemd-analyze verify: {said}");

    // The service's user reads the config (0640 root:sshtrail), with the unit's groups.
    let unit = std::fs::read_to_string("/usr/lib/systemd/system/sshtrail.service").expect("unit");
    let setting = |key: &str| -> String {
        unit.lines()
            .find_map(|l| l.strip_prefix(key))
            .unwrap_or_else(|| panic!("{key} in the unit"))
            .to_string()
    };
    assert_eq!(setting("User="), "sshtrail");
    let groups = setting("SupplementaryGroups=")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(",");
    let check = stdout(
        Command::new("setpriv")
            .args(["--reuid=sshtrail", "--regid=sshtrail"])
            .arg(format!("--groups={groups}"))
            .args([
                "/usr/bin/sshtrail",
                "run",
                "--config",
                "/etc/sshtrail/sshtrail.toml",
                "--check-config",
            ]),
    );
    assert_eq!(check.trim(), "configuration ok");

    // The installed binary, as the unit starts it, with the shipped audit rules loaded,
    // joins a real login.
    {
        let _lock = kernel_audit_lock();
        let _rules = load_shipped_rules();
        let (child, output) = start_as_the_unit_does(&dir);
        let child = KillOnDrop(Some(child));
        wait_for_events(&output, "daemon-started", daemon_started);
        std::thread::sleep(Duration::from_millis(500));
        let marker = format!("sshtrail-pkg-deb-{}", std::process::id());
        let events = login_is_joined(&output, &marker);
        // The session's log, checked against the digest its logout carries, by the
        // installed binary.
        let logout = events
            .iter()
            .find(|e| e["type"] == "UserLogout")
            .expect("a logout");
        let id = logout["data"]["session_log_id"].as_str().expect("log id");
        let digest = logout["data"]["session_log_digest"]
            .as_str()
            .expect("digest");
        run(Command::new("/usr/bin/sshtrail")
            .args(["sessions", "--storage"])
            .arg(format!("file://{}", dir.join("sessions").display()))
            .args(["verify", id, "--digest", digest]));
        let status = stop(child.take());
        assert!(status.success(), "sshtrail run exited {status}");
    }

    // Upgrade with apt (the README's command): an admin's change to the config survives,
    // and so do its mode, the state and the enabling.
    std::fs::write("/var/lib/sshtrail/kept", "state").expect("state file");
    let mut config = std::fs::read_to_string("/etc/sshtrail/sshtrail.toml").expect("config");
    config.push_str("\n# changed by the admin\n");
    std::fs::write("/etc/sshtrail/sshtrail.toml", &config).expect("config");
    let apt = |deb: &Path, extra: &[&str]| {
        run(Command::new("apt-get")
            .args(["install", "-y", "-q", "--no-install-recommends"])
            .args(extra)
            .arg(deb)
            .env("DEBIAN_FRONTEND", "noninteractive"));
    };
    apt(&deb2, &[]);
    check_installed(&expected, &second);
    let kept = |what: &str| {
        assert_eq!(
            std::fs::read_to_string("/etc/sshtrail/sshtrail.toml").expect("config"),
            config,
            "{what}: the admin's config"
        );
        assert_eq!(
            std::fs::read_to_string("/var/lib/sshtrail/kept")
                .ok()
                .as_deref(),
            Some("state"),
            "{what}: the state"
        );
    };
    kept("upgrade");
    // Rollback (the README's command).
    apt(&deb1, &["--allow-downgrades"]);
    check_installed(&expected, &first);
    kept("rollback");

    // Remove: the program goes; config, state and trail stay.
    run(Command::new("dpkg").args(["--remove", PACKAGE]));
    assert_eq!(package_status(), "deinstall ok config-files");
    assert!(!Path::new("/usr/bin/sshtrail").exists());
    assert!(!Path::new("/usr/lib/systemd/system/sshtrail.service").exists());
    kept("remove");
    assert!(Path::new("/var/log/sshtrail").is_dir());
    for conffile in [
        "/etc/audit/plugins.d/sshtrail.conf",
        "/etc/audit/rules.d/50-sshtrail.rules",
    ] {
        assert!(Path::new(conffile).exists(), "{conffile} kept");
    }
    // Purge: everything goes but the system user.
    run(Command::new("dpkg").args(["--purge", PACKAGE]));
    let status = package_status();
    assert!(
        status.is_empty() || status.ends_with("not-installed"),
        "{status}"
    );
    for gone in [
        "/etc/sshtrail",
        "/etc/audit/plugins.d/sshtrail.conf",
        "/etc/audit/rules.d/50-sshtrail.rules",
        "/var/lib/sshtrail",
        "/var/log/sshtrail",
        "/etc/systemd/system/multi-user.target.wants/sshtrail.service",
        "/etc/systemd/system/sshtrail.service",
    ] {
        assert!(
            std::fs::symlink_metadata(gone).is_err(),
            "{gone} is left after the purge"
        );
    }
    let overrides = run_status(
        Command::new("dpkg-statoverride").args(["--list", "/etc/sshtrail/sshtrail.toml"]),
    );
    assert!(!overrides.status.success(), "the statoverride is left");
    let overrides = run_status(
        Command::new("dpkg-statoverride").args(["--list", "/usr/lib/sshtrail/sshtrail-record"]),
    );
    assert!(
        !overrides.status.success(),
        "the recorder's statoverride is left"
    );
    assert!(
        user_exists(PACKAGE),
        "the system user stays (Debian practice)"
    );
    eprintln!("{test}: done in {:?}", started.elapsed());
    let _ = std::fs::remove_dir_all(&dir);
}

/// A child killed on drop (a failing test leaves no daemon behind).
struct KillOnDrop(Option<Child>);

impl KillOnDrop {
    fn take(mut self) -> Child {
        self.0.take().expect("the child")
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(child) = self.0.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

// ---------------------------------------------------------------------------------------
// The container image

/// `podman` with the runtime this sandbox needs (crun is not installed; runc is).
fn podman() -> Command {
    let mut command = Command::new("podman");
    command.args(["--runtime", "runc"]);
    command
}

/// Removes the test's containers and image on drop.
struct Image {
    tag: String,
    containers: [String; 2],
}

impl Drop for Image {
    fn drop(&mut self) {
        for container in &self.containers {
            let _ = podman().args(["rm", "-f", "-t", "0", container]).output();
        }
        let _ = podman().args(["rmi", "-f", &self.tag]).output();
    }
}

/// Runs the image as container `name` the documented way (every capability dropped, root
/// filesystem read-only, umask 0027, the host paths of deploy/container/mounts with the
/// state and the trail in `dir`), with `options` for podman and `args` for `sshtrail run`;
/// waits for the daemon to start. The events file.
fn run_container(tag: &str, name: &str, dir: &Path, options: &[&str], args: &[&str]) -> PathBuf {
    let (state, log) = (dir.join("state"), dir.join("log"));
    std::fs::create_dir_all(&state).expect("state dir");
    std::fs::create_dir_all(&log).expect("log dir");
    let mut command = podman();
    command
        .args(["run", "-d", "--name", name])
        .args(["--cap-drop", "all", "--read-only", "--umask", "0027"])
        .args(options);
    for (path, read_only) in mount_list() {
        // The state and the trail go to the test's own directories.
        let source = match path.as_str() {
            "/var/lib/sshtrail" => state.display().to_string(),
            "/var/log/sshtrail" => log.display().to_string(),
            _ => {
                assert!(Path::new(&path).exists(), "{path} exists on this host");
                path.clone()
            }
        };
        let access = if read_only { ":ro" } else { "" };
        command.arg("-v").arg(format!("{source}:{path}{access}"));
    }
    command
        .arg(tag)
        .args(["run", "--config", "/etc/sshtrail/sshtrail.toml"])
        .args(args);
    run(&mut command);
    let output = log.join("events.json");
    wait_for_events(&output, "daemon-started", daemon_started);
    // The journald follower starts at "now": give it a moment to be reading.
    std::thread::sleep(Duration::from_millis(500));
    output
}

/// `podman stop`: the daemon exits 0 and says it stopped.
fn stop_container(name: &str, output: &Path) {
    run(podman().args(["stop", "-t", "30", name]));
    let code = stdout(podman().args(["inspect", "--format", "{{.State.ExitCode}}", name]));
    assert_eq!(code.trim(), "0", "{name}: exit code");
    assert!(
        events_of(output)
            .iter()
            .any(|e| e["data"]["action"] == "daemon-stopped"),
        "{name} stopped cleanly"
    );
}

#[test]
fn the_container_image_runs_against_the_hosts_real_logs() {
    let test = "packaging_image";
    if !require_live(test) || !testbed_up() || !tools(test, &["podman", "runc"]) {
        return;
    }
    let bin = release_binary();
    let image = Image {
        tag: format!("localhost/sshtrail-test:{}", std::process::id()),
        containers: [
            format!("sshtrail-test-{}", std::process::id()),
            format!("sshtrail-test-netlink-{}", std::process::id()),
        ],
    };
    let started = Instant::now();
    run(Command::new(repo().join("deploy/container/build-image"))
        .arg(&bin)
        .arg(&image.tag)
        .env("PODMAN", "podman --runtime runc")
        .env("CARGO_TARGET_DIR", target_dir())
        .current_dir(repo()));
    eprintln!("{test}: image built in {:?}", started.elapsed());
    let inspect: Value =
        serde_json::from_str(&stdout(podman().args(["image", "inspect", &image.tag])))
            .expect("inspect");
    let size = inspect[0]["Size"].as_u64().expect("size");
    eprintln!("{test}: image size {:.1} MB", size as f64 / 1e6);
    assert!(size < 40_000_000, "a minimal image: {size} bytes");
    let config = &inspect[0]["Config"];
    assert_eq!(
        config["Entrypoint"],
        serde_json::json!(["/usr/bin/sshtrail"])
    );
    assert_eq!(config["User"], "0:0");

    let Some(case) = LiveCase::new(test, "image") else {
        return;
    };
    let state = case.dir.join("state");
    let port = free_port();
    let node = "sshtrail-test-node";
    let metrics = format!("127.0.0.1:{port}");
    // The host's network only to reach the metrics port on 127.0.0.1 here (a pod has its own
    // address); nothing else of the host's but the mounts.
    let output = run_container(
        &image.tag,
        &image.containers[0],
        &case.dir,
        &["--network", "host", "-e", &format!("NODE_NAME={node}")],
        &["--metrics-listen", &metrics],
    );
    assert_eq!(http_status(port, "/healthz"), "HTTP/1.1 200 OK");
    let deadline = Instant::now() + Duration::from_secs(20);
    while http_status(port, "/readyz") != "HTTP/1.1 200 OK" {
        assert!(Instant::now() < deadline, "/readyz");
        std::thread::sleep(Duration::from_millis(200));
    }
    let caps = stdout(podman().args([
        "inspect",
        "--format",
        "{{.EffectiveCaps}}",
        &image.containers[0],
    ]));
    assert_eq!(caps.trim(), "[]", "no capabilities");

    let marker = format!("sshtrail-pkg-image-{}", std::process::id());
    let events = login_is_joined(&output, &marker);
    // The host's identity: NODE_NAME, its machine id, and its boot (the container's own
    // /proc has the host's boot id: the checkpoint names it).
    let machine_id = std::fs::read_to_string("/etc/machine-id").expect("machine id");
    let login = events
        .iter()
        .find(|e| e["type"] == "UserLogin")
        .expect("login");
    assert_eq!(login["target"]["host"], node);
    assert_eq!(login["target"]["machine-id"], machine_id.trim());
    let boot_id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").expect("boot id");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let checkpoint = std::fs::read_to_string(state.join("checkpoint.json")).unwrap_or_default();
        if checkpoint.contains(boot_id.trim()) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "checkpoint names the boot: {checkpoint}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // Files 0640 (with the umask the unit also sets: the checkpoint's mode is the umask's).
    for file in [output.clone(), state.join("checkpoint.json")] {
        let mode = std::fs::metadata(&file)
            .expect("written")
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o640, "{file:?}");
    }
    stop_container(&image.containers[0], &output);

    // The netlink source, with what the README says it needs: the host's network namespace
    // (the kernel multicasts audit records there only), CAP_AUDIT_READ, and CAP_AUDIT_WRITE
    // for podman's seccomp profile. Records straight from the kernel, beside auditd.
    let netlink = case.dir.join("netlink");
    let output = run_container(
        &image.tag,
        &image.containers[1],
        &netlink,
        &["--network", "host", "--cap-add", "AUDIT_READ,AUDIT_WRITE"],
        &["--audit-source", "netlink", "--metrics-listen", "off"],
    );
    let marker = format!("sshtrail-pkg-netlink-{}", std::process::id());
    login_is_joined(&output, &marker);
    let logs = run(podman().args(["logs", &image.containers[1]]));
    let logs = String::from_utf8_lossy(&logs.stderr);
    assert!(
        logs.lines()
            .any(|l| l.contains("sources started") && l.contains("\"netlink\"")),
        "the netlink source ran: {logs}"
    );
    stop_container(&image.containers[1], &output);
    eprintln!("{test}: done in {:?}", started.elapsed());
}

// ---------------------------------------------------------------------------------------
// The Kubernetes DaemonSet

/// The manifest's documents, as JSON (PyYAML comes with kubernetes-validate).
fn manifest() -> Vec<Value> {
    let text = stdout(
        Command::new("python3")
            .args([
                "-c",
                "import json, sys, yaml; print(json.dumps(list(yaml.safe_load_all(open(sys.argv[1])))))",
            ])
            .arg(repo().join("deploy/kubernetes/sshtrail.yaml")),
    );
    serde_json::from_str(&text).expect("manifest JSON")
}

#[test]
fn the_daemonset_validates_and_mounts_the_images_list() {
    let test = "packaging_daemonset";
    if !tools(test, &["kubernetes-validate", "python3"]) {
        return;
    }
    let path = repo().join("deploy/kubernetes/sshtrail.yaml");
    // Against the API schemas of an older and the newest Kubernetes it carries, strictly
    // (no property the API does not know).
    for version in ["1.28.0", "1.34.0"] {
        let out = stdout(
            Command::new("kubernetes-validate")
                .args(["--strict", "-k", version])
                .arg(&path),
        );
        assert!(
            out.contains("passed for resource daemonset/sshtrail"),
            "{version}: {out}"
        );
    }
    // The validator is not a no-op: a misspelt field fails it.
    let text = std::fs::read_to_string(&path).expect("manifest");
    let copy = temp_dir("k8s").join("sshtrail.yaml");
    std::fs::write(&copy, text.replacen("readOnly: true", "readOnyl: true", 1)).expect("copy");
    let out = run_status(
        Command::new("kubernetes-validate")
            .arg("--strict")
            .arg(&copy),
    );
    assert!(!out.status.success(), "a misspelt field passed");
    // The netlink variant its comments describe (host network and PID namespaces, audit
    // capabilities) is valid too.
    let netlink: String = text
        .lines()
        .map(|l| {
            let trimmed = l.trim_start();
            let indent = &l[..l.len() - trimmed.len()];
            match trimmed.strip_prefix("# ") {
                Some(setting)
                    if ["hostNetwork:", "hostPID:", "dnsPolicy:", "add:"]
                        .iter()
                        .any(|k| setting.starts_with(k)) =>
                {
                    format!("{indent}{setting}\n")
                }
                _ => format!("{l}\n"),
            }
        })
        .collect();
    assert_eq!(netlink.matches("hostNetwork: true").count(), 1);
    assert!(netlink.contains("add: [\"AUDIT_READ\", \"AUDIT_CONTROL\", \"AUDIT_WRITE\"]"));
    std::fs::write(&copy, netlink).expect("variant");
    let out = stdout(
        Command::new("kubernetes-validate")
            .arg("--strict")
            .arg(&copy),
    );
    assert!(
        out.contains("passed for resource daemonset/sshtrail"),
        "{out}"
    );
    let _ = std::fs::remove_dir_all(copy.parent().expect("dir"));

    let docs = manifest();
    let ds = docs
        .iter()
        .find(|d| d["kind"] == "DaemonSet")
        .expect("a DaemonSet");
    let pod = &ds["spec"]["template"];
    let spec = &pod["spec"];
    let container = &spec["containers"][0];
    // The mounts: hostPath at the same path, read-only as the list says; no more, no less.
    let volumes: Vec<&Value> = spec["volumes"]
        .as_array()
        .expect("volumes")
        .iter()
        .collect();
    let mounts = container["volumeMounts"].as_array().expect("mounts");
    let mut mounted: Vec<(String, bool)> = mounts
        .iter()
        .map(|m| {
            let volume = volumes
                .iter()
                .find(|v| v["name"] == m["name"])
                .unwrap_or_else(|| panic!("volume of {m}"));
            let host = volume["hostPath"]["path"].as_str().expect("hostPath");
            let at = m["mountPath"].as_str().expect("mountPath");
            assert_eq!(host, at, "mounted at its own path");
            (host.to_string(), m["readOnly"] == true)
        })
        .collect();
    mounted.sort();
    let mut list = mount_list();
    list.sort();
    assert_eq!(
        mounted, list,
        "the DaemonSet mounts deploy/container/mounts"
    );
    assert_eq!(volumes.len(), list.len());

    // The README's podman command mounts the same list.
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README");
    let command: String = readme
        .split("```")
        .skip(1)
        .step_by(2)
        .find(|block| block.contains("podman run"))
        .expect("a podman run command in the README")
        .to_string();
    let mut flags: Vec<(String, bool)> = command
        .split_whitespace()
        .collect::<Vec<_>>()
        .windows(2)
        .filter(|w| w[0] == "-v")
        .map(|w| {
            let parts: Vec<&str> = w[1].split(':').collect();
            assert_eq!(parts[0], parts[1], "{}: mounted at its own path", w[1]);
            (parts[0].to_string(), parts.get(2) == Some(&"ro"))
        })
        .collect();
    flags.sort();
    assert_eq!(
        flags, list,
        "the README's podman run mounts deploy/container/mounts"
    );

    // Probes on the health endpoints, the scrape annotations, every node.
    let port = &container["ports"][0];
    assert_eq!(port["containerPort"], 9834);
    assert_eq!(container["livenessProbe"]["httpGet"]["path"], "/healthz");
    assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/readyz");
    for probe in ["livenessProbe", "readinessProbe"] {
        assert_eq!(container[probe]["httpGet"]["port"], port["name"]);
    }
    let annotations = &pod["metadata"]["annotations"];
    assert_eq!(annotations["prometheus.io/scrape"], "true");
    assert_eq!(annotations["prometheus.io/port"], "9834");
    assert_eq!(annotations["prometheus.io/path"], "/metrics");
    let tolerations = spec["tolerations"].as_array().expect("tolerations");
    assert!(
        tolerations.iter().any(|t| t["operator"] == "Exists"
            && t.get("key").is_none()
            && t.get("effect").is_none()),
        "tolerates every taint: {tolerations:?}"
    );
    let requests = &container["resources"]["requests"];
    assert!(requests["cpu"].is_string() && requests["memory"].is_string());
    // Events name the node; the container runs without capabilities, read-only.
    let env = container["env"].as_array().expect("env");
    assert!(env
        .iter()
        .any(|e| e["name"] == "NODE_NAME"
            && e["valueFrom"]["fieldRef"]["fieldPath"] == "spec.nodeName"));
    let security = &container["securityContext"];
    assert_eq!(security["capabilities"]["drop"], serde_json::json!(["ALL"]));
    assert_eq!(security["readOnlyRootFilesystem"], true);
    // The args are the image's own default command (the Containerfile's CMD).
    let containerfile = std::fs::read_to_string(repo().join("deploy/container/Containerfile"))
        .expect("Containerfile");
    let cmd = containerfile
        .lines()
        .find_map(|l| l.strip_prefix("CMD "))
        .expect("CMD");
    let cmd: Value = serde_json::from_str(cmd).expect("CMD as JSON");
    assert_eq!(container["args"], cmd);
}
