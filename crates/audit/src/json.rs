//! One record as one JSON object, written straight into a reused buffer.
//!
//! ```text
//! {"type":"PATH","sequence":6,"timestamp":"2026-11-23T10:51:40.841Z","node":null,
//!  "fields":{"item":"0","name":"/usr/bin/sleep",…},
//!  "enriched":{"OUID":"root","OGID":"root"},
//!  "interpreted":{"mode":"file,755","ouid":"root",…}}
//! ```
//!
//! `fields` keeps record order; a key that repeats becomes an array of its values.
//! `enriched` holds auditd's ENRICHED translations as written, `interpreted` the meaning
//! of each field whose meaning differs from its raw text (see [`crate::interpret`]).
//! Hand-written rather than through a map so that a record costs no allocation here.

use crate::interpret::{interpret_field, Arch, NameResolver};
use crate::record::{Field, Origin, Record};

/// Appends `record` as JSON (no trailing newline) to `out`.
pub fn write_record(out: &mut Vec<u8>, record: &Record, resolver: &dyn NameResolver) {
    out.extend_from_slice(b"{\"type\":");
    match record.record_type().name() {
        Some(name) => write_str(out, name),
        None => write_str(out, &record.record_type().to_string()),
    }
    out.extend_from_slice(b",\"sequence\":");
    sshtrail_fmt::decimal::unsigned(out, record.serial());
    out.extend_from_slice(b",\"timestamp\":\"");
    let stamp = record.timestamp();
    sshtrail_fmt::time::rfc3339_millis(out, stamp.sec, stamp.msec);
    out.extend_from_slice(b"\",\"node\":");
    match record.node() {
        Some(node) => write_str(out, node),
        None => out.extend_from_slice(b"null"),
    }

    let fields: Vec<Field<'_>> = record.fields().collect();
    out.extend_from_slice(b",\"fields\":{");
    write_object(
        out,
        fields.iter().filter(|f| f.origin != Origin::Enriched),
        |f| f.value.into(),
    );
    out.push(b'}');

    if fields.iter().any(|f| f.origin == Origin::Enriched) {
        out.extend_from_slice(b",\"enriched\":{");
        write_object(
            out,
            fields.iter().filter(|f| f.origin == Origin::Enriched),
            |f| f.value.into(),
        );
        out.push(b'}');
    }

    let arch = record.value("arch").and_then(Arch::from_field);
    let mut first = true;
    for (i, field) in fields.iter().enumerate() {
        if field.origin == Origin::Enriched || fields[..i].iter().any(|f| f.key == field.key) {
            continue;
        }
        if let Some(meaning) = interpret_field(record, field, arch, resolver) {
            out.extend_from_slice(if first { b",\"interpreted\":{" } else { b"," });
            first = false;
            write_str(out, field.key);
            out.push(b':');
            write_str(out, &meaning);
        }
    }
    if !first {
        out.push(b'}');
    }
    out.push(b'}');
}

/// Writes `"key":value` pairs; a key seen again joins its first occurrence as an array.
fn write_object<'a, 'f>(
    out: &mut Vec<u8>,
    fields: impl Iterator<Item = &'f Field<'a>> + Clone,
    value: impl Fn(&Field<'a>) -> std::borrow::Cow<'a, str>,
) where
    'a: 'f,
{
    let mut first = true;
    for (i, field) in fields.clone().enumerate() {
        if fields.clone().take(i).any(|f| f.key == field.key) {
            continue;
        }
        if !first {
            out.push(b',');
        }
        first = false;
        write_str(out, field.key);
        out.push(b':');
        let same: usize = fields
            .clone()
            .skip(i)
            .filter(|f| f.key == field.key)
            .count();
        if same > 1 {
            out.push(b'[');
            for (j, f) in fields
                .clone()
                .skip(i)
                .filter(|f| f.key == field.key)
                .enumerate()
            {
                if j > 0 {
                    out.push(b',');
                }
                write_str(out, &value(f));
            }
            out.push(b']');
        } else {
            write_str(out, &value(field));
        }
    }
}

/// Appends `s` as a JSON string literal. Control characters (and DEL, so that a
/// terminal showing the output cannot be steered) are escaped.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    sshtrail_fmt::json::string_escaping_del(out, s);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interpret::NoNames;
    use crate::parse::parse_line;

    fn json(line: &str) -> serde_json::Value {
        let record = parse_line(line.as_bytes()).unwrap();
        let mut out = Vec::new();
        write_record(&mut out, &record, &NoNames);
        serde_json::from_slice(&out).unwrap()
    }

    #[test]
    fn shape_order_and_repeats() {
        let v = json("node=h1 type=USER_ACCT msg=audit(1700000000.5:9): pid=1 a=1 b=\"x\\\" a=2\x1dUID=\"root\"");
        assert_eq!(v["type"], "USER_ACCT");
        assert_eq!(v["sequence"], 9);
        assert_eq!(v["timestamp"], "2023-11-14T22:13:20.005Z");
        assert_eq!(v["node"], "h1");
        assert_eq!(v["fields"]["a"], serde_json::json!(["1", "2"]));
        assert_eq!(v["fields"]["b"], "x\\");
        assert_eq!(v["enriched"]["UID"], "root");
        let keys: Vec<&String> = v["fields"].as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 3);
    }

    proptest::proptest! {
        /// The fast path agrees with serde_json on every string, byte for byte after
        /// parsing back, and never lets a control byte through raw.
        #[test]
        fn escaping_round_trips(s in ".*", bytes in proptest::collection::vec(0u8..0x80, 0..64)) {
            for text in [s, String::from_utf8(bytes).unwrap()] {
                let mut out = Vec::new();
                write_str(&mut out, &text);
                let back: String = serde_json::from_slice(&out).unwrap();
                proptest::prop_assert_eq!(&back, &text);
                proptest::prop_assert!(out.iter().all(|b| *b >= 0x20 && *b != 0x7f));
            }
        }
    }

    #[test]
    fn control_bytes_are_escaped() {
        let mut out = Vec::new();
        write_str(&mut out, "a\u{1b}[31m\"\u{7f}é");
        let back: String = serde_json::from_slice(&out).unwrap();
        assert_eq!(back, "a\u{1b}[31m\"\u{7f}é");
    }
}
