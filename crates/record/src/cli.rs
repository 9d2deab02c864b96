//! `sshtrail-record [--socket PATH] [--unavailable allow|deny] [--shell PATH] [-c CMD]`:
//! the recorder's command line (see the crate documentation). sshd runs it as the
//! `ForceCommand`; it runs `SSH_ORIGINAL_COMMAND` through the user's shell, or the user's
//! login shell. As the login shell itself (`-c CMD` for a command), it runs `--shell`
//! (default /bin/bash).

use crate::link::{self, now_us, Recording};
use crate::protocol::{Hello, Mode, VERSION};
use crate::pty;
use crate::relay::{self, Program};
use std::ffi::CStr;
use std::path::PathBuf;
use std::sync::Arc;

const DEFAULT_SOCKET: &str = "/run/sshtrail/record.sock";

/// The sftp server a client's `internal-sftp` runs as (the recorder cannot run sshd's
/// built-in one), where Debian, Fedora and Arch put it.
const SFTP_SERVERS: [&str; 3] = [
    "/usr/lib/openssh/sftp-server",
    "/usr/libexec/openssh/sftp-server",
    "/usr/lib/ssh/sftp-server",
];

/// Most of `SSH_USER_AUTH`'s file that is sent (a certificate is a few KiB).
const MAX_USER_AUTH: u64 = 64 * 1024;

struct Args {
    socket: PathBuf,
    deny_unrecorded: bool,
    /// `-c COMMAND`: run as a login shell, sshd passes the command so.
    command: Option<String>,
    /// The shell to run when the recorder is itself the login shell.
    shell: Option<String>,
}

fn args() -> Result<Args, String> {
    let mut out = Args {
        socket: PathBuf::from(DEFAULT_SOCKET),
        deny_unrecorded: false,
        command: None,
        shell: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--socket" => out.socket = it.next().ok_or("--socket needs a path")?.into(),
            "--unavailable" => match it.next().as_deref() {
                Some("allow") => out.deny_unrecorded = false,
                Some("deny") => out.deny_unrecorded = true,
                _ => return Err("--unavailable takes allow or deny".into()),
            },
            "-c" => out.command = Some(it.next().ok_or("-c needs a command")?),
            "--shell" => out.shell = Some(it.next().ok_or("--shell needs a path")?),
            "--help" | "-h" => {
                return Err(
                    "usage: sshtrail-record [--socket PATH] [--unavailable allow|deny] [--shell PATH] [-c COMMAND]"
                        .into(),
                )
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(out)
}

/// The user's login shell from the password database (not `$SHELL`, which the user's
/// environment could set).
fn login_shell() -> String {
    let mut buf = vec![0u8; 16 * 1024];
    // SAFETY: a zeroed passwd is a valid out-parameter.
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut found: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: getpwuid_r fills `pwd` with pointers into `buf`, which outlives their use.
    let rc = unsafe {
        libc::getpwuid_r(
            libc::getuid(),
            &mut pwd,
            buf.as_mut_ptr().cast(),
            buf.len(),
            &mut found,
        )
    };
    if rc == 0 && !found.is_null() && !pwd.pw_shell.is_null() {
        // SAFETY: pw_shell points at a NUL-terminated string inside `buf`.
        let shell = unsafe { CStr::from_ptr(pwd.pw_shell) }
            .to_string_lossy()
            .into_owned();
        if !shell.is_empty() {
            return shell;
        }
    }
    "/bin/sh".into()
}

/// The first word of a command, without its directory.
pub fn program_name(command: &str) -> &str {
    let first = command.split_whitespace().next().unwrap_or("");
    first.rsplit('/').next().unwrap_or(first)
}

fn program(shell: &str, command: Option<&str>) -> Program {
    match command {
        // sshd's built-in server cannot run outside sshd: the stand-alone one can.
        Some(c) if program_name(c) == "internal-sftp" => {
            let path = SFTP_SERVERS
                .iter()
                .find(|p| std::path::Path::new(p).exists())
                .unwrap_or(&SFTP_SERVERS[0]);
            Program {
                path: path.to_string(),
                arg0: path.to_string(),
                args: Vec::new(),
            }
        }
        Some(command) => Program {
            path: shell.into(),
            arg0: shell.into(),
            args: vec!["-c".into(), command.into()],
        },
        None => {
            let name = shell.rsplit('/').next().unwrap_or(shell);
            Program {
                path: shell.into(),
                arg0: format!("-{name}"),
                args: Vec::new(),
            }
        }
    }
}

/// A file transfer's payload is never kept, only counted and hashed.
fn is_transfer(command: Option<&str>) -> bool {
    let Some(command) = command else { return false };
    let rest: Vec<&str> = command.split_whitespace().skip(1).collect();
    match program_name(command) {
        "internal-sftp" | "sftp-server" => true,
        "scp" => rest
            .iter()
            .any(|w| w.starts_with('-') && (w.contains('t') || w.contains('f'))),
        "rsync" => rest.contains(&"--server"),
        _ => false,
    }
}

fn user_auth() -> Option<String> {
    use std::io::Read;
    let path = std::env::var_os("SSH_USER_AUTH")?;
    let mut text = String::new();
    std::fs::File::open(path)
        .ok()?
        .take(MAX_USER_AUTH)
        .read_to_string(&mut text)
        .ok()?;
    Some(text)
}

/// The whole recorder: never returns (it exits as the program did).
pub fn main() -> ! {
    // Before any thread: the relayed signals are waited for, not delivered.
    relay::block_signals();
    let args = match args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("sshtrail-record: {e}");
            std::process::exit(2);
        }
    };
    // As the ForceCommand, what the client asked for is SSH_ORIGINAL_COMMAND; as the login
    // shell, sshd passes it with -c.
    let command = std::env::var("SSH_ORIGINAL_COMMAND")
        .ok()
        .or(args.command.clone());
    let shell = args.shell.clone().unwrap_or_else(|| {
        let shell = login_shell();
        // The recorder as the login shell runs a real one, not itself again.
        let me = std::env::current_exe().ok();
        let same = std::fs::canonicalize(&shell)
            .ok()
            .is_some_and(|s| Some(s) == me);
        if same {
            "/bin/bash".to_string()
        } else {
            shell
        }
    });
    let program = program(&shell, command.as_deref());
    let mode = if pty::is_tty(0) {
        Mode::Pty
    } else {
        Mode::Pipes
    };
    let size = pty::window_size(0);
    let hello = Hello {
        version: VERSION,
        mode,
        term: std::env::var("TERM").ok().filter(|_| mode == Mode::Pty),
        cols: size.map_or(0, |s| s.ws_col),
        rows: size.map_or(0, |s| s.ws_row),
        command: command.clone(),
        program: program.path.clone(),
        user_auth: user_auth(),
        connection: std::env::var("SSH_CONNECTION").ok(),
        offsets: [0; 3],
        started_us: now_us(),
    };
    let (recording, record_input) = match link::connect(&args.socket, &hello) {
        Ok((stream, ack)) => {
            let content = if is_transfer(command.as_deref()) {
                0
            } else if mode == Mode::Pty {
                u64::MAX
            } else {
                ack.max_bytes
            };
            let limits = [if ack.record_input { content } else { 0 }, content, content];
            let recording = Recording::start(stream, args.socket.clone(), hello, limits);
            (recording, ack.record_input)
        }
        Err(e) if args.deny_unrecorded => {
            eprintln!("sshtrail-record: the session cannot be recorded ({e}); refused");
            std::process::exit(1);
        }
        Err(_) => (Arc::new(Recording::unrecorded()), false),
    };
    let result = match mode {
        Mode::Pty => relay::run_in_pty(&program, Arc::clone(&recording), record_input),
        Mode::Pipes => relay::run_with_pipes(&program, Arc::clone(&recording)),
    };
    drop(recording);
    match result {
        Ok(status) => relay::exit_like(status),
        Err(e) => {
            eprintln!("sshtrail-record: cannot run {}: {e}", program.path);
            std::process::exit(127);
        }
    }
}
