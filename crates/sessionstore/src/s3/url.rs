//! `s3://bucket/prefix?key=value&…` → [`S3Config`]. Every key is checked here, once, so that a
//! typo in a daemon's configuration fails at start naming the key instead of at the first
//! upload.

use super::creds::Credentials;
use crate::Error;

/// Smallest part S3 accepts (except the last one).
pub const MIN_PART_SIZE: u64 = 5 * 1024 * 1024;
/// S3's upper bound on a part.
pub const MAX_PART_SIZE: u64 = 5 * 1024 * 1024 * 1024;
const DEFAULT_PART_SIZE: u64 = 8 * 1024 * 1024;
const DEFAULT_CONCURRENCY: usize = 4;

pub(crate) const KNOWN_KEYS: &str = "endpoint, region, path_style, ca_file, access_key_id, \
secret_access_key, session_token, profile, credentials_file, sts_endpoint, sse, sse_kms_key_id, \
object_lock_mode, object_lock_retain_days, part_size, concurrency, max_bandwidth";

/// Server-side encryption requested on object creation.
#[derive(Clone, Debug, PartialEq)]
pub enum Sse {
    Aes256,
    Kms { key_id: Option<String> },
}

/// Object-lock retention set on object creation.
#[derive(Clone, Debug, PartialEq)]
pub struct ObjectLock {
    /// `GOVERNANCE` or `COMPLIANCE`.
    pub mode: String,
    pub retain_days: u32,
}

/// Everything an S3 store needs to know about where and how to write.
#[derive(Clone, Debug)]
pub struct S3Config {
    pub bucket: String,
    /// Key prefix without leading or trailing `/` (may be empty).
    pub prefix: String,
    /// `http` or `https`.
    pub scheme: String,
    /// `host[:port]` of the endpoint (without the bucket).
    pub authority: String,
    pub region: String,
    pub path_style: bool,
    pub ca_file: Option<String>,
    pub url_credentials: Option<Credentials>,
    pub profile: Option<String>,
    pub credentials_file: Option<String>,
    /// STS endpoint (`http[s]://host[:port]`) for web-identity credentials; `None`:
    /// `AWS_ENDPOINT_URL_STS` or `https://sts.<region>.amazonaws.com`.
    pub sts_endpoint: Option<String>,
    pub sse: Option<Sse>,
    pub object_lock: Option<ObjectLock>,
    pub part_size: u64,
    pub concurrency: usize,
    pub max_bandwidth: Option<u64>,
}

impl S3Config {
    /// The object key of a session file (`<prefix>/<id><suffix>`).
    pub fn key(&self, id: &str, suffix: &str) -> String {
        if self.prefix.is_empty() {
            format!("{id}{suffix}")
        } else {
            format!("{}/{id}{suffix}", self.prefix)
        }
    }

    /// The prefix under which session objects are listed.
    pub fn list_prefix(&self) -> String {
        if self.prefix.is_empty() {
            String::new()
        } else {
            format!("{}/", self.prefix)
        }
    }
}

fn bad(key: &str, reason: impl Into<String>) -> Error {
    Error::BadValue {
        key: key.to_owned(),
        reason: reason.into(),
    }
}

/// Parses an `s3://` URL.
pub fn parse(url: &str) -> Result<S3Config, Error> {
    let url_err = |reason: &str| Error::Url {
        url: redact(url),
        reason: reason.to_owned(),
    };
    let rest = url
        .strip_prefix("s3://")
        .ok_or_else(|| url_err("expected s3://bucket/prefix"))?;
    let (location, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (bucket, prefix) = location.split_once('/').unwrap_or((location, ""));
    if bucket.is_empty()
        || bucket.len() > 63
        || !bucket
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
    {
        return Err(url_err(
            "bucket name must be 1-63 characters of a-z, 0-9, '.', '-', '_'",
        ));
    }
    let prefix = percent_decode(prefix, url)?;
    let prefix = prefix.trim_matches('/').to_owned();
    if prefix.split('/').any(|seg| seg == ".." || seg == ".") {
        return Err(url_err("prefix must not contain '.' or '..' segments"));
    }

    let mut endpoint = None;
    let mut region = None;
    let mut path_style = None;
    let mut cfg = S3Config {
        bucket: bucket.to_owned(),
        prefix,
        scheme: String::new(),
        authority: String::new(),
        region: String::new(),
        path_style: false,
        ca_file: None,
        url_credentials: None,
        profile: None,
        credentials_file: None,
        sts_endpoint: None,
        sse: None,
        object_lock: None,
        part_size: DEFAULT_PART_SIZE,
        concurrency: DEFAULT_CONCURRENCY,
        max_bandwidth: None,
    };
    let (mut ak, mut sk, mut token) = (None, None, None);
    let (mut sse, mut kms_key) = (None::<String>, None::<String>);
    let (mut lock_mode, mut lock_days) = (None::<String>, None::<u32>);
    for (key, value) in query_pairs(query, url)? {
        match key.as_str() {
            "endpoint" => endpoint = Some(value),
            "region" => region = Some(value),
            "path_style" => path_style = Some(parse_bool(&key, &value)?),
            "ca_file" => cfg.ca_file = Some(value),
            "access_key_id" => ak = Some(value),
            "secret_access_key" => sk = Some(value),
            "session_token" => token = Some(value),
            "profile" => cfg.profile = Some(value),
            "credentials_file" => cfg.credentials_file = Some(value),
            "sts_endpoint" => {
                if !(value.starts_with("http://") || value.starts_with("https://")) {
                    return Err(bad(
                        "sts_endpoint",
                        "expected http://host[:port] or https://…",
                    ));
                }
                cfg.sts_endpoint = Some(value.trim_end_matches('/').to_owned())
            }
            "sse" => sse = Some(value),
            "sse_kms_key_id" => kms_key = Some(value),
            "object_lock_mode" => lock_mode = Some(value),
            "object_lock_retain_days" => lock_days = Some(parse_num(&key, &value)?),
            "part_size" => cfg.part_size = parse_num(&key, &value)?,
            "concurrency" => cfg.concurrency = parse_num(&key, &value)?,
            "max_bandwidth" => cfg.max_bandwidth = Some(parse_num(&key, &value)?),
            _ => {
                return Err(Error::UnknownKey {
                    key,
                    scheme: "s3",
                    known: KNOWN_KEYS,
                })
            }
        }
    }
    cfg.region = region
        .or_else(|| std::env::var("AWS_REGION").ok().filter(|r| !r.is_empty()))
        .unwrap_or_else(|| "us-east-1".to_owned());
    if cfg.region.is_empty()
        || !cfg
            .region
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Err(bad("region", "expected a region name such as us-east-1"));
    }
    match &endpoint {
        Some(ep) => {
            let (scheme, rest) = ep
                .split_once("://")
                .ok_or_else(|| bad("endpoint", "expected http://host[:port] or https://…"))?;
            if scheme != "http" && scheme != "https" {
                return Err(bad("endpoint", "scheme must be http or https"));
            }
            let authority = rest.trim_end_matches('/');
            if authority.is_empty() || authority.contains(['/', '?', '#', '@', ' ']) {
                return Err(bad(
                    "endpoint",
                    "expected scheme://host[:port] without a path",
                ));
            }
            cfg.scheme = scheme.to_owned();
            cfg.authority = authority.to_owned();
        }
        None => {
            cfg.scheme = "https".to_owned();
            cfg.authority = format!("s3.{}.amazonaws.com", cfg.region);
        }
    }
    // Path style is what S3-compatible servers on an IP address need; AWS prefers
    // virtual-hosted style.
    cfg.path_style = path_style.unwrap_or(endpoint.is_some());
    if !cfg.path_style && bucket.contains(['.', '_']) && cfg.scheme == "https" {
        return Err(bad(
            "path_style",
            "a bucket name with '.' or '_' needs path_style=true (TLS names cannot match it)",
        ));
    }
    cfg.url_credentials = match (ak, sk) {
        (Some(a), Some(s)) => Some(Credentials {
            access_key_id: a,
            secret_access_key: s,
            session_token: token,
        }),
        (None, None) if token.is_none() => None,
        _ => {
            return Err(bad(
                "access_key_id",
                "access_key_id and secret_access_key go together (session_token needs both)",
            ))
        }
    };
    cfg.sse = match (sse.as_deref(), kms_key) {
        (None, None) => None,
        (Some("AES256"), None) => Some(Sse::Aes256),
        (Some("aws:kms"), key_id) => Some(Sse::Kms { key_id }),
        (Some("AES256"), Some(_)) | (None, Some(_)) => {
            return Err(bad("sse_kms_key_id", "only valid with sse=aws:kms"))
        }
        (Some(other), _) => {
            return Err(bad("sse", format!("{other:?}: expected AES256 or aws:kms")))
        }
    };
    cfg.object_lock = match (lock_mode, lock_days) {
        (None, None) => None,
        (Some(mode), Some(days)) => {
            if mode != "GOVERNANCE" && mode != "COMPLIANCE" {
                return Err(bad(
                    "object_lock_mode",
                    format!("{mode:?}: expected GOVERNANCE or COMPLIANCE"),
                ));
            }
            if days == 0 {
                return Err(bad("object_lock_retain_days", "must be at least 1"));
            }
            Some(ObjectLock {
                mode,
                retain_days: days,
            })
        }
        (Some(_), None) => {
            return Err(bad(
                "object_lock_retain_days",
                "object_lock_mode needs object_lock_retain_days",
            ))
        }
        (None, Some(_)) => {
            return Err(bad(
                "object_lock_mode",
                "object_lock_retain_days needs object_lock_mode",
            ))
        }
    };
    check_tuning(&cfg)?;
    Ok(cfg)
}

/// Part size and concurrency bounds (also applied after [`crate::Options`] overrides).
pub(crate) fn check_tuning(cfg: &S3Config) -> Result<(), Error> {
    if !(MIN_PART_SIZE..=MAX_PART_SIZE).contains(&cfg.part_size) {
        return Err(bad("part_size", "must be between 5 MiB and 5 GiB"));
    }
    if !(1..=64).contains(&cfg.concurrency) {
        return Err(bad("concurrency", "must be between 1 and 64"));
    }
    if cfg.max_bandwidth == Some(0) {
        return Err(bad("max_bandwidth", "must be positive (bytes per second)"));
    }
    Ok(())
}

fn parse_bool(key: &str, v: &str) -> Result<bool, Error> {
    match v {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err(bad(key, format!("{v:?}: expected true or false"))),
    }
}

fn parse_num<T: std::str::FromStr>(key: &str, v: &str) -> Result<T, Error> {
    v.parse()
        .map_err(|_| bad(key, format!("{v:?}: expected a non-negative integer")))
}

/// Splits `a=1&b=2`, percent-decoding keys and values. A repeated key is an error: which one
/// would win is not obvious to whoever wrote it.
pub fn query_pairs(query: &str, url: &str) -> Result<Vec<(String, String)>, Error> {
    let mut out: Vec<(String, String)> = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let k = percent_decode(k, url)?;
        let v = percent_decode(v, url)?;
        if out.iter().any(|(seen, _)| *seen == k) {
            return Err(bad(&k, "given more than once"));
        }
        out.push((k, v));
    }
    Ok(out)
}

/// Decodes `%XX` escapes (and `+` as space in nothing: URLs here are paths and plain values).
/// `%XX` for every byte that is not ASCII alphanumeric or in `keep`.
pub fn percent_encode(value: &str, keep: &[u8]) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || keep.contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub fn percent_decode(s: &str, url: &str) -> Result<String, Error> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok());
            match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                Some(b) => out.push(b),
                None => {
                    return Err(Error::Url {
                        url: redact(url),
                        reason: "bad %-escape".into(),
                    })
                }
            }
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| Error::Url {
        url: redact(url),
        reason: "%-escapes do not form UTF-8".into(),
    })
}

/// URI-encodes per SigV4: everything but `A-Za-z0-9-._~` (and `/` when `keep_slash`).
pub fn uri_encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'.' | b'_' | b'~')
            || (keep_slash && b == b'/')
        {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A URL as it may appear in an error message: secrets replaced.
pub fn redact(url: &str) -> String {
    let Some((base, query)) = url.split_once('?') else {
        return url.to_owned();
    };
    let parts: Vec<String> = query
        .split('&')
        .map(|p| match p.split_once('=') {
            Some((k, _)) if k == "secret_access_key" || k == "session_token" => format!("{k}=***"),
            _ => p.to_owned(),
        })
        .collect();
    format!("{base}?{}", parts.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_url() {
        let c = parse("s3://logs/ssh/host1?endpoint=http://127.0.0.1:9000&region=eu-west-1&sse=aws:kms&sse_kms_key_id=k1&object_lock_mode=COMPLIANCE&object_lock_retain_days=30&part_size=5242880&concurrency=2").unwrap();
        assert_eq!(c.bucket, "logs");
        assert_eq!(c.prefix, "ssh/host1");
        assert_eq!(c.authority, "127.0.0.1:9000");
        assert_eq!(c.scheme, "http");
        assert!(c.path_style);
        assert_eq!(c.region, "eu-west-1");
        assert_eq!(
            c.sse,
            Some(Sse::Kms {
                key_id: Some("k1".into())
            })
        );
        assert_eq!(c.object_lock.as_ref().unwrap().retain_days, 30);
        assert_eq!(c.key("s1", ".sshlog"), "ssh/host1/s1.sshlog");
        assert_eq!(c.concurrency, 2);
    }

    #[test]
    fn aws_defaults() {
        let c = parse("s3://logs?region=us-west-2").unwrap();
        assert!(!c.path_style);
        assert_eq!(c.authority, "s3.us-west-2.amazonaws.com");
        assert_eq!(c.key("s1", ".sshlog"), "s1.sshlog");
    }

    #[test]
    fn errors_name_the_key() {
        let e = parse("s3://b?endpoint=http://h&colour=blue")
            .unwrap_err()
            .to_string();
        assert!(e.contains("\"colour\""), "{e}");
        let e = parse("s3://b?sse=DES").unwrap_err().to_string();
        assert!(e.contains("\"sse\""), "{e}");
        let e = parse("s3://b?object_lock_mode=GOVERNANCE")
            .unwrap_err()
            .to_string();
        assert!(e.contains("object_lock_retain_days"), "{e}");
        let e = parse("s3://b?part_size=1024").unwrap_err().to_string();
        assert!(e.contains("part_size"), "{e}");
        let e = parse("s3://b?endpoint=ftp://x").unwrap_err().to_string();
        assert!(e.contains("endpoint"), "{e}");
        let e = parse("s3://b?region=a&region=b").unwrap_err().to_string();
        assert!(e.contains("more than once"), "{e}");
        assert!(parse("s3:///prefix").is_err());
        assert!(parse("s3://b/../x").is_err());
    }

    #[test]
    fn secrets_are_redacted() {
        let r = redact("s3://b?access_key_id=A&secret_access_key=S3CR3T");
        assert!(!r.contains("S3CR3T"));
        assert!(r.contains("access_key_id=A"));
    }

    #[test]
    fn encoding() {
        assert_eq!(uri_encode("a b/c~", true), "a%20b/c~");
        assert_eq!(uri_encode("a/b", false), "a%2Fb");
        assert_eq!(percent_decode("a%2Fb", "").unwrap(), "a/b");
        assert!(percent_decode("%zz", "").is_err());
    }
}
