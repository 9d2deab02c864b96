//! Frames: `len u32 LE | flags u8 | link [u8; 8] | payload (len bytes) | crc32c u32 LE`.
//!
//! `link` is the first bytes of the chain value before this frame, so a frame moved,
//! removed or copied from another log no longer fits where it stands even when its CRC is
//! intact. The CRC covers every byte before it. A compressed payload is `ulen u32 LE` plus
//! one LZ4 block that decompresses to exactly `ulen` bytes.

use std::io::Read;

use super::chain::ChainValue;
use super::{
    COMPRESS_MIN, FLAG_LZ4, FRAME_HEAD_LEN, FRAME_TAIL_LEN, KNOWN_FLAGS, LINK_LEN, MAX_PAYLOAD,
};

/// Builds one frame around `payload` into `out` (cleared first).
pub(crate) fn build(payload: &[u8], prev: &ChainValue, out: &mut Vec<u8>) {
    out.clear();
    out.extend_from_slice(&[0u8; 5]);
    out.extend_from_slice(&prev[..LINK_LEN]);
    let mut flags = 0u8;
    if payload.len() >= COMPRESS_MIN {
        let bound = lz4_flex::block::get_maximum_output_size(payload.len());
        out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        out.resize(FRAME_HEAD_LEN + 4 + bound, 0);
        match lz4_flex::block::compress_into(payload, &mut out[FRAME_HEAD_LEN + 4..]) {
            // Keep the compressed form only when it is actually smaller.
            Ok(n) if n + 4 < payload.len() => {
                out.truncate(FRAME_HEAD_LEN + 4 + n);
                flags = FLAG_LZ4;
            }
            _ => out.truncate(FRAME_HEAD_LEN),
        }
    }
    if flags == 0 {
        out.extend_from_slice(payload);
    }
    let stored = (out.len() - FRAME_HEAD_LEN) as u32;
    out[..4].copy_from_slice(&stored.to_le_bytes());
    out[4] = flags;
    let crc = crc32c::crc32c(out);
    out.extend_from_slice(&crc.to_le_bytes());
}

/// Builds a frame around an already stored payload with the given flags, as is (no
/// compression decision). For tests and fuzzing of the payload decoders.
pub(crate) fn build_stored(stored: &[u8], flags: u8, prev: &ChainValue, out: &mut Vec<u8>) {
    out.clear();
    out.extend_from_slice(&(stored.len() as u32).to_le_bytes());
    out.push(flags);
    out.extend_from_slice(&prev[..LINK_LEN]);
    out.extend_from_slice(stored);
    let crc = crc32c::crc32c(out);
    out.extend_from_slice(&crc.to_le_bytes());
}

/// Outcome of reading one frame.
pub(crate) enum Read1 {
    /// The input ended exactly at a frame boundary.
    End,
    /// A whole frame is in the caller's buffer.
    Frame,
    /// The input ended inside a frame after `have` of `need` bytes.
    Torn { have: u64, need: u64 },
    /// The frame is not acceptable.
    Bad(String),
}

/// Reads as much of `buf` as the input has; returns how many bytes were read.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// Reads one whole frame into `frame` and checks length, flags and CRC (not the link: the
/// caller knows the chain).
pub(crate) fn read(r: &mut impl Read, frame: &mut Vec<u8>) -> std::io::Result<Read1> {
    frame.clear();
    frame.resize(FRAME_HEAD_LEN, 0);
    let got = read_full(r, frame)?;
    if got == 0 {
        return Ok(Read1::End);
    }
    if got < FRAME_HEAD_LEN {
        return Ok(Read1::Torn {
            have: got as u64,
            need: FRAME_HEAD_LEN as u64,
        });
    }
    let stored = u32::from_le_bytes([frame[0], frame[1], frame[2], frame[3]]) as usize;
    let flags = frame[4];
    let need = FRAME_HEAD_LEN + stored + FRAME_TAIL_LEN;
    if stored > MAX_PAYLOAD {
        return Ok(Read1::Bad(format!(
            "frame length {stored} exceeds the {MAX_PAYLOAD}-byte limit"
        )));
    }
    // Read the rest in steps so that a lying length on a short input costs at most what the
    // input really has, not the claimed size.
    let mut have = FRAME_HEAD_LEN;
    while have < need {
        let step = (need - have).min(1 << 20);
        frame.resize(have + step, 0);
        let n = read_full(r, &mut frame[have..])?;
        have += n;
        if n < step {
            frame.truncate(have);
            return Ok(Read1::Torn {
                have: have as u64,
                need: need as u64,
            });
        }
    }
    let body = need - FRAME_TAIL_LEN;
    let crc = u32::from_le_bytes([
        frame[body],
        frame[body + 1],
        frame[body + 2],
        frame[body + 3],
    ]);
    if crc32c::crc32c(&frame[..body]) != crc {
        return Ok(Read1::Bad(
            "checksum mismatch: the frame was edited or damaged".into(),
        ));
    }
    if flags & !KNOWN_FLAGS != 0 {
        return Ok(Read1::Bad(format!("unknown frame flags {flags:#04x}")));
    }
    Ok(Read1::Frame)
}

/// The link bytes of a whole frame.
pub(crate) fn link(frame: &[u8]) -> &[u8] {
    &frame[5..FRAME_HEAD_LEN]
}

/// The payload of a whole, checked frame, decompressed into `scratch` when needed.
pub(crate) fn payload<'a>(frame: &'a [u8], scratch: &'a mut Vec<u8>) -> Result<&'a [u8], String> {
    let stored = &frame[FRAME_HEAD_LEN..frame.len() - FRAME_TAIL_LEN];
    if frame[4] & FLAG_LZ4 == 0 {
        return Ok(stored);
    }
    let (len, block) = match stored {
        [a, b, c, d, rest @ ..] => (u32::from_le_bytes([*a, *b, *c, *d]) as usize, rest),
        _ => return Err("compressed payload too short".into()),
    };
    if len > MAX_PAYLOAD {
        return Err(format!(
            "decompressed length {len} exceeds the {MAX_PAYLOAD}-byte limit"
        ));
    }
    // LZ4 cannot expand more than about 255 times (one length byte per 255 output bytes), so
    // a larger claim is a lie; refusing it keeps a tiny hostile frame from costing 16 MiB.
    if len > block.len().saturating_mul(255).saturating_add(64) {
        return Err(format!(
            "decompressed length {len} is impossible for {} compressed bytes",
            block.len()
        ));
    }
    scratch.clear();
    scratch.resize(len, 0);
    match lz4_flex::block::decompress_into(block, scratch) {
        Ok(n) if n == len => Ok(&scratch[..]),
        Ok(n) => Err(format!("decompressed to {n} bytes, frame says {len}")),
        Err(e) => Err(format!("bad compressed payload: {e}")),
    }
}
