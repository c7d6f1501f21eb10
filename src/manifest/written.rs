//! A scalar as the user wrote it, recovered from the file's text, for hints that quote it.
//!
//! The parser converts a plain scalar before anything sees it: `0o17` and `0x1F` arrive as
//! the integers 15 and 31, `1e3` as 1000.0, `True` as true. A "quote it" hint built from the
//! converted value would tell the user to write `"15"` where they wrote `0o17`, changing the
//! text they meant. So the hint looks up the line the problem points at and takes the scalar
//! written there, after the field's key, when reading that text alone gives the same value.
//!
//! Guarantees: only a hint, never a decision. A scalar that cannot be found this way (spread
//! over lines, an alias, a key that is not on the line) gives `None`, and the hint falls back
//! to the converted value. A text is returned only if the parser reads it as exactly the
//! value found, so a wrong piece of the line is never quoted. Lines longer than
//! [`MAX_LINE`] are not searched (a whole file in flow style on one line, with a problem per
//! group, would otherwise be searched once per problem).

use std::cell::OnceCell;

use serde_yaml::Value;

use super::nodes;
use super::tree::Val;

/// The longest line searched for a scalar, in bytes.
pub(crate) const MAX_LINE: usize = 4096;

/// A file's text, split into lines (numbered as [`super::locate`] numbers them) on first use.
#[derive(Debug)]
pub(crate) struct SourceText<'a> {
    text: &'a str,
    lines: OnceCell<Vec<&'a str>>,
}

impl<'a> SourceText<'a> {
    pub fn new(text: &'a str) -> SourceText<'a> {
        SourceText {
            text: text.strip_prefix('\u{feff}').unwrap_or(text),
            lines: OnceCell::new(),
        }
    }

    /// Line `line` (1-based) without its terminator.
    fn line(&self, line: usize) -> Option<&'a str> {
        let lines = self.lines.get_or_init(|| self.text.lines().collect());
        lines.get(line.checked_sub(1)?).copied()
    }

    /// The plain scalar written on `line` for `key` (`key: 0o17`, `{key: 0o17}`), or, with no
    /// key, the one list item (`- 0o17`, `[0o17]`) there, that the parser reads as `found`.
    pub fn scalar(&self, line: Option<usize>, key: Option<&str>, found: &Val) -> Option<String> {
        let found = found.scalar()?;
        let text = self.line(line?).filter(|text| text.len() <= MAX_LINE)?;
        let mut matches = pieces(text)
            .filter(|(piece_key, _)| *piece_key == key)
            .map(|(_, scalar)| scalar)
            .filter(|scalar| reads_as(scalar, &found));
        let first = matches.next()?;
        // Two different texts for the same value (`[0x1F, 31]`): not knowing which, say none.
        matches
            .all(|other| other == first)
            .then(|| first.to_owned())
    }
}

/// The `(key, scalar)` pieces of one line: split at flow indicators, block sequence dashes
/// and `key: ` separators, a trailing comment cut off, tags and anchors dropped.
fn pieces(line: &str) -> impl Iterator<Item = (Option<&str>, &str)> {
    let body = match line.find(" #") {
        Some(at) => &line[..at],
        None if line.trim_start().starts_with('#') => "",
        None => line,
    };
    body.split([',', '[', ']', '{', '}']).filter_map(|segment| {
        let mut segment = segment.trim();
        while let Some(rest) = segment.strip_prefix("- ") {
            segment = rest.trim_start();
        }
        let (key, value) = match segment.split_once(": ") {
            Some((key, value)) => (Some(unquote(key.trim())), value.trim()),
            None => match segment.strip_suffix(':') {
                Some(key) => (Some(unquote(key.trim())), ""),
                None => (None, segment),
            },
        };
        let value = strip_properties(value);
        (!value.is_empty()).then_some((key, value))
    })
}

fn unquote(key: &str) -> &str {
    for q in ['"', '\''] {
        if let Some(inner) = key.strip_prefix(q).and_then(|k| k.strip_suffix(q)) {
            return inner;
        }
    }
    key
}

/// A scalar without the tag (`!!int`) and anchor (`&a`) written before it.
fn strip_properties(mut value: &str) -> &str {
    while value.starts_with(['!', '&']) {
        value = match value.split_once(char::is_whitespace) {
            Some((_, rest)) => rest.trim_start(),
            None => "",
        };
    }
    value
}

/// Whether `scalar`, read alone, is `found`.
fn reads_as(scalar: &str, found: &Value) -> bool {
    let budget = nodes::Budget::new(4);
    let mut documents = serde_yaml::Deserializer::from_str(scalar);
    let Some(document) = documents.next() else {
        return false;
    };
    documents.next().is_none() && nodes::read(document, &budget).is_ok_and(|value| value == *found)
}

#[cfg(test)]
mod tests {
    use super::super::tree::Item;
    use super::*;

    fn found(text: &str) -> Value {
        let document = serde_yaml::Deserializer::from_str(text).next().unwrap();
        nodes::read(document, &nodes::Budget::new(4)).unwrap()
    }

    fn scalar(line: &str, key: Option<&str>, value: &str) -> Option<String> {
        SourceText::new(line).scalar(Some(1), key, &Item::view(&found(value), None, None).value)
    }

    #[test]
    fn finds_the_text_after_the_key() {
        assert_eq!(
            scalar("    name: 0o17", Some("name"), "15").as_deref(),
            Some("0o17")
        );
        assert_eq!(
            scalar("  - id: 0x1F  # hex", Some("id"), "31").as_deref(),
            Some("0x1F")
        );
        assert_eq!(
            scalar(
                "  - {id: g, name: 0x1F, notification: 31}",
                Some("name"),
                "31"
            )
            .as_deref(),
            Some("0x1F")
        );
        assert_eq!(
            scalar("    name: !!int 0o17", Some("name"), "15").as_deref(),
            Some("0o17")
        );
        assert_eq!(
            scalar("    \"name\": 1e3", Some("name"), "1000.0").as_deref(),
            Some("1e3")
        );
        assert_eq!(
            scalar("    mute: True", Some("mute"), "true").as_deref(),
            Some("True")
        );
    }

    #[test]
    fn finds_a_list_item() {
        assert_eq!(scalar("    - 0o17", None, "15").as_deref(), Some("0o17"));
        assert_eq!(
            scalar("  id_prefixes: [ops-, 0x1F]", None, "31").as_deref(),
            Some("0x1F")
        );
    }

    #[test]
    fn says_nothing_rather_than_something_wrong() {
        assert_eq!(scalar("    name: *n", Some("name"), "15"), None);
        assert_eq!(scalar("    other: 0o17", Some("name"), "15"), None);
        assert_eq!(scalar("  id_prefixes: [0x1F, 31]", None, "31"), None);
        assert_eq!(
            SourceText::new("a: 1").scalar(Some(9), Some("a"), &Val::Int(1)),
            None
        );
        assert_eq!(
            SourceText::new("a: 1").scalar(None, Some("a"), &Val::Int(1)),
            None
        );
    }
}
