//! Where each source stands, so that a checkpoint commits only what the sinks have.
//!
//! sshd lines are decided the moment they are read (what they leave behind is in the
//! tracker's state, which the checkpoint holds), so their position is simply the last
//! line handled. Audit records are not: the reassembler holds the records of events not
//! yet complete. The audit position committed is therefore the start of the oldest
//! record still being assembled; after a restart the records re-read from there whose
//! events were already written are recognised by event id and skipped.

use crate::checkpoint::AuditPosition;
use crate::source::audit_dir::FilePosition;
use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

#[derive(Default)]
pub struct Positions {
    /// End of the last audit line handled.
    pub audit_read: Option<FilePosition>,
    /// The restored checkpoint's audit position, until a line has been read.
    pub audit_restored: Option<AuditPosition>,
    /// Until this position is passed, re-read records of events already written are
    /// skipped.
    pub replay_until: Option<FilePosition>,
    pub replay_skipped: u64,
    /// Start of the first record of each event still being assembled, in read order.
    in_flight: BTreeMap<u64, FilePosition>,
    in_flight_by_event: HashMap<(Option<String>, u64), u64>,
    /// The event of the last record read while it is still in flight: the records of
    /// an event come one after another, so all but its first are told from it without
    /// hashing (or copying the node name into) a key.
    last_in_flight: Option<(Option<String>, u64)>,
    next_order: u64,
    pub journald_cursor: Option<String>,
    /// End of the last line handled from the syslog file sshd source.
    pub sshd_file: Option<FilePosition>,
    /// Until then, stream records (plugin, netlink) of events already written are
    /// dropped: the window after a backfill.
    pub stream_dedup_until: Option<Instant>,
}

impl Positions {
    /// Where reading must resume so that every event not yet written is read again.
    pub fn audit_resume(&self) -> Option<FilePosition> {
        self.in_flight.values().next().copied().or(self.audit_read)
    }

    /// A record of event (`node`, `serial`) starts `line_len` bytes (and its newline)
    /// before `end`: the first such record of an event is where its event begins.
    pub fn record_read(
        &mut self,
        node: Option<&str>,
        serial: u64,
        line_len: usize,
        end: FilePosition,
    ) {
        let is_last = |(last_node, last_serial): &(Option<String>, u64)| {
            *last_serial == serial && last_node.as_deref() == node
        };
        if self.last_in_flight.as_ref().is_some_and(is_last) {
            return;
        }
        let key = (node.map(str::to_string), serial);
        if self.in_flight_by_event.contains_key(&key) {
            self.last_in_flight = Some(key);
            return;
        }
        let start = FilePosition {
            offset: end.offset.saturating_sub(line_len as u64 + 1),
            ..end
        };
        let order = self.next_order;
        self.next_order += 1;
        self.in_flight.insert(order, start);
        self.in_flight_by_event.insert(key.clone(), order);
        self.last_in_flight = Some(key);
    }

    /// Event (`node`, `serial`) left the reassembler: its records need not be read again.
    pub fn event_done(&mut self, node: Option<&str>, serial: u64) {
        if self.in_flight_by_event.is_empty() {
            return;
        }
        let key = (node.map(str::to_string), serial);
        if self.last_in_flight.as_ref() == Some(&key) {
            self.last_in_flight = None;
        }
        if let Some(order) = self.in_flight_by_event.remove(&key) {
            self.in_flight.remove(&order);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(offset: u64) -> FilePosition {
        FilePosition {
            offset,
            ..FilePosition::default()
        }
    }

    #[test]
    fn resume_is_the_first_record_of_the_oldest_event_in_flight() {
        let mut positions = Positions::default();
        // Event 1's records (lines of 9 bytes and a newline), then event 2's, then
        // event 1's again after event 2 began.
        positions.record_read(None, 1, 9, at(10));
        positions.record_read(None, 1, 9, at(20));
        positions.record_read(None, 2, 9, at(30));
        positions.record_read(None, 1, 9, at(40));
        positions.record_read(Some("web-1"), 2, 9, at(50));
        assert_eq!(positions.audit_resume(), Some(at(0)));
        positions.event_done(None, 1);
        assert_eq!(positions.audit_resume(), Some(at(20)));
        positions.event_done(None, 2);
        assert_eq!(positions.audit_resume(), Some(at(40)));
        positions.event_done(Some("web-1"), 2);
        assert_eq!(positions.audit_resume(), None);
    }

    #[test]
    fn a_record_of_an_event_already_done_is_in_flight_again() {
        let mut positions = Positions::default();
        positions.record_read(None, 7, 9, at(10));
        positions.event_done(None, 7);
        positions.record_read(None, 7, 9, at(20));
        assert_eq!(positions.audit_resume(), Some(at(10)));
    }
}
