//! Compatibility with two peer projects, checked against their own goldens read in place
//! from `../shared/peer-testdata` (never copied into this repository). Every test skips,
//! with a note, when that folder is absent.
//!
//! * go-libaudit `aucoalesce`: per named case, the coalesced event's action, object type
//!   and primary, result and session must agree with the golden in ≥ 95% of the cases.
//!   A case that differs agrees only when the difference is listed in
//!   `coalesce::DELIBERATE_DIFFERENCES` with its reason.
//! * audito-maldito: action, how and object of every UserAction it emitted for a real
//!   SSH session, by audit sequence number (same 95% bar, same list).
//! * go-libaudit `auparse`: every line the golden parsed has the same record type,
//!   sequence and time stamp here.

use serde_json::Value;
use sshtrail_audit::coalesce::{coalesce, CoalescedEvent, Coalescer, DELIBERATE_DIFFERENCES};
use sshtrail_audit::interpret::NoNames;
use sshtrail_audit::{parse_line, Record};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

fn peer_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/peer-testdata");
    if dir.is_dir() {
        Some(dir)
    } else {
        println!(
            "note: {} is absent; peer compatibility not checked",
            dir.display()
        );
        None
    }
}

/// The cases of an aucoalesce yaml file: `tests:`, then `  name: |` (or `>`), then the
/// case's lines indented by four spaces. `|` keeps line breaks; `>` folds lines into one.
fn read_yaml_cases(text: &str) -> Vec<(String, Vec<String>)> {
    let mut cases: Vec<(String, Vec<String>)> = Vec::new();
    let mut folded = false;
    let mut in_tests = false;
    for line in text.lines() {
        if line.trim_end() == "tests:" {
            in_tests = true;
            continue;
        }
        if !in_tests || line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        if let Some(body) = line.strip_prefix("    ") {
            let Some((_, lines)) = cases.last_mut() else {
                continue;
            };
            match (folded, lines.last_mut()) {
                (true, Some(last)) => {
                    last.push(' ');
                    last.push_str(body);
                }
                _ => lines.push(body.to_string()),
            }
        } else if let Some(header) = line.strip_prefix("  ") {
            let header = header.trim_end();
            if let Some((name, style)) = header.rsplit_once(": ") {
                folded = style.starts_with('>');
                cases.push((name.to_string(), Vec::new()));
            }
        }
    }
    cases
}

fn parse_all(lines: &[String]) -> Vec<Record> {
    lines
        .iter()
        .filter_map(|l| match parse_line(l.as_bytes()) {
            Ok(r) => Some(r),
            Err(e) => {
                println!("  unparsed line ({e}): {l}");
                None
            }
        })
        .collect()
}

fn is_deliberate(peer: &str, case: &str, field: &str) -> bool {
    DELIBERATE_DIFFERENCES
        .iter()
        .any(|d| d.covers(peer, case, field))
}

/// Compares named fields; returns (agrees counting listed differences, agrees exactly,
/// description of differences).
fn compare(
    peer: &str,
    case: &str,
    pairs: &[(&str, Option<String>, Option<String>)],
) -> (bool, bool, Vec<String>) {
    let mut agree = true;
    let mut exact = true;
    let mut notes = Vec::new();
    for (field, ours, theirs) in pairs {
        // An empty string and an absent value mean the same (audito-maldito writes "").
        let norm = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
        if norm(ours) != norm(theirs) {
            let deliberate = is_deliberate(peer, case, field);
            agree &= deliberate;
            exact = false;
            notes.push(format!(
                "{case}: {field}: ours {:?}, theirs {:?}{}",
                ours,
                theirs,
                if deliberate { " (deliberate)" } else { "" }
            ));
        }
    }
    (agree, exact, notes)
}

/// Every listed difference for `peer` must still occur: a stale entry would hide a
/// regression later.
fn assert_no_stale_differences(peer: &str, notes: &[String]) {
    for d in DELIBERATE_DIFFERENCES.iter().filter(|d| d.peer == peer) {
        for case in d.cases {
            for field in d.fields {
                let prefix = format!("{case}: {field}: ");
                assert!(
                    notes.iter().any(|n| n.starts_with(&prefix)),
                    "listed difference no longer occurs: {prefix}"
                );
            }
        }
    }
}

fn golden_str(v: &Value, path: &[&str]) -> Option<String> {
    let mut v = v;
    for key in path {
        v = v.get(key)?;
    }
    v.as_str().map(str::to_string)
}

fn ours(ev: &CoalescedEvent) -> [(&'static str, Option<String>); 5] {
    [
        ("action", ev.summary.action.map(str::to_string)),
        ("object.type", ev.summary.object.kind.map(str::to_string)),
        (
            "object.primary",
            ev.summary.object.primary.as_deref().map(str::to_string),
        ),
        ("result", Some(ev.result.as_str().to_string())),
        ("session", ev.session.as_deref().map(str::to_string)),
    ]
}

#[test]
fn aucoalesce_goldens_agree() {
    let Some(dir) = peer_dir() else { return };
    let dir = dir.join("go-libaudit/aucoalesce/testdata");
    let mut files: Vec<_> = fs::read_dir(&dir)
        .expect("peer testdata readable")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    let (mut total, mut agreed, mut exact) = (0usize, 0usize, 0usize);
    // The measure: agreement on action, object, result and session, compared one
    // field at a time, listed differences counted as disagreements.
    let (mut fields_total, mut fields_differing) = (0usize, 0usize);
    let mut disagreements = Vec::new();
    for yaml in &files {
        let golden_path = yaml.with_extension("json.golden");
        let golden: Value = serde_json::from_str(&fs::read_to_string(&golden_path).unwrap())
            .expect("golden is JSON");
        let by_name: BTreeMap<&str, &Value> = golden
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|c| Some((c.get("test_name")?.as_str()?, c.get("event")?)))
            .collect();
        let cases = read_yaml_cases(&fs::read_to_string(yaml).unwrap());
        assert!(!cases.is_empty(), "no cases read from {}", yaml.display());
        let (mut file_total, mut file_agreed) = (0, 0);
        for (name, lines) in &cases {
            let Some(expected) = by_name.get(name.as_str()) else {
                panic!("{}: no golden for case {name}", yaml.display());
            };
            let records = parse_all(lines);
            let event = coalesce(&records, &NoNames);
            // The fast JSON writer agrees with serde on these events too.
            let mut fast = Vec::new();
            Coalescer::new(&NoNames)
                .write_json(&records, &mut fast)
                .unwrap();
            let mut slow = serde_json::to_vec(&event).unwrap();
            slow.push(b'\n');
            assert_eq!(fast, slow, "{name}: JSON writers differ");
            let theirs = [
                golden_str(expected, &["summary", "action"]),
                golden_str(expected, &["summary", "object", "type"]),
                golden_str(expected, &["summary", "object", "primary"]),
                golden_str(expected, &["result"]),
                golden_str(expected, &["session"]),
            ];
            let pairs: Vec<_> = ours(&event)
                .into_iter()
                .zip(theirs)
                .map(|((field, o), t)| (field, o, t))
                .collect();
            let (ok, same, notes) = compare("go-libaudit", name, &pairs);
            fields_total += pairs.len();
            fields_differing += notes.len();
            exact += usize::from(same);
            file_total += 1;
            file_agreed += usize::from(ok);
            disagreements.extend(notes);
        }
        println!(
            "{}: {file_agreed}/{file_total} cases agree ({:.1}%)",
            yaml.file_name().unwrap().to_string_lossy(),
            100.0 * file_agreed as f64 / file_total as f64
        );
        total += file_total;
        agreed += file_agreed;
    }
    println!("differences:");
    for d in &disagreements {
        println!("  {d}");
    }
    let pct = 100.0 * agreed as f64 / total as f64;
    println!("aucoalesce overall: {agreed}/{total} cases agree ({pct:.1}%)");
    println!(
        "aucoalesce without the listed differences: {exact}/{total} ({:.1}%)",
        100.0 * exact as f64 / total as f64
    );
    let field_pct = 100.0 * (fields_total - fields_differing) as f64 / fields_total as f64;
    println!(
        "aucoalesce fields (action, object type, object primary, result, session) \
         identical: {}/{fields_total} ({field_pct:.1}%)",
        fields_total - fields_differing
    );
    assert!(
        field_pct >= 95.0,
        "field agreement {field_pct:.1}% is below 95% even before listed differences"
    );
    assert_no_stale_differences("go-libaudit", &disagreements);
    assert!(
        total >= 40,
        "expected the full set of golden cases, read {total}"
    );
    assert!(pct >= 95.0, "agreement {pct:.1}% is below 95%");
}

#[test]
fn audito_maldito_user_actions_agree() {
    let Some(dir) = peer_dir() else { return };
    let dir = dir.join("audito-maldito");
    let mut logs: Vec<_> = fs::read_dir(dir.join("auditd-good"))
        .expect("auditd-good readable")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    logs.sort();
    // Group records into events by serial, in order of first appearance.
    let mut events: BTreeMap<u64, Vec<Record>> = BTreeMap::new();
    let mut unparsed = 0;
    for log in &logs {
        let bytes = fs::read(log).unwrap();
        for line in bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            match parse_line(line) {
                Ok(r) => events.entry(r.serial()).or_default().push(r),
                Err(_) => unparsed += 1,
            }
        }
    }
    assert_eq!(unparsed, 0, "every line of the real log parses");
    let expected = fs::read_to_string(dir.join("expected-useraction-extra.jsonl")).unwrap();
    let (mut total, mut agreed, mut exact) = (0, 0, 0);
    let mut disagreements = Vec::new();
    for line in expected.lines().filter(|l| !l.trim().is_empty()) {
        let want: Value = serde_json::from_str(line).expect("expected line is JSON");
        let seq = want["sequence"].as_u64().expect("sequence");
        let case = format!("seq {seq} {}", want["action"].as_str().unwrap_or(""));
        let records = events.get(&seq).map(Vec::as_slice).unwrap_or(&[]);
        let ev = coalesce(records, &NoNames);
        let pairs = [
            (
                "action",
                ev.summary.action.map(str::to_string),
                golden_str(&want, &["action"]),
            ),
            (
                "how",
                ev.summary.how.as_deref().map(str::to_string),
                golden_str(&want, &["how"]),
            ),
            (
                "object.type",
                ev.summary.object.kind.map(str::to_string),
                golden_str(&want, &["object", "type"]),
            ),
            (
                "object.primary",
                ev.summary.object.primary.as_deref().map(str::to_string),
                golden_str(&want, &["object", "primary"]),
            ),
            (
                "object.secondary",
                ev.summary.object.secondary.as_deref().map(str::to_string),
                golden_str(&want, &["object", "secondary"]),
            ),
        ];
        let (ok, same, notes) = compare("audito-maldito", &case, &pairs);
        exact += usize::from(same);
        total += 1;
        agreed += usize::from(ok);
        disagreements.extend(notes);
    }
    println!("differences:");
    for d in &disagreements {
        println!("  {d}");
    }
    let pct = 100.0 * agreed as f64 / total as f64;
    println!("audito-maldito: {agreed}/{total} UserActions agree ({pct:.1}%)");
    println!(
        "audito-maldito without the listed differences: {exact}/{total} ({:.1}%)",
        100.0 * exact as f64 / total as f64
    );
    assert_no_stale_differences("audito-maldito", &disagreements);
    assert!(
        total >= 200,
        "expected the full list of UserActions, read {total}"
    );
    assert!(pct >= 95.0, "agreement {pct:.1}% is below 95%");
}

/// go-libaudit writes `…:33Z` and `…:23.17Z`: milliseconds with trailing zeros dropped.
fn go_time(rfc3339: &str) -> String {
    let body = rfc3339.trim_end_matches('Z');
    let body = if body.contains('.') {
        body.trim_end_matches('0').trim_end_matches('.')
    } else {
        body
    };
    format!("{body}Z")
}

#[test]
fn auparse_goldens_parse_alike() {
    let Some(dir) = peer_dir() else { return };
    let dir = dir.join("go-libaudit/auparse/testdata");
    let mut logs: Vec<_> = fs::read_dir(&dir)
        .expect("auparse testdata readable")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .collect();
    logs.sort();
    let mut checked = 0;
    let mut failures = Vec::new();
    for log in &logs {
        let golden: Value =
            serde_json::from_str(&fs::read_to_string(log.with_extension("log.golden")).unwrap())
                .expect("golden is JSON");
        let golden = golden.as_array().expect("golden is an array");
        let bytes = fs::read(log).unwrap();
        let mut lines: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
        if lines.last().is_some_and(|l| l.is_empty()) {
            lines.pop();
        }
        assert_eq!(
            lines.len(),
            golden.len(),
            "{}: one golden per line",
            log.display()
        );
        for (n, (line, want)) in lines.iter().zip(golden).enumerate() {
            if want.is_null() {
                continue;
            }
            checked += 1;
            let at = format!("{}:{}", log.file_name().unwrap().to_string_lossy(), n + 1);
            let record = match parse_line(line) {
                Ok(r) => r,
                Err(e) => {
                    failures.push(format!("{at}: does not parse: {e}"));
                    continue;
                }
            };
            let ours_type = record.record_type().to_string().to_ascii_lowercase();
            let theirs_type = want["record_type"].as_str().unwrap_or_default();
            if ours_type != theirs_type {
                failures.push(format!("{at}: type {ours_type} vs {theirs_type}"));
            }
            if Some(record.serial()) != want["sequence"].as_u64() {
                failures.push(format!(
                    "{at}: sequence {} vs {}",
                    record.serial(),
                    want["sequence"]
                ));
            }
            let ours_time = go_time(&record.timestamp().to_rfc3339());
            if ours_time != want["@timestamp"].as_str().unwrap_or_default() {
                failures.push(format!("{at}: time {ours_time} vs {}", want["@timestamp"]));
            }
        }
    }
    println!("auparse: {checked} lines checked");
    assert!(
        checked >= 70,
        "expected the full set of golden lines, checked {checked}"
    );
    assert!(
        failures.is_empty(),
        "disagreements:\n{}",
        failures.join("\n")
    );
}

#[test]
fn yaml_reader_reads_both_block_styles() {
    let text = "---\ntests:\n  # a comment\n  one: |\n    line a\n    line b\n\n  two words: >\n    folded\n    together\n";
    let cases = read_yaml_cases(text);
    assert_eq!(cases.len(), 2);
    assert_eq!(
        cases[0],
        (
            "one".to_string(),
            vec!["line a".to_string(), "line b".to_string()]
        )
    );
    assert_eq!(
        cases[1],
        ("two words".to_string(), vec!["folded together".to_string()])
    );
}
