//! # sshtrail: the daemon's parts
//!
//! The `sshtrail` binary is a thin command line over these modules, which are a library
//! so that each can be tested on its own:
//!
//! * [`source`]: readers for the inputs (the audit log directory, …);
//! * [`track`]: the session tracker that joins sshd logins with audit sessions;
//! * [`sessions`]: the recorder that files each session's events into its own
//!   tamper-evident session log;
//! * [`geoip`]: where a source address is, from a MaxMind-format database;
//! * [`checkpoint`] and [`metrics`]: restart state, and `/metrics` with health checks.
pub mod checkpoint;
pub mod enrich;
pub mod geoip;
pub mod metrics;
pub mod sessions;
pub mod source;
pub mod track;
