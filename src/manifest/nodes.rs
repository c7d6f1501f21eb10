//! Building a document's YAML values from the parser, on a budget, with every integer kept.
//!
//! This replaces `Value`'s own `Deserialize` for two reasons:
//!
//! - Aliases: `yaml_serde` expands every `*alias` into a copy of its anchored node, and its
//!   own limit counts alias uses (a hundred per event), not the nodes they copy, so a 14 KB
//!   file of 2,000 aliases to a list of 2,000 items built 4 million values (420 MB, 1.3 s) and
//!   a few hundred KB would exhaust memory. Here every value built, copies included, spends
//!   from one budget per file ([`budget_for`] its size); past it, reading stops.
//! - Integers beyond 64 bits (`99999999999999999999`): `Value` has no room for them, and its
//!   deserializer made them an error that ended the whole file. Here they become a marked
//!   value ([`big_integer`]) that the field reading reports as out of range, like any other
//!   wrong value.
//!
//! Tags and duplicate keys are handled as `Value`'s deserializer does (a tagged value is a
//! [`Value::Tagged`]; a repeated key is an error with the same message).

use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess};
use serde::de::{VariantAccess, Visitor};
use serde_yaml::value::{Tag, TaggedValue};
use serde_yaml::{Mapping, Value};

/// The most YAML values any file may build, copies made by aliases included: 8 million.
///
/// The benchmark's 100,000 groups written as one file build 1.7 million, so a file of them at
/// the size limit (64 MiB) would build 5.8 million; 8 million is some 470,000 such groups. It
/// bounds what aliases can make of any file to about 1 GB of memory and a second of work.
pub(crate) const MAX_NODES: usize = 8_000_000;

/// Values a file may build per byte of its size. A manifest builds far fewer (the benchmark's
/// 0.09; a file of groups that each merge a shared base of every field, `<<: *base`, under
/// 2.5), so only aliases come near it, and a small file cannot build much.
pub(crate) const NODES_PER_BYTE: usize = 4;

/// The budget of a file of `bytes`: [`NODES_PER_BYTE`] a byte, with room for small files,
/// and at most [`MAX_NODES`].
pub(crate) fn budget_for(bytes: usize) -> usize {
    bytes
        .saturating_mul(NODES_PER_BYTE)
        .saturating_add(100_000)
        .min(MAX_NODES)
}

/// What is left of a file's budget; shared by its documents.
#[derive(Debug)]
pub(crate) struct Budget {
    left: Cell<usize>,
    spent_out: Cell<bool>,
}

impl Budget {
    pub fn new(nodes: usize) -> Budget {
        Budget {
            left: Cell::new(nodes),
            spent_out: Cell::new(false),
        }
    }

    /// Whether reading stopped because the budget ran out (the parser's error then says only
    /// that, without the why).
    pub fn spent_out(&self) -> bool {
        self.spent_out.get()
    }

    fn spend<E: de::Error>(&self) -> Result<(), E> {
        match self.left.get().checked_sub(1) {
            Some(left) => {
                self.left.set(left);
                Ok(())
            }
            None => {
                self.spent_out.set(true);
                Err(E::custom("too many values"))
            }
        }
    }
}

/// Reads one value (a document) from `deserializer`, spending from `budget`.
pub(crate) fn read<'de, D: Deserializer<'de>>(
    deserializer: D,
    budget: &Budget,
) -> Result<Value, D::Error> {
    Node(budget).deserialize(deserializer)
}

/// The tag of an integer too large for `Value`: no YAML text can spell it (libyaml's tags are
/// C strings, which cannot hold a NUL), so it never comes from a file.
const BIG_INTEGER: &str = "\0timctl:big-integer";

/// The digits of an integer beyond 64 bits, as [`read`] marks it.
pub(crate) fn big_integer(value: &Value) -> Option<&str> {
    match value {
        Value::Tagged(tagged) if tagged.tag == Tag::new(BIG_INTEGER) => tagged.value.as_str(),
        _ => None,
    }
}

fn marked_integer(digits: String) -> Value {
    Value::Tagged(Box::new(TaggedValue {
        tag: Tag::new(BIG_INTEGER),
        value: Value::String(digits),
    }))
}

#[derive(Clone, Copy)]
struct Node<'b>(&'b Budget);

impl<'de> DeserializeSeed<'de> for Node<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Node<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Value, E> {
        self.0.spend()?;
        Ok(Value::Bool(b))
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Value, E> {
        self.0.spend()?;
        Ok(Value::Number(n.into()))
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Value, E> {
        self.0.spend()?;
        Ok(Value::Number(n.into()))
    }

    fn visit_i128<E: de::Error>(self, n: i128) -> Result<Value, E> {
        self.0.spend()?;
        Ok(marked_integer(n.to_string()))
    }

    fn visit_u128<E: de::Error>(self, n: u128) -> Result<Value, E> {
        self.0.spend()?;
        Ok(marked_integer(n.to_string()))
    }

    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Value, E> {
        self.0.spend()?;
        Ok(Value::Number(n.into()))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Value, E> {
        self.0.spend()?;
        Ok(Value::String(s.to_owned()))
    }

    fn visit_string<E: de::Error>(self, s: String) -> Result<Value, E> {
        self.0.spend()?;
        Ok(Value::String(s))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        self.0.spend()?;
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        self.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        self.deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        self.0.spend()?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self)? {
            items.push(item);
        }
        Ok(Value::Sequence(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        self.0.spend()?;
        let mut mapping = Mapping::new();
        while let Some(key) = map.next_key_seed(self)? {
            if mapping.contains_key(&key) {
                return Err(de::Error::custom(DuplicateKey(&key)));
            }
            let value = map.next_value_seed(self)?;
            mapping.insert(key, value);
        }
        Ok(Value::Mapping(mapping))
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Value, A::Error> {
        // How `yaml_serde` hands over a tagged node: the tag, then the node.
        let (tag, contents) = data.variant_seed(TagName)?;
        let value = contents.newtype_variant_seed(self)?;
        Ok(Value::Tagged(Box::new(TaggedValue { tag, value })))
    }
}

/// A tag's name, read as `yaml_serde` reads it.
struct TagName;

impl<'de> DeserializeSeed<'de> for TagName {
    type Value = Tag;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Tag, D::Error> {
        deserializer.deserialize_string(self)
    }
}

impl Visitor<'_> for TagName {
    type Value = Tag;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a YAML tag")
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Tag, E> {
        if s.is_empty() {
            return Err(E::custom("empty YAML tag is not allowed"));
        }
        Ok(Tag::new(s))
    }
}

/// `yaml_serde`'s message for a repeated key.
struct DuplicateKey<'a>(&'a Value);

impl fmt::Display for DuplicateKey<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("duplicate entry ")?;
        match self.0 {
            Value::Null => f.write_str("with null key"),
            Value::Bool(b) => write!(f, "with key `{b}`"),
            Value::Number(n) => write!(f, "with key {n}"),
            Value::String(s) => write!(f, "with key {s:?}"),
            Value::Sequence(_) | Value::Mapping(_) | Value::Tagged(_) => f.write_str("in YAML map"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(text: &str, nodes: usize) -> (Result<Vec<Value>, String>, bool) {
        let budget = Budget::new(nodes);
        let values = serde_yaml::Deserializer::from_str(text)
            .map(|document| read(document, &budget))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string());
        (values, budget.spent_out())
    }

    #[test]
    fn values_are_those_of_the_yaml_value_type() {
        let text = "a: [1, -2, 2.5, x, ~, true, !t {k: v}, *r]\nb: &r \"s\"\n---\n- 1\n";
        let text = text.replace("*r]\nb: &r \"s\"", "\"s\"]\nb: &r s\nc: *r");
        let ours = read_all(&text, 100).0.expect("reads");
        let theirs: Vec<Value> = serde_yaml::Deserializer::from_str(&text)
            .map(|document| serde::Deserialize::deserialize(document).expect("reads"))
            .collect();
        assert_eq!(ours, theirs);
    }

    #[test]
    fn repeated_keys_are_refused_as_the_value_type_refuses_them() {
        let text = "a: 1\na: 2\n";
        let theirs = serde_yaml::from_str::<Value>(text).map_err(|e| e.to_string());
        assert_eq!(read_all(text, 100).0.map(|_| ()), theirs.map(|_| ()));
    }

    #[test]
    fn integers_beyond_64_bits_are_marked_with_their_digits() {
        let (values, _) = read_all("[99999999999999999999, -99999999999999999999]", 100);
        let values = values.expect("reads");
        let items = values[0].as_sequence().expect("a list");
        assert_eq!(big_integer(&items[0]), Some("99999999999999999999"));
        assert_eq!(big_integer(&items[1]), Some("-99999999999999999999"));
        assert_eq!(big_integer(&Value::String("1".into())), None);
    }

    #[test]
    fn budgets_grow_with_the_file_up_to_the_limit() {
        assert_eq!(budget_for(0), 100_000);
        assert_eq!(budget_for(14_000), 156_000);
        assert_eq!(budget_for(64 << 20), MAX_NODES);
    }

    #[test]
    fn copies_made_by_aliases_spend_the_budget() {
        let items = vec!["x"; 100].join(", ");
        let aliases = vec!["*a"; 100].join(", ");
        let text = format!("a: &a [{items}]\nb: [{aliases}]\n");
        let (values, spent_out) = read_all(&text, 10_000);
        assert!(values.is_err() && spent_out);
        let (values, spent_out) = read_all(&text, 10_300);
        assert!(values.is_ok() && !spent_out);
    }
}
