//! Checking a whole log: every frame's CRC and chain link, the record count in the seal.

use std::io::Read;

use serde::Serialize;

use crate::header::Header;
use crate::reader::UnknownRecord;
use crate::Reader;

/// What is wrong with a log, and where.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The record concerned; `None` for the preamble or header.
    pub record_index: Option<u64>,
    /// Byte offset of the frame concerned (file length when the seal is missing).
    pub offset: u64,
    pub what: String,
}

/// The result of [`verify`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Verification {
    /// The header, when it could be read.
    pub header: Option<Header>,
    /// Whole, valid records before any problem.
    pub records: u64,
    /// Chain digest over the valid part (the whole log when there is no problem). Compare it
    /// with the digest recorded elsewhere (the session's `UserLogout` event): a log rewritten
    /// consistently by someone who recomputed every checksum and link still ends with a
    /// different digest.
    pub digest: String,
    /// The end record is present and counts the records correctly.
    pub sealed: bool,
    /// The first problem found; `None` means the log is whole, consistent and sealed.
    pub problem: Option<Problem>,
    /// Records of kinds this version does not know (checked, not interpreted).
    pub unknown: Vec<UnknownRecord>,
}

impl Verification {
    /// Whole, consistent and sealed.
    pub fn ok(&self) -> bool {
        self.problem.is_none() && self.sealed
    }

    /// [`ok`](Verification::ok) and the digest equals `expected` (`sha256:<hex>`).
    pub fn matches(&self, expected: &str) -> bool {
        self.ok() && self.digest.eq_ignore_ascii_case(expected.trim())
    }
}

/// Reads a whole log and reports whether it is intact. Detects an edited byte anywhere
/// (frame CRC, or the chain link when the CRC was recomputed), frames removed, inserted or
/// reordered (chain link, record count in the seal), a torn tail and a missing seal.
pub fn verify<R: Read>(r: R) -> Verification {
    let mut reader = match Reader::new(r) {
        Ok(reader) => reader,
        Err(e) => {
            return Verification {
                header: None,
                records: 0,
                digest: String::new(),
                sealed: false,
                problem: Some(Problem {
                    record_index: None,
                    offset: e.offset(),
                    what: e.to_string(),
                }),
                unknown: Vec::new(),
            }
        }
    };
    let mut problem = None;
    for entry in reader.by_ref() {
        if let Err(e) = entry {
            problem = Some(Problem {
                record_index: e.record_index(),
                offset: e.offset(),
                what: e.to_string(),
            });
            break;
        }
    }
    let state = reader.state();
    if problem.is_none() && !reader.sealed() {
        problem = Some(Problem {
            record_index: Some(state.records),
            offset: state.offset,
            what: format!(
                "the log ends after {} records at offset {} without its end record: \
                 it was truncated at a frame boundary or is still being written",
                state.records, state.offset
            ),
        });
    }
    Verification {
        header: Some(reader.header().clone()),
        records: state.records,
        digest: reader.digest(),
        sealed: reader.sealed(),
        problem,
        unknown: reader.unknown().to_vec(),
    }
}
