//! Audit record types: the `type=` of a record, by number and by name.
//!
//! OWNED BY: the tables work (helper B). This stub defines the API; the full table of
//! ~220 names from the kernel and libaudit headers replaces `NAMES`.

use std::fmt;

/// A record type number (`AUDIT_*` in `linux/audit.h` / `libaudit.h`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct RecordType(pub u16);

macro_rules! known_types {
    ($($name:ident = $num:expr),* $(,)?) => {
        impl RecordType {
            $(pub const $name: RecordType = RecordType($num);)*
        }
        const NAMES: &[(u16, &str)] = &[$(($num, stringify!($name))),*];
    };
}

known_types! {
    USER_AUTH = 1100, USER_ACCT = 1101, USER_MGMT = 1102, CRED_ACQ = 1103, CRED_DISP = 1104,
    USER_START = 1105, USER_END = 1106, USER_CMD = 1123, USER_LOGIN = 1112, USER_LOGOUT = 1113,
    CRED_REFR = 1110, USER_ERR = 1109, LOGIN = 1006, DAEMON_START = 1200, DAEMON_END = 1201,
    DAEMON_ABORT = 1202, DAEMON_CONFIG = 1203, DAEMON_ROTATE = 1205, DAEMON_RESUME = 1206,
    CONFIG_CHANGE = 1305, SYSCALL = 1300, PATH = 1302, IPC = 1303, SOCKETCALL = 1304,
    SOCKADDR = 1306, CWD = 1307, EXECVE = 1309, EOE = 1320, PROCTITLE = 1327, AVC = 1400,
}

impl RecordType {
    /// The canonical name (`SYSCALL`), or `None` for a number no table knows.
    pub fn name(self) -> Option<&'static str> {
        NAMES.iter().find(|(n, _)| *n == self.0).map(|(_, s)| *s)
    }

    /// Looks a type up by name; also accepts `UNKNOWN[1234]` as auditd writes unknown types.
    pub fn from_name(name: &str) -> Option<RecordType> {
        if let Some(num) = name.strip_prefix("UNKNOWN[").and_then(|s| s.strip_suffix(']')) {
            return num.parse().ok().map(RecordType);
        }
        NAMES.iter().find(|(_, s)| *s == name).map(|(n, _)| RecordType(*n))
    }
}

impl fmt::Display for RecordType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "UNKNOWN[{}]", self.0),
        }
    }
}

/// How a record type relates to events (see [`RecordType::class`]).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum RecordClass {
    /// A message a user-space program sent (1005, 1100–1199, 2100–2999): one complete event.
    UserSpace,
    /// A message auditd itself wrote (1200–1299): one complete event.
    Daemon,
    /// A kernel record that may share its serial with more records (wait for EOE/shape/timeout).
    Kernel,
    /// The kernel's end-of-event marker (1320).
    EndOfEvent,
}

impl RecordType {
    /// Which kind of event this record type belongs to.
    pub fn class(self) -> RecordClass {
        match self.0 {
            1320 => RecordClass::EndOfEvent,
            1005 | 1100..=1199 | 2100..=2999 => RecordClass::UserSpace,
            1200..=1299 => RecordClass::Daemon,
            _ => RecordClass::Kernel,
        }
    }

    /// Whether a record of this type is a complete event by itself.
    pub fn is_single_record(self) -> bool {
        matches!(self.class(), RecordClass::UserSpace | RecordClass::Daemon)
    }
}
