//! The `nats://` sink: spooled lines to NATS JetStream ([`sshtrail_nats`]).
//!
//! Each line becomes one message on `<prefix>.<target.host>.<type>` with the event's
//! `metadata.eventId` as `Nats-Msg-Id`. The forwarder hands over what a checkpoint
//! committed and forgets it only once the stream acknowledged every message; a retry
//! (after an error, a restart or a SIGKILL) sends the same ids again and the stream keeps
//! one of each, within its duplicate window.

use bytes::Bytes;
use serde::Deserialize;
use sshtrail_nats::{subject_for, JetStream, Message, NatsError, NatsTarget};
use sshtrail_spool::{Batch, Deliver, Gather};

pub struct NatsDeliver {
    target: NatsTarget,
    /// Connected at the first delivery, so that a server that is down at start costs a
    /// spool, not the daemon's start.
    stream: Option<JetStream>,
    gather: Gather,
    /// Host for a line that names none (never from the daemon's own events).
    host: String,
}

impl NatsDeliver {
    pub fn new(target: NatsTarget, gather: Gather, host: &str) -> NatsDeliver {
        NatsDeliver {
            target,
            stream: None,
            gather,
            host: host.to_string(),
        }
    }
}

#[derive(Deserialize)]
struct Head<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow, default)]
    metadata: Option<HeadMetadata<'a>>,
    #[serde(borrow, default)]
    target: Option<HeadTarget<'a>>,
}

#[derive(Deserialize)]
struct HeadMetadata<'a> {
    #[serde(rename = "eventId", borrow, default)]
    event_id: Option<std::borrow::Cow<'a, str>>,
}

#[derive(Deserialize)]
struct HeadTarget<'a> {
    #[serde(borrow, default)]
    host: Option<std::borrow::Cow<'a, str>>,
}

/// The message for one line. A line that is not an event as the daemon writes them (it
/// never should be) still goes, on `<prefix>.<host>._`, with an id derived from its bytes.
pub fn message(prefix: &str, default_host: &str, line: &[u8]) -> Message {
    let body = line.strip_suffix(b"\n").unwrap_or(line);
    let head: Option<Head<'_>> = serde_json::from_slice(body).ok();
    let kind = head.as_ref().and_then(|h| h.kind.as_deref()).unwrap_or("_");
    let host = head
        .as_ref()
        .and_then(|h| h.target.as_ref())
        .and_then(|t| t.host.as_deref())
        .unwrap_or(default_host);
    let id = head
        .as_ref()
        .and_then(|h| h.metadata.as_ref())
        .and_then(|m| m.event_id.as_deref())
        .map(str::to_string)
        .unwrap_or_else(|| sshtrail_event::derived_uuid(&[b"nats line", body]));
    Message {
        subject: subject_for(prefix, host, kind),
        id,
        payload: Bytes::copy_from_slice(body),
    }
}

impl Deliver for NatsDeliver {
    fn gather(&self) -> Gather {
        self.gather
    }

    fn deliver(&mut self, batch: &Batch<'_>) -> Result<(), String> {
        if self.stream.is_none() {
            self.stream = Some(JetStream::connect(&self.target).map_err(|e| e.to_string())?);
        }
        let Some(stream) = &self.stream else {
            return Err("not connected".into());
        };
        let mut messages: Vec<Message> = batch
            .lines
            .iter()
            .map(|line| message(&self.target.prefix, &self.host, line))
            .collect();
        loop {
            match stream.publish_all(&messages) {
                Ok(report) => {
                    if report.duplicates > 0 {
                        tracing::info!(
                            duplicates = report.duplicates,
                            "NATS already held part of a batch sent again (not stored twice)"
                        );
                    }
                    return Ok(());
                }
                // Sending it again can never help: say so loudly and send the rest.
                Err(NatsError::Message { index, reason }) if index < messages.len() => {
                    let refused = messages.remove(index);
                    tracing::error!(
                        event_id = %refused.id,
                        subject = %refused.subject,
                        bytes = refused.payload.len(),
                        "event not published: {reason}"
                    );
                }
                Err(e) => return Err(e.to_string()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_goes_to_its_host_and_type_with_its_id() {
        let line = br#"{"component":"sshd","metadata":{"auditId":"7","eventId":"0123456789abcdef0123456789abcdef"},"target":{"host":"web.example","machine-id":"m"},"type":"UserLogin"}
"#;
        let m = message("sshtrail", "here", line);
        assert_eq!(m.subject, "sshtrail.web%2Eexample.UserLogin");
        assert_eq!(m.id, "0123456789abcdef0123456789abcdef");
        assert_eq!(&m.payload[..], &line[..line.len() - 1]);
    }

    #[test]
    fn a_line_that_is_no_event_still_goes_with_a_stable_id() {
        for line in [&b"not json\n"[..], b"{\"type\":5}\n", b"\xff\xfe\n", b""] {
            let a = message("p", "here", line);
            let b = message("p", "here", line);
            assert_eq!(a, b);
            assert!(a.subject.starts_with("p.here."), "{}", a.subject);
        }
        assert_ne!(
            message("p", "h", b"one\n").id,
            message("p", "h", b"two\n").id
        );
    }
}
