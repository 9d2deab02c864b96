//! A read-only perfect-hash map from strings, built by `scripts/gen-tables`.
//!
//! Two levels (hash-and-displace): the first hash picks a bucket, the bucket's seed makes
//! a second hash that puts every key of the table in a slot of its own. A lookup is two
//! FNV-1a passes over the (short) key and one string compare, with no allocation and no
//! start-up cost; the generator searched the seeds. The hash here must stay identical to
//! `fnv` in the script.

pub(crate) struct Map<V: 'static> {
    pub seeds: &'static [u32],
    pub slots: &'static [Option<(&'static str, V)>],
}

#[inline]
fn hash(key: &[u8], seed: u32) -> u32 {
    let mut h = 0x811c_9dc5_u32 ^ seed.wrapping_mul(0x9e37_79b9);
    for &b in key {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

impl<V> Map<V> {
    #[inline]
    pub fn get(&self, key: &str) -> Option<&V> {
        if self.seeds.is_empty() || self.slots.is_empty() {
            return None;
        }
        let bytes = key.as_bytes();
        let bucket = hash(bytes, 0) as usize % self.seeds.len();
        let slot = hash(bytes, self.seeds[bucket]) as usize % self.slots.len();
        match &self.slots[slot] {
            Some((name, value)) if *name == key => Some(value),
            _ => None,
        }
    }

    /// Every entry, in slot order.
    #[cfg(test)]
    pub fn entries(&self) -> impl Iterator<Item = (&'static str, &V)> + '_ {
        self.slots
            .iter()
            .flatten()
            .map(|(name, value)| (*name, value))
    }
}
