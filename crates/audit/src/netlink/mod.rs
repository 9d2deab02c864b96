//! The kernel audit system over netlink, without auditd or auditctl.
//!
//! [`AuditClient::open`] gives a client for requests: the status (`auditctl -s`:
//! enabled, failure mode, daemon pid, rate and backlog limits, lost count), the
//! features (loginuid immutable), and the rules (list, add, delete; see
//! [`crate::rule`] for the text form). Records come two ways:
//!
//! - [`AuditClient::unicast`] registers this process as *the* audit daemon: the kernel
//!   sends every record here, with its backlog as flow control. Only one daemon at a
//!   time (auditd must be stopped); [`AuditClient::close`] hands the role back.
//! - [`AuditClient::multicast`] reads beside auditd on the `AUDIT_NLGRP_READLOG` group.
//!   The kernel drops multicast records when the reader is slow; the receive buffer is
//!   large and every overflow (ENOBUFS) is counted.
//!
//! Datagrams from anything but the kernel (port 0) are dropped and counted. Each record
//! is returned raw ([`RawRecord`]); [`crate::parse_netlink`] turns it into a
//! [`crate::Record`].
//!
//! ```no_run
//! use sshtrail_audit::netlink::AuditClient;
//! let mut client = AuditClient::open()?;
//! let status = client.status()?;
//! println!("enabled {} lost {}", status.enabled, status.lost);
//! # Ok::<(), sshtrail_audit::netlink::NetlinkError>(())
//! ```

mod client;
mod socket;
mod status;

pub use client::{AuditClient, Mode, RawRecord, ReceiveStats, TtyStatus, AUDIT_NLGRP_READLOG};
pub use status::{
    Features, Status, STATUS_BACKLOG_LIMIT, STATUS_BACKLOG_WAIT_TIME,
    STATUS_BACKLOG_WAIT_TIME_ACTUAL, STATUS_ENABLED, STATUS_FAILURE, STATUS_LOST, STATUS_PID,
    STATUS_RATE_LIMIT,
};

/// Why a netlink operation failed.
#[derive(Debug, thiserror::Error)]
pub enum NetlinkError {
    /// A socket call failed.
    #[error("netlink {0}: {1}")]
    Io(&'static str, #[source] std::io::Error),
    /// The kernel refused a request (EPERM without privilege, EEXIST for a rule that is
    /// there, ENOENT for one that is not, …).
    #[error("kernel refused {request}: {error}")]
    Kernel {
        request: &'static str,
        error: std::io::Error,
    },
    /// No reply in time.
    #[error("no reply from the kernel to {0}")]
    NoReply(&'static str),
    /// The kernel sent a rule that does not decode.
    #[error(transparent)]
    Rule(#[from] crate::rule::RuleError),
}

impl NetlinkError {
    /// The errno the kernel answered with, if it refused.
    pub fn kernel_errno(&self) -> Option<i32> {
        match self {
            NetlinkError::Kernel { error, .. } => error.raw_os_error(),
            _ => None,
        }
    }
}
