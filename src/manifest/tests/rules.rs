//! Every rule, with the exact message users see.

use super::{load_with, loads, problems};
use crate::manifest::Limits;
use crate::manifest::document::read_file_within;

/// A file with one group `x` whose entry starts at line 2 and whose fields follow.
fn one_group(fields: &str) -> String {
    let mut text = String::from("groups:\n  - id: x\n");
    for line in fields.lines() {
        text.push_str("    ");
        text.push_str(line);
        text.push('\n');
    }
    text
}

#[test]
fn unknown_keys_everywhere_with_a_suggestion() {
    let text = "\
defaults:
  tpye: Public
group: []
groups:
  - id: x
    nmae: X
    MaxMemberCount: 10
    colour: red
prune:
  id_prefix: [a-]
";
    assert_eq!(
        problems(text),
        [
            r#"g.yaml:2: field defaults: unknown key "tpye"; did you mean "type"?"#,
            r#"g.yaml:3: unknown key "group"; did you mean "groups"?"#,
            r#"g.yaml:6: group "x": unknown key "nmae"; did you mean "name"?"#,
            r#"g.yaml:7: group "x": unknown key "MaxMemberCount"; did you mean "max_members"?"#,
            r#"g.yaml:8: group "x": unknown key "colour"; expected one of id, type, name, owner, introduction, notification, face_url, max_members, apply_join, mute_all, custom, create_time, ensure, protect, admins, members, members_exclusive, members_silent"#,
            r#"g.yaml:9: field prune: missing id_prefixes: the id prefixes under which live groups that no manifest declares are destroyed"#,
            r#"g.yaml:10: field prune: unknown key "id_prefix"; did you mean "id_prefixes"?"#,
        ]
    );
}

#[test]
fn an_id_cannot_be_a_default() {
    assert_eq!(
        problems("defaults:\n  id: x\n"),
        [
            r#"g.yaml:2: field defaults.id: a group's id cannot be a default; each group declares its own"#
        ]
    );
}

#[test]
fn type_errors_are_reported_per_field_all_at_once() {
    let text = one_group(
        "name: 42\nmax_members: lots\nmute_all: \"yes\"\ncreate_time: -5\nprotect:\nowner: [a]\ncustom: x",
    );
    assert_eq!(
        problems(&text),
        [
            r#"g.yaml:3: group "x": field name: expected a string, found integer 42 (quote it: "42")"#,
            r#"g.yaml:4: group "x": field max_members: expected a whole number, found string "lots""#,
            r#"g.yaml:5: group "x": field mute_all: expected true or false, found string "yes""#,
            r#"g.yaml:6: group "x": field create_time: -5 is out of range: create_time is a whole number of Unix seconds from 0 to 9999999999"#,
            r#"g.yaml:7: group "x": field protect: expected true or false, found null (an empty value)"#,
            r#"g.yaml:8: group "x": field owner: expected a string, found a list"#,
            r#"g.yaml:9: group "x": field custom: expected a mapping of keys to strings, found string "x""#,
        ]
    );
}

#[test]
fn byte_limits_count_utf8_bytes() {
    // 10 CJK characters are 30 bytes: the most a name may hold.
    loads(&one_group("name: 工程部公告频道十个字"));
    let text = one_group(&format!(
        "name: 工程部公告频道十一个字\nintroduction: {}\nnotification: {}\nface_url: {}",
        "i".repeat(241),
        "n".repeat(301),
        "f".repeat(101)
    ));
    assert_eq!(
        problems(&text),
        [
            r#"g.yaml:3: group "x": field name: 33 bytes, at most 30 (UTF-8 bytes)"#,
            r#"g.yaml:4: group "x": field introduction: 241 bytes, at most 240 (UTF-8 bytes)"#,
            r#"g.yaml:5: group "x": field notification: 301 bytes, at most 300 (UTF-8 bytes)"#,
            r#"g.yaml:6: group "x": field face_url: 101 bytes, at most 100 (UTF-8 bytes)"#,
        ]
    );
}

#[test]
fn empty_name_and_owner_are_refused_but_other_texts_may_be_cleared() {
    loads(&one_group(
        "introduction: \"\"\nnotification: \"\"\nface_url: \"\"",
    ));
    assert_eq!(
        problems(&one_group("name: \"\"\nowner: \"\"")),
        [
            r#"g.yaml:3: group "x": field name: must not be empty"#,
            r#"g.yaml:4: group "x": field owner: must not be empty"#,
        ]
    );
}

#[test]
fn enums_list_their_values() {
    let text = one_group("type: Work\napply_join: Free\nensure: deleted");
    assert_eq!(
        problems(&text),
        [
            r#"g.yaml:3: group "x": field type: "Work" is not one of Private, Public, ChatRoom, AVChatRoom, Community; did you mean "Private"?"#,
            r#"g.yaml:4: group "x": field apply_join: "Free" is not one of FreeAccess, NeedPermission, DisableApply; did you mean "FreeAccess"?"#,
            r#"g.yaml:5: group "x": field ensure: "deleted" is not one of present, absent"#,
        ]
    );
    assert_eq!(
        problems(&one_group("type: 3")),
        [
            r#"g.yaml:3: group "x": field type: expected one of Private, Public, ChatRoom, AVChatRoom, Community, found integer 3"#
        ]
    );
}

#[test]
fn group_id_rules() {
    let text = "\
groups:
  - name: no id
  - id: 10086
  - id: café
  - id: a-very-long-group-id-that-is-more-than-48-bytes-long
  - id: ''
  - id: \"@TGS#2C5SZEAEF\"
  - id: \" eng\"
  - id: \"eng\\t\"
";
    assert_eq!(
        problems(text),
        [
            r#"g.yaml:2: field groups[0]: missing id; every group needs one"#,
            r#"g.yaml:3: field groups[1].id: expected a string, found integer 10086 (quote it: "10086")"#,
            r#"g.yaml:4: group "café": field id: must be printable ASCII (0x20-0x7E), not 'é'"#,
            r#"g.yaml:5: group "a-very-long-group-id-that-is-more-than-48-bytes-long": field id: 52 bytes, at most 48 (UTF-8 bytes)"#,
            r#"g.yaml:6: group "": field id: must not be empty"#,
            r#"g.yaml:8: group " eng": field id: must not start or end with whitespace (ids are taken as written)"#,
            r#"g.yaml:9: group "eng\t": field id: must not start or end with whitespace (ids are taken as written)"#,
        ]
    );
}

#[test]
fn community_ids_and_only_they_start_with_tgs_underscore() {
    loads("groups:\n  - id: \"@TGS#_club\"\n    type: Community\n");
    // Without a type the id alone cannot be wrong: the type may be the live one.
    loads("groups:\n  - id: \"@TGS#_club\"\n");
    let text = "\
defaults: {type: Public}
groups:
  - id: club
    type: Community
  - id: \"@TGS#_x\"
";
    assert_eq!(
        problems(text),
        [
            r#"g.yaml:3: group "club": field id: a Community group's id must start with "@TGS#_""#,
            r#"g.yaml:5: group "@TGS#_x": field id: ids starting with "@TGS#_" are for Community groups, and this group is Public (type from defaults)"#,
        ]
    );
}

#[test]
fn member_caps_depend_on_the_type() {
    loads(&one_group("max_members: 6000\ntype: Private"));
    loads("groups:\n  - {id: \"@TGS#_c\", type: Community, max_members: 100000}\n");
    // No type written: the type is the live one, so only the largest cap is known.
    loads(&one_group("max_members: 100000"));
    assert_eq!(
        problems(&one_group("max_members: 100001")),
        [r#"g.yaml:3: group "x": field max_members: 100001, at most 100000 for any group type"#]
    );
    let text = "\
defaults:
  max_members: 7000
groups:
  - id: a
    type: ChatRoom
  - id: \"@TGS#_c\"
    type: Community
    max_members: 100001
  - id: z
    max_members: 0
";
    assert_eq!(
        problems(text),
        [
            r#"g.yaml:4: group "a": field max_members: 7000, at most 6000 for a ChatRoom group (max_members from defaults)"#,
            r#"g.yaml:8: group "@TGS#_c": field max_members: 100001, at most 100000 for a Community group"#,
            r#"g.yaml:10: group "z": field max_members: 0 is out of range: max_members is a whole number from 1 to 100000 (the most any group type allows)"#,
        ]
    );
}

#[test]
fn avchatroom_takes_no_create_time_nor_cap() {
    let text = "\
groups:
  - id: live
    type: AVChatRoom
    create_time: 1448357837
    owner: host
    max_members: 500
  - id: \"@TGS#_c\"
    type: Community
    apply_join: NeedPermission
";
    assert_eq!(
        problems(text),
        [
            r#"g.yaml:4: group "live": field create_time: an AVChatRoom group is made with create_group, which takes no create_time"#,
            r#"g.yaml:6: group "live": field max_members: an AVChatRoom group has no member cap (the service ignores MaxMemberNum); remove max_members"#,
        ]
    );
}

#[test]
fn a_protected_group_cannot_be_absent() {
    assert_eq!(
        problems(&one_group("ensure: absent\nprotect: true")),
        [
            r#"g.yaml:3: group "x": field ensure: ensure: absent destroys this group, but protect: true forbids destroying it; remove one of the two"#
        ]
    );
    assert_eq!(
        problems("groups:\n  - ensure: absent\n    protect: true\n"),
        [
            r#"g.yaml:2: field groups[0]: missing id; every group needs one"#,
            r#"g.yaml:2: field groups[0].ensure: ensure: absent destroys this group, but protect: true forbids destroying it; remove one of the two"#,
        ]
    );
    assert_eq!(
        problems("defaults: {protect: true}\ngroups:\n  - id: x\n    ensure: absent\n"),
        [
            r#"g.yaml:4: group "x": field ensure: ensure: absent destroys this group, but protect: true forbids destroying it; remove one of the two (protect from defaults)"#
        ]
    );
}

#[test]
fn custom_keys_and_values() {
    let text = one_group(&format!(
        "custom:\n  team: platform\n  2fa: \"on\"\n  team-name: x\n  abcdefghijklmnopq: x\n  \
         empty: \"\"\n  num: 3\n  big: {}",
        "v".repeat(513)
    ));
    assert_eq!(
        problems(&text),
        [
            r#"g.yaml:5: group "x": field custom.2fa: key must not start with a digit"#,
            r#"g.yaml:6: group "x": field custom.team-name: key may hold only A-Z, a-z, 0-9 and _, not '-'"#,
            r#"g.yaml:7: group "x": field custom.abcdefghijklmnopq: key is 17 bytes, at most 16 (UTF-8 bytes)"#,
            r#"g.yaml:8: group "x": field custom.empty: value must not be empty: the service deletes a key sent with an empty value; leave the key out to delete it"#,
            r#"g.yaml:9: group "x": field custom.num: expected a string, found integer 3 (quote it: "3")"#,
            r#"g.yaml:10: group "x": field custom.big: value is 513 bytes, at most 512 (UTF-8 bytes)"#,
        ]
    );
}

#[test]
fn an_empty_custom_key_is_named_by_its_map() {
    assert_eq!(
        problems(&one_group("custom: {\"\": x}")),
        [r#"g.yaml:3: group "x": field custom: a key must not be empty"#]
    );
}

#[test]
fn at_most_ten_custom_keys_unless_the_limit_is_raised() {
    let keys: String = (0..11).map(|i| format!("  k{i}: v\n")).collect();
    let text = one_group(&format!("custom:\n{keys}"));
    assert_eq!(
        problems(&text),
        [r#"g.yaml:3: group "x": field custom: 11 keys, at most 10"#]
    );
    let limits = Limits {
        custom_keys: 11,
        ..Limits::default()
    };
    assert!(load_with(&[("g.yaml", &text)], &limits).is_ok());
}

#[test]
fn duplicate_ids_name_both_places() {
    let a = "groups:\n  - id: x\n  - id: y\n  - id: y\n";
    let b = "# b\ngroups:\n  - id: x\n";
    // A third declaration also points at the first one, not at the second.
    let c = "groups:\n  - id: z\n  - id: x\n";
    assert_eq!(
        load_with(
            &[("a.yaml", a), ("b.yaml", b), ("c.yaml", c)],
            &Limits::default()
        ),
        Err(vec![
            r#"a.yaml:4: group "y": field id: duplicate id, first declared at a.yaml:3"#.into(),
            r#"b.yaml:3: group "x": field id: duplicate id, first declared at a.yaml:2"#.into(),
            r#"c.yaml:3: group "x": field id: duplicate id, first declared at a.yaml:2"#.into(),
        ])
    );
}

#[test]
fn prune_prefixes_are_non_empty_strings() {
    let text = "prune:\n  id_prefixes:\n    - ops-\n    - ''\n    - 7\n";
    assert_eq!(
        problems(text),
        [
            r#"g.yaml:4: field prune.id_prefixes[1]: must not be empty: an empty prefix would prune every group"#,
            r#"g.yaml:5: field prune.id_prefixes[2]: expected a string, found integer 7 (quote it: "7")"#,
        ]
    );
    assert_eq!(
        problems("prune: [ops-]\n"),
        [r#"g.yaml:1: field prune: expected a mapping with id_prefixes, found a list"#]
    );
}

#[test]
fn wrong_shapes_of_the_document() {
    assert_eq!(
        problems("- id: x\n"),
        [r#"g.yaml:1: expected a mapping with keys defaults, groups, prune; found a list"#]
    );
    assert_eq!(
        problems("groups:\n  id: x\n"),
        [r#"g.yaml:1: field groups: expected a list of groups, found a mapping"#]
    );
    assert_eq!(
        problems("groups:\n  - x\n"),
        [r#"g.yaml:2: field groups[0]: expected a group (a mapping with an id), found string "x""#]
    );
    assert_eq!(
        problems("defaults: 3\n"),
        [r#"g.yaml:1: field defaults: expected a mapping of group fields, found integer 3"#]
    );
}

#[test]
fn syntax_errors_carry_the_parsers_line_and_earlier_documents_are_still_checked() {
    let text = "groups:\n  - id: a\n    nmae: x\n---\ngroups:\n  - id: b\n   name: x\n";
    assert_eq!(
        problems(text),
        [
            r#"g.yaml:3: group "a": unknown key "nmae"; did you mean "name"?"#,
            r#"g.yaml:7: invalid YAML: did not find expected '-' indicator at line 7 column 4, while parsing a block collection at line 6 column 3"#,
        ]
    );
}

#[test]
fn duplicate_keys_are_a_yaml_error() {
    assert_eq!(
        problems("groups:\n  - id: a\n    name: x\n    name: y\n"),
        [
            r#"g.yaml:2: invalid YAML: groups[0]: duplicate entry with key "name" at line 2 column 5"#
        ]
    );
}

#[test]
fn non_utf8_files_name_the_line() {
    let mut declared = crate::manifest::document::Declared::default();
    let mut problems = Vec::new();
    let bytes = b"groups:\n  - id: \xff\n";
    crate::manifest::document::read_file(
        std::path::Path::new("g.yaml"),
        bytes,
        &Limits::default(),
        &mut declared,
        &mut problems,
    );
    let shown: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(shown, ["g.yaml:2: not valid UTF-8 (byte 16)"]);
}

#[test]
fn nesting_deeper_than_any_manifest_is_refused_with_its_line_before_parsing() {
    let deep = "lists and mappings nested more than 64 levels deep (a manifest needs about 5); \
                the file is not read further";
    let mappings: String = (0..65)
        .map(|i| format!("{}k{i}:\n", "  ".repeat(i)))
        .collect();
    let sequences = format!("groups:\n  - id: a\n    custom: {}\n", "- ".repeat(64));
    let flow = format!("groups: [{{id: a, name: [{}]}}]\n", "{a: ".repeat(62));
    for (text, line) in [(mappings, 65), (sequences, 3), (flow, 1)] {
        assert_eq!(problems(&text), [format!("g.yaml:{line}: {deep}")]);
    }
}

#[test]
fn numbers_out_of_range_are_field_problems_and_the_rest_of_the_file_is_still_checked() {
    let text = "\
groups:
  - id: a
    max_members: 99999999999999999999
  - id: b
    create_time: -1
  - id: c
    create_time: 1e400
    max_members: -99999999999999999999
  - id: d
    create_time: 123456789012345678901234567890123456789012345
    name: 99999999999999999999
  - id: e
    nmae: E
";
    let members = "max_members is a whole number from 1 to 100000 (the most any group type allows)";
    let time = "create_time is a whole number of Unix seconds from 0 to 9999999999";
    assert_eq!(
        problems(text),
        [
            format!(r#"g.yaml:3: group "a": field max_members: 99999999999999999999 is out of range: {members}"#),
            format!(r#"g.yaml:5: group "b": field create_time: -1 is out of range: {time}"#),
            format!(r#"g.yaml:7: group "c": field create_time: 1e400 is out of range: {time}"#),
            format!(r#"g.yaml:8: group "c": field max_members: -99999999999999999999 is out of range: {members}"#),
            format!(r#"g.yaml:10: group "d": field create_time: 1.2345678901234567e44 is out of range: {time}"#),
            r#"g.yaml:11: group "d": field name: expected a string, found integer 99999999999999999999 (quote it: "99999999999999999999")"#.to_owned(),
            r#"g.yaml:13: group "e": unknown key "nmae"; did you mean "name"?"#.to_owned(),
        ]
    );
}

#[test]
fn aliases_that_copy_more_values_than_a_manifest_holds_are_refused() {
    // 100 aliases to a list of 101 values: 10,100 copies from a 600-byte file, over a budget
    // of 10,000 (the real one is 8 million).
    let items = vec!["x"; 100].join(", ");
    let aliases = vec!["*a"; 100].join(", ");
    let text = format!("defaults: {{custom: {{k: &a [{items}]}}}}\ngroups: [{aliases}]\n");
    let mut declared = crate::manifest::document::Declared::default();
    let mut found = Vec::new();
    let (file, limits) = (std::path::Path::new("g.yaml"), Limits::default());
    let _trees = read_file_within(
        file,
        text.as_bytes(),
        &limits,
        10_000,
        &mut declared,
        &mut found,
    );
    let shown: Vec<String> = found.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [
            "g.yaml:1: more than 10000 YAML values, counting the copies that aliases (*name) make \
             (a file may build 4 a byte, at most 8000000); the file is not read further"
        ]
    );
    // A classic "billion laughs" (10 levels of 10 aliases) runs out of the budget too.
    let mut laughs = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let uses = vec![format!("*a{}", i - 1); 10].join(", ");
        laughs.push_str(&format!("a{i}: &a{i} [{uses}]\n"));
    }
    laughs.push_str("groups: *a9\n");
    let shown = problems(&laughs);
    assert_eq!(shown.len(), 1);
    assert!(
        shown[0].contains("YAML values, counting the copies"),
        "{shown:?}"
    );
    // In a tiny file, yaml_serde's own limit on alias uses comes first: 40 levels of 2.
    let mut doubling = String::from("a0: &a0 [x, x]\n");
    for i in 1..40 {
        doubling.push_str(&format!("a{i}: &a{i} [*a{0}, *a{0}]\n", i - 1));
    }
    assert_eq!(
        problems(&doubling),
        [
            "g.yaml: invalid YAML: aliases (*name) are used too many times (repetition limit \
          exceeded)"
        ]
    );
}

#[test]
fn tags_are_honoured_for_the_core_scalars_and_otherwise_refused_where_they_are_written() {
    let desired = loads("groups:\n  - id: a\n    name: !!str 12\n    max_members: !!int \"50\"\n");
    let a = &desired.groups[&crate::model::GroupId::from("a")].group;
    assert_eq!((a.name.as_deref(), a.max_members), (Some("12"), Some(50)));

    let text = "\
defaults:
  owner: !!binary b3Bz
groups:
  - id: a
    name: !!binary aGk=
    owner: !custom x
    type: !<!t> Public
    custom:
      team: !!timestamp 2001-12-14
  - {id: b, face_url: !<tag:example.com:url> x}
";
    let tag = |t: &str| {
        format!(
            "tag {t} is not supported (only !!str, !!int, !!float, !!bool, !!null are); write the \
             value untagged, and any bytes as escapes in a double-quoted string: \"\\0\", \
             \"\\x7F\", \"\\u00E9\""
        )
    };
    assert_eq!(
        problems(text),
        [
            format!("g.yaml:2: field defaults.owner: {}", tag("!!binary")),
            format!(r#"g.yaml:5: group "a": field name: {}"#, tag("!!binary")),
            format!(r#"g.yaml:6: group "a": field owner: {}"#, tag("!custom")),
            format!(r#"g.yaml:7: group "a": field type: {}"#, tag("!t")),
            format!(
                r#"g.yaml:9: group "a": field custom.team: {}"#,
                tag("!!timestamp")
            ),
            format!(r#"g.yaml:10: group "b": {}"#, tag("!<tag:example.com:url>")),
        ]
    );

    // A local tag on a boolean, on a mapping or on a key is refused too, not read through.
    let text = "groups:
  - id: a
    mute_all: !flag true
    custom: !map
      team: x
    !k name: n
!top groups: []
";
    assert_eq!(
        problems(text),
        [
            // A tagged key is not located: the problem is at its mapping's line.
            format!("g.yaml:1: {}", tag("!top")),
            format!(r#"g.yaml:2: group "a": {}"#, tag("!k")),
            format!(r#"g.yaml:3: group "a": field mute_all: {}"#, tag("!flag")),
            format!(r#"g.yaml:4: group "a": field custom: {}"#, tag("!map")),
        ]
    );
}

#[test]
fn tag_directives_are_refused() {
    // Whatever `!e!` then means, the file is refused.
    assert_eq!(
        problems("%TAG !e! tag:example.com,2000:\n---\ngroups: [{id: a, name: !e!n x}]\n"),
        ["g.yaml:1: %TAG directives are not supported: they change what tags mean"]
    );
}

/// Files are read on several threads; problems and the first declaration of an id still come
/// out in file order.
#[test]
fn many_files_report_in_file_order_whichever_thread_reads_them() {
    let names: Vec<String> = (0..17).map(|i| format!("f{i:02}.yaml")).collect();
    let texts: Vec<String> = (0..17)
        .map(|i| format!("groups:\n  - id: x\n  - id: g{i}\n    nmae: typo\n"))
        .collect();
    let files: Vec<(&str, &str)> = names
        .iter()
        .zip(&texts)
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    let errors = load_with(&files, &Limits::default()).unwrap_err();
    let files_in_order: Vec<&str> = errors
        .iter()
        .filter(|e| e.contains("duplicate id"))
        .map(|e| e.split(':').next().unwrap())
        .collect();
    assert_eq!(
        files_in_order,
        names[1..].iter().map(String::as_str).collect::<Vec<_>>()
    );
    assert!(
        errors
            .iter()
            .filter(|e| e.contains("duplicate id"))
            .all(|e| e.ends_with("first declared at f00.yaml:2")),
        "{errors:?}"
    );
    let typos: Vec<&str> = errors
        .iter()
        .filter(|e| e.contains("nmae"))
        .map(|e| e.split(':').next().unwrap())
        .collect();
    assert_eq!(typos, names.iter().map(String::as_str).collect::<Vec<_>>());
}
