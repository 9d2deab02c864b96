//! # sshtrail: the daemon's parts
//!
//! The `sshtrail` binary is a thin command line over these modules, which are a library
//! so that each can be tested on its own (the map is in `ARCHITECTURE.md`):
//!
//! * [`source`]: readers for the inputs, all of one shape (audit log directory, auditd
//!   plugin stdin, netlink, journald, syslog file, fifo, captured files);
//! * [`pipeline`]: what `run` and `replay` share: sources merged by time → decode →
//!   tracker → outputs, with positions for the checkpoint;
//! * [`track`]: the session tracker that joins sshd logins with audit sessions, by
//!   watermarks in event time;
//! * [`sessions`]: the recorder that files each session's events into its own
//!   tamper-evident session log;
//! * [`daemon`]: `sshtrail run` around the pipeline: set-up, checkpoints, restarts,
//!   backfill, signals;
//! * [`settings`]: every setting as data (flags, TOML keys, defaults, help);
//! * [`geoip`], [`enrich`]: where a source address is;
//! * [`checkpoint`] and [`metrics`]: restart state, and `/metrics` with health checks;
//! * [`rules_file`]: audit rules files applied over netlink.
pub mod checkpoint;
pub mod daemon;
pub mod enrich;
pub mod geoip;
pub mod metrics;
pub mod pipeline;
pub mod recording;
pub mod rules_file;
pub mod sessions;
pub mod settings;
pub mod sinks;
pub mod source;
pub mod track;
