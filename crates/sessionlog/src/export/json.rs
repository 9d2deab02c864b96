//! JSON lines: the header, one object per record, and the seal.

use std::io::{BufWriter, Read, Write};

use serde::Serialize;

use super::time::rfc3339_ms;
use crate::{Error, Reader};

#[derive(Serialize)]
struct HeaderLine<'a> {
    kind: &'static str,
    time: String,
    format_version: u16,
    session_id: &'a str,
    host: &'a str,
    machine_id: &'a str,
    boot_id: &'a str,
}

#[derive(Serialize)]
struct EndLine {
    index: u64,
    time: String,
    kind: &'static str,
    records: u64,
    unknown_records: u64,
    digest: String,
}

/// Writes one JSON object per line: first the header (`"kind":"header"`, with the format
/// version), then every record as `{"index", "time", "kind", …fields}` in that order (byte
/// fields in base64), then, when the log is sealed, `{"index", "time", "kind":"end",
/// "records", "unknown_records", "digest"}`. Returns the number of records written.
pub fn json_lines<R: Read>(mut reader: Reader<R>, out: &mut dyn Write) -> Result<u64, Error> {
    let mut out = BufWriter::new(out);
    let h = reader.header();
    let header = HeaderLine {
        kind: "header",
        time: rfc3339_ms(h.created_ms),
        format_version: crate::codec::VERSION,
        session_id: &h.session_id,
        host: &h.host,
        machine_id: &h.machine_id,
        boot_id: &h.boot_id,
    };
    serde_json::to_writer(&mut out, &header)?;
    out.write_all(b"\n")?;
    let mut written = 0;
    for entry in reader.by_ref() {
        let entry = entry?;
        // The message serialises as `{"kind":…, fields…}` (tag first, fields in declaration
        // order); index and time go in front of it.
        let message = serde_json::to_string(&entry.message)?;
        let fields = message.strip_prefix('{').unwrap_or(&message);
        writeln!(
            out,
            "{{\"index\":{},\"time\":\"{}\",{fields}",
            entry.index,
            rfc3339_ms(entry.time_ms)
        )?;
        written += 1;
    }
    if let Some(end) = reader.end() {
        let line = EndLine {
            index: end.index,
            time: rfc3339_ms(end.time_ms),
            kind: "end",
            records: end.records,
            unknown_records: reader.unknown_count(),
            digest: reader.digest(),
        };
        serde_json::to_writer(&mut out, &line)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(written)
}
