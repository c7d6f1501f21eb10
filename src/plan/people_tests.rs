//! Planner specifications for declared people: start in sync, change one thing, check the plan.
//! The rule book itself (who is added, removed, promoted) is specified in `members.rs`; these
//! check what the planner makes of it: the changes, their order, the transfer choreography, the
//! refusals the live group causes, the counts and the gates.

use std::collections::{BTreeMap, BTreeSet};

use super::*;
use crate::model::{People, Source};

fn accounts(list: &[&str]) -> Option<BTreeSet<CompactString>> {
    Some(list.iter().map(|a| CompactString::from(*a)).collect())
}

/// `eng`, Public, owned by alice; bob is Admin, carol and eve are members; the manifest
/// declares exactly that (admins [bob], members [carol, eve], exclusive).
fn in_sync() -> (Desired, Actual) {
    let group = Group {
        group_type: Some(GroupType::Public),
        name: Some("Eng".into()),
        owner: Some("alice".into()),
        max_members: Some(50),
        ..Group::new("eng")
    };
    let people = People {
        admins: accounts(&["bob"]),
        members: accounts(&["carol", "eve"]),
        exclusive: true,
        silent: false,
    };
    let mut desired = Desired::default();
    desired.groups.insert(
        group.id.clone(),
        Arc::new(DesiredGroup {
            group: group.clone(),
            ensure: Ensure::Present,
            protect: false,
            source: Source::default(),
            people,
        }),
    );
    let members: BTreeMap<CompactString, Role> = [
        ("alice", Role::Owner),
        ("bob", Role::Admin),
        ("carol", Role::Member),
        ("eve", Role::Member),
    ]
    .into_iter()
    .map(|(a, r)| (CompactString::from(a), r))
    .collect();
    let mut actual = Actual::default();
    actual.groups.insert(
        group.id.clone(),
        Box::new(ActualGroup {
            group,
            info_seq: 3,
            member_num: members.len() as u32,
            roles: BTreeMap::new(),
            members: Some(members),
        }),
    );
    (desired, actual)
}

fn people(desired: &mut Desired) -> &mut People {
    &mut Arc::make_mut(desired.groups.get_mut(&GroupId::from("eng")).unwrap()).people
}

fn declared_group(desired: &mut Desired) -> &mut Group {
    &mut Arc::make_mut(desired.groups.get_mut(&GroupId::from("eng")).unwrap()).group
}

fn live(actual: &mut Actual) -> &mut ActualGroup {
    actual.groups.get_mut(&GroupId::from("eng")).unwrap()
}

fn run(desired: &Desired, actual: &Actual) -> Plan {
    plan(desired, actual, &PlanOptions::default()).expect("plan")
}

fn errors(desired: &Desired, actual: &Actual) -> Vec<PlanError> {
    plan(desired, actual, &PlanOptions::default())
        .expect_err("plan errors")
        .0
}

fn names(list: &[&str]) -> Vec<CompactString> {
    list.iter().map(|a| CompactString::from(*a)).collect()
}

#[test]
fn declared_people_in_sync_plan_nothing() {
    let (desired, actual) = in_sync();
    assert!(run(&desired, &actual).is_empty());
}

#[test]
fn a_new_member_is_one_members_change_counted_in_the_summary() {
    let (mut desired, actual) = in_sync();
    people(&mut desired).members = accounts(&["carol", "eve", "dave"]);
    let plan = run(&desired, &actual);
    let [Change { action, .. }] = &plan.changes[..] else {
        panic!("{plan:?}")
    };
    let Action::Members(members) = action else {
        panic!("{action:?}")
    };
    assert_eq!(members.add, names(&["dave"]));
    assert_eq!(members.notify, 5, "everyone in the group once dave is in");
    assert_eq!(action.commands(), ["add_group_member"]);
    let summary = plan.summary();
    assert_eq!((summary.members, summary.people.added), (1, 1));
    assert_eq!(summary.api_calls, 1);
}

#[test]
fn adds_and_removals_are_batched_to_the_documented_limits() {
    let (mut desired, mut actual) = in_sync();
    let many: Vec<String> = (0..301).map(|i| format!("u{i:03}")).collect();
    let refs: Vec<&str> = many.iter().map(String::as_str).collect();
    people(&mut desired).members = accounts(&refs);
    declared_group(&mut desired).max_members = Some(2000);
    // 101 live members not listed: removed, in two calls.
    let live_members = live(&mut actual).members.as_mut().unwrap();
    for i in 0..101 {
        live_members.insert(format!("x{i:03}").into(), Role::Member);
    }
    let plan = run(&desired, &actual);
    let Some(Action::Members(members)) = plan
        .changes
        .iter()
        .map(|c| &c.action)
        .find(|a| matches!(a, Action::Members(_)))
    else {
        panic!("{plan:?}")
    };
    // carol and eve are removed too: they are no longer listed.
    assert_eq!((members.add.len(), members.remove.len()), (301, 103));
    assert_eq!(
        Action::Members(members.clone()).commands(),
        [
            "add_group_member",
            "add_group_member",
            "delete_group_member",
            "delete_group_member"
        ]
    );
}

#[test]
fn a_transfer_to_a_declared_non_member_adds_them_first_then_moves_ownership() {
    let (mut desired, actual) = in_sync();
    declared_group(&mut desired).owner = Some("zed".into());
    people(&mut desired).members = accounts(&["carol", "eve", "zed"]);
    people(&mut desired).admins = accounts(&["bob", "alice"]);
    let plan = run(&desired, &actual);
    let actions: Vec<&Action> = plan.changes.iter().map(|c| &c.action).collect();
    let [Action::Members(members), Action::Transfer(transfer)] = &actions[..] else {
        panic!("{plan:?}")
    };
    assert_eq!(members.add, names(&["zed"]));
    assert!(
        members.roles.is_empty(),
        "alice is not touched before the move"
    );
    assert_eq!(transfer.desired, "zed");
    let after = transfer.after.as_ref().expect("a follow-up for alice");
    assert_eq!(
        after.roles,
        [RoleChange {
            account: "alice".into(),
            actual: Role::Member,
            desired: Role::Admin,
        }]
    );
    assert_eq!(
        plan.changes[1].action.commands(),
        ["change_group_owner", "modify_group_member_info"]
    );
    assert_eq!(plan.summary().people.promoted, 1);
}

#[test]
fn an_old_owner_left_out_of_an_exclusive_list_is_removed_after_the_transfer() {
    let (mut desired, actual) = in_sync();
    declared_group(&mut desired).owner = Some("carol".into());
    let plan = run(&desired, &actual);
    let Some(Action::Transfer(transfer)) = plan.changes.last().map(|c| &c.action) else {
        panic!("{plan:?}")
    };
    let after = transfer.after.as_ref().expect("alice goes");
    assert_eq!(after.remove, names(&["alice"]));
    assert_eq!(plan.summary().people.removed, 1);
}

#[test]
fn a_transfer_to_an_undeclared_non_member_is_still_refused() {
    let (mut desired, actual) = in_sync();
    declared_group(&mut desired).owner = Some("zed".into());
    let errors = errors(&desired, &actual);
    assert!(
        matches!(&errors[..], [PlanError::OwnerNotMember { owner, .. }] if owner == "zed"),
        "{errors:?}"
    );
}

#[test]
fn people_a_live_group_cannot_hold_are_refused_naming_the_field() {
    // The manifest leaves the type to the live group, which is Private (no Admin role).
    let (mut desired, mut actual) = in_sync();
    declared_group(&mut desired).group_type = None;
    live(&mut actual).group.group_type = Some(GroupType::Private);
    let private = errors(&desired, &actual);
    assert!(
        matches!(
            &private[..],
            [PlanError::PeopleRefused {
                field: "admins",
                ..
            }]
        ),
        "{private:?}"
    );

    // More people than the cap the group will have.
    let (mut desired, actual) = in_sync();
    declared_group(&mut desired).max_members = Some(4);
    people(&mut desired).members = accounts(&["carol", "eve", "dave"]);
    let refused = errors(&desired, &actual);
    assert!(
        matches!(&refused[..], [PlanError::PeopleRefused { field: "members", why, .. }] if why.contains("5 members, more than its max_members (4)")),
        "{refused:?}"
    );
}

#[test]
fn people_are_never_planned_from_a_member_list_that_was_not_read() {
    let (desired, mut actual) = in_sync();
    live(&mut actual).members = None;
    let errors = errors(&desired, &actual);
    assert!(
        matches!(&errors[..], [PlanError::MembersNotRead { .. }]),
        "{errors:?}"
    );
}

#[test]
fn an_added_account_that_is_not_imported_is_a_plan_error() {
    let (mut desired, mut actual) = in_sync();
    people(&mut desired).members = accounts(&["carol", "eve", "ghost"]);
    actual.accounts.insert("ghost".to_owned(), false);
    let errors = errors(&desired, &actual);
    assert!(
        matches!(&errors[..], [PlanError::AccountNotImported { field: "members", account, .. }] if account == "ghost"),
        "{errors:?}"
    );
}

#[test]
fn a_new_group_gets_its_people_after_it_is_made() {
    let (desired, mut actual) = in_sync();
    actual.groups.clear();
    let plan = run(&desired, &actual);
    let actions: Vec<&Action> = plan.changes.iter().map(|c| &c.action).collect();
    let [Action::Create(_), Action::Members(members)] = &actions[..] else {
        panic!("{plan:?}")
    };
    assert_eq!(members.add, names(&["bob", "carol", "eve"]));
    assert_eq!(members.promoted(), 1);
    assert_eq!(plan.guards[&GroupId::from("eng")], Guard::Absent);
}

#[test]
fn the_saved_guard_holds_a_fingerprint_of_the_member_list() {
    let (mut desired, mut actual) = in_sync();
    people(&mut desired).members = accounts(&["carol", "eve", "dave"]);
    let before = run(&desired, &actual).guards[&GroupId::from("eng")].clone();
    live(&mut actual)
        .members
        .as_mut()
        .unwrap()
        .insert("mallory".into(), Role::Member);
    let after = run(&desired, &actual).guards[&GroupId::from("eng")].clone();
    let print = |guard: &Guard| match guard {
        Guard::Present { members, .. } => members.clone(),
        Guard::Absent => None,
    };
    assert!(print(&before).is_some());
    assert_ne!(print(&before), print(&after));
}

#[test]
fn removals_and_role_changes_above_their_limits_stop_the_apply() {
    let (mut desired, mut actual) = in_sync();
    people(&mut desired).admins = accounts(&["carol", "eve"]);
    people(&mut desired).members = accounts(&["bob"]);
    live(&mut actual)
        .members
        .as_mut()
        .unwrap()
        .insert("mallory".into(), Role::Member);
    let plan = run(&desired, &actual);
    let people = plan.summary().people;
    assert_eq!((people.removed, people.promoted, people.demoted), (1, 2, 1));
    let limits = SafetyLimits::default();
    assert_eq!(check_limits(&plan, limits), Ok(()));
    assert_eq!(
        check_limits(
            &plan,
            SafetyLimits {
                max_remove_members: 0,
                ..limits
            }
        ),
        Err(SafetyError::TooManyRemovals { count: 1, limit: 0 })
    );
    assert_eq!(
        check_limits(
            &plan,
            SafetyLimits {
                max_role_changes: 2,
                ..limits
            }
        ),
        Err(SafetyError::TooManyRoleChanges {
            count: 3,
            promoted: 2,
            demoted: 1,
            limit: 2
        })
    );
}

#[test]
fn a_changed_group_is_one_declared_differently_and_not_one_that_moved_lines() {
    let (desired, _) = in_sync();
    let mut baseline = desired.clone();
    // Another group was added above it in the file: its line moved, nothing else.
    Arc::make_mut(baseline.groups.get_mut(&GroupId::from("eng")).unwrap()).source = Source {
        file: std::path::Path::new("groups/other.yaml").into(),
        line: Some(40),
    };
    assert!(changed_groups(&desired, &baseline).ids.is_empty());
    // A member added is a change; a group removed from the baseline is one too.
    let mut edited = desired.clone();
    people(&mut edited).members = accounts(&["carol", "eve", "dave"]);
    baseline.groups.insert(
        GroupId::from("gone"),
        desired.groups[&GroupId::from("eng")].clone(),
    );
    let changed = changed_groups(&edited, &baseline);
    assert_eq!(
        changed.ids,
        [GroupId::from("eng"), GroupId::from("gone")]
            .into_iter()
            .collect()
    );
    assert!(!changed.prune_changed);
}
