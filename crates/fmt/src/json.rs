//! A `&str` as a JSON string literal.
//!
//! Nearly every value sshtrail writes (pids, paths, user names, hex-decoded arguments)
//! needs no escape at all, and most are shorter than 16 bytes. So the work is split: a
//! check that looks at eight bytes at once in a register and covers a short string's
//! tail with overlapping loads instead of a byte loop, then one copy of the whole string;
//! only a string that holds an escape goes to the byte-by-byte writer.

/// Appends `s` as a JSON string, escaped exactly as `serde_json` escapes it: `\"`, `\\`,
/// `\b`, `\f`, `\n`, `\r`, `\t`, other control bytes as `\u00XX` (lower-case hex).
#[inline]
pub fn string(out: &mut Vec<u8>, s: &str) {
    write::<false>(out, s);
}

/// [`string`], and DEL (0x7f) as `\u007f` too: for output a terminal may show, where a
/// raw DEL could rub out what came before it.
#[inline]
pub fn string_escaping_del(out: &mut Vec<u8>, s: &str) {
    write::<true>(out, s);
}

#[inline(always)]
fn write<const DEL: bool>(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    if any_escape::<DEL>(bytes) {
        write_escaped::<DEL>(out, bytes);
    } else {
        out.reserve(bytes.len() + 2);
        out.push(b'"');
        out.extend_from_slice(bytes);
        out.push(b'"');
    }
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// Whether any of the eight bytes in `x` needs an escape: below 0x20, `"`, `\`, and DEL
/// when `DEL`. Bit tricks: "byte < n" borrows into its high bit, and a byte equal to `c`
/// is zero after XOR with `c` repeated.
#[inline(always)]
fn word_needs<const DEL: bool>(x: u64) -> bool {
    let zero = |v: u64| v.wrapping_sub(ONES) & !v;
    let below_space = x.wrapping_sub(ONES * 0x20) & !x;
    let mut hits =
        below_space | zero(x ^ (ONES * u64::from(b'"'))) | zero(x ^ (ONES * u64::from(b'\\')));
    if DEL {
        hits |= zero(x ^ (ONES * 0x7f));
    }
    hits & HIGH != 0
}

#[inline(always)]
fn load8(b: &[u8], at: usize) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(word)
}

#[inline(always)]
fn load4(b: &[u8], at: usize) -> u64 {
    let mut word = [0u8; 4];
    word.copy_from_slice(&b[at..at + 4]);
    u64::from(u32::from_le_bytes(word))
}

/// Whether any byte of `b` needs an escape. Bytes are looked at in words; a length that
/// is not a multiple of eight is covered by loads that overlap bytes already checked,
/// which is harmless for an "any" question.
#[inline(always)]
fn any_escape<const DEL: bool>(b: &[u8]) -> bool {
    let n = b.len();
    if n >= 8 {
        let mut at = 0;
        while at + 8 <= n {
            if word_needs::<DEL>(load8(b, at)) {
                return true;
            }
            at += 8;
        }
        at != n && word_needs::<DEL>(load8(b, n - 8))
    } else if n >= 4 {
        word_needs::<DEL>(load4(b, 0) | load4(b, n - 4) << 32)
    } else if n > 0 {
        // One to three bytes: the first, middle and last cover them all; the other five
        // bytes of the word are `a`, which needs no escape.
        let filler = (ONES * u64::from(b'a')) & !0xff_ffff;
        let word = u64::from(b[0]) | u64::from(b[n / 2]) << 8 | u64::from(b[n - 1]) << 16;
        word_needs::<DEL>(word | filler)
    } else {
        false
    }
}

/// The rare case: a string with something to escape, copied in runs between escapes.
#[cold]
#[inline(never)]
fn write_escaped<const DEL: bool>(out: &mut Vec<u8>, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.reserve(bytes.len() + 8);
    out.push(b'"');
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let short: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0..=0x1f => b"",
            0x7f if DEL => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if short.is_empty() {
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 0xf)]);
        } else {
            out.extend_from_slice(short);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ours(s: &str) -> Vec<u8> {
        let mut out = Vec::new();
        string(&mut out, s);
        out
    }

    #[test]
    fn like_serde_json_on_samples() {
        for s in [
            "",
            "a",
            "ab",
            "abc",
            "abcd",
            "plain",
            "sixteen clean by",
            "eight ok\"then quote",
            "a long clean prefix of many bytes\u{1}",
            "\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{80}",
            "quote\" backslash\\ slash/",
            "\u{1b}[31mred\u{1b}[0m\ttab\nnl\rcr\u{8}\u{c}\u{7}\u{0}",
            "grüße 日本語 🚀 \u{7f}",
        ] {
            assert_eq!(ours(s), serde_json::to_vec(s).unwrap(), "{s:?}");
        }
    }

    #[test]
    fn every_ascii_byte_at_every_offset_of_every_short_length() {
        for len in 1..=20 {
            for at in 0..len {
                for b in 0u8..=127 {
                    let mut text = vec![b'x'; len];
                    text[at] = b;
                    let s = String::from_utf8(text).unwrap();
                    assert_eq!(
                        ours(&s),
                        serde_json::to_vec(&s).unwrap(),
                        "{b} at {at}/{len}"
                    );
                    let mut del = Vec::new();
                    string_escaping_del(&mut del, &s);
                    let expect = String::from_utf8(serde_json::to_vec(&s).unwrap())
                        .unwrap()
                        .replace('\u{7f}', "\\u007f");
                    assert_eq!(del, expect.into_bytes(), "{b} at {at}/{len} (DEL)");
                }
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn like_serde_json_on_any_text(s in ".*") {
            proptest::prop_assert_eq!(ours(&s), serde_json::to_vec(&s).unwrap());
        }
    }
}
