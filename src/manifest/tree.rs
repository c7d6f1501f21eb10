//! A document as the field rules read it: each value with its line, its text borrowed.
//!
//! Two readers give documents: the one-pass reader ([`super::plain`]) for plain block YAML,
//! and the full reader (`yaml_serde`, with lines from [`super::locate`]) for everything else.
//! The rules in `document.rs` and `fields.rs` read one tree type from both. The one-pass
//! reader builds it straight from the text: a scalar borrows its text, a mapping is one
//! vector of entries, and a line is a number on the value, so a group costs a few
//! allocations instead of a heap string per scalar, a hashed map per mapping and a second
//! tree of lines. The full reader's values are viewed in the same shape ([`Item::view`]),
//! borrowing from its `Value`s.
//!
//! A list or mapping deeper than any rule looks ([`RULES_DEPTH`]) is kept only as what it is
//! ([`Val::Deep`]): a rule only names it ("expected a string, found a list"). So a file whose
//! aliases (`*name`) copy a large list into a custom value costs the YAML values it makes, and
//! not a second tree of them.
//!
//! Guarantees: the two agree. For text both can read, the one-pass reader's tree is exactly
//! the view of the full reader's (debug builds check it on every file they read, see
//! `document.rs`), so a rule cannot tell which reader read a file. A line is only ever the
//! located one: where [`super::locate`] cannot place a node, its line is `None`, never a guess.

use std::borrow::Cow;

use serde_yaml::Value;

use super::locate::Node;

/// The deepest a rule looks into a document for a list or a mapping: the root is at 0,
/// `groups` at 1, a group at 2, its `custom` and `admins` at 3, and their values and items
/// (at 4) must be scalars.
pub(crate) const RULES_DEPTH: usize = 3;

/// A value and the 1-based line where it starts, where known: for a mapping's value, the
/// line of its key; for a list item, the line of its `-`; for an item of a one-line list,
/// none (it is on its list's line, which the rules fall back on).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Item<'a> {
    pub line: Option<usize>,
    pub value: Val<'a>,
}

/// A YAML value. Scalars that a manifest's rules take apart (null, booleans, integers that
/// fit 64 signed bits, strings), lists and mappings have their own shape; the rest (floats,
/// larger integers, tagged values) only the full reader gives, and they stay its values.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Val<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Str(Cow<'a, str>),
    Seq(Vec<Item<'a>>),
    /// Entries in the file's order (after merges), no key repeated.
    Map(Vec<(Val<'a>, Item<'a>)>),
    /// A list or mapping deeper than [`RULES_DEPTH`] (or a key that is one).
    Deep(Collection),
    Other(&'a Value),
}

/// What a [`Val::Deep`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Collection {
    List,
    Mapping,
}

impl<'a> Item<'a> {
    /// The full reader's `value`, seen with the lines `pos` locates: an entry's line is found
    /// by its place and key ([`Node::entry`]), an item's by its index in a list of the
    /// parsed length ([`Node::item`]); `line` is the value's own.
    pub fn view(value: &'a Value, pos: Option<&Node>, line: Option<usize>) -> Item<'a> {
        Item::view_at(value, pos, line, 0)
    }

    /// A value seen on its own, a list or mapping as only what it is.
    pub fn shallow(value: &'a Value) -> Val<'a> {
        Item::view_at(value, None, None, RULES_DEPTH + 1).value
    }

    /// [`Item::view`] of a value at `depth` in its document.
    fn view_at(
        value: &'a Value,
        pos: Option<&Node>,
        line: Option<usize>,
        depth: usize,
    ) -> Item<'a> {
        let value = match value {
            Value::Null => Val::Null,
            Value::Bool(b) => Val::Bool(*b),
            // A float or an integer past i64 stays the full reader's.
            Value::Number(n) => n.as_i64().map_or(Val::Other(value), Val::Int),
            Value::String(s) => Val::Str(Cow::Borrowed(s)),
            Value::Sequence(items) => Val::collection(depth, Collection::List, || {
                Val::Seq(
                    items
                        .iter()
                        .enumerate()
                        .map(|(index, item)| {
                            let node = pos.and_then(|p| p.item(index, items.len()));
                            Item::view_at(item, node, node.map(|n| n.line), depth + 1)
                        })
                        .collect(),
                )
            }),
            Value::Mapping(map) => Val::collection(depth, Collection::Mapping, || {
                Val::Map(
                    map.iter()
                        .enumerate()
                        .map(|(index, (key, value))| {
                            let key = Item::shallow(key);
                            // An integer key is located as the one-pass reader writes it. The
                            // rules refuse the entry, so its lines are never shown.
                            let node = match &key {
                                Val::Str(k) => pos.and_then(|p| p.entry(index, k)),
                                Val::Int(n) => pos.and_then(|p| p.entry(index, &n.to_string())),
                                _ => None,
                            };
                            (
                                key,
                                Item::view_at(value, node, node.map(|n| n.line), depth + 1),
                            )
                        })
                        .collect(),
                )
            }),
            Value::Tagged(_) => Val::Other(value),
        };
        Item { line, value }
    }
}

impl<'a> Val<'a> {
    /// A list or mapping (`kind`) at `depth` in its document, as `made` makes it, unless it
    /// is below what the rules read ([`RULES_DEPTH`]): then only what it is, and not made.
    pub fn collection(depth: usize, kind: Collection, made: impl FnOnce() -> Val<'a>) -> Val<'a> {
        if depth > RULES_DEPTH {
            Val::Deep(kind)
        } else {
            made()
        }
    }

    /// The text of a string; nothing else is text, a tagged string included.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Val::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The entry of a mapping under the string key `key`.
    pub fn get(&self, key: &str) -> Option<&Item<'_>> {
        match self {
            Val::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, item)| item),
            _ => None,
        }
    }

    /// The scalar as the full reader's value, to compare with a text read alone (see
    /// [`super::written`]); `None` for a list or a mapping.
    pub fn scalar(&self) -> Option<Cow<'_, Value>> {
        Some(match self {
            Val::Null => Cow::Owned(Value::Null),
            Val::Bool(b) => Cow::Owned(Value::Bool(*b)),
            Val::Int(n) => Cow::Owned(Value::Number((*n).into())),
            Val::Str(s) => Cow::Owned(Value::String(s.to_string())),
            Val::Other(value) => Cow::Borrowed(*value),
            Val::Seq(_) | Val::Map(_) | Val::Deep(_) => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full(text: &str) -> Value {
        serde_yaml::from_str(text).expect("valid YAML")
    }

    #[test]
    fn the_full_reader_s_values_are_seen_with_their_located_lines() {
        let text = "groups:\n  - id: a\n    admins: [x, y]\n    members:\n      - m\n    n: 1.5\n";
        let value = full(text);
        let pos = super::super::locate::documents(text).remove(0);
        let root = Item::view(&value, pos.as_ref(), Some(1));
        let groups = root.value.get("groups").expect("groups");
        assert_eq!(groups.line, Some(1));
        let Val::Seq(items) = &groups.value else {
            panic!("a list: {groups:?}")
        };
        let group = &items[0];
        assert_eq!(group.line, Some(2));
        assert_eq!(group.value.get("id").map(|i| i.line), Some(Some(2)));
        let admins = group.value.get("admins").expect("admins");
        assert_eq!(admins.line, Some(3));
        let Val::Seq(admins) = &admins.value else {
            panic!("a list")
        };
        assert_eq!(admins[0].line, None, "a one-line list's items have no line");
        let members = group.value.get("members").expect("members");
        let Val::Seq(members) = &members.value else {
            panic!("a list")
        };
        assert_eq!(members[0].line, Some(5));
        let n = group.value.get("n").expect("n");
        assert!(matches!(n.value, Val::Other(Value::Number(_))), "{n:?}");
    }

    #[test]
    fn lists_and_mappings_below_what_the_rules_read_are_only_what_they_are() {
        let text = "groups:\n  - id: a\n    custom:\n      k:\n        - 1\n      l: [2]\n      m: {}\n      \
                    n:\n        o: 1\n    admins: [x]\n";
        let value = full(text);
        let root = Item::view(&value, None, None);
        let Val::Seq(groups) = &root.value.get("groups").expect("groups").value else {
            panic!("a list")
        };
        let group = &groups[0].value;
        let custom = &group.get("custom").expect("custom").value;
        assert!(matches!(custom, Val::Map(_)), "read at depth 3: {custom:?}");
        assert_eq!(
            custom.get("k").map(|i| &i.value),
            Some(&Val::Deep(Collection::List))
        );
        for (key, deep) in [
            ("l", Collection::List),
            ("m", Collection::Mapping),
            ("n", Collection::Mapping),
        ] {
            assert_eq!(custom.get(key).map(|i| &i.value), Some(&Val::Deep(deep)));
        }
        let admins = &group.get("admins").expect("admins").value;
        assert!(matches!(admins, Val::Seq(items) if items.len() == 1));
        // The one-pass reader gives the same, lines and all.
        let plain = super::super::plain::documents(text, 100).expect("plain");
        let pos = super::super::locate::documents(text).remove(0);
        let seen = Item::view(&value, pos.as_ref(), pos.as_ref().map(|p| p.line));
        assert_eq!(plain, vec![seen]);
        assert_eq!(
            Item::shallow(&full("[1, 2]")),
            Val::Deep(Collection::List),
            "a key or a described value is not looked into"
        );
    }

    #[test]
    fn tags_and_large_integers_stay_the_full_reader_s_values() {
        let value = full("a: !local true\nb: 18446744073709551615\nc: -3\n!k d: 1\n");
        let root = Item::view(&value, None, None);
        assert!(matches!(root.value.get("a").unwrap().value, Val::Other(_)));
        assert!(matches!(root.value.get("b").unwrap().value, Val::Other(_)));
        assert_eq!(root.value.get("c").unwrap().value, Val::Int(-3));
        assert!(
            root.value.get("d").is_none(),
            "a tagged key is not the string key"
        );
    }
}
