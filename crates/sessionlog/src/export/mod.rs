//! Ways to show a log: [`json_lines`] for machines, [`text`] for people, [`asciinema`] to
//! replay the terminal.
//!
//! Each takes a [`Reader`](crate::Reader) and writes to any `Write`. A log that is torn or
//! damaged is exported up to its last whole record, then the decoding error is returned, so
//! the caller can show both what there is and that something is missing.

mod asciinema;
pub mod escape;
mod json;
mod text;
pub mod time;

pub use asciinema::asciinema;
pub use json::json_lines;
pub use text::text;
