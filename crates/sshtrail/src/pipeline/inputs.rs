//! Running the sources and merging what they deliver into one sequence of items.
//!
//! Each source reads on its own thread into a small bounded channel (a slow pipeline
//! slows the readers; nothing queues without bound). The pipeline thread takes the items
//! one at a time, always the one with the earliest event time among the sources' next
//! items, so that the two sides of the join advance together: a catch-up after downtime
//! cannot race hours ahead on one side while the other side's matching lines are still
//! unread. A source that is reading but has not handed anything over yet is waited for,
//! unless the item that would have to wait comes from a stream that cannot be paused
//! (stdin, the kernel) or the reader seems stuck. Sources that are idle (caught up) or
//! ended do not hold the others back.
//!
//! Captured files never go idle, so a replay takes items in exactly the same order every
//! time, however the reader threads are scheduled.

use crate::source::{wall_ms, Batch, Item, Position, Pull, Side, Source, BATCH_ITEMS};
use crossbeam_channel::{bounded, Receiver, Select, Sender, TryRecvError};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Batches a source may have in flight to the pipeline: a file can wait, so a few.
const IN_FLIGHT: usize = 8;

/// The same for a stream that cannot pause (auditd's plugin socket, the kernel): what
/// it holds while the pipeline is busy (a checkpoint's fsync, a burst) is all that
/// stands between a stall and auditd or the kernel dropping records. 64 batches are
/// up to 32,768 records, seconds of a busy host, a few MiB.
const STREAM_IN_FLIGHT: usize = 64;

/// How long a source's pull waits for input before it reports itself idle (and its
/// reader looks at the stop flag): long, since every wake-up of a quiet daemon costs.
const PULL_WAIT: Duration = Duration::from_millis(500);

/// How long the merge waits for a reading source's next batch before going on without.
const STALL_AFTER: Duration = Duration::from_millis(500);

/// How long each reader gathers once a batch has begun, before handing it over.
///
/// A stream that delivers record by record (auditd's plugin pipe, the kernel,
/// journalctl) is then decoded, joined and written a window at a time: one wake-up of
/// each thread and one write of the output per window, not per record. Wake-ups are
/// what a busy host pays most for (tens of µs each on a VM), so this is the daemon's
/// main lever on CPU per exec; each item waits at most this much longer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BatchWait {
    /// Each source's own ([`Source::batch_wait`]): the daemon.
    PerSource,
    /// The same for all: zero for captured files, or the `batch-wait-ms` setting.
    All(Duration),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Delivering (or about to).
    Active,
    /// Caught up since this wall-clock ms.
    Idle(u64),
    Ended,
}

struct Input {
    name: &'static str,
    side: Side,
    rewindable: bool,
    rx: Receiver<Pull>,
    /// The batch being taken from, and the index of its next item.
    batch: Option<(Batch, usize)>,
    state: State,
    /// Waited for in vain: not waited for again until it delivers.
    stalled: bool,
    committed: Arc<Mutex<Option<Position>>>,
    thread: Option<JoinHandle<()>>,
}

/// What [`Inputs::step`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// The next item is [`Inputs::item`] of this input.
    Item(usize),
    /// A side fell idle, woke up or ended: its progress changed.
    Changed(Side),
    /// Nothing within the time given.
    Timeout,
    /// Every source has ended.
    Ended,
}

/// How far one side's sources are, as far as idleness and ending go.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct SideState {
    /// Every source of the side is idle: since when (the latest of them).
    pub idle_since_ms: Option<u64>,
    /// Every source of the side has ended (or the side has none).
    pub ended: bool,
}

pub struct Inputs {
    inputs: Vec<Input>,
    shutdown: Arc<AtomicBool>,
    changed: Vec<Side>,
}

impl Inputs {
    /// Starts one reader thread per source, each gathering for its [`BatchWait`] once a
    /// batch has begun. `shutdown` stops them.
    pub fn start(
        sources: Vec<Box<dyn Source>>,
        shutdown: Arc<AtomicBool>,
        wait: BatchWait,
    ) -> std::io::Result<Inputs> {
        let mut inputs = Vec::with_capacity(sources.len());
        for source in sources {
            let (tx, rx) = bounded(if source.rewindable() {
                IN_FLIGHT
            } else {
                STREAM_IN_FLIGHT
            });
            let committed = Arc::new(Mutex::new(None));
            let name = source.name();
            let side = source.side();
            let rewindable = source.rewindable();
            let linger = match wait {
                BatchWait::PerSource => source.batch_wait(),
                BatchWait::All(wait) => wait,
            };
            let thread = std::thread::Builder::new()
                .name(format!("source-{name}"))
                .spawn({
                    let shutdown = Arc::clone(&shutdown);
                    let committed = Arc::clone(&committed);
                    move || read(source, tx, shutdown, committed, linger)
                })?;
            inputs.push(Input {
                name,
                side,
                rewindable,
                rx,
                batch: None,
                state: State::Active,
                stalled: false,
                committed,
                thread: Some(thread),
            });
        }
        Ok(Inputs {
            inputs,
            shutdown,
            changed: Vec::new(),
        })
    }

    /// The item [`Step::Item`] named, with its batch (for the bytes) and its side.
    pub fn item(&self, index: usize) -> Option<(Side, &Batch, &Item)> {
        let input = self.inputs.get(index)?;
        let (batch, next) = input.batch.as_ref()?;
        Some((input.side, batch, batch.items.get(*next)?))
    }

    /// Done with the item [`Inputs::item`] gave. True if it was its batch's last.
    pub fn consume(&mut self, index: usize) -> bool {
        let Some(input) = self.inputs.get_mut(index) else {
            return false;
        };
        if let Some((batch, next)) = input.batch.as_mut() {
            *next += 1;
            if *next >= batch.items.len() {
                if let Some((batch, _)) = input.batch.take() {
                    batch.recycle();
                }
                return true;
            }
        }
        false
    }

    /// Where each source may consider itself committed (after a checkpoint).
    pub fn commit(&self, side: Side, position: &Position) {
        for input in self.inputs.iter().filter(|i| i.side == side) {
            if let Ok(mut slot) = input.committed.lock() {
                *slot = Some(position.clone());
            }
        }
    }

    pub fn side_state(&self, side: Side) -> SideState {
        let mut state = SideState {
            idle_since_ms: Some(0),
            ended: true,
        };
        for input in self.inputs.iter().filter(|i| i.side == side) {
            match input.state {
                State::Ended => {}
                State::Idle(since) if input.batch.is_none() => {
                    state.ended = false;
                    state.idle_since_ms = state.idle_since_ms.map(|s| s.max(since));
                }
                _ => {
                    state.ended = false;
                    state.idle_since_ms = None;
                }
            }
        }
        if state.ended {
            state.idle_since_ms = None;
        }
        state
    }

    /// Whether a source that cannot be read again has ended (the plugin's stdin closed):
    /// looked at without waiting, for work done before the items are taken (a backfill)
    /// that should stop early then.
    pub fn a_stream_ended(&mut self) -> bool {
        for index in 0..self.inputs.len() {
            self.fill(index);
        }
        self.inputs
            .iter()
            .any(|i| !i.rewindable && i.state == State::Ended)
    }

    /// The names of the sources, for logs.
    pub fn names(&self) -> Vec<&'static str> {
        self.inputs.iter().map(|i| i.name).collect()
    }

    /// Finds the next item, waiting up to `timeout` for one. `held` gives, per side, the
    /// time of the earliest fact the decoder still holds back (the reassembler's oldest
    /// incomplete event): that side's items count as that early, so the other side does
    /// not run ahead of facts that are read but not yet out.
    pub fn step(&mut self, timeout: Duration, held: [Option<u64>; 2]) -> Step {
        // Read off the clock only when there is a wait: most steps take an item at once.
        let mut deadline = None;
        let mut deadline = move || *deadline.get_or_insert_with(|| Instant::now() + timeout);
        loop {
            for index in 0..self.inputs.len() {
                self.fill(index);
            }
            if let Some(side) = self.changed.pop() {
                return Step::Changed(side);
            }
            let best = self.best(held);
            let reading = |input: &Input| {
                input.batch.is_none() && input.state == State::Active && !input.stalled
            };
            let may_wait = best.is_none_or(|b| self.inputs[b].rewindable);
            if may_wait && self.inputs.iter().any(reading) {
                let waiting: Vec<usize> = (0..self.inputs.len())
                    .filter(|&i| reading(&self.inputs[i]))
                    .collect();
                let now = Instant::now();
                let limit = if best.is_some() {
                    deadline().min(now + STALL_AFTER)
                } else {
                    deadline()
                };
                if self.wait_for(&waiting, limit) {
                    continue;
                }
                if let Some(best) = best {
                    // Nothing came from them: go on without them until they deliver.
                    for i in waiting {
                        self.inputs[i].stalled = true;
                    }
                    return Step::Item(best);
                }
                return Step::Timeout;
            }
            if let Some(best) = best {
                return Step::Item(best);
            }
            if self.inputs.iter().all(|i| i.state == State::Ended) {
                return Step::Ended;
            }
            let open: Vec<usize> = (0..self.inputs.len())
                .filter(|&i| self.inputs[i].state != State::Ended)
                .collect();
            if !self.wait_for(&open, deadline()) {
                return Step::Timeout;
            }
        }
    }

    /// The input whose next item is earliest (items without a time first, ties to the
    /// earlier input).
    fn best(&self, held: [Option<u64>; 2]) -> Option<usize> {
        self.inputs
            .iter()
            .enumerate()
            .filter_map(|(i, input)| {
                let (batch, next) = input.batch.as_ref()?;
                let item = batch.items.get(*next)?;
                let time = item.time_ms.unwrap_or(0);
                let held = match input.side {
                    Side::Audit => held[0],
                    Side::Sshd => held[1],
                };
                Some((held.map_or(time, |h| h.min(time)), i))
            })
            .min()
            .map(|(_, i)| i)
    }

    /// Takes what input `index` has sent, without waiting, until it has a batch.
    fn fill(&mut self, index: usize) {
        while self.inputs[index].batch.is_none() && self.inputs[index].state != State::Ended {
            match self.inputs[index].rx.try_recv() {
                Ok(pull) => self.take(index, pull),
                Err(TryRecvError::Empty) => return,
                Err(TryRecvError::Disconnected) => self.take(index, Pull::End),
            }
        }
    }

    fn take(&mut self, index: usize, pull: Pull) {
        let input = &mut self.inputs[index];
        let before = input.state;
        match pull {
            Pull::Batch(batch) => {
                input.stalled = false;
                input.state = State::Active;
                if batch.items.is_empty() {
                    batch.recycle();
                } else {
                    input.batch = Some((batch, 0));
                }
            }
            Pull::Idle => {
                input.stalled = false;
                if !matches!(input.state, State::Idle(_)) {
                    input.state = State::Idle(wall_ms());
                }
            }
            Pull::Pending => input.state = State::Active,
            Pull::End => input.state = State::Ended,
        }
        let side = input.side;
        if before != input.state && !self.changed.contains(&side) {
            self.changed.push(side);
        }
    }

    /// Waits until one of `which` sends something (taken in), or `deadline`.
    fn wait_for(&mut self, which: &[usize], deadline: Instant) -> bool {
        let mut select = Select::new();
        for &i in which {
            select.recv(&self.inputs[i].rx);
        }
        let Ok(op) = select.select_deadline(deadline) else {
            return false;
        };
        let index = which[op.index()];
        let pull = op.recv(&self.inputs[index].rx).unwrap_or(Pull::End);
        self.take(index, pull);
        true
    }

    /// Stops the readers and waits (briefly) for them to let go of what they hold.
    pub fn stop(&mut self, grace: Duration) {
        self.shutdown.store(true, Ordering::Relaxed);
        let deadline = Instant::now() + grace;
        for input in &mut self.inputs {
            // Unblocks a reader waiting to hand over a batch.
            while input.rx.try_recv().is_ok() {}
            if let Some(thread) = input.thread.take() {
                while !thread.is_finished() && Instant::now() < deadline {
                    while input.rx.try_recv().is_ok() {}
                    std::thread::sleep(Duration::from_millis(10));
                }
                if thread.is_finished() {
                    let _ = thread.join();
                }
            }
        }
    }
}

/// One source's reader thread.
fn read(
    mut source: Box<dyn Source>,
    tx: Sender<Pull>,
    shutdown: Arc<AtomicBool>,
    committed: Arc<Mutex<Option<Position>>>,
    linger: Duration,
) {
    let mut idle = false;
    // What the source said when a gathered batch ended (idle, pending, its end), handed
    // over right after it.
    let mut after: Option<Pull> = None;
    // After a batch, the next pull does not wait: a source with nothing more says so at
    // once, so that the merge does not hold the other side back for a whole pull wait
    // while it wonders whether more is coming.
    let mut wait = PULL_WAIT;
    // The last batch was full: the source is ahead of us, so take what it has at once
    // (a window per batch would cap a stream at a batch per window and make auditd
    // drop records for a plugin that falls behind).
    let mut behind = false;
    while !shutdown.load(Ordering::Relaxed) {
        if let Some(position) = committed.lock().ok().and_then(|mut slot| slot.take()) {
            source.commit(&position);
        }
        let pull = match after.take() {
            Some(pull) => pull,
            None => match source.pull(wait) {
                Pull::Batch(batch) if !linger.is_zero() && batch.items.len() < BATCH_ITEMS => {
                    let linger = if behind { Duration::ZERO } else { linger };
                    let (batch, then) = gather(source.as_mut(), batch, linger);
                    after = then;
                    Pull::Batch(batch)
                }
                pull => pull,
            },
        };
        if let Pull::Batch(batch) = &pull {
            behind = batch.items.len() >= BATCH_ITEMS;
        }
        wait = match (&pull, &after) {
            (Pull::Batch(_), None) => Duration::ZERO,
            _ => PULL_WAIT,
        };
        let end = matches!(pull, Pull::End);
        // Idle and pending are told once each time they start: the pipeline keeps the
        // state until the next change.
        match pull {
            Pull::Idle if idle => continue,
            Pull::Idle => idle = true,
            Pull::Pending if !idle => continue,
            _ => idle = false,
        }
        if !send(&tx, pull, &shutdown) || end {
            break;
        }
    }
    source.stop();
}

/// Goes on from `batch` for `linger`: one sleep, then whatever the source has by then,
/// up to a batch. Returns the batch and what the source said when it had no more
/// (`None` when the batch filled up).
fn gather(source: &mut dyn Source, mut batch: Batch, linger: Duration) -> (Batch, Option<Pull>) {
    if !linger.is_zero() {
        std::thread::sleep(linger);
    }
    while batch.items.len() < BATCH_ITEMS {
        match source.pull(Duration::ZERO) {
            Pull::Batch(more) => batch.append(more),
            state => return (batch, Some(state)),
        }
    }
    (batch, None)
}

/// Hands `pull` over, waiting while the pipeline is busy, unless the daemon stops.
fn send(tx: &Sender<Pull>, mut pull: Pull, shutdown: &AtomicBool) -> bool {
    loop {
        match tx.send_timeout(pull, Duration::from_millis(100)) {
            Ok(()) => return true,
            Err(crossbeam_channel::SendTimeoutError::Timeout(back)) => {
                if shutdown.load(Ordering::Relaxed) {
                    return false;
                }
                pull = back;
            }
            Err(crossbeam_channel::SendTimeoutError::Disconnected(_)) => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Payload;

    /// A stream that hands over one record per pull, as auditd's plugin pipe does when
    /// records come one write at a time.
    struct OneAtATime(Receiver<&'static [u8]>);

    impl Source for OneAtATime {
        fn name(&self) -> &'static str {
            "one-at-a-time"
        }
        fn side(&self) -> Side {
            Side::Audit
        }
        fn rewindable(&self) -> bool {
            false
        }
        fn pull(&mut self, timeout: Duration) -> Pull {
            match self.0.recv_timeout(timeout) {
                Ok(line) => {
                    let mut batch = Batch::new();
                    batch.push_line(line, Payload::AuditLine, None, None);
                    Pull::Batch(batch)
                }
                Err(crossbeam_channel::RecvTimeoutError::Timeout) => Pull::Idle,
                Err(crossbeam_channel::RecvTimeoutError::Disconnected) => Pull::End,
            }
        }
    }

    /// Sizes of the batches the pipeline is handed, then whether the source ended.
    fn batches_handed(records: usize, wait: BatchWait) -> (Vec<usize>, bool) {
        let (tx, rx) = bounded(records);
        for _ in 0..records {
            tx.send(b"type=EOE msg=audit(1700000000.000:1): ".as_slice())
                .unwrap();
        }
        // Every record is there before the reader starts, and the source ends after.
        drop(tx);
        let shutdown = Arc::new(AtomicBool::new(false));
        let mut inputs = Inputs::start(vec![Box::new(OneAtATime(rx))], shutdown, wait).unwrap();
        let mut sizes = Vec::new();
        let mut in_batch = 0;
        loop {
            match inputs.step(Duration::from_secs(5), [None, None]) {
                Step::Item(index) => {
                    in_batch += 1;
                    if inputs.consume(index) {
                        sizes.push(in_batch);
                        in_batch = 0;
                    }
                }
                Step::Changed(_) => {}
                Step::Timeout => return (sizes, false),
                Step::Ended => return (sizes, true),
            }
        }
    }

    #[test]
    fn a_stream_read_record_by_record_is_handed_over_a_window_at_a_time() {
        let (sizes, ended) = batches_handed(10, BatchWait::All(Duration::from_millis(20)));
        assert_eq!(sizes, vec![10], "one batch for what came within the wait");
        assert!(
            ended,
            "the end, seen while gathering, still comes after the items"
        );
    }

    #[test]
    fn without_a_batch_wait_each_pull_is_handed_over_as_it_came() {
        let (sizes, ended) = batches_handed(10, BatchWait::All(Duration::ZERO));
        assert_eq!(sizes, vec![1; 10]);
        assert!(ended);
    }

    #[test]
    fn a_source_with_nothing_more_is_idle_right_after_its_batch() {
        for wait in [Duration::ZERO, Duration::from_millis(20)] {
            let shutdown = Arc::new(AtomicBool::new(false));
            let (tx2, rx2) = bounded(4);
            tx2.send(b"type=EOE msg=audit(1700000000.000:1): ".as_slice())
                .unwrap();
            let mut inputs = Inputs::start(
                vec![Box::new(OneAtATime(rx2))],
                Arc::clone(&shutdown),
                BatchWait::All(wait),
            )
            .unwrap();
            let mut steps = Vec::new();
            // Well within a pull's wait (PULL_WAIT) of the start: the idleness is told
            // after the batch, not found when a wait ran out.
            let deadline = Instant::now() + PULL_WAIT / 2;
            while Instant::now() < deadline {
                let left = deadline.saturating_duration_since(Instant::now());
                let step = inputs.step(left, [None, None]);
                if let Step::Item(index) = step {
                    inputs.consume(index);
                }
                steps.push(step);
                if inputs.side_state(Side::Audit).idle_since_ms.is_some() {
                    break;
                }
            }
            assert!(
                inputs.side_state(Side::Audit).idle_since_ms.is_some(),
                "batch wait {wait:?}: {steps:?}"
            );
            shutdown.store(true, Ordering::Relaxed);
            drop(tx2);
        }
    }

    #[test]
    fn a_source_that_is_ahead_is_read_without_a_window_per_batch() {
        // With a window of a second per batch, four batches' worth would take four
        // seconds; only the first batch waits for its window.
        let started = Instant::now();
        let (sizes, ended) =
            batches_handed(4 * BATCH_ITEMS, BatchWait::All(Duration::from_secs(1)));
        assert_eq!(sizes, vec![BATCH_ITEMS; 4]);
        assert!(ended);
        assert!(
            started.elapsed() < Duration::from_millis(2500),
            "a window per batch: {:?}",
            started.elapsed()
        );
    }

    #[test]
    fn a_window_holds_at_most_a_batch() {
        let (sizes, ended) =
            batches_handed(BATCH_ITEMS + 3, BatchWait::All(Duration::from_millis(5)));
        assert_eq!(sizes, vec![BATCH_ITEMS, 3]);
        assert!(ended);
    }
}
