//! # sshtrail-sessionlog: one replayable, tamper-evident log per SSH session
//!
//! (Crate documentation is being written with the codec.)
