//! Reading a log: whole records in order, the chain recomputed on the way.

use std::io::Read;

use serde::Serialize;

use crate::codec::chain::{self, ChainValue};
use crate::codec::frame::{self, Read1};
use crate::codec::kinds::{self, END, HEADER};
use crate::codec::wire::Dec;
use crate::codec::{MAGIC, PREAMBLE_LEN, VERSION};
use crate::error::At;
use crate::header::{self, ChainState, Header};
use crate::{DecodeError, Message};

/// At most this many unknown records are listed individually.
const MAX_UNKNOWN_LISTED: usize = 1024;

/// One record read back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Position among the log's records, from 0 (the header is not a record).
    pub index: u64,
    /// Byte offset of the record's frame in the file.
    pub offset: u64,
    /// Time the writer gave the record, ms since the Unix epoch.
    pub time_ms: u64,
    pub message: Message,
}

/// A record of a kind this version does not know (written by a newer writer). It is
/// checked like any other (CRC, chain) and then skipped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UnknownRecord {
    pub index: u64,
    pub offset: u64,
    pub time_ms: u64,
    pub kind: u64,
}

/// The end record that seals a log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct End {
    pub index: u64,
    pub offset: u64,
    pub time_ms: u64,
    /// Records before the end record, as the writer counted them.
    pub records: u64,
}

/// Iterates over the records of a log.
///
/// Yields every whole record; when the input ends inside a frame (torn tail) or a frame is
/// damaged it yields one [`DecodeError`] saying where, then stops. A log that simply ends at
/// a frame boundary without an end record (still being written) ends without error; check
/// [`sealed`](Reader::sealed). On such a log, calling `next` again later returns the records
/// appended in the meantime (the reader follows a growing file). A reader on a `File` reads
/// each frame with two `read` calls; wrap big files in a `BufReader`.
#[derive(Debug)]
pub struct Reader<R: Read> {
    input: R,
    header: Header,
    chain: ChainValue,
    offset: u64,
    next_index: u64,
    end: Option<End>,
    unknown: Vec<UnknownRecord>,
    unknown_count: u64,
    done: bool,
    frame: Vec<u8>,
    scratch: Vec<u8>,
}

impl<R: Read> Reader<R> {
    /// Reads and checks the preamble and the header frame.
    pub fn new(mut input: R) -> Result<Reader<R>, DecodeError> {
        let mut pre = [0u8; PREAMBLE_LEN];
        let mut got = 0;
        while got < PREAMBLE_LEN {
            match input.read(&mut pre[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(source) => return Err(DecodeError::Io { offset: 0, source }),
            }
        }
        let m = got.min(MAGIC.len());
        if pre[..m] != MAGIC[..m] {
            return Err(DecodeError::BadMagic);
        }
        if got < PREAMBLE_LEN {
            return Err(DecodeError::Torn {
                offset: 0,
                at: At(None),
                what: format!("file ends inside the {PREAMBLE_LEN}-byte preamble ({got} bytes)"),
            });
        }
        let version = u16::from_le_bytes([pre[8], pre[9]]);
        if version != VERSION {
            return Err(DecodeError::UnsupportedVersion(version));
        }
        if pre[10..12] != [0, 0] {
            return Err(DecodeError::Corrupt {
                offset: 0,
                at: At(None),
                what: "reserved preamble bytes are not zero".into(),
            });
        }
        let start = chain::start(&pre);
        let mut reader = Reader {
            input,
            header: Header::default(),
            chain: start,
            offset: PREAMBLE_LEN as u64,
            next_index: 0,
            end: None,
            unknown: Vec::new(),
            unknown_count: 0,
            done: false,
            frame: Vec::new(),
            scratch: Vec::new(),
        };
        let at = At(None);
        if !reader.read_frame(at)? {
            return Err(DecodeError::Torn {
                offset: reader.offset,
                at,
                what: "file ends before the header record".into(),
            });
        }
        let offset = reader.offset;
        let corrupt = |what: String| DecodeError::Corrupt { offset, at, what };
        let payload = frame::payload(&reader.frame, &mut reader.scratch).map_err(corrupt)?;
        reader.header = header::decode_header(payload).map_err(|w| corrupt(w.into()))?;
        reader.advance();
        Ok(reader)
    }

    /// The log's header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The end record, once the iteration has reached it.
    pub fn end(&self) -> Option<End> {
        self.end
    }

    /// True once the end record has been read and checked.
    pub fn sealed(&self) -> bool {
        self.end.is_some()
    }

    /// Records read so far (known and unknown kinds).
    pub fn records(&self) -> u64 {
        self.next_index
    }

    /// Records of unknown kinds skipped so far (the first 1024 of them).
    pub fn unknown(&self) -> &[UnknownRecord] {
        &self.unknown
    }

    /// How many records of unknown kinds were skipped so far.
    pub fn unknown_count(&self) -> u64 {
        self.unknown_count
    }

    /// `sha256:<hex>` of everything read and checked so far. After the end record this is
    /// the log's digest, the value [`Writer::finish`](crate::Writer::finish) returned.
    pub fn digest(&self) -> String {
        chain::digest_string(&self.chain)
    }

    /// Where the checked part of the log ends: what [`Writer::resume`](crate::Writer::resume)
    /// needs to continue it.
    pub fn state(&self) -> ChainState {
        ChainState {
            offset: self.offset,
            records: self.next_index,
            chain: chain::to_hex(&self.chain),
        }
    }

    fn corrupt(&self, at: At, what: String) -> DecodeError {
        DecodeError::Corrupt {
            offset: self.offset,
            at,
            what,
        }
    }

    /// Reads the next frame into `self.frame` and checks it against the chain; `Ok(false)`
    /// at a clean end of input.
    fn read_frame(&mut self, at: At) -> Result<bool, DecodeError> {
        let offset = self.offset;
        match frame::read(&mut self.input, &mut self.frame) {
            Err(source) => Err(DecodeError::Io { offset, source }),
            Ok(Read1::End) => Ok(false),
            Ok(Read1::Torn { have, need }) => Err(DecodeError::Torn {
                offset,
                at,
                what: format!("the file ends {have} bytes into a {need}-byte frame"),
            }),
            Ok(Read1::Bad(what)) => Err(self.corrupt(at, what)),
            Ok(Read1::Frame) => {
                if frame::link(&self.frame) != &self.chain[..frame::link(&self.frame).len()] {
                    return Err(self.corrupt(
                        at,
                        "chain link mismatch: this frame does not follow the one before it \
                         (a record was removed, inserted or reordered here)"
                            .into(),
                    ));
                }
                Ok(true)
            }
        }
    }

    /// Takes the frame just read into the chain.
    fn advance(&mut self) {
        self.chain = chain::next(&self.chain, &self.frame);
        self.offset += self.frame.len() as u64;
    }

    fn next_record(&mut self) -> Result<Option<Entry>, DecodeError> {
        loop {
            let index = self.next_index;
            let at = At(Some(index));
            let offset = self.offset;
            if !self.read_frame(at)? {
                return Ok(None);
            }
            let payload = frame::payload(&self.frame, &mut self.scratch)
                .map_err(|what| DecodeError::Corrupt { offset, at, what })?;
            let bad = |what: &str| DecodeError::Corrupt {
                offset,
                at,
                what: what.to_string(),
            };
            let mut d = Dec::new(payload);
            let time_ms = d.varint().map_err(bad)?;
            let kind = d.varint().map_err(bad)?;
            match kind {
                HEADER => return Err(bad("a second header record")),
                END => {
                    let records = d.varint().map_err(bad)?;
                    if records != index {
                        return Err(bad(&format!(
                            "end record counts {records} records but {index} precede it \
                             (records were removed or added)"
                        )));
                    }
                    self.advance();
                    self.end = Some(End {
                        index,
                        offset,
                        time_ms,
                        records,
                    });
                    // Nothing may follow the seal.
                    return match frame::read(&mut self.input, &mut self.scratch) {
                        Ok(Read1::End) => Ok(None),
                        Err(source) => Err(DecodeError::Io {
                            offset: self.offset,
                            source,
                        }),
                        Ok(_) => Err(DecodeError::Corrupt {
                            offset: self.offset,
                            at: At(Some(index + 1)),
                            what: "data after the end record".into(),
                        }),
                    };
                }
                _ => {}
            }
            match kinds::decode(kind, &mut d).map_err(bad)? {
                Some(message) => {
                    self.advance();
                    self.next_index += 1;
                    return Ok(Some(Entry {
                        index,
                        offset,
                        time_ms,
                        message,
                    }));
                }
                None => {
                    self.advance();
                    self.next_index += 1;
                    self.unknown_count += 1;
                    // The list is for reporting; a hostile file full of unknown records must
                    // not make it grow without bound.
                    if self.unknown.len() < MAX_UNKNOWN_LISTED {
                        self.unknown.push(UnknownRecord {
                            index,
                            offset,
                            time_ms,
                            kind,
                        });
                    }
                }
            }
        }
    }
}

impl<R: Read> Iterator for Reader<R> {
    type Item = Result<Entry, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.next_record() {
            Ok(Some(entry)) => Some(Ok(entry)),
            // At a clean end of input the reader is not finished for good: a log still being
            // written may grow, and the next call picks up records appended since.
            Ok(None) => {
                if self.end.is_some() {
                    self.done = true;
                }
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}
