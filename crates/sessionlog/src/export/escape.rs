//! Making attacker-controlled strings safe to print on a terminal.
//!
//! A command line, a file name or terminal output can carry escape sequences that would
//! rewrite what an auditor's terminal shows (move the cursor, erase lines, change the
//! title). The text view therefore never emits control characters, C1 controls or
//! invisible/bidirectional formatting characters raw: they become `\n`, `\x1b`, `\u{202e}`…
//! Backslashes are doubled so that the escaped form is unambiguous.

use std::fmt::Write;

/// Whether `c` must not reach a terminal as is.
fn is_unsafe(c: char) -> bool {
    c.is_control() // C0, DEL and C1
        || matches!(c,
            '\u{200b}'..='\u{200f}'   // zero width, LRM/RLM
            | '\u{2028}'..='\u{202e}' // line/paragraph separators, bidi embeddings/overrides
            | '\u{2060}'..='\u{2069}' // word joiner, bidi isolates
            | '\u{feff}')
}

fn push_char(out: &mut String, c: char) {
    match c {
        '\\' => out.push_str("\\\\"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if (c as u32) < 0x80 && is_unsafe(c) => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c if is_unsafe(c) => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
        c => out.push(c),
    }
}

/// `s` with every unsafe character escaped.
pub fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        push_char(&mut out, c);
    }
    out
}

/// Bytes shown as text, for display between double quotes: valid UTF-8 as characters
/// (escaped as in [`text`], and `"` as `\"`), other bytes as `\xNN`. At most `limit` input
/// bytes are shown; the rest is summarised.
pub fn bytes(data: &[u8], limit: usize) -> String {
    let shown = &data[..data.len().min(limit)];
    let mut out = String::with_capacity(shown.len() + 16);
    for chunk in shown.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c == '"' {
                out.push_str("\\\"");
            } else {
                push_char(&mut out, c);
            }
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    if data.len() > shown.len() {
        let _ = write!(out, "… (+{} bytes)", data.len() - shown.len());
    }
    out
}

/// A word of a command line: escaped, and single-quoted when it is empty or contains
/// whitespace or quotes, so that `argv` reads back unambiguously.
pub fn word(s: &str) -> String {
    let escaped = text(s);
    if !s.is_empty()
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c == '\'' || c == '"')
    {
        return escaped;
    }
    format!("'{}'", escaped.replace('\'', "\\'"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes() {
        assert_eq!(super::text("a\x1b[2Jb\\"), "a\\x1b[2Jb\\\\");
        assert_eq!(super::text("x\u{202e}y\u{9b}"), "x\\u{202e}y\\u{9b}");
        assert_eq!(super::bytes(b"ok\xff\n", 100), "ok\\xff\\n");
        assert_eq!(super::bytes(b"abcdef", 3), "abc… (+3 bytes)");
        assert_eq!(super::bytes(b"say \"hi\"", 100), r#"say \"hi\""#);
        assert_eq!(super::word("a b"), "'a b'");
        assert_eq!(super::word(""), "''");
        assert_eq!(super::word("-u"), "-u");
    }
}
