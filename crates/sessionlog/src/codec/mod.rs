//! The binary format (specified in `FORMAT.md`; `tests/format_doc.rs` holds the two together).
//!
//! A log is a 12-byte preamble followed by frames: the header frame, record frames, and a
//! final end frame. Every frame is self-contained (length, flags, chain link, payload,
//! CRC32C) so that a reader can stop cleanly at the last whole frame of a file that is still
//! being written or was cut off by a crash.

pub(crate) mod chain;
pub(crate) mod frame;
pub mod kinds;
pub(crate) mod wire;

/// First bytes of every session log.
pub const MAGIC: [u8; 8] = *b"SSHTRLOG";
/// Format version written by this crate (preamble bytes 8–9, little endian).
pub const VERSION: u16 = 1;
/// Preamble: magic, version (u16 LE), reserved (u16 LE, zero).
pub const PREAMBLE_LEN: usize = 12;
/// Frame flag: the payload is an LZ4 block preceded by its decompressed length.
pub const FLAG_LZ4: u8 = 0x01;
/// Every flag this version understands; a frame with another bit set is rejected.
pub const KNOWN_FLAGS: u8 = FLAG_LZ4;
/// Bytes of the previous chain value carried in each frame.
pub const LINK_LEN: usize = 8;
/// Frame bytes before the payload: length (4), flags (1), link (8).
pub const FRAME_HEAD_LEN: usize = 4 + 1 + LINK_LEN;
/// Frame bytes after the payload: CRC32C (4).
pub const FRAME_TAIL_LEN: usize = 4;
/// Largest payload, stored or decompressed. A reader never allocates more for one frame.
pub const MAX_PAYLOAD: usize = 16 * 1024 * 1024;
/// Payloads at least this long are compressed (when that makes them smaller).
pub const COMPRESS_MIN: usize = 512;

/// Builds a log from raw stored payloads, each framed with the given flags and a correct
/// chain link and CRC, header frame first. Lets tests and fuzzers reach the payload
/// decoders (and the LZ4 decoder, with flag [`FLAG_LZ4`]) with arbitrary bytes; the result
/// is usually not a valid log.
#[doc(hidden)]
pub fn log_from_payloads<'a>(payloads: impl IntoIterator<Item = (u8, &'a [u8])>) -> Vec<u8> {
    let pre = preamble();
    let mut chain = chain::start(&pre);
    let mut out = pre.to_vec();
    let mut f = Vec::new();
    for (flags, stored) in payloads {
        frame::build_stored(stored, flags, &chain, &mut f);
        chain = chain::next(&chain, &f);
        out.extend_from_slice(&f);
    }
    out
}

/// The preamble this crate writes.
pub(crate) fn preamble() -> [u8; PREAMBLE_LEN] {
    let mut p = [0u8; PREAMBLE_LEN];
    p[..8].copy_from_slice(&MAGIC);
    p[8..10].copy_from_slice(&VERSION.to_le_bytes());
    p
}
