//! # sshtrail-sessionstore: where session logs are kept
//!
//! (Crate documentation is being written with the backends.)
