//! `sshtrail`: the command-line edge. Each subcommand lives in its own module under `cmd/`;
//! this file only parses arguments, sets up logging and maps errors to exit codes
//! (0 ok, 1 runtime error, 2 usage/config error).

// glibc's allocator spends about a quarter of a session-heavy replay in page faults and
// heap growth; mimalloc keeps its pages (bench: 32.6k page faults -> 235).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod cmd;

use clap::{CommandFactory, Parser, Subcommand};
use sshtrail::settings::AuditSource;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "sshtrail",
    version,
    about = "Trustworthy audit trail of SSH sessions"
)]
struct Cli {
    /// Log format for sshtrail's own diagnostics (stderr): text or json.
    #[arg(long, global = true, default_value = "text", value_parser = ["text", "json"])]
    log_format: String,
    #[command(subcommand)]
    command: Command,
}

// Parsed once per process: the size of the daemon's settings does not matter here.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Linux audit: parse captured logs; kernel status and rules over netlink.
    Audit {
        #[command(subcommand)]
        command: cmd::audit::AuditCommand,
    },
    /// The daemon: follow the audit log and sshd's log, write events as they happen.
    Run(cmd::run::RunArgs),
    /// `run --audit-source plugin`, for auditd's plugins.d, which passes a plugin at most
    /// two arguments: `args = plugin --config=/etc/sshtrail/sshtrail.toml`.
    Plugin(cmd::run::RunArgs),
    /// Join captured audit and sshd logs offline and print the events as JSON lines
    /// (with no log named: the bundled sample session).
    Replay(cmd::replay::ReplayArgs),
    /// Session logs: list, show, play, export (JSON lines, text, asciinema) and verify them.
    Sessions(cmd::sessions::SessionsArgs),
    /// The terminal recorder: runs `sshtrail-record` (installed setgid sshtrail-record in
    /// /usr/lib/sshtrail, or beside this binary) with these arguments. sshd's ForceCommand
    /// should name the recorder itself (deploy/sshd_config.d/30-sshtrail-record.conf).
    Record {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// OpenSSH sshd log lines: parse captured logs.
    Sshd {
        #[command(subcommand)]
        command: cmd::sshd::SshdCommand,
    },
}

fn main() -> ExitCode {
    // `sshtrail man DIR` and `sshtrail completions SHELL` (for packaging) are parsed apart,
    // so that the man pages and completions they write from `Cli` do not list them.
    if let Some(code) = cmd::docs::packaging(Cli::command) {
        return code;
    }
    let cli = Cli::parse();
    init_logging(&cli.log_format);
    let result = match cli.command {
        Command::Audit { command } => cmd::audit::run(command),
        Command::Replay(args) => cmd::replay::run(args),
        Command::Run(args) => cmd::run::run(args),
        Command::Plugin(args) => cmd::run::run(args.with_audit_source(AuditSource::Plugin)),
        Command::Sessions(args) => cmd::sessions::run(args),
        Command::Record { args } => cmd::record(&args),
        Command::Sshd { command } => cmd::sshd::run(command),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            // Broken pipe on stdout (`sshtrail ... | head`) is not an error worth reporting.
            let broken_pipe = err.chain().any(|e| {
                e.downcast_ref::<std::io::Error>()
                    .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            });
            if broken_pipe {
                return ExitCode::SUCCESS;
            }
            eprintln!("sshtrail: {err:#}");
            ExitCode::from(1)
        }
    }
}

fn init_logging(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SSHTRAIL_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}
