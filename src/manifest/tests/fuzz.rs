//! Properties: the loader never panics (random bytes, manifest-like token soup, and
//! structurally random YAML: nested maps, lists, scalars and tags under `groups`, `defaults` and
//! `prune`), every problem names its file, and written groups come back with their lines.

use std::collections::BTreeMap;
use std::path::Path;

use proptest::prelude::*;

use serde_yaml::Value as Yaml;
use serde_yaml::value::{Tag, TaggedValue};

use super::{load, load_with};
use crate::manifest::Limits;
use crate::manifest::document::{Declared, read_file};
use crate::manifest::scan::scan;
use crate::model::{ApplyJoin, Group, GroupType};

fn read_bytes(bytes: &[u8]) -> Vec<String> {
    let mut declared = Declared::default();
    let mut problems = Vec::new();
    read_file(
        Path::new("g.yaml"),
        bytes,
        &Limits::default(),
        &mut declared,
        &mut problems,
    );
    problems.iter().map(ToString::to_string).collect()
}

/// Pieces that make text look like a manifest, so the fuzzing reaches past the parser.
fn yamlish() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("\n".to_owned()),
        Just("  ".to_owned()),
        Just("- ".to_owned()),
        Just(": ".to_owned()),
        Just("---\n".to_owned()),
        Just("# c\n".to_owned()),
        Just("|\n".to_owned()),
        Just("&a ".to_owned()),
        Just("*a".to_owned()),
        Just("<<: ".to_owned()),
        Just("{".to_owned()),
        Just("}".to_owned()),
        Just("[".to_owned()),
        Just("]".to_owned()),
        Just("\"".to_owned()),
        Just("'".to_owned()),
        Just("groups:\n".to_owned()),
        Just("defaults:\n".to_owned()),
        Just("prune:\n  id_prefixes: ".to_owned()),
        Just("\u{feff}".to_owned()),
        prop::sample::select(crate::manifest::fields::GROUP_KEYS).prop_map(|k| format!("{k}: ")),
        "[a-zA-Z0-9@#_ 工é\t-]{0,12}",
        (0u64..200_000).prop_map(|n| n.to_string()),
    ];
    prop::collection::vec(piece, 0..60).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        read_bytes(&bytes);
    }

    #[test]
    fn random_yamlish_text_never_panics_and_problems_name_the_file(text in yamlish()) {
        for problem in read_bytes(text.as_bytes()) {
            prop_assert!(problem.starts_with("g.yaml"), "{}", problem);
        }
    }

    #[test]
    fn generated_manifests_load_back_with_their_lines(
        groups in prop::collection::btree_map("[a-z][a-z0-9-]{0,20}", group_fields(), 1..8),
        indent in prop::sample::select(vec![0usize, 2, 4]),
        gaps in prop::collection::vec(0usize..3, 8),
    ) {
        let (text, lines) = render(&groups, indent, &gaps);
        let desired = match load(&text) {
            Ok(desired) => desired,
            Err(problems) => return Err(TestCaseError::fail(format!("{text}\n{problems:#?}"))),
        };
        prop_assert_eq!(desired.groups.len(), groups.len());
        for (id, expected) in &groups {
            let loaded = &desired.groups[&crate::model::GroupId::from(id.as_str())];
            let mut expected = expected.clone();
            expected.id = id.as_str().into();
            prop_assert_eq!(&loaded.group, &expected);
            prop_assert_eq!(loaded.source.line, Some(lines[id]), "{}", text);
        }
    }
}

/// A YAML scalar: what the fields expect, near misses, and plain noise.
fn scalar() -> impl Strategy<Value = Yaml> {
    prop_oneof![
        Just(Yaml::Null),
        any::<bool>().prop_map(Yaml::Bool),
        any::<i64>().prop_map(|n| Yaml::Number(n.into())),
        any::<u64>().prop_map(|n| Yaml::Number(n.into())),
        any::<f64>().prop_map(|n| Yaml::Number(n.into())),
        prop::sample::select(vec![
            "Public",
            "Private",
            "ChatRoom",
            "AVChatRoom",
            "Community",
            "Pubic",
            "absent",
            "present",
            "NeedPermission",
            "FreeAccess",
            "DisableApply",
            "On",
            "yes",
            "~",
            "",
            "@TGS#_x",
            "eng",
            "1e3",
            "0x1F",
            "-0",
        ])
        .prop_map(|s| Yaml::String(s.to_owned())),
        "[\\PC\n]{0,40}".prop_map(Yaml::String),
        (0usize..120).prop_map(|n| Yaml::String("é".repeat(n))),
    ]
}

/// A manifest key, mostly a real one.
fn key() -> impl Strategy<Value = Yaml> {
    prop_oneof![
        6 => prop::sample::select(crate::manifest::fields::GROUP_KEYS)
            .prop_map(|k| Yaml::String(k.to_owned())),
        1 => "[a-z_]{1,10}".prop_map(Yaml::String),
        1 => scalar(),
    ]
}

fn mapping(entries: Vec<(Yaml, Yaml)>) -> Yaml {
    Yaml::Mapping(entries.into_iter().collect())
}

/// Any YAML value, nested up to four levels, tags included.
fn value() -> impl Strategy<Value = Yaml> {
    scalar().prop_recursive(4, 40, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Yaml::Sequence),
            prop::collection::vec((key(), inner.clone()), 0..5).prop_map(mapping),
            ("![a-z]{1,6}", inner).prop_map(|(tag, value)| {
                Yaml::Tagged(Box::new(TaggedValue {
                    tag: Tag::new(tag),
                    value,
                }))
            }),
        ]
    })
}

/// A group entry: mostly a map with a good id and type, so the checks
/// of the other keys are reached, and random values under known keys.
fn entry() -> impl Strategy<Value = Yaml> {
    let string = |s: &str| Yaml::String(s.to_owned());
    let map = (
        prop::option::weighted(0.8, "[a-z][a-z0-9-]{0,8}"),
        prop::option::weighted(
            0.7,
            prop::sample::select(vec![
                "Private",
                "Public",
                "ChatRoom",
                "AVChatRoom",
                "Community",
            ]),
        ),
        prop::collection::vec((key(), value()), 0..6),
    )
        .prop_map(move |(id, kind, rest)| {
            let mut entries = Vec::new();
            entries.extend(id.map(|id| (string("id"), Yaml::String(id))));
            entries.extend(kind.map(|kind| (string("type"), string(kind))));
            entries.extend(rest);
            mapping(entries)
        });
    prop_oneof![6 => map, 1 => value()]
}

/// A `defaults` block: mostly a map of known keys to random values.
fn defaults() -> impl Strategy<Value = Yaml> {
    prop_oneof![
        4 => prop::collection::vec((key(), value()), 0..6).prop_map(mapping),
        1 => value(),
    ]
}

/// A document shaped like a manifest at the top, random below.
fn document() -> impl Strategy<Value = Yaml> {
    let groups = prop_oneof![
        4 => prop::collection::vec(entry(), 0..6).prop_map(Yaml::Sequence),
        1 => value(),
    ];
    let prune = prop_oneof![
        3 => value().prop_map(|v| mapping(vec![(Yaml::String("id_prefixes".into()), v)])),
        1 => value(),
    ];
    let named = |name: &'static str, v: Option<Yaml>| v.map(|v| (Yaml::String(name.into()), v));
    let top = (
        prop::option::of(groups),
        prop::option::of(defaults()),
        prop::option::of(prune),
        prop::collection::vec((key(), value()), 0..2),
    )
        .prop_map(move |(groups, defaults, prune, extra)| {
            let mut entries: Vec<(Yaml, Yaml)> = [
                named("groups", groups),
                named("defaults", defaults),
                named("prune", prune),
            ]
            .into_iter()
            .flatten()
            .collect();
            entries.extend(extra);
            mapping(entries)
        });
    prop_oneof![9 => top, 1 => value()]
}

/// YAML text for `docs` (several documents in one file when more than one).
fn yaml_text(docs: &[Yaml]) -> Result<String, TestCaseError> {
    let mut text = String::new();
    for doc in docs {
        let one = serde_yaml::to_string(doc)
            .map_err(|e| TestCaseError::reject(format!("not serializable: {e}")))?;
        if !text.is_empty() {
            text.push_str("---\n");
        }
        text.push_str(&one);
    }
    Ok(text)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn structurally_random_yaml_never_panics_and_problems_name_their_file(
        first in prop::collection::vec(document(), 1..3),
        second in prop::option::of(document()),
    ) {
        let first = yaml_text(&first)?;
        let second = second.map(|doc| yaml_text(&[doc])).transpose()?;
        let mut files = vec![("g.yaml", first.as_str())];
        if let Some(second) = &second {
            files.push(("h.yaml", second.as_str()));
        }
        if let Err(problems) = load_with(&files, &Limits::default()) {
            prop_assert!(!problems.is_empty());
            for problem in problems {
                prop_assert!(
                    problem.starts_with("g.yaml") || problem.starts_with("h.yaml"),
                    "{}\n--- g.yaml\n{}\n--- h.yaml\n{:?}", problem, first, second
                );
            }
        }
    }
}

/// Valid values for the fields of a Private/Public/ChatRoom group (id filled in by the caller).
fn group_fields() -> impl Strategy<Value = Group> {
    let text = |max: usize| {
        prop::option::of("[\\PC\n\"'\\\\:#-]{0,12}")
            .prop_map(move |s| s.map(|s: String| s.chars().take(max / 4).collect::<String>()))
    };
    let custom = prop::option::of(prop::collection::btree_map(
        "[a-z_][a-z0-9_]{0,15}",
        "[\\PC\0]{1,20}",
        0..4,
    ));
    (
        prop::option::of(prop::sample::select(vec![
            GroupType::Private,
            GroupType::Public,
            GroupType::ChatRoom,
        ])),
        text(30).prop_map(|n| n.filter(|n| !n.is_empty())),
        text(240),
        prop::option::of(1u32..=6000),
        prop::option::of(prop::sample::select(ApplyJoin::ALL.to_vec())),
        prop::option::of(any::<bool>()),
        custom,
        prop::option::of(0u64..4_000_000_000),
    )
        .prop_map(
            |(
                group_type,
                name,
                introduction,
                max_members,
                apply_join,
                mute_all,
                custom,
                create_time,
            )| {
                Group {
                    group_type,
                    name: name.map(Into::into),
                    introduction: introduction.map(Into::into),
                    max_members,
                    apply_join,
                    mute_all,
                    custom: custom.map(|map| map.into_iter().collect()),
                    create_time,
                    ..Group::default()
                }
            },
        )
}

/// Block-style YAML for `groups`, with blank lines and comments between entries; returns the
/// text and the line of each group's `-`.
fn render(
    groups: &BTreeMap<String, Group>,
    indent: usize,
    gaps: &[usize],
) -> (String, BTreeMap<String, usize>) {
    let quote = |s: &str| serde_json::to_string(s).expect("a string is JSON");
    let pad = " ".repeat(indent);
    let mut out = vec!["# generated".to_owned(), "groups:".to_owned()];
    let mut lines = BTreeMap::new();
    for (i, (id, g)) in groups.iter().enumerate() {
        for _ in 0..gaps[i % gaps.len()] {
            out.push(format!("{pad}# between groups"));
        }
        out.push(format!("{pad}- id: {}", quote(id)));
        lines.insert(id.clone(), out.len());
        let field = |key: &str, value: String| format!("{pad}  {key}: {value}");
        if let Some(t) = g.group_type {
            out.push(field("type", t.to_string()));
        }
        if let Some(n) = &g.name {
            out.push(field("name", quote(n)));
        }
        if let Some(text) = &g.introduction {
            out.push(field("introduction", quote(text)));
        }
        if let Some(m) = g.max_members {
            out.push(field("max_members", m.to_string()));
        }
        if let Some(a) = g.apply_join {
            out.push(field("apply_join", a.to_string()));
        }
        if let Some(m) = g.mute_all {
            out.push(field("mute_all", m.to_string()));
        }
        if let Some(custom) = &g.custom {
            out.push(field(
                "custom",
                if custom.is_empty() {
                    "{}".into()
                } else {
                    String::new()
                },
            ));
            for (k, v) in custom {
                out.push(format!("{pad}    {k}: {}", quote(v)));
            }
        }
        if let Some(t) = g.create_time {
            out.push(field("create_time", t.to_string()));
        }
    }
    let mut text = out.join("\n");
    text.push('\n');
    (text, lines)
}

/// How deep lists and mappings nest in `value` (a scalar: 0).
fn depth(value: &Yaml) -> usize {
    match value {
        Yaml::Sequence(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Yaml::Mapping(map) => {
            let deepest = map.iter().map(|(k, v)| depth(k).max(depth(v))).max();
            1 + deepest.unwrap_or(0)
        }
        Yaml::Tagged(tagged) => depth(&tagged.value),
        _ => 0,
    }
}

/// Whether the parser reads all of `text`, nesting at most `max` deep.
fn parses_within(text: &str, max: usize) -> bool {
    serde_yaml::Deserializer::from_str(text)
        .map(<Yaml as serde::Deserialize>::deserialize)
        .all(|value| value.is_ok_and(|v| depth(&v) <= max))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// The nesting scan against the parser: what parses and nests little is never refused.
    #[test]
    fn the_nesting_scan_refuses_no_yaml_the_parser_reads_shallow(
        text in prop_oneof![yamlish(), soup()],
    ) {
        if parses_within(&text, 30) {
            prop_assert!(scan(&text).is_ok(), "{:?}", text);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_nesting_scan_passes_what_the_emitter_writes(docs in prop::collection::vec(document(), 1..3)) {
        let text = yaml_text(&docs)?;
        prop_assert!(scan(&text).is_ok(), "{}", text);
    }
}

/// Lexical soup: the pieces where a scan of YAML text can go wrong (quotes, escapes, block
/// scalars, comments, every kind of line break, indentation).
fn soup() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(vec![
        "\n",
        "\n  ",
        "\n    ",
        "  ",
        " ",
        "- ",
        ": ",
        ":",
        "? ",
        "#",
        " #",
        "|",
        "|2",
        ">-",
        "'",
        "''",
        "\"",
        "\\",
        "\\\"",
        "[",
        "]",
        "{",
        "}",
        ", ",
        ",",
        "&a ",
        "*a",
        "!x ",
        "!!str ",
        "!<!y> ",
        "a",
        "b c",
        "k: ",
        "---\n",
        "...\n",
        "\r",
        "\u{2028}",
        "\u{85}",
        "\t",
        "%YAML 1.1\n",
    ]);
    prop::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
}
