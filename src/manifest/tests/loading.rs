//! What a valid manifest loads to: fields, defaults, documents, lines, prune.

use std::collections::BTreeSet;
use std::path::Path;

use super::{load_with, loads, problems};
use crate::manifest::Limits;
use crate::model::{ApplyJoin, Custom, DesiredGroup, Ensure, Group, GroupId, GroupType, Source};

fn group<'a>(desired: &'a crate::model::Desired, id: &str) -> &'a DesiredGroup {
    desired
        .groups
        .get(&GroupId::from(id))
        .expect("group declared")
}

#[test]
fn every_field_of_the_design_example_loads() {
    let desired = loads(
        "\
# yaml-language-server: $schema=../schema/timctl.schema.json
defaults:
  type: Public
  owner: ops_bot
groups:
  - id: eng-announce
    type: Public
    name: Engineering
    owner: alice
    introduction: |
      Announcements for the engineering org.
    notification: Deploy freeze on Friday
    face_url: https://example.com/eng.png
    max_members: 2000
    apply_join: NeedPermission
    mute_all: false
    custom:
      team: platform
      raw: \"a\\0b\"
    create_time: 1448357837
  - id: old-room
    ensure: absent
    protect: false
",
    );
    let expected = DesiredGroup {
        group: Group {
            id: "eng-announce".into(),
            group_type: Some(GroupType::Public),
            name: Some("Engineering".into()),
            owner: Some("alice".into()),
            introduction: Some("Announcements for the engineering org.\n".into()),
            notification: Some("Deploy freeze on Friday".into()),
            face_url: Some("https://example.com/eng.png".into()),
            max_members: Some(2000),
            apply_join: Some(ApplyJoin::NeedPermission),
            mute_all: Some(false),
            custom: Some(Custom::from([("team", "platform"), ("raw", "a\0b")])),
            create_time: Some(1448357837),
        },
        ensure: Ensure::Present,
        protect: false,
        source: Source {
            file: Path::new("g.yaml").into(),
            line: Some(6),
        },
        people: Default::default(),
    };
    assert_eq!(group(&desired, "eng-announce"), &expected);
    let old = group(&desired, "old-room");
    assert_eq!(old.ensure, Ensure::Absent);
    assert_eq!(old.group.owner.as_deref(), Some("ops_bot"));
    assert_eq!(old.source.line, Some(21));
    assert!(desired.prune_prefixes.is_empty());
}

#[test]
fn omitted_fields_stay_unmanaged() {
    let desired = loads("groups:\n  - id: bare\n");
    assert_eq!(
        group(&desired, "bare"),
        &DesiredGroup {
            group: Group::new("bare"),
            ensure: Ensure::Present,
            protect: false,
            source: Source {
                file: Path::new("g.yaml").into(),
                line: Some(2),
            },
            people: Default::default(),
        }
    );
}

#[test]
fn a_group_value_replaces_the_default_whole_custom_included() {
    let desired = loads(
        "\
defaults:
  owner: ops_bot
  mute_all: true
  custom: {team: platform, tier: gold}
groups:
  - id: a
  - id: b
    owner: alice
    custom: {topic: deploys}
",
    );
    let a = &group(&desired, "a").group;
    assert_eq!(a.owner.as_deref(), Some("ops_bot"));
    assert_eq!(a.mute_all, Some(true));
    assert_eq!(a.custom.as_ref().map(Custom::len), Some(2));
    let b = &group(&desired, "b").group;
    assert_eq!(b.owner.as_deref(), Some("alice"));
    assert_eq!(b.custom, Some(Custom::from([("topic", "deploys")])));
}

#[test]
fn defaults_apply_to_their_own_document_only_and_prune_prefixes_combine() {
    let desired = loads(
        "\
defaults: {owner: first}
groups: [{id: a}]
prune: {id_prefixes: [ops-]}
---
groups:
  - id: b
prune:
  id_prefixes:
    - tmp-
    - ops-
",
    );
    assert_eq!(group(&desired, "a").group.owner.as_deref(), Some("first"));
    assert_eq!(group(&desired, "b").group.owner, None);
    assert_eq!(group(&desired, "b").source.line, Some(6));
    assert_eq!(
        desired.prune_prefixes,
        BTreeSet::from(["ops-".to_owned(), "tmp-".to_owned()])
    );
}

#[test]
fn empty_and_comment_only_files_declare_nothing() {
    for text in [
        "",
        "# only a comment\n",
        "---\n",
        "groups:\n",
        "groups: []\n",
    ] {
        let desired = loads(text);
        assert!(desired.groups.is_empty(), "{text:?}");
    }
}

#[test]
fn yaml_merge_keys_share_fields_between_groups() {
    let desired = loads(
        "\
groups:
  - &base
    id: a
    type: ChatRoom
    mute_all: true
  - <<: *base
    id: b
",
    );
    assert_eq!(
        group(&desired, "b").group.group_type,
        Some(GroupType::ChatRoom)
    );
    assert_eq!(group(&desired, "b").group.mute_all, Some(true));
}

#[test]
fn protect_from_defaults_protects_every_group() {
    let desired = loads("defaults: {protect: true}\ngroups: [{id: a}, {id: b}]\n");
    assert!(desired.groups.values().all(|g| g.protect));
}

#[test]
fn limits_can_be_raised_for_newer_editions() {
    let text = format!("groups:\n  - id: a\n    name: {}\n", "n".repeat(100));
    let limits = Limits {
        name: 100,
        ..Limits::default()
    };
    assert!(load_with(&[("g.yaml", &text)], &limits).is_ok());
    assert_eq!(
        problems(&text),
        [r#"g.yaml:3: group "a": field name: 100 bytes, at most 30 (UTF-8 bytes)"#]
    );
}

#[test]
fn flow_style_groups_load_and_point_at_the_nearest_known_line() {
    let text = "# flow style\ngroups: [{id: a, name: 42}]\n";
    assert_eq!(
        problems(text),
        [
            r#"g.yaml:2: group "a": field name: expected a string, found integer 42 (quote it: "42")"#
        ]
    );
}

#[test]
fn brackets_quotes_and_hashes_in_text_are_only_text() {
    let brackets = "[{".repeat(40);
    let desired = loads(&format!(
        "\
# {brackets}
groups:
  - id: a # {brackets}
    name: \"[{{a\"
    owner: it's[
    introduction: |
      {brackets}
      # not a comment {brackets}
    notification: >-
      {brackets}
    custom: {{team: '[{{it''s', tier: \"]\\\"[\"}}
  - id: b
    introduction: '{brackets}
      {brackets}'
"
    ));
    let a = &desired.groups[&crate::model::GroupId::from("a")].group;
    assert_eq!(a.name.as_deref(), Some("[{a"));
    assert_eq!(a.owner.as_deref(), Some("it's["));
    assert_eq!(
        a.introduction.as_deref(),
        Some(format!("{brackets}\n# not a comment {brackets}\n").as_str())
    );
    assert_eq!(a.notification.as_deref(), Some(brackets.as_str()));
    assert_eq!(
        a.custom,
        Some(Custom::from([("team", "[{it's"), ("tier", "]\"[")]))
    );
    let b = &desired.groups[&crate::model::GroupId::from("b")].group;
    assert_eq!(
        b.introduction.as_deref(),
        Some(format!("{brackets} {brackets}").as_str())
    );
}
