use super::*;
use std::sync::atomic::{AtomicBool, Ordering};

/// Each batch delivered: where it began, and its lines.
type Delivered = Arc<Mutex<Vec<(Position, Vec<Vec<u8>>)>>>;

/// A destination that keeps what it was given, and fails while told to.
#[derive(Clone, Default)]
struct Collect {
    got: Delivered,
    failing: Arc<AtomicBool>,
    gather: Option<Gather>,
}

impl Deliver for Collect {
    fn gather(&self) -> Gather {
        self.gather.unwrap_or(Gather {
            max_lines: 1000,
            max_bytes: 1 << 20,
            max_wait: Duration::ZERO,
        })
    }

    fn deliver(&mut self, batch: &Batch<'_>) -> Result<(), String> {
        if self.failing.load(Ordering::SeqCst) {
            return Err("destination down".into());
        }
        let lines = batch.lines.iter().map(|l| l.to_vec()).collect();
        self.got
            .lock()
            .map_err(|_| "poisoned")?
            .push((batch.start, lines));
        Ok(())
    }
}

impl Collect {
    fn lines(&self) -> Vec<String> {
        let got = self.got.lock().unwrap();
        got.iter()
            .flat_map(|(_, lines)| lines.iter())
            .map(|l| String::from_utf8_lossy(l).into_owned())
            .collect()
    }

    fn batches(&self) -> usize {
        self.got.lock().unwrap().len()
    }
}

fn line(n: u32) -> Vec<u8> {
    format!("{{\"n\":{n}}}\n").into_bytes()
}

fn expected(range: std::ops::Range<u32>) -> Vec<String> {
    range.map(|n| String::from_utf8(line(n)).unwrap()).collect()
}

fn wait_for(what: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !what() {
        assert!(Instant::now() < deadline, "timed out");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn write(spool: &mut Spool, range: std::ops::Range<u32>) {
    for n in range {
        spool.write_line(&line(n)).unwrap();
    }
}

#[test]
fn committed_lines_are_delivered_once_in_order_and_uncommitted_ones_wait() {
    let dir = tempdir("order");
    let mut spool = Spool::open(&dir, Limits::default()).unwrap();
    let collect = Collect::default();
    let forwarder = spool.forward("t", Box::new(collect.clone())).unwrap();
    write(&mut spool, 0..10);
    spool.sync().unwrap();
    spool.commit();
    wait_for(|| collect.lines().len() == 10);
    // Synced but not committed: a crash could still cut it back, so it stays.
    write(&mut spool, 10..15);
    spool.sync().unwrap();
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(collect.lines(), expected(0..10));
    spool.commit();
    wait_for(|| collect.lines().len() == 15);
    assert_eq!(collect.lines(), expected(0..15));
    assert!(forwarder.stop(Duration::from_secs(5)));
    assert_eq!(spool.status().delivered, 15);
    assert_eq!(spool.status().backlog_bytes, 0);
}

#[test]
fn a_failing_destination_is_retried_and_gets_everything_once() {
    let dir = tempdir("retry");
    let mut spool = Spool::open(&dir, Limits::default()).unwrap();
    let collect = Collect::default();
    collect.failing.store(true, Ordering::SeqCst);
    let forwarder = spool.forward("t", Box::new(collect.clone())).unwrap();
    write(&mut spool, 0..5);
    spool.sync().unwrap();
    spool.commit();
    wait_for(|| spool.status().failing.is_some());
    write(&mut spool, 5..8);
    spool.sync().unwrap();
    spool.commit();
    assert!(spool.status().backlog_bytes > 0);
    collect.failing.store(false, Ordering::SeqCst);
    wait_for(|| spool.status().delivered == 8);
    assert_eq!(collect.lines(), expected(0..8));
    let status = spool.status();
    assert!(status.failures >= 1);
    assert_eq!(status.failing, None);
    forwarder.stop(Duration::from_secs(5));
}

#[test]
fn a_restart_resumes_after_what_was_delivered() {
    let dir = tempdir("resume");
    {
        let mut spool = Spool::open(&dir, Limits::default()).unwrap();
        let collect = Collect::default();
        let forwarder = spool.forward("t", Box::new(collect.clone())).unwrap();
        write(&mut spool, 0..4);
        spool.sync().unwrap();
        spool.commit();
        wait_for(|| collect.lines().len() == 4);
        forwarder.stop(Duration::from_secs(5));
        // Spooled and committed, never delivered: the destination went away.
        write(&mut spool, 4..7);
        spool.sync().unwrap();
        spool.commit();
    }
    let spool = Spool::open(&dir, Limits::default()).unwrap();
    assert_eq!(spool.status().backlog_bytes, 3 * line(4).len() as u64);
    let collect = Collect::default();
    let forwarder = spool.forward("t", Box::new(collect.clone())).unwrap();
    wait_for(|| collect.lines().len() == 3);
    assert_eq!(collect.lines(), expected(4..7));
    forwarder.stop(Duration::from_secs(5));
}

#[test]
fn restoring_to_a_mark_removes_what_followed_it_even_across_segments() {
    let dir = tempdir("restore");
    let limits = Limits {
        segment_bytes: 40,
        max_bytes: 1 << 20,
    };
    let mark;
    {
        let mut spool = Spool::open(&dir, limits).unwrap();
        write(&mut spool, 0..3);
        spool.sync().unwrap();
        mark = spool.mark().unwrap();
        write(&mut spool, 3..20);
        spool.sync().unwrap();
    }
    assert!(segments(&dir).unwrap().len() > 2);
    let removed = Spool::restore_to_mark(&dir, mark).unwrap();
    assert_eq!(removed, (3..20).map(|n| line(n).len() as u64).sum::<u64>());
    let mut spool = Spool::open(&dir, limits).unwrap();
    write(&mut spool, 3..6);
    spool.sync().unwrap();
    spool.commit();
    let collect = Collect::default();
    let forwarder = spool.forward("t", Box::new(collect.clone())).unwrap();
    wait_for(|| collect.lines().len() == 6);
    assert_eq!(collect.lines(), expected(0..6));
    forwarder.stop(Duration::from_secs(5));
    // Delivered segments are removed; the current one stays.
    assert_eq!(segments(&dir).unwrap().len(), 1);
}

#[test]
fn a_full_spool_drops_and_counts_instead_of_growing() {
    let dir = tempdir("full");
    let len = line(0).len() as u64;
    let limits = Limits {
        segment_bytes: 1 << 20,
        max_bytes: 3 * len,
    };
    let mut spool = Spool::open(&dir, limits).unwrap();
    write(&mut spool, 0..5);
    let status = spool.status();
    assert_eq!(status.dropped, 2);
    assert_eq!(status.backlog_bytes, 3 * len);
    spool.sync().unwrap();
    spool.commit();
    let collect = Collect::default();
    let forwarder = spool.forward("t", Box::new(collect.clone())).unwrap();
    wait_for(|| collect.lines().len() == 3);
    // Room again once delivered.
    write(&mut spool, 5..6);
    assert_eq!(spool.status().dropped, 2);
    forwarder.stop(Duration::from_secs(5));
}

#[test]
fn a_destination_that_waits_for_full_batches_gets_few_large_ones() {
    let dir = tempdir("gather");
    let mut spool = Spool::open(&dir, Limits::default()).unwrap();
    let collect = Collect {
        gather: Some(Gather {
            max_lines: 50,
            max_bytes: 1 << 20,
            max_wait: Duration::from_millis(600),
        }),
        ..Collect::default()
    };
    let forwarder = spool.forward("t", Box::new(collect.clone())).unwrap();
    for chunk in 0..10 {
        write(&mut spool, chunk * 10..chunk * 10 + 10);
        spool.sync().unwrap();
        spool.commit();
    }
    wait_for(|| collect.lines().len() == 100);
    assert_eq!(collect.lines(), expected(0..100));
    assert_eq!(collect.batches(), 2);
    // The batches begin at the positions their names say.
    let starts: Vec<String> = collect
        .got
        .lock()
        .unwrap()
        .iter()
        .map(|(p, _)| p.name())
        .collect();
    assert_eq!(starts[0], "00000001-0000000000000000");
    forwarder.stop(Duration::from_secs(5));
}

#[test]
fn a_garbled_delivered_file_is_an_error_not_a_guess() {
    let dir = tempdir("garbled");
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("delivered"), "7 x\n").unwrap();
    assert!(matches!(
        Spool::open(&dir, Limits::default()),
        Err(SpoolError::BadDelivered { .. })
    ));
}

fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "sshtrail-spool-{name}-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    let _ = fs::remove_dir_all(&dir);
    dir
}

#[test]
fn stopping_delivers_a_partial_batch_at_once_rather_than_wait_for_it_to_fill() {
    let dir = tempdir("drain");
    let mut spool = Spool::open(&dir, Limits::default()).unwrap();
    let collect = Collect {
        gather: Some(Gather {
            max_lines: 1000,
            max_bytes: 1 << 20,
            // A lake's minute: a shutdown must not sit it out.
            max_wait: Duration::from_secs(60),
        }),
        ..Collect::default()
    };
    let forwarder = spool.forward("t", Box::new(collect.clone())).unwrap();
    write(&mut spool, 0..7);
    spool.sync().unwrap();
    spool.commit();
    let started = std::time::Instant::now();
    assert!(
        forwarder.stop(Duration::from_secs(30)),
        "everything delivered"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "stop waited {:?} for a batch to fill",
        started.elapsed()
    );
    assert_eq!(collect.lines(), expected(0..7));
}
