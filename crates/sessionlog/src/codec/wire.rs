//! Primitive encodings inside a payload: LEB128 varints, length-prefixed strings and bytes,
//! booleans, options, lists and maps. Decoding never trusts a length: every length and count
//! is checked against the bytes that are actually left before anything is allocated.

use std::collections::BTreeMap;

pub(crate) fn put_varint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

pub(crate) fn put_bytes(buf: &mut Vec<u8>, b: &[u8]) {
    put_varint(buf, b.len() as u64);
    buf.extend_from_slice(b);
}

pub(crate) fn put_str(buf: &mut Vec<u8>, s: &str) {
    put_bytes(buf, s.as_bytes());
}

pub(crate) fn put_bool(buf: &mut Vec<u8>, b: bool) {
    buf.push(u8::from(b));
}

pub(crate) fn put_strs(buf: &mut Vec<u8>, list: &[String]) {
    put_varint(buf, list.len() as u64);
    for s in list {
        put_str(buf, s);
    }
}

pub(crate) fn put_map(buf: &mut Vec<u8>, map: &BTreeMap<String, String>) {
    put_varint(buf, map.len() as u64);
    for (k, v) in map {
        put_str(buf, k);
        put_str(buf, v);
    }
}

/// Why a payload could not be decoded (the caller adds where).
pub(crate) type WireError = &'static str;

/// A cursor over one payload.
pub(crate) struct Dec<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Dec<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Dec { bytes, pos: 0 }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    pub(crate) fn varint(&mut self) -> Result<u64, WireError> {
        let mut v: u64 = 0;
        for i in 0..10 {
            let b = *self
                .bytes
                .get(self.pos)
                .ok_or("payload ends inside a number")?;
            self.pos += 1;
            let bits = u64::from(b & 0x7f);
            if i == 9 && b > 1 {
                return Err("number does not fit in 64 bits");
            }
            v |= bits << (7 * i);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("number does not fit in 64 bits")
    }

    pub(crate) fn u32(&mut self) -> Result<u32, WireError> {
        u32::try_from(self.varint()?).map_err(|_| "number does not fit in 32 bits")
    }

    pub(crate) fn u16(&mut self) -> Result<u16, WireError> {
        u16::try_from(self.varint()?).map_err(|_| "number does not fit in 16 bits")
    }

    pub(crate) fn byte(&mut self) -> Result<u8, WireError> {
        let b = *self.bytes.get(self.pos).ok_or("payload ends early")?;
        self.pos += 1;
        Ok(b)
    }

    pub(crate) fn bool(&mut self) -> Result<bool, WireError> {
        match self.byte()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err("boolean is neither 0 nor 1"),
        }
    }

    pub(crate) fn raw(&mut self) -> Result<&'a [u8], WireError> {
        let len = self.varint()?;
        if len > self.remaining() as u64 {
            return Err("length runs past the end of the payload");
        }
        let start = self.pos;
        self.pos += len as usize;
        Ok(&self.bytes[start..self.pos])
    }

    pub(crate) fn bytes(&mut self) -> Result<Vec<u8>, WireError> {
        self.raw().map(<[u8]>::to_vec)
    }

    pub(crate) fn str(&mut self) -> Result<String, WireError> {
        let raw = self.raw()?;
        std::str::from_utf8(raw)
            .map(str::to_owned)
            .map_err(|_| "string is not UTF-8")
    }

    /// A count of items, each at least `min_item` bytes long: bounded by what is left.
    fn count(&mut self, min_item: usize) -> Result<usize, WireError> {
        let n = self.varint()?;
        if n.saturating_mul(min_item as u64) > self.remaining() as u64 {
            return Err("count runs past the end of the payload");
        }
        Ok(n as usize)
    }

    pub(crate) fn strs(&mut self) -> Result<Vec<String>, WireError> {
        let n = self.count(1)?;
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            v.push(self.str()?);
        }
        Ok(v)
    }

    pub(crate) fn map(&mut self) -> Result<BTreeMap<String, String>, WireError> {
        let n = self.count(2)?;
        let mut m = BTreeMap::new();
        for _ in 0..n {
            let k = self.str()?;
            let v = self.str()?;
            m.insert(k, v);
        }
        Ok(m)
    }

    pub(crate) fn opt<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, WireError>,
    ) -> Result<Option<T>, WireError> {
        if self.bool()? {
            f(self).map(Some)
        } else {
            Ok(None)
        }
    }
}
