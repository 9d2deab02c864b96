//! sshd's log messages as typed values.
//!
//! [`parse`] takes the message part of a log line (after `sshd[pid]: `) and returns a
//! [`Message`]: the [`Event`] it reports, whether sshd marked it ` [preauth]`, and whether
//! it carried an `error: `/`fatal: ` prefix. Every field is borrowed from the input; nothing
//! is allocated. Lines that are not one of the known messages are [`Event::Other`].

mod anchor;
mod auth;
mod conn;
mod fields;
mod forward;
mod kind;
mod pam;

pub use anchor::Peer;
pub use fields::Fields;
pub use kind::Kind;

/// One parsed sshd message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message<'a> {
    /// What the message reports.
    pub event: Event<'a>,
    /// sshd appended ` [preauth]`: logged by the unprivileged pre-authentication process.
    pub preauth: bool,
    /// The `error: ` / `fatal: ` prefix sshd adds at those log levels, if present.
    pub prefix: Option<Prefix>,
}

/// The level prefix sshd writes in front of error and fatal messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prefix {
    /// `error: `
    Error,
    /// `fatal: `
    Fatal,
}

/// Which account a message is about, as sshd qualifies it in disconnect lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserState {
    /// `user X`: authenticated.
    Authenticated,
    /// `authenticating user X`: a real account, not (yet) authenticated.
    Authenticating,
    /// `invalid user X`: no such account (or one refused by Allow/Deny rules).
    Invalid,
}

/// The public key (and certificate) an authentication used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyInfo<'a> {
    /// Key type as sshd prints it: `ED25519`, `RSA`, `ECDSA`, `ED25519-CERT`, …
    pub key_type: &'a str,
    /// Fingerprint, e.g. `SHA256:e9cr…` (OpenSSH 7.x logs none for certificates).
    pub fingerprint: Option<&'a str>,
    /// Present when the key is a certificate.
    pub cert: Option<CertInfo<'a>>,
}

/// An OpenSSH certificate's identity as sshd logs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CertInfo<'a> {
    /// The key ID the CA signed (`ssh-keygen -I`), without quotes.
    pub id: &'a str,
    /// The serial number (`ssh-keygen -z`).
    pub serial: u64,
    /// Key type of the signing CA.
    pub ca_key_type: &'a str,
    /// Fingerprint of the signing CA.
    pub ca_fingerprint: &'a str,
}

/// The outcome word that starts an authentication line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// `Accepted`: the user is logged in (or this method completed the login).
    Accepted,
    /// `Failed`
    Failed,
    /// `Postponed`: the method needs another round trip (key probe, PAM conversation).
    Postponed,
    /// `Partial`: one of several required methods succeeded (`AuthenticationMethods`).
    Partial,
}

/// One authentication attempt: `<Outcome> <method> for [invalid user ]<user> from <ip>
/// port <port> <proto>[: <key type> <fingerprint>[ ID <cert id> (serial <n>) CA <type>
/// <fingerprint>][, <details>]]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Auth<'a> {
    /// Accepted, Failed, Postponed or Partial.
    pub outcome: Outcome,
    /// `publickey`, `password`, `keyboard-interactive/pam`, `hostbased`, `gssapi-with-mic`,
    /// `none`, … (with the submethod after `/` when sshd logs one).
    pub method: &'a str,
    /// The account name the client asked for.
    pub user: &'a str,
    /// sshd said `invalid user` (no such account, or refused by Allow/Deny rules).
    pub invalid_user: bool,
    /// The client.
    pub peer: Peer,
    /// `ssh2` (or `ssh1` in very old logs).
    pub proto: &'a str,
    /// The key used, for key-based methods.
    pub key: Option<KeyInfo<'a>>,
    /// Anything after the key that sshd appends (hostbased client user/host), or the whole
    /// suffix when it is not a key.
    pub details: Option<&'a str>,
}

/// The classes of scanner and broken-client noise before the SSH handshake completes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Noise {
    /// `banner exchange: Connection from <ip> port <n>: <reason>`
    BannerExchange,
    /// `kex_exchange_identification: <reason>`
    KexExchangeIdentification,
    /// `Unable to negotiate with <ip> port <n>: <reason>`
    UnableToNegotiate,
    /// `Protocol major versions differ: …` and the old `Bad protocol version identification '…'
    /// from <ip> port <n>`
    BadProtocolVersion,
    /// `Did not receive identification string from <ip> port <n>` (OpenSSH < 7.8)
    NoIdentification,
}

/// Why an account is refused by sshd's access rules (`User … not allowed because …`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotAllowedReason {
    /// `listed in DenyUsers`
    DenyUsers,
    /// `not listed in AllowUsers`
    AllowUsers,
    /// `a group is listed in DenyGroups`
    DenyGroups,
    /// `none of user's groups are listed in AllowGroups`
    AllowGroups,
    /// `not in any group`
    NoGroup,
    /// `shell <path> does not exist`
    ShellMissing,
    /// `shell <path> is not executable`
    ShellNotExecutable,
    /// `account is locked`
    Locked,
    /// A reason text this parser does not know (kept in the event's `reason`).
    Other,
}

/// Which kind of forward a message is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ForwardKind {
    /// `ssh -L` / `-D` to a host and port: channel `direct-tcpip`.
    Local,
    /// `ssh -R` of a port: sshd would listen (`tcpip-forward`).
    Remote,
    /// `ssh -L` to a unix socket: channel `direct-streamlocal@openssh.com`.
    Streamlocal,
}

impl ForwardKind {
    /// `local`, `remote` or `streamlocal`.
    pub fn as_str(self) -> &'static str {
        match self {
            ForwardKind::Local => "local",
            ForwardKind::Remote => "remote",
            ForwardKind::Streamlocal => "streamlocal",
        }
    }

    /// The SSH channel (or global request) the forward uses, as sshtrail's actions name
    /// it: `direct-tcpip`, `tcpip-forward` or `streamlocal`.
    pub fn channel(self) -> &'static str {
        match self {
            ForwardKind::Local => "direct-tcpip",
            ForwardKind::Remote => "tcpip-forward",
            ForwardKind::Streamlocal => "streamlocal",
        }
    }
}

/// Which part of sshd's configuration refused a forward.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RefusedBy {
    /// Forwarding of that kind is off for the user: `AllowTcpForwarding`,
    /// `AllowStreamLocalForwarding`, `DisableForwarding`, or the key's `restrict` /
    /// `no-port-forwarding` (`refused … port forward: …`).
    Disabled,
    /// The target or listen address is not allowed: `PermitOpen`, `PermitListen`, or the
    /// key's `permitopen=` / `permitlisten=` (`Received request … but the request was
    /// denied.`).
    NotPermitted,
}

/// What a message reports. Field names follow sshd's wording.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// `Accepted/Failed/Postponed/Partial <method> for …`
    Auth(Auth<'a>),
    /// `Invalid user <user> from <ip> port <n>` (and 7.x `input_userauth_request: invalid
    /// user <user>`, which has no peer).
    InvalidUser {
        /// The name the client sent.
        user: &'a str,
        /// The client, when logged.
        peer: Option<Peer>,
    },
    /// `User <user> [from <host>] not allowed because <reason>`
    NotAllowed {
        /// The account.
        user: &'a str,
        /// Client address or name (sshd logs no port here; a name when `UseDNS yes`).
        host: Option<&'a str>,
        /// Which rule refused it.
        reason: NotAllowedReason,
        /// The reason text after `because `.
        reason_text: &'a str,
    },
    /// `ROOT LOGIN REFUSED FROM <ip> port <n>`
    RootRefused {
        /// The client.
        peer: Peer,
    },
    /// `maximum authentication attempts exceeded for [invalid user ]<user> from <ip> port
    /// <n> ssh2`
    MaxAttempts {
        /// The account name.
        user: &'a str,
        /// sshd said `invalid user`.
        invalid_user: bool,
        /// The client.
        peer: Peer,
    },
    /// `Disconnecting [authenticating|invalid] user <user> <ip> port <n>: <reason>` or the
    /// older `Disconnecting: <reason>`; `Too many authentication failures` is the common one.
    Disconnecting {
        /// The account, when logged.
        user: Option<&'a str>,
        /// How sshd qualified the account.
        state: Option<UserState>,
        /// The client, when logged.
        peer: Option<Peer>,
        /// sshd's reason.
        reason: &'a str,
    },
    /// `Certificate invalid: <reason>`
    CertInvalid {
        /// e.g. `expired`, `name is not a listed principal`.
        reason: &'a str,
    },
    /// `Authentication refused: <reason>` (StrictModes: `bad ownership or modes for file X`).
    AuthRefused {
        /// sshd's reason text.
        reason: &'a str,
        /// The file or directory named at the end of a bad-ownership message.
        path: Option<&'a str>,
    },
    /// `Authentication key <type> <fingerprint> revoked by file <file>` (and the 7.x form
    /// `Authentication key <type> <fingerprint> revoked by file <file>` with `error: `).
    KeyRevoked {
        /// The revoked key.
        key_type: &'a str,
        /// Its fingerprint.
        fingerprint: &'a str,
        /// The RevokedKeys file, when named.
        file: Option<&'a str>,
    },
    /// `Accepted key <type> <fingerprint> found at <file>:<line>` (VERBOSE; the key matched
    /// an authorized_keys line; not yet a login).
    KeyMatched {
        /// Key type.
        key_type: &'a str,
        /// Fingerprint.
        fingerprint: &'a str,
        /// `<file>:<line>`.
        location: &'a str,
    },
    /// `Accepted certificate ID "<id>" (serial <n>) signed by <type> CA <fp> via <file>`
    /// (VERBOSE; the certificate is trusted; not yet a login).
    CertMatched {
        /// Certificate identity and CA.
        cert: CertInfo<'a>,
        /// The TrustedUserCAKeys file or `authorized_keys` source.
        via: Option<&'a str>,
    },
    /// Reverse DNS warnings (`reverse mapping checking getaddrinfo for <name> [<ip>]
    /// failed`, `Address <ip> maps to <name>, but this does not map back…`, `Nasty PTR
    /// record …`).
    ReverseMapping {
        /// The client address, when one is named.
        ip: Option<std::net::IpAddr>,
        /// The host name involved, when one is named.
        hostname: Option<&'a str>,
    },
    /// `Timeout before authentication for <ip> port <n>`
    Timeout {
        /// The client.
        peer: Peer,
    },
    /// `Connection closed by [[authenticating|invalid] user <user> ]<ip> port <n>`
    ConnectionClosed {
        /// The account, when logged.
        user: Option<&'a str>,
        /// How sshd qualified the account.
        state: Option<UserState>,
        /// The client.
        peer: Peer,
    },
    /// `Connection reset by [[authenticating|invalid] user <user> ]<ip> port <n>`
    ConnectionReset {
        /// The account, when logged.
        user: Option<&'a str>,
        /// How sshd qualified the account.
        state: Option<UserState>,
        /// The client.
        peer: Peer,
    },
    /// `Disconnected from [[authenticating|invalid] user <user> ]<ip> port <n>`
    Disconnected {
        /// The account, when logged.
        user: Option<&'a str>,
        /// How sshd qualified the account.
        state: Option<UserState>,
        /// The client.
        peer: Peer,
    },
    /// `Received disconnect from <ip> port <n>:<code>: <reason>` (reason is client text).
    ReceivedDisconnect {
        /// The client.
        peer: Peer,
        /// SSH disconnect reason code (11 = by application).
        code: Option<u32>,
        /// The client's reason text.
        reason: &'a str,
    },
    /// `Connection from <ip> port <n> on <ip> port <n>[ rdomain "…"]` (VERBOSE).
    Connection {
        /// The client.
        peer: Peer,
        /// The local address and port it connected to.
        local: Peer,
    },
    /// Scanner and broken-client noise; see [`Noise`].
    Noise {
        /// Which kind.
        noise: Noise,
        /// The client, when logged.
        peer: Option<Peer>,
        /// sshd's description.
        reason: &'a str,
    },
    /// `PAM: Authentication failure for [illegal user ]<user> from <host>`
    PamError {
        /// The account name.
        user: &'a str,
        /// sshd said `illegal user`.
        invalid_user: bool,
        /// Client address or name.
        host: &'a str,
    },
    /// `pam_unix(<service>:auth): authentication failure; … rhost=<host> [ user=<user>]`
    PamAuthFailure {
        /// PAM service (`sshd`).
        service: &'a str,
        /// `rhost=`
        rhost: Option<&'a str>,
        /// `user=` (absent for unknown accounts).
        user: Option<&'a str>,
    },
    /// `pam_unix(<service>:session): session opened for user <user>[(uid=<n>)] by …`
    SessionOpened {
        /// PAM service (`sshd`).
        service: &'a str,
        /// The account.
        user: &'a str,
        /// Its uid, when logged (PAM ≥ 1.5).
        uid: Option<u32>,
    },
    /// `pam_unix(<service>:session): session closed for user <user>`
    SessionClosed {
        /// PAM service (`sshd`).
        service: &'a str,
        /// The account.
        user: &'a str,
    },
    /// `Starting session: <what> for <user> from <ip> port <n> id <n>` (VERBOSE); `what` is
    /// `shell on pts/0`, `command`, `command on pts/1`, `subsystem 'sftp'`, `forced-command
    /// (config) '…'`, ….
    SessionStarted {
        /// What the session runs.
        what: &'a str,
        /// The account.
        user: &'a str,
        /// The client.
        peer: Peer,
        /// sshd's channel session id.
        id: u32,
    },
    /// `Close session: user <user> from <ip> port <n> id <n>` (VERBOSE).
    SessionClose {
        /// The account.
        user: &'a str,
        /// The client.
        peer: Peer,
        /// sshd's channel session id.
        id: u32,
    },
    /// `User child is on pid <n>`: the process that runs the user's session.
    UserChild {
        /// Its pid.
        pid: u32,
    },
    /// A forward sshd's configuration refused: `refused local port forward: originator
    /// <addr> port <n>, target <host> port <n>`, `refused streamlocal port forward:
    /// originator <addr> port <n>, target <path>`, `Received request [from <ip> port <n>
    /// ]to connect to host <host> port <n>, but the request was denied.` (also `… to
    /// remote forward to host …` and `… to connect to path <path>, …`). Logged by the
    /// user's sshd process; nothing of it reaches the kernel.
    ForwardRefused {
        /// Local (to a host), remote (listening), or local to a socket.
        kind: ForwardKind,
        /// Forwarding off, or the address not permitted.
        by: RefusedBy,
        /// The SSH client, where sshd names it (`PermitOpen` / `PermitListen` lines for a
        /// host).
        client: Option<Peer>,
        /// Where the connection to forward came from on the client's side, as the client
        /// says (`originator`; empty for a socket, and left out when it is not an
        /// address).
        originator: Option<Peer>,
        /// The host or path asked for: where to connect, or for `remote` where to listen
        /// (`localhost` when the client named no address). The client's text.
        target: &'a str,
        /// Its port; none for a path.
        port: Option<u16>,
    },
    /// A permitted local forward whose target sshd could not reach (`error: `): `connect_to
    /// <host> port <n>: failed.`, `connect_to <host>: unknown host (<reason>)`, `connect to
    /// <host> port <n> failed: <reason>` (port `-2`: a unix socket).
    ForwardFailed {
        /// `Local` or `Streamlocal`.
        kind: ForwardKind,
        /// The host or path the client asked for.
        target: &'a str,
        /// Its port, when sshd logged one.
        port: Option<u16>,
        /// `failed` (no address accepted), `unknown host (…)`, or the system's error text.
        reason: &'a str,
    },
    /// Anything else.
    Other,
}

/// Parses one sshd message (the text after `sshd[pid]: `). A trailing newline, carriage
/// return and sshd's ` [preauth]` suffix are accepted anywhere; never panics.
pub fn parse(message: &str) -> Message<'_> {
    let mut s = message.trim_end_matches(['\n', '\r']);
    let preauth = match s.strip_suffix(" [preauth]") {
        Some(rest) => {
            s = rest;
            true
        }
        None => false,
    };
    let prefix = if let Some(rest) = s.strip_prefix("error: ") {
        s = rest;
        Some(Prefix::Error)
    } else if let Some(rest) = s.strip_prefix("fatal: ") {
        s = rest;
        Some(Prefix::Fatal)
    } else {
        None
    };
    let event = parse_event(s).unwrap_or(Event::Other);
    Message {
        event,
        preauth,
        prefix,
    }
}

/// Parses one sshd message given as bytes; invalid UTF-8 makes it [`Event::Other`].
pub fn parse_bytes(message: &[u8]) -> Message<'_> {
    match std::str::from_utf8(message) {
        Ok(s) => parse(s),
        Err(_) => Message {
            event: Event::Other,
            preauth: false,
            prefix: None,
        },
    }
}

fn parse_event(s: &str) -> Option<Event<'_>> {
    // Dispatch on the first byte first: most lines are decided by one comparison.
    match s.as_bytes().first()? {
        b'A' => {
            if let Some(rest) = s.strip_prefix("Accepted ") {
                auth::accepted_like(rest)
            } else if let Some(rest) = s.strip_prefix("Authentication refused: ") {
                Some(auth::auth_refused(rest))
            } else if let Some(rest) = s.strip_prefix("Authentication key ") {
                auth::key_revoked(rest)
            } else if let Some(rest) = s.strip_prefix("Address ") {
                conn::address_maps(rest)
            } else {
                None
            }
        }
        b'F' => s
            .strip_prefix("Failed ")
            .and_then(|r| auth::auth(Outcome::Failed, r)),
        b'P' => {
            if let Some(rest) = s.strip_prefix("Postponed ") {
                auth::auth(Outcome::Postponed, rest)
            } else if let Some(rest) = s.strip_prefix("Partial ") {
                auth::auth(Outcome::Partial, rest)
            } else if let Some(rest) = s.strip_prefix("PAM: Authentication failure for ") {
                pam::pam_error(rest)
            } else if s.starts_with("Protocol major versions differ") {
                Some(conn::noise(Noise::BadProtocolVersion, None, s))
            } else {
                None
            }
        }
        b'I' => s.strip_prefix("Invalid user ").and_then(auth::invalid_user),
        b'i' => s
            .strip_prefix("input_userauth_request: invalid user ")
            .map(|user| Event::InvalidUser { user, peer: None }),
        b'U' => {
            if let Some(rest) = s.strip_prefix("User child is on pid ") {
                rest.parse().ok().map(|pid| Event::UserChild { pid })
            } else if let Some(rest) = s.strip_prefix("User ") {
                auth::not_allowed(rest)
            } else if let Some(rest) = s.strip_prefix("Unable to negotiate with ") {
                conn::with_reason(Noise::UnableToNegotiate, rest)
            } else {
                None
            }
        }
        b'R' => {
            if let Some(rest) = s.strip_prefix("ROOT LOGIN REFUSED FROM ") {
                auth::root_refused(rest)
            } else if let Some(rest) = s.strip_prefix("Received disconnect from ") {
                conn::received_disconnect(rest)
            } else if let Some(rest) = s.strip_prefix("Received request ") {
                forward::received_request(rest)
            } else {
                None
            }
        }
        b'm' => s
            .strip_prefix("maximum authentication attempts exceeded for ")
            .and_then(auth::max_attempts),
        b'D' => {
            if let Some(rest) = s.strip_prefix("Disconnected from ") {
                conn::closed_like(rest, |user, state, peer| Event::Disconnected {
                    user,
                    state,
                    peer,
                })
            } else if let Some(rest) = s.strip_prefix("Disconnecting") {
                conn::disconnecting(rest)
            } else if let Some(rest) = s.strip_prefix("Did not receive identification string from ")
            {
                conn::peer_only(rest).map(|peer| Event::Noise {
                    noise: Noise::NoIdentification,
                    peer: Some(peer),
                    reason: "did not receive identification string",
                })
            } else {
                None
            }
        }
        b'C' => {
            if let Some(rest) = s.strip_prefix("Connection closed by ") {
                conn::closed_like(rest, |user, state, peer| Event::ConnectionClosed {
                    user,
                    state,
                    peer,
                })
            } else if let Some(rest) = s.strip_prefix("Connection reset by ") {
                conn::closed_like(rest, |user, state, peer| Event::ConnectionReset {
                    user,
                    state,
                    peer,
                })
            } else if let Some(rest) = s.strip_prefix("Connection from ") {
                conn::connection_from(rest)
            } else if let Some(rest) = s.strip_prefix("Certificate invalid: ") {
                Some(Event::CertInvalid { reason: rest })
            } else if let Some(rest) = s.strip_prefix("Close session: user ") {
                conn::session_close(rest)
            } else {
                None
            }
        }
        b'S' => s
            .strip_prefix("Starting session: ")
            .and_then(conn::session_started),
        b'T' => s
            .strip_prefix("Timeout before authentication for ")
            .and_then(conn::peer_only)
            .map(|peer| Event::Timeout { peer }),
        b'B' => s
            .strip_prefix("Bad protocol version identification ")
            .map(conn::bad_protocol_version),
        b'b' => s
            .strip_prefix("banner exchange: Connection from ")
            .and_then(|r| conn::with_reason(Noise::BannerExchange, r)),
        b'k' => s
            .strip_prefix("kex_exchange_identification: ")
            .map(|reason| conn::noise(Noise::KexExchangeIdentification, None, reason)),
        b'r' => {
            if let Some(rest) = s.strip_prefix("reverse mapping checking getaddrinfo for ") {
                conn::reverse_mapping(rest)
            } else if let Some(rest) = s.strip_prefix("refused local port forward: originator ") {
                forward::refused_local(rest)
            } else if let Some(rest) =
                s.strip_prefix("refused streamlocal port forward: originator ")
            {
                forward::refused_streamlocal(rest)
            } else {
                None
            }
        }
        b'c' => {
            if let Some(rest) = s.strip_prefix("connect_to ") {
                forward::connect_to_failed(rest)
            } else if let Some(rest) = s.strip_prefix("connect to ") {
                forward::connect_failed(rest)
            } else {
                None
            }
        }
        b'N' => s.strip_prefix("Nasty PTR record ").map(conn::nasty_ptr),
        b'p' => s.strip_prefix("pam_unix(").and_then(pam::pam_unix),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
