//! Throughput on the captured Debian 12 corpus (tests/data), repeated to ~100k lines:
//! syslog framing + message parsing (the syslog-file hot path), message parsing alone,
//! and journald JSON framing + parsing. Criterion reports lines/s (elements) and bytes/s.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use sshtrail_sshd::framing::{frame_journal_json, SyslogFramer};
use sshtrail_sshd::{parse, Kind, TimeZone, Timestamp};

fn corpus(name: &str) -> Vec<String> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).expect("fixture");
    let lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut out = Vec::with_capacity(100_000);
    while out.len() < 100_000 {
        out.extend(lines.iter().cloned());
    }
    out
}

fn bench(c: &mut Criterion) {
    let syslog = corpus("debian12-rfc3164.log");
    let bytes: usize = syslog.iter().map(|l| l.len() + 1).sum();
    let framer = SyslogFramer::with_reference(
        TimeZone::from_setting("Europe/Berlin").unwrap_or(TimeZone::Utc),
        Timestamp::from_civil_utc(2026, 11, 30, 0, 0, 0, 0).unwrap(),
    );

    let mut g = c.benchmark_group("syslog_rfc3164");
    g.throughput(Throughput::Elements(syslog.len() as u64));
    g.bench_function("frame_and_parse/lines", |b| {
        b.iter(|| {
            let mut known = 0usize;
            for line in &syslog {
                if let Ok(f) = framer.frame(black_box(line)) {
                    if parse(&f.message).event.kind() != Kind::Other {
                        known += 1;
                    }
                }
            }
            known
        })
    });
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function("frame_and_parse/bytes", |b| {
        b.iter(|| {
            for line in &syslog {
                if let Ok(f) = framer.frame(black_box(line)) {
                    black_box(parse(&f.message).fields());
                }
            }
        })
    });
    g.finish();

    let messages: Vec<&str> = syslog
        .iter()
        .filter_map(|l| l.split_once("]: ").map(|(_, m)| m))
        .collect();
    let mut g = c.benchmark_group("message");
    g.throughput(Throughput::Elements(messages.len() as u64));
    g.bench_function("parse_and_fields", |b| {
        b.iter(|| {
            for m in &messages {
                black_box(parse(black_box(m)).fields());
            }
        })
    });
    g.finish();

    let journal = corpus("debian12-journal.json");
    let jbytes: usize = journal.iter().map(|l| l.len() + 1).sum();
    let mut g = c.benchmark_group("journal_json");
    g.sample_size(20);
    g.throughput(Throughput::Elements(journal.len() as u64));
    g.bench_function("frame_and_parse/lines", |b| {
        b.iter(|| {
            for line in &journal {
                if let Ok(f) = frame_journal_json(black_box(line)) {
                    black_box(parse(&f.message).event.kind());
                }
            }
        })
    });
    g.throughput(Throughput::Bytes(jbytes as u64));
    g.bench_function("frame_and_parse/bytes", |b| {
        b.iter(|| {
            for line in &journal {
                if let Ok(f) = frame_journal_json(black_box(line)) {
                    black_box(parse(&f.message).event.kind());
                }
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
