//! Applying an audit rules file (`/etc/audit/audit.rules` format) over netlink, as
//! `auditctl -R` does: `sshtrail audit rules load` and the daemon's `--audit-rules`.

use anyhow::Context;
use sshtrail_audit::netlink::{
    AuditClient, Status, STATUS_BACKLOG_LIMIT, STATUS_BACKLOG_WAIT_TIME,
    STATUS_BACKLOG_WAIT_TIME_ACTUAL, STATUS_ENABLED, STATUS_FAILURE, STATUS_LOST,
    STATUS_RATE_LIMIT,
};
use sshtrail_audit::rule::{format_rule, Command, RuleData, RuleParser};
use std::path::Path;

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

/// Applies one parsed command.
pub fn apply(client: &mut AuditClient, parser: &RuleParser, cmd: &Command) -> anyhow::Result<()> {
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
