//! Interpretation of real records: `testdata/interpret.log` was written by this machine's
//! auditd (ENRICHED format) while `testdata/capture.sh` ran. auditd's own translations
//! after the 0x1D separator (ARCH, SYSCALL, UID, SADDR, …) serve as the oracle.

use super::*;
use crate::parse::parse_line;

const LOG: &str = include_str!("testdata/interpret.log");

fn records() -> Vec<Record> {
    LOG.lines()
        .map(|line| parse_line(line.as_bytes()).expect("fixture line parses"))
        .collect()
}

/// All records of the event with `serial`.
fn event(records: &[Record], serial: u64) -> Vec<&Record> {
    records.iter().filter(|r| r.serial() == serial).collect()
}

/// The serial of the first EXECVE whose `a0` is `program`.
fn exec_serial(records: &[Record], program: &str) -> u64 {
    records
        .iter()
        .find(|r| {
            r.record_type() == RecordType::EXECVE
                && r.get("a0").map(|f| decode_bare(&f)).as_deref() == Some(program)
        })
        .map(|r| r.serial())
        .unwrap_or_else(|| panic!("no exec of {program} in the fixture"))
}

fn interpret<'a>(record: &'a Record, key: &str) -> Option<Cow<'a, str>> {
    let field = record.get(key)?;
    interpret_field(record, &field, None, &NoNames)
}

#[test]
fn every_field_of_every_record_interprets_without_panicking() {
    let records = records();
    assert!(records.len() > 100);
    let mut interpreted = 0;
    for record in &records {
        for field in record.fields() {
            if let Some(text) = interpret_field(record, &field, None, &SystemNames::new()) {
                assert_ne!(
                    text, field.value,
                    "{}: interpretation equals raw",
                    field.key
                );
                interpreted += 1;
            }
        }
    }
    assert!(interpreted > 500, "only {interpreted} fields interpreted");
}

#[test]
fn arch_and_syscall_agree_with_auditd() {
    let records = records();
    let mut checked = 0;
    for record in records
        .iter()
        .filter(|r| r.record_type() == RecordType::SYSCALL)
    {
        assert_eq!(
            interpret(record, "arch").as_deref(),
            record.enriched("ARCH")
        );
        assert_eq!(
            interpret(record, "syscall").as_deref(),
            record.enriched("SYSCALL")
        );
        checked += 1;
    }
    assert!(checked > 20);
}

#[test]
fn ids_agree_with_auditd() {
    let records = records();
    let mut checked = 0;
    for record in &records {
        for field in record.fields().filter(|f| f.origin == Origin::Raw) {
            let kind = tables::field_kind(field.key);
            if !matches!(kind, Some(FieldKind::Uid | FieldKind::Gid)) {
                continue;
            }
            let upper = field.key.to_ascii_uppercase();
            let Some(expected) = record.enriched(&upper) else {
                continue;
            };
            // With ENRICHED names present the resolver is never needed.
            let got = interpret_field(record, &field, None, &NoNames);
            assert_eq!(got.as_deref(), Some(expected), "{}", field.key);
            assert_eq!(
                uid_name(record, field.key, &NoNames).as_deref(),
                Some(expected)
            );
            checked += 1;
        }
    }
    assert!(checked > 100, "{checked}");
}

#[test]
fn socket_addresses_agree_with_auditd() {
    let records = records();
    let mut families = Vec::new();
    for record in records
        .iter()
        .filter(|r| r.record_type() == RecordType::SOCKADDR)
    {
        let saddr = record.value("saddr").unwrap();
        // auditd writes `SADDR={ saddr_fam=inet laddr=… lport=… }` with spaces and no
        // quotes, so it is read from the record text rather than as one field.
        let text = record.text();
        let oracle = text
            .find("SADDR={")
            .map(|at| &text[at..])
            .and_then(|t| t.split_once('}'))
            .map(|(inner, _)| inner)
            .unwrap();
        let part = |name: &str| {
            oracle
                .split_whitespace()
                .find_map(|w| w.strip_prefix(name)?.strip_prefix('='))
                .unwrap_or_else(|| panic!("{name} in {oracle}"))
                .to_string()
        };
        match sockaddr(saddr) {
            SockAddr::Inet { addr, port } => {
                assert_eq!(addr.to_string(), part("laddr"));
                assert_eq!(port.to_string(), part("lport"));
                families.push("inet");
            }
            SockAddr::Inet6 { addr, port } => {
                assert_eq!(addr.to_string(), part("laddr"));
                assert_eq!(port.to_string(), part("lport"));
                families.push("inet6");
            }
            SockAddr::Unix { path } => {
                // auditd drops the abstract namespace's leading NUL; we show it as '@'.
                assert_eq!(path.trim_start_matches('@'), part("path"));
                families.push(if path.starts_with('@') {
                    "abstract"
                } else {
                    "unix"
                });
            }
            SockAddr::Netlink { pid, .. } => {
                assert_eq!(pid.to_string(), part("nlnk-pid"));
                families.push("netlink");
            }
            other => panic!("{saddr}: {other:?}"),
        }
    }
    for family in ["inet", "inet6", "unix", "abstract", "netlink"] {
        assert!(
            families.contains(&family),
            "{family} missing from {families:?}"
        );
    }
}

#[test]
fn encoded_arguments() {
    let records = records();
    let serial = exec_serial(&records, "/bin/true");
    let args = execve_args(event(&records, serial)).unwrap();
    assert_eq!(
        args,
        [
            "/bin/true",
            "arg with space",
            "quote\"d",
            "tab\tx",
            "ünïcødé",
            "\x1b[31mred\x1b[0m"
        ]
    );
    // The PROCTITLE of the same exec says the same (it is short enough not to be cut).
    let title = event(&records, serial)
        .into_iter()
        .find(|r| r.record_type() == RecordType::PROCTITLE)
        .and_then(|r| r.get("proctitle"))
        .unwrap();
    assert_eq!(proctitle_args(&title), args);
    let execve = event(&records, serial)
        .into_iter()
        .find(|r| r.record_type() == RecordType::EXECVE)
        .unwrap();
    assert_eq!(interpret(execve, "a1").as_deref(), Some("arg with space"));
    assert_eq!(interpret(execve, "a0"), None, "quoted: nothing to add");
    assert_eq!(interpret(execve, "argc"), None);
}

#[test]
fn argument_split_across_three_records() {
    let records = records();
    let serial = exec_serial(&records, "/bin/echo");
    let execve: Vec<_> = event(&records, serial)
        .into_iter()
        .filter(|r| r.record_type() == RecordType::EXECVE)
        .collect();
    assert!(
        execve.len() >= 2,
        "the kernel split it over {} records",
        execve.len()
    );
    let args = execve_args(execve.iter().copied()).unwrap();
    assert_eq!(args.len(), 2);
    assert_eq!(args[1], "A".repeat(9000));
    // Without the last record the pieces do not add up to a1_len: an error that still
    // carries what was known.
    let Err(ExecveError::Incomplete { args, reason }) =
        execve_args(execve[..execve.len() - 1].iter().copied())
    else {
        panic!("a missing piece must be reported");
    };
    assert_eq!(args[0], "/bin/echo");
    assert!(args[1].len() < 9000 && args[1].bytes().all(|b| b == b'A'));
    assert!(reason.contains("of 18000 encoded bytes"), "{reason}");
}

#[test]
fn failed_exec_and_refused_connects() {
    let records = records();
    let failed = records
        .iter()
        .find(|r| r.record_type() == RecordType::SYSCALL && r.value("exit") == Some("-2"))
        .unwrap();
    assert_eq!(interpret(failed, "syscall").as_deref(), Some("execve"));
    assert_eq!(
        interpret(failed, "exit").as_deref(),
        Some("ENOENT(No such file or directory)")
    );
    let refused = records
        .iter()
        .find(|r| r.record_type() == RecordType::SYSCALL && r.value("exit") == Some("-111"))
        .unwrap();
    assert_eq!(interpret(refused, "syscall").as_deref(), Some("connect"));
    assert_eq!(
        interpret(refused, "exit").as_deref(),
        Some("ECONNREFUSED(Connection refused)")
    );
    assert_eq!(interpret(refused, "success"), None);
    assert_eq!(interpret(refused, "ses").as_deref(), Some("unset"));
}

#[test]
fn paths_names_modes_and_keys() {
    let records = records();
    let path = records
        .iter()
        .find(|r| {
            r.record_type() == RecordType::PATH
                && r.get("name")
                    .is_some_and(|f| f.quote == Quote::None && !f.is_absent())
        })
        .unwrap();
    let name = field_text(&path.get("name").unwrap());
    assert!(name.ends_with("/dir with space/tr ue"), "{name}");
    assert_eq!(interpret(path, "mode").as_deref(), Some("file,0755"));
    assert_eq!(interpret(path, "cap_fp").as_deref(), Some("none"));
    assert_eq!(interpret(path, "dev"), None);

    // A rule with two -k: the key is hex, joined by 0x01.
    let change = records
        .iter()
        .find(|r| {
            r.record_type() == RecordType::CONFIG_CHANGE
                && r.get("key").is_some_and(|f| f.quote == Quote::None)
        })
        .unwrap();
    let key = change.get("key").unwrap();
    assert_eq!(keys(&key), ["sshtrail-interp", "sshtrail-interp-2"]);
    assert_eq!(
        interpret(change, "key").as_deref(),
        Some("sshtrail-interp,sshtrail-interp-2")
    );
    assert_eq!(interpret(change, "res").as_deref(), Some("success"));
    let single = records
        .iter()
        .find_map(|r| r.get("key").filter(|f| f.quote == Quote::Double))
        .unwrap();
    assert_eq!(keys(&single), ["sshtrail-interp"]);
    assert!(matches!(
        field_text(&single),
        Cow::Borrowed("sshtrail-interp")
    ));
}

#[test]
fn field_text_borrows_unless_it_decodes() {
    let f = |key, value, quote| Field {
        key,
        value,
        quote,
        origin: Origin::Raw,
    };
    assert!(matches!(
        field_text(&f("comm", "bash", Quote::Double)),
        Cow::Borrowed("bash")
    ));
    assert!(matches!(
        field_text(&f("comm", "(null)", Quote::None)),
        Cow::Borrowed("(null)")
    ));
    assert!(matches!(
        field_text(&f("comm", "?", Quote::None)),
        Cow::Borrowed("?")
    ));
    assert!(matches!(
        field_text(&f("comm", "abc", Quote::None)),
        Cow::Borrowed("abc")
    ));
    assert!(matches!(
        field_text(&f("comm", "", Quote::None)),
        Cow::Borrowed("")
    ));
    // Not an encoded field: left alone even though it looks like hex.
    assert!(matches!(
        field_text(&f("a0", "6869", Quote::None)),
        Cow::Borrowed("6869")
    ));
    assert_eq!(field_text(&f("comm", "6869", Quote::None)), "hi");
    // NUL kept, invalid UTF-8 replaced.
    assert_eq!(field_text(&f("data", "610062", Quote::None)), "a\0b");
    assert_eq!(field_text(&f("data", "FF41", Quote::None)), "\u{FFFD}A");
    assert!(keys(&f("key", "(null)", Quote::None)).is_empty());
}

#[test]
fn small_kinds() {
    // Fabricated records, one field kind each.
    let line = "type=ANOM_ABEND msg=audit(1.0:1): auid=4294967295 uid=0 ses=3 pid=5 comm=\"x\" sig=11 res=1";
    let record = parse_line(line.as_bytes()).unwrap();
    assert_eq!(interpret(&record, "sig").as_deref(), Some("SIGSEGV"));
    assert_eq!(interpret(&record, "auid").as_deref(), Some("unset"));
    assert_eq!(interpret(&record, "ses"), None);
    assert_eq!(interpret(&record, "pid"), None);
    assert_eq!(interpret(&record, "uid"), None, "NoNames knows nobody");
    let line = "type=CAPSET msg=audit(1.0:1): pid=5 cap_pi=0 cap_pp=200000 cap_pe=3 cap_pa=0";
    let record = parse_line(line.as_bytes()).unwrap();
    assert_eq!(interpret(&record, "cap_pp").as_deref(), Some("sys_admin"));
    assert_eq!(
        interpret(&record, "cap_pe").as_deref(),
        Some("chown,dac_override")
    );
    // A SYSCALL of an architecture no table has: the number stays.
    let line = "type=SYSCALL msg=audit(1.0:1): arch=c00000ff syscall=59 exit=-2";
    let record = parse_line(line.as_bytes()).unwrap();
    assert_eq!(interpret(&record, "arch"), None, "label is the raw number");
    assert_eq!(interpret(&record, "syscall"), None);
    let arch = Some(Arch::I386);
    let field = record.get("syscall").unwrap();
    assert_eq!(
        interpret_field(&record, &field, arch, &NoNames).as_deref(),
        Some("oldolduname")
    );
}

#[test]
fn syscall_arguments_with_meaning() {
    struct Fixed;
    impl NameResolver for Fixed {
        fn user(&self, uid: u32) -> Option<String> {
            Some(format!("user{uid}"))
        }
        fn group(&self, gid: u32) -> Option<String> {
            Some(format!("group{gid}"))
        }
    }
    // Fabricated SYSCALL records (x86_64 numbers: kill 62, socket 41, setresuid 117,
    // fchmodat 268, as in this machine's log for `chmod 4755`).
    let check = |line: &str, key: &str, want: Option<&str>| {
        let record = parse_line(line.as_bytes()).unwrap();
        let field = record.get(key).unwrap();
        let got = interpret_field(&record, &field, None, &Fixed);
        assert_eq!(got.as_deref(), want, "{line} {key}");
    };
    let kill = "type=SYSCALL msg=audit(1.0:1): arch=c000003e syscall=62 success=yes exit=0 a0=1f40 a1=9 a2=0 a3=0";
    check(kill, "a1", Some("SIGKILL"));
    check(kill, "a0", None);
    let socket = "type=SYSCALL msg=audit(1.0:1): arch=c000003e syscall=41 success=yes exit=3 a0=a a1=1 a2=0 a3=0";
    check(socket, "a0", Some("inet6"));
    check(socket, "a1", None);
    let setresuid = "type=SYSCALL msg=audit(1.0:1): arch=c000003e syscall=117 success=yes exit=0 a0=3e8 a1=ffffffffffffffff a2=ffffffff a3=0";
    check(setresuid, "a0", Some("user1000"));
    check(setresuid, "a1", Some("unset"));
    check(setresuid, "a2", Some("unset"));
    check(setresuid, "a3", None);
    // The real fchmodat of `chmod 4755 watched` in the fixture.
    let records = records();
    let chmod = records
        .iter()
        .find(|r| r.record_type() == RecordType::SYSCALL && r.value("syscall") == Some("268"))
        .unwrap();
    assert_eq!(chmod.value("a2"), Some("9ed"));
    assert_eq!(interpret(chmod, "a2").as_deref(), Some("4755"));
    assert_eq!(interpret(chmod, "a1"), None, "a pointer stays raw");
}

/// Throughput of the per-field interpretation on this machine's own audit log (or a file
/// named by `SSHTRAIL_INTERPRET_LOG`). Not a correctness test; run it with
/// `cargo test --release -p sshtrail-audit --lib interpret::tests::throughput -- --ignored --nocapture`.
#[test]
#[ignore]
fn throughput() {
    use std::time::Instant;
    let path = std::env::var("SSHTRAIL_INTERPRET_LOG")
        .unwrap_or_else(|_| "/var/log/audit/audit.log".to_string());
    let Ok(text) = std::fs::read(&path) else {
        eprintln!("skipped: cannot read {path}");
        return;
    };
    let records: Vec<Record> = text
        .split(|b| *b == b'\n')
        .filter_map(|line| parse_line(line).ok())
        .collect();
    let fields: usize = records.iter().map(|r| r.fields().len()).sum();
    let names: Vec<String> = records
        .iter()
        .map(|r| r.record_type().to_string())
        .collect();
    let best = |f: &mut dyn FnMut() -> usize| {
        (0..5)
            .map(|_| {
                let start = Instant::now();
                std::hint::black_box(f());
                start.elapsed().as_nanos() as f64
            })
            .fold(f64::MAX, f64::min)
    };
    let from_name = best(&mut || {
        names
            .iter()
            .filter(|n| RecordType::from_name(std::hint::black_box(n)).is_some())
            .count()
    });
    let iterate = best(&mut || {
        records
            .iter()
            .flat_map(|r| r.fields())
            .map(|f| f.key.len())
            .sum()
    });
    let kinds = best(&mut || {
        records
            .iter()
            .flat_map(|r| r.fields())
            .filter(|f| tables::field_kind(f.key).is_some())
            .count()
    });
    let resolver = SystemNames::new();
    let interpret = best(&mut || {
        let mut n = 0;
        for r in &records {
            let arch = r.value("arch").and_then(Arch::from_field);
            for f in r.fields() {
                n += usize::from(interpret_field(r, &f, arch, &resolver).is_some());
            }
        }
        n
    });
    let (nr, nf) = (records.len() as f64, fields as f64);
    eprintln!("{path}: {} records, {fields} fields", records.len());
    eprintln!("RecordType::from_name: {:.1} ns/record", from_name / nr);
    eprintln!("iterating fields alone: {:.1} ns/field", iterate / nf);
    eprintln!("+ field_kind: {:.1} ns/field", kinds / nf);
    eprintln!(
        "+ interpret_field (SystemNames): {:.1} ns/field, {:.0} ns/record, {:.0} records/s",
        interpret / nf,
        interpret / nr,
        nr / (interpret / 1e9)
    );
}
