//! The S3 operations the store uses, as signed HTTP requests over one `ureq` agent (a
//! connection pool shared by the upload threads). Each call is one request: retrying is the
//! caller's business, because only the caller knows whether it is safe and worth it.

use super::creds::{Credentials, CredentialsSource};
use super::sigv4::{self, SignRequest};
use super::time;
use super::url::{uri_encode, S3Config};
use super::xml;
use crate::Error;
use base64::Engine;
use md5::{Digest, Md5};
use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Headers of a response, lower-case names.
pub type Headers = Vec<(String, String)>;

/// A signed-request S3 client for one bucket.
pub struct Client {
    agent: ureq::Agent,
    cfg: S3Config,
    /// Asked before each request (temporary keys are renewed there).
    creds: Arc<CredentialsSource>,
    /// Limit for one request (see `deadline`).
    timeout: Duration,
    /// Requests sent, by kind (for [`crate::StoreStats`]: what a listing cost).
    counts: RequestCounts,
}

/// Requests a client sent.
#[derive(Debug, Default)]
pub struct RequestCounts {
    /// GetObject.
    pub gets: AtomicU64,
    /// ListObjectsV2 pages.
    pub lists: AtomicU64,
    /// Every request.
    pub all: AtomicU64,
}

/// A request body: bytes in memory, optionally read through a throttle.
pub enum Body<'a> {
    Empty,
    Bytes(&'a [u8]),
    /// The bytes, fed to the socket through `reader` (which yields exactly these bytes).
    Throttled(&'a [u8], &'a mut dyn Read),
}

impl Body<'_> {
    fn bytes(&self) -> &[u8] {
        match self {
            Body::Empty => &[],
            Body::Bytes(b) | Body::Throttled(b, _) => b,
        }
    }
}

/// One part as the server lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct ListedPart {
    pub number: u32,
    /// S3 always lists it; some compatible servers (s3s-fs 0.14) leave it out.
    pub etag: Option<String>,
    pub size: u64,
}

impl Client {
    /// A client that signs with fixed keys.
    pub fn new(cfg: S3Config, creds: Credentials, timeout: Duration) -> Result<Self, Error> {
        Self::with_source(cfg, Arc::new(CredentialsSource::fixed(creds)), timeout)
    }

    /// A client that asks `creds` for keys before each request (see [`super::creds::chain`]).
    pub fn with_source(
        cfg: S3Config,
        creds: Arc<CredentialsSource>,
        timeout: Duration,
    ) -> Result<Self, Error> {
        let mut tls = ureq::tls::TlsConfig::builder();
        if let Some(path) = &cfg.ca_file {
            let pem = std::fs::read(path).map_err(|e| Error::io("read ca_file", path, e))?;
            let mut certs = Vec::new();
            for item in ureq::tls::parse_pem(&pem) {
                match item {
                    Ok(ureq::tls::PemItem::Certificate(c)) => certs.push(c),
                    Ok(_) => {}
                    Err(e) => {
                        return Err(Error::BadValue {
                            key: "ca_file".into(),
                            reason: format!("{path}: {e}"),
                        })
                    }
                }
            }
            if certs.is_empty() {
                return Err(Error::BadValue {
                    key: "ca_file".into(),
                    reason: format!("{path}: no PEM certificate in it"),
                });
            }
            tls = tls.root_certs(ureq::tls::RootCerts::new_with_certs(&certs));
        }
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(10)))
            .timeout_recv_response(Some(timeout))
            .tls_config(tls.build())
            .user_agent("sshtrail-sessionstore")
            .build()
            .into();
        Ok(Client {
            agent,
            cfg,
            creds,
            timeout,
            counts: RequestCounts::default(),
        })
    }

    pub fn config(&self) -> &S3Config {
        &self.cfg
    }

    /// How many requests this client has sent.
    pub fn counts(&self) -> &RequestCounts {
        &self.counts
    }

    /// Where the client's keys come from.
    pub fn credentials_source(&self) -> &Arc<CredentialsSource> {
        &self.creds
    }

    /// `s3://bucket/key` for messages.
    fn target(&self, key: Option<&str>) -> String {
        format!("s3://{}/{}", self.cfg.bucket, key.unwrap_or(""))
    }

    /// Host header value and encoded path for a key (or the bucket itself).
    fn host_and_path(&self, key: Option<&str>) -> (String, String) {
        let key_path = key.map(|k| uri_encode(k, true)).unwrap_or_default();
        if self.cfg.path_style {
            let path = match key {
                Some(_) => format!("/{}/{key_path}", self.cfg.bucket),
                None => format!("/{}", self.cfg.bucket),
            };
            (self.cfg.authority.clone(), path)
        } else {
            (
                format!("{}.{}", self.cfg.bucket, self.cfg.authority),
                format!("/{key_path}"),
            )
        }
    }

    /// Whole-request time limit. A body under `max_bandwidth` may legitimately take long (its
    /// share of the budget is `max_bandwidth / concurrency`), so that time is added. A log
    /// streamed by `get` has none, since it may take longer than any fixed limit (a stalled
    /// server is still caught by the connect and response-header timeouts).
    fn deadline(&self, body_len: usize) -> Option<Duration> {
        let sending = match self.cfg.max_bandwidth {
            Some(bw) => Duration::from_secs_f64(
                body_len as f64 * self.cfg.concurrency as f64 / bw.max(1) as f64,
            ),
            None => Duration::ZERO,
        };
        Some(self.timeout + sending)
    }

    /// Signs and sends one request; a non-2xx answer becomes [`Error::S3`].
    fn send(
        &self,
        op: &'static str,
        method: &str,
        key: Option<&str>,
        query: &[(String, String)],
        extra: &[(String, String)],
        body: Body<'_>,
    ) -> Result<ureq::http::Response<ureq::Body>, Error> {
        self.send_with(op, method, key, query, extra, body, false)
    }

    /// `send`, where `streaming` lifts the whole-request limit (see `deadline`).
    #[allow(clippy::too_many_arguments)]
    fn send_with(
        &self,
        op: &'static str,
        method: &str,
        key: Option<&str>,
        query: &[(String, String)],
        extra: &[(String, String)],
        body: Body<'_>,
        streaming: bool,
    ) -> Result<ureq::http::Response<ureq::Body>, Error> {
        self.counts.all.fetch_add(1, Ordering::Relaxed);
        match op {
            "GetObject" => self.counts.gets.fetch_add(1, Ordering::Relaxed),
            "ListObjectsV2" => self.counts.lists.fetch_add(1, Ordering::Relaxed),
            _ => 0,
        };
        let creds = self.creds.get()?;
        let (host, path) = self.host_and_path(key);
        let target = self.target(key);
        let now = time::now_unix();
        let amz_date = time::amz_date(now);
        let payload_hash = sigv4::sha256_hex(body.bytes());
        let mut headers: Vec<(String, String)> = vec![
            ("host".into(), host.clone()),
            ("x-amz-date".into(), amz_date.clone()),
            ("x-amz-content-sha256".into(), payload_hash.clone()),
        ];
        if let Some(token) = &creds.session_token {
            headers.push(("x-amz-security-token".into(), token.clone()));
        }
        if !matches!(body, Body::Empty) {
            let md5 = Md5::digest(body.bytes());
            headers.push((
                "content-md5".into(),
                base64::engine::general_purpose::STANDARD.encode(md5),
            ));
        }
        headers.extend(extra.iter().cloned());
        let auth = sigv4::authorization(
            &creds,
            &self.cfg.region,
            "s3",
            &amz_date,
            &SignRequest {
                method,
                canonical_uri: &path,
                query,
                headers: &headers,
                payload_hash: &payload_hash,
            },
        );
        let q = sigv4::canonical_query(query);
        let url = if q.is_empty() {
            format!("{}://{host}{path}", self.cfg.scheme)
        } else {
            format!("{}://{host}{path}?{q}", self.cfg.scheme)
        };
        let len = body.bytes().len();
        let mut builder = ureq::http::Request::builder().method(method).uri(&url);
        for (k, v) in &headers {
            builder = builder.header(k.as_str(), v.as_str());
        }
        builder = builder.header("authorization", auth);
        if method == "PUT" || method == "POST" {
            builder = builder.header("content-length", len.to_string());
        }
        let protocol = |detail: String| Error::Protocol {
            op,
            target: target.clone(),
            detail,
        };
        let limit = if streaming { None } else { self.deadline(len) };
        let result = match body {
            Body::Empty => builder
                .body(())
                .map_err(|e| protocol(format!("building request: {e}")))
                .map(|r| {
                    self.agent.run(
                        self.agent
                            .configure_request(r)
                            .timeout_global(limit)
                            .build(),
                    )
                }),
            Body::Bytes(b) => builder
                .body(b)
                .map_err(|e| protocol(format!("building request: {e}")))
                .map(|r| {
                    self.agent.run(
                        self.agent
                            .configure_request(r)
                            .timeout_global(limit)
                            .build(),
                    )
                }),
            Body::Throttled(_, reader) => builder
                .body(ureq::SendBody::from_reader(reader))
                .map_err(|e| protocol(format!("building request: {e}")))
                .map(|r| {
                    self.agent.run(
                        self.agent
                            .configure_request(r)
                            .timeout_global(limit)
                            .build(),
                    )
                }),
        }?;
        let mut resp = result.map_err(|e| Error::Transport {
            op,
            target: format!("{target} ({}://{})", self.cfg.scheme, self.cfg.authority),
            detail: e.to_string(),
        })?;
        let status = resp.status().as_u16();
        if (200..300).contains(&status) {
            return Ok(resp);
        }
        let body = resp
            .body_mut()
            .with_config()
            .limit(1 << 20)
            .read_to_vec()
            .unwrap_or_default();
        let text = String::from_utf8_lossy(&body);
        let code = xml::text(&text, "Code").unwrap_or_else(|| match status {
            404 => "NotFound".into(),
            403 => "Forbidden".into(),
            _ => "-".into(),
        });
        let message = xml::text(&text, "Message")
            .or_else(|| resp.status().canonical_reason().map(str::to_owned))
            .unwrap_or_default();
        Err(Error::S3 {
            op,
            target,
            status,
            code,
            message,
        })
    }

    fn read_text(
        op: &'static str,
        target: String,
        mut resp: ureq::http::Response<ureq::Body>,
    ) -> Result<String, Error> {
        let body = resp
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_vec()
            .map_err(|e| Error::Transport {
                op,
                target: target.clone(),
                detail: format!("reading response: {e}"),
            })?;
        String::from_utf8(body).map_err(|_| Error::Protocol {
            op,
            target,
            detail: "response is not UTF-8".into(),
        })
    }

    fn etag(resp: &ureq::http::Response<ureq::Body>) -> String {
        resp.headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    }

    /// PutObject; returns the ETag.
    pub fn put_object(
        &self,
        key: &str,
        data: &[u8],
        headers: &[(String, String)],
    ) -> Result<String, Error> {
        let resp = self.send(
            "PutObject",
            "PUT",
            Some(key),
            &[],
            headers,
            Body::Bytes(data),
        )?;
        Ok(Self::etag(&resp))
    }

    /// CreateMultipartUpload; returns the upload id.
    pub fn create_multipart(
        &self,
        key: &str,
        headers: &[(String, String)],
    ) -> Result<String, Error> {
        let op = "CreateMultipartUpload";
        let q = [("uploads".to_string(), String::new())];
        let resp = self.send(op, "POST", Some(key), &q, headers, Body::Empty)?;
        let text = Self::read_text(op, self.target(Some(key)), resp)?;
        xml::text(&text, "UploadId")
            .filter(|u| !u.is_empty())
            .ok_or_else(|| Error::Protocol {
                op,
                target: self.target(Some(key)),
                detail: "no UploadId in the answer".into(),
            })
    }

    /// UploadPart; returns the ETag.
    pub fn upload_part(
        &self,
        key: &str,
        upload_id: &str,
        number: u32,
        body: Body<'_>,
    ) -> Result<String, Error> {
        let q = [
            ("partNumber".to_string(), number.to_string()),
            ("uploadId".to_string(), upload_id.to_string()),
        ];
        let resp = self.send("UploadPart", "PUT", Some(key), &q, &[], body)?;
        let etag = Self::etag(&resp);
        if etag.is_empty() {
            return Err(Error::Protocol {
                op: "UploadPart",
                target: self.target(Some(key)),
                detail: format!("no ETag for part {number}"),
            });
        }
        Ok(etag)
    }

    /// ListParts, all pages.
    pub fn list_parts(&self, key: &str, upload_id: &str) -> Result<Vec<ListedPart>, Error> {
        let op = "ListParts";
        let mut out = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let mut q = vec![("uploadId".to_string(), upload_id.to_string())];
            if let Some(m) = &marker {
                q.push(("part-number-marker".to_string(), m.clone()));
            }
            let resp = self.send(op, "GET", Some(key), &q, &[], Body::Empty)?;
            let text = Self::read_text(op, self.target(Some(key)), resp)?;
            for part in xml::elements(&text, "Part") {
                let number = xml::text(part, "PartNumber").and_then(|n| n.parse().ok());
                let size = xml::text(part, "Size").and_then(|n| n.parse().ok());
                if let (Some(number), Some(size)) = (number, size) {
                    let etag = xml::text(part, "ETag").filter(|e| !e.is_empty());
                    out.push(ListedPart { number, etag, size });
                }
            }
            let truncated = xml::text(&text, "IsTruncated").as_deref() == Some("true");
            let next = xml::text(&text, "NextPartNumberMarker");
            match next {
                Some(n) if truncated && marker.as_ref() != Some(&n) => marker = Some(n),
                _ => return Ok(out),
            }
        }
    }

    /// CompleteMultipartUpload with `(number, etag)` in ascending order.
    pub fn complete(
        &self,
        key: &str,
        upload_id: &str,
        parts: &[(u32, String)],
    ) -> Result<(), Error> {
        let op = "CompleteMultipartUpload";
        let mut body = String::from("<CompleteMultipartUpload>");
        for (n, etag) in parts {
            body.push_str(&format!(
                "<Part><PartNumber>{n}</PartNumber><ETag>{}</ETag></Part>",
                xml::escape(etag)
            ));
        }
        body.push_str("</CompleteMultipartUpload>");
        let q = [("uploadId".to_string(), upload_id.to_string())];
        let headers = [("content-type".to_string(), "application/xml".to_string())];
        let resp = self.send(
            op,
            "POST",
            Some(key),
            &q,
            &headers,
            Body::Bytes(body.as_bytes()),
        )?;
        // S3 may answer 200 and still report an error in the body.
        let text = Self::read_text(op, self.target(Some(key)), resp)?;
        if let Some(code) = xml::elements(&text, "Error")
            .first()
            .and_then(|e| xml::text(e, "Code"))
        {
            return Err(Error::S3 {
                op,
                target: self.target(Some(key)),
                status: 200,
                message: xml::text(&text, "Message").unwrap_or_default(),
                code,
            });
        }
        Ok(())
    }

    /// HeadObject: the response headers, or `None` when the object does not exist.
    pub fn head(&self, key: &str) -> Result<Option<Headers>, Error> {
        match self.send("HeadObject", "HEAD", Some(key), &[], &[], Body::Empty) {
            Ok(resp) => Ok(Some(
                resp.headers()
                    .iter()
                    .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
                    .collect(),
            )),
            Err(Error::S3 { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// GetObject as a stream.
    pub fn get(&self, key: &str) -> Result<Box<dyn Read + Send>, Error> {
        let resp = self.send_with("GetObject", "GET", Some(key), &[], &[], Body::Empty, true)?;
        Ok(Box::new(resp.into_body().into_reader()))
    }

    /// GetObject of a small object into memory.
    pub fn get_bytes(&self, key: &str) -> Result<Vec<u8>, Error> {
        let op = "GetObject";
        let mut resp = self.send(op, "GET", Some(key), &[], &[], Body::Empty)?;
        resp.body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_vec()
            .map_err(|e| Error::Transport {
                op,
                target: self.target(Some(key)),
                detail: format!("reading response: {e}"),
            })
    }

    /// ListObjectsV2 of every key under `prefix`, all pages.
    pub fn list_keys(&self, prefix: &str) -> Result<Vec<String>, Error> {
        self.list_keys_after(prefix, None, None)
    }

    /// ListObjectsV2 of the keys under `prefix` that sort after `start_after`, all pages, or
    /// only the first `max_keys` of them.
    pub fn list_keys_after(
        &self,
        prefix: &str,
        start_after: Option<&str>,
        max_keys: Option<usize>,
    ) -> Result<Vec<String>, Error> {
        let op = "ListObjectsV2";
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut q = vec![
                ("list-type".to_string(), "2".to_string()),
                ("prefix".to_string(), prefix.to_string()),
            ];
            if let Some(after) = start_after {
                q.push(("start-after".to_string(), after.to_string()));
            }
            if let Some(max) = max_keys {
                q.push(("max-keys".to_string(), max.min(1000).to_string()));
            }
            if let Some(t) = &token {
                q.push(("continuation-token".to_string(), t.clone()));
            }
            let resp = self.send(op, "GET", None, &q, &[], Body::Empty)?;
            let text = Self::read_text(op, self.target(None), resp)?;
            for c in xml::elements(&text, "Contents") {
                if let Some(k) = xml::text(c, "Key") {
                    out.push(k);
                }
            }
            if max_keys.is_some_and(|m| out.len() >= m) {
                return Ok(out);
            }
            let truncated = xml::text(&text, "IsTruncated").as_deref() == Some("true");
            match xml::text(&text, "NextContinuationToken") {
                Some(t) if truncated && token.as_ref() != Some(&t) => token = Some(t),
                _ => return Ok(out),
            }
        }
    }

    /// CreateBucket (with object lock when the URL asks for retention); a bucket that
    /// already exists and is ours is fine.
    pub fn create_bucket(&self) -> Result<(), Error> {
        let body = if self.cfg.region == "us-east-1" {
            String::new()
        } else {
            format!(
                "<CreateBucketConfiguration><LocationConstraint>{}</LocationConstraint></CreateBucketConfiguration>",
                self.cfg.region
            )
        };
        let b = if body.is_empty() {
            Body::Empty
        } else {
            Body::Bytes(body.as_bytes())
        };
        // A bucket meant for retained logs is created with object lock on: S3 can only
        // turn it on at creation, and refuses retention headers on objects otherwise.
        let mut headers = Vec::new();
        if self.cfg.object_lock.is_some() {
            headers.push((
                "x-amz-bucket-object-lock-enabled".to_string(),
                "true".to_string(),
            ));
        }
        match self.send("CreateBucket", "PUT", None, &[], &headers, b) {
            Ok(_) => Ok(()),
            Err(e) if e.s3_code() == Some("BucketAlreadyOwnedByYou") => Ok(()),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(url: &str) -> Client {
        let creds = Credentials {
            access_key_id: "a".into(),
            secret_access_key: "b".into(),
            session_token: None,
        };
        Client::new(
            super::super::url::parse(url).unwrap(),
            creds,
            Duration::from_secs(1),
        )
        .unwrap()
    }

    #[test]
    fn path_style_and_virtual_hosted_addressing() {
        let p = client("s3://logs/pre?endpoint=http://127.0.0.1:9000");
        assert_eq!(
            p.host_and_path(Some("pre/a b.sshlog")),
            (
                "127.0.0.1:9000".to_string(),
                "/logs/pre/a%20b.sshlog".to_string()
            )
        );
        assert_eq!(p.host_and_path(None).1, "/logs");
        let v = client("s3://logs/pre?region=eu-central-1");
        assert_eq!(
            v.host_and_path(Some("pre/x.sshlog")),
            (
                "logs.s3.eu-central-1.amazonaws.com".to_string(),
                "/pre/x.sshlog".to_string()
            )
        );
        assert_eq!(v.host_and_path(None).1, "/");
    }
}
