//! The coalescer on real audit logs captured from this host's auditd
//! (`tests/data/*.log`, see its README): each case checks what an auditor would read
//! from the normalized event.

use proptest::prelude::*;
use serde_json::Value;
use sshtrail_audit::coalesce::{coalesce, CoalescedEvent, Coalescer, Outcome};
use sshtrail_audit::interpret::NoNames;
use sshtrail_audit::{parse_line, Record};
use std::path::Path;

/// The records of a fixture grouped into events (records of an event are adjacent).
fn events(name: &str) -> Vec<Vec<Record>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out: Vec<Vec<Record>> = Vec::new();
    for line in bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let record = parse_line(line).expect("fixture lines are records");
        match out.last_mut() {
            Some(event) if event[0].serial() == record.serial() => event.push(record),
            _ => out.push(vec![record]),
        }
    }
    out
}

/// Coalesces every event of a fixture and keeps those with `action`.
fn with_action<'a>(events: &'a [Vec<Record>], action: &str) -> Vec<CoalescedEvent<'a>> {
    events
        .iter()
        .map(|records| coalesce(records, &NoNames))
        .filter(|e| e.summary.action == Some(action))
        .collect()
}

fn s<'a>(v: &'a Option<std::borrow::Cow<'_, str>>) -> Option<&'a str> {
    v.as_deref()
}

#[test]
fn exec_names_program_how_and_arguments() {
    let evs = events("exec.log");
    let execs = with_action(&evs, "executed");
    assert_eq!(execs.len(), 2);
    let echo = &execs[0];
    assert_eq!(s(&echo.summary.object.primary), Some("/bin/echo"));
    assert_eq!(echo.summary.object.kind, Some("file"));
    assert_eq!(s(&echo.summary.how), Some("/usr/bin/echo"));
    assert_eq!(
        echo.process.args,
        ["/bin/echo", "sshtrail-exec-marker", "hello world"]
    );
    assert_eq!(
        s(&echo.process.title),
        Some("/bin/echo sshtrail-exec-marker hello world")
    );
    // Names from the ENRICHED part, never from this machine.
    assert_eq!(s(&echo.summary.actor.primary), Some("unset"));
    assert_eq!(s(&echo.summary.actor.secondary), Some("sshtrailfx"));
    assert_eq!(echo.result, Outcome::Success);
    assert_eq!(s(&echo.session), Some("unset"));
    assert_eq!(echo.tags, ["sshtrail-capture"]);
    let file = echo.file.as_ref().expect("file of the executed program");
    assert_eq!(file.path, "/bin/echo");
    assert_eq!(file.mode.map(|m| m.to_string()).as_deref(), Some("0755"));
    assert_eq!(file.owner.as_deref(), Some("root"));
    assert_eq!(echo.paths.len(), 2);
    // A script: the object is the script, how is the interpreter that ran it.
    let script = &execs[1];
    assert!(s(&script.summary.object.primary).is_some_and(|p| p.ends_with("/hello.sh")));
    assert_eq!(s(&script.summary.how), Some("/usr/bin/dash"));
}

#[test]
fn failed_exec_is_a_failure_without_arguments() {
    let evs = events("exec-failed.log");
    let execs = with_action(&evs, "executed");
    assert_eq!(execs.len(), 2);
    assert!(execs.iter().all(|e| e.result == Outcome::Failure));
    assert_eq!(
        s(&execs[0].summary.object.primary),
        Some("/nonexistent/sshtrail-no-such-binary")
    );
    assert!(execs.iter().all(|e| e.process.args.is_empty()));
}

#[test]
fn connect_names_the_destination() {
    let evs = events("connect.log");
    let conns = with_action(&evs, "connected-to");
    assert_eq!(conns.len(), 4);
    let dest: Vec<_> = conns
        .iter()
        .map(|e| {
            let d = e.destination.as_ref();
            (
                d.and_then(|d| d.ip.as_deref()).map(str::to_string),
                d.and_then(|d| d.port.as_deref()).map(str::to_string),
                e.result,
            )
        })
        .collect();
    assert_eq!(
        dest[0],
        (
            Some("127.0.0.1".into()),
            Some("2299".into()),
            Outcome::Success
        )
    );
    assert_eq!(
        dest[1],
        (Some("127.0.0.1".into()), Some("1".into()), Outcome::Failure)
    );
    assert_eq!(
        dest[2],
        (Some("::1".into()), Some("2299".into()), Outcome::Failure)
    );
    let unix = &conns[3];
    assert!(s(&unix.summary.object.primary).is_some_and(|p| p.ends_with("/unix.sock")));
    assert_eq!(unix.summary.object.kind, Some("socket"));
}

#[test]
fn file_watch_actions() {
    let evs = events("file-watch.log");
    let coalesced: Vec<_> = evs.iter().map(|r| coalesce(r, &NoNames)).collect();
    let actions: Vec<_> = coalesced.iter().filter_map(|e| e.summary.action).collect();
    for want in [
        "opened-file",
        "changed-file-permissions-of",
        "renamed",
        "deleted",
    ] {
        assert!(actions.contains(&want), "{want} missing from {actions:?}");
    }
    // Two rule keys on one rule: both tags.
    assert!(coalesced
        .iter()
        .any(|e| e.tags.iter().any(|t| t == "sshtrail-openat")
            && e.tags.iter().any(|t| t == "sshtrail-capture")));
    let renamed = coalesced
        .iter()
        .find(|e| e.summary.action == Some("renamed"))
        .unwrap();
    assert!(renamed.summary.object.primary.is_some());
    assert!(renamed.summary.object.secondary.is_some());
    assert_ne!(
        renamed.summary.object.primary,
        renamed.summary.object.secondary
    );
    // The denied read is a failure.
    assert!(coalesced
        .iter()
        .any(|e| e.summary.action == Some("opened-file") && e.result == Outcome::Failure));
}

#[test]
fn ssh_login_session_story() {
    let evs = events("ssh-login.log");
    let coalesced: Vec<_> = evs.iter().map(|r| coalesce(r, &NoNames)).collect();
    let by_type = |t: &str| {
        coalesced
            .iter()
            .find(|e| e.record_type.name() == Some(t))
            .unwrap_or_else(|| panic!("no {t}"))
    };
    // A new capture changes session numbers and terminals: take them from the records.
    let raw = |t: &str, key: &str| {
        evs.iter()
            .flatten()
            .find(|r| r.record_type().name() == Some(t))
            .and_then(|r| r.value(key))
            .map(str::to_string)
    };
    let ses = raw("LOGIN", "ses").expect("LOGIN has ses");
    assert_ne!(ses, "4294967295");
    let login = by_type("LOGIN");
    assert_eq!(login.summary.action, Some("changed-login-id-to"));
    assert_eq!(s(&login.summary.object.primary), Some("1010"));
    assert_eq!(s(&login.summary.actor.primary), Some("unset"));
    assert_eq!(s(&login.session), Some(ses.as_str()));
    assert_eq!(s(&login.summary.how), Some("/usr/sbin/sshd"));
    assert_eq!(login.result, Outcome::Success);
    let user_login = by_type("USER_LOGIN");
    assert_eq!(user_login.summary.action, Some("logged-in"));
    let terminal = raw("USER_LOGIN", "terminal").expect("USER_LOGIN has terminal");
    assert!(terminal.starts_with("/dev/pts/"));
    assert_eq!(
        s(&user_login.summary.object.primary),
        Some(terminal.as_str())
    );
    assert_eq!(s(&user_login.summary.object.secondary), Some("127.0.0.1"));
    assert_eq!(
        user_login.source.as_ref().and_then(|a| a.ip.as_deref()),
        Some("127.0.0.1")
    );
    assert_eq!(s(&user_login.summary.actor.primary), Some("sshtrailfx"));
    for (t, action) in [
        ("USER_AUTH", "authenticated"),
        ("USER_ACCT", "was-authorized"),
        ("CRED_ACQ", "acquired-credentials"),
        ("USER_START", "started-session"),
        ("USER_END", "ended-session"),
        ("CRED_DISP", "disposed-credentials"),
    ] {
        let e = by_type(t);
        assert_eq!(e.summary.action, Some(action), "{t}");
        assert_eq!(e.summary.object.kind, Some("user-session"), "{t}");
        assert_eq!(s(&e.summary.actor.secondary), Some("sshtrailfx"), "{t}");
        assert_eq!(s(&e.summary.how), Some("/usr/sbin/sshd"), "{t}");
    }
    // What the user ran inside the session carries the session id.
    let echo = coalesced
        .iter()
        .find(|e| e.process.args.first().map(String::as_str) == Some("/bin/echo"))
        .expect("the session's echo");
    assert_eq!(s(&echo.session), Some(ses.as_str()));
    assert_eq!(s(&echo.summary.actor.primary), Some("sshtrailfx"));
}

#[test]
fn ssh_failures() {
    let evs = events("ssh-failed.log");
    let logins = with_action(&evs, "logged-in");
    assert_eq!(logins.len(), 4);
    assert!(logins.iter().all(|e| e.result == Outcome::Failure));
    let invalid = logins
        .iter()
        .filter(|e| s(&e.summary.actor.secondary) == Some("(invalid user)"))
        .count();
    assert_eq!(invalid, 3);
}

#[test]
fn long_arguments_are_joined() {
    let evs = events("long-argv.log");
    let execs = with_action(&evs, "executed");
    assert_eq!(execs.len(), 3);
    assert_eq!(execs[0].process.args.len(), 2);
    assert_eq!(execs[0].process.args[1].len(), 20_000);
    assert!(execs[0].process.args[1].bytes().all(|b| b.is_ascii_digit()));
    assert_eq!(execs[1].process.args[1].len(), 10_008);
    assert_eq!(execs[2].process.args.len(), 1_501);
    assert!(execs.iter().all(|e| e.warnings.is_empty()));
}

#[test]
fn audit_configuration_changes() {
    let evs = events("config-change.log");
    let changes = with_action(&evs, "changed-audit-configuration");
    assert_eq!(changes.len(), 4);
    let ops: Vec<_> = changes
        .iter()
        .filter_map(|e| s(&e.summary.object.primary))
        .collect();
    assert_eq!(ops.iter().filter(|o| **o == "add_rule").count(), 2);
    assert_eq!(ops.iter().filter(|o| **o == "remove_rule").count(), 2);
    assert!(changes
        .iter()
        .all(|e| e.record_type.name() == Some("CONFIG_CHANGE")));
    assert!(changes
        .iter()
        .all(|e| s(&e.summary.how) == Some("/usr/sbin/auditctl")));
}

/// RAW and ENRICHED logs of the same events say the same thing, names aside.
#[test]
fn raw_and_enriched_agree() {
    for case in [
        "exec",
        "exec-failed",
        "file-watch",
        "connect",
        "ssh-login",
        "ssh-failed",
        "long-argv",
        "config-change",
        "exec-b32",
        "escape-argv",
        "nonascii-argv",
    ] {
        let enriched = events(&format!("{case}.log"));
        let raw = events(&format!("{case}.raw.log"));
        assert_eq!(enriched.len(), raw.len(), "{case}");
        for (e, r) in enriched.iter().zip(&raw) {
            let (e, r) = (coalesce(e, &NoNames), coalesce(r, &NoNames));
            assert_eq!(e.summary.action, r.summary.action, "{case} {}", e.sequence);
            assert_eq!(e.summary.object.primary, r.summary.object.primary, "{case}");
            assert_eq!(e.result, r.result, "{case}");
            assert_eq!(e.session, r.session, "{case}");
            assert_eq!(e.process.args, r.process.args, "{case}");
        }
    }
}

/// The JSON has the aucoalesce shape and leaves empty parts out.
#[test]
fn json_shape() {
    let evs = events("ssh-login.log");
    let coalescer = Coalescer::new(&NoNames);
    let mut out = Vec::new();
    for records in &evs {
        out.clear();
        coalescer.write_json(records, &mut out).unwrap();
        assert_eq!(out.last(), Some(&b'\n'));
        let v: Value = serde_json::from_slice(&out).expect("valid JSON");
        let ts = v["@timestamp"].as_str().unwrap();
        assert!(
            ts.starts_with("2026-11-2") && ts.ends_with('Z') && ts.len() == 24,
            "{ts}"
        );
        assert_eq!(v["sequence"].as_u64(), Some(records[0].serial()));
        assert!(v["record_type"]
            .as_str()
            .unwrap()
            .chars()
            .all(|c| !c.is_ascii_uppercase()));
        assert!(["success", "fail", "unknown"].contains(&v["result"].as_str().unwrap()));
        assert!(v["session"].is_string());
        assert!(v.get("file").is_none() || v["file"].is_object());
        for (key, value) in v.as_object().unwrap() {
            assert!(!value.is_null(), "{key} is null");
            assert!(
                value.as_array().is_none_or(|a| !a.is_empty()),
                "{key} is []"
            );
        }
    }
}

/// The fast JSON writer writes exactly what serde_json writes for the event.
#[test]
fn fast_writer_matches_serde() {
    let coalescer = Coalescer::new(&NoNames);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if !name.ends_with(".log") {
            continue;
        }
        for records in events(&name) {
            let mut fast = Vec::new();
            coalescer.write_json(&records, &mut fast).unwrap();
            let mut slow = serde_json::to_vec(&coalescer.coalesce(&records)).unwrap();
            slow.push(b'\n');
            assert_eq!(
                String::from_utf8_lossy(&fast),
                String::from_utf8_lossy(&slow),
                "{name}"
            );
            checked += 1;
        }
    }
    assert!(checked > 100, "checked {checked} events");
}

#[test]
fn empty_event_is_unknown() {
    let ev = coalesce(&[], &NoNames);
    assert_eq!(ev.result, Outcome::Unknown);
    assert_eq!(ev.category, "unknown");
    assert!(ev.summary.action.is_none());
    serde_json::to_vec(&ev).unwrap();
}

/// A compound event without SYSCALL (AVC-only, EXECVE-only, PATH-only) still coalesces.
#[test]
fn events_without_syscall() {
    let evs = events("exec.log");
    let records = &evs[0];
    let execve_only: Vec<Record> = records
        .iter()
        .filter(|r| r.record_type().name() == Some("EXECVE"))
        .cloned()
        .collect();
    let ev = coalesce(&execve_only, &NoNames);
    assert_eq!(ev.summary.action, Some("executed"));
    assert_eq!(s(&ev.summary.object.primary), Some("/bin/echo"));
    assert_eq!(ev.record_type.name(), Some("EXECVE"));
    let no_syscall: Vec<Record> = records
        .iter()
        .filter(|r| r.record_type().name() != Some("SYSCALL"))
        .cloned()
        .collect();
    let ev = coalesce(&no_syscall, &NoNames);
    assert_eq!(ev.summary.action, Some("executed"));
    assert_eq!(s(&ev.summary.object.primary), Some("/bin/echo"));
    assert_eq!(
        s(&ev.process.cwd).map(|c| c.starts_with("/tmp/")),
        Some(true)
    );
}

proptest! {
    /// Any subset of real records, in any order, coalesces and serializes without panic,
    /// and the event's sequence is its first record's.
    #[test]
    fn never_panics_on_any_mix(picks in proptest::collection::vec(0usize..442, 0..12)) {
        let pool: Vec<Record> = ["exec.log", "connect.log", "ssh-login.log", "file-watch.log", "long-argv.log", "config-change.log"]
            .iter()
            .flat_map(|f| events(f).into_iter().flatten())
            .collect();
        let records: Vec<Record> = picks.iter().map(|i| pool[i % pool.len()].clone()).collect();
        let ev = coalesce(&records, &NoNames);
        if let Some(first) = records.first() {
            prop_assert_eq!(ev.sequence, first.serial());
        }
        let mut slow = serde_json::to_vec(&ev).unwrap();
        slow.push(b'\n');
        let mut fast = Vec::new();
        Coalescer::new(&NoNames).write_json(&records, &mut fast).unwrap();
        prop_assert_eq!(fast, slow);
    }
}
