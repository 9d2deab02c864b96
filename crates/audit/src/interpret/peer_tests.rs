//! Compatibility with go-libaudit's auparse goldens (`../shared/peer-testdata`, read in
//! place; skipped when the folder is absent). Each golden holds, per input line, the
//! fields go-libaudit interprets. We compare meaning where both sides interpret a field:
//! arch and syscall names, errno names of failed syscalls, hex-decoded strings, unset
//! ids, signals and socket addresses. Deliberate differences are listed in `differs`.

use super::*;
use crate::parse::parse_line;
use std::path::PathBuf;

/// Fields where we deliberately say something else, and why.
const DELIBERATE: &[(&str, &str)] = &[(
    "old-ses",
    "go-libaudit names only `ses` unset; 4294967295 means unset in every session field",
)];

fn testdata() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/peer-testdata/go-libaudit/auparse/testdata");
    dir.is_dir().then_some(dir)
}

/// What we say a field means, in go-libaudit's vocabulary, or `None` if we do not
/// interpret it (or go-libaudit's value is a different concept under the same key).
fn ours(record: &Record, key: &str) -> Option<String> {
    let field = record.get(key)?;
    let value = field.value;
    Some(match tables::field_kind(key)? {
        FieldKind::Arch => Arch::from_field(value)?.label().into_owned(),
        FieldKind::Syscall => {
            let arch = record.value("arch").and_then(Arch::from_field)?;
            syscall_name(arch, value.parse().ok()?)?.to_string()
        }
        // go-libaudit writes the bare errno name for failures, the number otherwise.
        FieldKind::Exit => match value.parse::<i64>() {
            Ok(n) if n < 0 => errno_name(n)?.to_string(),
            _ => value.to_string(),
        },
        FieldKind::Escaped => field_text(&field).into_owned(),
        FieldKind::Uid | FieldKind::Session if is_unset_id(value) => "unset".to_string(),
        FieldKind::Signal => signal_name(value.parse().ok()?)?.to_string(),
        _ => return None,
    })
}

#[test]
fn agrees_with_go_libaudit_auparse_goldens() {
    let Some(dir) = testdata() else {
        eprintln!("skipped: ../shared/peer-testdata not present");
        return;
    };
    let mut compared = 0usize;
    let mut differ = Vec::new();
    let mut deliberate = 0usize;
    let mut sockaddrs = 0usize;
    let mut files = 0usize;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("log") {
            continue;
        }
        let Ok(golden) = std::fs::read_to_string(path.with_extension("log.golden")) else {
            continue;
        };
        files += 1;
        let golden: Vec<serde_json::Value> = serde_json::from_str(&golden).unwrap();
        let log = std::fs::read(&path).unwrap();
        let lines: Vec<&[u8]> = log
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .collect();
        for (line, expected) in lines.iter().zip(&golden) {
            let (Ok(record), Some(data)) = (parse_line(line), expected.get("data")) else {
                continue;
            };
            let Some(data) = data.as_object() else {
                continue;
            };
            for (key, want) in data {
                let Some(want) = want.as_str() else { continue };
                let Some(got) = ours(&record, key) else {
                    continue;
                };
                compared += 1;
                if got != want && DELIBERATE.iter().any(|(k, _)| k == key) {
                    deliberate += 1;
                } else if got != want {
                    differ.push(format!(
                        "{}: {key}: ours {got:?}, go-libaudit {want:?}",
                        path.display()
                    ));
                }
            }
            if record.record_type() == RecordType::SOCKADDR {
                if let (Some(saddr), Some(addr)) = (record.value("saddr"), data.get("addr")) {
                    let port = data.get("port").and_then(|p| p.as_str());
                    match sockaddr(saddr) {
                        SockAddr::Inet { addr: a, port: p } => {
                            assert_eq!(Some(a.to_string().as_str()), addr.as_str());
                            assert_eq!(port, Some(p.to_string().as_str()));
                        }
                        SockAddr::Inet6 { addr: a, port: p } => {
                            assert_eq!(Some(a.to_string().as_str()), addr.as_str());
                            assert_eq!(port, Some(p.to_string().as_str()));
                        }
                        other => panic!("{saddr}: {other:?} vs {addr}"),
                    }
                    sockaddrs += 1;
                }
            }
        }
    }
    eprintln!(
        "{files} files, {compared} fields compared, {sockaddrs} socket addresses, \
         {deliberate} deliberate differences, {} others",
        differ.len()
    );
    for d in &differ {
        eprintln!("  {d}");
    }
    assert!(files >= 5);
    assert!(compared > 150, "{compared}");
    assert!(sockaddrs >= 2);
    assert!(differ.is_empty(), "{} differences", differ.len());
}
