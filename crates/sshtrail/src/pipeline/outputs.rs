//! Where the tracker's events go: each given its stable id, GeoIP added, filed into its
//! session log, rendered as an auditevent JSON line into every sink.
//!
//! The id comes first, from the event as the tracker decided it (see
//! [`sshtrail_event::id`]); the recorder next, so that a `UserLogout` carries its session
//! log's digest when it leaves. A session log that cannot be written loses that log,
//! never the event: the failure is reported as a `SystemAction` right after it.
//!
//! Every sink gets every line, in the same order. A local sink (the `output` file, a
//! fifo, stdout) writes it at once; a remote one (NATS, the lake) is a spool
//! ([`sshtrail_spool`]) whose forwarder sends it on once a checkpoint has committed it,
//! so a slow or unreachable destination never holds up the others. Its health — failing,
//! recovered, spool full — is reported as `SystemAction`s ([`Outputs::sink_reports`]).

use crate::enrich::add_geo;
use crate::geoip::GeoIp;
use crate::metrics::Metrics;
use crate::sessions::Recorder;
use crate::track::build;
use sshtrail_event::sink::{Sink, SinkError};
use sshtrail_event::{Event, EventIds, Host, IdWindow, Outcome, SystemKind};
use sshtrail_spool::{Status, Watch};
use std::sync::Arc;

/// One destination of the events.
pub struct Output {
    /// `output` for the main file sink; the configured name of the others.
    pub name: String,
    pub sink: Box<dyn Sink>,
    /// A spooled sink's status, for its health reports.
    pub watch: Option<Watch>,
    /// What its last health report said.
    reported: Status,
}

impl Output {
    pub fn new(name: impl Into<String>, sink: Box<dyn Sink>, watch: Option<Watch>) -> Output {
        let reported = watch.as_ref().map(Watch::status).unwrap_or_default();
        Output {
            name: name.into(),
            sink,
            watch,
            reported: Status {
                // A failure found at start is reported like any other.
                failing: None,
                ..reported
            },
        }
    }
}

pub struct Outputs {
    pub sinks: Vec<Output>,
    pub recorder: Option<Recorder>,
    /// Terminal recordings, filed into the recorder's logs.
    pub recordings: Option<crate::recording::Recordings>,
    pub geo: Option<GeoIp>,
    ids: EventIds,
    metrics: Arc<Metrics>,
    line: Vec<u8>,
    /// Events written so far.
    pub written: u64,
}

impl Outputs {
    /// Events into one sink, named `output`.
    pub fn new(sink: Box<dyn Sink>, metrics: Arc<Metrics>) -> Outputs {
        Outputs::with_sinks(vec![Output::new("output", sink, None)], metrics)
    }

    pub fn with_sinks(sinks: Vec<Output>, metrics: Arc<Metrics>) -> Outputs {
        Outputs {
            sinks,
            recorder: None,
            recordings: None,
            geo: None,
            ids: EventIds::new(),
            metrics,
            line: Vec::with_capacity(4096),
            written: 0,
        }
    }

    /// Writes one event (and a report of its session log's failure, if any).
    pub fn emit(&mut self, mut event: Event, host: &Host) -> Result<(), SinkError> {
        let id = self.ids.assign(&event, host);
        if let Some(geo) = &self.geo {
            add_geo(geo, &mut event);
        }
        let mut failure = None;
        if let (Event::Login(login), Some(recordings)) = (&event, self.recordings.as_mut()) {
            recordings.login(login, crate::source::wall_ms());
        }
        if let Some(recorder) = self.recorder.as_mut() {
            if let (Event::Logout(_), Some(recordings)) = (&event, self.recordings.as_mut()) {
                // The session's recording is in: it goes into the log before the seal.
                recordings.take(recorder, crate::source::wall_ms());
            }
            if let Err(e) = recorder.record(&mut event, host) {
                tracing::error!("{e}");
                failure = Some(e.to_string());
            }
        }
        self.line.clear();
        event.write_line_with_id(host, &id, &mut self.line);
        self.write(&event)?;
        if let Some(error) = failure {
            let kind = SystemKind::SessionLogFailed { error };
            let report = build::system_action(event.time_ms(), Outcome::Failed, kind);
            let id = self.ids.assign(&report, host);
            self.line.clear();
            report.write_line_with_id(host, &id, &mut self.line);
            self.write(&report)?;
        }
        Ok(())
    }

    fn write(&mut self, event: &Event) -> Result<(), SinkError> {
        for output in &mut self.sinks {
            output.sink.write_line(&self.line)?;
        }
        self.written += 1;
        self.metrics.event_written(event.event_type());
        Ok(())
    }

    /// Hands what was written to the sinks' destinations (once per batch of input).
    pub fn flush(&mut self) -> Result<(), SinkError> {
        self.sinks.iter_mut().try_for_each(|o| o.sink.flush())
    }

    /// Makes what was written durable: the sinks, and every open session log.
    pub fn sync(&mut self) -> anyhow::Result<()> {
        for output in &mut self.sinks {
            output.sink.sync()?;
        }
        if let Some(recorder) = self.recorder.as_mut() {
            recorder.sync()?;
        }
        Ok(())
    }

    /// The checkpoint naming the sinks' marks is saved: spooled sinks may send on.
    pub fn commit(&mut self) {
        self.sinks.iter_mut().for_each(|o| o.sink.commit());
    }

    /// Reopens every sink (SIGHUP, after logrotate).
    pub fn reopen(&mut self) -> Result<(), SinkError> {
        self.sinks.iter_mut().try_for_each(|o| o.sink.reopen())
    }

    /// Each sink's [`Sink::mark`], by name, for the checkpoint.
    pub fn marks(&self) -> Vec<(String, (u64, u64))> {
        self.sinks
            .iter()
            .filter_map(|o| Some((o.name.clone(), o.sink.mark()?)))
            .collect()
    }

    /// The ids' window of recent contents, for the checkpoint.
    pub fn id_window(&mut self) -> IdWindow {
        self.ids.window()
    }

    pub fn restore_id_window(&mut self, window: &IdWindow) {
        self.ids.restore(window);
    }

    /// What changed in the spooled sinks' health since the last call: a sink began
    /// failing, took events again, or dropped events because its spool was full.
    pub fn sink_reports(&mut self) -> Vec<(Outcome, SystemKind)> {
        let mut reports = Vec::new();
        for output in &mut self.sinks {
            let Some(watch) = &output.watch else { continue };
            let now = watch.status();
            let was = &output.reported;
            match (&was.failing, &now.failing) {
                (None, Some(error)) => reports.push((
                    Outcome::Failed,
                    SystemKind::SinkFailed {
                        sink: output.name.clone(),
                        error: error.clone(),
                        backlog_bytes: now.backlog_bytes,
                    },
                )),
                (Some(_), None) => reports.push((
                    Outcome::Succeeded,
                    SystemKind::SinkRecovered {
                        sink: output.name.clone(),
                        failures: now.failures,
                        backlog_bytes: now.backlog_bytes,
                    },
                )),
                _ => {}
            }
            if now.dropped > was.dropped {
                reports.push((
                    Outcome::Failed,
                    SystemKind::SinkOverflowed {
                        sink: output.name.clone(),
                        dropped: now.dropped - was.dropped,
                        dropped_total: now.dropped,
                    },
                ));
            }
            self.metrics.sink_status(&output.name, &now);
            output.reported = now;
        }
        reports
    }
}
