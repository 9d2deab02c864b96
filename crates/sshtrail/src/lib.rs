//! # sshtrail: the daemon's parts
//!
//! The `sshtrail` binary is a thin command line over these modules, which are a library
//! so that each can be tested on its own:
//!
//! * [`source`]: readers for the inputs (the audit log directory, …);
//! * [`track`]: the session tracker that joins sshd logins with audit sessions.
pub mod checkpoint;
pub mod geoip;
pub mod metrics;
pub mod source;
pub mod track;
