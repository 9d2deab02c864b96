//! The `s3-lake://` sink: spooled lines to Parquet objects on S3 ([`sshtrail_lake`]).
//!
//! `s3-lake://bucket/prefix?endpoint=…&region=…` takes every key of a session-storage
//! `s3://` URL (credentials, custom CA, path style, server-side encryption …) and the same
//! client. Each batch the forwarder hands over becomes one object per (host, UTC day) it
//! holds, named by the spool position the batch began at; the batch is delivered, and
//! forgotten, only once every one of its objects is stored. A retry (after an error, a
//! restart, a SIGKILL) writes the same names again, so no event is in the lake twice.

use sshtrail_sessionstore::s3::Client;
use sshtrail_sessionstore::Options;
use sshtrail_spool::{Batch, Deliver, Gather};

pub struct LakeDeliver {
    /// The `s3://` form of the sink's URL.
    url: String,
    /// Made at the first delivery, so that a store that is unreachable or misconfigured at
    /// start costs a spool, not the daemon's start.
    client: Option<Client>,
    gather: Gather,
}

/// `s3-lake://…` → `s3://…`; `None` when the URL is not a lake URL.
pub fn s3_url(url: &str) -> Option<String> {
    url.strip_prefix("s3-lake://")
        .map(|rest| format!("s3://{rest}"))
}

/// Checks a lake URL as the session store would (every key known, values valid).
pub fn check(url: &str) -> Result<(), String> {
    let s3 = s3_url(url).ok_or("a lake sink is s3-lake://bucket/prefix?…")?;
    sshtrail_sessionstore::s3::url::parse(&s3).map_err(|e| e.to_string())?;
    Ok(())
}

impl LakeDeliver {
    pub fn new(url: &str, gather: Gather) -> Result<LakeDeliver, String> {
        check(url)?;
        Ok(LakeDeliver {
            url: s3_url(url).unwrap_or_default(),
            client: None,
            gather,
        })
    }
}

const CONTENT_TYPE: &str = "application/vnd.apache.parquet";

impl Deliver for LakeDeliver {
    fn gather(&self) -> Gather {
        self.gather
    }

    fn deliver(&mut self, batch: &Batch<'_>) -> Result<(), String> {
        if self.client.is_none() {
            let client = sshtrail_sessionstore::s3::connect(&self.url, &Options::default())
                .map_err(|e| e.to_string())?;
            self.client = Some(client);
        }
        let Some(client) = &self.client else {
            return Err("no S3 client".into());
        };
        let objects =
            sshtrail_lake::objects(&client.config().prefix, &batch.start.name(), batch.lines)
                .map_err(|e| e.to_string())?;
        let headers = [("content-type".to_string(), CONTENT_TYPE.to_string())];
        for object in &objects {
            client
                .put_object(&object.key, &object.bytes, &headers)
                .map_err(|e| format!("{}: {e}", object.key))?;
            tracing::debug!(key = %object.key, rows = object.rows, bytes = object.bytes.len(), "lake object stored");
        }
        Ok(())
    }
}
