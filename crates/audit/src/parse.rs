//! Turning bytes into [`Record`]s, for each form a record arrives in:
//!
//! * an auditd log line: `[node=N ]type=NAME msg=audit(SEC.MSEC:SERIAL): BODY[\x1dENRICHED]`
//!   ([`parse_line`]);
//! * a netlink payload: the type number from the message header and
//!   `audit(SEC.MSEC:SERIAL): BODY` ([`parse_netlink`]);
//! * a journald entry: `_AUDIT_TYPE`, `_AUDIT_ID`, `_SOURCE_REALTIME_TIMESTAMP` and a
//!   `MESSAGE` that starts with the type name ([`parse_journal_entry`]).
//!
//! The body is a run of `key=value` tokens. Values are bare, `"double"` or `'single'`
//! quoted; the `msg='…'` of user-space records is opened and its fields take its place;
//! tokens that are not `key=value` (the prose of AVC records) are passed over.
//! Nothing here panics on any input: a line that cannot be a record is a [`ParseError`].

use crate::record::{EventId, FieldSpan, Origin, Quote, Record, Timestamp};
use crate::record_type::RecordType;
use memchr::memchr;

/// Lines longer than this are refused rather than parsed (auditd's own limit is 8970
/// bytes plus ENRICHED translations; anything far beyond it is not an audit record).
pub const MAX_RECORD_LEN: usize = 1 << 20;

/// Separator auditd writes between a record and its ENRICHED translations.
const ENRICHED_SEPARATOR: u8 = 0x1d;

/// Why a line is not an audit record. Each variant is a counter name in metrics.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("empty line")]
    Empty,
    #[error("record longer than {MAX_RECORD_LEN} bytes")]
    TooLong,
    #[error("no `type=` at the start of the record")]
    MissingType,
    #[error("unknown record type `{0}`")]
    UnknownType(String),
    #[error("no `msg=audit(…):` header")]
    MissingHeader,
    #[error("bad time stamp in the `audit(…)` header")]
    BadTimestamp,
    #[error("bad serial number in the `audit(…)` header")]
    BadSerial,
    #[error("journal entry lacks `{0}`")]
    MissingJournalField(&'static str),
}

impl ParseError {
    /// A stable, short name for counting errors by kind.
    pub fn kind(&self) -> &'static str {
        match self {
            ParseError::Empty => "empty",
            ParseError::TooLong => "too_long",
            ParseError::MissingType => "missing_type",
            ParseError::UnknownType(_) => "unknown_type",
            ParseError::MissingHeader => "missing_header",
            ParseError::BadTimestamp => "bad_timestamp",
            ParseError::BadSerial => "bad_serial",
            ParseError::MissingJournalField(_) => "missing_journal_field",
        }
    }
}

/// Parses one auditd log line (a trailing `\n` or `\r\n` is ignored).
pub fn parse_line(line: &[u8]) -> Result<Record, ParseError> {
    let line = trim_line_end(line);
    if line.is_empty() {
        return Err(ParseError::Empty);
    }
    if line.len() > MAX_RECORD_LEN {
        return Err(ParseError::TooLong);
    }
    let text = to_text(line);
    let bytes = text.as_bytes();
    let mut pos = 0;

    let mut node = None;
    if bytes.starts_with(b"node=") {
        let end = memchr(b' ', bytes).ok_or(ParseError::MissingType)?;
        node = Some((5u32, end as u32));
        pos = end + 1;
    }
    let rest = &bytes[pos..];
    if !rest.starts_with(b"type=") {
        return Err(ParseError::MissingType);
    }
    pos += 5;
    let type_end = find(b' ', &bytes[pos..]).map_or(bytes.len(), |i| pos + i);
    let type_name = &text[pos..type_end];
    let record_type = RecordType::from_name(type_name)
        .ok_or_else(|| ParseError::UnknownType(truncate(type_name, 64)))?;
    pos = type_end;
    while bytes.get(pos) == Some(&b' ') {
        pos += 1;
    }
    if !bytes[pos..].starts_with(b"msg=") {
        return Err(ParseError::MissingHeader);
    }
    pos += 4;
    let (id, body_start) = parse_header(bytes, pos)?;
    build_record(text, record_type, id, node, body_start)
}

/// Parses a netlink payload (`audit(SEC.MSEC:SERIAL): BODY`, maybe NUL-terminated) whose
/// type number came from the netlink message header.
pub fn parse_netlink(record_type: u16, payload: &[u8]) -> Result<Record, ParseError> {
    let payload = match memchr(0, payload) {
        Some(nul) => &payload[..nul],
        None => payload,
    };
    let payload = trim_line_end(payload);
    if payload.is_empty() {
        return Err(ParseError::Empty);
    }
    if payload.len() > MAX_RECORD_LEN {
        return Err(ParseError::TooLong);
    }
    let text = to_text(payload);
    let (id, body_start) = parse_header(text.as_bytes(), 0)?;
    build_record(text, RecordType(record_type), id, None, body_start)
}

/// Parses the audit part of a journald entry: `_AUDIT_TYPE`, `_AUDIT_ID` (the serial),
/// `_SOURCE_REALTIME_TIMESTAMP` (µs) and `MESSAGE`, which journald writes as the type
/// name followed by the body (`SYSCALL arch=c000003e …`). A `MESSAGE` that still has an
/// `audit(…): ` header is accepted too.
pub fn parse_journal_entry(
    audit_type: u16,
    audit_id: Option<u64>,
    source_realtime_usec: Option<u64>,
    message: &[u8],
) -> Result<Record, ParseError> {
    let message = trim_line_end(message);
    if message.len() > MAX_RECORD_LEN {
        return Err(ParseError::TooLong);
    }
    let text = to_text(message);
    let bytes = text.as_bytes();
    if let Some(at) = memchr::memmem::find(bytes, b"audit(") {
        if let Ok((id, body_start)) = parse_header(bytes, at) {
            return build_record(text, RecordType(audit_type), id, None, body_start);
        }
    }
    let serial = audit_id.ok_or(ParseError::MissingJournalField("_AUDIT_ID"))?;
    let usec = source_realtime_usec.ok_or(ParseError::MissingJournalField(
        "_SOURCE_REALTIME_TIMESTAMP",
    ))?;
    let id = EventId {
        timestamp: Timestamp {
            sec: usec / 1_000_000,
            msec: ((usec % 1_000_000) / 1000) as u32,
        },
        serial,
    };
    // Skip the leading type name journald puts before the body.
    let first_space = memchr(b' ', bytes);
    let body_start = match first_space {
        Some(i) if !bytes[..i].contains(&b'=') => i + 1,
        _ => 0,
    };
    build_record(text, RecordType(audit_type), id, None, body_start)
}

/// Parses a journald entry as `journalctl -o json` prints it.
pub fn parse_journal_json(entry: &serde_json::Value) -> Result<Record, ParseError> {
    let number = |name: &'static str| -> Option<u64> {
        match entry.get(name)? {
            serde_json::Value::String(s) => s.parse().ok(),
            serde_json::Value::Number(n) => n.as_u64(),
            _ => None,
        }
    };
    let audit_type = number("_AUDIT_TYPE")
        .and_then(|n| u16::try_from(n).ok())
        .ok_or(ParseError::MissingJournalField("_AUDIT_TYPE"))?;
    let message: Vec<u8> = match entry.get("MESSAGE") {
        Some(serde_json::Value::String(s)) => s.as_bytes().to_vec(),
        // journalctl prints non-UTF-8 messages as an array of byte values.
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_u64().and_then(|b| u8::try_from(b).ok()))
            .collect(),
        _ => return Err(ParseError::MissingJournalField("MESSAGE")),
    };
    let realtime = number("_SOURCE_REALTIME_TIMESTAMP").or_else(|| number("__REALTIME_TIMESTAMP"));
    let mut record = parse_journal_entry(audit_type, number("_AUDIT_ID"), realtime, &message)?;
    if let Some(host) = entry.get("_HOSTNAME").and_then(|v| v.as_str()) {
        record.set_node(host);
    }
    Ok(record)
}

/// An owned copy of the bytes as text. Valid UTF-8 (nearly every record: the kernel
/// hex-encodes anything unusual) takes the fast validating copy; anything else has its
/// invalid bytes replaced by U+FFFD.
fn to_text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    }
}

fn trim_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn truncate(s: &str, max: usize) -> String {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

/// Parses `audit(SEC.MSEC:SERIAL):` at `pos`; returns the id and where the body starts.
fn parse_header(bytes: &[u8], pos: usize) -> Result<(EventId, usize), ParseError> {
    match canonical_header(bytes, pos) {
        Some(parsed) => Ok(parsed),
        None => parse_header_checked(bytes, pos),
    }
}

/// The form the kernel always writes, `audit(` digits `.` three digits `:` digits `)`,
/// in one pass; `None` for anything else, which [`parse_header_checked`] then takes
/// apart (and names what is wrong). Every record has a header, and the general search
/// for `)`, `:` and `.` cost as much as scanning a short record's fields.
#[inline]
fn canonical_header(bytes: &[u8], pos: usize) -> Option<(EventId, usize)> {
    let inner = bytes.get(pos..)?.strip_prefix(b"audit(")?;
    let (sec, n) = leading_number(inner)?;
    let rest = inner.get(n..)?.strip_prefix(b".")?;
    let msec = match rest.get(..4)? {
        [a, b, c, b':'] if a.is_ascii_digit() && b.is_ascii_digit() && c.is_ascii_digit() => {
            u32::from(a - b'0') * 100 + u32::from(b - b'0') * 10 + u32::from(c - b'0')
        }
        _ => return None,
    };
    let (serial, m) = leading_number(&rest[4..])?;
    if rest.get(4 + m) != Some(&b')') {
        return None;
    }
    // `audit(` + sec + `.` + `mmm:` + serial + `)`
    let mut body = pos + 6 + n + 1 + 4 + m + 1;
    if bytes.get(body) == Some(&b':') {
        body += 1;
    }
    while bytes.get(body) == Some(&b' ') {
        body += 1;
    }
    let timestamp = Timestamp { sec, msec };
    Some((EventId { timestamp, serial }, body))
}

/// The decimal number at the start of `digits` and its length. At most 19 digits are
/// read, which cannot overflow a `u64`; a longer number leaves a digit where the caller
/// expects a delimiter, and so goes to the checked parser.
#[inline]
fn leading_number(digits: &[u8]) -> Option<(u64, usize)> {
    let mut n = 0u64;
    let mut len = 0;
    for &d in digits.iter().take(19) {
        if !d.is_ascii_digit() {
            break;
        }
        n = n * 10 + u64::from(d - b'0');
        len += 1;
    }
    (len > 0).then_some((n, len))
}

/// [`parse_header`] for any input: finds the delimiters, then parses each part.
fn parse_header_checked(bytes: &[u8], pos: usize) -> Result<(EventId, usize), ParseError> {
    let rest = bytes.get(pos..).ok_or(ParseError::MissingHeader)?;
    let inner = rest
        .strip_prefix(b"audit(")
        .ok_or(ParseError::MissingHeader)?;
    let close = find(b')', inner).ok_or(ParseError::MissingHeader)?;
    let stamp = &inner[..close];
    let colon = find(b':', stamp).ok_or(ParseError::BadSerial)?;
    let (time, serial) = (&stamp[..colon], &stamp[colon + 1..]);
    let dot = find(b'.', time).ok_or(ParseError::BadTimestamp)?;
    let sec = parse_u64(&time[..dot]).ok_or(ParseError::BadTimestamp)?;
    let msec_digits = &time[dot + 1..];
    let msec = parse_u64(msec_digits)
        .filter(|_| msec_digits.len() <= 3)
        .ok_or(ParseError::BadTimestamp)? as u32;
    let serial = parse_u64(serial).ok_or(ParseError::BadSerial)?;
    let mut body = pos + 6 + close + 1;
    if bytes.get(body) == Some(&b':') {
        body += 1;
    }
    while bytes.get(body) == Some(&b' ') {
        body += 1;
    }
    Ok((
        EventId {
            timestamp: Timestamp { sec, msec },
            serial,
        },
        body,
    ))
}

fn parse_u64(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() || digits.len() > 20 {
        return None;
    }
    let mut n: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    Some(n)
}

fn build_record(
    text: String,
    record_type: RecordType,
    id: EventId,
    node: Option<(u32, u32)>,
    body_start: usize,
) -> Result<Record, ParseError> {
    let mut fields = Vec::with_capacity(24);
    let bytes = text.as_bytes();
    let body_end = memchr(ENRICHED_SEPARATOR, &bytes[body_start.min(bytes.len())..])
        .map_or(bytes.len(), |i| body_start + i);
    scan_fields(bytes, body_start, body_end, Origin::Raw, &mut fields);
    if body_end < bytes.len() {
        scan_fields(
            bytes,
            body_end + 1,
            bytes.len(),
            Origin::Enriched,
            &mut fields,
        );
    }
    Ok(Record {
        text,
        record_type,
        id,
        node,
        fields,
    })
}

/// Tokenizes `bytes[start..end]` into fields.
fn scan_fields(bytes: &[u8], start: usize, end: usize, origin: Origin, out: &mut Vec<FieldSpan>) {
    let mut pos = start;
    while pos < end {
        // Skip separators.
        while pos < end && bytes[pos] == b' ' {
            pos += 1;
        }
        if pos >= end {
            break;
        }
        let token_start = pos;
        // A key runs to `=`; a space first means this token is prose, not a field.
        let eq = match find_eq_or_space(bytes, pos, end) {
            Some(i) if bytes[i] == b'=' => i,
            Some(i) => {
                pos = i;
                continue;
            }
            None => break,
        };
        if eq == token_start {
            // `=value` with no key: skip the token.
            pos = skip_to_space(bytes, eq + 1, end);
            continue;
        }
        let key = (token_start as u32, eq as u32);
        let value_start = eq + 1;
        let (quote, value, next) = match bytes.get(value_start).copied() {
            Some(q @ (b'"' | b'\'')) if value_start < end => {
                let open = value_start + 1;
                let close = find_byte(bytes, q, open.min(end), end);
                match close {
                    Some(close) => (
                        if q == b'"' {
                            Quote::Double
                        } else {
                            Quote::Single
                        },
                        (open as u32, close as u32),
                        close + 1,
                    ),
                    // Unterminated quote (a truncated line): take the rest as the value.
                    None => (
                        if q == b'"' {
                            Quote::Double
                        } else {
                            Quote::Single
                        },
                        (open.min(end) as u32, end as u32),
                        end,
                    ),
                }
            }
            // auditd's ENRICHED socket address: `SADDR={ saddr_fam=inet laddr=… lport=… }`,
            // a braced value with spaces; taken whole, braces included.
            Some(b'{') if origin == Origin::Enriched => {
                match memchr(b'}', &bytes[value_start..end]) {
                    Some(i) => {
                        let close = value_start + i + 1;
                        (Quote::None, (value_start as u32, close as u32), close)
                    }
                    None => (Quote::None, (value_start as u32, end as u32), end),
                }
            }
            _ => {
                let stop = skip_to_space(bytes, value_start, end);
                (Quote::None, (value_start as u32, stop as u32), stop)
            }
        };
        pos = next;
        let is_nested_msg = origin == Origin::Raw
            && quote == Quote::Single
            && &bytes[key.0 as usize..key.1 as usize] == b"msg";
        if is_nested_msg {
            let before = out.len();
            scan_fields(
                bytes,
                value.0 as usize,
                value.1 as usize,
                Origin::Nested,
                out,
            );
            if out.len() > before {
                continue;
            }
            // Free text in msg='…' that holds no fields: keep it as the msg field itself.
        }
        out.push(FieldSpan {
            key,
            value,
            quote,
            origin,
        });
    }
}

fn skip_to_space(bytes: &[u8], from: usize, end: usize) -> usize {
    find_byte(bytes, b' ', from, end).unwrap_or(end)
}

/// How many bytes are searched eight at a time before handing over to `memchr`: keys
/// and most values are a few bytes long, and for those `memchr`'s set-up costs more than
/// the search (about a third of the parser's instructions went there).
const SHORT_SCAN: usize = 32;

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// High bit set in each byte of `x` that is zero. Bits above the first zero byte may be
/// wrong (borrows), the lowest set bit never is, and only that one is used.
#[inline]
fn zero_bytes(x: u64) -> u64 {
    x.wrapping_sub(ONES) & !x & HIGH
}

/// The first `needle` in `bytes[from..end]` (an absolute index).
#[inline]
fn find_byte(bytes: &[u8], needle: u8, from: usize, end: usize) -> Option<usize> {
    find(needle, bytes.get(from..end)?).map(|i| from + i)
}

/// `memchr`, with the first bytes searched eight at a time in a register.
#[inline]
fn find(needle: u8, hay: &[u8]) -> Option<usize> {
    let splat = ONES * u64::from(needle);
    find_by(hay, |word| zero_bytes(word ^ splat), |b| b == needle)
        .or_else(|| find_rest(hay, |rest| memchr(needle, rest)))
}

/// The first `=` or space in `bytes[from..end]` (an absolute index).
#[inline]
fn find_eq_or_space(bytes: &[u8], from: usize, end: usize) -> Option<usize> {
    let hay = bytes.get(from..end)?;
    let (eq, space) = (ONES * u64::from(b'='), ONES * u64::from(b' '));
    // The lowest bit of the union is the first match of either (see `zero_bytes`).
    find_by(
        hay,
        |word| zero_bytes(word ^ eq) | zero_bytes(word ^ space),
        |b| b == b'=' || b == b' ',
    )
    .or_else(|| find_rest(hay, |rest| memchr::memchr2(b'=', b' ', rest)))
    .map(|i| from + i)
}

/// Searches the first [`SHORT_SCAN`] bytes: whole words by `word_mask`, a short tail by
/// `is_match`. `None` means no match there (the caller goes on with [`find_rest`]).
#[inline]
fn find_by(
    hay: &[u8],
    word_mask: impl Fn(u64) -> u64,
    is_match: impl Fn(u8) -> bool,
) -> Option<usize> {
    let short = hay.len().min(SHORT_SCAN);
    let mut i = 0;
    while let Some(chunk) = hay.get(i..i + 8).filter(|_| i + 8 <= short) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let mask = word_mask(u64::from_le_bytes(word));
        if mask != 0 {
            return Some(i + (mask.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    hay[i..short]
        .iter()
        .position(|&b| is_match(b))
        .map(|j| i + j)
}

/// The search past the first [`SHORT_SCAN`] bytes, by `search` (an index into `hay`).
#[inline]
fn find_rest(hay: &[u8], search: impl Fn(&[u8]) -> Option<usize>) -> Option<usize> {
    let short = hay.len().min(SHORT_SCAN);
    search(&hay[short..]).map(|i| short + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys_values(record: &Record) -> Vec<(String, String)> {
        record
            .fields()
            .map(|f| (f.key.to_string(), f.value.to_string()))
            .collect()
    }

    #[test]
    fn enriched_path_record_keeps_ouid_ogid_apart_from_the_raw_fields() {
        // Captured from this machine's auditd 3.0.9 (log_format = ENRICHED).
        let line = b"type=PATH msg=audit(1795431100.841:6): item=0 name=\"/usr/bin/sleep\" inode=247774 dev=fe:00 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0\x1dOUID=\"root\" OGID=\"root\"\n";
        let record = parse_line(line).unwrap();
        assert_eq!(record.record_type(), RecordType::PATH);
        assert_eq!(record.serial(), 6);
        assert_eq!(
            record.timestamp(),
            Timestamp {
                sec: 1795431100,
                msec: 841
            }
        );
        assert_eq!(record.value("cap_frootid"), Some("0"));
        assert_eq!(record.value("name"), Some("/usr/bin/sleep"));
        assert_eq!(record.get("name").unwrap().quote, Quote::Double);
        assert_eq!(record.enriched("OUID"), Some("root"));
        assert_eq!(record.enriched("OGID"), Some("root"));
        assert_eq!(record.value("OUID"), None);
        assert!(record.is_enriched());
    }

    #[test]
    fn enriched_socket_address_is_one_value() {
        // Captured from this machine (crates/audit/tests/data/connect.log).
        let line = b"type=SOCKADDR msg=audit(1795432223.854:23849): saddr=020008FB7F0000010000000000000000\x1dSADDR={ saddr_fam=inet laddr=127.0.0.1 lport=2299 }";
        let record = parse_line(line).unwrap();
        assert_eq!(
            record.enriched("SADDR"),
            Some("{ saddr_fam=inet laddr=127.0.0.1 lport=2299 }")
        );
        assert_eq!(record.fields().count(), 2);
        assert_eq!(record.enriched("laddr"), None);
    }

    #[test]
    fn node_prefix_and_user_space_nested_msg() {
        let line = b"node=web-1 type=USER_LOGIN msg=audit(1700000000.123:456): pid=25007 uid=0 auid=1000 ses=499 msg='op=login id=1000 exe=\"/usr/sbin/sshd\" hostname=? addr=10.0.0.1 terminal=/dev/pts/1 res=success'";
        let record = parse_line(line).unwrap();
        assert_eq!(record.node(), Some("web-1"));
        assert_eq!(record.record_type(), RecordType::USER_LOGIN);
        assert_eq!(record.value("ses"), Some("499"));
        assert_eq!(record.value("op"), Some("login"));
        assert_eq!(record.value("exe"), Some("/usr/sbin/sshd"));
        assert_eq!(record.value("res"), Some("success"));
        assert!(record.get("hostname").unwrap().is_absent());
        assert_eq!(record.get("op").unwrap().origin, Origin::Nested);
        assert_eq!(record.value("msg"), None);
    }

    #[test]
    fn netlink_payload_with_nul() {
        let record = parse_netlink(
            1309,
            b"audit(1700000000.001:7): argc=2 a0=\"ls\" a1=\"-l\"\0junk",
        )
        .unwrap();
        assert_eq!(record.record_type(), RecordType::EXECVE);
        assert_eq!(
            keys_values(&record),
            vec![
                ("argc".into(), "2".into()),
                ("a0".into(), "ls".into()),
                ("a1".into(), "-l".into())
            ]
        );
    }

    #[test]
    fn journald_message_with_type_prefix() {
        let record = parse_journal_entry(
            1300,
            Some(99),
            Some(1_700_000_000_123_456),
            b"SYSCALL arch=c000003e syscall=59 success=yes exit=0",
        )
        .unwrap();
        assert_eq!(record.serial(), 99);
        assert_eq!(
            record.timestamp(),
            Timestamp {
                sec: 1_700_000_000,
                msec: 123
            }
        );
        assert_eq!(record.value("syscall"), Some("59"));
    }

    #[test]
    fn unknown_type_number_form_is_accepted() {
        let record = parse_line(b"type=UNKNOWN[1334] msg=audit(1.002:3): x=1").unwrap();
        assert_eq!(record.record_type(), RecordType(1334));
    }

    #[test]
    fn avc_prose_is_skipped_but_fields_kept() {
        let line = b"type=AVC msg=audit(1.000:2): avc:  denied  { read } for  pid=1 comm=\"cat\" name=\"shadow\"";
        let record = parse_line(line).unwrap();
        assert_eq!(record.value("pid"), Some("1"));
        assert_eq!(record.value("comm"), Some("cat"));
    }

    #[test]
    fn errors_are_typed() {
        assert_eq!(parse_line(b"").unwrap_err(), ParseError::Empty);
        assert_eq!(parse_line(b"hello").unwrap_err(), ParseError::MissingType);
        assert_eq!(
            parse_line(b"type=SYSCALL foo").unwrap_err(),
            ParseError::MissingHeader
        );
        assert_eq!(
            parse_line(b"type=SYSCALL msg=audit(12x.1:2): a=1").unwrap_err(),
            ParseError::BadTimestamp
        );
        assert_eq!(
            parse_line(b"type=SYSCALL msg=audit(12.1:): a=1").unwrap_err(),
            ParseError::BadSerial
        );
        assert!(matches!(
            parse_line(b"type=NOPE msg=audit(1.1:1): a=1"),
            Err(ParseError::UnknownType(_))
        ));
    }

    #[test]
    fn finders_agree_with_a_plain_search() {
        // Every position of the needle (and of `=`/space), in hays shorter and longer
        // than the register-wide part, with other bytes (0x00, 0x80, 0xff) around.
        for len in 0..80 {
            for at in 0..=len {
                for filler in [b'a', 0, 0x80, 0xff, b'<', b'>'] {
                    let mut hay = vec![filler; len];
                    if at < len {
                        hay[at] = b'=';
                    }
                    let want = hay.iter().position(|&b| b == b'=');
                    assert_eq!(find(b'=', &hay), want, "len {len} at {at}");
                    assert_eq!(find_byte(&hay, b'=', 0, len), want);
                    let want2 = hay.iter().position(|&b| b == b'=' || b == b' ');
                    assert_eq!(find_eq_or_space(&hay, 0, len), want2);
                    if at + 3 < len {
                        hay[at + 3] = b' ';
                        hay[at] = filler;
                        let want = hay.iter().position(|&b| b == b'=' || b == b' ');
                        assert_eq!(find_eq_or_space(&hay, 0, len), want, "space {len} {at}");
                        assert_eq!(find_byte(&hay, b' ', 1, len), want.filter(|&p| p >= 1));
                    }
                }
            }
        }
        assert_eq!(find_byte(b"abc", b'c', 2, 1), None);
    }

    #[test]
    fn the_canonical_header_parser_agrees_with_the_checked_one() {
        let headers = [
            "audit(1795432245.078:23920): x=1",
            "audit(1795432245.078:23920):x=1",
            "audit(0.000:0): ",
            "audit(1.5:7): x=1",
            "audit(1.50:7): x=1",
            "audit(18446744073709551615.999:18446744073709551615): x",
            "audit(18446744073709551616.999:1): x",
            "audit(1234567890123456789.001:1234567890123456789)",
            "audit(12345678901234567890.001:1)",
            "audit(1.0001:1): x",
            "audit(1.001:): x",
            "audit(1.001:2",
            "audit(.001:2): x",
            "audit(1.a01:2): x",
            "audit(1:2): x",
            "audit(1.001:2)   x",
            "audit(",
            "",
        ];
        for h in headers {
            let checked = parse_header_checked(h.as_bytes(), 0);
            if let Some(fast) = canonical_header(h.as_bytes(), 0) {
                assert_eq!(Ok(fast), checked.clone().map_err(|e| e.kind()), "{h}");
            }
            let either = parse_header(h.as_bytes(), 0).map_err(|e| e.kind());
            assert_eq!(either, checked.map_err(|e| e.kind()), "{h}");
        }
        assert!(canonical_header(b"audit(1795432245.078:23920): x", 0).is_some());
    }

    #[test]
    fn truncated_quote_takes_rest() {
        let record = parse_line(b"type=PATH msg=audit(1.1:1): name=\"/tm").unwrap();
        assert_eq!(record.value("name"), Some("/tm"));
    }

    proptest::proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
            let _ = parse_line(&bytes);
            let _ = parse_netlink(1300, &bytes);
            let _ = parse_journal_entry(1300, Some(1), Some(1), &bytes);
        }

        #[test]
        fn fields_round_trip_in_order(
            values in proptest::collection::vec("[a-z0-9/._-]{1,12}", 1..20)
        ) {
            let mut line = String::from("type=SYSCALL msg=audit(1.001:5):");
            for (i, v) in values.iter().enumerate() {
                if i % 2 == 0 {
                    line.push_str(&format!(" k{i}={v}"));
                } else {
                    line.push_str(&format!(" k{i}=\"{v}\""));
                }
            }
            let record = parse_line(line.as_bytes()).unwrap();
            let got: Vec<String> = record.fields().map(|f| f.value.to_string()).collect();
            proptest::prop_assert_eq!(got, values);
        }
    }
}
