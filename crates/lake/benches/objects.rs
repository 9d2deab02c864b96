//! The lake sink's own cost: event lines → Parquet objects, in events/s on one core, and
//! the object bytes per event (printed once).
//!
//! The corpus is the real fixture (`tests/data/replay.jsonl`, 20 events of `sshtrail
//! replay`) repeated into a batch of 10,000 with every event id and time made distinct,
//! so that the id and time columns cost what they cost in a real batch; the rest of each
//! line repeats more than a real host's would, so the size is a lower bound.
//! Run: `cargo bench -p sshtrail-lake --bench objects`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use serde_json::Value;
use std::hint::black_box;

const FIXTURE: &str = include_str!("../tests/data/replay.jsonl");
const BATCH: usize = 10_000;

fn corpus() -> Vec<Vec<u8>> {
    let events: Vec<Value> = FIXTURE
        .lines()
        .map(|l| serde_json::from_str(l).expect("fixture line"))
        .collect();
    (0..BATCH)
        .map(|i| {
            let mut e = events[i % events.len()].clone();
            e["metadata"]["eventId"] =
                Value::from(format!("{:032x}", i as u128 * 0x9e37_79b9_7f4a_7c15));
            let ms = 1_795_433_575_000u64 + i as u64 * 37;
            e["loggedAt"] = Value::from(format!(
                "2026-11-23T{:02}:{:02}:{:02}.{:03}Z",
                (ms / 3_600_000) % 24,
                (ms / 60_000) % 60,
                (ms / 1000) % 60,
                ms % 1000
            ));
            format!("{e}\n").into_bytes()
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let lines = corpus();
    let refs: Vec<&[u8]> = lines.iter().map(Vec::as_slice).collect();
    let json_bytes: usize = lines.iter().map(Vec::len).sum();
    let objects = sshtrail_lake::objects("p", "00000001-0000000000000000", &refs).expect("objects");
    let parquet_bytes: usize = objects.iter().map(|o| o.bytes.len()).sum();
    eprintln!(
        "lake: {BATCH} events, {json_bytes} bytes of JSON lines → {} object(s), {parquet_bytes} bytes ({:.0} bytes/event, {:.1}× smaller)",
        objects.len(),
        parquet_bytes as f64 / BATCH as f64,
        json_bytes as f64 / parquet_bytes as f64
    );
    let mut group = c.benchmark_group("lake");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.sample_size(10);
    group.bench_function("objects_10k_events", |b| {
        b.iter(|| sshtrail_lake::objects("p", "00000001-0000000000000000", black_box(&refs)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
