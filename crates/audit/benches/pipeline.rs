//! Throughput of the audit pipeline on real records: `parse`, and
//! `parse + reassemble + coalesce + JSON` (the daemon's hot path on one core).
//!
//! Input, first found: `target/corpus/audit-corpus.log` (built by the corpus script from
//! this machine's auditd), the peers' real logs in `../shared/peer-testdata` (read in
//! place), or this crate's captured test log. Throughput is reported per record
//! (`elements`) so criterion prints records/s.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use sshtrail_audit::coalesce::Coalescer;
use sshtrail_audit::interpret::NoNames;
use sshtrail_audit::parse_line;
use sshtrail_audit::reassemble::{Output, Reassembler};
use std::path::{Path, PathBuf};

// The allocator the `sshtrail` binary uses, so that the numbers are the daemon's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn corpus() -> (PathBuf, Vec<u8>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let candidates = [
        root.join("../../target/corpus/audit-corpus.log"),
        root.join("../../../shared/peer-testdata/audito-maldito/auditd-good/00-login.txt"),
        root.join("tests/coalesce-real.log"),
    ];
    for path in candidates {
        if let Ok(bytes) = std::fs::read(&path) {
            if !bytes.is_empty() {
                return (path, bytes);
            }
        }
    }
    panic!("no corpus: run the corpus script or keep tests/coalesce-real.log");
}

fn lines(bytes: &[u8]) -> Vec<&[u8]> {
    bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .collect()
}

fn bench(c: &mut Criterion) {
    let (path, bytes) = corpus();
    let lines = lines(&bytes);
    eprintln!(
        "corpus: {} ({} records, {} bytes)",
        path.display(),
        lines.len(),
        bytes.len()
    );
    let mut group = c.benchmark_group("pipeline");
    group.sample_size(10);
    group.throughput(Throughput::Elements(lines.len() as u64));

    group.bench_function("parse", |b| {
        b.iter(|| {
            let mut ok = 0usize;
            for line in &lines {
                if let Ok(record) = parse_line(line) {
                    ok += black_box(&record).serial() as usize & 1;
                }
            }
            ok
        })
    });

    group.bench_function("parse+reassemble", |b| {
        b.iter(|| {
            let mut reassembler = Reassembler::default();
            let mut events = 0usize;
            let mut emit = |output: Output| {
                if let Output::Event(event) = output {
                    events += black_box(event.records()).len();
                }
            };
            for line in &lines {
                if let Ok(record) = parse_line(line) {
                    let now = record.timestamp().as_millis();
                    reassembler.push(record, now, &mut emit);
                }
            }
            reassembler.finish(&mut emit);
            events
        })
    });

    let coalescer = Coalescer::new(&NoNames);
    group.bench_function("parse+reassemble+coalesce", |b| {
        b.iter(|| {
            let mut reassembler = Reassembler::default();
            let mut fields = 0usize;
            let mut emit = |output: Output| {
                if let Output::Event(event) = output {
                    fields += black_box(coalescer.coalesce(event.records())).data.len();
                }
            };
            for line in &lines {
                if let Ok(record) = parse_line(line) {
                    let now = record.timestamp().as_millis();
                    reassembler.push(record, now, &mut emit);
                }
            }
            reassembler.finish(&mut emit);
            fields
        })
    });

    group.bench_function("parse+reassemble+coalesce+json", |b| {
        let mut out = Vec::with_capacity(1 << 20);
        b.iter(|| {
            let mut reassembler = Reassembler::default();
            let mut written = 0usize;
            let mut emit = |output: Output| {
                if let Output::Event(event) = output {
                    out.clear();
                    if coalescer.write_json(event.records(), &mut out).is_ok() {
                        written += out.len();
                    }
                }
            };
            for line in &lines {
                if let Ok(record) = parse_line(line) {
                    let now = record.timestamp().as_millis();
                    reassembler.push(record, now, &mut emit);
                }
            }
            reassembler.finish(&mut emit);
            written
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
