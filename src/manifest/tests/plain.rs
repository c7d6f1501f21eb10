//! The one-pass reader against the full one: where it answers, the answer is the same values
//! and the same lines; what it cannot read is left to the full reader.

use proptest::prelude::*;

use crate::manifest::document::read_full;
use crate::manifest::nodes::budget_for;
use crate::manifest::plain::{NotPlain, documents};

/// Both readers on `text`: `Ok(true)` when the one-pass reader answered (and agreed),
/// `Ok(false)` when it left the text to the full reader, `Err` with the difference.
fn compare(text: &str) -> Result<bool, String> {
    let budget = budget_for(text.len());
    let Ok(plain) = documents(text, budget) else {
        return Ok(false);
    };
    let mut problems = Vec::new();
    let full = read_full(
        text,
        budget,
        &|line, message| crate::manifest::Problem {
            file: "g.yaml".into(),
            line,
            group: None,
            field: None,
            message,
        },
        &mut problems,
    )
    .ok_or_else(|| format!("the full reader stopped: {problems:?}"))?;
    if !problems.is_empty() {
        return Err(format!("the full reader found problems: {problems:?}"));
    }
    if full.values.len() != plain.len() {
        return Err(format!("documents: {plain:?}\nfull: {:?}", full.values));
    }
    let seen = full.documents();
    if seen != plain {
        return Err(format!("values and lines: {plain:?}\nfull: {seen:?}"));
    }
    if !full.dropped_tags.is_empty() {
        return Err(format!("dropped tags: {:?}", full.dropped_tags));
    }
    Ok(true)
}

fn read_in_one_pass(text: &str) {
    assert_eq!(compare(text), Ok(true), "{text}");
}

fn left_to_the_full_reader(text: &str) {
    assert_eq!(
        documents(text, budget_for(text.len())).map(|_| ()),
        Err(NotPlain),
        "{text}"
    );
}

#[test]
fn the_manifests_people_write_are_read_in_one_pass() {
    // The benchmark's manifests.
    read_in_one_pass(
        "defaults:\n  type: Public\ngroups:\n  - id: bench-0000001\n    name: Group 1\n    \
         owner: user00001\n    introduction: Benchmark group 1, managed by timctl.\n    \
         notification: Be kind.\n    custom:\n      team: t1\n      tier: silver\n    \
         admins: [a1, a2]\n    members: [m1, \"m2\", 'm''3']\n    members_exclusive: true\n",
    );
    // What `timctl export` writes: items not indented, quoted where YAML needs it.
    read_in_one_pass(
        "# yaml-language-server: $schema=schema.json\ngroups:\n- id: g\n  type: Public\n  \
         name: '123'\n  owner: ops_bot\n  face_url: ''\n  max_members: 2000\n  custom: {}\n  \
         mute_all: false\n",
    );
    // Comments, blank lines, several documents, a prune, unicode, extra spaces after `-`.
    read_in_one_pass(
        "# header\n\ndefaults:   # d\n  owner: alice\n---\ngroups:\n  -   id: a   # c\n      \
         name: 全员公告\n\n  -\n    id: b\n    introduction: \"a: b # not a comment\"\n\
         prune:\n  id_prefixes: [\"pr-\", ops-]\n---\n",
    );
    // A list under a key at the key's column, inside a list item.
    read_in_one_pass("groups:\n- id: a\n  admins:\n  - x\n  - y\n  name: n\n- id: b\n");
    // Keys that are numbers or quoted, empty values, a url, `~`.
    read_in_one_pass(
        "groups:\n- id: a\n  custom:\n    1: x\n    \"k\": ~\n    e:\n  face_url: https://x/y?a=b#c\n",
    );
}

#[test]
fn what_the_one_pass_reader_does_not_read_is_left_to_the_full_reader() {
    for text in [
        "a: |\n  text\n",
        "a: >\n  text\n",
        "a: &x 1\nb: *x\n",
        "a: !t 1\n",
        "a: 1.5\n",
        "a: 0x1f\n",
        "a: 007\n",
        "a: +1\n",
        "a: 99999999999999999999\n",
        "a: \"x\\ty\"\n",
        "a: multi\n  line\n",
        "a: b: c\n",
        "a: 1\na: 2\n",
        "<<: {a: 1}\n",
        "? a\n: b\n",
        "a:\tb\n",
        "a: b\r\n",
        "%YAML 1.2\n---\na: 1\n",
        "a: 1\n...\n",
        "--- a: 1\n",
        "a: [1,\n  2]\n",
        "a: [1, 2,]\n",
        "a: {b: 1}\n",
        "a: [b: 1]\n",
        "a:\n  - - x\n",
        "- x\n  y\n",
        "  a: 1\n",
        "a: 1\n  b: 2\n",
        "a:\n    b: 1\n  c: 2\n",
        "just a scalar\n",
        "# only a comment\n",
        "",
        "a: 'open\n",
        "true: 1\n",
        "a: \u{85}\n",
        "a: x\u{2028}y\n",
        "a: -\n",
        "a: [&x 1]\n",
        "a: @x\n",
    ] {
        left_to_the_full_reader(text);
    }
}

#[test]
fn a_file_beyond_its_value_budget_is_left_to_the_full_reader() {
    let text = "a: [1, 2, 3]\n";
    // The mapping, its key, the list and its 3 items.
    assert!(documents(text, 6).is_ok());
    assert_eq!(documents(text, 5).map(|_| ()), Err(NotPlain));
}

#[test]
fn nesting_beyond_a_manifest_s_is_left_to_the_full_reader() {
    let deep: String = (0..40).map(|i| format!("{}k:\n", "  ".repeat(i))).collect();
    left_to_the_full_reader(&deep);
    let shallow: String = (0..6).map(|i| format!("{}k:\n", "  ".repeat(i))).collect();
    read_in_one_pass(&shallow);
}

/// Scalars as written in a file: plain, and the ones that are not what they look like.
fn scalar() -> impl Strategy<Value = String> {
    let common = prop::sample::select(vec![
        "a",
        "Group 1",
        "12",
        "true",
        "工作",
        "http://x/y",
        "-5",
        "~",
        "x_y",
        "'q'",
        "\"d\"",
        "''",
        "a b c",
    ])
    .prop_map(str::to_owned);
    let plain = prop::sample::select(vec![
        "a",
        "Group 1",
        "true",
        "True",
        "tRUE",
        "FALSE",
        "yes",
        "No",
        "null",
        "NULL",
        "~",
        "0",
        "00",
        "007",
        "-5",
        "-0",
        "12",
        "123456789012345678",
        "1234567890123456789",
        "1.5",
        "1e3",
        "e3",
        ".inf",
        "-.inf",
        ".NaN",
        "nan",
        "inf",
        "Infinity",
        "0x1F",
        "0o7",
        "0b1",
        "+1",
        "a: b",
        "a:b",
        "a #b",
        "a#b",
        "it's",
        "工作",
        "é",
        "-",
        "- x",
        "-x",
        "?x",
        "? x",
        "@x",
        "`x",
        "%x",
        "http://x/y",
        "x,y",
        "[a]",
        "{}",
        "[]",
        "{a: 1}",
        "*a",
        "&a b",
        "!t x",
        "!!str 1",
        "|",
        ">",
        "'q'",
        "\"d\"",
        "a:",
        ":a",
        "_x",
        "/x",
        "(x)",
        "$x",
        "x ",
        "a  b",
        "#",
        "=",
        "<<",
        "a'b",
        "a\"b",
        "\\x",
    ])
    .prop_map(str::to_owned);
    let quoted = prop_oneof![
        "[a-z0-9 :#'\"\\\\工-]{0,6}".prop_map(|s| format!("'{}'", s.replace('\'', "''"))),
        "[a-z0-9 :#'工-]{0,6}".prop_map(|s| format!("\"{s}\"")),
        "[a-z0-9]{0,3}\\\\[nt\"]".prop_map(|s| format!("\"{s}\"")),
    ];
    prop_oneof![12 => common, 2 => plain, 1 => quoted]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => prop::sample::select(vec!["id", "name", "custom", "a", "b", "1", "工", "\"q\""])
            .prop_map(str::to_owned),
        1 => prop::sample::select(vec![
            "id", "name", "custom", "groups", "a", "b", "1", "-1", "true", "null", "k k",
            "a#b", "工", "<<", "\"q\"", "'s'", "'i''t'", "? x", "x ", "1.5",
        ])
        .prop_map(str::to_owned),
        1 => "[a-z]{1,3}".prop_map(|s| s),
    ]
}

/// A YAML node, rendered by [`render`].
#[derive(Clone, Debug)]
enum Node {
    Scalar(String),
    Flow(Vec<String>),
    Map(Vec<(String, Node)>),
    Seq(Vec<Node>),
}

fn node() -> impl Strategy<Value = Node> {
    let leaf = prop_oneof![
        4 => scalar().prop_map(Node::Scalar),
        1 => prop::collection::vec(scalar(), 0..4).prop_map(Node::Flow),
    ];
    leaf.prop_recursive(5, 40, 4, |inner| {
        prop_oneof![
            prop::collection::vec((key(), inner.clone()), 1..4).prop_map(Node::Map),
            prop::collection::vec(inner, 1..4).prop_map(Node::Seq),
        ]
    })
}

/// How a document is laid out.
#[derive(Clone, Debug)]
struct Style {
    indent: usize,
    compact: bool,
    after_dash: usize,
    comment: bool,
    blank: bool,
}

fn style() -> impl Strategy<Value = Style> {
    (
        1usize..5,
        any::<bool>(),
        1usize..4,
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(indent, compact, after_dash, comment, blank)| Style {
            indent,
            compact,
            after_dash,
            comment,
            blank,
        })
}

fn render(node: &Node, col: usize, style: &Style, out: &mut String) {
    let pad = " ".repeat(col);
    let end = |out: &mut String| {
        if style.comment {
            out.push_str(" # c");
        }
        out.push('\n');
        if style.blank {
            out.push('\n');
        }
    };
    match node {
        Node::Scalar(s) => {
            out.push_str(s);
            end(out);
        }
        Node::Flow(items) => {
            out.push('[');
            out.push_str(&items.join(", "));
            out.push(']');
            end(out);
        }
        Node::Map(entries) => {
            for (i, (key, value)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(&pad);
                }
                out.push_str(key);
                out.push(':');
                match value {
                    Node::Map(_) => {
                        end(out);
                        out.push_str(&" ".repeat(col + style.indent));
                        render(value, col + style.indent, style, out);
                    }
                    Node::Seq(_) => {
                        end(out);
                        let at = if style.compact {
                            col
                        } else {
                            col + style.indent
                        };
                        out.push_str(&" ".repeat(at));
                        render(value, at, style, out);
                    }
                    _ => {
                        out.push(' ');
                        render(value, col, style, out);
                    }
                }
            }
        }
        Node::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(&pad);
                }
                out.push('-');
                out.push_str(&" ".repeat(style.after_dash));
                render(item, col + 1 + style.after_dash, style, out);
            }
        }
    }
}

fn document() -> impl Strategy<Value = String> {
    let root = prop::collection::vec((key(), node()), 1..4).prop_map(Node::Map);
    prop::collection::vec((root, style()), 1..3).prop_map(|docs| {
        docs.iter()
            .map(|(root, style)| {
                let mut text = String::new();
                render(root, 0, style, &mut text);
                text
            })
            .collect::<Vec<_>>()
            .join("---\n")
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn where_the_one_pass_reader_answers_the_full_reader_agrees(text in document()) {
        compare(&text).map_err(|e| TestCaseError::fail(format!("{e}\n--- text:\n{text}")))?;
    }
}

/// The generator reaches the one-pass reader: a good part of its documents (about a tenth)
/// are read by it, so the property above compares real answers.
#[test]
fn generated_documents_of_plain_scalars_are_read_in_one_pass() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut read, mut all) = (0, 0);
    for _ in 0..500 {
        let text = document()
            .new_tree(&mut runner)
            .expect("a document")
            .current();
        all += 1;
        if compare(&text).expect("the readers agree") {
            read += 1;
        }
    }
    assert!(read * 20 > all, "only {read} of {all} read in one pass");
}
