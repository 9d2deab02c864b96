//! `struct audit_status` and `struct audit_features`: the kernel audit system's
//! settings and counters.

use serde::Serialize;

/// Bits of `audit_status.mask`: which values an AUDIT_SET changes.
pub const STATUS_ENABLED: u32 = 0x01;
pub const STATUS_FAILURE: u32 = 0x02;
pub const STATUS_PID: u32 = 0x04;
pub const STATUS_RATE_LIMIT: u32 = 0x08;
pub const STATUS_BACKLOG_LIMIT: u32 = 0x10;
pub const STATUS_BACKLOG_WAIT_TIME: u32 = 0x20;
pub const STATUS_LOST: u32 = 0x40;
/// Resets `backlog_wait_time_actual`.
pub const STATUS_BACKLOG_WAIT_TIME_ACTUAL: u32 = 0x80;

/// The kernel's audit status, as `auditctl -s` shows it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Status {
    /// 0 off, 1 on, 2 on and locked until reboot.
    pub enabled: u32,
    /// What the kernel does when it cannot record: 0 silent, 1 printk, 2 panic.
    pub failure: u32,
    /// Pid of the audit daemon receiving records (0: none).
    pub pid: u32,
    /// Records per second before the kernel drops (0: unlimited).
    pub rate_limit: u32,
    /// Records queued for the daemon before the kernel drops or waits.
    pub backlog_limit: u32,
    /// Records dropped since boot (or the last reset).
    pub lost: u32,
    /// Records queued right now.
    pub backlog: u32,
    /// The kernel's feature bitmap (formerly the version).
    #[serde(skip)]
    pub feature_bitmap: u32,
    /// Jiffies a task waits for backlog space before its record is lost.
    pub backlog_wait_time: u32,
    /// Total time tasks have spent waiting for backlog space.
    pub backlog_wait_time_actual: u32,
}

impl Status {
    /// Reads the kernel's reply payload (11 words; kernels before 5.9 send 10, before
    /// 3.14 send 9: missing fields read as 0).
    pub fn decode(payload: &[u8]) -> Status {
        let word = |i: usize| -> u32 {
            payload
                .get(i * 4..i * 4 + 4)
                .map_or(0, |b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
        };
        Status {
            enabled: word(1),
            failure: word(2),
            pid: word(3),
            rate_limit: word(4),
            backlog_limit: word(5),
            lost: word(6),
            backlog: word(7),
            feature_bitmap: word(8),
            backlog_wait_time: word(9),
            backlog_wait_time_actual: word(10),
        }
    }

    /// Request payload for AUDIT_SET: only the values whose bit is in `mask` change.
    pub fn encode(&self, mask: u32) -> Vec<u8> {
        let words = [
            mask,
            self.enabled,
            self.failure,
            self.pid,
            self.rate_limit,
            self.backlog_limit,
            self.lost,
            self.backlog,
            self.feature_bitmap,
            self.backlog_wait_time,
            self.backlog_wait_time_actual,
        ];
        words.iter().flat_map(|w| w.to_ne_bytes()).collect()
    }
}

/// `AUDIT_FEATURE_LOGINUID_IMMUTABLE`'s bit in `audit_features`.
pub const FEATURE_LOGINUID_IMMUTABLE: u32 = 1 << 1;

/// `struct audit_features`: switchable kernel behaviours and whether each is locked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Features {
    pub version: u32,
    pub mask: u32,
    pub features: u32,
    pub lock: u32,
}

impl Features {
    pub fn decode(payload: &[u8]) -> Features {
        let word = |i: usize| -> u32 {
            payload
                .get(i * 4..i * 4 + 4)
                .map_or(0, |b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
        };
        Features {
            version: word(0),
            mask: word(1),
            features: word(2),
            lock: word(3),
        }
    }

    /// Whether a task's login uid can no longer be changed once set.
    pub fn loginuid_immutable(&self) -> bool {
        self.features & FEATURE_LOGINUID_IMMUTABLE != 0
    }

    /// Whether that setting is locked until reboot.
    pub fn loginuid_immutable_locked(&self) -> bool {
        self.lock & FEATURE_LOGINUID_IMMUTABLE != 0
    }
}
