//! `admins`, `members`, `members_exclusive` and `members_silent`: what they load to, and every
//! rule with the exact message users see.

use std::collections::BTreeSet;

use super::{loads, problems};
use crate::model::{CompactString, GroupId, People};

fn set(accounts: &[&str]) -> Option<BTreeSet<CompactString>> {
    Some(accounts.iter().map(|a| CompactString::from(*a)).collect())
}

#[test]
fn people_load_into_the_desired_group() {
    let desired = loads(
        "\
groups:
  - id: eng
    type: Public
    owner: alice
    admins: [bob, alice]
    members:
      - carol
      - dave
    members_exclusive: true
    members_silent: true
  - id: plain
",
    );
    assert_eq!(
        desired.groups[&GroupId::from("eng")].people,
        People {
            admins: set(&["alice", "bob"]),
            members: set(&["carol", "dave"]),
            exclusive: true,
            silent: true,
        }
    );
    assert!(desired.groups[&GroupId::from("eng")].people.managed());
    assert_eq!(
        desired.groups[&GroupId::from("plain")].people,
        People::default()
    );
    assert!(!desired.groups[&GroupId::from("plain")].people.managed());
}

#[test]
fn empty_lists_are_written_and_defaults_apply_whole() {
    let desired = loads(
        "\
defaults:
  members: [ops_bot]
  members_silent: true
groups:
  - id: a
  - id: b
    members: []
    admins: []
    members_exclusive: true
",
    );
    let a = &desired.groups[&GroupId::from("a")].people;
    assert_eq!((a.members.clone(), a.silent), (set(&["ops_bot"]), true));
    let b = &desired.groups[&GroupId::from("b")].people;
    assert_eq!(
        (b.admins.clone(), b.members.clone(), b.exclusive),
        (set(&[]), set(&[]), true)
    );
}

#[test]
fn an_account_listed_twice_is_an_error_at_the_repeat() {
    let text = "\
groups:
  - id: eng
    admins: [bob, bob]
    members:
      - carol
      - dave
      - carol
  - id: both
    admins: [bob]
    members:
      - bob
";
    assert_eq!(
        problems(text),
        [
            r#"g.yaml:3: group "eng": field admins: account "bob" is listed twice"#,
            r#"g.yaml:7: group "eng": field members: account "carol" is listed twice (first on line 5)"#,
            r#"g.yaml:11: group "both": field members: account "bob" is listed twice, in admins and in members; admins are members, so list it once, in admins"#,
        ]
    );
}

#[test]
fn accounts_are_non_empty_strings_without_outer_whitespace() {
    let text = "\
groups:
  - id: eng
    admins: bob
    members:
      - 42
      - ''
      - ' carol'
    members_silent: sometimes
";
    assert_eq!(
        problems(text),
        [
            r#"g.yaml:3: group "eng": field admins: expected a list of account ids, found string "bob""#,
            r#"g.yaml:5: group "eng": field members: expected a string, found integer 42 (quote it: "42")"#,
            r#"g.yaml:6: group "eng": field members: must not be empty"#,
            r#"g.yaml:7: group "eng": field members: account " carol" must not start or end with whitespace"#,
            r#"g.yaml:8: group "eng": field members_silent: expected true or false, found string "sometimes""#,
        ]
    );
}

#[test]
fn types_that_refuse_members_or_admins_are_errors() {
    let text = "\
groups:
  - id: live
    type: AVChatRoom
    members: [carol]
    admins: [bob]
  - id: work
    type: Private
    admins: [bob]
    members: [carol]
  - id: work-none
    type: Private
    admins: []
  - id: from-defaults
    type: Public
";
    assert_eq!(
        problems(text),
        [
            r#"g.yaml:4: group "live": field members: an AVChatRoom group stores no member list, so it has no members or admins to manage; remove members"#,
            r#"g.yaml:5: group "live": field admins: an AVChatRoom group stores no member list, so it has no members or admins to manage; remove admins"#,
            r#"g.yaml:8: group "work": field admins: a Private (Work) group has no Admin role; remove admins"#,
        ]
    );
    let from_defaults = "\
defaults:
  type: AVChatRoom
groups:
  - id: live
    members: [carol]
";
    assert_eq!(
        problems(from_defaults),
        [
            r#"g.yaml:5: group "live": field members: an AVChatRoom group stores no member list, so it has no members or admins to manage; remove members (type from defaults)"#
        ]
    );
}

#[test]
fn more_people_than_max_members_is_an_error() {
    let text = "\
groups:
  - id: small
    owner: alice
    max_members: 3
    admins: [bob]
    members: [carol, dave]
  - id: fits
    owner: alice
    max_members: 3
    admins: [alice, bob]
    members: [carol]
";
    assert_eq!(
        problems(text),
        [
            r#"g.yaml:6: group "small": field members: 4 people (owner, admins and members), more than max_members (3)"#
        ]
    );
    let names: Vec<String> = (0..6001).map(|i| format!("u{i}")).collect();
    let big = format!(
        "groups:\n  - id: big\n    type: Public\n    members: [{}]\n",
        names.join(", ")
    );
    assert_eq!(
        problems(&big),
        [
            r#"g.yaml:4: group "big": field members: 6001 people (owner, admins and members), more than the most a Public group holds (6000)"#
        ]
    );
}

#[test]
fn members_exclusive_needs_members() {
    let text = "\
groups:
  - id: eng
    admins: [bob]
    members_exclusive: true
  - id: off
    members_exclusive: false
";
    assert_eq!(
        problems(text),
        [
            r#"g.yaml:4: group "eng": field members_exclusive: members_exclusive: true removes the members not listed in members, but members is not written; write members (an empty list removes every member but the owner and admins)"#
        ]
    );
}

#[test]
fn misspelt_people_keys_get_a_suggestion() {
    let text = "\
groups:
  - id: eng
    admin: [bob]
    member_silent: true
";
    assert_eq!(
        problems(text),
        [
            r#"g.yaml:3: group "eng": unknown key "admin"; did you mean "admins"?"#,
            r#"g.yaml:4: group "eng": unknown key "member_silent"; did you mean "members_silent"?"#,
        ]
    );
}
