//! Rule text → kernel bytes, checked against go-libaudit's goldens: auditctl text and
//! the exact `audit_rule_data` the kernel returned for it (captured by go-libaudit on
//! x86_64 and aarch64 hosts with auditctl 3.0/3.1). Read in place from the shared peer
//! test data; the test skips when that directory is absent.

use sshtrail_audit::interpret::Arch;
use sshtrail_audit::rule::{format_rule, split_words, Command, RuleData, RuleParser, HEADER_LEN};
use std::path::PathBuf;

fn testdata() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/peer-testdata/go-libaudit/rule/testdata");
    dir.is_dir().then_some(dir)
}

/// Standard base64 (the YAML `!!binary` blocks), whitespace ignored.
fn base64(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => continue,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

/// (header line naming the machine, [(auditctl text, bytes)]).
fn read_golden(text: &str) -> (String, Vec<(String, Vec<u8>)>) {
    let header = text.lines().next().unwrap_or_default().to_string();
    // (flags, base64, bytes started): a long plain scalar continues on indented lines
    // before `bytes:`.
    let mut rules: Vec<(String, String, bool)> = Vec::new();
    for line in text.lines() {
        if let Some(flags) = line.strip_prefix("- flags: ") {
            rules.push((flags.to_string(), String::new(), false));
        } else if let Some(b) = line.trim_start().strip_prefix("bytes: !!binary") {
            if let Some(last) = rules.last_mut() {
                last.1.push_str(b.trim_start_matches([' ', '|']));
                last.2 = true;
            }
        } else if line.starts_with("    ") {
            if let Some(last) = rules.last_mut() {
                if last.2 {
                    last.1.push_str(line.trim());
                } else {
                    last.0.push(' ');
                    last.0.push_str(line.trim());
                }
            }
        }
    }
    let rules = rules.into_iter().map(|(f, b, _)| (f, base64(&b))).collect();
    (header, rules)
}

#[test]
fn encoding_matches_go_libaudit_goldens_byte_for_byte() {
    let Some(dir) = testdata() else {
        eprintln!("skipped: go-libaudit peer test data not found");
        return;
    };
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".yml"))
        .collect();
    files.sort();
    let (mut checked, mut failures) = (0, Vec::new());
    for file in &files {
        let (header, rules) = read_golden(&std::fs::read_to_string(file).unwrap());
        // The goldens name the machine in their first line; rule_data.yml has none and
        // its syscall numbers are x86_64's.
        let arch = if header.contains("aarch64") {
            Arch::Aarch64
        } else {
            Arch::X86_64
        };
        let parser = RuleParser::new(arch);
        for (flags, bytes) in rules {
            assert!(
                !bytes.is_empty(),
                "{}: no bytes for {flags}",
                file.display()
            );
            // The kernel pads its reply to 4 bytes after the string buffer: the rule
            // itself ends at header + buflen, the rest must be zero padding.
            let decoded = RuleData::decode(&bytes).unwrap();
            let end = HEADER_LEN + decoded.buf.len();
            let (bytes, pad) = bytes.split_at(end);
            assert!(
                pad.len() < 4 && pad.iter().all(|b| *b == 0),
                "{flags}: trailing {pad:?}"
            );
            // go-libaudit's generator created the watched paths under /tmp/audit-test
            // before running auditctl, the ones written with a trailing slash as
            // directories: stand in for that machine's file system.
            let words = split_words(&flags).unwrap();
            let dir_watch = words
                .windows(2)
                .any(|w| w[0] == "-w" && w[1].ends_with('/'));
            let parser = parser.with_dir_probe(if dir_watch { |_| true } else { |_| false });
            let ours = match parser.parse_line(&flags) {
                Ok(Command::Add(mut rule)) => {
                    // The kernel expands the 16 syscall-class bits at the top of the last
                    // mask word into the syscalls they stand for and clears them, so its
                    // listing (the golden) never has them: do the same to what we send.
                    rule.mask[63] &= 0x0000_ffff;
                    rule.encode()
                }
                other => {
                    failures.push(format!("{flags}: parsed as {other:?}"));
                    continue;
                }
            };
            checked += 1;
            if ours != bytes {
                failures.push(format!("{flags}\n  {}", diff(&decoded, &ours)));
            }
            // Decoding the golden and encoding it again gives the same bytes.
            assert_eq!(decoded.encode(), bytes, "{flags}: decode/encode round trip");
            let _ = format_rule(&decoded, arch);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checked > 100, "only {checked} golden rules found");
    eprintln!("{checked} golden rules encode byte-exact");
}

/// What differs between the golden rule and ours, field by field.
fn diff(golden: &RuleData, ours: &[u8]) -> String {
    let ours = match RuleData::decode(ours) {
        Ok(r) => r,
        Err(e) => return format!("ours does not decode: {e}"),
    };
    let mut out = Vec::new();
    if (golden.flags, golden.action) != (ours.flags, ours.action) {
        out.push(format!(
            "flags/action golden {:?} ours {:?}",
            (golden.flags, golden.action),
            (ours.flags, ours.action)
        ));
    }
    for (i, (g, o)) in golden.mask.iter().zip(ours.mask.iter()).enumerate() {
        if g != o {
            out.push(format!("mask[{i}] golden {g:#x} ours {o:#x}"));
        }
    }
    if golden.fields != ours.fields {
        out.push(format!(
            "fields golden {:?}\n  ours {:?}",
            golden.fields, ours.fields
        ));
    }
    if golden.buf != ours.buf {
        out.push(format!(
            "buf golden {:?} ours {:?}",
            String::from_utf8_lossy(&golden.buf),
            String::from_utf8_lossy(&ours.buf)
        ));
    }
    out.join("\n  ")
}
