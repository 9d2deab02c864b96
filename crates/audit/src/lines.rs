//! Reading a log line by line with a bound on line length and the byte offset of each
//! line, so that a hostile file (no newline for gigabytes) cannot exhaust memory, and a
//! reader can later resume exactly after the last line it handled.

use std::io::{self, BufRead};

/// One line, without its `\n`.
#[derive(Debug, PartialEq, Eq)]
pub enum Line<'a> {
    Text(&'a [u8]),
    /// A line longer than the limit; its bytes were skipped. `len` counts them.
    TooLong {
        len: u64,
    },
}

/// A line reader that reuses one buffer and never holds more than `max_len` bytes.
pub struct LineReader<R> {
    inner: R,
    buf: Vec<u8>,
    max_len: usize,
    line_number: u64,
    offset: u64,
}

impl<R: BufRead> LineReader<R> {
    pub fn new(inner: R, max_len: usize) -> Self {
        LineReader {
            inner,
            buf: Vec::with_capacity(4096),
            max_len,
            line_number: 0,
            offset: 0,
        }
    }

    /// Starts counting offsets from `offset` (the reader was positioned there).
    pub fn with_offset(mut self, offset: u64) -> Self {
        self.offset = offset;
        self
    }

    /// 1-based number of the line last returned.
    pub fn line_number(&self) -> u64 {
        self.line_number
    }

    /// Byte offset just past the last line returned (including its `\n`).
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The next line, or `None` at the end of input. A last line without `\n` is
    /// returned too.
    pub fn next_line(&mut self) -> io::Result<Option<Line<'_>>> {
        self.buf.clear();
        let mut skipped: u64 = 0;
        let mut seen_any = false;
        loop {
            let available = match self.inner.fill_buf() {
                Ok(available) => available,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if available.is_empty() {
                if !seen_any {
                    return Ok(None);
                }
                break;
            }
            seen_any = true;
            let (chunk, used, done) = match memchr::memchr(b'\n', available) {
                Some(i) => (&available[..i], i + 1, true),
                None => (available, available.len(), false),
            };
            if skipped > 0 || self.buf.len() + chunk.len() > self.max_len {
                skipped += (self.buf.len() + chunk.len()) as u64;
                self.buf.clear();
            } else {
                self.buf.extend_from_slice(chunk);
            }
            self.inner.consume(used);
            self.offset += used as u64;
            if done {
                break;
            }
        }
        self.line_number += 1;
        if skipped > 0 {
            return Ok(Some(Line::TooLong { len: skipped }));
        }
        Ok(Some(Line::Text(&self.buf)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(input: &[u8], max: usize, cap: usize) -> Vec<String> {
        let reader = io::BufReader::with_capacity(cap, input);
        let mut lines = LineReader::new(reader, max);
        let mut out = Vec::new();
        while let Some(line) = lines.next_line().unwrap() {
            out.push(match line {
                Line::Text(t) => String::from_utf8_lossy(t).into_owned(),
                Line::TooLong { len } => format!("<too long {len}>"),
            });
        }
        out
    }

    #[test]
    fn lines_offsets_and_limits() {
        assert_eq!(collect(b"a\nbb\n\nccc", 10, 2), vec!["a", "bb", "", "ccc"]);
        assert_eq!(
            collect(b"short\n0123456789abc\nok\n", 10, 4),
            vec!["short", "<too long 13>", "ok"]
        );
        let mut lines = LineReader::new(&b"ab\ncd\n"[..], 10);
        lines.next_line().unwrap();
        assert_eq!(lines.offset(), 3);
        lines.next_line().unwrap();
        assert_eq!((lines.offset(), lines.line_number()), (6, 2));
        assert!(lines.next_line().unwrap().is_none());
    }
}
