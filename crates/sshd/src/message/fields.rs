//! A flat view of any message: the columns an event pipeline or a JSON line wants.

use super::{CertInfo, Event, KeyInfo, Message, Peer, UserState};
use std::net::IpAddr;

/// The common fields of a message, `None` where the message does not carry them. Built
/// with [`Message::fields`]; borrowed like the message itself.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fields<'a> {
    /// Account name.
    pub user: Option<&'a str>,
    /// sshd called the account invalid (`invalid user`, `illegal user`).
    pub invalid_user: bool,
    /// Client address.
    pub ip: Option<IpAddr>,
    /// Client port.
    pub port: Option<u16>,
    /// Client host as logged where sshd gives a name or address without a port.
    pub host: Option<&'a str>,
    /// Authentication method.
    pub method: Option<&'a str>,
    /// Type of the key used (`ED25519`, `RSA-CERT`, …).
    pub key_type: Option<&'a str>,
    /// Fingerprint of the key used.
    pub fingerprint: Option<&'a str>,
    /// Certificate identity, when a certificate was used or matched.
    pub cert: Option<CertInfo<'a>>,
    /// Why: refusal reason, disconnect reason, scanner detail, session type; for a
    /// forward refused or failed, its target (host or path).
    pub reason: Option<&'a str>,
}

impl<'a> Message<'a> {
    /// The message's common fields.
    pub fn fields(&self) -> Fields<'a> {
        let mut f = Fields::default();
        let set_peer = |f: &mut Fields<'a>, p: Peer| {
            f.ip = p.ip;
            f.port = Some(p.port);
        };
        let set_state = |f: &mut Fields<'a>, s: Option<UserState>| {
            f.invalid_user = s == Some(UserState::Invalid);
        };
        match &self.event {
            Event::Auth(a) => {
                f.user = Some(a.user);
                f.invalid_user = a.invalid_user;
                set_peer(&mut f, a.peer);
                f.method = Some(a.method);
                if let Some(k) = a.key {
                    f.set_key(k);
                }
                f.reason = a.details;
            }
            Event::InvalidUser { user, peer } => {
                f.user = Some(user);
                f.invalid_user = true;
                if let Some(p) = peer {
                    set_peer(&mut f, *p);
                }
            }
            Event::NotAllowed {
                user,
                host,
                reason_text,
                ..
            } => {
                f.user = Some(user);
                f.host = *host;
                f.ip = host.and_then(|h| h.parse().ok());
                f.reason = Some(reason_text);
            }
            Event::RootRefused { peer } => {
                f.user = Some("root");
                set_peer(&mut f, *peer);
            }
            Event::MaxAttempts {
                user,
                invalid_user,
                peer,
            } => {
                f.user = Some(user);
                f.invalid_user = *invalid_user;
                set_peer(&mut f, *peer);
            }
            Event::Disconnecting {
                user,
                state,
                peer,
                reason,
            } => {
                f.user = *user;
                set_state(&mut f, *state);
                if let Some(p) = peer {
                    set_peer(&mut f, *p);
                }
                f.reason = Some(reason);
            }
            Event::CertInvalid { reason } => f.reason = Some(reason),
            Event::AuthRefused { reason, .. } => f.reason = Some(reason),
            Event::KeyRevoked {
                key_type,
                fingerprint,
                ..
            } => {
                f.key_type = Some(key_type);
                f.fingerprint = Some(fingerprint);
            }
            Event::KeyMatched {
                key_type,
                fingerprint,
                ..
            } => {
                f.key_type = Some(key_type);
                f.fingerprint = Some(fingerprint);
            }
            Event::CertMatched { cert, .. } => {
                f.cert = Some(*cert);
            }
            Event::ReverseMapping { ip, hostname } => {
                f.ip = *ip;
                f.host = *hostname;
            }
            Event::Timeout { peer } => set_peer(&mut f, *peer),
            Event::ConnectionClosed { user, state, peer }
            | Event::ConnectionReset { user, state, peer }
            | Event::Disconnected { user, state, peer } => {
                f.user = *user;
                set_state(&mut f, *state);
                set_peer(&mut f, *peer);
            }
            Event::ReceivedDisconnect { peer, reason, .. } => {
                set_peer(&mut f, *peer);
                f.reason = Some(reason);
            }
            Event::Connection { peer, .. } => set_peer(&mut f, *peer),
            Event::Noise { peer, reason, .. } => {
                if let Some(p) = peer {
                    set_peer(&mut f, *p);
                }
                f.reason = Some(reason);
            }
            Event::PamError {
                user,
                invalid_user,
                host,
            } => {
                f.user = Some(user);
                f.invalid_user = *invalid_user;
                f.host = Some(host);
                f.ip = host.parse().ok();
            }
            Event::PamAuthFailure { rhost, user, .. } => {
                f.user = *user;
                f.host = *rhost;
                f.ip = rhost.and_then(|h| h.parse().ok());
            }
            Event::SessionOpened { user, .. } | Event::SessionClosed { user, .. } => {
                f.user = Some(user);
            }
            Event::SessionStarted {
                what, user, peer, ..
            } => {
                f.user = Some(user);
                set_peer(&mut f, *peer);
                f.reason = Some(what);
            }
            Event::SessionClose { user, peer, .. } => {
                f.user = Some(user);
                set_peer(&mut f, *peer);
            }
            // The flat view has no column for a forward's target: it goes in `reason`.
            Event::ForwardRefused { client, target, .. } => {
                if let Some(p) = client {
                    set_peer(&mut f, *p);
                }
                f.reason = Some(target);
            }
            Event::ForwardFailed { target, .. } => f.reason = Some(target),
            Event::UserChild { .. } | Event::Other => {}
        }
        f
    }
}

impl<'a> Fields<'a> {
    fn set_key(&mut self, key: KeyInfo<'a>) {
        self.key_type = Some(key.key_type);
        self.fingerprint = key.fingerprint;
        self.cert = key.cert;
    }
}
