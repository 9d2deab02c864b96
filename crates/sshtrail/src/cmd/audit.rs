//! `sshtrail audit parse`.

use clap::Subcommand;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum AuditCommand {}

pub fn run(command: AuditCommand) -> anyhow::Result<ExitCode> {
    match command {}
}
