//! Unsigned integers in decimal, digit by digit (no formatting machinery per value).

/// Appends `n` in decimal.
#[inline]
pub fn unsigned(out: &mut Vec<u8>, n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut n = n;
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// Appends the lowest `width` decimal digits of `n`, zero-padded (`width` ≤ 20).
#[inline]
pub fn fixed(out: &mut Vec<u8>, n: u64, width: usize) {
    let mut buf = [b'0'; 20];
    let width = width.min(buf.len());
    let mut n = n;
    for slot in buf[..width].iter_mut().rev() {
        *slot = b'0' + (n % 10) as u8;
        n /= 10;
    }
    out.extend_from_slice(&buf[..width]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_display() {
        for n in [0u64, 7, 10, 99, 100, 1_000_000, u64::MAX] {
            let mut out = Vec::new();
            unsigned(&mut out, n);
            assert_eq!(out, n.to_string().into_bytes());
        }
    }

    #[test]
    fn fixed_width_pads_and_cuts() {
        let mut out = Vec::new();
        fixed(&mut out, 7, 3);
        fixed(&mut out, 2026, 4);
        fixed(&mut out, 12345, 2);
        assert_eq!(out, b"007202645");
    }
}
