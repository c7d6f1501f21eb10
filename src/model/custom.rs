//! [`Custom`]: a group's AppDefinedData, a small map from key to value kept compact.
//!
//! Every group on both sides of a plan carries one, so its size decides much of timctl's
//! memory at 100,000 groups. A `BTreeMap<String, String>` costs a 500-byte node plus two heap
//! strings per entry even for one key; this is one sorted vector of small strings, which hold
//! up to 24 bytes in place (every valid key, and most values), so a typical map is a single
//! allocation. Sorted by key, so equality, iteration and serialization match a `BTreeMap`'s.

use std::fmt;

use compact_str::CompactString;
use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// AppDefinedData: keys to values, sorted by key, each key once. Values may hold any
/// character, `\0` included.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Custom {
    entries: Vec<(CompactString, CompactString)>,
}

impl Custom {
    pub fn new() -> Custom {
        Custom::default()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn position(&self, key: &str) -> Result<usize, usize> {
        self.entries.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        let index = self.position(key).ok()?;
        Some(&self.entries[index].1)
    }

    /// Sets `key` to `value`; returns the value it replaces.
    pub fn insert(
        &mut self,
        key: impl Into<CompactString>,
        value: impl Into<CompactString>,
    ) -> Option<CompactString> {
        let (key, value) = (key.into(), value.into());
        match self.position(&key) {
            Ok(index) => Some(std::mem::replace(&mut self.entries[index].1, value)),
            Err(index) => {
                self.entries.insert(index, (key, value));
                None
            }
        }
    }

    pub fn remove(&mut self, key: &str) -> Option<CompactString> {
        let index = self.position(key).ok()?;
        Some(self.entries.remove(index).1)
    }

    /// Keeps the entries for which `keep(key, value)` is true.
    pub fn retain(&mut self, mut keep: impl FnMut(&str, &str) -> bool) {
        self.entries.retain(|(k, v)| keep(k, v));
    }

    /// Entries in key order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + Clone {
        self.into_iter()
    }

    pub fn keys(&self) -> impl ExactSizeIterator<Item = &str> + Clone {
        self.entries.iter().map(|(k, _)| k.as_str())
    }
}

/// Like `BTreeMap`'s: entries sorted by key; of a key given twice, the last value stays.
impl<K: Into<CompactString>, V: Into<CompactString>> FromIterator<(K, V)> for Custom {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Custom {
        let mut entries: Vec<(CompactString, CompactString)> = iter
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        // Stable: equal keys keep their order, so the last one given is last. Of a run of
        // equal keys the first entry stays, taking each later value in turn.
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        entries.dedup_by(|later, kept| {
            let same = later.0 == kept.0;
            if same {
                std::mem::swap(&mut later.1, &mut kept.1);
            }
            same
        });
        Custom { entries }
    }
}

impl<K: Into<CompactString>, V: Into<CompactString>, const N: usize> From<[(K, V); N]> for Custom {
    fn from(pairs: [(K, V); N]) -> Custom {
        pairs.into_iter().collect()
    }
}

impl<'a> IntoIterator for &'a Custom {
    type Item = (&'a str, &'a str);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (CompactString, CompactString)>,
        fn(&'a (CompactString, CompactString)) -> (&'a str, &'a str),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

/// `custom["key"]`; panics when the key is absent, like a map's index.
impl std::ops::Index<&str> for Custom {
    type Output = str;

    fn index(&self, key: &str) -> &str {
        match self.get(key) {
            Some(value) => value,
            None => panic!("no custom key {key:?}"),
        }
    }
}

impl fmt::Debug for Custom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl Serialize for Custom {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.len()))?;
        for (key, value) in self {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Custom {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Custom, D::Error> {
        struct CustomVisitor;

        impl<'de> Visitor<'de> for CustomVisitor {
            type Value = Custom;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of custom keys to string values")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Custom, A::Error> {
                let mut entries = Vec::with_capacity(access.size_hint().unwrap_or(0).min(64));
                while let Some(entry) = access.next_entry::<CompactString, CompactString>()? {
                    entries.push(entry);
                }
                Ok(entries.into_iter().collect())
            }
        }

        deserializer.deserialize_map(CustomVisitor)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;

    #[test]
    fn behaves_like_a_sorted_map() {
        let mut custom = Custom::from([("b", "2"), ("a", "1")]);
        assert_eq!(custom.keys().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(custom.insert("a", "one").as_deref(), Some("1"));
        assert_eq!(custom.insert("c", "3"), None);
        assert_eq!(&custom["a"], "one");
        assert_eq!(custom.remove("b").as_deref(), Some("2"));
        assert_eq!(custom.get("b"), None);
        custom.retain(|key, _| key != "c");
        assert_eq!(format!("{custom:?}"), r#"{"a": "one"}"#);
    }

    #[test]
    fn json_round_trip_keeps_any_character() {
        let custom = Custom::from([("k", "a\0b\n\u{1F600}"), ("long_key_16bytes", "x")]);
        let json = serde_json::to_string(&custom).unwrap();
        assert_eq!(json, r#"{"k":"a\u0000b\n😀","long_key_16bytes":"x"}"#);
        assert_eq!(serde_json::from_str::<Custom>(&json).unwrap(), custom);
        let error = serde_json::from_str::<Custom>("[1]").unwrap_err();
        assert!(
            error.to_string().contains("a map of custom keys"),
            "{error}"
        );
    }

    proptest! {
        /// Any sequence of inserts, removals and a rebuild from pairs gives what a BTreeMap
        /// gives, in the same order.
        #[test]
        fn matches_btreemap(
            pairs in prop::collection::vec(("[a-c]{0,2}", ".{0,30}"), 0..12),
            removals in prop::collection::vec("[a-c]{0,2}", 0..4),
        ) {
            let mut custom: Custom = pairs.iter().cloned().collect();
            let mut model: BTreeMap<String, String> = pairs.iter().cloned().collect();
            let mut inserted = Custom::new();
            for (k, v) in &pairs {
                inserted.insert(k.as_str(), v.as_str());
            }
            prop_assert_eq!(&inserted, &custom);
            for key in &removals {
                prop_assert_eq!(custom.remove(key).map(String::from), model.remove(key));
            }
            let ours: Vec<(&str, &str)> = custom.iter().collect();
            let theirs: Vec<(&str, &str)> =
                model.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            prop_assert_eq!(ours, theirs);
            prop_assert_eq!(
                serde_json::to_string(&custom).unwrap(),
                serde_json::to_string(&model).unwrap()
            );
        }
    }
}
