//! `sshtrail sshd parse` (owned by the sshd-library work).

use clap::Subcommand;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum SshdCommand {}

pub fn run(command: SshdCommand) -> anyhow::Result<ExitCode> {
    match command {}
}
