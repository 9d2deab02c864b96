//! The upload queue and its thread: one background thread takes finished sessions from the
//! queue (persisted as upload records in the spool, see `job`) and hands each to `upload`;
//! every request is retried with capped exponential backoff and jitter; shutdown and drop stop
//! it at the next request boundary.

use super::client::Client;
use super::spool::Spool;
use super::throttle::Limiter;
use crate::{Error, RetryPolicy, StoreStats};
use std::collections::{BTreeSet, VecDeque};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Queue state guarded by one mutex; the condvar wakes the worker, `shutdown` and sleepers.
#[derive(Default)]
pub struct Queue {
    pub pending: VecDeque<String>,
    pub active: Option<String>,
    /// Set by `shutdown` after its deadline (or by drop): stop at the next request boundary.
    pub stop: bool,
    /// Given up for this run after a permanent error (still in the spool).
    pub failed: BTreeSet<String>,
}

/// What the store and its upload thread share.
pub struct Shared {
    pub client: Client,
    pub spool: Option<Spool>,
    pub policy: RetryPolicy,
    pub limiter: Option<Limiter>,
    pub queue: Mutex<Queue>,
    pub wake: Condvar,
    pub stats: Mutex<StoreStats>,
}

pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking upload thread must not wedge the daemon's own calls.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

pub fn lock_queue(m: &Mutex<Queue>) -> MutexGuard<'_, Queue> {
    lock(m)
}

pub fn lock_stats(m: &Mutex<StoreStats>) -> MutexGuard<'_, StoreStats> {
    lock(m)
}

/// Small xorshift for jitter; quality is irrelevant, only spreading retries matters.
fn jitter_fraction() -> f64 {
    use std::cell::Cell;
    thread_local!(static STATE: Cell<u64> = Cell::new({
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1);
        t ^ (std::process::id() as u64) << 32 | 1
    }));
    STATE.with(|s| {
        let mut x = s.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.set(x);
        (x >> 11) as f64 / (1u64 << 53) as f64
    })
}

/// Delay before retry number `attempt` (0-based): doubling from `initial`, capped at `max`,
/// then a random point in its upper half, so that many hosts do not retry in lockstep.
pub fn backoff(policy: &RetryPolicy, attempt: u32) -> Duration {
    let base = policy
        .initial
        .saturating_mul(1u32 << attempt.min(20))
        .min(policy.max);
    base.mul_f64(0.5 + 0.5 * jitter_fraction())
}

impl Shared {
    pub fn stopped(&self) -> bool {
        lock(&self.queue).stop
    }

    pub fn note_error(&self, e: &Error) {
        lock(&self.stats).last_error = Some(e.to_string());
    }

    /// Sleeps unless the store stops first.
    pub(super) fn sleep(&self, d: Duration) -> Result<(), Error> {
        let until = Instant::now() + d;
        let mut q = lock(&self.queue);
        loop {
            if q.stop {
                return Err(Error::ShuttingDown);
            }
            let now = Instant::now();
            if now >= until {
                return Ok(());
            }
            q = self
                .wake
                .wait_timeout(q, until - now)
                .map(|(g, _)| g)
                .unwrap_or_else(|p| p.into_inner().0);
        }
    }

    /// Runs one request until it succeeds, the store stops, or it fails permanently
    /// `permanent_attempts` times. `NoSuchUpload` is returned at once: the caller reacts.
    pub(super) fn retrying<T>(
        &self,
        what: &str,
        mut f: impl FnMut() -> Result<T, Error>,
    ) -> Result<T, Error> {
        let mut attempt = 0u32;
        let mut permanent = 0u32;
        loop {
            if self.stopped() {
                return Err(Error::ShuttingDown);
            }
            let e = match f() {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            if self.stopped() || matches!(e, Error::ShuttingDown) {
                return Err(Error::ShuttingDown);
            }
            self.note_error(&e);
            if e.s3_code() == Some("NoSuchUpload") {
                return Err(e);
            }
            if !e.is_transient() {
                permanent += 1;
                if permanent >= self.policy.permanent_attempts.max(1) {
                    return Err(e);
                }
            }
            let delay = backoff(&self.policy, attempt);
            lock(&self.stats).upload_retries += 1;
            tracing::warn!(what, error = %e, retry_in_ms = delay.as_millis() as u64, "S3 request failed; retrying");
            self.sleep(delay)?;
            attempt += 1;
        }
    }

    /// The upload thread's loop.
    pub fn run_worker(&self) {
        // Checked before this process's first upload (not at start: an idle store sends
        // nothing), so that its own sessions do not make a new prefix look old.
        let mut marker_checked = false;
        loop {
            let id = {
                let mut q = lock(&self.queue);
                loop {
                    if q.stop {
                        return;
                    }
                    if let Some(id) = q.pending.pop_front() {
                        q.active = Some(id.clone());
                        break id;
                    }
                    q = self.wake.wait(q).unwrap_or_else(|p| p.into_inner());
                }
            };
            if !marker_checked {
                self.mark_index_if_new();
                marker_checked = true;
            }
            let result = self.upload(&id);
            let mut q = lock(&self.queue);
            q.active = None;
            match result {
                Ok(()) => {}
                Err(Error::ShuttingDown) => {}
                Err(e) => {
                    tracing::error!(session = %id, error = %e, "upload given up for now; it stays in the spool and is retried at the next start");
                    self.note_error(&e);
                    lock(&self.stats).upload_failures += 1;
                    q.failed.insert(id);
                }
            }
            self.wake.notify_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let p = RetryPolicy {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(2),
            ..Default::default()
        };
        for attempt in 0..40 {
            let d = backoff(&p, attempt);
            let base = Duration::from_millis(100)
                .saturating_mul(1 << attempt.min(20))
                .min(p.max);
            assert!(d >= base / 2 && d <= base, "{attempt}: {d:?}");
        }
    }
}
