//! A read-only perfect-hash map from strings, built by `scripts/gen-tables`.
//!
//! Hash and displace: the key is hashed once (FNV-1a, fast on the short names audit
//! uses); the hash picks a bucket, and the bucket's seed, mixed into the same hash,
//! picks a slot that no other key of the table uses. A lookup is one pass over the key,
//! two integer mixes and one string compare: no allocation, no start-up cost. The
//! generator searched the seeds; the arithmetic here must stay identical to the script's.

pub(crate) struct Map<V: 'static> {
    pub seeds: &'static [u32],
    pub slots: &'static [Option<(&'static str, V)>],
}

#[inline]
fn fnv(key: &[u8]) -> u32 {
    let mut h = 0x811c_9dc5_u32;
    for &b in key {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// MurmurHash3's 32-bit finalizer: spreads the seed's influence over every bit.
#[inline]
fn fmix(mut h: u32) -> u32 {
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}

impl<V> Map<V> {
    #[inline]
    pub fn get(&self, key: &str) -> Option<&V> {
        if self.seeds.is_empty() || self.slots.is_empty() {
            return None;
        }
        // Both lengths are powers of two (the generator makes them so): masks, not
        // divisions. `get` keeps a bad table from panicking all the same.
        let h = fnv(key.as_bytes());
        let seed = self.seeds.get(h as usize & (self.seeds.len() - 1))?;
        let slot = fmix(h ^ seed.wrapping_mul(0x9e37_79b9)) as usize & (self.slots.len() - 1);
        match self.slots.get(slot)? {
            Some((name, value)) if *name == key => Some(value),
            _ => None,
        }
    }

    /// Whether both table sizes are powers of two, as `get` assumes.
    #[cfg(test)]
    pub fn is_well_formed(&self) -> bool {
        self.seeds.len().is_power_of_two() && self.slots.len().is_power_of_two()
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
