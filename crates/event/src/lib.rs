//! # sshtrail-event: the events sshtrail writes, and where it writes them
//!
//! Every event is one JSON object on one line, in the shape of metal-toolbox's
//! *auditevent* so that consumers of audito-maldito keep working:
//!
//! ```json
//! {"metadata":{"auditId":"499","extra":{…}},"type":"UserLogin",
//!  "loggedAt":"2026-11-23T10:51:40.841Z",
//!  "source":{"type":"IP","value":"127.0.0.1","extra":{"port":"59145"}},
//!  "outcome":"succeeded","subjects":{"loggedAs":"alice","userID":"alice","pid":"3076"},
//!  "component":"sshd","target":{"host":"web-1","machine-id":"…"},"data":{…}}
//! ```
//!
//! As in auditevent, every value inside `subjects`, `target` and `source.extra` is a
//! string; additions go in `metadata.extra` and `data`. `schema/auditevent.schema.json`
//! describes the shape and a test validates events against it.
//!
//! [`AuditEvent`] is the model; [`sink`] holds the writers (file, fifo, stdout), each of
//! which writes an event with a single `write` so that lines never interleave, and says
//! when what it has written is durable ([`sink::Sink::sync`]), which is what lets a
//! source commit its position.

mod json;
pub mod sink;

use serde::Serialize;
use std::collections::BTreeMap;

/// The event kinds sshtrail emits.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
pub enum EventType {
    UserLogin,
    UserAction,
    UserLogout,
    SystemAction,
}

/// `succeeded` or `failed`, as auditevent spells them.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Succeeded,
    Failed,
}

/// `metadata`: the audit id that ties events of one session together, and additions.
#[derive(Clone, PartialEq, Debug, Default, Serialize)]
pub struct Metadata {
    #[serde(rename = "auditId")]
    pub audit_id: String,
    #[serde(skip_serializing_if = "serde_json::Map::is_empty")]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// `source`: where the actor came from.
#[derive(Clone, PartialEq, Debug, Serialize, serde::Deserialize)]
pub struct Source {
    #[serde(rename = "type")]
    pub kind: String,
    pub value: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, String>,
}

impl Source {
    /// An IP source with its port (`source.extra.port` is a string, as in auditevent).
    pub fn ip(address: impl Into<String>, port: Option<u16>) -> Source {
        let mut extra = BTreeMap::new();
        if let Some(port) = port {
            extra.insert("port".to_string(), port.to_string());
        }
        Source {
            kind: "IP".to_string(),
            value: address.into(),
            extra,
        }
    }
}

/// One output event. Field order follows auditevent's own serialization.
#[derive(Clone, PartialEq, Debug, Serialize)]
pub struct AuditEvent {
    pub metadata: Metadata,
    #[serde(rename = "type")]
    pub event_type: EventType,
    /// RFC 3339 UTC: the time from the source record, never the processing time.
    #[serde(rename = "loggedAt")]
    pub logged_at: String,
    pub source: Source,
    pub outcome: Outcome,
    pub subjects: BTreeMap<String, String>,
    pub component: String,
    pub target: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<serde_json::Value>,
}

/// The host an event happened on (`target`).
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Host {
    pub name: String,
    pub machine_id: String,
}

impl Host {
    fn target(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("host".to_string(), self.name.clone()),
            ("machine-id".to_string(), self.machine_id.clone()),
        ])
    }
}

impl AuditEvent {
    /// An event with the parts every kind has; callers fill in the rest.
    pub fn new(
        event_type: EventType,
        component: &str,
        logged_at: String,
        audit_id: String,
        outcome: Outcome,
        host: &Host,
    ) -> AuditEvent {
        AuditEvent {
            metadata: Metadata {
                audit_id,
                extra: serde_json::Map::new(),
            },
            event_type,
            logged_at,
            source: Source {
                kind: "IP".to_string(),
                value: String::new(),
                extra: BTreeMap::new(),
            },
            outcome,
            subjects: BTreeMap::new(),
            component: component.to_string(),
            target: host.target(),
            data: None,
        }
    }

    /// Sets a subject (`loggedAs`, `userID`, `pid`): always a string.
    pub fn subject(mut self, key: &str, value: impl ToString) -> Self {
        self.subjects.insert(key.to_string(), value.to_string());
        self
    }

    /// One line of JSON followed by `\n`, ready for a single write. The bytes are
    /// those of `serde_json` on the event, written by a direct writer (see `json.rs`).
    pub fn to_line(&self) -> Vec<u8> {
        let mut line = Vec::with_capacity(2048);
        self.write_line(&mut line);
        line
    }

    /// [`AuditEvent::to_line`] appended to `out`: a writer of many events reuses one
    /// buffer instead of allocating (and growing) one per event.
    pub fn write_line(&self, out: &mut Vec<u8>) {
        json::write_event(self, out);
        out.push(b'\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_in_auditevent_shape_with_string_values() {
        let host = Host {
            name: "web-1".into(),
            machine_id: "0123456789abcdef".into(),
        };
        let mut event = AuditEvent::new(
            EventType::UserLogin,
            "sshd",
            "2026-11-23T10:51:40.841Z".into(),
            "499".into(),
            Outcome::Succeeded,
            &host,
        )
        .subject("loggedAs", "alice")
        .subject("pid", 3076u32);
        event.source = Source::ip("127.0.0.1", Some(59145));
        let value: serde_json::Value = serde_json::from_slice(&event.to_line()).unwrap();
        assert_eq!(value["type"], "UserLogin");
        assert_eq!(value["outcome"], "succeeded");
        assert_eq!(value["metadata"]["auditId"], "499");
        assert!(value["metadata"].get("extra").is_none());
        assert_eq!(value["source"]["extra"]["port"], "59145");
        assert_eq!(value["subjects"]["pid"], "3076");
        assert_eq!(value["target"]["machine-id"], "0123456789abcdef");
        assert!(value.get("data").is_none());
    }
}
