//! `struct audit_rule_data`: the bytes the kernel takes in AUDIT_ADD_RULE/AUDIT_DEL_RULE
//! and returns in AUDIT_LIST_RULES.
//!
//! Layout (native endian, the kernel's own): `flags`, `action`, `field_count`, then
//! 64 words of syscall bitmask, 64 field numbers, 64 values, 64 operator words, the
//! buffer length, and the buffer holding every string value back to back (a string
//! field's value slot holds its length).

use super::consts::{BITMASK_WORDS, MAX_FIELDS, OPERATORS};
use super::RuleError;

/// Size of the fixed part in bytes.
pub const HEADER_LEN: usize = 4 * (3 + BITMASK_WORDS + 3 * MAX_FIELDS + 1);

/// One `-F`/`-C`/`-k`/`-w` condition as the kernel stores it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct FieldEntry {
    /// `AUDIT_*` field number.
    pub field: u32,
    /// Operator (`OP_*`).
    pub op: u32,
    /// The value, or for a string field the string's length in [`RuleData::buf`].
    pub value: u32,
}

/// A rule in kernel form.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct RuleData {
    /// List (`FILTER_*`), plus `FILTER_PREPEND` for `-A`.
    pub flags: u32,
    /// `ACTION_*`.
    pub action: u32,
    /// Syscall bitmask: bit `n % 32` of word `n / 32` is syscall `n`.
    pub mask: [u32; BITMASK_WORDS],
    /// Conditions in order.
    pub fields: Vec<FieldEntry>,
    /// String values back to back, in field order.
    pub buf: Vec<u8>,
}

impl RuleData {
    /// An empty rule for a list and action.
    pub fn new(flags: u32, action: u32) -> RuleData {
        RuleData {
            flags,
            action,
            mask: [0; BITMASK_WORDS],
            fields: Vec::new(),
            buf: Vec::new(),
        }
    }

    /// Kernel bytes of the rule.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN + self.buf.len());
        let mut put = |v: u32| out.extend_from_slice(&v.to_ne_bytes());
        put(self.flags);
        put(self.action);
        put(self.fields.len() as u32);
        self.mask.iter().for_each(|w| put(*w));
        for i in 0..MAX_FIELDS {
            put(self.fields.get(i).map_or(0, |f| f.field));
        }
        for i in 0..MAX_FIELDS {
            put(self.fields.get(i).map_or(0, |f| f.value));
        }
        for i in 0..MAX_FIELDS {
            put(self.fields.get(i).map_or(0, |f| f.op));
        }
        put(self.buf.len() as u32);
        out.extend_from_slice(&self.buf);
        out
    }

    /// Reads kernel bytes. Checks every count and length against the bytes present, so a
    /// short or lying message is an error, never a panic.
    pub fn decode(bytes: &[u8]) -> Result<RuleData, RuleError> {
        if bytes.len() < HEADER_LEN {
            return Err(RuleError::Wire(format!(
                "rule data of {} bytes is shorter than the {HEADER_LEN}-byte header",
                bytes.len()
            )));
        }
        let word = |i: usize| -> u32 {
            let mut w = [0u8; 4];
            w.copy_from_slice(&bytes[i * 4..i * 4 + 4]);
            u32::from_ne_bytes(w)
        };
        let count = word(2) as usize;
        if count > MAX_FIELDS {
            return Err(RuleError::Wire(format!(
                "field count {count} exceeds {MAX_FIELDS}"
            )));
        }
        let mut mask = [0u32; BITMASK_WORDS];
        for (i, m) in mask.iter_mut().enumerate() {
            *m = word(3 + i);
        }
        let fields_at = 3 + BITMASK_WORDS;
        let values_at = fields_at + MAX_FIELDS;
        let ops_at = values_at + MAX_FIELDS;
        let buflen = word(ops_at + MAX_FIELDS) as usize;
        let buf = bytes
            .get(HEADER_LEN..HEADER_LEN.saturating_add(buflen))
            .ok_or_else(|| {
                RuleError::Wire(format!(
                    "buffer length {buflen} runs past the {} bytes received",
                    bytes.len()
                ))
            })?
            .to_vec();
        let fields = (0..count)
            .map(|i| FieldEntry {
                // Old kernels kept the operator in the field word: mask it off.
                field: word(fields_at + i) & !OPERATORS,
                op: word(ops_at + i) & OPERATORS,
                value: word(values_at + i),
            })
            .collect();
        let rule = RuleData {
            flags: word(0),
            action: word(1),
            mask,
            fields,
            buf,
        };
        rule.check_strings()?;
        Ok(rule)
    }

    /// The string values in field order, checked to fit the buffer.
    fn check_strings(&self) -> Result<(), RuleError> {
        let need: usize = self
            .fields
            .iter()
            .filter(|f| super::consts::is_string_field(f.field))
            .map(|f| f.value as usize)
            .sum();
        if need > self.buf.len() {
            return Err(RuleError::Wire(format!(
                "string fields need {need} bytes, buffer holds {}",
                self.buf.len()
            )));
        }
        Ok(())
    }

    /// Each field with its string value (for string fields), in order.
    pub fn fields_with_strings(&self) -> Vec<(FieldEntry, Option<&[u8]>)> {
        let mut offset = 0usize;
        self.fields
            .iter()
            .map(|f| {
                if super::consts::is_string_field(f.field) {
                    let end = offset.saturating_add(f.value as usize).min(self.buf.len());
                    let s = self.buf.get(offset.min(end)..end);
                    offset = end;
                    (*f, s)
                } else {
                    (*f, None)
                }
            })
            .collect()
    }

    /// Sets syscall `nr`'s bit; false if it is beyond the bitmask.
    pub fn set_syscall(&mut self, nr: u64) -> bool {
        let word = (nr / 32) as usize;
        match self.mask.get_mut(word) {
            Some(w) => {
                *w |= 1 << (nr % 32);
                true
            }
            None => false,
        }
    }
}
