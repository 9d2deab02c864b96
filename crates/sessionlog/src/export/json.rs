//! JSON lines: the header, one object per record, and the seal.

use std::io::{BufWriter, Read, Write};

use serde_json::{json, Map, Value};

use super::time::rfc3339_ms;
use crate::{Error, Reader};

/// Writes one JSON object per line: first the header (`"kind":"header"`, with the format
/// version), then every record as `{"index", "time", "kind", …fields}` (byte fields in
/// base64), then, when the log is sealed, `{"kind":"end", "records", "digest"}`.
/// Returns the number of records written.
pub fn json_lines<R: Read>(mut reader: Reader<R>, out: &mut dyn Write) -> Result<u64, Error> {
    let mut out = BufWriter::new(out);
    let h = reader.header();
    let header = json!({
        "kind": "header",
        "time": rfc3339_ms(h.created_ms),
        "format_version": crate::codec::VERSION,
        "session_id": h.session_id,
        "host": h.host,
        "machine_id": h.machine_id,
        "boot_id": h.boot_id,
    });
    serde_json::to_writer(&mut out, &header)?;
    out.write_all(b"\n")?;
    let mut written = 0;
    for entry in reader.by_ref() {
        let entry = entry?;
        let mut obj = Map::new();
        obj.insert("index".into(), entry.index.into());
        obj.insert("time".into(), rfc3339_ms(entry.time_ms).into());
        if let Value::Object(fields) = serde_json::to_value(&entry.message)? {
            obj.extend(fields);
        }
        serde_json::to_writer(&mut out, &Value::Object(obj))?;
        out.write_all(b"\n")?;
        written += 1;
    }
    if let Some(end) = reader.end() {
        let line = json!({
            "index": end.index,
            "time": rfc3339_ms(end.time_ms),
            "kind": "end",
            "records": end.records,
            "unknown_records": reader.unknown_count(),
            "digest": reader.digest(),
        });
        serde_json::to_writer(&mut out, &line)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(written)
}
