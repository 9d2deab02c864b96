//! The S3 credential chain end to end: web identity (STS `AssumeRoleWithWebIdentity`) and the
//! EC2 instance metadata service (IMDSv2), each played by a small HTTP server in this file,
//! with the keys they hand out used against a real S3-compatible server (s3s-fs, through
//! `scripts/s3-server`; skipped when it is not installed unless SSHTRAIL_REQUIRE_LIVE=1).
//!
//! Every store gets its environment through `Options::env` (`Env::from_vars`), never the
//! process's: the tests run in parallel, and no static keys are in the URL or the environment.

mod support;

use sshtrail_sessionstore::s3::Env;
use sshtrail_sessionstore::{connect, open, Error, Options, Store, StoreStats};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use support::{meta, read_all, synthetic, wait_for, Server, ACCESS_KEY, SECRET_KEY};

const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/sshtrail-uploader";
const SESSION_NAME: &str = "sshtrail-test-session";
const IMDS_ROLE: &str = "sshtrail-instance-role";

// ---------------------------------------------------------------------------------------
// The fake STS / IMDS server
// ---------------------------------------------------------------------------------------

/// One request as the fake server read it.
#[derive(Clone, Debug)]
struct Request {
    method: String,
    path: String,
    /// Lower-case names.
    headers: HashMap<String, String>,
    body: String,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    /// The body's `application/x-www-form-urlencoded` fields.
    fn form(&self) -> HashMap<String, String> {
        self.body
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (form_decode(k), form_decode(v))
            })
            .collect()
    }
}

fn form_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).expect("ascii escape");
                out.push(u8::from_str_radix(hex, 16).expect("hex escape"));
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).expect("utf-8 form value")
}

#[derive(Clone, Copy, PartialEq)]
enum Role {
    Sts,
    Imds,
    /// An IMDSv1-only metadata service: refuses the session-token PUT, but would answer
    /// credential GETs without a token (which the client must never send).
    ImdsV1Only,
}

struct State {
    role: Role,
    requests: Mutex<Vec<Request>>,
    /// Lifetime (seconds from now) of the keys in the next answers.
    lifetime: Mutex<u64>,
    /// The expirations handed out (Unix seconds).
    issued: Mutex<Vec<u64>>,
    /// IMDS session tokens handed out.
    imds_tokens: Mutex<Vec<String>>,
}

struct Mock {
    port: u16,
    state: Arc<State>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Mock {
    fn start(role: Role, lifetime: u64) -> Mock {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the fake server");
        let port = listener.local_addr().expect("local addr").port();
        let state = Arc::new(State {
            role,
            requests: Mutex::new(Vec::new()),
            lifetime: Mutex::new(lifetime),
            issued: Mutex::new(Vec::new()),
            imds_tokens: Mutex::new(Vec::new()),
        });
        let mut m = Mock {
            port,
            state,
            stop: Arc::new(AtomicBool::new(false)),
            thread: None,
        };
        m.serve(listener);
        m
    }

    fn serve(&mut self, listener: TcpListener) {
        listener
            .set_nonblocking(true)
            .expect("nonblocking listener");
        let state = Arc::clone(&self.state);
        let stop = Arc::clone(&self.stop);
        self.thread = Some(std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let state = Arc::clone(&state);
                        std::thread::spawn(move || handle(&state, stream));
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(5))
                    }
                    Err(e) => panic!("fake server accept: {e}"),
                }
            }
        }));
    }

    /// Closes the listening socket: connections are refused until [`Mock::restart`].
    fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            t.join().expect("fake server thread");
        }
    }

    /// Listens again on the same port.
    fn restart(&mut self) {
        self.stop = Arc::new(AtomicBool::new(false));
        let listener = TcpListener::bind(("127.0.0.1", self.port)).expect("rebind the port");
        self.serve(listener);
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn requests(&self) -> Vec<Request> {
        self.state.requests.lock().unwrap().clone()
    }

    fn set_lifetime(&self, secs: u64) {
        *self.state.lifetime.lock().unwrap() = secs;
    }

    fn issued(&self) -> Vec<u64> {
        self.state.issued.lock().unwrap().clone()
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        self.stop();
    }
}

fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

fn read_request(stream: &mut TcpStream) -> Option<Request> {
    let mut r = BufReader::new(stream);
    let mut line = String::new();
    r.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let path = parts.next()?.to_owned();
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        r.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
    }
    let mut body = Vec::new();
    if let Some(n) = headers.get("content-length") {
        let n: usize = n.parse().ok()?;
        body.resize(n, 0);
        r.read_exact(&mut body).ok()?;
    } else if headers
        .get("transfer-encoding")
        .is_some_and(|t| t.eq_ignore_ascii_case("chunked"))
    {
        loop {
            let mut size = String::new();
            r.read_line(&mut size).ok()?;
            let n = usize::from_str_radix(size.trim(), 16).ok()?;
            let mut chunk = vec![0; n + 2];
            r.read_exact(&mut chunk).ok()?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    }
    Some(Request {
        method,
        path,
        headers,
        body: String::from_utf8(body).ok()?,
    })
}

fn handle(state: &State, mut stream: TcpStream) {
    stream.set_nonblocking(false).expect("blocking stream");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("read timeout");
    let Some(req) = read_request(&mut stream) else {
        return;
    };
    state.requests.lock().unwrap().push(req.clone());
    let (status, content_type, body) = match state.role {
        Role::Sts => sts(state, &req),
        Role::Imds | Role::ImdsV1Only => imds(state, &req),
    };
    let reason = if status == 200 { "OK" } else { "Error" };
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body.as_bytes());
    let _ = stream.flush();
}

/// The next keys' expiration, as both servers write it.
fn next_expiration(state: &State) -> String {
    let expires = now_unix() + *state.lifetime.lock().unwrap();
    state.issued.lock().unwrap().push(expires);
    sshtrail_fmt::time::rfc3339_millis_string(expires, 0)
}

fn sts(state: &State, req: &Request) -> (u16, &'static str, String) {
    let form = req.form();
    let ok = req.method == "POST"
        && req.path == "/"
        && form.get("Action").map(String::as_str) == Some("AssumeRoleWithWebIdentity")
        && form.contains_key("RoleArn")
        && form.contains_key("WebIdentityToken");
    if !ok {
        let body = "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code>\
                    <Message>not an AssumeRoleWithWebIdentity request</Message></Error></ErrorResponse>";
        return (400, "text/xml", body.into());
    }
    let n = state.issued.lock().unwrap().len() + 1;
    let expiration = next_expiration(state);
    let body = format!(
        r#"<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>system:serviceaccount:audit:sshtrail</SubjectFromWebIdentityToken>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::123456789012:assumed-role/sshtrail-uploader/{SESSION_NAME}</Arn>
      <AssumedRoleId>AROAEXAMPLE:{SESSION_NAME}</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>{ACCESS_KEY}</AccessKeyId>
      <SecretAccessKey>{SECRET_KEY}</SecretAccessKey>
      <SessionToken>sts-session-token-{n}</SessionToken>
      <Expiration>{expiration}</Expiration>
    </Credentials>
    <Audience>sts.amazonaws.com</Audience>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>req-{n}</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>"#
    );
    (200, "text/xml", body)
}

fn imds(state: &State, req: &Request) -> (u16, &'static str, String) {
    const BASE: &str = "/latest/meta-data/iam/security-credentials/";
    if req.method == "PUT" && req.path == "/latest/api/token" {
        if state.role == Role::ImdsV1Only {
            return (403, "text/plain", "Forbidden".into());
        }
        let ttl_ok = req
            .header("x-aws-ec2-metadata-token-ttl-seconds")
            .and_then(|t| t.parse::<u32>().ok())
            .is_some_and(|t| (1..=21600).contains(&t));
        if !ttl_ok {
            return (400, "text/plain", "Bad Request".into());
        }
        let mut tokens = state.imds_tokens.lock().unwrap();
        let token = format!("imds-session-{}", tokens.len() + 1);
        tokens.push(token.clone());
        return (200, "text/plain", token);
    }
    if req.method != "GET" {
        return (405, "text/plain", "Method Not Allowed".into());
    }
    let authorized = match req.header("x-aws-ec2-metadata-token") {
        Some(t) => state.imds_tokens.lock().unwrap().iter().any(|k| k == t),
        // IMDSv1 answers without a token; IMDSv2-only refuses.
        None => state.role == Role::ImdsV1Only,
    };
    if !authorized {
        return (401, "text/plain", "Unauthorized".into());
    }
    if req.path == BASE {
        return (200, "text/plain", format!("{IMDS_ROLE}\n"));
    }
    if req.path.strip_prefix(BASE) == Some(IMDS_ROLE) {
        let n = state.issued.lock().unwrap().len() + 1;
        let expiration = next_expiration(state);
        let body = format!(
            r#"{{
  "Code" : "Success",
  "LastUpdated" : "2026-12-03T06:00:00Z",
  "Type" : "AWS-HMAC",
  "AccessKeyId" : "{ACCESS_KEY}",
  "SecretAccessKey" : "{SECRET_KEY}",
  "Token" : "imds-session-token-{n}",
  "Expiration" : "{expiration}"
}}"#
        );
        return (200, "text/plain", body);
    }
    (404, "text/plain", "Not Found".into())
}

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// The store's URL without any keys: the credentials come from the chain.
fn keyless_url(server: &Server, extra: &str) -> String {
    let mut u = format!(
        "s3://logs/host1?endpoint=http://127.0.0.1:{}&region=us-east-1",
        server.port
    );
    if !extra.is_empty() {
        u.push('&');
        u.push_str(extra);
    }
    u
}

fn options(spool: Option<&Path>, env: Env) -> Options {
    let mut o = Options {
        spool_dir: spool.map(Path::to_path_buf),
        env,
        ..Default::default()
    };
    o.retry.initial = Duration::from_millis(50);
    o.retry.max = Duration::from_millis(500);
    o
}

/// A projected service-account token as the kubelet writes it: a new file renamed into place.
fn write_token(path: &Path, token: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, token).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// JWT-shaped, with characters that must be percent-encoded in the form body.
fn jwt(n: u32) -> String {
    format!("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW0{n}+/=.c2lnbmF0dXJl{n}==")
}

fn web_identity_env(token_file: &Path, extra: &[(&str, String)]) -> Env {
    let mut vars = vec![
        (
            "AWS_WEB_IDENTITY_TOKEN_FILE",
            token_file.display().to_string(),
        ),
        ("AWS_ROLE_ARN", ROLE_ARN.to_owned()),
        ("AWS_ROLE_SESSION_NAME", SESSION_NAME.to_owned()),
    ];
    vars.extend(extra.iter().cloned());
    Env::from_vars(vars)
}

/// Spools a finished session and queues its upload.
fn record_session(store: &dyn Store, id: &str, data: &[u8]) -> sshtrail_sessionstore::SessionMeta {
    let m = meta(id, data.len() as u64);
    let mut log = store.open_local(id).unwrap().expect("s3 spools logs");
    log.write_all(data).unwrap();
    log.sync_all().unwrap();
    store.finish(&m).unwrap();
    m
}

/// The session is in the bucket: read back with the server's static test keys, through a
/// store that shares nothing with the one that uploaded.
fn assert_stored(server: &Server, m: &sshtrail_sessionstore::SessionMeta, data: &[u8]) {
    let reader = open(&server.url("logs", "host1", ""), &Options::default()).unwrap();
    assert!(reader.list().unwrap().contains(m), "{:?} listed", m.id);
    assert_eq!(&reader.meta(&m.id).unwrap(), m);
    assert_eq!(read_all(reader.open(&m.id).unwrap()), data);
}

fn sts_calls(sts: &Mock) -> Vec<HashMap<String, String>> {
    sts.requests().iter().map(Request::form).collect()
}

fn done(store: &dyn Store) -> StoreStats {
    let report = store.shutdown(Duration::from_secs(30));
    assert!(report.is_clean(), "{report:?}");
    store.stats()
}

// ---------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------

/// Web identity only: the token file's contents and the role ARN go to STS (at the URL's
/// `sts_endpoint=`, which wins over `AWS_ENDPOINT_URL_STS`), and the keys STS gives sign the
/// upload that s3s-fs accepts. Keys valid for an hour are not renewed.
#[test]
fn web_identity_upload_reaches_the_bucket() {
    let Some(server) = Server::start_or_skip("web_identity_upload_reaches_the_bucket") else {
        return;
    };
    server.bucket("logs");
    let sts = Mock::start(Role::Sts, 3600);
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    write_token(&token_file, &jwt(1));
    // AWS_ENDPOINT_URL_STS points at nothing: the URL key must win.
    let env = web_identity_env(
        &token_file,
        &[(
            "AWS_ENDPOINT_URL_STS",
            format!("http://127.0.0.1:{}", support::free_port()),
        )],
    );
    let url = keyless_url(&server, &format!("sts_endpoint={}", sts.url()));
    let spool = tempfile::tempdir().unwrap();
    let store = open(&url, &options(Some(spool.path()), env.clone())).unwrap();

    let data = synthetic(11, 200_000);
    let m = record_session(store.as_ref(), "wi-1-1", &data);
    let stats = done(store.as_ref());
    assert_eq!(
        (stats.uploads_done, stats.upload_retries),
        (1, 0),
        "{stats:?}"
    );
    assert_stored(&server, &m, &data);

    let calls = sts_calls(&sts);
    assert_eq!(calls.len(), 1, "one STS call, no renewal: {calls:?}");
    let c = &calls[0];
    assert_eq!(c["Action"], "AssumeRoleWithWebIdentity");
    assert_eq!(c["Version"], "2011-06-15");
    assert_eq!(c["RoleArn"], ROLE_ARN);
    assert_eq!(c["RoleSessionName"], SESSION_NAME);
    assert_eq!(c["WebIdentityToken"], jwt(1));
    assert_eq!(
        sts.requests()[0].header("content-type"),
        Some("application/x-www-form-urlencoded")
    );

    // The keys the client signs with are STS's, with its session token and expiry.
    let client = connect(&url, &options(None, env)).unwrap();
    let source = client.credentials_source();
    assert_eq!(source.kind(), "web-identity");
    let keys = source.get().unwrap();
    assert_eq!(keys.access_key_id, ACCESS_KEY);
    assert_eq!(keys.session_token.as_deref(), Some("sts-session-token-2"));
    assert_eq!(source.expires_at(), sts.issued().last().copied());
}

/// Keys that expire within the 5-minute renewal window are renewed before the next request,
/// and the renewal reads the token file again: STS gets the rotated token.
#[test]
fn web_identity_renewal_sends_the_rotated_token() {
    let Some(server) = Server::start_or_skip("web_identity_renewal_sends_the_rotated_token") else {
        return;
    };
    server.bucket("logs");
    // 4 minutes: valid, but inside the renewal window.
    let sts = Mock::start(Role::Sts, 240);
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    write_token(&token_file, &jwt(1));
    let env = web_identity_env(&token_file, &[("AWS_ENDPOINT_URL_STS", sts.url())]);
    let url = keyless_url(&server, "");
    let spool = tempfile::tempdir().unwrap();
    let store = open(&url, &options(Some(spool.path()), env)).unwrap();
    assert_eq!(sts.requests().len(), 1, "keys asked for at open");

    // The kubelet rotates the projected token; STS now gives keys for an hour.
    write_token(&token_file, &jwt(2));
    sts.set_lifetime(3600);
    let data = synthetic(12, 300_000);
    let m = record_session(store.as_ref(), "wi-1-2", &data);
    let stats = done(store.as_ref());
    assert_eq!(stats.uploads_done, 1, "{stats:?}");
    assert_stored(&server, &m, &data);

    let calls = sts_calls(&sts);
    let tokens: Vec<&str> = calls
        .iter()
        .map(|c| c["WebIdentityToken"].as_str())
        .collect();
    assert_eq!(
        tokens,
        [jwt(1), jwt(2)],
        "one renewal, with the token file's new contents; none after the hour-long keys"
    );
    assert!(calls.iter().all(|c| c["RoleArn"] == ROLE_ARN), "{calls:?}");
}

/// Instance metadata only: a session token first (PUT with the TTL header), then the role
/// name and its keys, each GET carrying the token. Keys inside the renewal window are renewed
/// the same way, starting with a fresh session token.
#[test]
fn imds_v2_upload_reaches_the_bucket() {
    let Some(server) = Server::start_or_skip("imds_v2_upload_reaches_the_bucket") else {
        return;
    };
    server.bucket("logs");
    let imds = Mock::start(Role::Imds, 240);
    let env = Env::from_vars([("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url())]);
    let url = keyless_url(&server, "");
    let spool = tempfile::tempdir().unwrap();
    let store = open(&url, &options(Some(spool.path()), env.clone())).unwrap();
    imds.set_lifetime(3600);
    let data = synthetic(13, 150_000);
    let m = record_session(store.as_ref(), "imds-1-1", &data);
    let stats = done(store.as_ref());
    assert_eq!(
        (stats.uploads_done, stats.upload_retries),
        (1, 0),
        "{stats:?}"
    );
    assert_stored(&server, &m, &data);

    let base = "/latest/meta-data/iam/security-credentials/";
    let role_path = format!("{base}{IMDS_ROLE}");
    let seen: Vec<(String, String, Option<String>)> = imds
        .requests()
        .iter()
        .map(|r| {
            let token = if r.method == "PUT" {
                r.header("x-aws-ec2-metadata-token-ttl-seconds")
            } else {
                r.header("x-aws-ec2-metadata-token")
            };
            (r.method.clone(), r.path.clone(), token.map(str::to_owned))
        })
        .collect();
    let ttl = || Some("21600".to_string());
    let token = |n: u32| Some(format!("imds-session-{n}"));
    assert_eq!(
        seen,
        [
            ("PUT".into(), "/latest/api/token".into(), ttl()),
            ("GET".into(), base.into(), token(1)),
            ("GET".into(), role_path.clone(), token(1)),
            // Renewal (the first keys were inside the window): a new session token first.
            ("PUT".into(), "/latest/api/token".into(), ttl()),
            ("GET".into(), base.into(), token(2)),
            ("GET".into(), role_path, token(2)),
        ]
    );

    let client = connect(&url, &options(None, env)).unwrap();
    assert_eq!(client.credentials_source().kind(), "instance-metadata");
    let keys = client.credentials_source().get().unwrap();
    assert_eq!(keys.session_token.as_deref(), Some("imds-session-token-3"));
}

/// A metadata service that will not give a session token (IMDSv1 only) is not used: no
/// credentials GET without the token header, and the store does not open.
#[test]
fn imds_without_a_session_token_is_never_used() {
    let imds = Mock::start(Role::ImdsV1Only, 3600);
    let env = Env::from_vars([("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url())]);
    // No S3 server is needed: the chain fails before any S3 request.
    let url = format!(
        "s3://logs/host1?endpoint=http://127.0.0.1:{}&region=us-east-1",
        support::free_port()
    );
    let err = match open(&url, &options(None, env)) {
        Err(e) => e,
        Ok(_) => panic!("opened with IMDSv1 credentials"),
    };
    assert!(matches!(err, Error::Credentials { .. }), "{err}");
    assert!(err.to_string().contains("no session token"), "{err}");
    let requests = imds.requests();
    assert_eq!(requests.len(), 1, "only the token PUT: {requests:?}");
    assert_eq!(requests[0].method, "PUT");
    assert!(
        requests
            .iter()
            .all(|r| r.method != "GET" || r.header("x-aws-ec2-metadata-token").is_some()),
        "{requests:?}"
    );
}

/// STS unreachable after the keys expired: requests fail with a transient credentials error,
/// the upload is retried, and it goes through once STS answers again.
#[test]
fn sts_down_after_expiry_is_transient_and_the_upload_recovers() {
    let Some(server) =
        Server::start_or_skip("sts_down_after_expiry_is_transient_and_the_upload_recovers")
    else {
        return;
    };
    server.bucket("logs");
    // Keys for 2 seconds.
    let mut sts = Mock::start(Role::Sts, 2);
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    write_token(&token_file, &jwt(7));
    let env = web_identity_env(&token_file, &[("AWS_ENDPOINT_URL_STS", sts.url())]);
    let url = keyless_url(&server, "");
    let spool = tempfile::tempdir().unwrap();
    let store = open(&url, &options(Some(spool.path()), env.clone())).unwrap();
    let client = connect(&url, &options(None, env)).unwrap();

    sts.stop();
    let expiry = sts.issued().into_iter().max().expect("keys issued");
    wait_for(10, "the keys to expire", || now_unix() >= expiry);

    let err = client
        .head("host1/anything.sshlog")
        .expect_err("expired keys and no STS");
    assert!(
        matches!(
            err,
            Error::Credentials {
                transient: true,
                ..
            }
        ) && err.is_transient(),
        "{err:?}"
    );
    assert!(err.to_string().contains("expired"), "{err}");

    let data = synthetic(14, 120_000);
    let m = record_session(store.as_ref(), "wi-1-3", &data);
    wait_for(20, "retries while STS is down", || {
        store.stats().upload_retries >= 3
    });
    let stats = store.stats();
    assert_eq!(stats.uploads_done, 0, "{stats:?}");
    assert_eq!(stats.upload_failures, 0, "not given up: {stats:?}");
    let last = stats.last_error.clone().unwrap_or_default();
    assert!(last.contains("S3 credentials"), "{last}");
    assert!(
        spool.path().join("wi-1-3.sshlog").exists(),
        "still in the spool"
    );

    let before = sts.requests().len();
    sts.set_lifetime(3600);
    sts.restart();
    wait_for(30, "the upload after STS is back", || {
        store.stats().uploads_done == 1
    });
    let stats = done(store.as_ref());
    assert!(stats.upload_retries >= 3, "{stats:?}");
    assert_stored(&server, &m, &data);
    let after = sts_calls(&sts);
    assert!(after.len() > before, "renewed after the restart");
    assert!(after
        .iter()
        .all(|c| c["WebIdentityToken"] == jwt(7) && c["RoleArn"] == ROLE_ARN));
    // The other client recovers too.
    assert!(client.head("host1/wi-1-3.sshlog").unwrap().is_some());
}
