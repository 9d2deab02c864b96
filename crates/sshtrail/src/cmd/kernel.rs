//! `sshtrail audit status` and `sshtrail audit rules …`: the kernel audit system over
//! netlink, with auditctl's syntax and output.
//!
//! Exit codes: 0 ok, 1 the kernel refused (or netlink failed), 2 a rule that does not
//! parse (the message names the problem).

use anyhow::Context;
use clap::{Args, Subcommand};
use sshtrail::rules_file::{apply, load_rules, LoadError};
use sshtrail_audit::netlink::{AuditClient, Status};
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
