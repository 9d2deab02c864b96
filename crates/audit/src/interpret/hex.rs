//! Hex decoding of the values the kernel writes as hex: escaped strings, PROCTITLE,
//! EXECVE arguments, socket addresses.

/// The value of one hex digit, or `None`. A 256-entry table would be faster still, but
/// this compiles to a few compares and keeps no data.
#[inline]
fn nibble(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decodes an even-length string of hex digits (either case). `None` on odd length or a
/// non-hex digit; the empty string decodes to no bytes.
pub fn decode_hex(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() / 2);
    decode_hex_into(s, &mut out).then_some(out)
}

/// Appends the bytes `s` encodes to `out`; `false` (and `out` unchanged) if `s` is not
/// even-length hex. Lets callers concatenate pieces without an allocation each.
pub fn decode_hex_into(s: &str, out: &mut Vec<u8>) -> bool {
    let bytes = s.as_bytes();
    if bytes.len() & 1 != 0 || !bytes.iter().all(|b| nibble(*b).is_some()) {
        return false;
    }
    out.reserve(bytes.len() / 2);
    for pair in bytes.chunks_exact(2) {
        if let (Some(hi), Some(lo)) = (nibble(pair[0]), nibble(pair[1])) {
            out.push(hi << 4 | lo);
        }
    }
    true
}

/// Whether `s` is non-empty, even-length hex: the form the kernel gives a string it had
/// to encode. (An empty bare value is not an encoding of anything.)
pub fn is_hex(s: &str) -> bool {
    !s.is_empty() && s.len() & 1 == 0 && s.bytes().all(|b| nibble(b).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_both_cases() {
        assert_eq!(decode_hex("2F746D70"), Some(b"/tmp".to_vec()));
        assert_eq!(decode_hex("2f746d70"), Some(b"/tmp".to_vec()));
        assert_eq!(decode_hex(""), Some(Vec::new()));
        assert_eq!(decode_hex("00ff"), Some(vec![0, 255]));
    }

    #[test]
    fn rejects_odd_length_and_garbage() {
        assert_eq!(decode_hex("2F7"), None);
        assert_eq!(decode_hex("2G"), None);
        assert_eq!(decode_hex("\"/tmp\""), None);
        assert_eq!(decode_hex("é1"), None);
        let mut out = vec![1];
        assert!(!decode_hex_into("zz", &mut out));
        assert_eq!(out, vec![1]);
        assert!(!is_hex(""));
        assert!(is_hex("00"));
    }
}
