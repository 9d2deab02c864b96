//! The join does not depend on how the two sides arrive.
//!
//! Real sessions (`tests/data/formats`: 17 short SSH sessions and two failed logins from
//! a real sshd, journald and auditd, see its README) are reduced to the tracker's facts,
//! then handed to the tracker in random interleavings of the two sides (one side may run
//! arbitrarily far ahead of the other), with sshd's times left alone, all cut to whole
//! seconds (as RFC 3164 syslog writes them), or each cut at random. Every run must give
//! the same events as the run in time order of the same facts — the same lines, and for
//! each session the same sequence — and every command must be joined to the login the
//! in-order run of the untouched facts joined it to.
//!
//! The tracker is driven as the pipeline drives it: before each fact, it hears that the
//! fact's side has delivered everything up to the fact's time.

use proptest::prelude::*;
use serde_json::Value;
use sshtrail::track::facts::{AuditFact, SshdFact};
use sshtrail::track::from_audit::audit_fact;
use sshtrail::track::from_sshd::sshd_fact;
use sshtrail::track::progress::Progress;
use sshtrail::track::{Config, Tracker};
use sshtrail_audit::interpret::NoNames;
use sshtrail_audit::reassemble::{Output, Reassembler};
use sshtrail_event::Host;
use sshtrail_sshd::framing::frame_journal_json;
use std::collections::BTreeMap;
use std::sync::OnceLock;

fn data(name: &str) -> String {
    let path = format!("{}/tests/data/formats/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path).expect("fixture")
}

fn audit_facts() -> Vec<AuditFact> {
    let mut reassembler = Reassembler::default();
    let mut facts = Vec::new();
    let mut take = |output: Output| {
        if let Output::Event(event) = output {
            let fact = audit_fact(event.records(), &NoNames);
            if fact.ses.is_some() {
                facts.push(fact);
            }
        }
    };
    for (n, line) in data("audit.log").lines().enumerate() {
        let record = sshtrail_audit::parse_line(line.as_bytes()).expect("real records parse");
        reassembler.push(record, n as u64, &mut take);
    }
    reassembler.finish(&mut take);
    facts
}

fn sshd_facts() -> Vec<SshdFact> {
    data("journal.json")
        .lines()
        .filter_map(|line| {
            let framed = frame_journal_json(line).expect("captured lines frame");
            if framed.is_sshd() {
                sshd_fact(&framed, None)
            } else {
                None
            }
        })
        .collect()
}

fn facts() -> &'static (Vec<AuditFact>, Vec<SshdFact>) {
    static FACTS: OnceLock<(Vec<AuditFact>, Vec<SshdFact>)> = OnceLock::new();
    FACTS.get_or_init(|| (audit_facts(), sshd_facts()))
}

/// Which side comes next, decided by the caller.
enum Next {
    Audit,
    Sshd,
}

/// Runs the tracker over the facts in the order `pick` chooses; the events as lines with
/// generated ids masked.
fn run(
    audit: &[AuditFact],
    sshd: &[SshdFact],
    mut pick: impl FnMut(usize, usize) -> Next,
) -> Vec<String> {
    let mut tracker = Tracker::new(Config::default());
    let mut progress = Progress::default();
    let (mut a, mut s) = (0, 0);
    let mut lines = Vec::new();
    let host = Host {
        name: "vm".into(),
        machine_id: "machine".into(),
    };
    let drain = |tracker: &mut Tracker, lines: &mut Vec<String>| {
        for event in tracker.drain() {
            lines.push(String::from_utf8_lossy(&event.to_line(&host)).into_owned());
        }
    };
    while a < audit.len() || s < sshd.len() {
        let next = if a == audit.len() {
            Next::Sshd
        } else if s == sshd.len() {
            Next::Audit
        } else {
            pick(a, s)
        };
        match next {
            Next::Audit => {
                let fact = audit[a].clone();
                a += 1;
                progress.audit.watermark_ms = progress.audit.watermark_ms.max(fact.time_ms);
                if a == audit.len() {
                    tracker.advance(progress);
                    tracker.on_audit(fact);
                    progress.audit.ended = true;
                    progress.audit.watermark_ms = u64::MAX;
                    tracker.advance(progress);
                } else {
                    tracker.advance(progress);
                    tracker.on_audit(fact);
                }
            }
            Next::Sshd => {
                let fact = sshd[s].clone();
                s += 1;
                progress.sshd.watermark_ms = progress.sshd.watermark_ms.max(fact.time_ms);
                tracker.advance(progress);
                tracker.on_sshd(fact);
                if s == sshd.len() {
                    progress.sshd.ended = true;
                    progress.sshd.watermark_ms = u64::MAX;
                    tracker.advance(progress);
                }
            }
        }
        drain(&mut tracker, &mut lines);
    }
    tracker.finish();
    drain(&mut tracker, &mut lines);
    lines
        .into_iter()
        .map(|line| mask_generated_ids(&line))
        .collect()
}

/// The in-order run: by event time, audit first on ties.
fn in_order(audit: &[AuditFact], sshd: &[SshdFact]) -> Vec<String> {
    run(audit, sshd, |a, s| {
        if audit[a].time_ms <= sshd[s].time_ms {
            Next::Audit
        } else {
            Next::Sshd
        }
    })
}

fn mask_generated_ids(line: &str) -> String {
    let value: Value = serde_json::from_str(line).expect("JSON");
    let id = value["metadata"]["auditId"].as_str().unwrap_or("");
    if id.len() == 36 {
        line.replace(id, "GENERATED")
    } else {
        line.to_string()
    }
}

/// Each kernel session's events in order; the rest (failed logins) as a sorted list.
/// What sshd's lines say happened inside a session (the channels it opened) is a list of
/// its own: in the lines' order, but how it interleaves with the audit side's actions
/// follows their arrival. Each of those comes after its session's login.
fn by_session(lines: &[String]) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in lines {
        let value: Value = serde_json::from_str(line).expect("JSON");
        let mut id = value["metadata"]["auditId"]
            .as_str()
            .unwrap_or("")
            .to_string();
        if value["type"] == "UserAction" && value["component"] != "auditd" {
            let logged_in = out
                .get(&id)
                .is_some_and(|e| e.iter().any(|l| l.contains("\"type\":\"UserLogin\"")));
            assert!(logged_in, "after its session's login: {line}");
            id.push_str(" from the logs");
        }
        out.entry(id).or_default().push(line.clone());
    }
    if let Some(generated) = out.get_mut("GENERATED") {
        generated.sort();
    }
    out
}

/// Who each command was attributed to: (auditId, sequence) → (correlation, subjects,
/// source).
fn attributions(lines: &[String]) -> BTreeMap<(String, u64), String> {
    lines
        .iter()
        .filter_map(|line| {
            let e: Value = serde_json::from_str(line).ok()?;
            if e["type"] != "UserAction" {
                return None;
            }
            let key = (
                e["metadata"]["auditId"].as_str()?.to_string(),
                e["metadata"]["extra"]["sequence"].as_u64()?,
            );
            let who = format!(
                "{} {} {}",
                e["metadata"]["extra"]["correlation"], e["subjects"], e["source"]
            );
            Some((key, who))
        })
        .collect()
}

fn coarsen(sshd: &[SshdFact], mode: u8, seed: u64) -> Vec<SshdFact> {
    let mut state = seed | 1;
    let mut coin = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state & 1 == 1
    };
    sshd.iter()
        .map(|fact| {
            let cut = match mode {
                0 => false,
                1 => true,
                _ => coin(),
            };
            let mut fact = fact.clone();
            if cut {
                fact.time_ms -= fact.time_ms % 1000;
                fact.resolution_ms = 1000;
            }
            fact
        })
        .collect()
}

#[test]
fn in_time_order_every_real_session_is_joined() {
    let (audit, sshd) = facts();
    let lines = in_order(audit, sshd);
    let expected: Vec<Vec<String>> = data("expected.tsv")
        .lines()
        .skip(1)
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect();
    assert_eq!(expected.len(), 17);
    let events: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for row in &expected {
        let (marker, user, ses, ip, port) = (&row[0], &row[1], &row[2], &row[3], &row[4]);
        let of = |kind: &str| {
            events
                .iter()
                .filter(|e| e["type"] == kind && e["metadata"]["auditId"] == ses.as_str())
                .count()
        };
        assert_eq!((of("UserLogin"), of("UserLogout")), (1, 1), "{marker}");
        let marked: Vec<&Value> = events
            .iter()
            .filter(|e| {
                e["metadata"]["extra"]["process_args"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|x| x == marker.as_str()))
            })
            .collect();
        assert_eq!(marked.len(), 1, "{marker}");
        let action = marked[0];
        assert_eq!(action["metadata"]["auditId"], ses.as_str(), "{marker}");
        assert_eq!(
            action["metadata"]["extra"]["correlation"], "joined",
            "{marker}"
        );
        assert_eq!(action["subjects"]["loggedAs"], user.as_str(), "{marker}");
        assert_eq!(action["source"]["value"], ip.as_str(), "{marker}");
        assert_eq!(action["source"]["extra"]["port"], port.as_str(), "{marker}");
    }
    assert!(events
        .iter()
        .filter(|e| e["type"] == "UserAction")
        .all(|e| e["metadata"]["extra"]["correlation"] == "joined"));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn any_interleaving_and_any_coarsening_gives_the_same_events(
        seed in any::<u64>(),
        audit_bias in 0.02f64..0.98,
        mode in 0u8..3,
    ) {
        let (audit, sshd) = facts();
        let sshd = coarsen(sshd, mode, seed);
        let expected = in_order(audit, &sshd);
        let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        let mut next_random = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let shuffled = run(audit, &sshd, |_, _| {
            if next_random() < audit_bias { Next::Audit } else { Next::Sshd }
        });
        let mut sorted_expected = expected.clone();
        sorted_expected.sort();
        let mut sorted_shuffled = shuffled.clone();
        sorted_shuffled.sort();
        prop_assert_eq!(sorted_shuffled, sorted_expected, "the same lines");
        prop_assert_eq!(by_session(&shuffled), by_session(&expected), "each session in the same order");
        let untouched = in_order(audit, &facts().1);
        prop_assert_eq!(attributions(&shuffled), attributions(&untouched), "the same joins");
    }
}
