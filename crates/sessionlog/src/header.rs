//! The header record (what the log is about) and the chain state a writer resumes from.

use serde::{Deserialize, Serialize};

use crate::codec::kinds::{END, HEADER};
use crate::codec::wire::{self, Dec, WireError};

/// The first frame of every log: which session, on which machine, since when.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// The session id the log is filed under (machine id, boot id, kernel `ses`: see `sshtrail::sessions::id`).
    pub session_id: String,
    /// Host name of the machine the session ran on.
    pub host: String,
    /// `/etc/machine-id` of that machine.
    pub machine_id: String,
    /// Kernel boot id at the time.
    pub boot_id: String,
    /// When the log was created, milliseconds since the Unix epoch (UTC).
    pub created_ms: u64,
}

/// Where a writer stands: enough to continue the same log (and the same hash chain) after a
/// restart. Persist it (e.g. in a checkpoint) after the bytes up to `offset` are durable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainState {
    /// File length: the next frame starts here.
    pub offset: u64,
    /// Records written so far (header and end frame not counted).
    pub records: u64,
    /// Current chain value, 64 lowercase hex digits.
    pub chain: String,
}

impl ChainState {
    /// The digest of the log up to `offset`, `sha256:<hex>`.
    pub fn digest(&self) -> String {
        format!("sha256:{}", self.chain)
    }
}

pub(crate) fn encode_header(b: &mut Vec<u8>, h: &Header) {
    wire::put_varint(b, h.created_ms);
    wire::put_varint(b, HEADER);
    wire::put_str(b, &h.session_id);
    wire::put_str(b, &h.host);
    wire::put_str(b, &h.machine_id);
    wire::put_str(b, &h.boot_id);
}

/// Decodes a header payload (time and kind included).
pub(crate) fn decode_header(payload: &[u8]) -> Result<Header, WireError> {
    let mut d = Dec::new(payload);
    let created_ms = d.varint()?;
    if d.varint()? != HEADER {
        return Err("first frame is not a header record");
    }
    Ok(Header {
        created_ms,
        session_id: d.str()?,
        host: d.str()?,
        machine_id: d.str()?,
        boot_id: d.str()?,
    })
}

pub(crate) fn encode_end(b: &mut Vec<u8>, time_ms: u64, records: u64) {
    wire::put_varint(b, time_ms);
    wire::put_varint(b, END);
    wire::put_varint(b, records);
}
