//! The daemon's own numbers, and the small HTTP endpoint that serves them.
//!
//! `GET /metrics` (Prometheus text format), `GET /healthz` (200 while the pipeline thread
//! is alive, 503 once it has been silent for [`STALE_AFTER_MS`]) and `GET /readyz` (200
//! once the sources are running). Counters are atomics written by the pipeline thread;
//! the server thread only reads them. The listener is meant for 127.0.0.1: it reads at
//! most one small request per connection, with a timeout, and answers nothing else.

use sshtrail_event::EventType;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The pipeline is called unhealthy when it has not checked in for this long.
pub const STALE_AFTER_MS: u64 = 10_000;

/// Counters and gauges. Names follow Prometheus conventions (`_total` for counters).
#[derive(Default)]
pub struct Metrics {
    pub audit_records: AtomicU64,
    pub audit_records_replayed_skipped: AtomicU64,
    pub audit_events_lost: AtomicU64,
    pub audit_records_late: AtomicU64,
    pub sshd_lines: AtomicU64,
    pub sshd_lines_unframed: AtomicU64,
    pub giveup_no_sshd_login: AtomicU64,
    pub giveup_no_audit_login: AtomicU64,
    pub giveup_buffer_full: AtomicU64,
    pub giveup_too_many_sessions: AtomicU64,
    pub giveup_log_actions: AtomicU64,
    pub non_ssh_events: AtomicU64,
    /// Sessions, waiting logins and sshd-only sessions the tracker holds now.
    pub sessions_tracked: AtomicU64,
    /// Wall-clock ms of the pipeline's last loop, the last checkpoint, the newest event
    /// time written.
    pub heartbeat_ms: AtomicU64,
    pub checkpoint_ms: AtomicU64,
    pub last_event_time_ms: AtomicU64,
    pub ready: AtomicBool,
    /// The kernel's own counters (`auditctl -s`), when sshtrail may read them: records
    /// the kernel dropped since boot, and records queued for the audit daemon now.
    pub kernel_lost: AtomicU64,
    pub kernel_backlog: AtomicU64,
    pub kernel_status_known: AtomicBool,
    /// Session logs (all zero when no session storage is configured).
    pub session_logs_opened: AtomicU64,
    pub session_logs_sealed: AtomicU64,
    pub session_log_records: AtomicU64,
    pub session_log_failures: AtomicU64,
    pub session_log_late_events: AtomicU64,
    pub session_uploads_pending: AtomicU64,
    pub session_uploads_done: AtomicU64,
    pub session_upload_retries: AtomicU64,
    pub session_upload_failures: AtomicU64,
    pub session_uploads_resumed: AtomicU64,
    pub session_upload_parts_reused: AtomicU64,
    parse_errors: Mutex<BTreeMap<&'static str, u64>>,
    /// Events written, by type (UserLogin, UserAction, UserLogout, SystemAction).
    events_written: [AtomicU64; 4],
    /// Each spooled sink's latest status, by name.
    sinks: Mutex<BTreeMap<String, sshtrail_spool::Status>>,
}

const EVENT_TYPES: [EventType; 4] = [
    EventType::SystemAction,
    EventType::UserAction,
    EventType::UserLogin,
    EventType::UserLogout,
];

fn type_slot(kind: EventType) -> usize {
    match kind {
        EventType::SystemAction => 0,
        EventType::UserAction => 1,
        EventType::UserLogin => 2,
        EventType::UserLogout => 3,
    }
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl Metrics {
    pub fn parse_error(&self, kind: &'static str) {
        if let Ok(mut map) = self.parse_errors.lock() {
            *map.entry(kind).or_default() += 1;
        }
    }

    pub fn sink_status(&self, name: &str, status: &sshtrail_spool::Status) {
        if let Ok(mut sinks) = self.sinks.lock() {
            sinks.insert(name.to_string(), status.clone());
        }
    }

    pub fn event_written(&self, event_type: EventType) {
        self.events_written[type_slot(event_type)].fetch_add(1, Ordering::Relaxed);
    }

    /// The Prometheus text exposition of everything.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(2048);
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let counter = |out: &mut String, name: &str, help: &str, value: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
            );
        };
        counter(
            &mut out,
            "sshtrail_audit_records_total",
            "Audit records read.",
            load(&self.audit_records),
        );
        counter(
            &mut out,
            "sshtrail_audit_records_replayed_skipped_total",
            "Records re-read after a restart whose events were already written.",
            load(&self.audit_records_replayed_skipped),
        );
        counter(
            &mut out,
            "sshtrail_audit_events_lost_total",
            "Audit serials that never arrived.",
            load(&self.audit_events_lost),
        );
        counter(
            &mut out,
            "sshtrail_audit_records_late_total",
            "Records that arrived after their event was written.",
            load(&self.audit_records_late),
        );
        counter(
            &mut out,
            "sshtrail_sshd_lines_total",
            "sshd log lines read.",
            load(&self.sshd_lines),
        );
        counter(
            &mut out,
            "sshtrail_sshd_lines_unframed_total",
            "sshd source lines that could not be framed.",
            load(&self.sshd_lines_unframed),
        );
        counter(
            &mut out,
            "sshtrail_non_ssh_events_total",
            "Audit events of non-SSH login sessions (not written).",
            load(&self.non_ssh_events),
        );
        for (name, help, value) in [
            (
                "sshtrail_session_logs_opened_total",
                "Session logs begun.",
                &self.session_logs_opened,
            ),
            (
                "sshtrail_session_logs_sealed_total",
                "Session logs sealed at logout.",
                &self.session_logs_sealed,
            ),
            (
                "sshtrail_session_log_records_total",
                "Records written to session logs.",
                &self.session_log_records,
            ),
            (
                "sshtrail_session_log_failures_total",
                "Session log writes that failed (storage errors).",
                &self.session_log_failures,
            ),
            (
                "sshtrail_session_log_late_events_total",
                "Events of sessions whose log was already sealed.",
                &self.session_log_late_events,
            ),
            (
                "sshtrail_session_uploads_done_total",
                "Session logs uploaded to object storage.",
                &self.session_uploads_done,
            ),
            (
                "sshtrail_session_upload_retries_total",
                "Upload requests retried.",
                &self.session_upload_retries,
            ),
            (
                "sshtrail_session_upload_failures_total",
                "Upload attempts given up (kept in the spool for later).",
                &self.session_upload_failures,
            ),
            (
                "sshtrail_session_uploads_resumed_total",
                "Multipart uploads continued under their earlier upload id after a restart.",
                &self.session_uploads_resumed,
            ),
            (
                "sshtrail_session_upload_parts_reused_total",
                "Parts not sent again because the server already had them.",
                &self.session_upload_parts_reused,
            ),
        ] {
            counter(&mut out, name, help, load(value));
        }
        let _ = writeln!(
            out,
            "# HELP sshtrail_sessions_tracked Open sessions and waiting logins the tracker holds.\n# TYPE sshtrail_sessions_tracked gauge\nsshtrail_sessions_tracked {}",
            load(&self.sessions_tracked)
        );
        let _ = writeln!(
            out,
            "# HELP sshtrail_session_uploads_pending Session logs waiting in the spool for upload.\n# TYPE sshtrail_session_uploads_pending gauge\nsshtrail_session_uploads_pending {}",
            load(&self.session_uploads_pending)
        );
        let _ = writeln!(
            out,
            "# HELP sshtrail_correlation_giveups_total Joins given up, by reason.\n# TYPE sshtrail_correlation_giveups_total counter"
        );
        for (reason, value) in [
            ("no_sshd_login", load(&self.giveup_no_sshd_login)),
            ("no_audit_login", load(&self.giveup_no_audit_login)),
            ("buffer_full", load(&self.giveup_buffer_full)),
            ("too_many_sessions", load(&self.giveup_too_many_sessions)),
            ("log_action_unjoined", load(&self.giveup_log_actions)),
        ] {
            let _ = writeln!(
                out,
                "sshtrail_correlation_giveups_total{{reason=\"{reason}\"}} {value}"
            );
        }
        let labelled = |out: &mut String,
                        name: &str,
                        help: &str,
                        label: &str,
                        map: &Mutex<BTreeMap<&'static str, u64>>| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            if let Ok(map) = map.lock() {
                for (key, value) in map.iter() {
                    let _ = writeln!(out, "{name}{{{label}=\"{key}\"}} {value}");
                }
            }
        };
        labelled(
            &mut out,
            "sshtrail_audit_parse_errors_total",
            "Audit lines that are not records, by kind.",
            "kind",
            &self.parse_errors,
        );
        let _ = writeln!(
            out,
            "# HELP sshtrail_events_written_total Events written to the output, by type.\n# TYPE sshtrail_events_written_total counter"
        );
        for kind in EVENT_TYPES {
            let value = load(&self.events_written[type_slot(kind)]);
            if value > 0 {
                let _ = writeln!(
                    out,
                    "sshtrail_events_written_total{{type=\"{}\"}} {value}",
                    kind.as_str()
                );
            }
        }
        if let Ok(sinks) = self.sinks.lock() {
            type Get = fn(&sshtrail_spool::Status) -> u64;
            let rows: [(&str, &str, &str, Get); 5] = [
                (
                    "sshtrail_sink_delivered_total",
                    "counter",
                    "Events a remote sink acknowledged.",
                    |s| s.delivered,
                ),
                (
                    "sshtrail_sink_failures_total",
                    "counter",
                    "Deliveries to a remote sink that failed (retried).",
                    |s| s.failures,
                ),
                (
                    "sshtrail_sink_dropped_total",
                    "counter",
                    "Events not spooled for a remote sink: its spool was full.",
                    |s| s.dropped,
                ),
                (
                    "sshtrail_sink_backlog_bytes",
                    "gauge",
                    "Bytes spooled for a remote sink and not yet delivered.",
                    |s| s.backlog_bytes,
                ),
                (
                    "sshtrail_sink_up",
                    "gauge",
                    "1 while a remote sink takes events, 0 while it fails.",
                    |s| u64::from(s.failing.is_none()),
                ),
            ];
            if !sinks.is_empty() {
                for (name, kind, help, get) in rows {
                    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
                    for (sink, status) in sinks.iter() {
                        let _ = writeln!(out, "{name}{{sink=\"{sink}\"}} {}", get(status));
                    }
                }
            }
        }
        if self.kernel_status_known.load(Ordering::Relaxed) {
            let _ = writeln!(
                out,
                "# HELP sshtrail_kernel_audit_lost Records the kernel dropped since boot (auditctl -s lost).\n# TYPE sshtrail_kernel_audit_lost gauge\nsshtrail_kernel_audit_lost {}",
                load(&self.kernel_lost)
            );
            let _ = writeln!(
                out,
                "# HELP sshtrail_kernel_audit_backlog Records queued for the audit daemon now.\n# TYPE sshtrail_kernel_audit_backlog gauge\nsshtrail_kernel_audit_backlog {}",
                load(&self.kernel_backlog)
            );
        }
        let now = now_ms();
        let age = |at: u64| {
            if at == 0 {
                -1.0
            } else {
                now.saturating_sub(at) as f64 / 1000.0
            }
        };
        let _ = writeln!(
            out,
            "# HELP sshtrail_checkpoint_age_seconds Time since the last checkpoint (-1: none yet).\n# TYPE sshtrail_checkpoint_age_seconds gauge\nsshtrail_checkpoint_age_seconds {}",
            age(load(&self.checkpoint_ms))
        );
        let _ = writeln!(
            out,
            "# HELP sshtrail_lag_seconds Wall clock minus the time of the newest event written (-1: none yet).\n# TYPE sshtrail_lag_seconds gauge\nsshtrail_lag_seconds {}",
            age(load(&self.last_event_time_ms))
        );
        out
    }

    fn healthy(&self) -> bool {
        now_ms().saturating_sub(self.heartbeat_ms.load(Ordering::Relaxed)) < STALE_AFTER_MS
    }
}

/// Reads the kernel's audit status every few seconds into `metrics` (needs the right to
/// query audit status; without it the kernel gauges are simply absent).
pub fn poll_kernel_status(metrics: Arc<Metrics>) {
    let _ = std::thread::Builder::new()
        .name("kernel-status".into())
        .spawn(move || loop {
            match sshtrail_audit::netlink::AuditClient::open().and_then(|mut c| c.status()) {
                Ok(status) => {
                    metrics
                        .kernel_lost
                        .store(u64::from(status.lost), Ordering::Relaxed);
                    metrics
                        .kernel_backlog
                        .store(u64::from(status.backlog), Ordering::Relaxed);
                    metrics.kernel_status_known.store(true, Ordering::Relaxed);
                }
                Err(_) => metrics.kernel_status_known.store(false, Ordering::Relaxed),
            }
            std::thread::sleep(Duration::from_secs(5));
        });
}

/// Serves the endpoints on `listener` from a thread of its own.
pub fn serve(listener: TcpListener, metrics: Arc<Metrics>) -> io::Result<()> {
    std::thread::Builder::new()
        .name("metrics".into())
        .spawn(move || {
            for stream in listener.incoming() {
                match stream {
                    Ok(stream) => {
                        let _ = answer(stream, &metrics);
                    }
                    // Out of descriptors, say: back off instead of spinning.
                    Err(_) => std::thread::sleep(Duration::from_millis(100)),
                }
            }
        })?;
    Ok(())
}

fn answer(mut stream: TcpStream, metrics: &Metrics) -> io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    stream.set_write_timeout(Some(Duration::from_secs(2)))?;
    let mut buf = [0u8; 2048];
    let mut len = 0;
    // Only the request line matters; stop at its end or when the buffer is full.
    while len < buf.len() {
        let n = stream.read(&mut buf[len..])?;
        if n == 0 {
            break;
        }
        len += n;
        if buf[..len].contains(&b'\n') {
            break;
        }
    }
    let request = String::from_utf8_lossy(&buf[..len]);
    let mut words = request.split_whitespace();
    let (method, path) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let (status, content_type, body) = match (method, path) {
        ("GET", "/metrics") => ("200 OK", "text/plain; version=0.0.4", metrics.render()),
        ("GET", "/healthz") if metrics.healthy() => ("200 OK", "text/plain", "ok\n".into()),
        ("GET", "/healthz") => (
            "503 Service Unavailable",
            "text/plain",
            "pipeline stalled\n".into(),
        ),
        ("GET", "/readyz") if metrics.ready.load(Ordering::Relaxed) => {
            ("200 OK", "text/plain", "ready\n".into())
        }
        ("GET", "/readyz") => ("503 Service Unavailable", "text/plain", "starting\n".into()),
        ("GET", _) => ("404 Not Found", "text/plain", "not found\n".into()),
        _ => ("405 Method Not Allowed", "text/plain", "GET only\n".into()),
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body.as_bytes())?;
    // Closing with unread input makes the kernel reset the connection, which can
    // destroy the answer in flight: finish writing, then drain a little (bounded).
    stream.shutdown(std::net::Shutdown::Write)?;
    let mut rest = [0u8; 4096];
    for _ in 0..16 {
        match stream.read(&mut rest) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(addr: std::net::SocketAddr, request: &[u8]) -> String {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream.write_all(request).unwrap();
        let mut out = String::new();
        stream.read_to_string(&mut out).unwrap();
        out
    }

    #[test]
    fn endpoints_answer_and_junk_is_refused() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let metrics = Arc::new(Metrics::default());
        metrics.audit_records.store(42, Ordering::Relaxed);
        metrics.parse_error("missing_type");
        metrics.event_written(EventType::UserAction);
        serve(listener, Arc::clone(&metrics)).unwrap();

        let body = get(addr, b"GET /metrics HTTP/1.1\r\n\r\n");
        assert!(body.starts_with("HTTP/1.1 200 OK"));
        assert!(body.contains("sshtrail_audit_records_total 42"));
        assert!(body.contains("sshtrail_audit_parse_errors_total{kind=\"missing_type\"} 1"));
        assert!(body.contains("sshtrail_events_written_total{type=\"UserAction\"} 1"));
        assert!(get(addr, b"GET /healthz HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 503"));
        metrics.heartbeat_ms.store(now_ms(), Ordering::Relaxed);
        assert!(get(addr, b"GET /healthz HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 200"));
        assert!(get(addr, b"GET /readyz HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 503"));
        assert!(get(addr, b"GET /nope HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 404"));
        assert!(get(addr, b"DELETE /metrics HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 405"));
        assert!(get(addr, &[0xff; 5000]).starts_with("HTTP/1.1 405"));
    }
}
