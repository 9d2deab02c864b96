//! Error types. Decoding errors say where (byte offset, record index) and what.

use std::fmt;

/// Which frame an error is about: the header frame or a numbered record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct At(pub Option<u64>);

impl fmt::Display for At {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            None => f.write_str("header"),
            Some(i) => write!(f, "record {i}"),
        }
    }
}

/// Why a log could not be read (further).
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("read failed at offset {offset}: {source}")]
    Io {
        offset: u64,
        #[source]
        source: std::io::Error,
    },
    #[error("not a session log: bad magic")]
    BadMagic,
    #[error("session log format version {0} is not supported (this reader knows version {v})", v = crate::codec::VERSION)]
    UnsupportedVersion(u16),
    /// The file ends inside a frame: it was cut off while being written (crash, copy of a
    /// live file) or truncated afterwards. Every record before `offset` is whole.
    #[error("torn tail at offset {offset} ({at}): {what}")]
    Torn { offset: u64, at: At, what: String },
    /// A whole frame is damaged or does not belong where it is.
    #[error("corrupt log at offset {offset} ({at}): {what}")]
    Corrupt { offset: u64, at: At, what: String },
}

impl DecodeError {
    /// Byte offset of the frame the error is about (0 for preamble problems).
    pub fn offset(&self) -> u64 {
        match self {
            DecodeError::Io { offset, .. }
            | DecodeError::Torn { offset, .. }
            | DecodeError::Corrupt { offset, .. } => *offset,
            DecodeError::BadMagic | DecodeError::UnsupportedVersion(_) => 0,
        }
    }

    /// Record index the error is about; `None` for the preamble or header frame.
    pub fn record_index(&self) -> Option<u64> {
        match self {
            DecodeError::Torn { at, .. } | DecodeError::Corrupt { at, .. } => at.0,
            _ => None,
        }
    }

    /// True when the log merely ends inside a frame (a torn tail).
    pub fn is_torn(&self) -> bool {
        matches!(self, DecodeError::Torn { .. })
    }
}

/// Errors of writing, recovering and exporting.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error("record of {size} bytes exceeds the {max}-byte limit; split the data", max = crate::codec::MAX_PAYLOAD)]
    TooLarge { size: usize },
    #[error("invalid chain state: {0}")]
    InvalidState(String),
    #[error("JSON encoding failed: {0}")]
    Json(#[from] serde_json::Error),
    #[error("{0}")]
    Export(String),
}
