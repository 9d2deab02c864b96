//! Picking up an existing log after a restart without a saved [`ChainState`].

use std::fs::File;
use std::io::{BufReader, Seek, SeekFrom};

use serde::Serialize;

use crate::header::{ChainState, Header};
use crate::{Error, Reader};

/// What [`recover`] found and did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Recovered {
    pub header: Header,
    /// Whole records kept.
    pub records: u64,
    /// Bytes cut off the end of the file (0 when it ended cleanly).
    pub truncated_bytes: u64,
    /// Why bytes were cut off: the decoding error at the first bad frame.
    pub problem: Option<String>,
    /// The log already carries its end record: it must not be resumed.
    pub sealed: bool,
}

/// Scans a log from the start, truncates it after the last whole, valid frame (dropping a
/// torn or damaged tail) and returns the state to [`Writer::resume`](crate::Writer::resume)
/// from, with the file positioned at its end.
///
/// Everything from the first bad frame on is cut off, even when whole frames follow it,
/// because the chain cannot be continued across a bad frame; `problem` says why. A file whose
/// preamble or header frame is unreadable cannot be resumed: that is an error (start a new
/// log). A sealed log is returned as is with `sealed: true`; appending to it would put
/// records after the seal, which readers reject.
pub fn recover(file: &mut File) -> Result<(ChainState, Recovered), Error> {
    file.seek(SeekFrom::Start(0))?;
    let len = file.metadata()?.len();
    let mut reader = Reader::new(BufReader::new(&mut *file))?;
    let mut problem = None;
    for entry in reader.by_ref() {
        if let Err(e) = entry {
            problem = Some(e.to_string());
            break;
        }
    }
    let state = reader.state();
    let recovered = Recovered {
        header: reader.header().clone(),
        records: state.records,
        truncated_bytes: len.saturating_sub(state.offset),
        problem,
        sealed: reader.sealed(),
    };
    drop(reader);
    if state.offset < len {
        file.set_len(state.offset)?;
        file.sync_data()?;
    }
    file.seek(SeekFrom::Start(state.offset))?;
    Ok((state, recovered))
}
