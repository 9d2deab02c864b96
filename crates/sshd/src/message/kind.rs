//! The short names of message kinds, as used in JSON output.

use super::{Event, Noise, Outcome};

/// The kind of a message: one name per distinct thing sshd reports. [`Kind::as_str`] gives
/// the stable snake_case name used in JSON (`accepted`, `failed`, …).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs)] // each variant is documented by its name in ALL and the crate doc
pub enum Kind {
    Accepted,
    Failed,
    Postponed,
    Partial,
    InvalidUser,
    NotAllowed,
    RootRefused,
    MaxAttempts,
    TooManyFailures,
    Disconnecting,
    CertInvalid,
    AuthRefused,
    KeyRevoked,
    KeyMatched,
    CertMatched,
    ReverseMapping,
    Timeout,
    ConnectionClosed,
    ConnectionReset,
    Disconnected,
    ReceivedDisconnect,
    Connection,
    BannerExchange,
    KexExchangeIdentification,
    UnableToNegotiate,
    BadProtocolVersion,
    NoIdentification,
    PamError,
    PamAuthFailure,
    SessionOpened,
    SessionClosed,
    SessionStarted,
    SessionClose,
    UserChild,
    ForwardRefused,
    ForwardFailed,
    Other,
}

impl Kind {
    /// Every kind, in documentation order.
    pub const ALL: &'static [Kind] = &[
        Kind::Accepted,
        Kind::Failed,
        Kind::Postponed,
        Kind::Partial,
        Kind::InvalidUser,
        Kind::NotAllowed,
        Kind::RootRefused,
        Kind::MaxAttempts,
        Kind::TooManyFailures,
        Kind::Disconnecting,
        Kind::CertInvalid,
        Kind::AuthRefused,
        Kind::KeyRevoked,
        Kind::KeyMatched,
        Kind::CertMatched,
        Kind::ReverseMapping,
        Kind::Timeout,
        Kind::ConnectionClosed,
        Kind::ConnectionReset,
        Kind::Disconnected,
        Kind::ReceivedDisconnect,
        Kind::Connection,
        Kind::BannerExchange,
        Kind::KexExchangeIdentification,
        Kind::UnableToNegotiate,
        Kind::BadProtocolVersion,
        Kind::NoIdentification,
        Kind::PamError,
        Kind::PamAuthFailure,
        Kind::SessionOpened,
        Kind::SessionClosed,
        Kind::SessionStarted,
        Kind::SessionClose,
        Kind::UserChild,
        Kind::ForwardRefused,
        Kind::ForwardFailed,
        Kind::Other,
    ];

    /// The JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Accepted => "accepted",
            Kind::Failed => "failed",
            Kind::Postponed => "postponed",
            Kind::Partial => "partial",
            Kind::InvalidUser => "invalid_user",
            Kind::NotAllowed => "not_allowed",
            Kind::RootRefused => "root_refused",
            Kind::MaxAttempts => "max_attempts",
            Kind::TooManyFailures => "too_many_failures",
            Kind::Disconnecting => "disconnecting",
            Kind::CertInvalid => "cert_invalid",
            Kind::AuthRefused => "auth_refused",
            Kind::KeyRevoked => "key_revoked",
            Kind::KeyMatched => "key_matched",
            Kind::CertMatched => "cert_matched",
            Kind::ReverseMapping => "reverse_mapping",
            Kind::Timeout => "timeout",
            Kind::ConnectionClosed => "connection_closed",
            Kind::ConnectionReset => "connection_reset",
            Kind::Disconnected => "disconnected",
            Kind::ReceivedDisconnect => "received_disconnect",
            Kind::Connection => "connection",
            Kind::BannerExchange => "banner_exchange",
            Kind::KexExchangeIdentification => "kex_exchange_identification",
            Kind::UnableToNegotiate => "unable_to_negotiate",
            Kind::BadProtocolVersion => "bad_protocol_version",
            Kind::NoIdentification => "no_identification",
            Kind::PamError => "pam_error",
            Kind::PamAuthFailure => "pam_auth_failure",
            Kind::SessionOpened => "session_opened",
            Kind::SessionClosed => "session_closed",
            Kind::SessionStarted => "session_started",
            Kind::SessionClose => "session_close",
            Kind::UserChild => "user_child",
            Kind::ForwardRefused => "forward_refused",
            Kind::ForwardFailed => "forward_failed",
            Kind::Other => "other",
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Event<'_> {
    /// This event's kind.
    pub fn kind(&self) -> Kind {
        match self {
            Event::Auth(a) => match a.outcome {
                Outcome::Accepted => Kind::Accepted,
                Outcome::Failed => Kind::Failed,
                Outcome::Postponed => Kind::Postponed,
                Outcome::Partial => Kind::Partial,
            },
            Event::InvalidUser { .. } => Kind::InvalidUser,
            Event::NotAllowed { .. } => Kind::NotAllowed,
            Event::RootRefused { .. } => Kind::RootRefused,
            Event::MaxAttempts { .. } => Kind::MaxAttempts,
            Event::Disconnecting { reason, .. } => {
                if reason.starts_with("Too many authentication failures") {
                    Kind::TooManyFailures
                } else {
                    Kind::Disconnecting
                }
            }
            Event::CertInvalid { .. } => Kind::CertInvalid,
            Event::AuthRefused { .. } => Kind::AuthRefused,
            Event::KeyRevoked { .. } => Kind::KeyRevoked,
            Event::KeyMatched { .. } => Kind::KeyMatched,
            Event::CertMatched { .. } => Kind::CertMatched,
            Event::ReverseMapping { .. } => Kind::ReverseMapping,
            Event::Timeout { .. } => Kind::Timeout,
            Event::ConnectionClosed { .. } => Kind::ConnectionClosed,
            Event::ConnectionReset { .. } => Kind::ConnectionReset,
            Event::Disconnected { .. } => Kind::Disconnected,
            Event::ReceivedDisconnect { .. } => Kind::ReceivedDisconnect,
            Event::Connection { .. } => Kind::Connection,
            Event::Noise { noise, .. } => match noise {
                Noise::BannerExchange => Kind::BannerExchange,
                Noise::KexExchangeIdentification => Kind::KexExchangeIdentification,
                Noise::UnableToNegotiate => Kind::UnableToNegotiate,
                Noise::BadProtocolVersion => Kind::BadProtocolVersion,
                Noise::NoIdentification => Kind::NoIdentification,
            },
            Event::PamError { .. } => Kind::PamError,
            Event::PamAuthFailure { .. } => Kind::PamAuthFailure,
            Event::SessionOpened { .. } => Kind::SessionOpened,
            Event::SessionClosed { .. } => Kind::SessionClosed,
            Event::SessionStarted { .. } => Kind::SessionStarted,
            Event::SessionClose { .. } => Kind::SessionClose,
            Event::UserChild { .. } => Kind::UserChild,
            Event::ForwardRefused { .. } => Kind::ForwardRefused,
            Event::ForwardFailed { .. } => Kind::ForwardFailed,
            Event::Other => Kind::Other,
        }
    }
}
