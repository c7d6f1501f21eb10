//! A cheap pass over a manifest's text before the YAML parser sees it, for what the parser
//! makes expensive.
//!
//! Nesting: on every token, libyaml rechecks a possible key for each open flow collection
//! (`[`, `{`), and `yaml_serde` collects a document's events before it applies its recursion
//! limit (128). In a release build 200 KB of `{a: ` took 42 s (the cost is quadratic), 2 MB of
//! `[` 14 s and 330 MB, all to end in "recursion limit exceeded". Lists and mappings nested
//! more than [`MAX_NESTING`] deep are refused here instead, with the line, in one linear pass,
//! and the file is not parsed.
//!
//! The pass is a lexer, not a parser: it knows where YAML text is a comment, a quoted or block
//! scalar or a plain scalar (in which brackets are text), and counts the block collections
//! open at a line (by the columns of their `-` and `key:` indicators) plus the flow
//! collections open at a character. It splits lines where libyaml does (`\n`, `\r`, NEL, LS,
//! PS), so that a break the parser sees cannot hide brackets from it.
//!
//! Tags: `yaml_serde` keeps a local tag (`!custom`) on the value it tags, but reads a value
//! under any other tag as if untagged, except the scalar tags it checks (`!!str`, `!!int`,
//! `!!float`, `!!bool`, `!!null`): `!!binary aGk=` would be the text `aGk=`. The scan lists
//! those other tags with their lines ([`Scanned::dropped_tags`]), and `%TAG` directives,
//! which change what a tag means, so that they are refused rather than silently dropped.
//!
//! Guarantees: valid YAML nested at most [`MAX_NESTING`] deep is never refused (a manifest
//! needs about 5 levels); the count can run low on unusual layouts (a sequence at its parent
//! key's column counts as one level with it), never by more than half, so anything passed
//! here nests at most twice as deep — within `yaml_serde`'s limit, where the parser's
//! per-token cost stays small.

/// The deepest nesting of lists and mappings a manifest may use.
pub(crate) const MAX_NESTING: usize = 64;

/// Lists and mappings nested deeper than [`MAX_NESTING`], first at `line` (1-based).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct TooDeep {
    pub line: usize,
}

/// The scalar tags `yaml_serde` honours: it checks and converts the value (`!!int "5"` is 5).
pub(crate) const HONOURED_TAGS: &[&str] = &["str", "int", "float", "bool", "null"];

/// What a scan found that the parser would not report.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Scanned {
    /// Tags the parser would drop, reading their value as untagged: (line, tag as written).
    pub dropped_tags: Vec<(usize, String)>,
    /// Lines of `%TAG` directives.
    pub tag_directives: Vec<usize>,
}

/// `text` without its byte order marks (U+FEFF) where a document may start: at the start of
/// the file, at the start of a `---` or `...` marker line, and at the start of the line after
/// one (files joined with `cat`, or documents pasted from an editor that writes a BOM). libyaml
/// takes only the first; elsewhere a BOM would be read as part of a key or refused. Lines keep
/// their numbers. A BOM anywhere else is left to the parser.
pub(crate) fn without_boms(text: &str) -> std::borrow::Cow<'_, str> {
    const BOM: char = '\u{feff}';
    if !text.contains(BOM) {
        return std::borrow::Cow::Borrowed(text);
    }
    let is_marker = |line: &str| {
        let line = line.trim_end_matches(['\r', '\n']);
        (line.starts_with("---") || line.starts_with("..."))
            && line[3..]
                .chars()
                .next()
                .is_none_or(|c| c == ' ' || c == '\t')
    };
    let mut out = String::with_capacity(text.len());
    let mut after_marker = true;
    for line in text.split_inclusive('\n') {
        let stripped = line.strip_prefix(BOM);
        let line = match stripped {
            Some(rest) if after_marker || is_marker(rest) => rest,
            _ => line,
        };
        after_marker = is_marker(line);
        out.push_str(line);
    }
    std::borrow::Cow::Owned(out)
}

/// Scans `text`; `Err` if its nesting is deeper than [`MAX_NESTING`].
pub(crate) fn scan(text: &str) -> Result<Scanned, TooDeep> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut scanner = Scanner::default();
    for (index, line) in Lines(text.as_bytes()).enumerate() {
        scanner.line = index + 1;
        scanner.scan_line(line)?;
    }
    Ok(scanner.found)
}

/// `Some(tag as written)` when `yaml_serde` would read the value under `tag` as untagged:
/// a tag that is neither local (`!x`, `!<!x>`) nor one of [`HONOURED_TAGS`]. A named handle
/// (`!e!x`) is left out: without a `%TAG` directive (itself refused) libyaml refuses it.
fn dropped_tag(tag: &[u8]) -> Option<String> {
    const CORE: &[u8] = b"tag:yaml.org,2002:";
    let honoured = |name: &[u8]| HONOURED_TAGS.iter().any(|h| h.as_bytes() == name);
    let dropped = if let Some(uri) = tag.strip_prefix(b"!<").and_then(|t| t.strip_suffix(b">")) {
        let uri = percent_decoded(uri);
        !uri.starts_with(b"!") && !uri.strip_prefix(CORE).is_some_and(honoured)
    } else if let Some(name) = tag.strip_prefix(b"!!") {
        !honoured(&percent_decoded(name))
    } else {
        false
    };
    dropped.then(|| String::from_utf8_lossy(tag).into_owned())
}

/// `%XX` escapes decoded, as libyaml decodes them in tags.
fn percent_decoded(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let hex = text
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (text[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

/// The lines of a text, split at every break libyaml knows.
struct Lines<'a>(&'a [u8]);

impl<'a> Iterator for Lines<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.0.is_empty() {
            return None;
        }
        let text = self.0;
        let mut i = 0;
        while i < text.len() {
            let width = match (text[i], text.get(i + 1), text.get(i + 2)) {
                (b'\r', Some(b'\n'), _) => 2,
                (b'\n' | b'\r', ..) => 1,
                (0xC2, Some(0x85), _) => 2,
                (0xE2, Some(0x80), Some(0xA8 | 0xA9)) => 3,
                _ => 0,
            };
            if width > 0 {
                self.0 = &text[i + width..];
                return Some(&text[..i]);
            }
            i += 1;
        }
        self.0 = &[];
        Some(text)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Quote {
    Single,
    Double,
}

/// A block scalar (`|`, `>`) whose content lines are being skipped.
#[derive(Clone, Copy, Debug)]
struct BlockScalar {
    /// The column of the collection holding it (-1 at the document's root): content lines
    /// are indented more.
    parent: isize,
    /// The content's indentation, once known (from an indicator or the first content line).
    indent: Option<usize>,
    /// The most spaces on an empty line before the first content line.
    longest_empty: usize,
}

#[derive(Debug, Default)]
struct Scanner {
    line: usize,
    /// Columns of the open block collections, increasing.
    blocks: Vec<usize>,
    /// Open flow collections.
    flow: usize,
    /// Inside a quoted scalar that goes on past its line.
    quote: Option<Quote>,
    block_scalar: Option<BlockScalar>,
    /// A plain scalar in block context ended its line: lines indented more than this column
    /// continue it.
    plain: Option<isize>,
    /// A plain scalar in flow context ended its line, and may go on at the next.
    flow_plain: bool,
    found: Scanned,
}

fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

fn is_flow_indicator(b: u8) -> bool {
    matches!(b, b',' | b'[' | b']' | b'{' | b'}')
}

/// `---` or `...` at the start of a line, alone or before a blank.
fn is_document_marker(line: &[u8]) -> bool {
    (line.starts_with(b"---") || line.starts_with(b"..."))
        && line.get(3).is_none_or(|&b| is_blank(b))
}

impl Scanner {
    fn scan_line(&mut self, line: &[u8]) -> Result<(), TooDeep> {
        let indent = line.iter().take_while(|&&b| b == b' ').count();
        let blank = line.iter().all(|&b| is_blank(b));
        let marker = is_document_marker(line);
        if let Some(mut scalar) = self.block_scalar {
            // libyaml's rule: the content's indentation is given, or that of the first
            // non-empty line, raised to the longest empty line before it, to one more than the
            // parent's, and to 1; a non-empty line indented less ends the scalar.
            let content = match scalar.indent {
                _ if marker => false,
                Some(at_least) => indent >= at_least || blank,
                None if blank => {
                    scalar.longest_empty = scalar.longest_empty.max(indent);
                    true
                }
                None => {
                    let floor = usize::try_from(scalar.parent + 1).unwrap_or(0).max(1);
                    let at_least = indent.max(scalar.longest_empty).max(floor);
                    scalar.indent = Some(at_least);
                    indent >= at_least
                }
            };
            if content {
                self.block_scalar = Some(scalar);
                return Ok(());
            }
            self.block_scalar = None;
        }
        if marker {
            // A new document (or the end of one): nothing stays open.
            *self = Scanner {
                line: self.line,
                found: std::mem::take(&mut self.found),
                ..Scanner::default()
            };
            return if line.starts_with(b"---") {
                self.tokens(line, 3, true)
            } else {
                Ok(())
            };
        }
        if let Some(quote) = self.quote {
            return match self.close_quote(line, 0, quote) {
                Some(after) => {
                    self.quote = None;
                    self.tokens(line, after, false)
                }
                None => Ok(()),
            };
        }
        if blank {
            return Ok(());
        }
        let first = line[indent..]
            .iter()
            .position(|&b| !is_blank(b))
            .map_or(line.len(), |p| indent + p);
        if line[first] == b'#' {
            self.plain = None;
            self.flow_plain = false;
            return Ok(());
        }
        if self.flow > 0 {
            return self.tokens(line, first, true);
        }
        if line[0] == b'%' && self.plain.is_none() {
            // A directive.
            if line.starts_with(b"%TAG") && line.get(4).is_none_or(|&b| is_blank(b)) {
                self.found.tag_directives.push(self.line);
            }
            return Ok(());
        }
        if let Some(parent) = self.plain
            && indent as isize > parent
        {
            // The plain scalar goes on; a comment may end it.
            if self.comment_in_plain(line, first) {
                self.plain = None;
            }
            return Ok(());
        }
        self.plain = None;
        while self.blocks.last().is_some_and(|&col| col > indent) {
            self.blocks.pop();
        }
        self.tokens(line, first, true)
    }

    /// Whether ` #` occurs in `line` from `from` on (it ends a plain scalar).
    fn comment_in_plain(&self, line: &[u8], from: usize) -> bool {
        (from..line.len()).any(|i| line[i] == b'#' && (i == from || is_blank(line[i - 1])))
    }

    fn check(&self) -> Result<(), TooDeep> {
        if self.blocks.len() + self.flow > MAX_NESTING {
            Err(TooDeep { line: self.line })
        } else {
            Ok(())
        }
    }

    /// A block collection starts at `col` (a `-`, `?` or key there): it replaces any at the
    /// same or a deeper column.
    fn open_block(&mut self, col: usize) -> Result<(), TooDeep> {
        while self.blocks.last().is_some_and(|&c| c >= col) {
            self.blocks.pop();
        }
        self.blocks.push(col);
        self.check()
    }

    /// The column of the innermost open block collection, -1 at the root.
    fn parent(&self) -> isize {
        self.blocks.last().map_or(-1, |&c| c as isize)
    }

    /// Reads the tokens of `line` from `pos`. `node_start`: a node may begin at `pos` (so an
    /// indicator there is one, not text).
    fn tokens(&mut self, line: &[u8], mut pos: usize, mut node_start: bool) -> Result<(), TooDeep> {
        // Where the last scalar began, for a `:` after it to open a mapping there.
        let mut scalar_start = pos;
        loop {
            while pos < line.len() && is_blank(line[pos]) {
                pos += 1;
            }
            let Some(&b) = line.get(pos) else {
                return Ok(());
            };
            let next = line.get(pos + 1).copied();
            let blank_next = next.is_none_or(is_blank);
            let flow = self.flow > 0;
            if b == b'#' && (pos == 0 || is_blank(line[pos - 1])) {
                self.flow_plain = false;
                return Ok(());
            }
            if flow && self.flow_plain && !is_flow_indicator(b) && !(b == b':' && blank_next) {
                // A plain scalar from the line before goes on.
                self.flow_plain = false;
                pos = self.plain_in_flow(line, pos).max(pos + 1);
                continue;
            }
            self.flow_plain = false;
            match b {
                b'[' | b'{' => {
                    self.flow += 1;
                    self.check()?;
                    pos += 1;
                    node_start = true;
                }
                b']' | b'}' => {
                    self.flow = self.flow.saturating_sub(1);
                    pos += 1;
                    node_start = false;
                }
                b',' if flow => {
                    pos += 1;
                    node_start = true;
                }
                b'-' | b'?' if node_start && !flow && blank_next => {
                    self.open_block(pos)?;
                    pos += 1;
                    node_start = true;
                }
                b'?' if flow && next.is_none_or(|n| is_blank(n) || is_flow_indicator(n)) => {
                    pos += 1;
                    node_start = true;
                }
                b':' if blank_next || (flow && next.is_some_and(is_flow_indicator)) => {
                    // After a key (or explicit `: value`): a mapping at the key's column.
                    if !flow && !node_start {
                        self.open_block(scalar_start)?;
                    }
                    pos += 1;
                    node_start = true;
                }
                b'|' | b'>' if node_start && !flow => {
                    let parent = self.parent();
                    let indent = line[pos + 1..]
                        .iter()
                        .take_while(|&&b| !is_blank(b))
                        .find(|b| b.is_ascii_digit())
                        .map(|d| {
                            let d = usize::from(d - b'0');
                            usize::try_from(parent).map_or(d, |p| p + d)
                        });
                    self.block_scalar = Some(BlockScalar {
                        parent,
                        indent,
                        longest_empty: 0,
                    });
                    return Ok(());
                }
                b'"' | b'\'' if node_start => {
                    let quote = if b == b'"' {
                        Quote::Double
                    } else {
                        Quote::Single
                    };
                    scalar_start = pos;
                    match self.close_quote(line, pos + 1, quote) {
                        Some(after) => pos = after,
                        None => {
                            self.quote = Some(quote);
                            return Ok(());
                        }
                    }
                    node_start = false;
                }
                b'&' | b'!' | b'*' if node_start => {
                    // An anchor, tag or alias: up to a blank or flow indicator, which libyaml
                    // allows in none of them but a verbatim tag (`!<…>`).
                    let verbatim = line[pos..].starts_with(b"!<");
                    let start = pos;
                    pos += 1;
                    while let Some(&c) = line.get(pos) {
                        let ends = if verbatim {
                            line[pos - 1] == b'>'
                        } else {
                            is_blank(c) || is_flow_indicator(c)
                        };
                        if ends {
                            break;
                        }
                        pos += 1;
                    }
                    if b == b'!'
                        && let Some(tag) = dropped_tag(&line[start..pos])
                    {
                        self.found.dropped_tags.push((self.line, tag));
                    }
                    scalar_start = pos;
                    node_start = b != b'*';
                }
                _ => {
                    scalar_start = pos;
                    if flow {
                        // At least one character: `b` is none of the indicators ending it.
                        pos = self.plain_in_flow(line, pos).max(pos + 1);
                    } else {
                        match self.plain_in_block(line, pos) {
                            Some(colon) => pos = colon,
                            None => {
                                self.plain =
                                    (!self.comment_in_plain(line, pos)).then(|| self.parent());
                                return Ok(());
                            }
                        }
                    }
                    node_start = false;
                }
            }
        }
    }

    /// Skips a plain scalar in flow context from `pos`: to a flow indicator, a `:` before a
    /// blank or indicator, a comment, or the end of the line (then it may go on).
    fn plain_in_flow(&mut self, line: &[u8], mut pos: usize) -> usize {
        while let Some(&b) = line.get(pos) {
            let next = line.get(pos + 1).copied();
            let ends = is_flow_indicator(b)
                || (b == b':' && next.is_none_or(|n| is_blank(n) || is_flow_indicator(n)))
                || (b == b'#' && pos > 0 && is_blank(line[pos - 1]));
            if ends {
                return pos;
            }
            pos += 1;
        }
        self.flow_plain = true;
        pos
    }

    /// Skips a plain scalar in block context from `pos`: `Some` position of the `:` that
    /// makes it a key, or `None` when it runs to a comment or the end of the line.
    fn plain_in_block(&self, line: &[u8], mut pos: usize) -> Option<usize> {
        while let Some(&b) = line.get(pos) {
            if b == b':' && line.get(pos + 1).is_none_or(|&n| is_blank(n)) {
                return Some(pos);
            }
            if b == b'#' && is_blank(line[pos - 1]) {
                return None;
            }
            pos += 1;
        }
        None
    }

    /// The position after the quote that closes a `quote` scalar, searching from `pos`.
    fn close_quote(&self, line: &[u8], mut pos: usize, quote: Quote) -> Option<usize> {
        while let Some(&b) = line.get(pos) {
            match (quote, b) {
                (Quote::Double, b'\\') => pos += 2,
                (Quote::Double, b'"') => return Some(pos + 1),
                (Quote::Single, b'\'') if line.get(pos + 1) == Some(&b'\'') => pos += 2,
                (Quote::Single, b'\'') => return Some(pos + 1),
                _ => pos += 1,
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[test]
    fn byte_order_marks_go_where_a_document_starts_and_stay_elsewhere() {
        let bom = '\u{feff}';
        let text =
            format!("{bom}a: 1\n{bom}---\n{bom}b: 2\n{bom}c: 3\n---\r\n{bom}d: \"{bom}x\"\n");
        assert_eq!(
            without_boms(&text),
            format!("a: 1\n---\nb: 2\n{bom}c: 3\n---\r\nd: \"{bom}x\"\n")
        );
        assert!(matches!(
            without_boms("a: 1\n"),
            std::borrow::Cow::Borrowed(_)
        ));
        // `---x` is not a marker: the line after it keeps its BOM.
        let text = format!("---x\n{bom}a: 1\n");
        assert_eq!(without_boms(&text), text);
    }

    #[test]
    fn tags_the_parser_would_drop_are_listed_with_their_lines() {
        let text = "\
%TAG !e! tag:example.com,2000:
---
a: !!binary aGk=
b: [!!str x, !!int '5', !!float 1, !!bool true, !!null ~, !!map {}, !!seq []]
c: !local x
d: !<!local> x
e: !<tag:yaml.org,2002:str> x
f: !<tag:yaml.org,2002:binary> x
g: !<tag:example.com:x> x
h: '!!binary' # !!binary
i: |
  !!binary
j: !!%73tr x
k: !e!x y
";
        let scanned = scan(text).expect("shallow");
        let expected = [
            (3, "!!binary"),
            (4, "!!map"),
            (4, "!!seq"),
            (8, "!<tag:yaml.org,2002:binary>"),
            (9, "!<tag:example.com:x>"),
        ];
        let expected: Vec<(usize, String)> = expected
            .iter()
            .map(|(l, t)| (*l, (*t).to_owned()))
            .collect();
        assert_eq!(scanned.dropped_tags, expected);
        assert_eq!(scanned.tag_directives, [1]);
    }

    fn deep(text: &str) -> Option<usize> {
        scan(text).err().map(|e| e.line)
    }

    #[test]
    fn lines_split_where_libyaml_breaks_them() {
        let lines: Vec<&[u8]> = Lines("a\nb\r\nc\rd\u{85}e\u{2028}f\u{2029}g".as_bytes()).collect();
        let expected: Vec<&[u8]> = vec![b"a", b"b", b"c", b"d", b"e", b"f", b"g"];
        assert_eq!(lines, expected);
        assert_eq!(Lines(b"a\n").count(), 1);
    }

    #[test]
    fn flow_nesting_is_counted_to_the_limit() {
        let at = |n: usize| format!("a: {}{}\n", "[".repeat(n), "]".repeat(n));
        assert_eq!(deep(&at(MAX_NESTING - 1)), None);
        assert_eq!(deep(&at(MAX_NESTING)), Some(1));
        assert_eq!(
            deep(&format!("x:\n  - {{a: {}", "[".repeat(MAX_NESTING))),
            Some(2)
        );
        assert_eq!(deep(&"[\n".repeat(MAX_NESTING + 1)), Some(MAX_NESTING + 1));
    }

    #[test]
    fn block_nesting_counts_dashes_and_indented_keys() {
        let dashes = |n: usize| format!("{}x\n", "- ".repeat(n));
        assert_eq!(deep(&dashes(MAX_NESTING)), None);
        assert_eq!(deep(&dashes(MAX_NESTING + 1)), Some(1));
        let keys = |n: usize| {
            (0..n)
                .map(|i| format!("{}k:\n", " ".repeat(i)))
                .collect::<String>()
        };
        assert_eq!(deep(&keys(MAX_NESTING)), None);
        assert_eq!(deep(&keys(MAX_NESTING + 1)), Some(MAX_NESTING + 1));
        // Siblings and dedents close what they follow.
        let wide = "a:\n  b:\n    c: 1\n  d: 2\ne:\n- f\n".repeat(1000);
        assert_eq!(deep(&wide), None);
    }

    #[test]
    fn brackets_in_text_are_not_nesting() {
        let brackets = "[".repeat(100);
        for text in [
            format!("a: \"{brackets}\"\n"),
            format!("a: '{brackets} it''s'\n"),
            format!("a: \"{brackets}\n  {brackets}\"\n"),
            format!("a: x # {brackets}\n# {brackets}\n"),
            format!("a: plain {brackets} text\n  and more {brackets}\n"),
            format!("a: |\n  {brackets}\n\n  {brackets}\nb: >2-\n   {brackets}\n"),
            format!("- |\n {brackets}\n- [x, \"{brackets}\", '{brackets}', y]\n"),
            format!("a: [it's, x \"y, b#c\n  'd', '{brackets}']\n"),
            format!("a: !local 1\nb: !<tag:{brackets}> 2\n"),
            format!("--- |\n {brackets}\n--- >\n\n  \n  {brackets}\n"),
            format!("a: \"x\\\"{brackets}\"\n"),
        ] {
            let parsed = serde_yaml::Deserializer::from_str(&text)
                .map(serde_yaml::Value::deserialize)
                .collect::<Result<Vec<_>, _>>();
            assert!(parsed.is_ok(), "not valid YAML: {parsed:?}\n{text}");
            assert_eq!(deep(&text), None, "{text}");
        }
    }

    #[test]
    fn text_that_ends_where_the_parser_ends_it_hides_nothing() {
        let brackets = "[".repeat(MAX_NESTING + 1);
        for text in [
            // The block scalar's content is indented more than `key`; `other` is a new key.
            format!("- key: |\n  other: {brackets}\n"),
            format!("a: |\n  text\u{2028}{brackets}\n"),
            format!("a: |\n  text\r{brackets}\n"),
            format!("a: \"text\"{brackets}\n"),
            format!("a: plain\n{brackets}\n"),
            format!("a: 'it''s' {brackets}\n"),
            format!("a: x #c\n  {brackets}\n"),
            // `'y` goes on the plain scalar `x`: it opens no quote.
            format!("a: [x\n  'y]\nb: {brackets}\n"),
            format!("a: |\n  text\n---\n{brackets}\n"),
            // Content starts at column 1 at least, and after a longer empty line, deeper.
            format!("--- |\n{brackets}\n"),
            format!("a: |\n    \n  {brackets}\n"),
        ] {
            assert!(deep(&text).is_some(), "{text:?}");
        }
    }
}
