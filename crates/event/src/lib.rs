//! # sshtrail-event: the events sshtrail writes, and where it writes them
//!
//! Every event is one JSON object on one line, in the shape of metal-toolbox's
//! *auditevent* so that consumers of audito-maldito keep working:
//!
//! ```json
//! {"metadata":{"auditId":"499","eventId":"5f0c…","extra":{…}},"type":"UserLogin",
//!  "loggedAt":"2026-11-23T10:51:40.841Z",
//!  "source":{"type":"IP","value":"127.0.0.1","extra":{"port":"59145"}},
//!  "outcome":"succeeded","subjects":{"loggedAs":"alice","userID":"alice","pid":"3076"},
//!  "component":"sshd","target":{"host":"web-1","machine-id":"…"},"data":{…}}
//! ```
//!
//! As in auditevent, every value inside `subjects`, `target` and `source.extra` is a
//! string; additions go in `metadata.extra` and `data`. `metadata.eventId` is the event's
//! stable id ([`id`]): the same event derived again (after a crash, in a replay) has the
//! same one, so a consumer can drop repeats. `schema/auditevent.schema.json`
//! describes the shape and a test validates events against it.
//!
//! [`Event`] is the model: one typed value per event kind ([`model`]); [`Event::to_line`]
//! renders it as auditevent JSON. [`sink`] holds the writers (file, fifo, stdout), each of
//! which writes an event with a single `write` so that lines never interleave, and says
//! when what it has written is durable ([`sink::Sink::sync`]), which is what lets a
//! source commit its position.

pub mod id;
mod json;
pub mod model;
pub mod sink;

pub use id::{derived_uuid, EventId, EventIds, IdWindow};
pub use model::{
    Action, ActionDetail, Actor, AuditChange, Backfill, Certificate, Correlation, Event, EventType,
    Geo, Host, LogGap, LogName, Login, LoginFailed, Logout, Lost, Object, Origin, Outcome, Peer,
    SessionLogRef, Started, SystemAction, SystemKind,
};
