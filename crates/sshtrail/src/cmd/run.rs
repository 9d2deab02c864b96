//! `sshtrail run` (and `sshtrail plugin`): the command line of the daemon. The daemon
//! itself is `sshtrail::daemon`; its settings are the tables in `sshtrail::settings`.

use clap::Args;
use sshtrail::daemon::{self, Request};
use sshtrail::settings::{read_config, AuditSource, DaemonLayer, PipelineLayer};
use std::path::PathBuf;
use std::process::ExitCode;

/// Every setting is a flag and a key of the `--config` TOML file (same name); a flag
/// given on the command line wins over the file.
#[derive(Args, Debug)]
pub struct RunArgs {
    /// TOML file with any of the settings below, by their flag names.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Check the configuration, print `configuration ok` and exit (0, or 2 naming the
    /// bad key).
    #[arg(long)]
    check_config: bool,
    #[command(flatten)]
    daemon: DaemonLayer,
    #[command(flatten)]
    pipeline: PipelineLayer,
}

impl RunArgs {
    /// The same settings with the audit source fixed (as a flag: it wins over the file).
    pub fn with_audit_source(mut self, source: AuditSource) -> RunArgs {
        self.daemon.audit_source = Some(source);
        self
    }
}

pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let (mut pipeline, mut daemon) = (args.pipeline, args.daemon);
    if let Some(path) = &args.config {
        match read_config(path) {
            Ok((file_pipeline, file_daemon)) => {
                pipeline = pipeline.or(file_pipeline);
                daemon = daemon.or(file_daemon);
            }
            Err(e) => {
                eprintln!("sshtrail: {e}");
                return Ok(ExitCode::from(2));
            }
        }
    }
    daemon::run(Request {
        pipeline: pipeline.resolve(),
        daemon: daemon.resolve(),
        check_config: args.check_config,
    })
}
