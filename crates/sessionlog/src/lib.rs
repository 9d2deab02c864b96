//! # sshtrail-sessionlog: one replayable, tamper-evident log per SSH session
//!
//! A session log is a file holding everything known about one SSH session, in order: the
//! login, every command and other audited action, terminal input and output when a recorder
//! provides it, and the logout. It is written as the session happens, can be read while it
//! is being written, survives a crash with at most the last record lost, and carries a hash
//! chain so that any later edit shows.
//!
//! ## The format in one paragraph
//!
//! A 12-byte preamble (`SSHTRLOG`, version, reserved) is followed by *frames*: a header
//! frame ([`Header`]: session id, host, machine id, boot id, creation time), one frame per
//! record ([`Message`] plus a time), and an end frame that seals the log with the record
//! count. Each frame is `length | flags | link | payload | CRC32C`; big payloads are LZ4
//! compressed inside their own frame. A SHA-256 chain runs over the preamble and every
//! frame's bytes, and each frame carries the first 8 bytes of the chain value before it, so
//! a frame that was removed, inserted or moved no longer fits. The last chain value is the
//! log's digest, `sha256:<hex>`: record it elsewhere (sshtrail puts it in the `UserLogout`
//! event) and a log rewritten after the fact no longer matches. `FORMAT.md` specifies every
//! byte; a test checks it against this code.
//!
//! ## Writing and reading
//!
//! ```
//! use sshtrail_sessionlog::{verify, Action, Header, Message, Reader, Writer};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let header = Header {
//!     session_id: "4f0e1c2d3b4a-9f8e7d6c-12".into(),
//!     host: "web1".into(),
//!     created_ms: 1_795_430_400_000,
//!     ..Header::default()
//! };
//! let mut log = Writer::create(Vec::new(), &header)?;
//! log.append(
//!     1_795_430_400_500,
//!     &Message::Action(Action {
//!         action: "executed".into(),
//!         succeeded: true,
//!         exe: "/usr/bin/id".into(),
//!         argv: vec!["id".into(), "-u".into()],
//!         ..Action::default()
//!     }),
//! )?;
//! let (bytes, digest) = log.finish_at(1_795_430_401_000)?;
//!
//! let reader = Reader::new(&bytes[..])?;
//! assert_eq!(reader.header().host, "web1");
//! for entry in reader {
//!     let entry = entry?; // a torn or damaged log ends with one error saying where
//!     println!("{} {}", entry.index, entry.message.kind_name());
//! }
//!
//! let check = verify(&bytes[..]);
//! assert!(check.ok() && check.digest == digest);
//! # Ok(())
//! # }
//! ```
//!
//! A daemon that restarts continues a log with [`Writer::resume`] from a saved
//! [`ChainState`], or, without one, from what [`recover`] finds in the file (it also cuts
//! off a torn tail). The [`export`] module turns a log into JSON lines, a text timeline safe
//! to print on a terminal, or an asciinema recording.
//!
//! ## What is never written
//!
//! Secrets have no field in the model: password authentication records the user name only,
//! keyboard-interactive answers and X11 cookies are not represented at all.

mod b64;
pub mod codec;
mod error;
pub mod export;
mod header;
mod message;
mod reader;
mod recover;
mod verify;
mod writer;

pub use error::{At, DecodeError, Error};
pub use header::{ChainState, Header};
pub use message::{Action, AuthMethod, Login, Message, Stream};
pub use reader::{End, Entry, Reader, UnknownRecord};
pub use recover::{recover, Recovered};
pub use verify::{verify, Problem, Verification};
pub use writer::Writer;
