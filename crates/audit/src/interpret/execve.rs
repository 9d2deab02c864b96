//! Command lines: the EXECVE records of an exec, and the PROCTITLE record.
//!
//! The kernel logs each argument of an exec as `aN="text"`, or as bare hex `aN=…` when it
//! holds a space, a quote, a control character or a byte ≥ 0x7f. An argument too long for
//! one record is split: `aN_len=L aN[0]=… aN[1]=…`, where `L` is the length of the whole
//! encoded value (hex digits for a hex argument) and the pieces may continue in the next
//! EXECVE record of the same event. `argc=` on the first record says how many to expect.
//! The kernel gives up and logs fewer arguments when its buffer allocation fails, so
//! the result says what was lost instead of guessing.

use super::hex::decode_hex_into;
use crate::record::{Field, Origin, Quote, Record};
use crate::record_type::RecordType;

/// The arguments of a PROCTITLE `proctitle` field: hex-decoded (a quoted value, which the
/// kernel writes when the title has no unsafe byte, is one argument as it stands), split
/// on NUL, each argument lossily converted to UTF-8. The kernel truncates the title to
/// 128 bytes, so the last argument may be cut short. Absent values give no arguments.
pub fn proctitle_args(field: &Field) -> Vec<String> {
    if field.is_absent() || field.value.is_empty() {
        return Vec::new();
    }
    let mut bytes = Vec::new();
    if field.quote != Quote::None || !decode_hex_into(field.value, &mut bytes) {
        return vec![field.value.to_string()];
    }
    // A trailing NUL ends the last argument; it does not start an empty one.
    let bytes = bytes.strip_suffix(&[0]).unwrap_or(&bytes);
    bytes
        .split(|b| *b == 0)
        .map(|arg| String::from_utf8_lossy(arg).into_owned())
        .collect()
}

/// Why the EXECVE records of an event did not yield every argument.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExecveError {
    /// Some arguments, or pieces of a split argument, were missing or undecodable.
    /// `args` still holds everything known: one entry per argument index (so indices keep
    /// their meaning), a missing argument as an empty string (up to 4096 of them; beyond
    /// that, gaps are only named), a split argument with a missing piece as the pieces
    /// that were there. `reason` names the indices.
    #[error("incomplete execve arguments: {reason}")]
    Incomplete { args: Vec<String>, reason: String },
}

/// What the records said about one argument.
#[derive(Default)]
struct Arg {
    /// `aN=…`: the decoded bytes.
    whole: Option<Vec<u8>>,
    /// `aN_len=`: the encoded length of the whole value.
    len: Option<usize>,
    /// `aN[i]=…` in the order seen: (i, encoded length, decoded bytes).
    pieces: Vec<(u32, usize, Vec<u8>)>,
    /// A value was neither quoted nor hex.
    garbled: bool,
}

enum ArgKey {
    Whole(u32),
    Len(u32),
    Piece(u32, u32),
}

fn parse_arg_key(key: &str) -> Option<ArgKey> {
    let rest = key.strip_prefix('a')?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || digits > 9 {
        return None;
    }
    let n: u32 = rest[..digits].parse().ok()?;
    match &rest[digits..] {
        "" => Some(ArgKey::Whole(n)),
        "_len" => Some(ArgKey::Len(n)),
        tail => {
            let i = tail.strip_prefix('[')?.strip_suffix(']')?;
            if i.is_empty() || i.len() > 9 || !i.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            Some(ArgKey::Piece(n, i.parse().ok()?))
        }
    }
}

/// Whether `key` names an EXECVE argument value (`a0`, `a12`, `a1[3]`), not `argc` or
/// `aN_len`.
pub(crate) fn is_arg_value(key: &str) -> bool {
    matches!(
        parse_arg_key(key),
        Some(ArgKey::Whole(_) | ArgKey::Piece(..))
    )
}

/// Decodes one value: quoted → the text; bare → hex. `None` if bare and not hex.
fn decode_value(field: &Field, out: &mut Vec<u8>) -> bool {
    if field.quote == Quote::None {
        decode_hex_into(field.value, out)
    } else {
        out.extend_from_slice(field.value.as_bytes());
        true
    }
}

/// The arguments (sorted by index) as the records gave them.
#[derive(Default)]
struct Args {
    by_index: Vec<(u32, Arg)>,
}

impl Args {
    fn entry(&mut self, n: u32) -> &mut Arg {
        // Arguments arrive in increasing order, so this is almost always the last one.
        let at = match self.by_index.last() {
            Some((last, _)) if *last == n => self.by_index.len() - 1,
            Some((last, _)) if *last < n => {
                self.by_index.push((n, Arg::default()));
                self.by_index.len() - 1
            }
            None => {
                self.by_index.push((n, Arg::default()));
                0
            }
            Some(_) => match self.by_index.binary_search_by_key(&n, |(i, _)| *i) {
                Ok(at) => at,
                Err(at) => {
                    self.by_index.insert(at, (n, Arg::default()));
                    at
                }
            },
        };
        &mut self.by_index[at].1
    }
}

/// The argument list of one exec from all its EXECVE records, in order (records of
/// other types are skipped, so all records of the event may be passed).
///
/// Handles `argc`, `aN="…"`, bare hex `aN=…` and the split form `aN_len=L aN[0]=…
/// aN[1]=…` continued across records. Missing arguments (fewer than `argc`), missing or
/// short pieces, and values that are neither quoted nor hex give
/// [`ExecveError::Incomplete`] with everything that was known.
pub fn execve_args<'a>(
    records: impl IntoIterator<Item = &'a Record>,
) -> Result<Vec<String>, ExecveError> {
    let mut argc: Option<u64> = None;
    let mut args = Args::default();
    let mut buf = Vec::new();
    for record in records {
        if record.record_type() != RecordType::EXECVE {
            continue;
        }
        for field in record.fields().filter(|f| f.origin == Origin::Raw) {
            if field.key == "argc" {
                argc = argc.or(field.value.parse().ok());
                continue;
            }
            let Some(key) = parse_arg_key(field.key) else {
                continue;
            };
            buf.clear();
            let ok = decode_value(&field, &mut buf);
            match key {
                ArgKey::Whole(n) => {
                    let arg = args.entry(n);
                    if ok {
                        arg.whole = Some(buf.clone());
                    } else {
                        arg.garbled = true;
                        arg.whole = Some(field.value.as_bytes().to_vec());
                    }
                }
                ArgKey::Len(n) => args.entry(n).len = field.value.parse().ok(),
                ArgKey::Piece(n, i) => {
                    let arg = args.entry(n);
                    if ok {
                        arg.pieces.push((i, field.value.len(), buf.clone()));
                    } else {
                        arg.garbled = true;
                    }
                }
            }
        }
    }
    assemble(argc, args)
}

fn assemble(argc: Option<u64>, args: Args) -> Result<Vec<String>, ExecveError> {
    let seen = args.by_index.last().map_or(0, |(n, _)| u64::from(*n) + 1);
    // Never trust argc for an allocation: a hostile record can claim any number.
    let count = argc.unwrap_or(seen).max(seen);
    // Capacity from what is present, never from a claimed index or argc.
    let mut out = Vec::with_capacity(args.by_index.len());
    let mut problems: Vec<String> = Vec::new();
    let mut placeholders = 0usize;
    let mut next = 0u64;
    for (n, mut arg) in args.by_index {
        let n = u64::from(n);
        missing(&mut out, &mut problems, &mut placeholders, (next, n), seen);
        next = n + 1;
        if arg.garbled {
            problems.push(format!("a{n} is neither quoted nor hex"));
        }
        if let Some(whole) = arg.whole.take() {
            out.push(String::from_utf8_lossy(&whole).into_owned());
            continue;
        }
        arg.pieces.sort_by_key(|(i, _, _)| *i);
        let mut bytes = Vec::new();
        let mut encoded = 0usize;
        let mut expect = 0u32;
        for (i, len, piece) in &arg.pieces {
            if *i != expect {
                problems.push(format!("a{n}[{expect}] missing"));
            }
            expect = i.saturating_add(1);
            encoded += len;
            bytes.extend_from_slice(piece);
        }
        match arg.len {
            Some(len) if len != encoded => {
                problems.push(format!("a{n} has {encoded} of {len} encoded bytes"))
            }
            None if arg.pieces.is_empty() => problems.push(format!("a{n} has no value")),
            None => problems.push(format!("a{n} has pieces but no a{n}_len")),
            Some(_) => {}
        }
        out.push(String::from_utf8_lossy(&bytes).into_owned());
    }
    missing(
        &mut out,
        &mut problems,
        &mut placeholders,
        (next, count),
        seen,
    );
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(ExecveError::Incomplete {
            args: out,
            reason: problems.join(", "),
        })
    }
}

/// At most this many empty placeholders stand for missing arguments: a hostile
/// `a999999999=x` must not allocate a billion strings. (The kernel only leaves gaps when
/// records are lost, and then a few hundred arguments per record at most.)
const MAX_PLACEHOLDERS: usize = 4096;

/// Records arguments `from..to` as missing. Placeholders keep indices meaningful, but
/// only for gaps between arguments that were seen (a claimed argc beyond them adds none)
/// and only up to [`MAX_PLACEHOLDERS`] in all; `reason` always names the gap.
fn missing(
    out: &mut Vec<String>,
    problems: &mut Vec<String>,
    placeholders: &mut usize,
    (from, to): (u64, u64),
    seen: u64,
) {
    if from >= to {
        return;
    }
    problems.push(if to - from == 1 {
        format!("a{from} missing")
    } else {
        format!("a{from}..a{} missing", to - 1)
    });
    let gap = usize::try_from(to - from).unwrap_or(usize::MAX);
    if to <= seen && gap <= MAX_PLACEHOLDERS - *placeholders {
        *placeholders += gap;
        out.extend((from..to).map(|_| String::new()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse_line;

    fn records(lines: &[&str]) -> Vec<Record> {
        lines
            .iter()
            .map(|l| parse_line(l.as_bytes()).unwrap())
            .collect()
    }

    #[test]
    fn quoted_and_hex_arguments() {
        // From this machine: /bin/true with a space, a quote, a tab, non-ASCII and an
        // escape sequence in its arguments.
        let r = records(&["type=EXECVE msg=audit(1795431785.138:191): argc=6 a0=\"/bin/true\" a1=6172672077697468207370616365 a2=71756F74652264 a3=7461620978 a4=C3BC6EC3AF63C3B864C3A9 a5=1B5B33316D7265641B5B306D"]);
        assert_eq!(
            execve_args(&r).unwrap(),
            [
                "/bin/true",
                "arg with space",
                "quote\"d",
                "tab\tx",
                "ünïcødé",
                "\x1b[31mred\x1b[0m"
            ]
        );
    }

    #[test]
    fn split_argument_across_records() {
        // Shape of this machine's record for `/bin/echo <9000 × A>` (a1_len=18000 in three
        // pieces over three records), shortened: a1_len is the encoded length.
        let r = records(&[
            "type=EXECVE msg=audit(1795431785.142:194): argc=2 a0=\"/bin/echo\" a1_len=20 a1[0]=41414141",
            "type=EXECVE msg=audit(1795431785.142:194):  a1[1]=41414141",
            "type=EXECVE msg=audit(1795431785.142:194):  a1[2]=4142",
        ]);
        assert_eq!(execve_args(&r).unwrap(), ["/bin/echo", "AAAAAAAAAB"]);
    }

    #[test]
    fn missing_piece_keeps_the_rest() {
        let r = records(&[
            "type=EXECVE msg=audit(1795431785.142:194): argc=3 a0=\"/bin/echo\" a1_len=20 a1[0]=41414141",
            "type=EXECVE msg=audit(1795431785.142:194):  a1[2]=4141 a2=\"z\"",
        ]);
        let Err(ExecveError::Incomplete { args, reason }) = execve_args(&r) else {
            panic!("expected an error");
        };
        assert_eq!(args, ["/bin/echo", "AAAAAA", "z"]);
        assert!(reason.contains("a1[1] missing"), "{reason}");
        assert!(reason.contains("a1 has 12 of 20"), "{reason}");
    }

    #[test]
    fn missing_arguments_and_argc() {
        let r = records(&["type=EXECVE msg=audit(1.0:1): argc=4 a0=\"ls\" a2=\"-l\""]);
        let Err(ExecveError::Incomplete { args, reason }) = execve_args(&r) else {
            panic!("expected an error");
        };
        assert_eq!(args, ["ls", "", "-l"]);
        assert_eq!(reason, "a1 missing, a3 missing");
        // Found by cargo fuzz: a huge index must not size an allocation.
        let r = records(&["type=EXECVE msg=audit(1.0:1): a199999999=\"x\""]);
        let Err(ExecveError::Incomplete { args, reason }) = execve_args(&r) else {
            panic!("expected an error");
        };
        assert_eq!(args, ["x"]);
        assert_eq!(reason, "a0..a199999998 missing");
        // A hostile argc allocates nothing.
        let r = records(&["type=EXECVE msg=audit(1.0:1): argc=99999999999 a0=\"ls\""]);
        let Err(ExecveError::Incomplete { args, .. }) = execve_args(&r) else {
            panic!("expected an error");
        };
        assert_eq!(args, ["ls"]);
    }

    #[test]
    fn other_records_are_skipped_and_garbage_reported() {
        let r = records(&[
            "type=SYSCALL msg=audit(1.0:1): arch=c000003e syscall=59 a0=5624 a1=7ffd",
            "type=EXECVE msg=audit(1.0:1): argc=2 a0=\"x\" a1=notHex",
        ]);
        let Err(ExecveError::Incomplete { args, reason }) = execve_args(&r) else {
            panic!("expected an error");
        };
        assert_eq!(args, ["x", "notHex"]);
        assert!(reason.contains("a1 is neither quoted nor hex"));
        assert_eq!(execve_args(&[] as &[Record]).unwrap(), Vec::<String>::new());
    }

    #[test]
    fn proctitle() {
        // From this machine: `auditctl -w /tmp/hb/watched -p wa -k helperb -k helperb-w2`.
        let r = records(&["type=PROCTITLE msg=audit(1795431785.126:187): proctitle=617564697463746C002D77002F746D702F68622F77617463686564002D70007761002D6B0068656C70657262002D6B0068656C706572622D7732"]);
        let field = r[0].get("proctitle").unwrap();
        assert_eq!(
            proctitle_args(&field),
            [
                "auditctl",
                "-w",
                "/tmp/hb/watched",
                "-p",
                "wa",
                "-k",
                "helperb",
                "-k",
                "helperb-w2"
            ]
        );
        let r = records(&["type=PROCTITLE msg=audit(1.0:1): proctitle=\"/usr/sbin/sshd\""]);
        assert_eq!(
            proctitle_args(&r[0].get("proctitle").unwrap()),
            ["/usr/sbin/sshd"]
        );
        let r = records(&["type=PROCTITLE msg=audit(1.0:1): proctitle=(null)"]);
        assert!(proctitle_args(&r[0].get("proctitle").unwrap()).is_empty());
        let r = records(&["type=PROCTITLE msg=audit(1.0:1): proctitle=6C73000000"]);
        assert_eq!(
            proctitle_args(&r[0].get("proctitle").unwrap()),
            ["ls", "", ""]
        );
    }
}
