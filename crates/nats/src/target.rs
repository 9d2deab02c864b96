//! `nats://` sink URLs.

use crate::NatsError;
use std::path::PathBuf;
use std::time::Duration;

/// How to authenticate to the servers.
#[derive(Clone, PartialEq, Eq)]
pub enum Auth {
    None,
    /// `user:password@` in the URL.
    UserPassword(String, String),
    /// `token=`.
    Token(String),
    /// `creds=`: a `.creds` file (JWT and nkey seed), as `nsc` writes it.
    CredsFile(PathBuf),
    /// `nkey=`: a file holding an nkey seed (`SU…`).
    NkeyFile(PathBuf),
}

/// Where and how to publish: parsed from
/// `nats://[user:pass@]host[:port][,host2[:port]]/<subject prefix>?stream=…&…`.
#[derive(Clone, PartialEq, Eq)]
pub struct NatsTarget {
    /// `host:port` of each server (port 4222 unless given).
    pub servers: Vec<String>,
    /// The first subject token(s): subjects are `<prefix>.<host>.<type>`. Default `sshtrail`.
    pub prefix: String,
    /// The JetStream stream that takes `<prefix>.>`. Default `SSHTRAIL`.
    pub stream: String,
    /// `create=true`: create the stream if it does not exist (else it must exist).
    pub create: bool,
    /// `duplicate_window_s=`: the window a created stream de-duplicates in (default 120 s).
    pub duplicate_window: Duration,
    /// `ack_timeout_ms=`: how long to wait for the stream's acknowledgement (default 5000).
    pub ack_timeout: Duration,
    /// `connect_timeout_ms=` (default 5000).
    pub connect_timeout: Duration,
    /// `max_in_flight=`: messages published before waiting for acknowledgements (default 256).
    pub max_in_flight: usize,
    /// `tls=true`, or implied by `tls://` or a `ca=`/`cert=` option.
    pub tls: bool,
    /// `ca=`: root certificates (PEM) to trust instead of the system's.
    pub ca: Option<PathBuf>,
    /// `cert=` and `key=`: a client certificate (mutual TLS).
    pub client_cert: Option<(PathBuf, PathBuf)>,
    pub auth: Auth,
}

impl std::fmt::Debug for NatsTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsTarget")
            .field("servers", &self.servers)
            .field("prefix", &self.prefix)
            .field("stream", &self.stream)
            .field("tls", &self.tls)
            .finish_non_exhaustive()
    }
}

fn bad(reason: impl Into<String>) -> NatsError {
    NatsError::Url(reason.into())
}

fn decode(text: &str) -> Result<String, NatsError> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| bad("a %-escape is not two hex digits"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| bad("a %-escape is not UTF-8"))
}

fn is_token(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl NatsTarget {
    pub fn parse(url: &str) -> Result<NatsTarget, NatsError> {
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| bad("not a URL (nats://host:4222/prefix?stream=…)"))?;
        let mut tls = match scheme {
            "nats" => false,
            "tls" => true,
            other => return Err(bad(format!("scheme {other:?}: nats:// or tls://"))),
        };
        let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let (userinfo, hosts) = match authority.rsplit_once('@') {
            Some((userinfo, hosts)) => (Some(userinfo), hosts),
            None => (None, authority),
        };
        let mut servers = Vec::new();
        for host in hosts.split(',') {
            if host.is_empty() {
                return Err(bad("no server host"));
            }
            let has_port = match host.rsplit_once(':') {
                Some((_, port)) if !host.ends_with(']') => {
                    port.parse::<u16>()
                        .map_err(|_| bad(format!("port of {host:?} is not a number")))?;
                    true
                }
                _ => false,
            };
            servers.push(if has_port {
                host.to_string()
            } else {
                format!("{host}:4222")
            });
        }
        let prefix = if path.trim_matches('/').is_empty() {
            "sshtrail".to_string()
        } else {
            path.trim_matches('/').replace('/', ".")
        };
        if !prefix.split('.').all(is_token) {
            return Err(bad(format!(
                "subject prefix {prefix:?}: tokens of letters, digits, - and _"
            )));
        }
        let mut target = NatsTarget {
            servers,
            prefix,
            stream: "SSHTRAIL".into(),
            create: false,
            duplicate_window: Duration::from_secs(120),
            ack_timeout: Duration::from_millis(5000),
            connect_timeout: Duration::from_millis(5000),
            max_in_flight: 256,
            tls,
            ca: None,
            client_cert: None,
            auth: Auth::None,
        };
        if let Some(userinfo) = userinfo {
            let (user, password) = userinfo
                .split_once(':')
                .ok_or_else(|| bad("user information is user:password"))?;
            target.auth = Auth::UserPassword(decode(user)?, decode(password)?);
        }
        let (mut cert, mut key) = (None, None);
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair
                .split_once('=')
                .ok_or_else(|| bad(format!("option {name:?} has no value", name = pair)))?;
            let value = decode(value)?;
            let number = |what: &str| {
                value
                    .parse::<u64>()
                    .map_err(|_| bad(format!("{what}: not a number")))
            };
            let flag = || match value.as_str() {
                "true" | "yes" | "1" => Ok(true),
                "false" | "no" | "0" => Ok(false),
                _ => Err(bad(format!("{name}: true or false"))),
            };
            let mut set_auth = |auth: Auth| {
                if target.auth != Auth::None {
                    return Err(bad("give one of user:password, token, creds, nkey"));
                }
                target.auth = auth;
                Ok(())
            };
            match name {
                "stream" => {
                    if !is_token(&value) {
                        return Err(bad("stream: letters, digits, - and _"));
                    }
                    target.stream = value.clone();
                }
                "create" => target.create = flag()?,
                "duplicate_window_s" => {
                    target.duplicate_window = Duration::from_secs(number(name)?.max(1))
                }
                "ack_timeout_ms" => {
                    target.ack_timeout = Duration::from_millis(number(name)?.max(1))
                }
                "connect_timeout_ms" => {
                    target.connect_timeout = Duration::from_millis(number(name)?.max(1))
                }
                "max_in_flight" => target.max_in_flight = number(name)?.clamp(1, 65_536) as usize,
                "tls" => tls = flag()?,
                "ca" => target.ca = Some(PathBuf::from(&value)),
                "cert" => cert = Some(PathBuf::from(&value)),
                "key" => key = Some(PathBuf::from(&value)),
                "token" => set_auth(Auth::Token(value.clone()))?,
                "creds" => set_auth(Auth::CredsFile(PathBuf::from(&value)))?,
                "nkey" => set_auth(Auth::NkeyFile(PathBuf::from(&value)))?,
                other => return Err(bad(format!("unknown option {other:?}"))),
            }
        }
        target.client_cert = match (cert, key) {
            (Some(cert), Some(key)) => Some((cert, key)),
            (None, None) => None,
            _ => return Err(bad("cert= and key= go together")),
        };
        target.tls = tls || target.ca.is_some() || target.client_cert.is_some();
        Ok(target)
    }
}

/// `<prefix>.<host>.<type>`, each of host and type one subject token: bytes a token
/// cannot hold (`.`, `*`, `>`, whitespace, controls, `%`) are %-escaped, so that different
/// hosts never share a subject and a consumer can decode the host back.
pub fn subject_for(prefix: &str, host: &str, kind: &str) -> String {
    let mut subject = String::with_capacity(prefix.len() + host.len() + kind.len() + 2);
    subject.push_str(prefix);
    for token in [host, kind] {
        subject.push('.');
        if token.is_empty() {
            subject.push('_');
            continue;
        }
        for &b in token.as_bytes() {
            if b.is_ascii_graphic() && !matches!(b, b'.' | b'*' | b'>' | b'%') {
                subject.push(b as char);
            } else {
                subject.push_str(&format!("%{b:02X}"));
            }
        }
    }
    subject
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_options() {
        let t = NatsTarget::parse("nats://127.0.0.1").unwrap();
        assert_eq!(t.servers, ["127.0.0.1:4222"]);
        assert_eq!(
            (t.prefix.as_str(), t.stream.as_str()),
            ("sshtrail", "SSHTRAIL")
        );
        assert!(!t.create && !t.tls && t.auth == Auth::None);
        let t = NatsTarget::parse(
            "nats://a:4000,b/fleet/eu?stream=EU&create=true&duplicate_window_s=600&ack_timeout_ms=900&token=s%2Fcret",
        )
        .unwrap();
        assert_eq!(t.servers, ["a:4000", "b:4222"]);
        assert_eq!(t.prefix, "fleet.eu");
        assert_eq!(t.stream, "EU");
        assert!(t.create);
        assert_eq!(t.duplicate_window, Duration::from_secs(600));
        assert_eq!(t.ack_timeout, Duration::from_millis(900));
        assert!(t.auth == Auth::Token("s/cret".into()));
        let t = NatsTarget::parse("nats://u:p%40ss@h/p?ca=/etc/ca.pem").unwrap();
        assert!(t.tls);
        assert!(t.auth == Auth::UserPassword("u".into(), "p@ss".into()));
        assert!(NatsTarget::parse("tls://h").unwrap().tls);
    }

    #[test]
    fn bad_urls_are_refused_with_a_reason() {
        for url in [
            "http://h",
            "nats://",
            "nats://h:port",
            "nats://h/a*b",
            "nats://h/p?stream=a.b",
            "nats://h/p?bogus=1",
            "nats://h/p?create=maybe",
            "nats://h/p?cert=/c",
            "nats://h/p?token=a&creds=/c",
            "nats://h/p?token=%zz",
            "nats://h/p?stream",
        ] {
            assert!(NatsTarget::parse(url).is_err(), "{url}");
        }
    }

    #[test]
    fn secrets_stay_out_of_debug() {
        let t = NatsTarget::parse("nats://alice:hunter2@h/p?token=x").err();
        assert!(t.is_some());
        let t = NatsTarget::parse("nats://alice:hunter2@h/p").unwrap();
        assert!(!format!("{t:?}").contains("hunter2"));
    }

    #[test]
    fn subjects_keep_hosts_apart() {
        assert_eq!(
            subject_for("sshtrail", "web-1", "UserLogin"),
            "sshtrail.web-1.UserLogin"
        );
        assert_eq!(
            subject_for("p", "web.example.com", "UserAction"),
            "p.web%2Eexample%2Ecom.UserAction"
        );
        assert_eq!(subject_for("p", "a b*>%", "t"), "p.a%20b%2A%3E%25.t");
        assert_eq!(subject_for("p", "", "t"), "p._.t");
        assert_ne!(subject_for("p", "a.b", "t"), subject_for("p", "a", "b.t"));
        assert_eq!(subject_for("p", "hé", "t"), "p.h%C3%A9.t");
    }
}
