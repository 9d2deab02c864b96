//! Coalescing: the records of one audit event → one normalized object.
//!
//! An `execve` arrives as five or six records; a login as a single PAM message; an
//! AppArmor denial as an AVC plus the SYSCALL that caused it. [`coalesce`] turns each
//! into the same shape, the one users of go-libaudit's `aucoalesce` know:
//!
//! * `summary`: **actor** (`primary` = the login identity `auid`, `secondary` = the
//!   account acted as), **action** (a verb from our own [`vocabulary`] table:
//!   `executed`, `connected-to`, `logged-in`, …), **object** (`type`, `primary`,
//!   `secondary`: the file, socket, session or policy acted on) and **how** (the program);
//! * `user` (ids and names), `process` (pid, ppid, title, name, exe, cwd, args), `file`,
//!   `paths`, `source`/`destination`, `data` (every field nothing else took) and `ecs`.
//!
//! ```
//! use sshtrail_audit::coalesce::Coalescer;
//! use sshtrail_audit::interpret::NoNames;
//! use sshtrail_audit::parse_line;
//!
//! let lines = [
//!     "type=USER_LOGIN msg=audit(1700000000.000:7): pid=9 uid=0 auid=1000 ses=3 \
//!      msg='op=login id=1000 exe=\"/usr/sbin/sshd\" hostname=? addr=10.0.0.1 terminal=/dev/pts/0 res=success'",
//! ];
//! let records: Vec<_> = lines.iter().map(|l| parse_line(l.as_bytes()).unwrap()).collect();
//! let coalescer = Coalescer::new(&NoNames);
//! let event = coalescer.coalesce(&records);
//! assert_eq!(event.summary.action, Some("logged-in"));
//! assert_eq!(event.session.as_deref(), Some("3"));
//! let mut json = Vec::new();
//! coalescer.write_json(&records, &mut json).unwrap();
//! assert!(json.starts_with(b"{\"@timestamp\":\"2023-11-14T22:13:20.000Z\""));
//! ```
//!
//! Names: ENRICHED logs carry the recording host's names (`AUID="alice"`) and those win;
//! otherwise the [`NameResolver`] is asked (pass [`NoNames`](crate::interpret::NoNames)
//! when replaying another host's logs).
//!
//! # Differences from go-libaudit and audito-maldito
//!
//! The compatibility test (`tests/peer_compat.rs`) compares action, object type and
//! primary, result and session with go-libaudit's aucoalesce goldens, and action, how and
//! object with audito-maldito's UserActions. Where we differ on purpose the case is listed
//! in [`DELIBERATE_DIFFERENCES`] with the reason; those count as agreement, nothing else
//! does, and the test fails if a listed difference stops occurring. In short:
//!
//! | where | theirs | ours | why |
//! |---|---|---|---|
//! | RHEL 7 `mknod` (PATH `objtype=`) | object = the PARENT directory | the created node | we read `objtype=` as well as `nametype=` |
//! | `getpeername`, `getsockname` | no action, no object | `checked-peer-address-of` / `checked-address-of`, socket | a rule on them deserves an answer |
//! | LOGIN + its SYSCALL (one serial) | two UserActions (`changed-login-id-to`, `wrote-to-file`) | one event, `changed-login-id-to`, `how` = sshd/cron | one kernel event is reported once |
//!
//! Fields the tests do not compare, where we also chose differently:
//!
//! * `category`: LOGIN is `user-login` and TIME_INJOFFSET/TIME_ADJNTPVAL `time` (go-libaudit:
//!   `unknown`), so a category filter finds logins and clock changes.
//! * `@timestamp` always has three millisecond digits (`.080Z`, not `.08Z`).
//! * `how` of ANOM_ABEND is the signal's name (`SIGSEGV`), not its number.
//! * ENRICHED logs: names come from auditd's translations after the 0x1D separator
//!   (go-libaudit merges them into the preceding value and loses them); `actor`,
//!   `user.names` and `file.owner`/`group` use them.
//! * `renamed` has the new name as `object.secondary`.
//! * `ecs.user` is filled for syscall events too (`id` = uid, `effective` when euid
//!   differs), and `ecs.group` with the gid.
//! * `paths` lists every PATH record; `data` holds what nothing else took, first value of
//!   a repeated key (go-libaudit also keeps the first and warns).

mod ecs;
pub mod event;
mod fields;
mod ids;
mod normalize;
mod objects;
pub mod vocabulary;
mod write;

pub use event::{
    Actor, Address, CoalescedEvent, Direction, Ecs, EcsEvent, EcsIdentity, EcsUser, FileInfo, List,
    Network, Object, Outcome, Pairs, PathRecord, Perm, Process, SeLinux, Summary, Text, User,
};
pub use ids::IdMap;

use crate::interpret::NameResolver;
use crate::record::Record;

/// Coalesces the records of one event (one node and serial, in arrival order).
///
/// Never fails: an empty slice gives an event with only `category: "unknown"` and
/// `result: "unknown"`; records it does not understand end up in `data`.
pub fn coalesce<'a>(records: &'a [Record], resolver: &dyn NameResolver) -> CoalescedEvent<'a> {
    normalize::build(records, resolver)
}

/// [`coalesce`] without the parts that only describe: `data`, `paths`,
/// `process.title` and `ecs` are left empty; everything else (summary, process, user,
/// session, tags, result, …) is exactly as [`coalesce`] makes it. For consumers that
/// report who did what (the session tracker), at a fraction of the cost.
pub fn coalesce_summary<'a>(
    records: &'a [Record],
    resolver: &dyn NameResolver,
) -> CoalescedEvent<'a> {
    normalize::build_with(records, resolver, normalize::Detail::Summary)
}

/// A coalescer bound to a name resolver, with a JSON writer for the hot path.
pub struct Coalescer<'r> {
    resolver: &'r dyn NameResolver,
}

impl<'r> Coalescer<'r> {
    pub fn new(resolver: &'r dyn NameResolver) -> Self {
        Coalescer { resolver }
    }

    pub fn coalesce<'a>(&self, records: &'a [Record]) -> CoalescedEvent<'a> {
        normalize::build(records, self.resolver)
    }

    /// Appends the event as one JSON object and a newline to `out` (reuse `out` across
    /// events to avoid allocating). The bytes are exactly those of `serde_json` on the
    /// [`CoalescedEvent`], written by a direct writer that is several times faster.
    /// (It cannot fail today; the `Result` keeps room for writers that can.)
    pub fn write_json(
        &self,
        records: &[Record],
        out: &mut Vec<u8>,
    ) -> Result<(), serde_json::Error> {
        let event = self.coalesce(records);
        write::write_event(&event, out);
        out.push(b'\n');
        Ok(())
    }
}

/// Cases where our output differs from a peer's golden on purpose.
#[derive(Clone, Copy, Debug)]
pub struct Difference {
    /// `go-libaudit` or `audito-maldito`.
    pub peer: &'static str,
    /// The golden cases: test names, or `seq N action` for audito-maldito's UserActions.
    pub cases: &'static [&'static str],
    /// The compared fields that differ: `action`, `object.type`, `object.primary`,
    /// `object.secondary`, `how`, `result`, `session`.
    pub fields: &'static [&'static str],
    pub why: &'static str,
}

impl Difference {
    /// Whether this entry explains a difference in `field` of `case`.
    pub fn covers(&self, peer: &str, case: &str, field: &str) -> bool {
        self.peer == peer && self.cases.contains(&case) && self.fields.contains(&field)
    }
}

/// Every deliberate difference from the peers' goldens, with the reason.
pub const DELIBERATE_DIFFERENCES: &[Difference] = &[
    Difference {
        peer: "go-libaudit",
        cases: &["make-device"],
        fields: &["object.primary"],
        why: "RHEL 7 kernels label PATH records `objtype=` where later ones write \
              `nametype=`; we read both, so the object of mknod is the node it created \
              (`/run/systemd/sessions/23.ref`), not its PARENT directory.",
    },
    Difference {
        peer: "go-libaudit",
        cases: &["getpeername syscall", "getsockname syscall"],
        fields: &["action", "object.type", "object.primary"],
        why: "go-libaudit has no words for getpeername/getsockname and leaves the summary \
              empty; an auditor who put a rule on them gets a verb and the socket address.",
    },
    Difference {
        peer: "audito-maldito",
        cases: &[
            "seq 29923 wrote-to-file",
            "seq 29929 wrote-to-file",
            "seq 29935 wrote-to-file",
            "seq 30166 wrote-to-file",
        ],
        fields: &["action", "object.type", "object.primary"],
        why: "LOGIN and the SYSCALL of the write to /proc/self/loginuid share one serial, so \
              they are one kernel event; audito-maldito's reassembly split them and \
              reported the write a second time. We report the event once, as the login-id \
              change it is.",
    },
    Difference {
        peer: "audito-maldito",
        cases: &[
            "seq 29923 changed-login-id-to",
            "seq 29929 changed-login-id-to",
            "seq 30166 changed-login-id-to",
            "seq 29935 changed-login-id-to",
        ],
        fields: &["how"],
        why: "with the LOGIN's SYSCALL in the same event, `how` is the program that changed \
              the login id (sshd, cron) rather than empty.",
    },
];

#[cfg(test)]
mod summary_tests {
    use super::*;
    use crate::interpret::NoNames;
    use crate::parse_line;

    /// Every event of every captured log (records grouped by serial, in order).
    fn captured_events() -> Vec<Vec<Record>> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
        let mut events: Vec<Vec<Record>> = Vec::new();
        let mut names: Vec<_> = std::fs::read_dir(&dir)
            .expect("tests/data")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "log"))
            .collect();
        names.sort();
        for path in names {
            let text = std::fs::read(&path).expect("readable log");
            for line in text.split(|b| *b == b'\n') {
                let Ok(record) = parse_line(line) else {
                    continue;
                };
                match events.last_mut() {
                    Some(last) if last[0].id() == record.id() => last.push(record),
                    _ => events.push(vec![record]),
                }
            }
        }
        events
    }

    #[test]
    fn summary_is_the_full_event_without_the_descriptive_parts() {
        let events = captured_events();
        assert!(events.len() > 100, "captured logs found: {}", events.len());
        for records in &events {
            let mut full = coalesce(records, &NoNames);
            let summary = coalesce_summary(records, &NoNames);
            assert!(summary.data.is_empty() && summary.paths.is_empty());
            assert!(summary.process.title.is_none());
            full.data = Pairs::default();
            full.paths.clear();
            full.process.title = None;
            full.ecs = Ecs::default();
            assert_eq!(
                serde_json::to_value(&summary).unwrap(),
                serde_json::to_value(&full).unwrap(),
                "event {}",
                records[0].id()
            );
        }
    }
}
