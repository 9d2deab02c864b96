//! Sources: where the daemon reads records and log lines from.

pub mod audit_dir;
pub mod journald;
