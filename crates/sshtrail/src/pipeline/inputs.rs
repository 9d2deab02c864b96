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

use crate::source::{wall_ms, Batch, Item, Position, Pull, Side, Source};
use crossbeam_channel::{bounded, Receiver, Select, Sender, TryRecvError};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Batches a source may have in flight to the pipeline.
const IN_FLIGHT: usize = 8;

/// How long a source's pull waits for input before it reports itself idle.
const PULL_WAIT: Duration = Duration::from_millis(100);

/// How long the merge waits for a reading source's next batch before going on without.
const STALL_AFTER: Duration = Duration::from_millis(500);

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
    /// Starts one reader thread per source. `shutdown` stops them.
    pub fn start(
        sources: Vec<Box<dyn Source>>,
        shutdown: Arc<AtomicBool>,
    ) -> std::io::Result<Inputs> {
        let mut inputs = Vec::with_capacity(sources.len());
        for source in sources {
            let (tx, rx) = bounded(IN_FLIGHT);
            let committed = Arc::new(Mutex::new(None));
            let name = source.name();
            let side = source.side();
            let rewindable = source.rewindable();
            let thread = std::thread::Builder::new()
                .name(format!("source-{name}"))
                .spawn({
                    let shutdown = Arc::clone(&shutdown);
                    let committed = Arc::clone(&committed);
                    move || read(source, tx, shutdown, committed)
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

    /// Done with the item [`Inputs::item`] gave.
    pub fn consume(&mut self, index: usize) {
        let Some(input) = self.inputs.get_mut(index) else {
            return;
        };
        if let Some((batch, next)) = input.batch.as_mut() {
            *next += 1;
            if *next >= batch.items.len() {
                input.batch = None;
            }
        }
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
        let deadline = Instant::now() + timeout;
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
                    deadline.min(now + STALL_AFTER)
                } else {
                    deadline
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
            if !self.wait_for(&open, deadline) {
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
                if !batch.items.is_empty() {
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
) {
    let mut idle = false;
    while !shutdown.load(Ordering::Relaxed) {
        if let Some(position) = committed.lock().ok().and_then(|mut slot| slot.take()) {
            source.commit(&position);
        }
        let pull = source.pull(PULL_WAIT);
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
