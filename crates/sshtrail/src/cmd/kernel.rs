//! `sshtrail audit status` and `sshtrail audit rules …`: the kernel audit system over
//! netlink, with auditctl's syntax and output.
//!
//! Exit codes: 0 ok, 1 the kernel refused (or netlink failed), 2 a rule that does not
//! parse (the message names the problem).

use anyhow::Context;
use clap::{Args, Subcommand};
use sshtrail_audit::netlink::{
    AuditClient, Status, STATUS_BACKLOG_LIMIT, STATUS_BACKLOG_WAIT_TIME,
    STATUS_BACKLOG_WAIT_TIME_ACTUAL, STATUS_ENABLED, STATUS_FAILURE, STATUS_LOST,
    STATUS_RATE_LIMIT,
};
use sshtrail_audit::rule::{format_rule, Command, RuleData, RuleParser};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum RulesCommand {
    /// Print the kernel's rules exactly as `auditctl -l` does.
    List,
    /// Add a rule, given as auditctl's own arguments:
    /// `sshtrail audit rules add -a always,exit -F arch=b64 -S openat -k files`.
    Add(RuleArgs),
    /// Delete a rule (`-d …`, `-W …`, the rule's `-a …` form, or `-D [-k KEY]`).
    Delete(RuleArgs),
    /// Apply a rules file line by line as `auditctl -R` does (`-D`, `-b`, `-f`, `-e`,
    /// `--backlog_wait_time` lines included). The whole file is checked first: a bad
    /// line changes nothing.
    Load {
        /// The rules file (`/etc/audit/audit.rules` format).
        file: PathBuf,
    },
}

#[derive(Args)]
pub struct RuleArgs {
    /// auditctl arguments, as they are.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
    args: Vec<String>,
}

/// The status object: the kernel's values in `auditctl -s` order, then the feature.
#[derive(serde::Serialize)]
struct StatusJson {
    #[serde(flatten)]
    status: Status,
    loginuid_immutable: u32,
    loginuid_immutable_locked: bool,
}

/// `status` as JSON, with the fields `auditctl -s` prints.
pub fn status() -> anyhow::Result<ExitCode> {
    let mut client = AuditClient::open().context("opening the audit netlink socket")?;
    let status = client.status().context("reading the audit status")?;
    let features = client.features().context("reading the audit features")?;
    let json = StatusJson {
        status,
        loginuid_immutable: u32::from(features.loginuid_immutable()),
        loginuid_immutable_locked: features.loginuid_immutable_locked(),
    };
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, &json)?;
    writeln!(out)?;
    Ok(ExitCode::SUCCESS)
}

pub fn rules(command: RulesCommand) -> anyhow::Result<ExitCode> {
    let parser = RuleParser::default();
    match command {
        RulesCommand::List => list(&parser),
        RulesCommand::Add(args) => match parser.parse_args(&args.args) {
            Ok(cmd @ Command::Add(_)) => apply_one(&parser, cmd),
            Ok(_) => usage("add takes a rule: -a, -A or -w"),
            Err(e) => usage(&e.to_string()),
        },
        RulesCommand::Delete(args) => match parser.parse_args(&args.args) {
            Ok(Command::Add(rule)) => apply_one(&parser, Command::Delete(strip_prepend(rule))),
            Ok(cmd @ (Command::Delete(_) | Command::DeleteAll { .. })) => apply_one(&parser, cmd),
            Ok(_) => usage("delete takes a rule: -d, -W, -a, -w or -D"),
            Err(e) => usage(&e.to_string()),
        },
        RulesCommand::Load { file } => load(&parser, &file),
    }
}

fn usage(message: &str) -> anyhow::Result<ExitCode> {
    eprintln!("sshtrail: {message}");
    Ok(ExitCode::from(2))
}

/// `-A` is a way of adding; the rule to delete has no prepend flag.
fn strip_prepend(mut rule: RuleData) -> RuleData {
    rule.flags &= !sshtrail_audit::rule::consts::FILTER_PREPEND;
    rule
}

fn list(parser: &RuleParser) -> anyhow::Result<ExitCode> {
    let mut client = AuditClient::open().context("opening the audit netlink socket")?;
    let rules = client.list_rules().context("listing the audit rules")?;
    let mut out = std::io::stdout().lock();
    if rules.is_empty() {
        writeln!(out, "No rules")?;
    }
    for rule in &rules {
        writeln!(out, "{}", format_rule(rule, parser.native()))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn apply_one(parser: &RuleParser, cmd: Command) -> anyhow::Result<ExitCode> {
    let mut client = AuditClient::open().context("opening the audit netlink socket")?;
    match apply(&mut client, parser, &cmd) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) => {
            eprintln!("sshtrail: {e:#}");
            Ok(ExitCode::from(1))
        }
    }
}

fn load(parser: &RuleParser, file: &Path) -> anyhow::Result<ExitCode> {
    let report = match load_rules(parser, file, false) {
        Ok(report) => report,
        Err(LoadError::Parse(message)) => {
            eprintln!("sshtrail: {message}");
            return Ok(ExitCode::from(2));
        }
        Err(LoadError::Other(e)) => return Err(e),
    };
    for problem in &report.failed {
        eprintln!("sshtrail: {problem}");
    }
    Ok(if report.failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// What loading a rules file did.
#[derive(Debug, Default)]
pub struct LoadReport {
    /// Lines applied (rules added or deleted, settings changed).
    pub applied: usize,
    /// Rules that were already in the kernel (only with `existing_ok`).
    pub already_present: usize,
    /// `file:line: text: why`, for each line the kernel refused.
    pub failed: Vec<String>,
}

pub enum LoadError {
    /// A line that does not parse: nothing was applied.
    Parse(String),
    Other(anyhow::Error),
}

/// Applies a rules file as `auditctl -R` does: checked whole first (a bad line changes
/// nothing), then line by line, stopping at the first refusal unless the file says `-i`.
/// With `existing_ok` (the daemon's `--audit-rules` at every start), a rule the kernel
/// already has is not a failure.
pub fn load_rules(
    parser: &RuleParser,
    file: &Path,
    existing_ok: bool,
) -> Result<LoadReport, LoadError> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("reading {}", file.display()))
        .map_err(LoadError::Other)?;
    let mut commands = Vec::new();
    for (n, line) in text.lines().enumerate() {
        match parser.parse_line(line) {
            Ok(Command::Nothing) => {}
            Ok(cmd) => commands.push((n + 1, line, cmd)),
            Err(e) => {
                return Err(LoadError::Parse(format!(
                    "{}:{}: {e}",
                    file.display(),
                    n + 1
                )));
            }
        }
    }
    let mut client = AuditClient::open()
        .context("opening the audit netlink socket")
        .map_err(LoadError::Other)?;
    let mut keep_going = false;
    let mut report = LoadReport::default();
    for (n, line, cmd) in &commands {
        if matches!(cmd, Command::ContinueOnError) {
            keep_going = true;
            continue;
        }
        match apply(&mut client, parser, cmd) {
            Ok(()) => report.applied += 1,
            Err(e) if existing_ok && matches!(cmd, Command::Add(_)) && is_eexist(&e) => {
                report.already_present += 1;
            }
            Err(e) => {
                report
                    .failed
                    .push(format!("{}:{n}: {line}: {e:#}", file.display()));
                if !keep_going {
                    break;
                }
            }
        }
    }
    Ok(report)
}

fn is_eexist(error: &anyhow::Error) -> bool {
    error
        .chain()
        .filter_map(|e| e.downcast_ref::<sshtrail_audit::netlink::NetlinkError>())
        .any(|e| e.kernel_errno() == Some(EEXIST))
}

/// The kernel's answer to a rule it already has.
const EEXIST: i32 = 17;

fn apply(client: &mut AuditClient, parser: &RuleParser, cmd: &Command) -> anyhow::Result<()> {
    let set = |client: &mut AuditClient, mask: u32, status: Status| -> anyhow::Result<()> {
        client
            .set_status(&status, mask)
            .context("changing the audit status")
    };
    match cmd {
        Command::Add(rule) => client
            .add_rule(rule)
            .with_context(|| format!("adding {}", format_rule(rule, parser.native())))?,
        Command::Delete(rule) => client
            .delete_rule(rule)
            .with_context(|| format!("deleting {}", format_rule(rule, parser.native())))?,
        Command::DeleteAll { key } => {
            let rules = client.list_rules().context("listing the audit rules")?;
            for rule in rules
                .iter()
                .filter(|r| key.as_deref().is_none_or(|k| has_key(r, k)))
            {
                client
                    .delete_rule(rule)
                    .with_context(|| format!("deleting {}", format_rule(rule, parser.native())))?;
            }
        }
        Command::BacklogLimit(v) => set(
            client,
            STATUS_BACKLOG_LIMIT,
            Status {
                backlog_limit: *v,
                ..Status::default()
            },
        )?,
        Command::Failure(v) => set(
            client,
            STATUS_FAILURE,
            Status {
                failure: *v,
                ..Status::default()
            },
        )?,
        Command::Enabled(v) => set(
            client,
            STATUS_ENABLED,
            Status {
                enabled: *v,
                ..Status::default()
            },
        )?,
        Command::RateLimit(v) => set(
            client,
            STATUS_RATE_LIMIT,
            Status {
                rate_limit: *v,
                ..Status::default()
            },
        )?,
        Command::BacklogWaitTime(v) => set(
            client,
            STATUS_BACKLOG_WAIT_TIME,
            Status {
                backlog_wait_time: *v,
                ..Status::default()
            },
        )?,
        Command::ResetLost => set(client, STATUS_LOST, Status::default())?,
        Command::ResetBacklogWaitTimeActual => {
            set(client, STATUS_BACKLOG_WAIT_TIME_ACTUAL, Status::default())?
        }
        Command::LoginuidImmutable => {
            anyhow::bail!(
                "--loginuid-immutable lasts until reboot; sshtrail does not set it (use auditctl)"
            )
        }
        Command::ContinueOnError | Command::Nothing => {}
    }
    Ok(())
}

/// Whether one of the rule's keys is `key` (`-D -k KEY`).
fn has_key(rule: &RuleData, key: &str) -> bool {
    rule.fields_with_strings().iter().any(|(f, s)| {
        f.field == sshtrail_audit::rule::consts::F_FILTERKEY
            && s.is_some_and(|s| s.split(|b| *b == 1).any(|k| k == key.as_bytes()))
    })
}
