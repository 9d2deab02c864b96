//! Where the tracker's events go: GeoIP added, filed into their session logs, rendered
//! as auditevent JSON lines into the event sink.
//!
//! The recorder comes first so that a `UserLogout` carries its session log's digest when
//! it leaves. A session log that cannot be written loses that log, never the event: the
//! failure is reported as a `SystemAction` right after it.

use crate::enrich::add_geo;
use crate::geoip::GeoIp;
use crate::metrics::Metrics;
use crate::sessions::Recorder;
use crate::track::build;
use sshtrail_event::sink::{Sink, SinkError};
use sshtrail_event::{Event, Host, Outcome, SystemKind};
use std::sync::Arc;

pub struct Outputs {
    pub sink: Box<dyn Sink>,
    pub recorder: Option<Recorder>,
    pub geo: Option<GeoIp>,
    metrics: Arc<Metrics>,
    line: Vec<u8>,
    /// Events written so far.
    pub written: u64,
}

impl Outputs {
    pub fn new(sink: Box<dyn Sink>, metrics: Arc<Metrics>) -> Outputs {
        Outputs {
            sink,
            recorder: None,
            geo: None,
            metrics,
            line: Vec::with_capacity(4096),
            written: 0,
        }
    }

    /// Writes one event (and a report of its session log's failure, if any).
    pub fn emit(&mut self, mut event: Event, host: &Host) -> Result<(), SinkError> {
        if let Some(geo) = &self.geo {
            add_geo(geo, &mut event);
        }
        let mut failure = None;
        if let Some(recorder) = self.recorder.as_mut() {
            if let Err(e) = recorder.record(&mut event, host) {
                tracing::error!("{e}");
                failure = Some(e.to_string());
            }
        }
        self.write(&event, host)?;
        if let Some(error) = failure {
            let kind = SystemKind::SessionLogFailed { error };
            let report = build::system_action(event.time_ms(), Outcome::Failed, kind);
            self.write(&report, host)?;
        }
        Ok(())
    }

    fn write(&mut self, event: &Event, host: &Host) -> Result<(), SinkError> {
        self.line.clear();
        event.write_line(host, &mut self.line);
        self.sink.write_line(&self.line)?;
        self.written += 1;
        self.metrics.event_written(event.event_type());
        Ok(())
    }

    /// Hands what was written to the sink's destination (once per batch of input).
    pub fn flush(&mut self) -> Result<(), SinkError> {
        self.sink.flush()
    }

    /// Makes what was written durable: the sink, and every open session log.
    pub fn sync(&mut self) -> anyhow::Result<()> {
        self.sink.sync()?;
        if let Some(recorder) = self.recorder.as_mut() {
            recorder.sync()?;
        }
        Ok(())
    }
}
