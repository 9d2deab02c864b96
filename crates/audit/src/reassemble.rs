//! Records → events: grouping by (node, serial), in serial order, with losses counted.
//!
//! The kernel writes the records of one event one after another, but events from
//! different CPUs interleave and can finish out of serial order, and auditd never writes
//! the closing EOE record to disk. So an event is complete when the first of these holds:
//!
//! * its EOE record arrives (netlink);
//! * it is a single-record type (user-space and daemon messages, see [`RecordType::class`]);
//! * its *shape* is whole: a SYSCALL with `items=N`, N PATH records and the PROCTITLE the
//!   kernel writes last (logs on disk);
//! * it has waited [`Config::event_timeout_ms`] since its first record, or the number of
//!   events in flight exceeds [`Config::max_in_flight`] (then the oldest goes).
//!
//! Complete events leave strictly in serial order per node. A serial that never shows up
//! is waited for [`Config::reorder_wait_ms`], then counted as lost ([`Output::Lost`]). A
//! record whose event has already left is handed back as [`Output::Late`], never merged
//! into another event. Serials are 32-bit in the kernel and wrap; a large step backwards
//! that is not a wrap (a reboot, a new log) restarts the sequence without counting loss,
//! and so does any step backwards by a record stamped after every event emitted (the
//! next boot, however few serials the last one used: no event it could belong to has
//! left, since the records of one event share its time stamp).
//!
//! Time is whatever the caller says it is (`now_ms`): wall-clock milliseconds for live
//! sources; for a file replayed at full speed, the number of records read so far, which
//! makes replays repeatable and immune to jumps in the records' own time stamps (a record
//! of an event may be written seconds after the next event began).

use crate::record::{EventId, Record};
use crate::record_type::{RecordClass, RecordType};
use std::collections::BTreeMap;

/// Limits and waits. The defaults suit a live host and a replayed log alike.
#[derive(Clone, Debug)]
pub struct Config {
    /// How long an incomplete event may wait for more records.
    pub event_timeout_ms: u64,
    /// How long a complete event waits for a missing earlier serial before that serial
    /// is counted as lost.
    pub reorder_wait_ms: u64,
    /// Events in flight per node before the oldest is forced out.
    pub max_in_flight: usize,
    /// Records one event may hold; more are handed back as [`Output::Overflow`].
    pub max_records_per_event: usize,
    /// Distinct nodes tracked; records from further nodes pass through as single-record
    /// events rather than grow memory without bound.
    pub max_nodes: usize,
    /// A record this many serials behind the last emitted one is late; further behind, the
    /// serial sequence has restarted (reboot, another log).
    pub late_window: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            event_timeout_ms: 2_000,
            reorder_wait_ms: 500,
            max_in_flight: 4_096,
            max_records_per_event: 4_096,
            max_nodes: 1_024,
            late_window: 100_000,
        }
    }
}

/// Why an event was considered complete.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Completion {
    /// The kernel's end-of-event record arrived.
    Eoe,
    /// A type that is always alone in its event.
    SingleRecord,
    /// SYSCALL + all its PATH records + PROCTITLE.
    Shape,
    /// Waited [`Config::event_timeout_ms`].
    Timeout,
    /// Pushed out by [`Config::max_in_flight`].
    Evicted,
    /// Flushed at the end of input or at a serial restart.
    Flushed,
}

/// One audit event: all records sharing a (node, serial), in arrival order (EOE excluded).
#[derive(Debug, Clone)]
pub struct Event {
    records: Vec<Record>,
    completion: Completion,
}

impl Event {
    pub fn records(&self) -> &[Record] {
        &self.records
    }

    pub fn into_records(self) -> Vec<Record> {
        self.records
    }

    pub fn completion(&self) -> Completion {
        self.completion
    }

    pub fn id(&self) -> EventId {
        self.records.first().map(Record::id).unwrap_or_default()
    }

    pub fn node(&self) -> Option<&str> {
        self.records.first().and_then(Record::node)
    }
}

/// What the reassembler hands back.
#[derive(Debug)]
pub enum Output {
    Event(Event),
    /// `count` serials after `after_serial` never arrived on `node`.
    Lost {
        node: Option<String>,
        after_serial: u64,
        count: u64,
    },
    /// A record whose event had already been emitted.
    Late(Record),
    /// A record that did not fit the limits (records per event, nodes).
    Overflow(Record),
}

/// Counters since creation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub records: u64,
    pub events: u64,
    pub lost: u64,
    pub late: u64,
    pub overflow: u64,
    pub timeouts: u64,
    pub evictions: u64,
    pub serial_resets: u64,
}

struct Pending {
    records: Vec<Record>,
    first_seen_ms: u64,
    completed: Option<(Completion, u64)>,
    syscall_items: Option<u32>,
    paths: u32,
    has_proctitle: bool,
}

/// Records an event is given room for when it begins.
const EVENT_RECORDS: usize = 8;

impl Pending {
    fn new(now_ms: u64) -> Self {
        Pending {
            // Room for a typical syscall event (SYSCALL, EXECVE, CWD, two PATHs,
            // PROCTITLE): one allocation per event instead of growing from 4 to 8.
            records: Vec::with_capacity(EVENT_RECORDS),
            first_seen_ms: now_ms,
            completed: None,
            syscall_items: None,
            paths: 0,
            has_proctitle: false,
        }
    }

    fn note(&mut self, record: &Record) {
        match record.record_type() {
            RecordType::SYSCALL => {
                self.syscall_items = Some(
                    record
                        .value("items")
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(0),
                );
            }
            RecordType::PATH => self.paths += 1,
            RecordType::PROCTITLE => self.has_proctitle = true,
            _ => {}
        }
    }

    fn shape_complete(&self) -> bool {
        self.has_proctitle && self.syscall_items.is_some_and(|items| self.paths >= items)
    }

    fn complete(&mut self, how: Completion, now_ms: u64) {
        if self.completed.is_none() {
            self.completed = Some((how, now_ms));
        }
    }
}

#[derive(Default)]
struct NodeState {
    pending: BTreeMap<u64, Pending>,
    /// Highest extended serial seen, for wrap detection.
    high: Option<u64>,
    last_emitted: Option<u64>,
    /// The latest time stamp (ms) of the events emitted.
    latest_ms: Option<u64>,
    /// The latest time stamp (ms) of any record taken, emitted or not.
    latest_seen_ms: Option<u64>,
}

const WRAP: u64 = 1 << 32;

/// How far past the latest event emitted a record's time stamp may be and still be
/// taken for a repeat by its serial. Records of one event share one time stamp, so any
/// margin is for clocks alone; a reboot takes longer than this.
pub const LATER_BOOT_SLACK_MS: u64 = 2_000;

impl NodeState {
    /// Maps a raw 32-bit serial onto a monotonic 64-bit one across wraps.
    fn extend(&mut self, raw: u64) -> u64 {
        let Some(high) = self.high else {
            self.high = Some(raw);
            return raw;
        };
        if raw >= WRAP {
            // Not a kernel serial (some other producer): take it as is.
            self.high = Some(high.max(raw));
            return raw;
        }
        let epoch = high & !(WRAP - 1);
        let mut ext = epoch | raw;
        if ext + WRAP / 2 < high {
            ext += WRAP;
        } else if ext > high + WRAP / 2 && ext >= WRAP {
            ext -= WRAP;
        }
        self.high = Some(high.max(ext));
        ext
    }
}

/// Groups records into events. Not thread-safe by design: one pipeline thread owns it.
pub struct Reassembler {
    config: Config,
    nodes: Vec<(Option<String>, NodeState)>,
    stats: Stats,
}

impl Default for Reassembler {
    fn default() -> Self {
        Reassembler::new(Config::default())
    }
}

impl Reassembler {
    pub fn new(config: Config) -> Self {
        Reassembler {
            config,
            nodes: Vec::new(),
            stats: Stats::default(),
        }
    }

    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Per node, the (extended) serial of the last event emitted: with a checkpoint, what
    /// lets a restarted reader recognise records of events it already wrote.
    pub fn high_water(&self) -> Vec<(Option<String>, u64)> {
        self.nodes
            .iter()
            .filter_map(|(name, node)| node.last_emitted.map(|last| (name.clone(), last)))
            .collect()
    }

    /// Restores [`Reassembler::high_water`] marks in a fresh reassembler: records of those
    /// nodes at or below the mark are then reported as [`Output::Late`].
    pub fn restore_high_water(&mut self, marks: &[(Option<String>, u64)]) {
        for (name, last) in marks {
            if let Some(index) = self.node_index(name.as_deref()) {
                let node = &mut self.nodes[index].1;
                node.last_emitted = Some(*last);
                node.high = Some(node.high.map_or(*last, |h| h.max(*last)));
            }
        }
    }

    /// Per node, the latest time stamp (ms since the epoch) of the events emitted: saved
    /// with [`Reassembler::high_water`], it tells a record of a later boot from one
    /// already written (see [`Reassembler::already_emitted_at`]).
    pub fn emitted_times(&self) -> Vec<(Option<String>, u64)> {
        self.nodes
            .iter()
            .filter_map(|(name, node)| node.latest_ms.map(|t| (name.clone(), t)))
            .collect()
    }

    /// Restores [`Reassembler::emitted_times`] in a fresh reassembler.
    pub fn restore_emitted_times(&mut self, marks: &[(Option<String>, u64)]) {
        for (name, time_ms) in marks {
            if let Some(index) = self.node_index(name.as_deref()) {
                let node = &mut self.nodes[index].1;
                node.latest_ms = Some(node.latest_ms.map_or(*time_ms, |t| t.max(*time_ms)));
                // Every record of those events was seen, too.
                node.latest_seen_ms =
                    Some(node.latest_seen_ms.map_or(*time_ms, |t| t.max(*time_ms)));
            }
        }
    }

    /// The latest time stamp of the events emitted for `node`, if known.
    pub fn latest_emitted_ms(&self, node: Option<&str>) -> Option<u64> {
        let (_, state) = self.nodes.iter().find(|(n, _)| n.as_deref() == node)?;
        state.latest_ms
    }

    /// [`Reassembler::already_emitted`], knowing the record's time: a record stamped more
    /// than [`LATER_BOOT_SLACK_MS`] after every event emitted cannot belong to one of them
    /// (an event's records share its time stamp), whatever its serial says. That is the
    /// record of a later boot, whose kernel counts serials from 1 again: without the time
    /// it would be taken for a repeat and dropped.
    pub fn already_emitted_at(&self, node: Option<&str>, serial: u64, time_ms: u64) -> bool {
        if self
            .latest_emitted_ms(node)
            .is_some_and(|latest| time_ms > latest.saturating_add(LATER_BOOT_SLACK_MS))
        {
            return false;
        }
        self.already_emitted(node, serial)
    }

    /// Whether a record of `node` with this raw serial belongs to an event already
    /// emitted (at or below the node's high-water mark, allowing for serial wrap).
    pub fn already_emitted(&self, node: Option<&str>, serial: u64) -> bool {
        let Some((_, state)) = self.nodes.iter().find(|(n, _)| n.as_deref() == node) else {
            return false;
        };
        let Some(last) = state.last_emitted else {
            return false;
        };
        let raw_last = last & (WRAP - 1);
        if serial >= WRAP {
            return serial <= last;
        }
        // Within half the serial space behind the mark counts as behind it.
        raw_last.wrapping_sub(serial) & (WRAP - 1) < WRAP / 2
    }

    /// The time stamp (ms) of the earliest event still waiting in memory, over all
    /// nodes: nothing this reassembler will emit from here on is older, but for records
    /// yet to come. Lets a caller that merges this stream with another by time keep the
    /// other from running ahead of what is held here.
    pub fn oldest_pending_ms(&self) -> Option<u64> {
        self.nodes
            .iter()
            .filter_map(|(_, node)| {
                let (_, pending) = node.pending.first_key_value()?;
                pending.records.first().map(|r| r.timestamp().as_millis())
            })
            .min()
    }

    /// Events (not records) waiting in memory, over all nodes.
    pub fn in_flight(&self) -> usize {
        self.nodes.iter().map(|(_, n)| n.pending.len()).sum()
    }

    /// Takes one record; whatever it completes is handed to `emit` in order.
    pub fn push(&mut self, record: Record, now_ms: u64, emit: &mut impl FnMut(Output)) {
        self.stats.records += 1;
        if record.record_type().class() == RecordClass::Daemon {
            // auditd numbers its own DAEMON_* records from a private counter, not the
            // kernel's: they stand alone and must not move the node's serial sequence.
            self.stats.events += 1;
            emit(Output::Event(Event {
                records: vec![record],
                completion: Completion::SingleRecord,
            }));
            return;
        }
        let Some(index) = self.node_index(record.node()) else {
            self.stats.overflow += 1;
            emit(Output::Overflow(record));
            return;
        };
        let config = &self.config;
        let stats = &mut self.stats;
        let (node_name, node) = &mut self.nodes[index];
        let high_before = node.high;
        let ext = node.extend(record.serial());
        let far_behind =
            high_before.is_some_and(|high| ext.saturating_add(config.late_window) < high);
        // Behind the highest serial seen, yet stamped after every record seen: it cannot
        // belong to any of their events (an event's records share its time stamp), and
        // records of one boot only arrive out of serial order by moments. The kernel
        // started counting again (a reboot), however few serials the old boot used.
        let time_ms = record.timestamp().as_millis();
        let after_everything = high_before.is_some_and(|high| ext < high)
            && node
                .latest_seen_ms
                .is_some_and(|latest| time_ms > latest.saturating_add(LATER_BOOT_SLACK_MS));
        node.latest_seen_ms = Some(node.latest_seen_ms.map_or(time_ms, |t| t.max(time_ms)));
        if far_behind || after_everything {
            // The sequence restarted (reboot, another log). Release what the old sequence
            // holds, then start afresh.
            stats.serial_resets += 1;
            drain(node, node_name, config, stats, now_ms, true, emit);
            *node = NodeState {
                latest_seen_ms: Some(time_ms),
                ..NodeState::default()
            };
            let ext = node.extend(record.serial());
            return self.push_new(index, ext, record, now_ms, emit);
        }
        if node.last_emitted.is_some_and(|last| ext <= last) {
            stats.late += 1;
            emit(Output::Late(record));
            return;
        }
        self.push_new(index, ext, record, now_ms, emit)
    }

    fn push_new(
        &mut self,
        index: usize,
        ext: u64,
        record: Record,
        now_ms: u64,
        emit: &mut impl FnMut(Output),
    ) {
        let config = &self.config;
        let stats = &mut self.stats;
        let (node_name, node) = &mut self.nodes[index];
        let record_type = record.record_type();
        let pending = node
            .pending
            .entry(ext)
            .or_insert_with(|| Pending::new(now_ms));
        if record_type == RecordType::EOE {
            pending.complete(Completion::Eoe, now_ms);
        } else if pending.records.len() >= config.max_records_per_event {
            stats.overflow += 1;
            emit(Output::Overflow(record));
        } else {
            pending.note(&record);
            let single = pending.records.is_empty() && record_type.is_single_record();
            pending.records.push(record);
            if single {
                pending.complete(Completion::SingleRecord, now_ms);
            } else if pending.shape_complete() {
                pending.complete(Completion::Shape, now_ms);
            }
        }
        if node
            .pending
            .get(&ext)
            .is_some_and(|p| p.records.is_empty() && p.completed.is_some())
        {
            // An EOE (or overflow) for an event we hold nothing of: nothing to emit.
            node.pending.remove(&ext);
        }
        drain(node, node_name, config, stats, now_ms, false, emit);
    }

    /// Lets time pass: completes events that waited too long and releases what it can.
    pub fn tick(&mut self, now_ms: u64, emit: &mut impl FnMut(Output)) {
        let config = &self.config;
        let stats = &mut self.stats;
        for (node_name, node) in &mut self.nodes {
            drain(node, node_name, config, stats, now_ms, false, emit);
        }
    }

    /// End of input: everything still held leaves, in order.
    pub fn finish(&mut self, emit: &mut impl FnMut(Output)) {
        let config = &self.config;
        let stats = &mut self.stats;
        for (node_name, node) in &mut self.nodes {
            drain(node, node_name, config, stats, u64::MAX, true, emit);
        }
    }

    fn node_index(&mut self, node: Option<&str>) -> Option<usize> {
        // Nearly every log has one node: look at the first entry before searching.
        if let Some((name, _)) = self.nodes.first() {
            if name.as_deref() == node {
                return Some(0);
            }
        }
        if let Some(i) = self.nodes.iter().position(|(n, _)| n.as_deref() == node) {
            return Some(i);
        }
        if self.nodes.len() >= self.config.max_nodes {
            return None;
        }
        self.nodes
            .push((node.map(str::to_string), NodeState::default()));
        Some(self.nodes.len() - 1)
    }
}

/// Releases, in serial order, every event at the front that may leave now.
fn drain(
    node: &mut NodeState,
    node_name: &Option<String>,
    config: &Config,
    stats: &mut Stats,
    now_ms: u64,
    flush_all: bool,
    emit: &mut impl FnMut(Output),
) {
    loop {
        let over_limit = node.pending.len() > config.max_in_flight;
        let Some(mut entry) = node.pending.first_entry() else {
            return;
        };
        let ext = *entry.key();
        let pending = entry.get_mut();
        if pending.completed.is_none() {
            if flush_all {
                pending.complete(Completion::Flushed, now_ms);
            } else if now_ms.saturating_sub(pending.first_seen_ms) >= config.event_timeout_ms {
                stats.timeouts += 1;
                pending.complete(Completion::Timeout, now_ms);
            } else if over_limit {
                stats.evictions += 1;
                pending.complete(Completion::Evicted, now_ms);
            } else {
                return;
            }
        }
        // At the start of a stream nothing says which serial comes first, so the first
        // event waits like any event behind a gap.
        let follows = node.last_emitted.is_some_and(|last| ext == last + 1);
        let waited = now_ms.saturating_sub(pending.first_seen_ms) >= config.reorder_wait_ms;
        if !(follows || waited || over_limit || flush_all) {
            return;
        }
        let pending = entry.remove();
        if let Some(last) = node.last_emitted {
            if ext > last + 1 {
                let count = ext - last - 1;
                stats.lost += count;
                emit(Output::Lost {
                    node: node_name.clone(),
                    after_serial: last & (WRAP - 1),
                    count,
                });
            }
        }
        node.last_emitted = Some(ext);
        let Some(first) = pending.records.first() else {
            continue;
        };
        let time_ms = first.timestamp().as_millis();
        node.latest_ms = Some(node.latest_ms.map_or(time_ms, |t| t.max(time_ms)));
        stats.events += 1;
        let completion = pending
            .completed
            .map_or(Completion::Flushed, |(how, _)| how);
        emit(Output::Event(Event {
            records: pending.records,
            completion,
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse_line;

    fn rec(line: &str) -> Record {
        parse_line(line.as_bytes()).unwrap()
    }

    fn run(lines: &[&str]) -> (Vec<Output>, Stats) {
        let mut r = Reassembler::default();
        let mut out = Vec::new();
        for line in lines {
            let record = rec(line);
            let now = record.timestamp().as_millis();
            r.push(record, now, &mut |o| out.push(o));
        }
        r.finish(&mut |o| out.push(o));
        (out, r.stats())
    }

    /// A reassembler that has already released serial `serial - 1` at `now_ms`, so the
    /// next serial follows without a reorder wait.
    fn primed(serial: u64, now_ms: u64) -> Reassembler {
        let mut r = Reassembler::default();
        let line = format!(
            "type=USER_ACCT msg=audit(1.000:{}): pid=1 msg='res=success'",
            serial - 1
        );
        r.push(rec(&line), now_ms, &mut |_| {});
        r.tick(now_ms + 1_000, &mut |_| {});
        r
    }

    fn serials(out: &[Output]) -> Vec<u64> {
        out.iter()
            .filter_map(|o| match o {
                Output::Event(e) => Some(e.id().serial),
                _ => None,
            })
            .collect()
    }

    const EXEC_EVENT: [&str; 4] = [
        "type=SYSCALL msg=audit(100.000:10): arch=c000003e syscall=59 success=yes exit=0 items=1 ppid=1 pid=2",
        "type=EXECVE msg=audit(100.000:10): argc=1 a0=\"true\"",
        "type=PATH msg=audit(100.000:10): item=0 name=\"/bin/true\"",
        "type=PROCTITLE msg=audit(100.000:10): proctitle=74727565",
    ];

    #[test]
    fn shape_completes_without_eoe() {
        let mut r = primed(10, 90_000);
        let mut out = Vec::new();
        for line in EXEC_EVENT {
            r.push(rec(line), 100_000, &mut |o| out.push(o));
        }
        assert_eq!(out.len(), 1, "complete on PROCTITLE without waiting");
        let Output::Event(event) = &out[0] else {
            panic!("expected an event")
        };
        assert_eq!(event.completion(), Completion::Shape);
        assert_eq!(event.records().len(), 4);
    }

    #[test]
    fn single_record_types_complete_at_once() {
        let mut r = primed(5, 0);
        let mut out = Vec::new();
        r.push(
            rec("type=USER_LOGIN msg=audit(1.000:5): pid=1 uid=0 msg='op=login res=success'"),
            1000,
            &mut |o| out.push(o),
        );
        assert!(
            matches!(&out[..], [Output::Event(e)] if e.completion() == Completion::SingleRecord)
        );
    }

    #[test]
    fn eoe_completes_and_is_not_kept() {
        let (out, stats) = run(&[
            "type=SYSCALL msg=audit(1.000:7): syscall=2 items=0",
            "type=EOE msg=audit(1.000:7): ",
        ]);
        let [Output::Event(event)] = &out[..] else {
            panic!("{out:?}")
        };
        assert_eq!(event.completion(), Completion::Eoe);
        assert_eq!(event.records().len(), 1);
        assert_eq!(stats.lost, 0);
    }

    #[test]
    fn out_of_order_events_leave_in_order_without_loss() {
        let (out, stats) = run(&[
            "type=SYSCALL msg=audit(1.000:12): syscall=2 items=0",
            "type=PROCTITLE msg=audit(1.000:12): proctitle=6C73",
            "type=SYSCALL msg=audit(1.000:11): syscall=2 items=0",
            "type=PROCTITLE msg=audit(1.000:11): proctitle=6C73",
            "type=USER_END msg=audit(1.000:10): pid=1 msg='op=x res=success'",
        ]);
        assert_eq!(serials(&out), vec![10, 11, 12]);
        assert_eq!(stats.lost, 0);
    }

    #[test]
    fn gaps_are_counted_once_and_late_records_reported() {
        let mut r = Reassembler::default();
        let mut out = Vec::new();
        let user = |serial: u32| {
            rec(&format!(
                "type=USER_ACCT msg=audit(1.000:{serial}): pid=1 msg='op=x res=success'"
            ))
        };
        r.push(user(1), 1_000, &mut |o| out.push(o));
        r.tick(1_500, &mut |o| out.push(o));
        r.push(user(5), 1_500, &mut |o| out.push(o));
        // Serial 5 waits for 2..4 until the reorder wait has passed.
        assert_eq!(serials(&out), vec![1]);
        r.tick(1_500 + 499, &mut |o| out.push(o));
        assert_eq!(serials(&out), vec![1]);
        r.tick(1_500 + 500, &mut |o| out.push(o));
        assert_eq!(serials(&out), vec![1, 5]);
        assert_eq!(r.stats().lost, 3);
        r.push(user(3), 2_100, &mut |o| out.push(o));
        assert!(matches!(out.last(), Some(Output::Late(rec)) if rec.serial() == 3));
        assert_eq!(
            r.stats().lost,
            3,
            "a late record never makes the loss count wrap"
        );
    }

    #[test]
    fn serial_rollover_is_not_loss() {
        let (out, stats) = run(&[
            "type=USER_ACCT msg=audit(1.000:4294967294): pid=1 msg='res=success'",
            "type=USER_ACCT msg=audit(1.000:4294967295): pid=1 msg='res=success'",
            "type=USER_ACCT msg=audit(1.000:0): pid=1 msg='res=success'",
            "type=USER_ACCT msg=audit(1.000:1): pid=1 msg='res=success'",
        ]);
        assert_eq!(serials(&out), vec![4294967294, 4294967295, 0, 1]);
        assert_eq!(stats.lost, 0);
    }

    #[test]
    fn serial_restart_after_reboot_is_not_loss() {
        let (out, stats) = run(&[
            "type=USER_ACCT msg=audit(1.000:900000): pid=1 msg='res=success'",
            "type=USER_ACCT msg=audit(2.000:3): pid=1 msg='res=success'",
            "type=USER_ACCT msg=audit(2.000:4): pid=1 msg='res=success'",
        ]);
        assert_eq!(serials(&out), vec![900000, 3, 4]);
        assert_eq!(stats.lost, 0);
        assert_eq!(stats.serial_resets, 1);
    }

    #[test]
    fn daemon_records_do_not_disturb_the_kernel_sequence() {
        // Captured from this machine: auditd's DAEMON_START (its own counter, 973) is
        // followed by the kernel's serial 3.
        let (out, stats) = run(&[
            "type=DAEMON_START msg=audit(1795431099.838:973): op=start ver=3.0.9 format=enriched kernel=6.18.44-fc-v669 auid=4294967295 pid=2358 uid=0 ses=4294967295 res=success",
            "type=CONFIG_CHANGE msg=audit(1795431100.837:3): auid=4294967295 ses=4294967295 op=add_rule key=\"exec\" list=4 res=1",
            "type=USER_ACCT msg=audit(1795431100.900:4): pid=1 msg='res=success'",
        ]);
        assert_eq!(serials(&out), vec![973, 3, 4]);
        assert_eq!((stats.lost, stats.late), (0, 0));
    }

    #[test]
    fn high_water_marks_survive_a_restart() {
        let mut r = Reassembler::default();
        let user = |serial: u32| {
            rec(&format!(
                "type=USER_ACCT msg=audit(1.000:{serial}): pid=1 msg='res=success'"
            ))
        };
        r.push(user(7), 0, &mut |_| {});
        r.tick(1_000, &mut |_| {});
        let marks = r.high_water();
        assert_eq!(marks, vec![(None, 7)]);
        let mut fresh = Reassembler::default();
        fresh.restore_high_water(&marks);
        assert!(fresh.already_emitted(None, 7));
        assert!(fresh.already_emitted(None, 3));
        assert!(!fresh.already_emitted(None, 8));
        assert!(!fresh.already_emitted(Some("other"), 3));
        let mut out = Vec::new();
        fresh.push(user(8), 0, &mut |o| out.push(o));
        fresh.push(user(7), 0, &mut |o| out.push(o));
        assert!(matches!(&out[..], [Output::Event(e), Output::Late(_)] if e.id().serial == 8));
    }

    #[test]
    fn a_later_boot_is_not_taken_for_repeats() {
        let mut r = Reassembler::default();
        let user = |time: &str, serial: u32| {
            rec(&format!(
                "type=USER_ACCT msg=audit({time}:{serial}): pid=1 msg='res=success'"
            ))
        };
        r.push(user("1000.000", 50_000), 0, &mut |_| {});
        r.tick(1_000_000, &mut |_| {});
        let (marks, times) = (r.high_water(), r.emitted_times());
        assert_eq!(times, vec![(None, 1_000_000)]);
        let mut fresh = Reassembler::default();
        fresh.restore_high_water(&marks);
        fresh.restore_emitted_times(&times);
        // The same boot: a lower serial at the same time was written already.
        assert!(fresh.already_emitted_at(None, 49_999, 1_000_000));
        assert!(fresh.already_emitted_at(None, 49_000, 999_000));
        // After a reboot the serials start again, later than anything written.
        assert!(!fresh.already_emitted_at(None, 5, 1_030_000));
        assert!(
            fresh.already_emitted(None, 5),
            "by serial alone it looks written"
        );
        assert!(!fresh.already_emitted_at(None, 50_001, 1_000_000));
        assert_eq!(fresh.latest_emitted_ms(None), Some(1_000_000));
        // And pushed, such a record starts a new sequence instead of coming back late.
        let mut out = Vec::new();
        fresh.push(user("1030.000", 5), 0, &mut |o| out.push(o));
        fresh.finish(&mut |o| out.push(o));
        assert!(
            matches!(&out[..], [Output::Event(e)] if e.id().serial == 5),
            "{out:?}"
        );
        assert_eq!(fresh.latest_emitted_ms(Some("other")), None);
    }

    #[test]
    fn a_reboot_after_few_serials_restarts_the_sequence() {
        // The old boot got to serial 500 (far less than the late window), then the next
        // boot counts from 1 a day later: its events are events, not late records.
        let mut r = Reassembler::default();
        let mut out = Vec::new();
        let exec = |time: &str, serial: u32| {
            [
                format!("type=SYSCALL msg=audit({time}:{serial}): arch=c000003e syscall=59 success=yes exit=0 items=0 ppid=1 pid=2 auid=1000 uid=1000 ses=3 comm=\"true\" exe=\"/usr/bin/true\""),
                format!("type=PROCTITLE msg=audit({time}:{serial}): proctitle=74727565"),
            ]
        };
        for line in exec("1000.000", 500) {
            r.push(rec(&line), 1_000_000, &mut |o| out.push(o));
        }
        r.tick(2_000_000, &mut |o| out.push(o));
        for serial in 1..=3 {
            for line in exec("87400.000", serial) {
                r.push(rec(&line), 87_400_000, &mut |o| out.push(o));
            }
        }
        r.finish(&mut |o| out.push(o));
        let events: Vec<(u64, usize)> = out
            .iter()
            .filter_map(|o| match o {
                Output::Event(e) => Some((e.id().serial, e.records().len())),
                _ => None,
            })
            .collect();
        assert_eq!(events, vec![(500, 2), (1, 2), (2, 2), (3, 2)], "{out:?}");
        assert!(!out.iter().any(|o| matches!(o, Output::Late(_))));
        assert_eq!(r.stats().serial_resets, 1);

        // The same when the old boot's last events are still waiting (a log read at
        // full speed): they leave first, whole, and no serials count as lost.
        let mut r = Reassembler::default();
        let mut out = Vec::new();
        for serial in [500, 501] {
            for line in exec("1000.000", serial) {
                r.push(rec(&line), 0, &mut |o| out.push(o));
            }
        }
        for line in exec("87400.000", 1) {
            r.push(rec(&line), 0, &mut |o| out.push(o));
        }
        r.finish(&mut |o| out.push(o));
        let events: Vec<u64> = out
            .iter()
            .filter_map(|o| match o {
                Output::Event(e) => Some(e.id().serial),
                _ => None,
            })
            .collect();
        assert_eq!(events, vec![500, 501, 1], "{out:?}");
        assert!(
            !out.iter().any(|o| matches!(o, Output::Lost { .. })),
            "{out:?}"
        );
    }

    #[test]
    fn nodes_are_independent() {
        let (out, stats) = run(&[
            "node=a type=USER_ACCT msg=audit(1.000:1): pid=1 msg='res=success'",
            "node=b type=USER_ACCT msg=audit(1.000:500): pid=1 msg='res=success'",
            "node=a type=USER_ACCT msg=audit(1.000:2): pid=1 msg='res=success'",
            "node=b type=USER_ACCT msg=audit(1.000:501): pid=1 msg='res=success'",
        ]);
        let a: Vec<u64> = serials(&out).into_iter().filter(|s| *s < 100).collect();
        let b: Vec<u64> = serials(&out).into_iter().filter(|s| *s >= 100).collect();
        assert_eq!((a, b), (vec![1, 2], vec![500, 501]));
        assert_eq!(stats.lost, 0);
    }

    #[test]
    fn incomplete_event_times_out() {
        let mut r = Reassembler::default();
        let mut out = Vec::new();
        r.push(
            rec("type=AVC msg=audit(1.000:3): avc:  denied  { read } for pid=1"),
            1_000,
            &mut |o| out.push(o),
        );
        assert!(out.is_empty());
        r.tick(2_999, &mut |o| out.push(o));
        assert!(out.is_empty());
        r.tick(3_000, &mut |o| out.push(o));
        assert!(matches!(&out[..], [Output::Event(e)] if e.completion() == Completion::Timeout));
    }

    #[test]
    fn memory_is_bounded_by_max_in_flight() {
        let mut r = Reassembler::new(Config {
            max_in_flight: 8,
            ..Config::default()
        });
        let mut events = 0;
        for serial in 0..100u32 {
            let line = format!("type=SYSCALL msg=audit(1.000:{serial}): syscall=2 items=0");
            r.push(rec(&line), 1_000, &mut |o| {
                if matches!(o, Output::Event(_)) {
                    events += 1;
                }
            });
            assert!(r.in_flight() <= 9);
        }
        assert!(events >= 90);
        assert_eq!(r.stats().evictions as usize, events);
    }

    proptest::proptest! {
        /// Whatever order records of distinct events arrive in, every record comes out
        /// exactly once, events never mix serials, and events leave in serial order.
        #[test]
        fn every_record_once_in_order(order in proptest::collection::vec(0u32..40, 1..120)) {
            let mut r = Reassembler::default();
            let mut out = Vec::new();
            for (i, serial) in order.iter().enumerate() {
                let line = format!("type=SYSCALL msg=audit(1.000:{}): syscall=2 items=0 i={i}", serial + 1);
                r.push(rec(&line), 1_000, &mut |o| out.push(o));
            }
            r.finish(&mut |o| out.push(o));
            let mut seen = 0;
            let mut last = 0;
            for o in &out {
                match o {
                    Output::Event(e) => {
                        proptest::prop_assert!(e.records().iter().all(|r| r.serial() == e.id().serial));
                        proptest::prop_assert!(e.id().serial > last);
                        last = e.id().serial;
                        seen += e.records().len();
                    }
                    Output::Late(_) => seen += 1,
                    Output::Lost { .. } | Output::Overflow(_) => {}
                }
            }
            proptest::prop_assert_eq!(seen, order.len());
        }
    }
}
