//! The hash chain: c₋₁ = SHA-256(preamble); cᵢ = SHA-256(cᵢ₋₁ ‖ frameᵢ) for every frame in
//! file order (header frame first, end frame last). The digest of a log is its last chain
//! value, written `sha256:<64 hex>`.

use sha2::{Digest, Sha256};

pub(crate) type ChainValue = [u8; 32];

pub(crate) fn start(preamble: &[u8]) -> ChainValue {
    Sha256::digest(preamble).into()
}

pub(crate) fn next(prev: &ChainValue, frame: &[u8]) -> ChainValue {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(frame);
    h.finalize().into()
}

pub(crate) fn to_hex(v: &ChainValue) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(64);
    for b in v {
        s.push(HEX[usize::from(b >> 4)] as char);
        s.push(HEX[usize::from(b & 15)] as char);
    }
    s
}

pub(crate) fn from_hex(s: &str) -> Option<ChainValue> {
    let bytes = s.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut v = [0u8; 32];
    for (i, pair) in bytes.chunks_exact(2).enumerate() {
        let hi = (pair[0] as char).to_digit(16)?;
        let lo = (pair[1] as char).to_digit(16)?;
        v[i] = (hi * 16 + lo) as u8;
    }
    Some(v)
}

pub(crate) fn digest_string(v: &ChainValue) -> String {
    format!("sha256:{}", to_hex(v))
}
