//! Encode and decode throughput of terminal data (io records), in MB/s of terminal bytes.
//!
//! The corpus is real output of commands on the machine running the benchmark (`ls -l` of
//! system directories, `ps aux`, `dmesg` when permitted, `/proc/cpuinfo`), with `\n` turned
//! into `\r\n` as a pty does, cut into chunks of 4–16 KiB as a terminal recorder would
//! deliver them. Run: `cargo bench -p sshtrail-sessionlog --bench codec`.

use std::hint::black_box;
use std::process::Command;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sshtrail_sessionlog::{verify, Header, Message, Reader, Stream, Writer};

fn command_output(program: &str, args: &[&str]) -> Vec<u8> {
    Command::new(program)
        .args(args)
        .output()
        .map(|o| o.stdout)
        .unwrap_or_default()
}

/// About 8 MiB of real terminal output.
fn corpus() -> Vec<u8> {
    let mut text = Vec::new();
    text.extend(command_output(
        "ls",
        &["-l", "--color=always", "/usr/bin", "/usr/lib", "/etc"],
    ));
    text.extend(command_output("ps", &["aux"]));
    text.extend(command_output("dmesg", &[]));
    text.extend(std::fs::read("/proc/cpuinfo").unwrap_or_default());
    assert!(text.len() > 10_000, "could not collect command output");
    let mut pty = Vec::with_capacity(text.len() * 11 / 10);
    for &b in &text {
        if b == b'\n' {
            pty.push(b'\r');
        }
        pty.push(b);
    }
    let single = pty.clone();
    while pty.len() < 8 << 20 {
        pty.extend_from_slice(&single);
    }
    pty.truncate(8 << 20);
    pty
}

/// The corpus as io records of 4–16 KiB (sizes vary deterministically).
fn chunks(corpus: &[u8]) -> Vec<Message> {
    let mut out = Vec::new();
    let mut rest = corpus;
    let mut size = 4096;
    while !rest.is_empty() {
        let n = size.min(rest.len());
        out.push(Message::Io {
            channel: 0,
            stream: Stream::Stdout,
            data: rest[..n].to_vec(),
        });
        rest = &rest[n..];
        size = 4096 + (size * 7 + 1234) % (12 * 1024);
    }
    out
}

fn encode(messages: &[Message], capacity: usize) -> Vec<u8> {
    let header = Header {
        session_id: "bench".into(),
        ..Header::default()
    };
    let mut w = Writer::create(Vec::with_capacity(capacity), &header).unwrap();
    for (i, m) in messages.iter().enumerate() {
        w.append(i as u64, m).unwrap();
    }
    w.finish_at(0).unwrap().0
}

fn bench(c: &mut Criterion) {
    let corpus = corpus();
    let messages = chunks(&corpus);
    let log = encode(&messages, corpus.len());
    eprintln!(
        "corpus {} bytes in {} io records, log {} bytes ({:.1}% of the input)",
        corpus.len(),
        messages.len(),
        log.len(),
        100.0 * log.len() as f64 / corpus.len() as f64
    );
    let mut g = c.benchmark_group("terminal_io");
    g.throughput(Throughput::Bytes(corpus.len() as u64));
    g.sample_size(20);
    g.bench_function("encode", |b| {
        b.iter(|| black_box(encode(black_box(&messages), log.len() + 4096)))
    });
    g.bench_function("decode", |b| {
        b.iter(|| {
            let reader = Reader::new(black_box(&log[..])).unwrap();
            let mut n = 0usize;
            for e in reader {
                if let Message::Io { data, .. } = e.unwrap().message {
                    n += data.len();
                }
            }
            assert_eq!(n, corpus.len());
        })
    });
    g.bench_function("verify", |b| {
        b.iter(|| assert!(verify(black_box(&log[..])).ok()))
    });
    g.finish();

    // The hash chain's share: SHA-256 over the same bytes. With the SHA-NI backend (chosen
    // at run time by sha2 when the CPU has the `sha_ni` flag) this runs at well over 1 GB/s;
    // the portable code manages a few hundred MB/s.
    let mut g = c.benchmark_group("sha256");
    g.throughput(Throughput::Bytes(corpus.len() as u64));
    g.sample_size(20);
    g.bench_function("corpus", |b| {
        b.iter(|| {
            use sha2::Digest;
            black_box(sha2::Sha256::digest(black_box(&corpus)))
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
