//! Upload bandwidth limit (`max_bandwidth`), shared by all parts in flight: each chunk of a
//! request body waits for its share of the budget. Besides sparing a host's uplink, it makes a
//! long upload observable, which the fault tests rely on.

use std::io::Read;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A byte budget refilled at a fixed rate.
pub struct Limiter {
    bytes_per_sec: u64,
    next_free: Mutex<Instant>,
}

const CHUNK: usize = 64 * 1024;

impl Limiter {
    pub fn new(bytes_per_sec: u64) -> Self {
        Limiter {
            bytes_per_sec: bytes_per_sec.max(1),
            next_free: Mutex::new(Instant::now()),
        }
    }

    /// Reserves `n` bytes; returns when they may be sent.
    fn reserve(&self, n: usize) -> Instant {
        let cost = Duration::from_secs_f64(n as f64 / self.bytes_per_sec as f64);
        let mut next = self.next_free.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let start = (*next).max(now);
        *next = start + cost;
        *next
    }
}

/// Reads `data` through a limiter; stops with an error once `stop()` says so, which aborts the
/// request it feeds.
pub struct ThrottledReader<'a> {
    data: &'a [u8],
    pos: usize,
    limiter: &'a Limiter,
    stop: &'a (dyn Fn() -> bool + Sync),
}

impl<'a> ThrottledReader<'a> {
    pub fn new(data: &'a [u8], limiter: &'a Limiter, stop: &'a (dyn Fn() -> bool + Sync)) -> Self {
        ThrottledReader {
            data,
            pos: 0,
            limiter,
            stop,
        }
    }
}

impl Read for ThrottledReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(CHUNK).min(self.data.len() - self.pos);
        if n == 0 {
            return Ok(0);
        }
        let until = self.limiter.reserve(n);
        loop {
            if (self.stop)() {
                return Err(std::io::Error::other("upload stopped: store shutting down"));
            }
            let now = Instant::now();
            if now >= until {
                break;
            }
            std::thread::sleep((until - now).min(Duration::from_millis(50)));
        }
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_rate_and_yields_all_bytes() {
        let data = vec![7u8; 200_000];
        let limiter = Limiter::new(1_000_000);
        let stop = || false;
        let t = Instant::now();
        let mut out = Vec::new();
        ThrottledReader::new(&data, &limiter, &stop)
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, data);
        assert!(
            t.elapsed() >= Duration::from_millis(150),
            "{:?}",
            t.elapsed()
        );
    }
}
