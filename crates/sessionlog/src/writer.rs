//! Writing a log: one frame per call, each with a single `write_all`, so that whatever
//! happens the file holds whole frames plus at most one torn frame at its end.

use std::io::Write;

use crate::codec::chain::{self, ChainValue};
use crate::codec::{self, frame, kinds, wire, MAX_PAYLOAD};
use crate::header::{self, ChainState, Header};
use crate::{Error, Message};

/// Appends records to a session log.
///
/// The writer does no buffering of its own: each [`append`](Writer::append) hands one whole
/// frame to `out`. Give it the file itself (not a `BufWriter`) when crash safety matters,
/// and call `get_mut().sync_data()` before persisting [`state`](Writer::state).
#[derive(Debug)]
pub struct Writer<W: Write> {
    out: W,
    chain: ChainValue,
    offset: u64,
    records: u64,
    payload: Vec<u8>,
    frame: Vec<u8>,
    /// Set when `resume` was given an unusable state: every write then fails with it.
    invalid: Option<String>,
}

impl<W: Write> Writer<W> {
    /// Starts a new log: writes the preamble and the header frame.
    pub fn create(mut out: W, header: &Header) -> Result<Writer<W>, Error> {
        let pre = codec::preamble();
        let start = chain::start(&pre);
        let mut payload = Vec::with_capacity(128);
        header::encode_header(&mut payload, header);
        if payload.len() > MAX_PAYLOAD {
            return Err(Error::TooLarge {
                size: payload.len(),
            });
        }
        let mut frame = Vec::with_capacity(payload.len() + 32);
        frame::build(&payload, &start, &mut frame);
        let mut first = Vec::with_capacity(pre.len() + frame.len());
        first.extend_from_slice(&pre);
        first.extend_from_slice(&frame);
        out.write_all(&first)?;
        Ok(Writer {
            out,
            chain: chain::next(&start, &frame),
            offset: first.len() as u64,
            records: 0,
            payload,
            frame,
            invalid: None,
        })
    }

    /// Continues a log from a saved state. The caller has truncated `out` to
    /// `state.offset` and positioned it there. An unparsable `state.chain` makes every
    /// later call fail with [`Error::InvalidState`] (this constructor cannot fail).
    pub fn resume(out: W, state: &ChainState) -> Writer<W> {
        let (chain, invalid) = match chain::from_hex(&state.chain) {
            Some(c) => (c, None),
            None => (
                [0u8; 32],
                Some(format!("chain {:?} is not 64 hex digits", state.chain)),
            ),
        };
        Writer {
            out,
            chain,
            offset: state.offset,
            records: state.records,
            payload: Vec::new(),
            frame: Vec::new(),
            invalid,
        }
    }

    /// Appends one record as one frame with one `write_all`. On error the writer's state is
    /// unchanged: truncate the output to `state().offset` before trying again.
    pub fn append(&mut self, time_ms: u64, message: &Message) -> Result<(), Error> {
        self.payload.clear();
        wire::put_varint(&mut self.payload, time_ms);
        kinds::encode(&mut self.payload, message);
        self.write_payload()?;
        self.records += 1;
        Ok(())
    }

    fn write_payload(&mut self) -> Result<(), Error> {
        if let Some(why) = &self.invalid {
            return Err(Error::InvalidState(why.clone()));
        }
        if self.payload.len() > MAX_PAYLOAD {
            return Err(Error::TooLarge {
                size: self.payload.len(),
            });
        }
        frame::build(&self.payload, &self.chain, &mut self.frame);
        self.out.write_all(&self.frame)?;
        self.chain = chain::next(&self.chain, &self.frame);
        self.offset += self.frame.len() as u64;
        Ok(())
    }

    /// Where the log stands now (after the last successful append).
    pub fn state(&self) -> ChainState {
        ChainState {
            offset: self.offset,
            records: self.records,
            chain: chain::to_hex(&self.chain),
        }
    }

    /// `sha256:<hex>` of everything written so far.
    pub fn digest(&self) -> String {
        chain::digest_string(&self.chain)
    }

    /// Flushes `out`.
    pub fn flush(&mut self) -> Result<(), Error> {
        self.out.flush().map_err(Error::from)
    }

    /// Seals the log with the end record (carrying the record count), flushes, and returns
    /// the output and the final digest. Use [`finish_at`](Writer::finish_at) to give the
    /// end record a time; this one stamps it with the time of the call.
    pub fn finish(self) -> Result<(W, String), Error> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        self.finish_at(now)
    }

    /// [`finish`](Writer::finish) with an explicit end time (ms since the epoch).
    pub fn finish_at(mut self, time_ms: u64) -> Result<(W, String), Error> {
        self.payload.clear();
        header::encode_end(&mut self.payload, time_ms, self.records);
        self.write_payload()?;
        self.out.flush()?;
        let digest = self.digest();
        Ok((self.out, digest))
    }

    pub fn get_ref(&self) -> &W {
        &self.out
    }

    pub fn get_mut(&mut self) -> &mut W {
        &mut self.out
    }
}
