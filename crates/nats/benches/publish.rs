//! The NATS sink's cost: acknowledged publishes to a real `nats-server -js` on loopback,
//! in events/s, batches of 1,000 as the forwarder hands them over (256 in flight), each
//! message a real event line (`crates/lake/tests/data/replay.jsonl`) with an id of its
//! own. The server runs on the same 2 cores, so this is the pair's throughput, not the
//! client's alone. Skips when `nats-server` is not installed.
//! Run: `cargo bench -p sshtrail-nats --bench publish`.

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sshtrail_nats::testing::{installed, Server};
use sshtrail_nats::{subject_for, JetStream, Message, NatsTarget};
use std::sync::atomic::{AtomicU64, Ordering};

const LINES: &str = include_str!("../../lake/tests/data/replay.jsonl");
const BATCH: usize = 1_000;

fn bench(c: &mut Criterion) {
    if !installed("bench publish") {
        return;
    }
    let server = Server::start("bench", &[]);
    let url = server.url("stream=BENCH&create=true");
    let target = NatsTarget::parse(&url).expect("the bench URL");
    let stream = JetStream::connect(&target).expect("connect");
    let lines: Vec<&str> = LINES.lines().collect();
    let next = AtomicU64::new(0);
    let batch = || -> Vec<Message> {
        (0..BATCH)
            .map(|i| {
                let n = next.fetch_add(1, Ordering::Relaxed);
                Message {
                    subject: subject_for("sshtrail", "bench-host", "UserAction"),
                    id: format!("{n:032x}"),
                    payload: Bytes::copy_from_slice(lines[i % lines.len()].as_bytes()),
                }
            })
            .collect()
    };
    let mut group = c.benchmark_group("nats");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.sample_size(20);
    group.bench_function("publish_acked_1000", |b| {
        b.iter_batched(
            batch,
            |messages| stream.publish_all(&messages).expect("published"),
            criterion::BatchSize::SmallInput,
        )
    });
    group.finish();
    drop(server);
}

criterion_group!(benches, bench);
criterion_main!(benches);
