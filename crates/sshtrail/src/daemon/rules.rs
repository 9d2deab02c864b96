//! `--audit-rules`: installing the rules the trail depends on, and saying how it went as
//! a `SystemAction`, so that an auditor sees when they could not be installed.

use crate::pipeline::Pipeline;
use crate::rules_file::{load_rules, LoadError};
use crate::source::wall_ms;
use sshtrail_event::{Outcome, SystemKind};
use std::path::Path;

pub fn load(pipeline: &mut Pipeline, file: &Path) -> anyhow::Result<()> {
    let parser = sshtrail_audit::rule::RuleParser::default();
    let (outcome, applied, already_present, errors) = match load_rules(&parser, file, true) {
        Ok(report) if report.failed.is_empty() => (
            Outcome::Succeeded,
            Some(report.applied as u64),
            Some(report.already_present as u64),
            Vec::new(),
        ),
        Ok(report) => {
            tracing::error!(failed = ?report.failed, "audit rules not all loaded");
            (
                Outcome::Failed,
                Some(report.applied as u64),
                Some(report.already_present as u64),
                report.failed,
            )
        }
        Err(LoadError::Parse(message)) => {
            tracing::error!("{message}");
            (Outcome::Failed, None, None, vec![message])
        }
        Err(LoadError::Other(e)) => {
            tracing::error!("{e:#}");
            (Outcome::Failed, None, None, vec![format!("{e:#}")])
        }
    };
    let kind = SystemKind::AuditRulesLoaded {
        file: file.display().to_string(),
        applied,
        already_present,
        errors,
    };
    pipeline.system(wall_ms(), outcome, kind)?;
    Ok(())
}
