//! asciinema v2 (`.cast`): a JSON header line, then `[seconds, code, data]` event lines.

use std::collections::HashMap;
use std::io::{BufWriter, Read, Write};

use crate::{Error, Message, Reader, Stream};

const DEFAULT_SIZE: (u32, u32) = (80, 24);

/// Splits a byte stream into text without cutting a multi-byte character in two: an
/// incomplete sequence at the end of one chunk is kept for the next.
#[derive(Default)]
struct Utf8Carry {
    pending: Vec<u8>,
}

impl Utf8Carry {
    /// Decodes `pending ‖ data`, invalid bytes as U+FFFD, keeping an incomplete tail.
    fn feed(&mut self, data: &[u8]) -> String {
        let mut buf = std::mem::take(&mut self.pending);
        buf.extend_from_slice(data);
        let mut out = String::with_capacity(buf.len());
        let mut rest = &buf[..];
        loop {
            match std::str::from_utf8(rest) {
                Ok(s) => {
                    out.push_str(s);
                    break;
                }
                Err(e) => {
                    let (good, bad) = rest.split_at(e.valid_up_to());
                    out.push_str(std::str::from_utf8(good).unwrap_or_default());
                    match e.error_len() {
                        Some(n) => {
                            out.push(char::REPLACEMENT_CHARACTER);
                            rest = &bad[n..];
                        }
                        // The input ends inside a character: wait for the rest of it.
                        None => {
                            self.pending = bad.to_vec();
                            break;
                        }
                    }
                }
            }
        }
        out
    }

    /// What is left at the end of the stream, lossily.
    fn flush(&mut self) -> String {
        let s = String::from_utf8_lossy(&self.pending).into_owned();
        self.pending.clear();
        s
    }
}

struct Cast<'w> {
    out: BufWriter<&'w mut dyn Write>,
    start_ms: u64,
    last: f64,
}

impl Cast<'_> {
    fn event(&mut self, time_ms: u64, code: &str, data: &str) -> Result<(), Error> {
        if data.is_empty() {
            return Ok(());
        }
        // Times must not go backwards (records can be appended slightly out of order).
        let t = (time_ms.saturating_sub(self.start_ms) as f64 / 1000.0).max(self.last);
        self.last = t;
        writeln!(
            self.out,
            "[{t:.3}, {}, {}]",
            serde_json::to_string(code)?,
            serde_json::to_string(data)?
        )?;
        Ok(())
    }
}

/// Writes the terminal part of the log as an asciinema v2 recording: stdout and stderr as
/// `"o"` events, stdin as `"i"`, window changes as `"r"` (`COLSxROWS`). Size and `TERM`
/// come from the pty request (default 80x24); times are seconds since the log was created.
///
/// Returns `Ok(false)` and writes nothing when the log has no io records (a host-side log
/// holds commands, not terminal data: use the text or JSON export for it).
pub fn asciinema<R: Read>(mut reader: Reader<R>, out: &mut dyn Write) -> Result<bool, Error> {
    let header = reader.header().clone();
    let mut size = DEFAULT_SIZE;
    let mut term: Option<String> = None;
    let mut user: Option<String> = None;
    let mut cast: Option<Cast> = None;
    let mut carries: HashMap<(u32, Stream), Utf8Carry> = HashMap::new();
    let mut out = Some(out);
    let mut last_ms = header.created_ms;
    for entry in reader.by_ref() {
        let entry = entry?;
        last_ms = entry.time_ms;
        match entry.message {
            Message::Pty {
                term: t,
                columns,
                rows,
                ..
            } => {
                term = Some(t);
                if columns > 0 && rows > 0 {
                    size = (columns, rows);
                    if let Some(c) = cast.as_mut() {
                        c.event(entry.time_ms, "r", &format!("{columns}x{rows}"))?;
                    }
                }
            }
            Message::Env { name, value, .. } if name == "TERM" && term.is_none() => {
                term = Some(value)
            }
            Message::WindowChange { columns, rows, .. } => {
                size = (columns, rows);
                if let Some(c) = cast.as_mut() {
                    c.event(entry.time_ms, "r", &format!("{columns}x{rows}"))?;
                }
            }
            Message::Login(l) => user = Some(l.user),
            Message::AuthSuccess { user: u, .. } => user = Some(u),
            Message::Io {
                channel,
                stream,
                data,
            } => {
                if cast.is_none() {
                    // The header goes out with the first terminal data, once the pty
                    // request (normally before it) has told the size.
                    let Some(w) = out.take() else {
                        return Err(Error::Export("output taken twice".into()));
                    };
                    cast = Some(start(w, &header, size, term.as_deref(), user.as_deref())?);
                }
                let text = carries.entry((channel, stream)).or_default().feed(&data);
                let code = if stream == Stream::Stdin { "i" } else { "o" };
                if let Some(c) = cast.as_mut() {
                    c.event(entry.time_ms, code, &text)?;
                }
            }
            _ => {}
        }
    }
    let Some(mut cast) = cast else {
        return Ok(false);
    };
    let mut rest: Vec<_> = carries.into_iter().collect();
    rest.sort_by_key(|((ch, s), _)| (*ch, *s as u8));
    for ((_, stream), mut carry) in rest {
        let code = if stream == Stream::Stdin { "i" } else { "o" };
        cast.event(last_ms, code, &carry.flush())?;
    }
    cast.out.flush()?;
    Ok(true)
}

fn start<'w>(
    out: &'w mut dyn Write,
    header: &crate::Header,
    (width, height): (u32, u32),
    term: Option<&str>,
    user: Option<&str>,
) -> Result<Cast<'w>, Error> {
    let title = match user {
        Some(u) => format!("{u}@{} session {}", header.host, header.session_id),
        None => format!("{} session {}", header.host, header.session_id),
    };
    let mut out = BufWriter::new(out);
    writeln!(
        out,
        "{{\"version\": 2, \"width\": {width}, \"height\": {height}, \"timestamp\": {}, \
         \"env\": {{\"TERM\": {}}}, \"title\": {}}}",
        header.created_ms / 1000,
        serde_json::to_string(term.unwrap_or("xterm"))?,
        serde_json::to_string(&title)?
    )?;
    Ok(Cast {
        out,
        start_ms: header.created_ms,
        last: 0.0,
    })
}
