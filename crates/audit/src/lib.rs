//! # sshtrail-audit: Linux audit records, from bytes to normalized events
//!
//! The kernel's audit system describes what processes do as *records*: one line each,
//! `type=SYSCALL msg=audit(1700000000.123:42): arch=c000003e syscall=59 …`. Several
//! records with the same time stamp and serial number (`:42`) form one *event*: an
//! `execve` is a SYSCALL, an EXECVE with the arguments, a CWD, one PATH per file touched
//! and a PROCTITLE. This crate takes them through four steps, each usable on its own:
//!
//! 1. [`parse`]: bytes → [`Record`] (auditd log lines RAW or ENRICHED, netlink payloads,
//!    journald entries). No copying per field; hostile bytes give a [`ParseError`].
//! 2. [`interpret`]: raw field values → what they mean (hex strings decoded, syscall
//!    numbers named per architecture, uids named, socket addresses decoded, …), driven
//!    by the tables in [`tables`] that are generated from this machine's audit tools.
//! 3. [`reassemble`]: records → events, grouped by (node, serial), completed on EOE, on
//!    shape, or on timeout, emitted in serial order with lost serials counted.
//! 4. [`coalesce`]: an event → one normalized object (who did what to which object,
//!    how), in the JSON shape go-libaudit's `aucoalesce` users know.
//!
//! Beside the pipeline, [`netlink`] talks to the kernel's audit system directly (status,
//! rules, receiving records as the audit daemon or beside it) and [`rule`] translates
//! rules between auditctl's syntax and the kernel's wire format, both ways.
//!
//! ```
//! use sshtrail_audit::parse::parse_line;
//! let record = parse_line(b"type=CWD msg=audit(1700000000.123:42): cwd=\"/root\"").unwrap();
//! assert_eq!(record.serial(), 42);
//! assert_eq!(record.value("cwd"), Some("/root"));
//! ```

pub mod coalesce;
pub mod interpret;
pub mod json;
pub mod lines;
pub mod netlink;
pub mod parse;
pub mod reassemble;
pub mod record;
pub mod record_type;
pub mod rule;
pub mod tables;

pub use parse::{parse_line, parse_netlink, ParseError};
pub use record::{EventId, Field, Origin, Quote, Record, Timestamp};
pub use record_type::{RecordClass, RecordType};
