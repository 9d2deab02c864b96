//! [`IdMap`]: an event's user and group ids (or their names), one slot per kind of id.
//!
//! Every SYSCALL record carries nine ids and auditd's ENRICHED form their nine names, so
//! filling these two maps was a fifth of coalescing when they were general key → value
//! lists searched before each insert. The keys are a fixed set ([`ID_KEYS`]), so a slot
//! per key makes "is it there yet?" one check; the order in which ids were first seen is
//! kept beside the slots, because the JSON lists them in that order.

use crate::coalesce::event::Text;
use crate::coalesce::fields::{role, Role, ID_KEYS};
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

const KINDS: usize = ID_KEYS.len();

/// `auid`, `uid`, `euid`, … → a value, in first-seen order; the first value of a kind wins.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IdMap<'a> {
    slots: [Option<Text<'a>>; KINDS],
    /// Indexes into `slots` (and [`ID_KEYS`]) in the order they were filled.
    order: [u8; KINDS],
    len: u8,
}

impl<'a> IdMap<'a> {
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// Fills the slot of the id kind `kind` (an index into [`ID_KEYS`]) unless it is
    /// filled already; returns whether it was filled now.
    pub(crate) fn insert_at(&mut self, kind: usize, value: impl Into<Text<'a>>) -> bool {
        match self.slots.get_mut(kind) {
            Some(slot @ None) => {
                *slot = Some(value.into());
                self.order[usize::from(self.len)] = kind as u8;
                self.len += 1;
                true
            }
            _ => false,
        }
    }

    /// The value for `key` (`"uid"`, `"old-auid"`, …), still borrowed from the record
    /// when it was.
    pub fn value(&self, key: &str) -> Option<Text<'a>> {
        match role(key) {
            Role::Id(kind) => self.slots.get(kind)?.clone(),
            _ => None,
        }
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        match role(key) {
            Role::Id(kind) => self.slots.get(kind)?.as_deref(),
            _ => None,
        }
    }

    /// `(key, value)` in the order the ids were first seen.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> + '_ {
        self.order[..self.len()].iter().filter_map(|&kind| {
            let kind = usize::from(kind);
            Some((ID_KEYS.get(kind)?.0, self.slots.get(kind)?.as_deref()?))
        })
    }
}

impl Serialize for IdMap<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.len()))?;
        for (k, v) in self.iter() {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_value_wins_and_order_is_first_seen() {
        let mut ids = IdMap::default();
        let uid = ID_KEYS.iter().position(|k| k.0 == "uid").unwrap();
        let auid = ID_KEYS.iter().position(|k| k.0 == "auid").unwrap();
        assert!(ids.insert_at(uid, "1000"));
        assert!(ids.insert_at(auid, "unset"));
        assert!(!ids.insert_at(uid, "0"));
        assert!(!ids.insert_at(KINDS, "out of range"));
        assert_eq!(ids.get("uid"), Some("1000"));
        assert_eq!(ids.get("gid"), None);
        assert_eq!(ids.get("comm"), None);
        let all: Vec<_> = ids.iter().collect();
        assert_eq!(all, [("uid", "1000"), ("auid", "unset")]);
        assert_eq!(
            serde_json::to_string(&ids).unwrap(),
            r#"{"uid":"1000","auid":"unset"}"#
        );
    }
}
