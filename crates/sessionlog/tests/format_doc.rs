//! FORMAT.md is the specification: this test reads its tables and checks the code against
//! them, then decodes a real log with a second decoder driven only by the document.

mod common;

use std::collections::BTreeMap;

use base64::Engine;
use serde_json::{json, Map, Value};
use sshtrail_sessionlog::codec::{self, kinds};

use common::{header, log_of, one_of_each};

const DOC: &str = include_str!("../FORMAT.md");

/// Every markdown table in the document, keyed by its first header cell.
fn tables() -> BTreeMap<String, Vec<Vec<String>>> {
    let mut out: BTreeMap<String, Vec<Vec<String>>> = BTreeMap::new();
    let lines: Vec<&str> = DOC.lines().collect();
    let cells = |l: &str| -> Vec<String> {
        let l = l.trim().trim_start_matches('|').trim_end_matches('|');
        l.split('|')
            .map(|c| {
                c.trim()
                    .trim_matches('`')
                    .replace("&lt;", "<")
                    .replace("&gt;", ">")
            })
            .collect()
    };
    let mut i = 0;
    while i + 1 < lines.len() {
        if lines[i].starts_with('|') && lines[i + 1].starts_with("|---") {
            let name = cells(lines[i])[0].clone();
            let mut rows = Vec::new();
            i += 2;
            while i < lines.len() && lines[i].starts_with('|') {
                rows.push(cells(lines[i]));
                i += 1;
            }
            out.insert(name, rows);
        } else {
            i += 1;
        }
    }
    out
}

fn numbered(table: &[Vec<String>]) -> Vec<(u64, String)> {
    table
        .iter()
        .map(|r| (r[0].parse().unwrap(), r[1].clone()))
        .collect()
}

#[test]
fn constants_match() {
    let t = tables();
    let constants: BTreeMap<String, String> = t["constant"]
        .iter()
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect();
    assert_eq!(constants["magic"].as_bytes(), &codec::MAGIC);
    assert_eq!(constants["version"], codec::VERSION.to_string());
    assert_eq!(
        constants["preamble length"],
        codec::PREAMBLE_LEN.to_string()
    );
    assert_eq!(constants["flag lz4"], format!("{:#04x}", codec::FLAG_LZ4));
    assert_eq!(codec::KNOWN_FLAGS, codec::FLAG_LZ4, "document every flag");
    assert_eq!(constants["link length"], codec::LINK_LEN.to_string());
    assert_eq!(constants["max payload"], codec::MAX_PAYLOAD.to_string());
    assert_eq!(constants["compress min"], codec::COMPRESS_MIN.to_string());
    assert_eq!(
        constants.len(),
        7,
        "a constant was added to the document only"
    );
    // The frame layout table adds up to the code's framing overhead.
    let layout = &t["bytes"];
    let fixed: usize = layout
        .iter()
        .filter_map(|r| r[0].parse::<usize>().ok())
        .sum();
    assert_eq!(fixed, codec::FRAME_HEAD_LEN + codec::FRAME_TAIL_LEN);
}

#[test]
fn kind_method_and_stream_tables_match() {
    let t = tables();
    let doc: Vec<(u64, String)> = numbered(&t["kind"]);
    let code: Vec<(u64, String)> = kinds::KINDS
        .iter()
        .map(|(n, s)| (*n, s.to_string()))
        .collect();
    assert_eq!(doc, code);
    let code: Vec<(u64, String)> = kinds::AUTH_METHODS
        .iter()
        .map(|(n, s)| (*n, s.to_string()))
        .collect();
    assert_eq!(numbered(&t["method"]), code);
    let code: Vec<(u64, String)> = kinds::STREAMS
        .iter()
        .map(|(n, s)| (*n, s.to_string()))
        .collect();
    assert_eq!(numbered(&t["stream"]), code);
}

/// `name type, name type, …` from a fields cell.
fn fields(cell: &str) -> Vec<(String, String)> {
    cell.split(", ")
        .filter(|f| !f.is_empty())
        .map(|f| {
            let (name, ty) = f.split_once(' ').unwrap();
            (name.to_string(), ty.to_string())
        })
        .collect()
}

/// A decoder written from FORMAT.md alone, producing the JSON shape of the message.
struct DocDecoder {
    kinds: BTreeMap<u64, (String, Vec<(String, String)>)>,
    methods: BTreeMap<u64, (String, Vec<(String, String)>)>,
    streams: BTreeMap<u64, String>,
}

impl DocDecoder {
    fn new() -> Self {
        let t = tables();
        let table = |name: &str| {
            t[name]
                .iter()
                .map(|r| (r[0].parse().unwrap(), (r[1].clone(), fields(&r[2]))))
                .collect()
        };
        DocDecoder {
            kinds: table("kind"),
            methods: table("method"),
            streams: numbered(&t["stream"]).into_iter().collect(),
        }
    }

    fn varint(p: &mut &[u8]) -> u64 {
        let mut v = 0u64;
        for shift in (0..70).step_by(7) {
            let b = p[0];
            *p = &p[1..];
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                break;
            }
        }
        v
    }

    fn value(&self, ty: &str, p: &mut &[u8]) -> Value {
        if let Some(inner) = ty.strip_prefix("opt<").and_then(|t| t.strip_suffix('>')) {
            let present = p[0];
            *p = &p[1..];
            return if present == 1 {
                self.value(inner, p)
            } else {
                Value::Null
            };
        }
        if let Some(inner) = ty.strip_prefix("list<").and_then(|t| t.strip_suffix('>')) {
            let n = Self::varint(p);
            return (0..n).map(|_| self.value(inner, p)).collect();
        }
        match ty {
            "varint" => Self::varint(p).into(),
            "bool" => {
                let b = p[0];
                *p = &p[1..];
                (b == 1).into()
            }
            "str" | "bytes" => {
                let n = Self::varint(p) as usize;
                let (raw, rest) = p.split_at(n);
                *p = rest;
                if ty == "str" {
                    String::from_utf8(raw.to_vec()).unwrap().into()
                } else {
                    base64::engine::general_purpose::STANDARD.encode(raw).into()
                }
            }
            "map" => {
                let n = Self::varint(p);
                let mut m = Map::new();
                for _ in 0..n {
                    let k = self.value("str", p);
                    let v = self.value("str", p);
                    m.insert(k.as_str().unwrap().to_string(), v);
                }
                Value::Object(m)
            }
            "stream" => self.streams[&Self::varint(p)].clone().into(),
            "method" => {
                let (name, fields) = &self.methods[&Self::varint(p)];
                let mut m = Map::new();
                m.insert("type".into(), name.clone().into());
                for (f, t) in fields {
                    m.insert(f.clone(), self.value(t, p));
                }
                Value::Object(m)
            }
            other => panic!("FORMAT.md uses undefined type {other:?}"),
        }
    }

    /// Frames per the document's layout; payloads decoded per its tables.
    fn decode_log(&self, bytes: &[u8]) -> Vec<Value> {
        let mut out = Vec::new();
        let mut rest = &bytes[12..];
        while !rest.is_empty() {
            let len = u32::from_le_bytes(rest[..4].try_into().unwrap()) as usize;
            assert_eq!(rest[4], 0, "these fixtures are small: stored uncompressed");
            let mut p = &rest[13..13 + len];
            rest = &rest[13 + len + 4..];
            let time = Self::varint(&mut p);
            let (name, fields) = &self.kinds[&Self::varint(&mut p)];
            let mut m = Map::new();
            m.insert("kind".into(), name.clone().into());
            m.insert("time".into(), time.into());
            for (f, t) in fields {
                m.insert(f.clone(), self.value(t, &mut p));
            }
            assert!(p.is_empty(), "{name}: the document lists every field");
            out.push(Value::Object(m));
        }
        out
    }
}

#[test]
fn a_decoder_written_from_the_document_reads_every_kind() {
    let messages = one_of_each();
    let (bytes, _) = log_of(&messages);
    let decoded = DocDecoder::new().decode_log(&bytes);
    assert_eq!(decoded.len(), messages.len() + 2);

    let h = header();
    assert_eq!(
        decoded[0],
        json!({"kind": "header", "time": h.created_ms, "session_id": h.session_id,
               "host": h.host, "machine_id": h.machine_id, "boot_id": h.boot_id})
    );
    for (i, m) in messages.iter().enumerate() {
        let expected = serde_json::to_value(m).unwrap();
        let mut got = decoded[i + 1].clone();
        got.as_object_mut().unwrap().remove("time");
        // serde leaves out nothing, so the key sets must be equal too.
        assert_eq!(got, expected, "kind {}", m.kind_name());
    }
    let end = decoded.last().unwrap();
    assert_eq!(end["kind"], "end");
    assert_eq!(end["records"], messages.len() as u64);
}

#[test]
fn every_message_kind_is_in_the_document_with_its_json_fields() {
    let d = DocDecoder::new();
    for m in one_of_each() {
        let json = serde_json::to_value(&m).unwrap();
        let mut keys: Vec<String> = json.as_object().unwrap().keys().cloned().collect();
        keys.retain(|k| k != "kind");
        keys.sort();
        let (_, (_, fields)) = d
            .kinds
            .iter()
            .find(|(_, (name, _))| name == m.kind_name())
            .unwrap();
        let mut doc: Vec<String> = fields.iter().map(|(f, _)| f.clone()).collect();
        doc.sort();
        assert_eq!(doc, keys, "{}", m.kind_name());
    }
}
