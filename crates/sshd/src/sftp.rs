//! OpenSSH's SFTP server log lines (`sftp-server -l INFO`, `internal-sftp -l INFO`), typed.
//!
//! With `-l INFO` the SFTP server logs one line per file operation of a session, under the
//! syslog identifier `sftp-server` (or `internal-sftp` inside sshd; see
//! [`crate::framing::SFTP_PROGRAMS`]). [`parse_sftp`] reads one such message into an
//! [`SftpEvent`], borrowing from the input. The lines, as OpenSSH 9.2 writes them:
//!
//! | event | message |
//! |---|---|
//! | [`SessionOpened`](SftpEvent::SessionOpened) / [`SessionClosed`](SftpEvent::SessionClosed) | `session opened for local user <user> from [<ip>]` (`closed` likewise; `UNKNOWN` when run outside sshd) |
//! | [`Open`](SftpEvent::Open) | `open "<name>" flags <READ,WRITE,APPEND,CREATE,TRUNCATE,EXCL> mode 0<octal>` (flags may be empty) |
//! | [`Close`](SftpEvent::Close) | `[forced ]close "<name>" bytes read <n> written <n>` |
//! | [`OpenDir`](SftpEvent::OpenDir) / [`CloseDir`](SftpEvent::CloseDir) | `opendir "<name>"` / `[forced ]closedir "<name>"` |
//! | [`Remove`](SftpEvent::Remove), [`MakeDir`](SftpEvent::MakeDir), [`RemoveDir`](SftpEvent::RemoveDir) | `remove name "<name>"`, `mkdir name "<name>" mode 0<octal>`, `rmdir name "<name>"` |
//! | [`TwoNames`](SftpEvent::TwoNames) | `rename old "<a>" new "<b>"`, likewise `posix-rename`, `symlink`, `hardlink` |
//! | [`SetStat`](SftpEvent::SetStat) | `set "<name>" size <n>`, `… mode <octal, 4 digits or more>`, `… modtime <YYYYmmdd-HH:MM:SS>`, `… owner <uid> group <gid>`: one line per attribute changed |
//! | [`SentStatus`](SftpEvent::SentStatus) | `sent status <text>` for every failed request (`No such file`, `Permission denied`, `Failure`, …) |
//! | [`Refused`](SftpEvent::Refused) | `Refusing <request> request in read-only mode`, `Refusing denylisted <request> request`, `Refusing non-allowlisted <request> request` |
//!
//! `forced close` is what the server logs at the end of a session for each handle the client
//! left open; the event does not keep the word. `Refusing …` lines are logged at `VERBOSE`,
//! so with `-l INFO` a request denied by `-R`, `-P` or `-p` shows only as `sent status
//! Permission denied`; at `VERBOSE` the server also logs them once per disallowed extension
//! when the session starts, before the client asked for anything. Every other message
//! (`VERBOSE` lines such as `realpath "<name>"` or `lstat name "<name>"`, `error: …`) is
//! [`SftpEvent::Other`].
//!
//! ## Escaping
//!
//! OpenSSH's logger passes every message through `strnvis(…, VIS_CSTYLE | VIS_NL | VIS_TAB
//! | VIS_OCTAL)`: a backslash becomes `\\`, newline, tab, CR, BEL, BS, VT and FF become `\n`,
//! `\t`, `\r`, `\a`, `\b`, `\v`, `\f`, and every other byte that is not printable ASCII
//! (other control characters, DEL, and each byte of a UTF-8 name) becomes three octal digits:
//! `café` is logged as `caf\303\251`. Spaces and double quotes are left as they are. The
//! message is therefore printable ASCII, and [`SftpPath::bytes`] gives back the exact bytes
//! of the name.
//!
//! ## Why from the right
//!
//! A name is chosen by the client and can hold anything, including `"` and text that looks
//! like the rest of a line: `close "/home/a/q"uote" bytes read 0 written 99" bytes read 0
//! written 7` is a real line for a file named `q"uote" bytes read 0 written 99`. Nothing
//! the server appends after a name contains a quote, so the name runs from the first `"`
//! after the verb to the last `"` of the line, and what follows that quote must be exactly
//! the verb's suffix (numbers, flags, a date). A name therefore cannot change the numbers,
//! flags or mode a line reports.
//!
//! Lines with two names are the exception: `rename old "a" new "b" new "c"` is what the
//! server logs both for renaming `a" new "b` to `c` and `a` to `b" new "c`. When the
//! separator `" new "` occurs once, the split is certain ([`TwoNames::Split`]); otherwise the
//! parser does not guess ([`TwoNames::Ambiguous`]).
//!
//! ## Cut lines
//!
//! The logger hands syslog at most 500 bytes (`syslog(pri, "%.500s", msg)`), cutting long
//! names anywhere, even inside an escape. A client can pick a name that, cut at byte 500,
//! ends exactly like a complete line with made-up numbers. So a message of
//! [`MESSAGE_LIMIT`] bytes or more is [`SftpEvent::Other`]: it may be cut, and nothing in it
//! can be trusted to be the real suffix. (A complete line of exactly 500 bytes cannot be told
//! from a cut one and is lost the same way.)
//!
//! ## Whose session
//!
//! The `session opened for local user` line names the account the server runs as, not a
//! login: any local user can run `sftp-server` or write syslog lines under its name. Attribute
//! SFTP lines by journald's `_AUDIT_SESSION` ([`crate::Framed::audit_session`]), which the
//! kernel ties to the login that started the process.
//!
//! ```
//! use sshtrail_sshd::{parse_sftp, SftpEvent, SftpPath};
//!
//! let line = r#"close "/home/a/caf\303\251 \342\230\203.txt" bytes read 0 written 7"#;
//! let SftpEvent::Close { path, read, written } = parse_sftp(line) else { unreachable!() };
//! assert_eq!((read, written), (0, 7));
//! assert_eq!(path.display(), "/home/a/café ☃.txt");
//! assert_eq!(path.raw, r"/home/a/caf\303\251 \342\230\203.txt");
//! ```

use std::borrow::Cow;

/// Messages of this many bytes or more may have been cut by OpenSSH's logger (see the
/// [module documentation](self)); [`parse_sftp`] reads them as [`SftpEvent::Other`].
pub const MESSAGE_LIMIT: usize = 500;

/// One SFTP server log message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SftpEvent<'a> {
    /// `session opened for local user <user> from [<ip>]`: the server started.
    SessionOpened {
        /// The account the server runs as.
        user: &'a str,
        /// The client's address from `SSH_CONNECTION`, or `UNKNOWN`.
        ip: &'a str,
    },
    /// `session closed for local user <user> from [<ip>]`: the server exits.
    SessionClosed {
        /// The account the server runs as.
        user: &'a str,
        /// The client's address from `SSH_CONNECTION`, or `UNKNOWN`.
        ip: &'a str,
    },
    /// `open "<name>" flags <flags> mode 0<octal>`: logged before the open is tried, so it
    /// may be followed by a [`SftpEvent::SentStatus`] failure.
    Open {
        /// The name as the client gave it (relative names are relative to the home directory).
        path: SftpPath<'a>,
        /// `READ`, `WRITE`, `APPEND`, `CREATE`, `TRUNCATE`, `EXCL` joined by `,`, in that
        /// order; empty when the client set none.
        flags: &'a str,
        /// The mode asked for when creating (`0o666` when the client gave none).
        mode: u32,
    },
    /// `close "<name>" bytes read <n> written <n>` (also `forced close`, for a handle still
    /// open when the session ended).
    Close {
        /// The name the file was opened under.
        path: SftpPath<'a>,
        /// Bytes the client read through this handle.
        read: u64,
        /// Bytes the client wrote through this handle.
        written: u64,
    },
    /// `opendir "<name>"`.
    OpenDir {
        /// The directory.
        path: SftpPath<'a>,
    },
    /// `closedir "<name>"` (also `forced closedir`).
    CloseDir {
        /// The directory.
        path: SftpPath<'a>,
    },
    /// `remove name "<name>"`.
    Remove {
        /// The file.
        path: SftpPath<'a>,
    },
    /// `mkdir name "<name>" mode 0<octal>`.
    MakeDir {
        /// The new directory.
        path: SftpPath<'a>,
        /// The mode asked for (`0o777` when the client gave none).
        mode: u32,
    },
    /// `rmdir name "<name>"`.
    RemoveDir {
        /// The directory.
        path: SftpPath<'a>,
    },
    /// rename / posix-rename / symlink / hardlink
    TwoNames {
        /// Which request.
        op: TwoNameOp,
        /// The two names (for a symlink: `old` is the link's target, `new` the link).
        names: TwoNames<'a>,
    },
    /// `set "<name>" …`: one attribute changed by setstat, fsetstat or lsetstat.
    SetStat {
        /// The file (for fsetstat, the name it was opened under).
        path: SftpPath<'a>,
        /// What was set.
        change: SetStatChange<'a>,
    },
    /// `sent status <text>`: a request failed (the server logs no status for success or
    /// end of file).
    SentStatus {
        /// `No such file`, `Permission denied`, `Failure`, `Bad message`, `Operation
        /// unsupported`, …
        status: &'a str,
    },
    /// `Refusing … request …` (logged at `VERBOSE` only): the whole message.
    Refused {
        /// The message, e.g. `Refusing denylisted remove request`.
        text: &'a str,
    },
    /// Anything else (other verbs, cut lines): the raw message.
    Other,
}

/// The requests that log two names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TwoNameOp {
    /// `rename old "…" new "…"` (SSH_FXP_RENAME: fails if the new name exists).
    Rename,
    /// `posix-rename old "…" new "…"` (posix-rename@openssh.com: replaces the new name).
    PosixRename,
    /// `symlink old "…" new "…"`: a link `new` pointing at `old`.
    Symlink,
    /// `hardlink old "…" new "…"` (hardlink@openssh.com).
    Hardlink,
}

impl TwoNameOp {
    /// The verb as the server logs it: `rename`, `posix-rename`, `symlink`, `hardlink`.
    pub fn as_str(self) -> &'static str {
        match self {
            TwoNameOp::Rename => "rename",
            TwoNameOp::PosixRename => "posix-rename",
            TwoNameOp::Symlink => "symlink",
            TwoNameOp::Hardlink => "hardlink",
        }
    }
}

/// The two names of a [`SftpEvent::TwoNames`] line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TwoNames<'a> {
    /// The separator `" new "` occurs once: the names are certain.
    Split {
        /// The first name (`old`).
        old: SftpPath<'a>,
        /// The second name (`new`).
        new: SftpPath<'a>,
    },
    /// A name contains `" new "`, so more than one split is possible.
    Ambiguous {
        /// Everything between the outer quotes: `<old>" new "<new>`, escaped as logged.
        raw: &'a str,
    },
}

/// The attribute a `set` line reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetStatChange<'a> {
    /// `size <n>`: truncated or extended to n bytes.
    Size(u64),
    /// `mode <octal>`: permission bits (all the bits the client sent).
    Mode(u32),
    /// `modtime <YYYYmmdd-HH:MM:SS>`: access and modification time, in the server's local
    /// time zone, as the server wrote it.
    ModTime(&'a str),
    /// `owner <uid> group <gid>`.
    Owner {
        /// The new owner.
        uid: u64,
        /// The new group.
        gid: u64,
    },
}

/// A path as sftp-server logged it: `raw` is the escaped text between the quotes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SftpPath<'a> {
    /// The name with OpenSSH's escapes (see the [module documentation](self)).
    pub raw: &'a str,
}

impl SftpPath<'_> {
    /// The name's bytes with OpenSSH's escapes undone; None if an escape is malformed.
    ///
    /// Only the escapes OpenSSH's logger writes are accepted: `\\`, `\n`, `\t`, `\r`, `\a`,
    /// `\b`, `\v`, `\f`, `\0` and three octal digits up to `\377`. Anything else after a
    /// backslash (including a backslash at the end, as in a cut line) is malformed.
    pub fn bytes(&self) -> Option<Vec<u8>> {
        unvis(self.raw)
    }

    /// What to show: the decoded name when it is valid UTF-8, else the raw escaped text
    /// (lossless, unambiguous).
    ///
    /// The decoded name is also not used when it holds a backslash, a control character or
    /// a Unicode bidirectional formatting character: a name must not be able to break a
    /// line, reorder the text around it, or pass for an escaped name. So a shown text with
    /// no backslash is the name itself, and one with a backslash is the escaped form, which
    /// [`SftpPath::bytes`] decodes.
    pub fn display(&self) -> Cow<'_, str> {
        if !self.raw.contains('\\') {
            return Cow::Borrowed(self.raw);
        }
        match self.bytes().map(String::from_utf8) {
            Some(Ok(name)) if !name.chars().any(|c| c == '\\' || hides_text(c)) => Cow::Owned(name),
            _ => Cow::Borrowed(self.raw),
        }
    }
}

/// Characters that change how the text around them looks rather than showing themselves.
fn hides_text(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

/// Undoes `strnvis(VIS_CSTYLE | VIS_NL | VIS_TAB | VIS_OCTAL)`.
fn unvis(raw: &str) -> Option<Vec<u8>> {
    let b = raw.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c != b'\\' {
            out.push(c);
            i += 1;
            continue;
        }
        let octal = |at: usize| b.get(at).filter(|d| (b'0'..=b'7').contains(d)).copied();
        let (byte, len) = match *b.get(i + 1)? {
            b'\\' => (b'\\', 2),
            b'n' => (b'\n', 2),
            b't' => (b'\t', 2),
            b'r' => (b'\r', 2),
            b'a' => (0x07, 2),
            b'b' => (0x08, 2),
            b'v' => (0x0b, 2),
            b'f' => (0x0c, 2),
            d1 @ b'0'..=b'7' => match (octal(i + 2), octal(i + 3)) {
                (Some(d2), Some(d3)) => {
                    let v = (u32::from(d1 - b'0') << 6)
                        | (u32::from(d2 - b'0') << 3)
                        | u32::from(d3 - b'0');
                    (u8::try_from(v).ok()?, 4)
                }
                // vis writes NUL as `\0`, or as `\000` when an octal digit follows it.
                (None, _) if d1 == b'0' => (0, 2),
                _ => return None,
            },
            _ => return None,
        };
        out.push(byte);
        i += len;
    }
    Some(out)
}

/// Reads one SFTP server message (the text after `sftp-server[pid]: `; a trailing newline
/// is ignored). Never panics; anything it does not recognise is [`SftpEvent::Other`].
pub fn parse_sftp(message: &str) -> SftpEvent<'_> {
    let message = message.strip_suffix('\n').unwrap_or(message);
    if message.len() >= MESSAGE_LIMIT {
        return SftpEvent::Other;
    }
    parse_complete(message).unwrap_or(SftpEvent::Other)
}

fn parse_complete(m: &str) -> Option<SftpEvent<'_>> {
    if let Some(rest) = m.strip_prefix("session opened for local user ") {
        let (user, ip) = session(rest)?;
        return Some(SftpEvent::SessionOpened { user, ip });
    }
    if let Some(rest) = m.strip_prefix("session closed for local user ") {
        let (user, ip) = session(rest)?;
        return Some(SftpEvent::SessionClosed { user, ip });
    }
    if let Some(status) = m.strip_prefix("sent status ") {
        return (!status.is_empty()).then_some(SftpEvent::SentStatus { status });
    }
    if m.starts_with("Refusing ")
        && (m.ends_with(" request") || m.ends_with(" request in read-only mode"))
    {
        return Some(SftpEvent::Refused { text: m });
    }
    // Every other line quotes a name: the verb, then the name up to the last quote, then
    // a suffix that never holds a quote.
    let first = m.find('"')?;
    let last = m.rfind('"')?;
    if last == first {
        return None;
    }
    let verb = &m[..first];
    let raw = &m[first + 1..last];
    let suffix = &m[last + 1..];
    let path = SftpPath { raw };
    let no_suffix = suffix.is_empty();
    let event = match verb {
        "open " => {
            let (flags, mode) = suffix.strip_prefix(" flags ")?.split_once(" mode ")?;
            if !open_flags(flags) {
                return None;
            }
            SftpEvent::Open {
                path,
                flags,
                mode: prefixed_octal(mode)?,
            }
        }
        "close " | "forced close " => {
            let (read, written) = suffix
                .strip_prefix(" bytes read ")?
                .split_once(" written ")?;
            SftpEvent::Close {
                path,
                read: decimal(read)?,
                written: decimal(written)?,
            }
        }
        "closedir " | "forced closedir " if no_suffix => SftpEvent::CloseDir { path },
        "opendir " if no_suffix => SftpEvent::OpenDir { path },
        "remove name " if no_suffix => SftpEvent::Remove { path },
        "rmdir name " if no_suffix => SftpEvent::RemoveDir { path },
        "mkdir name " => SftpEvent::MakeDir {
            path,
            mode: prefixed_octal(suffix.strip_prefix(" mode ")?)?,
        },
        "rename old " if no_suffix => two_names(TwoNameOp::Rename, raw)?,
        "posix-rename old " if no_suffix => two_names(TwoNameOp::PosixRename, raw)?,
        "symlink old " if no_suffix => two_names(TwoNameOp::Symlink, raw)?,
        "hardlink old " if no_suffix => two_names(TwoNameOp::Hardlink, raw)?,
        "set " => SftpEvent::SetStat {
            path,
            change: set_change(suffix)?,
        },
        _ => return None,
    };
    Some(event)
}

/// `<user> from [<ip>]`: the address is the first word of `SSH_CONNECTION`, so it holds no
/// space; the split is at the last ` from [`.
fn session(rest: &str) -> Option<(&str, &str)> {
    let (user, ip) = rest.strip_suffix(']')?.rsplit_once(" from [")?;
    let ip_ok = !ip.is_empty() && !ip.contains([' ', '[', ']']);
    (!user.is_empty() && ip_ok).then_some((user, ip))
}

/// `<old>" new "<new>` between the outer quotes.
fn two_names(op: TwoNameOp, raw: &str) -> Option<SftpEvent<'_>> {
    const SEP: &str = "\" new \"";
    // Overlapping matches count: in `a" new " new "b` both are possible splits.
    let mut at = (0..raw.len()).filter(|&i| raw.as_bytes()[i..].starts_with(SEP.as_bytes()));
    let first = at.next()?;
    let names = if at.next().is_none() {
        TwoNames::Split {
            old: SftpPath { raw: &raw[..first] },
            new: SftpPath {
                raw: &raw[first + SEP.len()..],
            },
        }
    } else {
        TwoNames::Ambiguous { raw }
    };
    Some(SftpEvent::TwoNames { op, names })
}

fn set_change(suffix: &str) -> Option<SetStatChange<'_>> {
    if let Some(n) = suffix.strip_prefix(" size ") {
        return decimal(n).map(SetStatChange::Size);
    }
    if let Some(n) = suffix.strip_prefix(" mode ") {
        // `%04o`: at least four digits, zero-padded only up to four.
        let canonical = n.len() >= 4 && (n.len() == 4 || !n.starts_with('0'));
        return canonical
            .then(|| octal(n))
            .flatten()
            .map(SetStatChange::Mode);
    }
    if let Some(t) = suffix.strip_prefix(" modtime ") {
        return modtime(t).then_some(SetStatChange::ModTime(t));
    }
    let (uid, gid) = suffix.strip_prefix(" owner ")?.split_once(" group ")?;
    Some(SetStatChange::Owner {
        uid: decimal(uid)?,
        gid: decimal(gid)?,
    })
}

/// What `string_from_portable` writes: the known flags, each once, in its order.
fn open_flags(flags: &str) -> bool {
    const ORDER: [&str; 6] = ["READ", "WRITE", "APPEND", "CREATE", "TRUNCATE", "EXCL"];
    if flags.is_empty() {
        return true;
    }
    let mut next = 0;
    for flag in flags.split(',') {
        match ORDER.iter().skip(next).position(|&f| f == flag) {
            Some(k) => next += k + 1,
            None => return false,
        }
    }
    true
}

/// `%llu`/`%lu`: digits, no sign, no leading zero.
fn decimal(s: &str) -> Option<u64> {
    let canonical =
        !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    canonical.then(|| s.parse().ok()).flatten()
}

/// `0%o`: a `0`, then the mode in octal with no leading zero (`00` for none).
fn prefixed_octal(s: &str) -> Option<u32> {
    let digits = s.strip_prefix('0')?;
    let canonical = digits == "0" || (!digits.is_empty() && !digits.starts_with('0'));
    canonical.then(|| octal(digits)).flatten()
}

fn octal(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|c| (b'0'..=b'7').contains(&c)) {
        return None;
    }
    u32::from_str_radix(s, 8).ok()
}

/// `strftime("%Y%m%d-%H:%M:%S")`: `20261202-06:37:00`.
fn modtime(t: &str) -> bool {
    let b = t.as_bytes();
    b.len() == 17
        && b.iter().enumerate().all(|(i, &c)| match i {
            8 => c == b'-',
            11 | 14 => c == b':',
            _ => c.is_ascii_digit(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(raw: &str) -> SftpPath<'_> {
        SftpPath { raw }
    }

    #[test]
    fn unvis_every_escape() {
        assert_eq!(
            path(r"\\\n\t\r\a\b\v\f\0\000\001\177\200\377x").bytes(),
            Some(b"\\\n\t\r\x07\x08\x0b\x0c\0\0\x01\x7f\x80\xffx".to_vec())
        );
        assert_eq!(path("").bytes(), Some(Vec::new()));
        assert_eq!(path(r#"a "b" c"#).bytes(), Some(br#"a "b" c"#.to_vec()));
        // NUL before an octal digit is `\000`; `\0` then a digit would be someone else's.
        assert_eq!(path(r"\0x").bytes(), Some(b"\0x".to_vec()));
        assert_eq!(path(r"\0005").bytes(), Some(b"\x005".to_vec()));
    }

    #[test]
    fn malformed_escapes() {
        for raw in [
            r"\", r"a\", r"\x41", r"\s", r"\E", r"\M-a", r"\^A", r"\400", r"\777", r"\37", r"\3",
            r"\05x", r"\01", r"\8", r"\\\",
        ] {
            assert_eq!(path(raw).bytes(), None, "{raw}");
            assert_eq!(path(raw).display(), raw, "{raw}");
        }
    }

    #[test]
    fn display_is_unambiguous() {
        assert_eq!(path("plain name").display(), "plain name");
        assert!(matches!(path("plain").display(), Cow::Borrowed(_)));
        assert_eq!(path(r"caf\303\251").display(), "café");
        // Not UTF-8, or would break the line, reorder text, or pass for an escape.
        for raw in [
            r"\377\376",
            r"new\nline",
            r"tab\t",
            r"esc\033[31m",
            r"\342\200\256evil",
            r"back\\slash",
            r"\\303\\251",
        ] {
            assert_eq!(path(raw).display(), raw);
        }
    }

    #[test]
    fn open_flags_as_logged() {
        for ok in [
            "",
            "READ",
            "READ,WRITE,APPEND,CREATE,TRUNCATE,EXCL",
            "WRITE,APPEND",
        ] {
            assert!(open_flags(ok), "{ok}");
        }
        for bad in [",", "READ,", "WRITE,READ", "READ,READ", "read", "SYNC"] {
            assert!(!open_flags(bad), "{bad}");
        }
    }

    #[test]
    fn numbers_are_canonical() {
        assert_eq!(decimal("0"), Some(0));
        assert_eq!(decimal("18446744073709551615"), Some(u64::MAX));
        for bad in ["", "00", "01", "+1", "-1", "1 ", "18446744073709551616"] {
            assert_eq!(decimal(bad), None, "{bad}");
        }
        assert_eq!(prefixed_octal("00"), Some(0));
        assert_eq!(prefixed_octal("0644"), Some(0o644));
        assert_eq!(prefixed_octal("037777777777"), Some(u32::MAX));
        for bad in ["", "0", "644", "00644", "0+7", "0648", "040000000000"] {
            assert_eq!(prefixed_octal(bad), None, "{bad}");
        }
        assert!(modtime("19700101-00:00:00"));
        for bad in [
            "",
            "20261202-063700",
            "2026-12-02T06:37",
            "19700101-00:00:0x",
        ] {
            assert!(!modtime(bad), "{bad}");
        }
    }
}
