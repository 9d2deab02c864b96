//! How far each side of the join has delivered, and the waits that end by it.
//!
//! A wait never ends because a clock ran: it ends when the *other* side has shown that
//! the fact waited for is not coming. Each side reports a watermark, the event time up to
//! which it has delivered everything ([`SideProgress::watermark_ms`]). A wait for that
//! side with due time `D` (the fact's time, plus the width of a coarse time stamp, plus
//! the join slack) ends once the watermark has passed `D`, or once the side has ended,
//! or once it has been idle (caught up, nothing pending) for a short wall-clock grace
//! after the wait began. So a catch-up after any downtime joins what it reads, whatever
//! the wall clock says, and a live source that is simply quiet still lets waits end.

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// One side of the join: the audit records, or sshd's log.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Audit,
    Sshd,
}

/// How far one side has delivered.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct SideProgress {
    /// Event time (ms) before which this side has delivered every fact it will deliver.
    pub watermark_ms: u64,
    /// The side has nothing pending (it is caught up) since this wall-clock ms.
    pub idle_since_ms: Option<u64>,
    /// Nothing more will ever come from this side (end of a replayed file).
    pub ended: bool,
}

impl SideProgress {
    /// Whether a wait on this side that is due at event time `due_ms`, begun at
    /// wall-clock `since_ms`, is over at wall-clock `now_ms`.
    pub fn ends(&self, due_ms: u64, since_ms: u64, now_ms: u64, grace_ms: u64) -> bool {
        self.ended
            || self.watermark_ms > due_ms
            || self
                .idle_since_ms
                .is_some_and(|idle| now_ms >= idle.max(since_ms).saturating_add(grace_ms))
    }
}

/// Both sides and the wall clock, as the pipeline last saw them.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Progress {
    pub audit: SideProgress,
    pub sshd: SideProgress,
    /// Wall-clock ms (only idle graces are measured in it).
    pub wall_ms: u64,
}

impl Progress {
    /// Both sides over: the end of all input.
    pub fn finished() -> Progress {
        let over = SideProgress {
            watermark_ms: u64::MAX,
            idle_since_ms: None,
            ended: true,
        };
        Progress {
            audit: over,
            sshd: over,
            wall_ms: u64::MAX,
        }
    }

    pub fn side(&self, side: Side) -> &SideProgress {
        match side {
            Side::Audit => &self.audit,
            Side::Sshd => &self.sshd,
        }
    }
}

/// A wait for one side, due at an event time.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Wait {
    pub side: Side,
    pub due_ms: u64,
    /// When the wait began, wall clock. Not kept across restarts: a restored wait
    /// begins again when the daemon does.
    #[serde(skip)]
    pub since_ms: u64,
}

impl Wait {
    pub fn is_over(&self, progress: &Progress, grace_ms: u64) -> bool {
        progress
            .side(self.side)
            .ends(self.due_ms, self.since_ms, progress.wall_ms, grace_ms)
    }
}

/// When the waits end, indexed so that finding the ones that are over costs nothing when
/// none are: by due time and by start (for idle graces), per side.
///
/// Entries are never removed when a wait ends early (a join, a session dropped): `take`
/// returns keys whose wait the caller must look up and check ([`Wait`] equality), which
/// is cheaper than finding and removing every entry at every change.
pub struct Timers<K> {
    by_due: [BTreeSet<(u64, K)>; 2],
    by_start: [BTreeSet<(u64, K)>; 2],
}

impl<K> Default for Timers<K> {
    fn default() -> Self {
        Timers {
            by_due: [BTreeSet::new(), BTreeSet::new()],
            by_start: [BTreeSet::new(), BTreeSet::new()],
        }
    }
}

fn slot(side: Side) -> usize {
    match side {
        Side::Audit => 0,
        Side::Sshd => 1,
    }
}

impl<K: Ord + Copy> Timers<K> {
    pub fn add(&mut self, wait: &Wait, key: K) {
        let i = slot(wait.side);
        self.by_due[i].insert((wait.due_ms, key));
        self.by_start[i].insert((wait.since_ms, key));
    }

    /// No entry at all (entries of waits that ended early count until taken).
    pub fn is_empty(&self) -> bool {
        self.by_due.iter().all(BTreeSet::is_empty)
    }

    pub fn clear(&mut self) {
        *self = Timers {
            by_due: [BTreeSet::new(), BTreeSet::new()],
            by_start: [BTreeSet::new(), BTreeSet::new()],
        };
    }

    /// Whether any entry may be over (cheap: looks at the first entries only).
    pub fn any_due(&self, progress: &Progress, grace_ms: u64) -> bool {
        [Side::Audit, Side::Sshd].into_iter().any(|side| {
            let i = slot(side);
            let p = progress.side(side);
            let by_due = self.by_due[i]
                .first()
                .is_some_and(|(due, _)| p.ended || p.watermark_ms > *due);
            let by_idle = p.idle_since_ms.is_some_and(|idle| {
                self.by_start[i].first().is_some_and(|(since, _)| {
                    progress.wall_ms >= idle.max(*since).saturating_add(grace_ms)
                })
            });
            by_due || by_idle
        })
    }

    /// Takes out the entries that are over, as (due time, key) in that order. The caller
    /// checks each key's wait is still the one the entry was made for.
    pub fn take(&mut self, progress: &Progress, grace_ms: u64) -> Vec<(Side, K)> {
        let mut over: Vec<(u64, Side, K)> = Vec::new();
        for side in [Side::Audit, Side::Sshd] {
            let i = slot(side);
            let p = progress.side(side);
            while let Some(&(due, key)) = self.by_due[i].first() {
                if !(p.ended || p.watermark_ms > due) {
                    break;
                }
                self.by_due[i].pop_first();
                over.push((due, side, key));
            }
            if let Some(idle) = p.idle_since_ms {
                if progress.wall_ms >= idle.saturating_add(grace_ms) {
                    let limit = progress.wall_ms.saturating_sub(grace_ms);
                    while let Some(&(since, key)) = self.by_start[i].first() {
                        if since > limit {
                            break;
                        }
                        self.by_start[i].pop_first();
                        over.push((0, side, key));
                    }
                }
            }
        }
        over.sort_unstable_by_key(|a| (a.0, a.2));
        over.dedup_by(|a, b| a.1 == b.1 && a.2 == b.2);
        over.into_iter().map(|(_, side, key)| (side, key)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wait_ends_by_the_watermark_not_by_the_clock() {
        let behind = SideProgress {
            watermark_ms: 1_000,
            idle_since_ms: None,
            ended: false,
        };
        // Hours of wall clock while the side is still behind: the wait goes on.
        assert!(!behind.ends(5_000, 0, 10_000_000, 2_000));
        let caught_up_past = SideProgress {
            watermark_ms: 5_001,
            ..behind
        };
        assert!(caught_up_past.ends(5_000, 0, 0, 2_000));
        let idle = SideProgress {
            idle_since_ms: Some(100),
            ..behind
        };
        // Idle: the grace counts from the later of the idle start and the wait's start.
        assert!(!idle.ends(5_000, 500, 2_499, 2_000));
        assert!(idle.ends(5_000, 500, 2_500, 2_000));
        let ended = SideProgress {
            ended: true,
            ..behind
        };
        assert!(ended.ends(u64::MAX - 1, 0, 0, 2_000));
    }
}
