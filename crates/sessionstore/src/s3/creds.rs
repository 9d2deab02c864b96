//! Where the S3 keys come from. The chain, first that has them wins, is the order AWS's own
//! tools use, so that an operator's existing set-up works unchanged:
//!
//! 1. explicit ([`crate::Options::credentials`]) or the URL's `access_key_id`/`secret_access_key`;
//! 2. the environment: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` (`AWS_SESSION_TOKEN`);
//! 3. the shared-credentials file (`credentials_file=` / `AWS_SHARED_CREDENTIALS_FILE` /
//!    `~/.aws/credentials`, profile `profile=` / `AWS_PROFILE` / `default`);
//! 4. web identity (Kubernetes service accounts, EKS IRSA): `AWS_WEB_IDENTITY_TOKEN_FILE` and
//!    `AWS_ROLE_ARN` (`AWS_ROLE_SESSION_NAME`) → STS `AssumeRoleWithWebIdentity` at
//!    `sts_endpoint=`, `AWS_ENDPOINT_URL_STS` or `https://sts.<region>.amazonaws.com`; the
//!    token file is read again at every renewal (the kubelet rotates it);
//! 5. the EC2 instance metadata service, IMDSv2 only (a session token from `PUT
//!    /latest/api/token`, then the instance role's keys), at `AWS_EC2_METADATA_SERVICE_ENDPOINT`
//!    or `http://169.254.169.254`; skipped with `AWS_EC2_METADATA_DISABLED=true`. Its requests
//!    time out after 1 s so that a host outside EC2 is not held up.
//!
//! The first three are static and never change. Web identity and instance metadata give
//! temporary keys with an expiry: the [`CredentialsSource`] the client asks before each request
//! renews them once they are within 5 minutes of expiring. Renewal happens under a lock, so the
//! upload threads share one request; when it fails the old keys are used while they are still
//! valid (another attempt at most every 5 s), and after they expire requests fail with a
//! transient [`Error::Credentials`], so that the caller's retries go on until STS or the
//! metadata service answer again.
//!
//! Why by hand rather than `aws-config`/`aws-sdk-sts`: the SDK's credential chain brings tokio,
//! hyper and the smithy runtime (hundreds of crates and an async runtime in a daemon that is
//! otherwise synchronous), where what is needed is two documented HTTP exchanges over the
//! `ureq` agent this crate already has and a few lines of XML and JSON. The environment is read
//! through [`Env`], so that tests can give each chain its own variables instead of racing on
//! the process's.

use super::time::now_unix;
use super::url::{uri_encode, S3Config};
use super::xml;
use crate::Error;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// An access key pair (and session token for temporary credentials).
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

// Secrets stay out of logs and panic messages.
impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"***")
            .field("session_token", &self.session_token.as_ref().map(|_| "***"))
            .finish()
    }
}

/// Temporary credentials are renewed when they have less than this left (seconds).
pub const REFRESH_BEFORE: u64 = 5 * 60;
/// After a failed renewal of still-valid credentials, the next attempt waits this long.
const RETRY_AFTER_FAILURE: u64 = 5;
const IMDS_TIMEOUT: Duration = Duration::from_secs(1);
const STS_TIMEOUT: Duration = Duration::from_secs(30);

/// The environment variables the chain reads: the process's, or a fixed set (tests).
#[derive(Clone, Debug, Default)]
pub struct Env {
    /// `None`: the process environment.
    vars: Option<HashMap<String, String>>,
}

impl Env {
    /// The process environment, read when a value is needed.
    pub fn process() -> Self {
        Env { vars: None }
    }

    /// Exactly these variables and no others.
    pub fn from_vars<K: Into<String>, V: Into<String>>(
        vars: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Env {
            vars: Some(
                vars.into_iter()
                    .map(|(k, v)| (k.into(), v.into()))
                    .collect(),
            ),
        }
    }

    /// A variable's value; unset and empty are the same.
    pub fn get(&self, key: &str) -> Option<String> {
        match &self.vars {
            None => std::env::var(key).ok(),
            Some(m) => m.get(key).cloned(),
        }
        .filter(|v| !v.is_empty())
    }
}

/// Picks the credentials for a store, once (temporary ones are not renewed: see [`chain`]).
pub fn resolve(cfg: &S3Config, explicit: Option<&Credentials>) -> Result<Credentials, Error> {
    chain(cfg, explicit, &Env::process())?.get()
}

/// Walks the chain (see the module documentation) and returns the source the client asks
/// before each request. Web identity and instance metadata are asked for keys here, so that a
/// configuration that cannot work fails at start.
pub fn chain(
    cfg: &S3Config,
    explicit: Option<&Credentials>,
    env: &Env,
) -> Result<CredentialsSource, Error> {
    if let Some(c) = explicit.or(cfg.url_credentials.as_ref()) {
        return Ok(CredentialsSource::fixed(c.clone()));
    }
    if let (Some(a), Some(s)) = (
        env.get("AWS_ACCESS_KEY_ID"),
        env.get("AWS_SECRET_ACCESS_KEY"),
    ) {
        return Ok(CredentialsSource::fixed(Credentials {
            access_key_id: a,
            secret_access_key: s,
            session_token: env.get("AWS_SESSION_TOKEN"),
        }));
    }
    if let Some(c) = shared_file(cfg, env)? {
        return Ok(CredentialsSource::fixed(c));
    }
    if let Some(token_file) = env.get("AWS_WEB_IDENTITY_TOKEN_FILE") {
        let role_arn = env.get("AWS_ROLE_ARN").ok_or_else(|| Error::Credentials {
            reason: "AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not".into(),
            transient: false,
        })?;
        let endpoint = cfg
            .sts_endpoint
            .clone()
            .or_else(|| env.get("AWS_ENDPOINT_URL_STS"))
            .unwrap_or_else(|| format!("https://sts.{}.amazonaws.com", cfg.region));
        let session_name = env
            .get("AWS_ROLE_SESSION_NAME")
            .unwrap_or_else(|| format!("sshtrail-{}", now_unix()));
        let provider = Provider::WebIdentity(WebIdentity {
            agent: agent(STS_TIMEOUT, true),
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            token_file: PathBuf::from(token_file),
            role_arn,
            session_name,
        });
        return CredentialsSource::temporary(provider);
    }
    let imds_off = env
        .get("AWS_EC2_METADATA_DISABLED")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let mut imds_failure = String::from("instance metadata: disabled by AWS_EC2_METADATA_DISABLED");
    if !imds_off {
        let endpoint = env
            .get("AWS_EC2_METADATA_SERVICE_ENDPOINT")
            .unwrap_or_else(|| "http://169.254.169.254".into());
        let provider = Provider::Imds(Imds {
            agent: agent(IMDS_TIMEOUT, false),
            endpoint: endpoint.trim_end_matches('/').to_owned(),
        });
        match CredentialsSource::temporary(provider) {
            Ok(s) => return Ok(s),
            Err(e) => imds_failure = e.to_string(),
        }
    }
    Err(Error::Credentials {
        reason: format!(
            "none found: give access_key_id/secret_access_key in the URL, set AWS_ACCESS_KEY_ID \
             and AWS_SECRET_ACCESS_KEY, provide a shared credentials file (credentials_file=, \
             AWS_SHARED_CREDENTIALS_FILE, ~/.aws/credentials), set AWS_WEB_IDENTITY_TOKEN_FILE \
             and AWS_ROLE_ARN, or run with an EC2 instance role ({imds_failure})"
        ),
        transient: false,
    })
}

/// The shared-credentials file, when there is one; an explicitly named file must exist.
fn shared_file(cfg: &S3Config, env: &Env) -> Result<Option<Credentials>, Error> {
    let profile = cfg
        .profile
        .clone()
        .or_else(|| env.get("AWS_PROFILE"))
        .unwrap_or_else(|| "default".to_owned());
    let file = cfg
        .credentials_file
        .clone()
        .map(PathBuf::from)
        .or_else(|| env.get("AWS_SHARED_CREDENTIALS_FILE").map(PathBuf::from))
        .or_else(|| {
            env.get("HOME")
                .map(|h| PathBuf::from(h).join(".aws/credentials"))
        });
    let explicit_file = cfg.credentials_file.is_some();
    let Some(path) = file else { return Ok(None) };
    match std::fs::read_to_string(&path) {
        Ok(text) => from_ini(&text, &profile)
            .map(Some)
            .ok_or_else(|| Error::Credentials {
                reason: format!(
                    "profile [{profile}] in {} has no aws_access_key_id/aws_secret_access_key",
                    path.display()
                ),
                transient: false,
            }),
        Err(e) if explicit_file || e.kind() != std::io::ErrorKind::NotFound => {
            Err(Error::io("read credentials file", path, e))
        }
        Err(_) => Ok(None),
    }
}

fn agent(timeout: Duration, proxy_from_env: bool) -> ureq::Agent {
    let mut b = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_connect(Some(timeout.min(Duration::from_secs(10))))
        .timeout_global(Some(timeout))
        .user_agent("sshtrail-sessionstore");
    if !proxy_from_env {
        // The metadata service is link-local: never through a proxy.
        b = b.proxy(None);
    }
    b.build().into()
}

/// Keys with their expiry (Unix seconds; `None`: never).
struct Timed {
    creds: Credentials,
    expires: Option<u64>,
}

struct State {
    current: Timed,
    /// No renewal attempt before this (after a failure).
    not_before: u64,
}

/// What the client asks for keys before each request: fixed keys, or temporary ones that it
/// renews shortly before they expire (see the module documentation). Shared by the upload
/// threads.
pub struct CredentialsSource {
    state: Mutex<State>,
    provider: Option<Provider>,
}

impl std::fmt::Debug for CredentialsSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialsSource")
            .field("provider", &self.kind())
            .field("expires", &self.expires_at())
            .finish()
    }
}

impl CredentialsSource {
    /// Keys that never change.
    pub fn fixed(creds: Credentials) -> Self {
        CredentialsSource {
            state: Mutex::new(State {
                current: Timed {
                    creds,
                    expires: None,
                },
                not_before: 0,
            }),
            provider: None,
        }
    }

    fn temporary(provider: Provider) -> Result<Self, Error> {
        let first = provider.fetch()?;
        if first.expires.is_some_and(|e| e <= now_unix()) {
            return Err(Error::Credentials {
                reason: format!("{}: the keys it gave have already expired", provider.name()),
                transient: true,
            });
        }
        Ok(CredentialsSource {
            state: Mutex::new(State {
                current: first,
                not_before: 0,
            }),
            provider: Some(provider),
        })
    }

    /// Where the keys come from: `static`, `web-identity` or `instance-metadata`.
    pub fn kind(&self) -> &'static str {
        match &self.provider {
            None => "static",
            Some(Provider::WebIdentity(_)) => "web-identity",
            Some(Provider::Imds(_)) => "instance-metadata",
        }
    }

    /// When the current keys expire (Unix seconds); `None` for keys that do not.
    pub fn expires_at(&self) -> Option<u64> {
        self.lock().current.expires
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is always whole (replaced in one assignment): a panic elsewhere cannot
        // leave it half-written.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The keys to sign the next request with, renewed first when they are within
    /// [`REFRESH_BEFORE`] of expiring.
    pub fn get(&self) -> Result<Credentials, Error> {
        let Some(provider) = &self.provider else {
            return Ok(self.lock().current.creds.clone());
        };
        let mut state = self.lock();
        let now = now_unix();
        let expires = state.current.expires;
        let valid = expires.is_none_or(|e| now < e);
        let due = expires.is_some_and(|e| now + REFRESH_BEFORE >= e);
        if !due || (valid && now < state.not_before) {
            return Ok(state.current.creds.clone());
        }
        match provider.fetch() {
            Ok(fresh) if fresh.expires.is_none_or(|e| now < e) => {
                tracing::debug!(
                    source = provider.name(),
                    expires = ?fresh.expires,
                    "renewed S3 credentials"
                );
                state.current = fresh;
                state.not_before = 0;
                Ok(state.current.creds.clone())
            }
            result => {
                let why = match result {
                    Err(e) => e.to_string(),
                    Ok(_) => "the keys it gave have already expired".into(),
                };
                state.not_before = now + RETRY_AFTER_FAILURE;
                if valid {
                    tracing::warn!(
                        source = provider.name(),
                        error = %why,
                        left_s = expires.unwrap_or(now).saturating_sub(now),
                        "could not renew S3 credentials; using the current ones until they expire"
                    );
                    Ok(state.current.creds.clone())
                } else {
                    Err(Error::Credentials {
                        reason: format!(
                            "the temporary keys from {} expired and renewing them failed: {why}",
                            provider.name()
                        ),
                        transient: true,
                    })
                }
            }
        }
    }
}

enum Provider {
    WebIdentity(WebIdentity),
    Imds(Imds),
}

impl Provider {
    fn name(&self) -> &'static str {
        match self {
            Provider::WebIdentity(_) => "web identity (STS AssumeRoleWithWebIdentity)",
            Provider::Imds(_) => "instance metadata (IMDSv2)",
        }
    }

    fn fetch(&self) -> Result<Timed, Error> {
        match self {
            Provider::WebIdentity(w) => w.fetch(),
            Provider::Imds(i) => i.fetch(),
        }
    }
}

fn transient(what: &str, detail: impl std::fmt::Display) -> Error {
    Error::Credentials {
        reason: format!("{what}: {detail}"),
        transient: true,
    }
}

fn permanent(what: &str, detail: impl std::fmt::Display) -> Error {
    Error::Credentials {
        reason: format!("{what}: {detail}"),
        transient: false,
    }
}

/// Reads a response body as text (at most 1 MiB).
fn body_text(resp: &mut ureq::http::Response<ureq::Body>, what: &str) -> Result<String, Error> {
    resp.body_mut()
        .with_config()
        .limit(1 << 20)
        .read_to_string()
        .map_err(|e| transient(what, format!("reading the answer: {e}")))
}

struct WebIdentity {
    agent: ureq::Agent,
    endpoint: String,
    token_file: PathBuf,
    role_arn: String,
    session_name: String,
}

impl WebIdentity {
    fn fetch(&self) -> Result<Timed, Error> {
        let what = "web identity";
        let token = std::fs::read_to_string(&self.token_file)
            .map_err(|e| {
                permanent(
                    what,
                    format!(
                        "reading AWS_WEB_IDENTITY_TOKEN_FILE {}: {e}",
                        self.token_file.display()
                    ),
                )
            })?
            .trim()
            .to_owned();
        if token.is_empty() {
            return Err(permanent(
                what,
                format!("token file {} is empty", self.token_file.display()),
            ));
        }
        // Every value percent-encoded, '=' and '&' included.
        let form = [
            ("Action", "AssumeRoleWithWebIdentity"),
            ("Version", "2011-06-15"),
            ("RoleArn", self.role_arn.as_str()),
            ("RoleSessionName", self.session_name.as_str()),
            ("WebIdentityToken", token.as_str()),
        ]
        .iter()
        .map(|(k, v)| format!("{k}={}", uri_encode(v, false)))
        .collect::<Vec<_>>()
        .join("&");
        let url = format!("{}/", self.endpoint);
        let mut resp = self
            .agent
            .post(&url)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/xml")
            .send(form.as_bytes())
            .map_err(|e| transient(what, format!("POST {url}: {e}")))?;
        let status = resp.status().as_u16();
        let text = body_text(&mut resp, what)?;
        if !(200..300).contains(&status) {
            let code = xml::text(&text, "Code").unwrap_or_else(|| "-".into());
            let message = xml::text(&text, "Message").unwrap_or_default();
            let detail = format!("STS {url} answered HTTP {status} {code}: {message}");
            // Throttling and server errors pass; a refused token or role does not.
            return Err(
                if status >= 500
                    || status == 429
                    || code == "Throttling"
                    || code == "IDPCommunicationError"
                {
                    transient(what, detail)
                } else {
                    permanent(what, detail)
                },
            );
        }
        let creds = xml::elements(&text, "Credentials")
            .first()
            .map(|c| c.to_string())
            .ok_or_else(|| transient(what, "STS answer without <Credentials>"))?;
        let field = |name: &str| {
            xml::text(&creds, name)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| transient(what, format!("STS answer without <{name}>")))
        };
        let expiration = field("Expiration")?;
        let expires = parse_time(&expiration)
            .ok_or_else(|| transient(what, format!("unreadable Expiration {expiration:?}")))?;
        Ok(Timed {
            creds: Credentials {
                access_key_id: field("AccessKeyId")?,
                secret_access_key: field("SecretAccessKey")?,
                session_token: Some(field("SessionToken")?),
            },
            expires: Some(expires),
        })
    }
}

struct Imds {
    agent: ureq::Agent,
    endpoint: String,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ImdsCredentials {
    code: Option<String>,
    access_key_id: Option<String>,
    secret_access_key: Option<String>,
    token: Option<String>,
    expiration: Option<String>,
}

impl Imds {
    fn fetch(&self) -> Result<Timed, Error> {
        let what = "instance metadata";
        let url = format!("{}/latest/api/token", self.endpoint);
        let mut resp = self
            .agent
            .put(&url)
            .header("x-aws-ec2-metadata-token-ttl-seconds", "21600")
            .send_empty()
            .map_err(|e| transient(what, format!("PUT {url}: {e}")))?;
        let status = resp.status().as_u16();
        let token = body_text(&mut resp, what)?.trim().to_owned();
        if status != 200 || token.is_empty() {
            return Err(transient(
                what,
                format!("PUT {url}: HTTP {status}, no session token"),
            ));
        }
        let base = format!(
            "{}/latest/meta-data/iam/security-credentials/",
            self.endpoint
        );
        let roles = self.get(&base, &token)?;
        let role = roles
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .ok_or_else(|| transient(what, "no instance role (the instance has no profile)"))?
            .to_owned();
        let doc = self.get(&format!("{base}{}", uri_encode(&role, false)), &token)?;
        let c: ImdsCredentials = serde_json::from_str(&doc)
            .map_err(|e| transient(what, format!("role {role}: unreadable JSON: {e}")))?;
        if let Some(code) = c.code.as_deref().filter(|c| *c != "Success") {
            return Err(transient(what, format!("role {role}: Code {code}")));
        }
        let need = |v: Option<String>, name: &str| {
            v.filter(|v| !v.is_empty())
                .ok_or_else(|| transient(what, format!("role {role}: no {name}")))
        };
        let expiration = need(c.expiration, "Expiration")?;
        let expires = parse_time(&expiration).ok_or_else(|| {
            transient(
                what,
                format!("role {role}: unreadable Expiration {expiration:?}"),
            )
        })?;
        Ok(Timed {
            creds: Credentials {
                access_key_id: need(c.access_key_id, "AccessKeyId")?,
                secret_access_key: need(c.secret_access_key, "SecretAccessKey")?,
                session_token: Some(need(c.token, "Token")?),
            },
            expires: Some(expires),
        })
    }

    fn get(&self, url: &str, token: &str) -> Result<String, Error> {
        let what = "instance metadata";
        let mut resp = self
            .agent
            .get(url)
            .header("x-aws-ec2-metadata-token", token)
            .call()
            .map_err(|e| transient(what, format!("GET {url}: {e}")))?;
        let status = resp.status().as_u16();
        let text = body_text(&mut resp, what)?;
        if status != 200 {
            return Err(transient(what, format!("GET {url}: HTTP {status}")));
        }
        Ok(text)
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` → Unix seconds.
pub fn parse_time(s: &str) -> Option<u64> {
    let s = s.trim();
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        if !t.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        t.parse().ok()
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut rest = s.get(19..)?;
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        rest = &frac[n..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            if rest.len() != 6 || rest.as_bytes()[3] != b':' {
                return None;
            }
            let oh: i64 = rest.get(1..3)?.parse().ok()?;
            let om: i64 = rest.get(4..6)?.parse().ok()?;
            sign * (oh * 3600 + om * 60)
        }
    };
    let days = sshtrail_fmt::time::days_from_civil(y, mo as u32, d as u32);
    let t = days * 86400 + h * 3600 + mi * 60 + sec - offset;
    u64::try_from(t).ok()
}

/// Reads one profile of an AWS shared-credentials INI file.
pub fn from_ini(text: &str, profile: &str) -> Option<Credentials> {
    let mut in_profile = false;
    let (mut a, mut s, mut t) = (None, None, None);
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            in_profile = name.trim() == profile;
            continue;
        }
        if !in_profile {
            continue;
        }
        if let Some((k, v)) = line.split_once('=') {
            let v = v.trim().to_owned();
            match k.trim() {
                "aws_access_key_id" => a = Some(v),
                "aws_secret_access_key" => s = Some(v),
                "aws_session_token" => t = Some(v),
                _ => {}
            }
        }
    }
    Some(Credentials {
        access_key_id: a?,
        secret_access_key: s?,
        session_token: t,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ini_profiles() {
        let text = "# comment\n[default]\naws_access_key_id = A1\naws_secret_access_key=S1\n\n[audit]\naws_access_key_id=A2\naws_secret_access_key = S2\naws_session_token = T2\n";
        let d = from_ini(text, "default").unwrap();
        assert_eq!(
            (d.access_key_id.as_str(), d.secret_access_key.as_str()),
            ("A1", "S1")
        );
        assert_eq!(d.session_token, None);
        let a = from_ini(text, "audit").unwrap();
        assert_eq!(a.session_token.as_deref(), Some("T2"));
        assert!(from_ini(text, "missing").is_none());
    }

    #[test]
    fn precedence_explicit_url_environment_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("credentials");
        std::fs::write(
            &file,
            "[p1]\naws_access_key_id=FILE\naws_secret_access_key=F\n",
        )
        .unwrap();
        let url = format!("s3://b?credentials_file={}&profile=p1", file.display());
        let cfg = super::super::url::parse(&url).unwrap();
        let get = |cfg: &S3Config, explicit: Option<&Credentials>, env: &Env| {
            let src = chain(cfg, explicit, env).unwrap();
            assert_eq!((src.kind(), src.expires_at()), ("static", None));
            src.get().unwrap()
        };
        // The file wins over web identity and instance metadata.
        let web = Env::from_vars([
            ("AWS_WEB_IDENTITY_TOKEN_FILE", "/nonexistent"),
            ("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/r"),
        ]);
        assert_eq!(get(&cfg, None, &web).access_key_id, "FILE");
        let env = Env::from_vars([
            ("AWS_ACCESS_KEY_ID", "ENV"),
            ("AWS_SECRET_ACCESS_KEY", "E"),
            ("AWS_SESSION_TOKEN", "T"),
        ]);
        let e = get(&cfg, None, &env);
        assert_eq!(
            (e.access_key_id.as_str(), e.session_token.as_deref()),
            ("ENV", Some("T"))
        );
        let with_keys =
            super::super::url::parse(&format!("{url}&access_key_id=URL&secret_access_key=U"))
                .unwrap();
        assert_eq!(get(&with_keys, None, &env).access_key_id, "URL");
        let explicit = Credentials {
            access_key_id: "OPT".into(),
            secret_access_key: "O".into(),
            session_token: None,
        };
        assert_eq!(get(&with_keys, Some(&explicit), &env).access_key_id, "OPT");
        // AWS_PROFILE and AWS_SHARED_CREDENTIALS_FILE when the URL names neither.
        let plain = super::super::url::parse("s3://b").unwrap();
        let shared = Env::from_vars([
            ("AWS_SHARED_CREDENTIALS_FILE", file.display().to_string()),
            ("AWS_PROFILE", "p1".into()),
        ]);
        assert_eq!(get(&plain, None, &shared).access_key_id, "FILE");
    }

    #[test]
    fn nothing_found_names_every_source() {
        let cfg = super::super::url::parse("s3://b").unwrap();
        let env = Env::from_vars([("AWS_EC2_METADATA_DISABLED", "true")]);
        let e = chain(&cfg, None, &env).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("AWS_WEB_IDENTITY_TOKEN_FILE") && msg.contains("disabled"),
            "{msg}"
        );
        assert!(!e.is_transient());
        let half = Env::from_vars([("AWS_WEB_IDENTITY_TOKEN_FILE", "/x")]);
        let e = chain(&cfg, None, &half).unwrap_err();
        assert!(e.to_string().contains("AWS_ROLE_ARN"), "{e}");
    }

    #[test]
    fn expiration_times() {
        assert_eq!(parse_time("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_time("2013-05-24T00:00:00Z"), Some(1_369_353_600));
        assert_eq!(parse_time("2013-05-24T00:00:00.123Z"), Some(1_369_353_600));
        assert_eq!(parse_time("2013-05-24T02:00:00+02:00"), Some(1_369_353_600));
        assert_eq!(parse_time("2013-05-23T22:30:00-01:30"), Some(1_369_353_600));
        for bad in [
            "",
            "2013-05-24",
            "2013-05-24T00:00:00",
            "2013-13-24T00:00:00Z",
            "x013-05-24T00:00:00Z",
            "2013-05-24T00:00:00.Z",
            "2013-05-24T00:00:00+0200",
            "1969-12-31T23:59:59Z",
            "2013-05-24T00:00:0ä",
        ] {
            assert_eq!(parse_time(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn debug_hides_secret() {
        let c = Credentials {
            access_key_id: "AK".into(),
            secret_access_key: "VERYSECRET".into(),
            session_token: Some("TOKEN".into()),
        };
        let d = format!("{c:?}");
        assert!(!d.contains("VERYSECRET") && !d.contains("TOKEN"));
    }
}
