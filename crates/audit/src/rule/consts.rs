//! Numbers of the kernel's rule ABI (`linux/audit.h`) and the names auditctl gives them.
//!
//! These are facts of the kernel interface; the names are the ones auditctl 3.0 accepts
//! after `-F` and prints in `auditctl -l`.

/// Rule lists (`audit_rule_data.flags`, `AUDIT_FILTER_*`).
pub const FILTER_USER: u32 = 0;
pub const FILTER_TASK: u32 = 1;
pub const FILTER_ENTRY: u32 = 2;
pub const FILTER_WATCH: u32 = 3;
pub const FILTER_EXIT: u32 = 4;
pub const FILTER_EXCLUDE: u32 = 5;
pub const FILTER_FS: u32 = 6;
pub const FILTER_URING_EXIT: u32 = 7;
/// Set in `flags` by `-A`: the kernel puts the rule first in its list.
pub const FILTER_PREPEND: u32 = 0x10;
/// The list bits of `flags`.
pub const FILTER_MASK: u32 = 0x07;

/// Actions (`AUDIT_NEVER`, `AUDIT_POSSIBLE`, `AUDIT_ALWAYS`).
pub const ACTION_NEVER: u32 = 0;
pub const ACTION_POSSIBLE: u32 = 1;
pub const ACTION_ALWAYS: u32 = 2;

/// Operators, as they sit in `fieldflags`.
pub const OP_BITMASK: u32 = 0x0800_0000;
pub const OP_LT: u32 = 0x1000_0000;
pub const OP_GT: u32 = 0x2000_0000;
pub const OP_NE: u32 = 0x3000_0000;
pub const OP_EQ: u32 = 0x4000_0000;
pub const OP_BITTEST: u32 = OP_BITMASK | OP_EQ;
pub const OP_LE: u32 = OP_LT | OP_EQ;
pub const OP_GE: u32 = OP_GT | OP_EQ;
/// All operator bits.
pub const OPERATORS: u32 = OP_EQ | OP_NE | OP_BITMASK;

/// Fields (`AUDIT_*` field numbers).
pub const F_PID: u32 = 0;
pub const F_UID: u32 = 1;
pub const F_EUID: u32 = 2;
pub const F_SUID: u32 = 3;
pub const F_FSUID: u32 = 4;
pub const F_GID: u32 = 5;
pub const F_EGID: u32 = 6;
pub const F_SGID: u32 = 7;
pub const F_FSGID: u32 = 8;
pub const F_LOGINUID: u32 = 9;
pub const F_PERS: u32 = 10;
pub const F_ARCH: u32 = 11;
pub const F_MSGTYPE: u32 = 12;
pub const F_SUBJ_USER: u32 = 13;
pub const F_SUBJ_CLR: u32 = 17;
pub const F_PPID: u32 = 18;
pub const F_OBJ_USER: u32 = 19;
pub const F_OBJ_LEV_HIGH: u32 = 23;
pub const F_LOGINUID_SET: u32 = 24;
pub const F_SESSIONID: u32 = 25;
pub const F_FSTYPE: u32 = 26;
pub const F_DEVMAJOR: u32 = 100;
pub const F_DEVMINOR: u32 = 101;
pub const F_INODE: u32 = 102;
pub const F_EXIT: u32 = 103;
pub const F_SUCCESS: u32 = 104;
pub const F_WATCH: u32 = 105;
pub const F_PERM: u32 = 106;
pub const F_DIR: u32 = 107;
pub const F_FILETYPE: u32 = 108;
pub const F_OBJ_UID: u32 = 109;
pub const F_OBJ_GID: u32 = 110;
pub const F_FIELD_COMPARE: u32 = 111;
pub const F_EXE: u32 = 112;
pub const F_SADDR_FAM: u32 = 113;
pub const F_ARG0: u32 = 200;
pub const F_ARG3: u32 = 203;
pub const F_FILTERKEY: u32 = 210;

/// `-F` names auditctl knows, with their field numbers. The first name of a number is
/// the one `auditctl -l` prints (`auid`, not `loginuid`).
pub const FIELD_NAMES: &[(&str, u32)] = &[
    ("pid", F_PID),
    ("uid", F_UID),
    ("euid", F_EUID),
    ("suid", F_SUID),
    ("fsuid", F_FSUID),
    ("gid", F_GID),
    ("egid", F_EGID),
    ("sgid", F_SGID),
    ("fsgid", F_FSGID),
    ("auid", F_LOGINUID),
    ("loginuid", F_LOGINUID),
    ("pers", F_PERS),
    ("arch", F_ARCH),
    ("msgtype", F_MSGTYPE),
    ("subj_user", F_SUBJ_USER),
    ("subj_role", 14),
    ("subj_type", 15),
    ("subj_sen", 16),
    ("subj_clr", F_SUBJ_CLR),
    ("ppid", F_PPID),
    ("obj_user", F_OBJ_USER),
    ("obj_role", 20),
    ("obj_type", 21),
    ("obj_lev_low", 22),
    ("obj_lev_high", F_OBJ_LEV_HIGH),
    ("sessionid", F_SESSIONID),
    ("fstype", F_FSTYPE),
    ("devmajor", F_DEVMAJOR),
    ("devminor", F_DEVMINOR),
    ("inode", F_INODE),
    ("exit", F_EXIT),
    ("success", F_SUCCESS),
    ("path", F_WATCH),
    ("perm", F_PERM),
    ("dir", F_DIR),
    ("filetype", F_FILETYPE),
    ("obj_uid", F_OBJ_UID),
    ("obj_gid", F_OBJ_GID),
    ("field_compare", F_FIELD_COMPARE),
    ("exe", F_EXE),
    ("saddr_fam", F_SADDR_FAM),
    ("a0", F_ARG0),
    ("a1", 201),
    ("a2", 202),
    ("a3", F_ARG3),
    ("key", F_FILTERKEY),
];

/// The field number of a `-F` name.
pub fn field_number(name: &str) -> Option<u32> {
    FIELD_NAMES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, f)| *f)
}

/// The name `auditctl -l` prints for a field number.
pub fn field_name(field: u32) -> Option<&'static str> {
    FIELD_NAMES
        .iter()
        .find(|(_, f)| *f == field)
        .map(|(n, _)| *n)
}

/// Whether the field's value is a string carried in the rule's buffer (the value slot
/// then holds its length).
pub fn is_string_field(field: u32) -> bool {
    matches!(field, F_SUBJ_USER..=F_OBJ_LEV_HIGH if field != F_PPID)
        || matches!(field, F_WATCH | F_DIR | F_FILTERKEY | F_EXE)
}

/// Fields holding a user id (names resolve through /etc/passwd, `unset` is -1).
pub fn is_uid_field(field: u32) -> bool {
    matches!(
        field,
        F_UID | F_EUID | F_SUID | F_FSUID | F_LOGINUID | F_OBJ_UID
    )
}

/// Fields holding a group id.
pub fn is_gid_field(field: u32) -> bool {
    matches!(field, F_GID | F_EGID | F_SGID | F_FSGID | F_OBJ_GID)
}

/// Operators as auditctl spells them, longest first so `!=` is not read as `=`.
pub const OPERATOR_SYMBOLS: &[(&str, u32)] = &[
    ("!=", OP_NE),
    (">=", OP_GE),
    ("<=", OP_LE),
    ("&=", OP_BITTEST),
    ("=", OP_EQ),
    (">", OP_GT),
    ("<", OP_LT),
    ("&", OP_BITMASK),
];

/// The symbol of an operator (`None` for a value no auditctl operator has).
pub fn operator_symbol(op: u32) -> Option<&'static str> {
    OPERATOR_SYMBOLS
        .iter()
        .find(|(_, o)| *o == op)
        .map(|(s, _)| *s)
}

/// Rule list names after `-a` (`exit`, …); `entry` is refused by current kernels but
/// kept so such a rule is named in the error.
pub const LIST_NAMES: &[(&str, u32)] = &[
    ("task", FILTER_TASK),
    ("entry", FILTER_ENTRY),
    ("exit", FILTER_EXIT),
    ("user", FILTER_USER),
    ("exclude", FILTER_EXCLUDE),
    ("filesystem", FILTER_FS),
    ("io_uring", FILTER_URING_EXIT),
];

pub const ACTION_NAMES: &[(&str, u32)] = &[
    ("never", ACTION_NEVER),
    ("possible", ACTION_POSSIBLE),
    ("always", ACTION_ALWAYS),
];

/// `-C` comparisons: (left, right, `AUDIT_COMPARE_*`), in the kernel's numbering.
pub const COMPARISONS: &[(&str, &str, u32)] = &[
    ("uid", "obj_uid", 1),
    ("gid", "obj_gid", 2),
    ("euid", "obj_uid", 3),
    ("egid", "obj_gid", 4),
    ("auid", "obj_uid", 5),
    ("suid", "obj_uid", 6),
    ("sgid", "obj_gid", 7),
    ("fsuid", "obj_uid", 8),
    ("fsgid", "obj_gid", 9),
    ("uid", "auid", 10),
    ("uid", "euid", 11),
    ("uid", "fsuid", 12),
    ("uid", "suid", 13),
    ("auid", "fsuid", 14),
    ("auid", "suid", 15),
    ("auid", "euid", 16),
    ("euid", "suid", 17),
    ("euid", "fsuid", 18),
    ("suid", "fsuid", 19),
    ("gid", "egid", 20),
    ("gid", "fsgid", 21),
    ("gid", "sgid", 22),
    ("egid", "fsgid", 23),
    ("egid", "sgid", 24),
    ("sgid", "fsgid", 25),
];

/// Watch permission bits (`-p rwxa`, `-F perm=`).
pub const PERM_EXEC: u32 = 1;
pub const PERM_WRITE: u32 = 2;
pub const PERM_READ: u32 = 4;
pub const PERM_ATTR: u32 = 8;

/// `-F filetype=` names and their `S_IF*` values.
pub const FILE_TYPES: &[(&str, u32)] = &[
    ("file", 0o100000),
    ("dir", 0o040000),
    ("socket", 0o140000),
    ("link", 0o120000),
    ("character", 0o020000),
    ("block", 0o060000),
    ("fifo", 0o010000),
];

/// `-F fstype=` names and their filesystem magic numbers.
pub const FS_TYPES: &[(&str, u32)] = &[("debugfs", 0x6462_6720), ("tracefs", 0x7472_6163)];

/// Syscall bitmask words (`AUDIT_BITMASK_SIZE`) and field slots (`AUDIT_MAX_FIELDS`).
pub const BITMASK_WORDS: usize = 64;
pub const MAX_FIELDS: usize = 64;
/// Longest key (all `-k` values joined), `AUDIT_MAX_KEY_LEN`.
pub const MAX_KEY_LEN: usize = 256;
/// Separator of several keys inside the one key field.
pub const KEY_SEPARATOR: u8 = 0x01;
