//! The action vocabulary: what an event *did*, kept as data.
//!
//! Two tables: one row per group of syscalls, one row per record type. Each row says
//! which verb describes the event (`executed`, `logged-in`), what kind of object it acts
//! on, and for record types which fields name that object. The words follow the ones
//! users of go-libaudit's aucoalesce know (so dashboards keep working); the tables
//! themselves are written here from the kernel and libaudit headers. Lookups go through
//! hash maps built once on first use.

use crate::record_type::RecordType;
use std::collections::HashMap;
use std::sync::OnceLock;

/// What a syscall does, for events whose primary record is a SYSCALL.
#[derive(Debug, PartialEq, Eq)]
pub struct SyscallVocab {
    /// Space-separated syscall names sharing this row.
    pub syscalls: &'static str,
    pub action: &'static str,
    /// `file`: the object is a PATH; `socket`: the SOCKADDR; `process`: the target pid;
    /// anything else has no primary.
    pub object: &'static str,
    /// ECS `event.category` and `event.type`, `|`-separated.
    pub ecs_category: &'static str,
    pub ecs_type: &'static str,
}

/// What a record type means, for events whose primary record is that type.
#[derive(Debug, PartialEq, Eq)]
pub struct RecordVocab {
    pub number: u16,
    pub name: &'static str,
    /// go-libaudit's coarse event category (`user-login`, `mac-decision`, …).
    pub category: &'static str,
    pub action: &'static str,
    pub object: &'static str,
    /// Field names, `|`-separated, tried in order for `object.primary` / `.secondary`.
    pub primary: &'static str,
    pub secondary: &'static str,
    pub ecs_category: &'static str,
    pub ecs_type: &'static str,
}

const fn sys(
    syscalls: &'static str,
    action: &'static str,
    object: &'static str,
    ecs_category: &'static str,
    ecs_type: &'static str,
) -> SyscallVocab {
    SyscallVocab {
        syscalls,
        action,
        object,
        ecs_category,
        ecs_type,
    }
}

#[allow(clippy::too_many_arguments)]
const fn rec(
    number: u16,
    name: &'static str,
    category: &'static str,
    action: &'static str,
    object: &'static str,
    primary: &'static str,
    secondary: &'static str,
    ecs_category: &'static str,
    ecs_type: &'static str,
) -> RecordVocab {
    RecordVocab {
        number,
        name,
        category,
        action,
        object,
        primary,
        secondary,
        ecs_category,
        ecs_type,
    }
}

/// Syscalls by what they do.
#[rustfmt::skip]
pub static SYSCALLS: &[SyscallVocab] = &[
    // processes
    sys("execve execveat", "executed", "file", "process", "start"),
    sys("fork vfork clone clone3", "forked", "process", "process", "start"),
    sys("exit exit_group", "exited", "process", "process", "end"),
    sys("kill tkill tgkill pidfd_send_signal rt_sigqueueinfo rt_tgsigqueueinfo", "killed-pid", "process", "process", "end"),
    sys("ptrace process_vm_readv process_vm_writev", "traced-process", "process", "process", "access"),
    sys("prctl personality arch_prctl", "changed-process-settings", "process", "process", "change"),
    sys("setrlimit prlimit64", "changed-resource-limits", "process", "process", "change"),
    sys("seccomp", "changed-seccomp-filter", "process", "process", "change"),
    sys("setpriority sched_setscheduler sched_setparam sched_setattr sched_setaffinity ioprio_set", "changed-scheduling", "process", "process", "change"),
    // identity
    sys("setuid setreuid setresuid setfsuid setuid32 setreuid32 setresuid32 setfsuid32", "changed-identity-of", "user", "iam", "change"),
    sys("setgid setregid setresgid setfsgid setgroups setgid32 setregid32 setresgid32 setfsgid32 setgroups32", "changed-group-identity-of", "group", "iam", "change"),
    sys("capset", "changed-capabilities-of", "process", "process", "change"),
    // files: contents and existence
    sys("open openat openat2 creat open_by_handle_at open_tree", "opened-file", "file", "file", "access"),
    sys("read readv pread64 preadv preadv2", "read-file", "file", "file", "access"),
    sys("write writev pwrite64 pwritev pwritev2", "wrote-to-file", "file", "file", "change"),
    sys("sendfile copy_file_range splice", "copied-data", "file", "file", "access"),
    sys("close close_range", "closed-file", "file", "file", "access"),
    sys("truncate ftruncate fallocate", "changed-file-size-of", "file", "file", "change"),
    sys("unlink unlinkat rmdir", "deleted", "file", "file", "deletion"),
    sys("rename renameat renameat2", "renamed", "file", "file", "change"),
    sys("link linkat symlink symlinkat", "linked", "file", "file", "creation"),
    sys("mkdir mkdirat", "created-directory", "file", "file", "creation"),
    sys("mknod mknodat", "make-device", "file", "file", "creation"),
    sys("memfd_create memfd_secret", "created-memory-file", "file", "file", "creation"),
    // files: metadata
    sys("chmod fchmod fchmodat fchmodat2", "changed-file-permissions-of", "file", "file", "change"),
    sys("chown fchown fchownat lchown chown32 fchown32 lchown32", "changed-file-ownership-of", "file", "file", "change"),
    sys("setxattr lsetxattr fsetxattr removexattr lremovexattr fremovexattr setxattrat removexattrat", "changed-file-attributes-of", "file", "file", "change"),
    sys("getxattr lgetxattr fgetxattr listxattr llistxattr flistxattr getxattrat listxattrat", "checked-file-attributes-of", "file", "file", "access"),
    sys("utime utimes futimesat utimensat", "changed-timestamp-of", "file", "file", "change"),
    sys("stat lstat fstat newfstatat statx stat64 lstat64 fstat64 fstatat64 statfs fstatfs", "checked-metadata-of", "file", "file", "info"),
    sys("access faccessat faccessat2", "checked-access-to", "file", "file", "info"),
    sys("readlink readlinkat", "read-link", "file", "file", "access"),
    sys("chdir fchdir", "changed-directory-to", "file", "file", "info"),
    sys("chroot pivot_root", "changed-root-directory-to", "file", "file", "change"),
    sys("name_to_handle_at", "got-file-handle", "file", "file", "access"),
    sys("fanotify_mark inotify_add_watch", "watched-file", "file", "file", "access"),
    sys("mount fsmount move_mount mount_setattr fsconfig fsopen fspick", "mounted", "file", "file", "change"),
    sys("umount umount2", "unmounted", "file", "file", "change"),
    sys("swapon", "enabled-swap-on", "file", "file", "change"),
    sys("swapoff", "disabled-swap-on", "file", "file", "change"),
    sys("quotactl quotactl_fd", "changed-disk-quota", "file", "file", "change"),
    sys("acct", "changed-process-accounting", "file", "process", "change"),
    // network
    sys("socket", "created-socket", "socket", "network", "creation"),
    sys("socketpair", "created-socket-pair", "socket", "network", "creation"),
    sys("bind", "bound-socket", "socket", "network", "start"),
    sys("connect", "connected-to", "socket", "network", "connection|start"),
    sys("listen", "listen-for-connections", "socket", "network", "start"),
    sys("accept accept4", "accepted-connection-from", "socket", "network", "connection|start"),
    sys("sendto sendmsg sendmmsg", "sent-to", "socket", "network", "connection"),
    sys("recvfrom recvmsg recvmmsg", "received-from", "socket", "network", "connection"),
    sys("shutdown", "shut-down-socket", "socket", "network", "end"),
    sys("getpeername", "checked-peer-address-of", "socket", "network", "info"),
    sys("getsockname", "checked-address-of", "socket", "network", "info"),
    sys("setsockopt", "changed-socket-option-of", "socket", "network", "change"),
    // the system
    sys("adjtimex clock_adjtime settimeofday clock_settime stime adjtimex_time32 clock_adjtime32 clock_settime32", "changed-system-time", "system", "host", "change"),
    sys("sethostname setdomainname", "changed-hostname", "system", "host", "change"),
    sys("reboot", "rebooted-system", "system", "host", "end"),
    sys("init_module finit_module", "loaded-kernel-module", "file", "driver", "start"),
    sys("delete_module", "unloaded-kernel-module", "system", "driver", "end"),
    sys("kexec_load kexec_file_load", "loaded-kernel-to-exec", "file", "host", "change"),
    sys("bpf", "used-bpf", "system", "process", "change"),
    sys("perf_event_open", "opened-perf-event", "system", "process", "access"),
    sys("unshare setns", "changed-namespace", "process", "process", "change"),
    sys("mmap mmap2 mprotect pkey_mprotect", "allocated-memory", "memory", "process", "change"),
    sys("syslog", "read-kernel-log", "system", "host", "access"),
    sys("ioctl", "sent-ioctl-to", "file", "file", "change"),
    sys("keyctl add_key request_key", "used-kernel-keyring", "system", "process", "change"),
    sys("io_uring_setup io_uring_enter io_uring_register", "used-io-uring", "system", "process", "change"),
];

/// Record types by what they mean.
#[rustfmt::skip]
pub static RECORD_TYPES: &[RecordVocab] = &[
    // login and credentials (PAM, sshd, login)
    rec(1006, "LOGIN", "user-login", "changed-login-id-to", "user-session", "auid", "", "authentication", "start"),
    rec(1100, "USER_AUTH", "user-login", "authenticated", "user-session", "terminal", "addr", "authentication", "info"),
    rec(1101, "USER_ACCT", "user-login", "was-authorized", "user-session", "terminal", "addr", "authentication", "info"),
    rec(1102, "USER_MGMT", "user-login", "modified-user-account", "account", "id|acct", "", "iam", "change|user"),
    rec(1103, "CRED_ACQ", "user-login", "acquired-credentials", "user-session", "terminal", "addr", "authentication", "info"),
    rec(1104, "CRED_DISP", "user-login", "disposed-credentials", "user-session", "terminal", "addr", "authentication", "info"),
    rec(1105, "USER_START", "user-login", "started-session", "user-session", "terminal", "addr", "session", "start"),
    rec(1106, "USER_END", "user-login", "ended-session", "user-session", "terminal", "addr", "session", "end"),
    rec(1107, "USER_AVC", "user-space", "access-permission", "policy", "", "", "", ""),
    rec(1108, "USER_CHAUTHTOK", "user-login", "changed-password", "user-session", "terminal", "addr", "iam", "change|user"),
    rec(1109, "USER_ERR", "user-login", "error", "user-session", "terminal", "addr", "authentication", "info"),
    rec(1110, "CRED_REFR", "user-login", "refreshed-credentials", "user-session", "terminal", "addr", "authentication", "info"),
    rec(1111, "USYS_CONFIG", "user-space", "changed-configuration", "software", "op", "", "configuration", "change"),
    rec(1112, "USER_LOGIN", "user-login", "logged-in", "user-session", "terminal", "addr", "authentication", "start"),
    rec(1113, "USER_LOGOUT", "user-login", "logged-out", "user-session", "terminal", "addr", "authentication", "end"),
    rec(1114, "ADD_USER", "user-login", "added-user-account", "account", "id|acct", "", "iam", "creation|user"),
    rec(1115, "DEL_USER", "user-login", "deleted-user-account", "account", "id|acct", "", "iam", "deletion|user"),
    rec(1116, "ADD_GROUP", "user-login", "added-group-account-to", "account", "id|acct", "", "iam", "creation|group"),
    rec(1117, "DEL_GROUP", "user-login", "deleted-group-account-from", "account", "id|acct", "", "iam", "deletion|group"),
    rec(1118, "DAC_CHECK", "user-space", "checked-dac-permission", "file", "", "", "", ""),
    rec(1119, "CHGRP_ID", "user-space", "changed-group", "account", "id|acct", "", "iam", "change|group"),
    rec(1120, "TEST", "user-space", "sent-test", "system", "", "", "", ""),
    rec(1121, "TRUSTED_APP", "user-space", "unknown", "", "", "", "", ""),
    rec(1122, "USER_SELINUX_ERR", "user-space", "access-error", "", "", "", "", ""),
    rec(1123, "USER_CMD", "user-space", "ran-command", "process", "cmd", "", "process", "start"),
    rec(1124, "USER_TTY", "user-space", "typed", "keystrokes", "data", "", "", ""),
    rec(1125, "CHUSER_ID", "user-space", "changed-user-id", "account", "id|acct", "", "iam", "change|user"),
    rec(1126, "GRP_AUTH", "user-login", "authenticated-to-group", "account", "id|acct", "", "authentication", "info"),
    rec(1127, "SYSTEM_BOOT", "system-services", "booted-system", "system", "", "", "host", "start"),
    rec(1128, "SYSTEM_SHUTDOWN", "system-services", "shutdown-system", "system", "", "", "host", "end"),
    rec(1129, "SYSTEM_RUNLEVEL", "system-services", "changed-to-runlevel", "system", "new-level", "old-level", "host", "change"),
    rec(1130, "SERVICE_START", "system-services", "started-service", "service", "unit", "", "process", "start"),
    rec(1131, "SERVICE_STOP", "system-services", "stopped-service", "service", "unit", "", "process", "end"),
    rec(1132, "GRP_MGMT", "user-login", "modified-group-account", "account", "id|acct", "", "iam", "change|group"),
    rec(1133, "GRP_CHAUTHTOK", "user-login", "changed-group-password", "account", "id|acct", "", "iam", "change|group"),
    rec(1134, "MAC_CHECK", "mac-decision", "mac-permission", "", "", "", "", ""),
    rec(1135, "ACCT_LOCK", "user-login", "locked-account", "account", "id|acct", "", "iam", "change|user"),
    rec(1136, "ACCT_UNLOCK", "user-login", "unlocked-account", "account", "id|acct", "", "iam", "change|user"),
    rec(1137, "USER_DEVICE", "user-space", "added-device", "device", "device|dev", "", "", ""),
    rec(1138, "SOFTWARE_UPDATE", "user-space", "package-updated", "package", "sw", "", "package", "change"),
    // the audit daemon
    rec(1200, "DAEMON_START", "audit-daemon", "started-audit", "service", "", "", "process", "start"),
    rec(1201, "DAEMON_END", "audit-daemon", "stopped-audit", "service", "", "", "process", "end"),
    rec(1202, "DAEMON_ABORT", "audit-daemon", "aborted-auditd-startup", "service", "", "", "process", "end"),
    rec(1203, "DAEMON_CONFIG", "audit-daemon", "changed-auditd-configuration", "service", "", "", "configuration", "change"),
    rec(1204, "DAEMON_RECONFIG", "audit-daemon", "reconfigured-auditd", "service", "", "", "configuration", "change"),
    rec(1205, "DAEMON_ROTATE", "audit-daemon", "rotated-audit-logs", "service", "", "", "process", "change"),
    rec(1206, "DAEMON_RESUME", "audit-daemon", "resumed-audit-logging", "service", "", "", "process", "change"),
    rec(1207, "DAEMON_ACCEPT", "audit-daemon", "remote-audit-connected", "service", "addr", "", "network", "connection|start"),
    rec(1208, "DAEMON_CLOSE", "audit-daemon", "remote-audit-disconnected", "service", "addr", "", "network", "connection|end"),
    rec(1209, "DAEMON_ERR", "audit-daemon", "auditd-internal-error", "service", "", "", "process", "info"),
    // kernel records that can be the heart of an event
    rec(1300, "SYSCALL", "audit-rule", "", "", "", "", "", ""),
    rec(1305, "CONFIG_CHANGE", "configuration", "changed-audit-configuration", "audit-config",
        "op|audit_backlog_limit|audit_enabled|audit_failure|audit_rate_limit|audit_backlog_wait_time|audit_pid", "", "process|configuration", "change"),
    rec(1309, "EXECVE", "audit-rule", "executed", "file", "", "", "process", "start"),
    rec(1316, "KERNEL_OTHER", "kernel", "triggered-audit-rule", "", "", "", "", ""),
    rec(1319, "TTY", "user-space", "typed", "keystrokes", "data", "", "", ""),
    rec(1324, "NETFILTER_PKT", "network", "packet-matched-rule", "socket", "daddr", "saddr", "network", "connection"),
    rec(1325, "NETFILTER_CFG", "configuration", "loaded-firewall-rule-to", "firewall", "table", "", "configuration", "change"),
    rec(1326, "SECCOMP", "kernel", "violated-seccomp-policy", "process", "comm", "pid", "process", "info"),
    rec(1328, "FEATURE_CHANGE", "configuration", "changed-audit-feature", "system", "feature", "", "configuration", "change"),
    rec(1329, "REPLACE", "audit-daemon", "replaced-audit-daemon", "service", "auditd_pid", "", "process", "change"),
    rec(1330, "KERN_MODULE", "kernel", "loaded-kernel-module", "kernel-module", "name", "", "driver", "start"),
    rec(1331, "FANOTIFY", "kernel", "fanotify-decision", "file", "", "", "file", "access"),
    rec(1332, "TIME_INJOFFSET", "time", "changed-system-time", "system", "", "", "host", "change"),
    rec(1333, "TIME_ADJNTPVAL", "time", "changed-system-time", "system", "", "", "host", "change"),
    rec(1334, "BPF", "kernel", "changed-bpf-program", "bpf-program", "prog-id", "op", "process", "change"),
    rec(1335, "EVENT_LISTENER", "audit-daemon", "changed-audit-listener", "service", "nl-mcgrp", "op", "process", "change"),
    rec(1338, "DM_CTRL", "kernel", "changed-device-mapper", "device", "dev", "op", "configuration", "change"),
    rec(1339, "DM_EVENT", "kernel", "device-mapper-event", "device", "dev", "op", "host", "info"),
    // mandatory access control
    rec(1400, "AVC", "mac-decision", "violated-selinux-policy", "policy", "name|path", "tclass", "file", "info"),
    rec(1401, "SELINUX_ERR", "mac-decision", "caused-mac-policy-error", "policy", "", "", "", ""),
    rec(1403, "MAC_POLICY_LOAD", "mac-decision", "loaded-selinux-policy", "policy", "", "", "configuration", "change"),
    rec(1404, "MAC_STATUS", "mac-decision", "changed-selinux-enforcement", "system", "enforcing", "old_enforcing", "configuration", "change"),
    rec(1405, "MAC_CONFIG_CHANGE", "mac-decision", "changed-selinux-boolean", "policy", "bool", "val", "configuration", "change"),
    rec(1415, "MAC_IPSEC_EVENT", "mac-decision", "mac-ipsec-event", "ipsec", "op", "", "network", "info"),
    // anomalies the kernel or user space detected
    rec(1700, "ANOM_PROMISCUOUS", "anomaly", "changed-promiscuous-mode-on-device", "network-device", "dev", "", "network|intrusion_detection", "change"),
    rec(1701, "ANOM_ABEND", "anomaly", "crashed-program", "process", "comm", "pid", "process|intrusion_detection", "end"),
    rec(1702, "ANOM_LINK", "anomaly", "used-suspicious-link", "file", "", "", "file|intrusion_detection", "info"),
    rec(1703, "ANOM_CREAT", "anomaly", "created-file-in-sticky-directory", "file", "", "", "file|intrusion_detection", "creation"),
    rec(2100, "ANOM_LOGIN_FAILURES", "anomaly", "failed-log-in-too-many-times-to", "user-session", "acct", "", "authentication|intrusion_detection", "info"),
    rec(2101, "ANOM_LOGIN_TIME", "anomaly", "attempted-log-in-during-unusual-hour-to", "user-session", "acct", "", "authentication|intrusion_detection", "info"),
    rec(2102, "ANOM_LOGIN_SESSIONS", "anomaly", "opened-too-many-sessions-to", "user-session", "acct", "", "authentication|intrusion_detection", "info"),
    rec(2103, "ANOM_LOGIN_ACCT", "anomaly", "tried-to-log-in-to", "user-session", "acct", "", "authentication|intrusion_detection", "info"),
    rec(2104, "ANOM_LOGIN_LOCATION", "anomaly", "attempted-log-in-from-unusual-place-to", "user-session", "acct", "addr", "authentication|intrusion_detection", "info"),
    rec(2105, "ANOM_MAX_DAC", "anomaly", "exceeded-dac-threshold", "", "", "", "intrusion_detection", "info"),
    rec(2106, "ANOM_MAX_MAC", "anomaly", "exceeded-mac-threshold", "", "", "", "intrusion_detection", "info"),
    rec(2107, "ANOM_AMTU_FAIL", "anomaly", "amtu-failed", "", "", "", "intrusion_detection", "info"),
    rec(2108, "ANOM_RBAC_FAIL", "anomaly", "rbac-check-failed", "", "", "", "intrusion_detection", "info"),
    rec(2109, "ANOM_RBAC_INTEGRITY_FAIL", "anomaly", "rbac-integrity-check-failed", "", "", "", "intrusion_detection", "info"),
    rec(2110, "ANOM_CRYPTO_FAIL", "anomaly", "crypto-officer-check-failed", "", "", "", "intrusion_detection", "info"),
    rec(2111, "ANOM_ACCESS_FS", "anomaly", "accessed-suspicious-file", "file", "path", "", "file|intrusion_detection", "access"),
    rec(2112, "ANOM_EXEC", "anomaly", "executed-suspicious-program", "file", "exe", "", "process|intrusion_detection", "start"),
    rec(2113, "ANOM_MK_EXEC", "anomaly", "made-program-executable", "file", "path", "", "file|intrusion_detection", "change"),
    rec(2114, "ANOM_ADD_ACCT", "anomaly", "added-suspicious-account", "account", "id|acct", "", "iam|intrusion_detection", "creation"),
    rec(2115, "ANOM_DEL_ACCT", "anomaly", "deleted-suspicious-account", "account", "id|acct", "", "iam|intrusion_detection", "deletion"),
    rec(2116, "ANOM_MOD_ACCT", "anomaly", "modified-suspicious-account", "account", "id|acct", "", "iam|intrusion_detection", "change"),
    rec(2117, "ANOM_ROOT_TRANS", "anomaly", "became-root", "user-session", "acct", "", "iam|intrusion_detection", "change"),
    rec(2118, "ANOM_LOGIN_SERVICE", "anomaly", "logged-in-to-disallowed-service", "user-session", "acct", "", "authentication|intrusion_detection", "info"),
    rec(2119, "ANOM_LOGIN_ROOT", "anomaly", "logged-in-as-root", "user-session", "acct", "", "authentication|intrusion_detection", "info"),
    rec(2120, "ANOM_ORIGIN_FAILURES", "anomaly", "failed-too-often-from", "user-session", "addr", "", "authentication|intrusion_detection", "info"),
    rec(2121, "ANOM_SESSION", "anomaly", "opened-session-without-login", "user-session", "acct", "", "session|intrusion_detection", "info"),
    // responses to anomalies
    rec(2200, "RESP_ANOMALY", "anomaly-response", "took-no-action", "", "", "", "", ""),
    rec(2201, "RESP_ALERT", "anomaly-response", "sent-alert", "", "", "", "", ""),
    rec(2202, "RESP_KILL_PROC", "anomaly-response", "killed-process", "process", "pid", "", "process", "end"),
    rec(2203, "RESP_TERM_ACCESS", "anomaly-response", "terminated-session", "user-session", "", "", "session", "end"),
    rec(2204, "RESP_ACCT_REMOTE", "anomaly-response", "locked-account-remotely", "account", "acct", "", "iam", "change"),
    rec(2205, "RESP_ACCT_LOCK_TIMED", "anomaly-response", "locked-account-for-time", "account", "acct", "", "iam", "change"),
    rec(2206, "RESP_ACCT_UNLOCK_TIMED", "anomaly-response", "unlocked-account-after-time", "account", "acct", "", "iam", "change"),
    rec(2207, "RESP_ACCT_LOCK", "anomaly-response", "locked-account", "account", "acct", "", "iam", "change"),
    rec(2208, "RESP_TERM_LOCK", "anomaly-response", "locked-terminal", "user-session", "terminal", "", "session", "change"),
    rec(2209, "RESP_SEBOOL", "anomaly-response", "set-selinux-boolean", "policy", "", "", "configuration", "change"),
    rec(2210, "RESP_EXEC", "anomaly-response", "ran-program", "process", "exe", "", "process", "start"),
    rec(2211, "RESP_SINGLE", "anomaly-response", "entered-single-user-mode", "system", "", "", "host", "change"),
    rec(2212, "RESP_HALT", "anomaly-response", "halted-system", "system", "", "", "host", "end"),
    rec(2213, "RESP_ORIGIN_BLOCK", "anomaly-response", "blocked-origin", "socket", "addr", "", "network", "denied"),
    rec(2214, "RESP_ORIGIN_BLOCK_TIMED", "anomaly-response", "blocked-origin-for-time", "socket", "addr", "", "network", "denied"),
    rec(2215, "RESP_ORIGIN_UNBLOCK_TIMED", "anomaly-response", "unblocked-origin-after-time", "socket", "addr", "", "network", "allowed"),
    // roles and labels
    rec(2300, "USER_ROLE_CHANGE", "user-login", "changed-role-to", "role", "selected-context", "", "iam", "change"),
    rec(2301, "ROLE_ASSIGN", "user-login", "assigned-user-role-to", "role", "id|acct", "", "iam", "change"),
    rec(2302, "ROLE_REMOVE", "user-login", "removed-user-role-from", "role", "id|acct", "", "iam", "change"),
    rec(2303, "LABEL_OVERRIDE", "mac-decision", "overrode-label-of", "file", "", "", "", ""),
    rec(2304, "LABEL_LEVEL_CHANGE", "mac-decision", "changed-label-level-of", "file", "", "", "", ""),
    rec(2305, "USER_LABELED_EXPORT", "user-space", "exported-labeled-data", "file", "", "", "", ""),
    rec(2306, "USER_UNLABELED_EXPORT", "user-space", "exported-unlabeled-data", "file", "", "", "", ""),
    rec(2307, "DEV_ALLOC", "user-space", "allocated-device", "device", "device", "", "", ""),
    rec(2308, "DEV_DEALLOC", "user-space", "deallocated-device", "device", "device", "", "", ""),
    rec(2309, "FS_RELABEL", "user-space", "relabeled-filesystem", "file", "", "", "", ""),
    rec(2310, "USER_MAC_POLICY_LOAD", "mac-decision", "loaded-selinux-policy", "policy", "", "", "configuration", "change"),
    rec(2311, "ROLE_MODIFY", "user-login", "modified-role", "role", "", "", "iam", "change"),
    rec(2312, "USER_MAC_CONFIG_CHANGE", "mac-decision", "changed-selinux-configuration", "policy", "", "", "configuration", "change"),
    rec(2313, "USER_MAC_STATUS", "mac-decision", "changed-selinux-enforcement", "system", "enforcing", "old_enforcing", "configuration", "change"),
    // cryptography
    rec(2400, "CRYPTO_TEST_USER", "crypto", "crypto-officer-tested", "", "", "", "", ""),
    rec(2401, "CRYPTO_PARAM_CHANGE_USER", "crypto", "changed-crypto-parameter", "", "", "", "configuration", "change"),
    rec(2402, "CRYPTO_LOGIN", "crypto", "crypto-officer-logged-in", "", "", "", "authentication", "start"),
    rec(2403, "CRYPTO_LOGOUT", "crypto", "crypto-officer-logged-out", "", "", "", "authentication", "end"),
    rec(2404, "CRYPTO_KEY_USER", "crypto", "negotiated-crypto-key", "user-session", "fp", "addr", "", ""),
    rec(2405, "CRYPTO_FAILURE_USER", "crypto", "crypto-failure", "", "", "", "", ""),
    rec(2406, "CRYPTO_REPLAY_USER", "crypto", "crypto-replay-detected", "", "", "", "intrusion_detection", "info"),
    rec(2407, "CRYPTO_SESSION", "crypto", "started-crypto-session", "user-session", "addr", "rport", "", ""),
    rec(2408, "CRYPTO_IKE_SA", "crypto", "negotiated-ike-sa", "", "", "", "network", "info"),
    rec(2409, "CRYPTO_IPSEC_SA", "crypto", "negotiated-ipsec-sa", "", "", "", "network", "info"),
    // virtualization
    rec(2500, "VIRT_CONTROL", "virt", "issued-vm-control", "virtual-machine", "vm", "", "host", "info"),
    rec(2501, "VIRT_RESOURCE", "virt", "assigned-vm-resource", "virtual-machine", "vm", "", "host", "change"),
    rec(2502, "VIRT_MACHINE_ID", "virt", "assigned-vm-id", "virtual-machine", "vm", "", "host", "info"),
    rec(2503, "VIRT_INTEGRITY_CHECK", "virt", "checked-integrity-of", "virtual-machine", "vm", "", "host", "info"),
    rec(2504, "VIRT_CREATE", "virt", "created-vm-image", "virtual-machine", "vm", "", "host", "creation"),
    rec(2505, "VIRT_DESTROY", "virt", "deleted-vm-image", "virtual-machine", "vm", "", "host", "deletion"),
    rec(2506, "VIRT_MIGRATE_IN", "virt", "migrated-vm-from", "virtual-machine", "vm", "", "host", "start"),
    rec(2507, "VIRT_MIGRATE_OUT", "virt", "migrated-vm-to", "virtual-machine", "vm", "", "host", "end"),
    // integrity measurement
    rec(1800, "INTEGRITY_DATA", "integrity", "checked-data-integrity-of", "file", "name|path", "", "file", "info"),
    rec(1801, "INTEGRITY_METADATA", "integrity", "checked-metadata-integrity-of", "file", "name|path", "", "file", "info"),
    rec(1802, "INTEGRITY_STATUS", "integrity", "changed-integrity-status", "system", "", "", "configuration", "change"),
    rec(1803, "INTEGRITY_HASH", "integrity", "measured-hash-of", "file", "name|path", "", "file", "info"),
    rec(1804, "INTEGRITY_PCR", "integrity", "extended-pcr-with", "file", "name|path", "", "file", "info"),
    rec(1805, "INTEGRITY_RULE", "integrity", "applied-integrity-rule-to", "file", "name|path", "", "file", "info"),
    rec(1806, "INTEGRITY_EVM_XATTR", "integrity", "checked-evm-attribute-of", "file", "name|path", "", "file", "info"),
    rec(1807, "INTEGRITY_POLICY_RULE", "integrity", "loaded-integrity-policy-rule", "policy", "", "", "configuration", "change"),
];

/// The AppArmor variant of an AVC record (`apparmor="DENIED"`): a different policy system.
pub static APPARMOR_AVC: RecordVocab = rec(
    1400,
    "AVC",
    "mac-decision",
    "violated-apparmor-policy",
    "policy",
    "operation",
    "denied_mask|requested_mask",
    "file",
    "info",
);

/// The row for a syscall name.
pub fn syscall(name: &str) -> Option<&'static SyscallVocab> {
    static MAP: OnceLock<HashMap<&'static str, &'static SyscallVocab>> = OnceLock::new();
    MAP.get_or_init(|| {
        SYSCALLS
            .iter()
            .flat_map(|row| row.syscalls.split_ascii_whitespace().map(move |n| (n, row)))
            .collect()
    })
    .get(name)
    .copied()
}

/// The row for a record type.
pub fn record_type(rt: RecordType) -> Option<&'static RecordVocab> {
    static MAP: OnceLock<HashMap<u16, &'static RecordVocab>> = OnceLock::new();
    MAP.get_or_init(|| RECORD_TYPES.iter().map(|row| (row.number, row)).collect())
        .get(&rt.0)
        .copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn no_syscall_or_record_type_is_listed_twice() {
        let mut seen = HashSet::new();
        for row in SYSCALLS {
            for name in row.syscalls.split_ascii_whitespace() {
                assert!(seen.insert(name), "syscall {name} listed twice");
            }
        }
        let mut numbers = HashSet::new();
        for row in RECORD_TYPES {
            assert!(numbers.insert(row.number), "{} listed twice", row.name);
        }
    }

    #[test]
    fn record_type_numbers_match_the_type_table() {
        // Where the crate's record-type table knows a name, it must give our number.
        for row in RECORD_TYPES {
            if let Some(rt) = RecordType::from_name(row.name) {
                assert_eq!(rt.0, row.number, "{}", row.name);
            }
        }
    }

    #[test]
    fn the_issue_s_required_words() {
        let pairs = [
            ("execve", "executed"),
            ("connect", "connected-to"),
            ("open", "opened-file"),
            ("openat", "opened-file"),
        ];
        for (name, action) in pairs {
            assert_eq!(syscall(name).map(|r| r.action), Some(action), "{name}");
        }
        let types = [
            (1006, "changed-login-id-to"),
            (1112, "logged-in"),
            (1105, "started-session"),
            (1106, "ended-session"),
            (1103, "acquired-credentials"),
        ];
        for (number, action) in types {
            assert_eq!(
                record_type(RecordType(number)).map(|r| r.action),
                Some(action)
            );
        }
    }
}
