//! Line numbers for the nodes of a manifest, found from the raw text.
//!
//! `yaml_serde` gives a location only with its errors: a `Value` carries no spans. Yet every
//! problem should point at its line, and every group's [`Source`](crate::model::Source) should
//! too. This module recovers the lines of block-style YAML (the style everyone writes manifests
//! in) from indentation alone: a sequence entry starts at a `- ` line, a mapping entry at a
//! `key:` line, and whatever is indented deeper belongs to it. Block scalars (`|`, `>`), flow
//! collections (`[…]`, `{…}`), aliases and multi-line scalars are leaves.
//!
//! Guarantees: the result is only a hint that never decides anything. Callers look nodes up by
//! mapping key and by sequence index *with the expected length*, so a structure this heuristic
//! misreads yields no line (`None`), not a wrong line: a key that is not found, or a sequence
//! whose length differs from what the parser produced, gives no answer. Documents are split on
//! `---` the way libyaml does; if the count differs from the parser's, the caller drops every
//! line of the file (see `document.rs`).

use crate::model::CompactString;

/// One node of a document and the 1-based line where it starts: for a mapping value, the line
/// of its key; for a sequence item, the line of its `-`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Node {
    pub line: usize,
    pub kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    Leaf,
    Map(Vec<(CompactString, Node)>),
    Seq(Vec<Node>),
}

impl Node {
    /// The entry of a block mapping under `key`.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.kind {
            Kind::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, n)| n),
            _ => None,
        }
    }

    /// Entry `index` of a block mapping, which must be under `key`: how a loop over a parsed
    /// mapping (in the file's order, as the located entries are) finds each entry's line in
    /// constant time. Where the orders differ (a merge `<<` reorders), the entry is searched
    /// for by key in a small mapping and given no line in a large one, so that a mapping of
    /// many keys costs time in proportion to them, never their square.
    pub fn entry(&self, index: usize, key: &str) -> Option<&Node> {
        const SEARCHED: usize = 64;
        match &self.kind {
            Kind::Map(entries) => match entries.get(index) {
                Some((k, node)) if k == key => Some(node),
                _ if entries.len() <= SEARCHED => self.get(key),
                _ => None,
            },
            _ => None,
        }
    }

    /// Item `index` of a block sequence that must hold exactly `len` items.
    pub fn item(&self, index: usize, len: usize) -> Option<&Node> {
        match &self.kind {
            Kind::Seq(items) if items.len() == len => items.get(index),
            _ => None,
        }
    }
}

/// The documents of a file, in order; `None` for a document with no block content to locate.
pub(crate) fn documents(text: &str) -> Vec<Option<Node>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut docs: Vec<Vec<Row>> = Vec::new();
    let mut current: Vec<Row> = Vec::new();
    let mut explicit = false;
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        if is_marker(raw, "---") {
            if explicit || has_content(&current) {
                docs.push(std::mem::take(&mut current));
            }
            current.clear();
            explicit = true;
            // Content on the marker line itself (`--- {a: 1}`, `--- |`) starts at column 4.
            current.push(Row::new(line, &format!("    {}", &raw[3..])));
        } else if is_marker(raw, "...") {
            if explicit || has_content(&current) {
                docs.push(std::mem::take(&mut current));
            }
            explicit = false;
        } else if raw.starts_with('%') && !explicit && !has_content(&current) {
            // A directive (`%YAML 1.2`) before `---`.
        } else {
            current.push(Row::new(line, raw));
        }
    }
    if explicit || has_content(&current) || docs.is_empty() {
        docs.push(current);
    }
    docs.iter().map(|rows| Parser { rows }.root()).collect()
}

fn is_marker(raw: &str, marker: &str) -> bool {
    raw.strip_prefix(marker)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t']))
}

fn has_content(rows: &[Row]) -> bool {
    rows.iter().any(|r| !r.blank)
}

/// A physical line: its number, its indentation (spaces) and its text.
#[derive(Debug)]
struct Row {
    line: usize,
    indent: usize,
    text: String,
    /// Empty or only a comment.
    blank: bool,
}

impl Row {
    fn new(line: usize, raw: &str) -> Row {
        let indent = raw.len() - raw.trim_start_matches(' ').len();
        let rest = raw[indent..].trim_end();
        Row {
            line,
            indent,
            text: raw.trim_end().to_owned(),
            blank: rest.is_empty() || rest.starts_with('#'),
        }
    }
}

/// Nesting beyond this is a leaf (`yaml_serde` itself refuses more than 128 levels).
const MAX_DEPTH: usize = 128;

struct Parser<'a> {
    rows: &'a [Row],
}

impl Parser<'_> {
    fn root(&self) -> Option<Node> {
        let first = self.next_content(0)?;
        let col = self.rows[first].indent;
        let (node, _) = self.node(first, col, None, 0);
        Some(node)
    }

    /// The first non-blank row at or after `row`.
    fn next_content(&self, row: usize) -> Option<usize> {
        (row..self.rows.len()).find(|&r| !self.rows[r].blank)
    }

    /// The text of `row` from column `col`.
    fn at(&self, row: usize, col: usize) -> &str {
        self.rows[row].text.get(col..).unwrap_or("")
    }

    /// Parses the node starting at (`row`, `col`), whose parent block is at column `parent`
    /// (`None` at the document root). Returns the node and the row after it. Beyond
    /// [`MAX_DEPTH`] levels everything is a leaf, so hostile input cannot exhaust the stack.
    fn node(&self, row: usize, col: usize, parent: Option<usize>, depth: usize) -> (Node, usize) {
        let text = self.at(row, col);
        if depth < MAX_DEPTH && is_dash(text) {
            self.sequence(row, col, depth + 1)
        } else if depth < MAX_DEPTH && key_of(text).is_some() {
            self.mapping(row, col, depth + 1)
        } else {
            let line = self.rows[row].line;
            let next = self.skip_deeper(row + 1, parent);
            (
                Node {
                    line,
                    kind: Kind::Leaf,
                },
                next,
            )
        }
    }

    /// Skips rows that belong to a leaf: blank rows and rows indented deeper than `parent`.
    fn skip_deeper(&self, mut row: usize, parent: Option<usize>) -> usize {
        while row < self.rows.len() {
            let r = &self.rows[row];
            let deeper = parent.is_none_or(|p| r.indent > p);
            if r.blank || deeper {
                row += 1;
            } else {
                break;
            }
        }
        row
    }

    fn sequence(&self, mut row: usize, col: usize, depth: usize) -> (Node, usize) {
        let line = self.rows[row].line;
        let mut items = Vec::new();
        loop {
            let item_line = self.rows[row].line;
            let after_dash = &self.at(row, col)[1..];
            let spaces = after_dash.len() - after_dash.trim_start_matches([' ', '\t']).len();
            let content = &after_dash[spaces..];
            let (item, next) = if content.is_empty() || content.starts_with('#') {
                self.value_below(row, col, item_line, depth)
            } else {
                self.node(row, col + 1 + spaces, Some(col), depth)
            };
            items.push(item);
            match self.next_content(next) {
                Some(r) if self.rows[r].indent == col && is_dash(self.at(r, col)) => row = r,
                _ => {
                    return (
                        Node {
                            line,
                            kind: Kind::Seq(items),
                        },
                        next,
                    );
                }
            }
        }
    }

    fn mapping(&self, mut row: usize, col: usize, depth: usize) -> (Node, usize) {
        let line = self.rows[row].line;
        let mut entries = Vec::new();
        loop {
            let key_line = self.rows[row].line;
            let text = self.at(row, col);
            let Some((key, rest_at)) = key_of(text) else {
                break;
            };
            let rest = text[rest_at..].trim_start_matches([' ', '\t']);
            // A block scalar, a flow collection or a scalar, possibly continued on deeper rows.
            let (value, next) = if is_empty_value(rest) {
                self.value_below(row, col, key_line, depth)
            } else {
                (leaf(key_line), self.skip_deeper(row + 1, Some(col)))
            };
            entries.push((key.into(), value));
            row = next;
            match self.next_content(next) {
                Some(r) if self.rows[r].indent == col && !is_dash(self.at(r, col)) => row = r,
                _ => break,
            }
        }
        (
            Node {
                line,
                kind: Kind::Map(entries),
            },
            row,
        )
    }

    /// The value of a key or dash with nothing after it on its line: a deeper block on the
    /// following rows, a compact sequence at the key's own column, or nothing (null).
    fn value_below(&self, row: usize, col: usize, line: usize, depth: usize) -> (Node, usize) {
        match self.next_content(row + 1) {
            Some(r) if self.rows[r].indent > col => {
                let (mut node, next) = self.node(r, self.rows[r].indent, Some(col), depth);
                node.line = line;
                (node, next)
            }
            Some(r)
                if self.rows[r].indent == col
                    && is_dash(self.at(r, col))
                    && key_of(self.at(row, col)).is_some() =>
            {
                let (mut node, next) = self.sequence(r, col, depth + 1);
                node.line = line;
                (node, next)
            }
            _ => (leaf(line), row + 1),
        }
    }
}

pub(super) fn leaf(line: usize) -> Node {
    Node {
        line,
        kind: Kind::Leaf,
    }
}

pub(super) fn is_dash(text: &str) -> bool {
    text == "-" || text.starts_with("- ") || text.starts_with("-\t")
}

/// Nothing, a comment, or only node properties (`&anchor`, `!tag`): the value is below.
fn is_empty_value(rest: &str) -> bool {
    rest.split_whitespace()
        .take_while(|word| !word.starts_with('#'))
        .all(|word| word.starts_with(['&', '!']))
}

/// The longest implicit key: libyaml drops a simple key whose `:` comes more than 1024
/// characters after its start, and stopping there keeps this search short on long lines.
pub(super) const MAX_KEY: usize = 1024;

/// The key of a `key: value` line and the byte offset just after its `:`.
///
/// Looks at most [`MAX_KEY`] bytes into `text`, so that the rows of a file cost time in
/// proportion to their length whatever they hold (a line of `a:a:a:…` once cost the square
/// of its length).
fn key_of(text: &str) -> Option<(String, usize)> {
    let colon_follows = |at: usize| {
        let after = &text[at..];
        let after = after.trim_start_matches([' ', '\t']);
        let at = text.len() - after.len();
        let rest = &text[at..];
        let ok = rest.starts_with(':')
            && rest[1..]
                .chars()
                .next()
                .is_none_or(|c| c == ' ' || c == '\t');
        ok.then_some(at + 1)
    };
    match text.chars().next()? {
        '"' => {
            let mut escaped = false;
            for (i, c) in text
                .char_indices()
                .skip(1)
                .take_while(|(i, _)| *i <= MAX_KEY)
            {
                match c {
                    _ if escaped => escaped = false,
                    '\\' => escaped = true,
                    '"' => return colon_follows(i + 1).map(|at| (text[1..i].to_owned(), at)),
                    _ => {}
                }
            }
            None
        }
        '\'' => {
            let bytes = text.as_bytes();
            let mut i = 1;
            while i < bytes.len().min(MAX_KEY + 1) {
                if bytes[i] == b'\'' {
                    if bytes.get(i + 1) == Some(&b'\'') {
                        i += 2;
                        continue;
                    }
                    let key = text[1..i].replace("''", "'");
                    return colon_follows(i + 1).map(|at| (key, at));
                }
                i += 1;
            }
            None
        }
        '[' | '{' | '?' | '#' | '&' | '!' | '*' | '|' | '>' | '%' | '@' | '`' => None,
        _ => {
            let window = &text.as_bytes()[..text.len().min(MAX_KEY + 1)];
            // A ` #` starts a comment: no key after it.
            let comment = window
                .windows(2)
                .position(|w| w[1] == b'#' && (w[0] == b' ' || w[0] == b'\t'))
                .unwrap_or(window.len());
            for at in (0..comment).filter(|&at| window[at] == b':') {
                if let Some(after) = colon_follows(at) {
                    return Some((text[..at].trim_end().to_owned(), after));
                }
            }
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Renders the located tree as `line:path` lines, for compact assertions.
    fn outline(node: &Node, path: &str, out: &mut Vec<String>) {
        out.push(format!("{}:{}", node.line, path));
        match &node.kind {
            Kind::Leaf => {}
            Kind::Map(entries) => {
                for (k, n) in entries {
                    outline(n, &format!("{path}.{k}"), out);
                }
            }
            Kind::Seq(items) => {
                for (i, n) in items.iter().enumerate() {
                    outline(n, &format!("{path}[{i}]"), out);
                }
            }
        }
    }

    fn outlines(text: &str) -> Vec<Vec<String>> {
        documents(text)
            .iter()
            .map(|doc| {
                let mut out = Vec::new();
                if let Some(node) = doc {
                    outline(node, "", &mut out);
                }
                out
            })
            .collect()
    }

    #[test]
    fn finds_group_entries_and_their_keys() {
        let text = "\
# yaml-language-server: $schema=x.json
defaults:
  type: Public

groups:
  - id: a          # comment
    name: A
    custom:
      team: x
  -   id: 'b: c'
      introduction: |
        - not an item
        key: not a key
      notification: >-
        folded
  -
    id: \"d\"
prune: {id_prefixes: [x]}
";
        assert_eq!(
            outlines(text),
            vec![vec![
                "2:",
                "2:.defaults",
                "3:.defaults.type",
                "5:.groups",
                "6:.groups[0]",
                "6:.groups[0].id",
                "7:.groups[0].name",
                "8:.groups[0].custom",
                "9:.groups[0].custom.team",
                "10:.groups[1]",
                "10:.groups[1].id",
                "11:.groups[1].introduction",
                "14:.groups[1].notification",
                "16:.groups[2]",
                "17:.groups[2].id",
                "18:.prune",
            ]]
        );
    }

    #[test]
    fn compact_sequences_and_multiple_documents() {
        let text = "groups:\n- id: a\n- id: b\n---\ngroups:\n- id: c\n...\n--- \n";
        assert_eq!(
            outlines(text),
            vec![
                vec![
                    "1:",
                    "1:.groups",
                    "2:.groups[0]",
                    "2:.groups[0].id",
                    "3:.groups[1]",
                    "3:.groups[1].id"
                ],
                vec!["5:", "5:.groups", "6:.groups[0]", "6:.groups[0].id"],
                vec![],
            ]
        );
    }

    #[test]
    fn leading_comments_before_the_first_marker_are_not_a_document() {
        assert_eq!(documents("# hi\n---\na: 1\n").len(), 1);
        assert_eq!(documents("").len(), 1);
        assert_eq!(documents("%YAML 1.2\n---\na: 1\n---\nb: 2\n").len(), 2);
    }

    #[test]
    fn keys_with_colons_in_values_and_quoted_keys() {
        assert_eq!(
            key_of("face_url: https://x/y"),
            Some(("face_url".into(), 9))
        );
        assert_eq!(key_of("\"a: b\": c"), Some(("a: b".into(), 7)));
        assert_eq!(key_of("'it''s': c"), Some(("it's".into(), 8)));
        assert_eq!(key_of("https://x"), None);
        assert_eq!(key_of("plain scalar"), None);
        assert_eq!(key_of("k:"), Some(("k".into(), 2)));
    }

    #[test]
    fn a_key_ends_before_a_comment_and_within_the_longest_key_libyaml_takes() {
        assert_eq!(key_of("a #b: c"), None);
        assert_eq!(key_of("a#b: c"), Some(("a#b".into(), 4)));
        let long = "k".repeat(MAX_KEY);
        assert_eq!(
            key_of(&format!("{long}: v")),
            Some((long.clone(), MAX_KEY + 1))
        );
        assert_eq!(key_of(&format!("{long}k: v")), None);
        assert_eq!(key_of(&format!("\"{long}\": v")), None);
    }

    #[test]
    fn long_lines_of_colons_are_located_in_linear_time() {
        // 4 MB on one line. The search once rescanned the line for every colon: 8 s for
        // 400 KB in a release build, so this test would take about a quarter of an hour.
        for line in [
            "a:".repeat(2_000_000),
            format!("x{}", " a:b".repeat(1_000_000)),
        ] {
            let docs = documents(&format!("{line}\n"));
            assert_eq!(docs.len(), 1);
        }
    }

    #[test]
    fn entries_are_found_by_their_place_and_searched_for_only_in_small_mappings() {
        let small = documents("b: 1\na: 2\n").remove(0).expect("content");
        assert_eq!(small.entry(1, "a").map(|n| n.line), Some(2));
        assert_eq!(small.entry(0, "a").map(|n| n.line), Some(2), "searched");
        let text: String = (0..100).map(|i| format!("k{i}: v\n")).collect();
        let large = documents(&text).remove(0).expect("content");
        assert_eq!(large.entry(99, "k99").map(|n| n.line), Some(100));
        assert_eq!(large.entry(0, "k99"), None, "not searched: no line");
    }

    #[test]
    fn lookups_check_the_expected_length() {
        let doc = documents("groups:\n  - id: a\n  - id: b\n")
            .remove(0)
            .expect("content");
        let groups = doc.get("groups").expect("groups");
        assert_eq!(groups.item(1, 2).map(|n| n.line), Some(3));
        assert_eq!(groups.item(1, 3), None);
        assert_eq!(doc.get("missing"), None);
    }
}
