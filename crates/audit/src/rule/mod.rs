//! Audit rules: auditctl's syntax ⇄ the kernel's `audit_rule_data`.
//!
//! A rule says which events the kernel records: `-a always,exit -F arch=b64 -S openat
//! -F auid>=1000 -k files` records every 64-bit `openat` by a logged-in user. The kernel
//! takes rules as a binary `audit_rule_data` ([`RuleData`]); auditctl, rules files and
//! `auditctl -l` use the text form. This module reads the text ([`RuleParser`], one line
//! or one argument list → a [`Command`]), encodes it ([`RuleData::encode`], byte for
//! byte what auditctl sends), decodes what the kernel lists ([`RuleData::decode`]), and
//! prints it back exactly as `auditctl -l` does ([`format_rule`]).
//!
//! ```
//! use sshtrail_audit::interpret::Arch;
//! use sshtrail_audit::rule::{format_rule, Command, RuleParser};
//! let parser = RuleParser::new(Arch::X86_64);
//! let Command::Add(rule) = parser.parse_line("-a exit,always -F arch=b64 -S openat -k files").unwrap()
//! else { unreachable!() };
//! assert_eq!(format_rule(&rule, Arch::X86_64), "-a always,exit -F arch=b64 -S openat -F key=files");
//! ```

pub mod consts;
mod format;
mod names;
mod parse;
mod wire;

pub use format::{format_rule, is_watch};
pub use parse::{compat_arch, native_arch, split_words, Command, RuleParser};
pub use wire::{FieldEntry, RuleData, HEADER_LEN};

/// Why a rule could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RuleError {
    /// The text is not a valid auditctl rule (the message names the problem).
    #[error("bad rule: {0}")]
    Syntax(String),
    /// Kernel bytes that do not hold a well-formed rule.
    #[error("malformed rule data: {0}")]
    Wire(String),
}
