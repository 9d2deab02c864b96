//! [`AuditClient`]: requests to the kernel audit system and records from it.

use super::socket::{self, Socket};
use super::status::{Features, Status, STATUS_PID};
use super::NetlinkError;
use crate::rule::RuleData;
use std::collections::VecDeque;
use std::io;
use std::time::{Duration, Instant};

/// Message types of requests and replies (`linux/audit.h`, `linux/netlink.h`).
pub const NLMSG_ERROR: u16 = 2;
pub const NLMSG_DONE: u16 = 3;
pub const AUDIT_GET: u16 = 1000;
pub const AUDIT_SET: u16 = 1001;
pub const AUDIT_ADD_RULE: u16 = 1011;
pub const AUDIT_DEL_RULE: u16 = 1012;
pub const AUDIT_LIST_RULES: u16 = 1013;
pub const AUDIT_TTY_GET: u16 = 1016;
pub const AUDIT_GET_FEATURE: u16 = 1019;

const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_ACK: u16 = 0x4;

/// Multicast group of the audit records (`AUDIT_NLGRP_READLOG`).
pub const AUDIT_NLGRP_READLOG: u32 = 1;

/// Receive buffer asked for by default: the kernel's backlog can burst thousands of
/// records; a small buffer turns bursts into ENOBUFS (lost records).
pub const DEFAULT_RECEIVE_BUFFER: usize = 8 << 20;

/// Longest wait for a reply to a request.
const REPLY_TIMEOUT: Duration = Duration::from_secs(5);

/// Records kept while waiting for a reply, before further ones count as dropped.
const MAX_PENDING: usize = 1 << 16;

/// A datagram can be at most this long (`MAX_AUDIT_MESSAGE_LENGTH` plus header).
const RECEIVE_BUFFER: usize = 10_000;

/// Datagrams [`AuditClient::receive_each`] takes per syscall.
const RECEIVE_MANY: usize = 32;

/// How a client gets records, if at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Requests only (status, rules).
    Control,
    /// Registered as the audit daemon: the kernel sends every record here.
    Unicast,
    /// A reader beside the daemon on the `AUDIT_NLGRP_READLOG` group.
    Multicast,
}

/// One record as the kernel sent it; parse it with [`crate::parse_netlink`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawRecord {
    pub msg_type: u16,
    pub payload: Vec<u8>,
}

/// Receive counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReceiveStats {
    /// Times the socket overflowed (ENOBUFS): records were lost in between.
    pub enobufs: u64,
    /// Datagrams from anything but the kernel, dropped.
    pub foreign: u64,
    /// Datagrams longer than the receive buffer, dropped.
    pub truncated: u64,
    /// Records dropped because too many arrived while waiting for a reply.
    pub pending_dropped: u64,
}

/// The TTY auditing setting of the calling process (`struct audit_tty_status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TtyStatus {
    pub enabled: u32,
    pub log_passwd: u32,
}

/// A client of the kernel audit system over netlink.
#[derive(Debug)]
pub struct AuditClient {
    sock: Socket,
    seq: u32,
    mode: Mode,
    buf: Vec<u8>,
    pending: VecDeque<RawRecord>,
    /// Slots for [`AuditClient::receive_each`], made at its first use.
    many: Option<Vec<u8>>,
    stats: ReceiveStats,
}

/// What a request waits for.
enum Expect {
    /// An acknowledgement (NLMSG_ERROR with 0).
    Ack,
    /// One reply of this type.
    Reply(u16),
    /// Replies of this type until NLMSG_DONE.
    Multi(u16),
}

impl AuditClient {
    /// A client for requests (status, rules). Needs CAP_AUDIT_CONTROL for anything
    /// that changes state.
    pub fn open() -> Result<AuditClient, NetlinkError> {
        Ok(AuditClient {
            sock: Socket::open()?,
            seq: 0,
            mode: Mode::Control,
            buf: vec![0; RECEIVE_BUFFER],
            pending: VecDeque::new(),
            many: None,
            stats: ReceiveStats::default(),
        })
    }

    /// A reader beside the audit daemon: joins the read-log multicast group (needs
    /// CAP_AUDIT_READ) with a large receive buffer.
    pub fn multicast() -> Result<AuditClient, NetlinkError> {
        let mut client = AuditClient::open()?;
        client.sock.set_receive_buffer(DEFAULT_RECEIVE_BUFFER)?;
        client.sock.join_group(AUDIT_NLGRP_READLOG)?;
        client.mode = Mode::Multicast;
        Ok(client)
    }

    /// Registers this process as the audit daemon: from now on the kernel sends every
    /// record to this socket (and none to auditd). Fails with EEXIST while another
    /// daemon is registered.
    pub fn unicast() -> Result<AuditClient, NetlinkError> {
        let mut client = AuditClient::open()?;
        client.sock.set_receive_buffer(DEFAULT_RECEIVE_BUFFER)?;
        let status = Status {
            pid: std::process::id(),
            ..Status::default()
        };
        client.set_status(&status, STATUS_PID)?;
        client.mode = Mode::Unicast;
        Ok(client)
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Sets the receive buffer; returns the size the kernel granted.
    pub fn set_receive_buffer(&self, bytes: usize) -> Result<usize, NetlinkError> {
        self.sock.set_receive_buffer(bytes)
    }

    /// The port id of this client's socket (the kernel sends to it).
    pub fn port_id(&self) -> Result<u32, NetlinkError> {
        self.sock.port_id()
    }

    pub fn stats(&self) -> ReceiveStats {
        self.stats
    }

    /// The kernel's status (`auditctl -s`).
    pub fn status(&mut self) -> Result<Status, NetlinkError> {
        let replies = self.request(AUDIT_GET, &[], Expect::Reply(AUDIT_GET))?;
        replies
            .first()
            .map(|p| Status::decode(p))
            .ok_or(NetlinkError::NoReply("status"))
    }

    /// Changes the values whose `STATUS_*` bit is in `mask`.
    pub fn set_status(&mut self, status: &Status, mask: u32) -> Result<(), NetlinkError> {
        self.request(AUDIT_SET, &status.encode(mask), Expect::Ack)
            .map(drop)
    }

    /// The switchable features (loginuid immutable).
    pub fn features(&mut self) -> Result<Features, NetlinkError> {
        let replies = self.request(AUDIT_GET_FEATURE, &[], Expect::Reply(AUDIT_GET_FEATURE))?;
        replies
            .first()
            .map(|p| Features::decode(p))
            .ok_or(NetlinkError::NoReply("features"))
    }

    /// TTY auditing of this process.
    pub fn tty_status(&mut self) -> Result<TtyStatus, NetlinkError> {
        let replies = self.request(AUDIT_TTY_GET, &[], Expect::Reply(AUDIT_TTY_GET))?;
        let p = replies.first().ok_or(NetlinkError::NoReply("tty status"))?;
        let word = |i: usize| {
            p.get(i * 4..i * 4 + 4)
                .map_or(0, |b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
        };
        Ok(TtyStatus {
            enabled: word(0),
            log_passwd: word(1),
        })
    }

    /// Every rule in the kernel, in list order.
    pub fn list_rules(&mut self) -> Result<Vec<RuleData>, NetlinkError> {
        let replies = self.request(AUDIT_LIST_RULES, &[], Expect::Multi(AUDIT_LIST_RULES))?;
        replies
            .iter()
            .map(|p| RuleData::decode(p).map_err(NetlinkError::Rule))
            .collect()
    }

    /// Adds a rule (EEXIST if an equal one is there).
    pub fn add_rule(&mut self, rule: &RuleData) -> Result<(), NetlinkError> {
        self.request(AUDIT_ADD_RULE, &rule.encode(), Expect::Ack)
            .map(drop)
    }

    /// Deletes the rule equal to `rule` (ENOENT if there is none).
    pub fn delete_rule(&mut self, rule: &RuleData) -> Result<(), NetlinkError> {
        self.request(AUDIT_DEL_RULE, &rule.encode(), Expect::Ack)
            .map(drop)
    }

    /// Deletes every rule (`auditctl -D`); returns how many.
    pub fn delete_all_rules(&mut self) -> Result<usize, NetlinkError> {
        let rules = self.list_rules()?;
        for rule in &rules {
            self.delete_rule(rule)?;
        }
        Ok(rules.len())
    }

    /// The next record, waiting at most `timeout` (`None`: no record in time).
    /// ENOBUFS is counted in [`ReceiveStats::enobufs`] (records were lost) and reading
    /// goes on.
    pub fn receive(&mut self, timeout: Duration) -> Result<Option<RawRecord>, NetlinkError> {
        if let Some(r) = self.pending.pop_front() {
            return Ok(Some(r));
        }
        let deadline = Instant::now() + timeout;
        loop {
            // Replies are not expected here; records go to `pending`.
            let (_, got_datagram) = self.receive_datagram(None, deadline)?;
            if let Some(r) = self.pending.pop_front() {
                return Ok(Some(r));
            }
            if !got_datagram {
                return Ok(None);
            }
        }
    }

    /// Hands each record already queued to `each` (type, payload), up to `max`, without
    /// copying or allocating; if none is queued, waits at most `timeout` for one first.
    /// Returns how many it handed over. The reading loop of a busy source: one `recv`
    /// per record and no clock reads, where [`AuditClient::receive`] allocates each.
    pub fn receive_each(
        &mut self,
        timeout: Duration,
        max: usize,
        mut each: impl FnMut(u16, &[u8]),
    ) -> Result<usize, NetlinkError> {
        let mut handed = 0;
        while handed < max {
            let Some(r) = self.pending.pop_front() else {
                break;
            };
            each(r.msg_type, &r.payload);
            handed += 1;
        }
        let mut waited = timeout.is_zero();
        let mut lens = [0usize; RECEIVE_MANY];
        let mut senders = [socket::Sender::default(); RECEIVE_MANY];
        let buf = self
            .many
            .get_or_insert_with(|| vec![0; RECEIVE_MANY * RECEIVE_BUFFER]);
        while handed < max {
            let wanted = (max - handed).min(RECEIVE_MANY);
            let got = match self.sock.recv_many(
                buf,
                RECEIVE_BUFFER,
                &mut lens[..wanted],
                &mut senders[..wanted],
            ) {
                Ok(got) => got,
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                    self.stats.enobufs += 1;
                    continue;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if handed > 0 || waited {
                        break;
                    }
                    waited = true;
                    self.sock
                        .wait_readable(timeout)
                        .map_err(|e| NetlinkError::Io("poll", e))?;
                    continue;
                }
                Err(e) => return Err(NetlinkError::Io("receive", e)),
            };
            for i in 0..got {
                if senders[i].pid != 0 {
                    // Only the kernel (port 0) may speak on this socket.
                    self.stats.foreign += 1;
                    continue;
                }
                if lens[i] > RECEIVE_BUFFER {
                    self.stats.truncated += 1;
                    continue;
                }
                let datagram = &buf[i * RECEIVE_BUFFER..][..lens[i]];
                for m in socket::messages(datagram) {
                    if carries_a_record(m.msg_type) {
                        each(m.msg_type, m.payload);
                        handed += 1;
                    }
                }
            }
            if got < wanted {
                // The queue is empty now: what comes next is the next pull's.
                break;
            }
        }
        Ok(handed)
    }

    /// Unregisters as the audit daemon if registered, then closes. Records arriving
    /// meanwhile are read and dropped, so a full socket cannot keep the reply from
    /// arriving (the deadlock of closing under load).
    pub fn close(mut self) -> Result<(), NetlinkError> {
        if self.mode == Mode::Unicast {
            self.mode = Mode::Control;
            let status = Status {
                pid: 0,
                ..Status::default()
            };
            self.set_status(&status, STATUS_PID)?;
        }
        Ok(())
    }

    /// Sends a request and collects the replies it expects.
    fn request(
        &mut self,
        msg_type: u16,
        payload: &[u8],
        expect: Expect,
    ) -> Result<Vec<Vec<u8>>, NetlinkError> {
        self.seq = self.seq.wrapping_add(1).max(1);
        let seq = self.seq;
        // Replies to GET and LIST come from a kernel thread and may arrive after the
        // ack; ask for an ack only when the ack is the answer. Errors come regardless.
        let flags = match expect {
            Expect::Ack => NLM_F_REQUEST | NLM_F_ACK,
            _ => NLM_F_REQUEST,
        };
        self.sock
            .send(&socket::build(msg_type, flags, seq, payload))?;
        let deadline = Instant::now() + REPLY_TIMEOUT;
        let mut replies = Vec::new();
        loop {
            let (got, got_datagram) = self.receive_datagram(Some(seq), deadline)?;
            if !got_datagram {
                return Err(NetlinkError::NoReply(request_name(msg_type)));
            }
            for reply in got {
                match reply {
                    Reply::Error(0) => {
                        if matches!(expect, Expect::Ack) {
                            return Ok(replies);
                        }
                    }
                    Reply::Error(errno) => {
                        return Err(NetlinkError::Kernel {
                            request: request_name(msg_type),
                            error: io::Error::from_raw_os_error(errno),
                        })
                    }
                    Reply::Done => {
                        if matches!(expect, Expect::Multi(_)) {
                            return Ok(replies);
                        }
                    }
                    Reply::Data(t, p) => match expect {
                        Expect::Reply(want) if t == want => return Ok(vec![p]),
                        Expect::Multi(want) if t == want => replies.push(p),
                        _ => {}
                    },
                }
            }
        }
    }

    /// Reads one datagram, waiting until `deadline`. Replies to `seq` are returned;
    /// records go to `pending`. The flag is false when the deadline passed with
    /// nothing to read.
    fn receive_datagram(
        &mut self,
        seq: Option<u32>,
        deadline: Instant,
    ) -> Result<(Vec<Reply>, bool), NetlinkError> {
        let (len, sender) = loop {
            match self.sock.recv(&mut self.buf) {
                Ok(r) => break r,
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                    // The socket overflowed: the kernel dropped records meant for us.
                    // Count it and go on; what follows is intact.
                    self.stats.enobufs += 1;
                    return Ok((Vec::new(), true));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Ok((Vec::new(), false));
                    }
                    self.sock
                        .wait_readable(left)
                        .map_err(|e| NetlinkError::Io("poll", e))?;
                }
                Err(e) => return Err(NetlinkError::Io("receive", e)),
            }
        };
        // Only the kernel (port 0) may speak on this socket; anything else could forge
        // records or replies.
        if sender.pid != 0 {
            self.stats.foreign += 1;
            return Ok((Vec::new(), true));
        }
        if len > self.buf.len() {
            self.stats.truncated += 1;
            return Ok((Vec::new(), true));
        }
        let mut replies = Vec::new();
        for m in socket::split(&self.buf[..len]) {
            let ours = seq.is_some_and(|s| s == m.seq);
            match m.msg_type {
                NLMSG_ERROR if ours => {
                    let code = m
                        .payload
                        .get(..4)
                        .map_or(0, |b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]]));
                    replies.push(Reply::Error(code.saturating_neg()));
                }
                NLMSG_DONE if ours => replies.push(Reply::Done),
                AUDIT_GET | AUDIT_LIST_RULES | AUDIT_GET_FEATURE | AUDIT_TTY_GET if ours => {
                    replies.push(Reply::Data(m.msg_type, m.payload.to_vec()))
                }
                t if carries_a_record(t) => {
                    if self.pending.len() >= MAX_PENDING {
                        self.stats.pending_dropped += 1;
                    } else {
                        self.pending.push_back(RawRecord {
                            msg_type: t,
                            payload: m.payload.to_vec(),
                        });
                    }
                }
                _ => {}
            }
        }
        Ok((replies, true))
    }
}

/// Whether a message of this type is a record: netlink's control messages (below 16)
/// and replies to requests (ours or stale ones) are not.
fn carries_a_record(msg_type: u16) -> bool {
    msg_type >= 16
        && !matches!(
            msg_type,
            AUDIT_GET | AUDIT_LIST_RULES | AUDIT_GET_FEATURE | AUDIT_TTY_GET
        )
}

impl Drop for AuditClient {
    fn drop(&mut self) {
        // Unregister so the kernel does not keep queueing for a dead port (it would
        // notice on the next send, but records in between would be lost).
        if self.mode == Mode::Unicast {
            self.mode = Mode::Control;
            let status = Status {
                pid: 0,
                ..Status::default()
            };
            let _ = self.set_status(&status, STATUS_PID);
        }
    }
}

enum Reply {
    Error(i32),
    Done,
    Data(u16, Vec<u8>),
}

fn request_name(msg_type: u16) -> &'static str {
    match msg_type {
        AUDIT_GET => "get status",
        AUDIT_SET => "set status",
        AUDIT_ADD_RULE => "add rule",
        AUDIT_DEL_RULE => "delete rule",
        AUDIT_LIST_RULES => "list rules",
        AUDIT_GET_FEATURE => "get features",
        AUDIT_TTY_GET => "get tty status",
        _ => "request",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datagrams_from_other_processes_are_dropped() {
        let mut client = AuditClient::open().unwrap();
        let port = client.port_id().unwrap();
        let forger = Socket::open().unwrap();
        // A forged record: right format, wrong sender.
        let fake = socket::build(1309, 0, 0, b"audit(1.000:1): argc=1 a0=\"forged\"");
        if let Err(e) = forger.send_to(&fake, port) {
            eprintln!("skipped: cannot send to another netlink port here ({e})");
            return;
        }
        let got = client.receive(Duration::from_millis(300)).unwrap();
        assert_eq!(got, None);
        assert_eq!(client.stats().foreign, 1);
    }
}
