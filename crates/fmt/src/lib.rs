//! Writing text fast, straight into a byte buffer: the pieces every JSON writer in
//! sshtrail shares.
//!
//! sshtrail writes one JSON object per audit event, per output event and per session-log
//! record, and on the audit pipeline the writing costs more than the parsing. Going
//! through `serde_json` means a dispatch per value; these functions append bytes to a
//! `Vec<u8>` with no allocation of their own, and give exactly the bytes `serde_json`
//! gives for the same value (tests compare them on every byte value at every offset).
//!
//! - [`json`]: a `&str` as a JSON string literal, escaped as `serde_json` escapes it, or
//!   additionally with DEL escaped for output a terminal may show.
//! - [`decimal`]: an unsigned integer, and a zero-padded fixed-width one.
//! - [`time`]: Unix seconds to a proleptic Gregorian UTC date and time, and the RFC 3339
//!   form with milliseconds (`2026-11-23T10:51:40.041Z`) that every event carries.
//!
//! ```
//! let mut out = Vec::new();
//! sshtrail_fmt::json::string(&mut out, "say \"hi\"\n");
//! out.push(b':');
//! sshtrail_fmt::time::rfc3339_millis(&mut out, 1_795_431_100, 41);
//! assert_eq!(out, b"\"say \\\"hi\\\"\\n\":2026-11-23T10:51:40.041Z");
//! ```

pub mod decimal;
pub mod json;
pub mod time;
