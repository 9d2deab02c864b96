//! The one error type of the crate: every message names what is wrong (the URL key, the file,
//! the HTTP status and S3 error code) so that an operator can act on it without a debugger.

use std::path::PathBuf;

/// Everything that can go wrong while opening or using a store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The storage URL itself is malformed (scheme, bucket, path).
    #[error("storage URL {url:?}: {reason}")]
    Url { url: String, reason: String },
    /// A query key that no backend knows.
    #[error("storage URL: unknown query key {key:?} for the {scheme} backend (known: {known})")]
    UnknownKey {
        key: String,
        scheme: &'static str,
        known: &'static str,
    },
    /// A known query key (or option) with an unusable value.
    #[error("storage URL: bad value for {key:?}: {reason}")]
    BadValue { key: String, reason: String },
    /// A session id that could escape the directory or key prefix, or is otherwise unusable.
    #[error("invalid session id {id:?}: {reason}")]
    InvalidId { id: String, reason: &'static str },
    /// The store has no such session.
    #[error("session {0:?} not found")]
    NotFound(String),
    /// A local file operation failed.
    #[error("{op} {}: {source}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A metadata sidecar that is not the JSON we write.
    #[error("metadata {what}: {source}")]
    Json {
        what: String,
        #[source]
        source: serde_json::Error,
    },
    /// No usable credentials were found (S3), or temporary ones expired and could not be
    /// renewed. `transient` when trying again later can help (the metadata service or STS was
    /// unreachable); `false` for a configuration that cannot work as it is.
    #[error("S3 credentials: {reason}")]
    Credentials { reason: String, transient: bool },
    /// The S3 server answered with an error.
    #[error("S3 {op} {target}: HTTP {status} {code}: {message}")]
    S3 {
        op: &'static str,
        target: String,
        status: u16,
        /// The S3 error code from the XML body (`NoSuchKey`, `AccessDenied`, …), or `-`.
        code: String,
        message: String,
    },
    /// The S3 server could not be reached or the connection broke.
    #[error("S3 {op} {target}: {detail}")]
    Transport {
        op: &'static str,
        target: String,
        detail: String,
    },
    /// The S3 server answered something we cannot interpret.
    #[error("S3 {op} {target}: unexpected response: {detail}")]
    Protocol {
        op: &'static str,
        target: String,
        detail: String,
    },
    /// The store is shutting down; the work is left for the next start.
    #[error("store is shutting down")]
    ShuttingDown,
}

impl Error {
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            op,
            path: path.into(),
            source,
        }
    }

    /// The S3 error code, when the server sent one.
    pub fn s3_code(&self) -> Option<&str> {
        match self {
            Error::S3 { code, .. } => Some(code),
            _ => None,
        }
    }

    /// Whether trying again later can help: the network, server-side errors, throttling.
    /// Authorization and "no such bucket" errors are permanent until the configuration
    /// changes.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Transport { .. } | Error::Protocol { .. } => true,
            Error::Credentials { transient, .. } => *transient,
            Error::S3 { status, code, .. } => {
                *status >= 500
                    || *status == 408
                    || *status == 429
                    || matches!(
                        code.as_str(),
                        "RequestTimeout"
                            | "SlowDown"
                            | "InternalError"
                            | "ServiceUnavailable"
                            | "RequestTimeTooSkewed"
                    )
            }
            // Local files (the spool) failing is not something a retry of the request fixes.
            _ => false,
        }
    }
}
