//! The YAML that manifests are written in, read in one pass: values and their lines at once.
//!
//! The full reader takes three passes over a file: [`scan`](super::scan) for nesting and
//! tags, `yaml_serde` for the values, [`locate`](super::locate) for their lines. At 10,000
//! groups that was 0.25 s of CPU before the first call, a quarter of a whole plan's floor.
//! Nearly every manifest (the ones `timctl export` writes, the ones people write by hand) is
//! plain block YAML: mappings and lists by indentation, one-line scalars, one-line lists of
//! scalars, comments. This module reads exactly that subset, and nothing else: at the first
//! thing outside it (an anchor, alias, tag, block scalar, escape, multi-line scalar, float,
//! explicit key, merge key, repeated key, tab, carriage return, directive, `...`, deep
//! nesting, a value that does not parse) it gives up with [`NotPlain`], and the caller reads
//! the file with the full reader, which also reports every error. What it reads is a
//! [`tree`](super::tree) whose scalars borrow the text: no string is copied unless a `''`
//! in a single-quoted scalar has to be undone.
//!
//! Guarantee: where this module answers, the answer is what the full reader gives for the
//! same text: the same values (resolved as `yaml_serde` resolves plain scalars) and the same
//! located lines, as [`Item::view`] shows the full reader's. Debug builds check that on every
//! file they read (see `document.rs`), and the tests compare the two on generated text.

use std::borrow::Cow;

use super::locate::{MAX_KEY, is_dash};
use super::tree::{Collection, Item, Val};

/// The text is outside the subset: read it with the full reader.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct NotPlain;

type Read<T> = Result<T, NotPlain>;

/// Deeper than this is rare in a manifest (a group's `custom` map is at 4): left to the full
/// reader, which has the nesting limit and its message.
const MAX_DEPTH: usize = 16;

/// Keys of one mapping; more (never in a manifest, whose largest mapping is a group's dozen
/// fields) are the full reader's, which checks repeated keys by hashing, not one by one.
const MAX_KEYS: usize = 64;

/// The documents of `text` (byte order marks already handled by the caller), as the full
/// reader's values are seen with their lines ([`Item::view`]), spending at most `max_nodes`
/// values.
pub(crate) fn documents<'a>(text: &'a str, max_nodes: usize) -> Read<Vec<Item<'a>>> {
    check_characters(text)?;
    let mut docs = Vec::new();
    let mut lines = Vec::new();
    let mut explicit = false;
    let mut budget = max_nodes;
    let mut finish = |lines: &mut Vec<Line<'a>>, docs: &mut Vec<Item<'a>>, explicit: bool| {
        if lines.is_empty() {
            if explicit {
                docs.push(Item {
                    line: None,
                    value: Val::Null,
                });
            }
            return Ok(());
        }
        let mut parser = Parser {
            lines: lines.as_slice(),
            at: 0,
            budget: &mut budget,
            entries: Vec::new(),
        };
        docs.push(parser.root()?);
        lines.clear();
        Ok(())
    };
    let ends = memchr::memchr_iter(b'\n', text.as_bytes()).chain([text.len()]);
    let mut start = 0;
    for (index, end) in ends.enumerate() {
        let raw = &text[start..end];
        start = end + 1;
        let number = index + 1;
        if raw.starts_with("---") {
            if raw.trim_end_matches(' ') != "---" {
                return Err(NotPlain);
            }
            finish(&mut lines, &mut docs, explicit)?;
            explicit = true;
            continue;
        }
        if raw.starts_with("...") || raw.starts_with('%') {
            return Err(NotPlain);
        }
        let content = raw.trim_start_matches(' ');
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        lines.push(Line {
            number,
            indent: raw.len() - content.len(),
            text: content.trim_end_matches(' '),
        });
    }
    finish(&mut lines, &mut docs, explicit)?;
    if docs.is_empty() {
        // Only comments: whether that is a document is the full reader's to say.
        return Err(NotPlain);
    }
    Ok(docs)
}

/// Only what libyaml reads as printable, with `\n` the only line break and no tab: anything
/// else (a carriage return, a C1 control, U+2028, a BOM left inside) is the full reader's.
fn check_characters(text: &str) -> Read<()> {
    // Checked a block at a time without stopping early, which the compiler turns into vector
    // instructions: byte by byte, this was a tenth of reading a file.
    let ascii_ok = |b: u8| b == b'\n' || (0x20..0x7f).contains(&b);
    let all_ascii = text
        .as_bytes()
        .chunks(64)
        .all(|block| block.iter().fold(true, |ok, &b| ok & ascii_ok(b)));
    if all_ascii {
        return Ok(());
    }
    let printable = |c: char| match c {
        '\n' | ' '..='~' => true,
        // U+2028 and U+2029 are line breaks to libyaml.
        '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' => {
            !matches!(c, '\u{feff}' | '\u{2028}' | '\u{2029}')
        }
        '\u{10000}'..='\u{10ffff}' => true,
        _ => false,
    };
    if text.chars().all(printable) {
        Ok(())
    } else {
        Err(NotPlain)
    }
}

/// A line with content: its number, its indentation and its text, trailing spaces dropped.
#[derive(Debug)]
struct Line<'a> {
    number: usize,
    indent: usize,
    text: &'a str,
}

struct Parser<'l, 'a> {
    lines: &'l [Line<'a>],
    /// The next line to read.
    at: usize,
    budget: &'l mut usize,
    /// The entries of the mappings being read, innermost last, so that each mapping is made
    /// at its size in one allocation.
    entries: Vec<(Val<'a>, Item<'a>)>,
}

impl<'a> Parser<'_, 'a> {
    fn root(&mut self) -> Read<Item<'a>> {
        let first = &self.lines[0];
        if first.indent != 0 {
            return Err(NotPlain);
        }
        let text = first.text;
        let node = if is_dash(text) {
            self.sequence(0, 0)?
        } else {
            self.mapping(0, key_of(text)?, 0)?
        };
        if self.at != self.lines.len() {
            // Something at a column no open block is at.
            return Err(NotPlain);
        }
        Ok(node)
    }

    fn spend(&mut self) -> Read<()> {
        *self.budget = self.budget.checked_sub(1).ok_or(NotPlain)?;
        Ok(())
    }

    fn peek(&self) -> Option<&Line<'a>> {
        self.lines.get(self.at)
    }

    /// A block mapping whose first key is `first`, read from the current line at column
    /// `col`; its other keys are on the following lines at `col`.
    fn mapping(&mut self, col: usize, first: Key<'a>, depth: usize) -> Read<Item<'a>> {
        if depth > MAX_DEPTH {
            return Err(NotPlain);
        }
        self.spend()?;
        let line = self.lines[self.at].number;
        let start = self.entries.len();
        let mut next_key = first;
        loop {
            let key_line = self.lines[self.at].number;
            let (key, written, rest) = next_key;
            let mine = &self.entries[start..];
            if written == "<<" || mine.len() >= MAX_KEYS || mine.iter().any(|(k, _)| *k == key) {
                return Err(NotPlain);
            }
            self.spend()?;
            self.at += 1;
            let value = if is_empty(rest) {
                self.below(col, key_line, true, depth)?
            } else {
                Item {
                    line: Some(key_line),
                    value: self.inline(rest, col, depth + 1)?,
                }
            };
            self.entries.push((key, value));
            match self.peek() {
                Some(next) if next.indent == col && !is_dash(next.text) => {
                    next_key = key_of(next.text)?;
                }
                Some(next) if next.indent >= col => return Err(NotPlain),
                _ => break,
            }
        }
        let value = Val::collection(depth, Collection::Mapping, || {
            Val::Map(self.entries.drain(start..).collect())
        });
        // One below what the rules read left its entries behind.
        self.entries.truncate(start);
        Ok(Item {
            line: Some(line),
            value,
        })
    }

    /// A block sequence whose first `-` is on the current line at `col`.
    fn sequence(&mut self, col: usize, depth: usize) -> Read<Item<'a>> {
        if depth > MAX_DEPTH {
            return Err(NotPlain);
        }
        self.spend()?;
        let line = self.lines[self.at].number;
        let mut items = Vec::new();
        loop {
            let current = &self.lines[self.at];
            let item_line = current.number;
            let after = &current.text[1..];
            let content = after.trim_start_matches(' ');
            let content_col = col + 1 + (after.len() - content.len());
            let item = if is_empty(content) {
                self.at += 1;
                self.below(col, item_line, false, depth)?
            } else if is_dash(content) {
                return Err(NotPlain);
            } else if let Ok(key) = key_of(content) {
                self.mapping(content_col, key, depth + 1)?
            } else {
                self.at += 1;
                Item {
                    line: Some(item_line),
                    value: self.inline(content, col, depth + 1)?,
                }
            };
            items.push(item);
            match self.peek() {
                Some(next) if next.indent == col && is_dash(next.text) => {}
                Some(next) if next.indent > col => return Err(NotPlain),
                _ => break,
            }
        }
        Ok(Item {
            line: Some(line),
            value: Val::collection(depth, Collection::List, || Val::Seq(items)),
        })
    }

    /// The value of a key or `-` with nothing after it on its line (at `line`, column `col`):
    /// a block on the following lines, deeper; under a key, a sequence at the key's column;
    /// or null.
    fn below(&mut self, col: usize, line: usize, key: bool, depth: usize) -> Read<Item<'a>> {
        let mut item = match self.peek() {
            Some(next) if next.indent > col => {
                let (indent, text) = (next.indent, next.text);
                if is_dash(text) {
                    self.sequence(indent, depth + 1)?
                } else {
                    self.mapping(indent, key_of(text)?, depth + 1)?
                }
            }
            Some(next) if key && next.indent == col && is_dash(next.text) => {
                self.sequence(col, depth + 1)?
            }
            _ => {
                self.spend()?;
                Item {
                    line: None,
                    value: Val::Null,
                }
            }
        };
        item.line = Some(line);
        Ok(item)
    }

    /// A value written on the line of its key or `-` (at `col`): a scalar or a one-line flow
    /// list of scalars. The next line must not be deeper: that would continue it.
    fn inline(&mut self, text: &'a str, col: usize, depth: usize) -> Read<Val<'a>> {
        if self.peek().is_some_and(|next| next.indent > col) {
            return Err(NotPlain);
        }
        let (value, rest) = match text.as_bytes()[0] {
            b'[' => self.flow_list(&text[1..], depth)?,
            b'{' => {
                let rest = text[1..].trim_start_matches(' ');
                let rest = rest.strip_prefix('}').ok_or(NotPlain)?;
                self.spend()?;
                let empty = Val::collection(depth, Collection::Mapping, || Val::Map(Vec::new()));
                (empty, rest)
            }
            b'"' | b'\'' => {
                let (s, rest) = quoted(text)?;
                self.spend()?;
                (Val::Str(s), rest)
            }
            _ => {
                let (plain, rest) = plain_in_block(text)?;
                self.spend()?;
                (resolve(plain)?, rest)
            }
        };
        end_of_line(rest)?;
        Ok(value)
    }

    /// `[a, "b", 1]` after its `[`: the list and the text after its `]`.
    fn flow_list(&mut self, mut text: &'a str, depth: usize) -> Read<(Val<'a>, &'a str)> {
        self.spend()?;
        let mut items = Vec::new();
        text = text.trim_start_matches(' ');
        if let Some(rest) = text.strip_prefix(']') {
            return Ok((
                Val::collection(depth, Collection::List, || Val::Seq(items)),
                rest,
            ));
        }
        loop {
            let (item, rest) = match text.as_bytes().first() {
                Some(b'"' | b'\'') => {
                    let (s, rest) = quoted(text)?;
                    (Val::Str(s), rest)
                }
                Some(_) => {
                    let end = text
                        .find([',', ']', '[', '{', '}', ':', '#'])
                        .ok_or(NotPlain)?;
                    let plain = text[..end].trim_end_matches(' ');
                    if plain.is_empty() {
                        return Err(NotPlain);
                    }
                    (resolve(plain)?, &text[end..])
                }
                None => return Err(NotPlain),
            };
            self.spend()?;
            // On the list's line, which the rules fall back on: the located tree, too, has
            // no line for the items of a one-line list.
            items.push(Item {
                line: None,
                value: item,
            });
            let rest = rest.trim_start_matches(' ');
            if let Some(rest) = rest.strip_prefix(']') {
                return Ok((
                    Val::collection(depth, Collection::List, || Val::Seq(items)),
                    rest,
                ));
            }
            text = rest
                .strip_prefix(',')
                .ok_or(NotPlain)?
                .trim_start_matches(' ');
            if text.starts_with(']') {
                // A trailing comma: valid, but left to the full reader.
                return Err(NotPlain);
            }
        }
    }
}

/// Nothing or only a comment.
fn is_empty(text: &str) -> bool {
    text.is_empty() || text.starts_with('#')
}

/// After a value: nothing, or spaces and a comment.
fn end_of_line(rest: &str) -> Read<()> {
    let trimmed = rest.trim_start_matches(' ');
    if trimmed.is_empty() || (trimmed.len() < rest.len() && trimmed.starts_with('#')) {
        Ok(())
    } else {
        Err(NotPlain)
    }
}

/// A mapping key read from its line: the key as a value, as written, and what follows the
/// `:` and its spaces.
type Key<'a> = (Val<'a>, &'a str, &'a str);

/// `key: rest` → the key as a value, as written (for the located node), and what follows
/// the `:` and its spaces.
fn key_of(text: &str) -> Read<Key<'_>> {
    let (key, written, after) = match text.as_bytes()[0] {
        b'"' | b'\'' => {
            let (key, after) = quoted(text)?;
            let written = &text[1..text.len() - after.len() - 1];
            if written.len() != key.len() {
                // `''` in a single-quoted key: the located key is the unescaped one, which
                // this module does not keep apart from the text.
                return Err(NotPlain);
            }
            (Val::Str(key), written, after.trim_start_matches(' '))
        }
        _ => {
            let colon = key_colon(text)?;
            let written = text[..colon].trim_end_matches(' ');
            if written.is_empty() {
                return Err(NotPlain);
            }
            (resolve(written)?, written, &text[colon..])
        }
    };
    if written.len() > MAX_KEY {
        return Err(NotPlain);
    }
    let rest = after.strip_prefix(':').ok_or(NotPlain)?;
    if !(rest.is_empty() || rest.starts_with(' ')) {
        return Err(NotPlain);
    }
    let value = rest.trim_start_matches(' ');
    if matches!(key, Val::Null | Val::Bool(_)) {
        return Err(NotPlain);
    }
    Ok((key, written, value))
}

/// Where the `:` of a plain key is: the first `:` followed by a space or the end of the line.
/// A key with a flow indicator, a quote or a `#` (a comment, or text the full reader is left
/// to read) before it is not read here.
fn key_colon(text: &str) -> Read<usize> {
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b':' if bytes.get(i + 1).is_none_or(|&n| n == b' ') => return Ok(i),
            b'[' | b']' | b'{' | b'}' | b',' | b'#' | b'"' | b'\'' => return Err(NotPlain),
            _ => {}
        }
    }
    Err(NotPlain)
}

/// A quoted scalar on one line: its content (borrowed unless a `''` had to be undone) and
/// the text after the closing quote. A double quoted one with an escape (`\`) is the full
/// reader's.
fn quoted(text: &str) -> Read<(Cow<'_, str>, &str)> {
    let quote = text.as_bytes()[0];
    let body = &text[1..];
    if quote == b'"' {
        let end = body.find(['"', '\\']).ok_or(NotPlain)?;
        if body.as_bytes()[end] == b'\\' {
            return Err(NotPlain);
        }
        return Ok((Cow::Borrowed(&body[..end]), &body[end + 1..]));
    }
    let end = body.find('\'').ok_or(NotPlain)?;
    if !body[end + 1..].starts_with('\'') {
        return Ok((Cow::Borrowed(&body[..end]), &body[end + 1..]));
    }
    let mut out = String::new();
    let mut rest = body;
    loop {
        let end = rest.find('\'').ok_or(NotPlain)?;
        out.push_str(&rest[..end]);
        if rest[end + 1..].starts_with('\'') {
            out.push('\'');
            rest = &rest[end + 2..];
        } else {
            return Ok((Cow::Owned(out), &rest[end + 1..]));
        }
    }
}

/// A plain scalar on the rest of a block line: up to a comment, trailing spaces dropped; the
/// scalar and what follows it. A `: ` or a final `:` inside it (a mapping where a scalar
/// must be) and an indicator at its start are the full reader's.
fn plain_in_block(text: &str) -> Read<(&str, &str)> {
    let first = text.as_bytes()[0];
    let indicator = matches!(
        first,
        b'-' | b'?'
            | b':'
            | b','
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'#'
            | b'&'
            | b'*'
            | b'!'
            | b'|'
            | b'>'
            | b'\''
            | b'"'
            | b'%'
            | b'@'
            | b'`'
    );
    if indicator && !(first == b'-' && text.len() > 1) {
        return Err(NotPlain);
    }
    let bytes = text.as_bytes();
    let mut end = bytes.len();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'#' if bytes[i - 1] == b' ' => {
                end = i;
                break;
            }
            b':' if bytes.get(i + 1).is_none_or(|&n| n == b' ') => return Err(NotPlain),
            _ => {}
        }
    }
    let plain = text[..end].trim_end_matches(' ');
    Ok((plain, &text[plain.len()..]))
}

/// A plain scalar's value, as `yaml_serde` resolves it, where that is plain to see: null,
/// booleans, decimal integers that fit 64 bits, and text that cannot be a number. Anything
/// that might be a float, or an integer written another way, is the full reader's.
fn resolve(plain: &str) -> Read<Val<'_>> {
    match plain {
        "~" | "null" | "Null" | "NULL" => return Ok(Val::Null),
        "true" | "True" | "TRUE" => return Ok(Val::Bool(true)),
        "false" | "False" | "FALSE" => return Ok(Val::Bool(false)),
        _ => {}
    }
    let first = plain.as_bytes()[0];
    if first.is_ascii_alphabetic() || first >= 0x80 || matches!(first, b'_' | b'/' | b'(' | b'$') {
        // Rust's float parser takes `inf`, `nan` and `infinity` in any case, but
        // `yaml_serde` keeps only finite floats, so a word is text.
        return Ok(Val::Str(Cow::Borrowed(plain)));
    }
    let digits = plain.strip_prefix('-').unwrap_or(plain);
    let decimal = !digits.is_empty()
        && digits.len() <= 18
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'));
    if !decimal || plain == "-0" {
        return Err(NotPlain);
    }
    plain.parse().map(Val::Int).map_err(|_| NotPlain)
}
