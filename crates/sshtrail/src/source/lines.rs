//! The one bounded line splitter every source reads through.
//!
//! Bytes go in as they are read (a file chunk, a pipe read, a fifo read); complete lines
//! come out without their `\n`. A line longer than the limit is never held whole: its
//! bytes are dropped as they arrive and it comes out as [`Line::TooLong`] with its
//! length once its end is seen, so a hostile writer cannot make a reader grow without
//! bound. Lines are returned as slices of the buffer (no copy), and the buffer is
//! compacted only when room is needed, not once per line.

/// One line out of the buffer.
#[derive(Debug, PartialEq, Eq)]
pub enum Line<'a> {
    /// A complete line, without its `\n`.
    Text(&'a [u8]),
    /// A line longer than the limit, skipped: its length without the `\n`.
    TooLong { len: u64 },
}

pub struct LineBuffer {
    /// Bytes read land in `buf[end..]`; `buf` is only ever grown (zeroed once), so a
    /// read does not pay for clearing the room it is offered.
    buf: Vec<u8>,
    /// Start of the bytes not yet returned.
    start: usize,
    /// End of the bytes read.
    end: usize,
    /// Inside an over-long line: bytes of it dropped so far.
    skipping: Option<u64>,
    /// Where [`LineBuffer::has_line`] found the next `\n` (an index into `buf`).
    found: Option<usize>,
    max_line: usize,
}

impl LineBuffer {
    pub fn new(max_line: usize) -> LineBuffer {
        LineBuffer {
            buf: Vec::new(),
            start: 0,
            end: 0,
            skipping: None,
            found: None,
            max_line,
        }
    }

    /// Appends bytes read from the stream.
    pub fn push(&mut self, bytes: &[u8]) {
        let room = self.spare(bytes.len());
        room.copy_from_slice(bytes);
        self.end += bytes.len();
    }

    /// Exactly `want` bytes of room at the end, to read into; call
    /// [`LineBuffer::filled`] with how many were read.
    pub fn spare(&mut self, want: usize) -> &mut [u8] {
        self.make_room(want);
        if self.buf.len() < self.end + want {
            self.buf.resize(self.end + want, 0);
        }
        &mut self.buf[self.end..self.end + want]
    }

    /// After [`LineBuffer::spare`]: `n` of the `want` bytes offered were read.
    pub fn filled(&mut self, want: usize, n: usize) {
        self.end += n.min(want);
    }

    /// Bytes read but not yet returned as part of a line (an incomplete line), plus the
    /// dropped part of an over-long line still being skipped.
    pub fn pending(&self) -> u64 {
        (self.end - self.start) as u64 + self.skipping.unwrap_or(0)
    }

    /// Forgets what is buffered (a partial line that will never be completed).
    pub fn clear(&mut self) {
        self.start = 0;
        self.end = 0;
        self.skipping = None;
        self.found = None;
    }

    /// The last `n` bytes appended (what one read just brought).
    pub fn tail(&self, n: usize) -> &[u8] {
        &self.buf[self.end.saturating_sub(n)..self.end]
    }

    /// Bytes the buffer holds room for.
    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// Whether [`LineBuffer::next_line`] has a line to give now. Meanwhile the bytes of an
    /// over-long line are dropped as they come, so that memory stays bounded.
    pub fn has_line(&mut self) -> bool {
        if self.found.is_some() {
            return true;
        }
        let rest = &self.buf[self.start..self.end];
        if let Some(i) = memchr::memchr(b'\n', rest) {
            self.found = Some(self.start + i);
            return true;
        }
        let len = rest.len();
        match self.skipping {
            Some(skipped) => self.skipping = Some(skipped + len as u64),
            None if len > self.max_line => self.skipping = Some(len as u64),
            None => return false,
        }
        self.start = 0;
        self.end = 0;
        false
    }

    /// The next complete line and how many stream bytes it used (its `\n` included, and
    /// for an over-long line every byte of it); `None` until a `\n` arrives.
    pub fn next_line(&mut self) -> Option<(Line<'_>, u64)> {
        if !self.has_line() {
            return None;
        }
        let newline = self.found.take()?;
        let begin = self.start;
        let len = newline - begin;
        self.start = newline + 1;
        if let Some(skipped) = self.skipping.take() {
            let len = skipped + len as u64;
            return Some((Line::TooLong { len }, len + 1));
        }
        if len > self.max_line {
            return Some((Line::TooLong { len: len as u64 }, len as u64 + 1));
        }
        Some((Line::Text(&self.buf[begin..newline]), len as u64 + 1))
    }

    /// Moves the unreturned bytes to the front when the buffer would otherwise grow.
    fn make_room(&mut self, want: usize) {
        if self.start == 0 {
            return;
        }
        if self.start == self.end {
            self.end = 0;
        } else if self.end + want > self.buf.len() {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
        } else {
            return;
        }
        self.found = self.found.map(|i| i - self.start);
        self.start = 0;
    }
}

/// What [`read_ready`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Read {
    /// Bytes arrived (in the buffer now).
    Data,
    /// Nothing within the timeout.
    Nothing,
    /// The writer is gone: nothing more will come.
    End,
}

/// Reads what `reader` has (waiting up to `timeout` for something) into `lines`: one
/// read, so that a stream that is quiet never blocks its reader.
pub fn read_ready<R: std::io::Read + std::os::fd::AsFd>(
    reader: &mut R,
    lines: &mut LineBuffer,
    timeout: std::time::Duration,
) -> std::io::Result<Read> {
    use std::io::ErrorKind;
    if !super::poll::readable(reader.as_fd(), timeout)? {
        return Ok(Read::Nothing);
    }
    const CHUNK: usize = 64 * 1024;
    let room = lines.spare(CHUNK);
    let outcome = match reader.read(room) {
        Ok(0) => Ok(Read::End),
        Ok(n) => {
            lines.filled(CHUNK, n);
            return Ok(Read::Data);
        }
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => {
            Ok(Read::Nothing)
        }
        Err(e) => Err(e),
    };
    lines.filled(CHUNK, 0);
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(chunks: &[&[u8]], max: usize) -> Vec<(String, u64)> {
        let mut buffer = LineBuffer::new(max);
        let mut out = Vec::new();
        for chunk in chunks {
            buffer.push(chunk);
            while let Some((line, used)) = buffer.next_line() {
                let text = match line {
                    Line::Text(t) => String::from_utf8_lossy(t).into_owned(),
                    Line::TooLong { len } => format!("<{len}>"),
                };
                out.push((text, used));
            }
        }
        out
    }

    #[test]
    fn lines_split_across_reads_come_out_whole() {
        assert_eq!(
            lines(&[b"ab", b"c\nde", b"\n\nf"], 100),
            [("abc".into(), 4), ("de".into(), 3), (String::new(), 1)]
        );
    }

    #[test]
    fn over_long_lines_are_skipped_with_their_length_and_memory_stays_bounded() {
        let long = vec![b'x'; 50];
        let mut buffer = LineBuffer::new(10);
        buffer.push(b"ok\n");
        buffer.push(&long);
        assert_eq!(buffer.next_line(), Some((Line::Text(b"ok"), 3)));
        assert_eq!(buffer.next_line(), None);
        assert!(buffer.end <= 10, "the long prefix was dropped");
        buffer.push(&long);
        assert_eq!(buffer.next_line(), None);
        buffer.push(b"yy\nnext\n");
        assert_eq!(buffer.next_line(), Some((Line::TooLong { len: 102 }, 103)));
        assert_eq!(buffer.next_line(), Some((Line::Text(b"next"), 5)));
        // A long line that arrives whole in one read is skipped too.
        assert_eq!(
            lines(&[b"0123456789abc\nz\n"], 10),
            [("<13>".into(), 14), ("z".into(), 2)]
        );
    }

    #[test]
    fn bytes_used_add_up_to_the_stream() {
        // Every byte is accounted to exactly one line, so positions computed from the
        // counts land on line boundaries.
        let stream: Vec<u8> = (0..2000u32)
            .flat_map(|i| {
                let mut line = vec![b'a' + (i % 26) as u8; (i as usize * 7) % 40];
                line.push(b'\n');
                line
            })
            .collect();
        for chunk_len in [1, 3, 64, 4096] {
            let chunks: Vec<&[u8]> = stream.chunks(chunk_len).collect();
            let total: u64 = lines(&chunks, 20).iter().map(|(_, used)| used).sum();
            assert_eq!(total, stream.len() as u64, "chunks of {chunk_len}");
        }
    }

    #[test]
    fn reading_into_spare_room() {
        let mut buffer = LineBuffer::new(100);
        let room = buffer.spare(8);
        room[..4].copy_from_slice(b"hi\nx");
        buffer.filled(8, 4);
        assert_eq!(buffer.next_line(), Some((Line::Text(b"hi"), 3)));
        assert_eq!(buffer.next_line(), None);
        assert_eq!(buffer.pending(), 1);
    }
}
