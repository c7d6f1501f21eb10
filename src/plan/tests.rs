//! Planner specifications: start in sync, change one thing, check the plan.

use std::collections::BTreeMap;

use super::*;
use crate::model::{ApplyJoin, Custom, Source};

fn live(group: Group, member_num: u32) -> ActualGroup {
    ActualGroup {
        group,
        info_seq: 7,
        member_num,
        roles: BTreeMap::new(),
        members: None,
    }
}

fn full(id: &str) -> Group {
    Group {
        id: GroupId::from(id),
        group_type: Some(GroupType::Public),
        name: Some("Engineering".into()),
        owner: Some("alice".into()),
        introduction: Some("Announcements\nfor engineering.".into()),
        notification: Some("Deploy freeze on Friday".into()),
        face_url: Some("https://example.com/eng.png".into()),
        max_members: Some(2000),
        apply_join: Some(ApplyJoin::NeedPermission),
        mute_all: Some(false),
        custom: Some(Custom::from([("team", "platform")])),
        create_time: None,
    }
}

fn declared(group: Group) -> DesiredGroup {
    DesiredGroup {
        group,
        ensure: Ensure::Present,
        protect: false,
        source: Source::default(),
        people: Default::default(),
    }
}

/// One declared group and its identical live twin.
fn in_sync() -> (Desired, Actual) {
    let group = full("eng");
    let mut desired = Desired::default();
    desired
        .groups
        .insert(group.id.clone(), Arc::new(declared(group.clone())));
    let mut actual = Actual::default();
    let mut twin = group;
    twin.create_time = Some(1_448_357_837);
    actual
        .groups
        .insert(twin.id.clone(), Box::new(live(twin, 12)));
    (desired, actual)
}

fn desired_mut<'a>(desired: &'a mut Desired, id: &str) -> &'a mut DesiredGroup {
    Arc::make_mut(desired.groups.get_mut(&GroupId::from(id)).unwrap())
}

fn actual_mut<'a>(actual: &'a mut Actual, id: &str) -> &'a mut ActualGroup {
    actual.groups.get_mut(&GroupId::from(id)).unwrap()
}

fn run(desired: &Desired, actual: &Actual) -> Plan {
    plan(desired, actual, &PlanOptions::default()).expect("plan")
}

fn errors(desired: &Desired, actual: &Actual, options: &PlanOptions) -> Vec<PlanError> {
    plan(desired, actual, options).expect_err("plan errors").0
}

fn only_update(plan: &Plan) -> &Update {
    match &plan.changes[..] {
        [
            Change {
                action: Action::Update(update),
                ..
            },
        ] => update,
        other => panic!("expected one update, got {other:?}"),
    }
}

#[test]
fn in_sync_is_empty() {
    let (desired, actual) = in_sync();
    let plan = run(&desired, &actual);
    assert!(plan.is_empty(), "{plan:?}");
    assert_eq!(plan.summary(), Summary::default());
}

#[test]
fn create_time_is_never_a_diff() {
    let (mut desired, actual) = in_sync();
    desired_mut(&mut desired, "eng").group.create_time = Some(1);
    assert!(run(&desired, &actual).is_empty());
}

#[test]
fn a_renamed_group_is_one_field_update() {
    let (mut desired, actual) = in_sync();
    desired_mut(&mut desired, "eng").group.name = Some("Platform".into());
    let plan = run(&desired, &actual);
    assert_eq!(
        only_update(&plan),
        &Update {
            name: Some(Diff {
                actual: Some("Engineering".into()),
                desired: "Platform".into(),
                origin: None,
            }),
            ..Update::default()
        }
    );
    assert_eq!(
        plan.guards[&GroupId::from("eng")],
        Guard::of(actual.groups.get(&GroupId::from("eng")).map(Box::as_ref))
    );
    let Guard::Present {
        info_seq,
        member_num,
        fields,
        ..
    } = &plan.guards[&GroupId::from("eng")]
    else {
        panic!("a live group has a present guard")
    };
    assert_eq!((*info_seq, *member_num), (7, 12));
    assert!(fields.contains_key("name") && fields.contains_key("custom.team"));
    assert_eq!(plan.summary().api_calls, 1);
}

#[test]
fn omitted_fields_are_unmanaged() {
    let (mut desired, mut actual) = in_sync();
    let group = &mut desired_mut(&mut desired, "eng").group;
    group.name = None;
    group.introduction = None;
    group.custom = None;
    group.mute_all = None;
    let twin = &mut actual_mut(&mut actual, "eng").group;
    twin.name = Some("Renamed in the console".into());
    twin.introduction = Some("edited".into());
    twin.custom = Some(Custom::from([("other", "x")]));
    twin.mute_all = Some(true);
    assert!(run(&desired, &actual).is_empty());
}

#[test]
fn unmanaged_custom_keys_are_deleted_when_custom_is_written() {
    let (mut desired, mut actual) = in_sync();
    actual_mut(&mut actual, "eng")
        .group
        .custom
        .as_mut()
        .unwrap()
        .insert("legacy", "1");
    desired_mut(&mut desired, "eng")
        .group
        .custom
        .as_mut()
        .unwrap()
        .insert("zone", "a\0b");
    let plan = run(&desired, &actual);
    assert_eq!(
        only_update(&plan).custom,
        vec![
            CustomDiff {
                key: "legacy".into(),
                actual: Some("1".into()),
                desired: None,
                origin: None,
            },
            CustomDiff {
                key: "zone".into(),
                actual: None,
                desired: Some("a\0b".into()),
                origin: None,
            },
        ]
    );
}

#[test]
fn an_empty_custom_value_means_absent() {
    let (mut desired, actual) = in_sync();
    desired_mut(&mut desired, "eng")
        .group
        .custom
        .as_mut()
        .unwrap()
        .insert("gone", "");
    assert!(run(&desired, &actual).is_empty());
}

#[test]
fn empty_text_and_unreported_text_are_equal() {
    let (mut desired, mut actual) = in_sync();
    desired_mut(&mut desired, "eng").group.notification = Some(CompactString::default());
    actual_mut(&mut actual, "eng").group.notification = None;
    assert!(run(&desired, &actual).is_empty());
}

#[test]
fn unmute_of_a_group_that_reports_nothing_is_no_change() {
    let (mut desired, mut actual) = in_sync();
    desired_mut(&mut desired, "eng").group.mute_all = Some(false);
    actual_mut(&mut actual, "eng").group.mute_all = None;
    assert!(run(&desired, &actual).is_empty());
}

#[test]
fn every_profile_field_is_compared() {
    let (mut desired, actual) = in_sync();
    let group = &mut desired_mut(&mut desired, "eng").group;
    group.introduction = Some("new".into());
    group.notification = Some("new".into());
    group.face_url = Some("https://example.com/new.png".into());
    group.max_members = Some(500);
    group.apply_join = Some(ApplyJoin::FreeAccess);
    group.mute_all = Some(true);
    let update = only_update(&run(&desired, &actual)).clone();
    assert_eq!(update.introduction.unwrap().desired, "new");
    assert_eq!(update.notification.unwrap().desired, "new");
    assert_eq!(
        update.face_url.unwrap().actual.as_deref(),
        Some("https://example.com/eng.png")
    );
    assert_eq!(
        update.max_members,
        Some(Diff {
            actual: Some(2000),
            desired: 500,
            origin: None,
        })
    );
    assert_eq!(update.apply_join.unwrap().desired, ApplyJoin::FreeAccess);
    assert_eq!(
        update.mute_all,
        Some(Diff {
            actual: Some(false),
            desired: true,
            origin: None,
        })
    );
}

#[test]
fn a_missing_group_is_imported_with_every_written_field() {
    let (desired, _) = in_sync();
    let plan = run(&desired, &Actual::default());
    assert_eq!(
        plan.changes,
        vec![Change {
            id: GroupId::from("eng"),
            action: Action::Create(Create {
                desired: full("eng")
            }),
            origin: None,
        }]
    );
    assert_eq!(plan.changes[0].action.commands(), vec!["import_group"]);
    assert_eq!(plan.guards[&GroupId::from("eng")], Guard::Absent);
}

#[test]
fn a_muted_group_is_modified_right_after_import() {
    let (mut desired, _) = in_sync();
    desired_mut(&mut desired, "eng").group.mute_all = Some(true);
    let plan = run(&desired, &Actual::default());
    assert_eq!(
        plan.changes[0].action.commands(),
        vec!["import_group", "modify_group_base_info"]
    );
    assert_eq!(plan.summary().api_calls, 2);
}

#[test]
fn an_avchatroom_is_created_not_imported_and_says_so() {
    let (mut desired, _) = in_sync();
    let group = &mut desired_mut(&mut desired, "eng").group;
    group.group_type = Some(GroupType::AVChatRoom);
    group.max_members = None;
    let plan = run(&desired, &Actual::default());
    assert_eq!(plan.changes[0].action.commands(), vec!["create_group"]);
    assert_eq!(
        plan.warnings,
        vec![Warning::CreatedNotImported {
            id: GroupId::from("eng")
        }]
    );
}

#[test]
fn creating_needs_type_and_name() {
    let (mut desired, _) = in_sync();
    desired_mut(&mut desired, "eng").group.group_type = None;
    let mut other = full("ops");
    other.name = None;
    desired
        .groups
        .insert(other.id.clone(), Arc::new(declared(other)));
    assert_eq!(
        errors(&desired, &Actual::default(), &PlanOptions::default()),
        vec![
            PlanError::MissingForCreate {
                id: GroupId::from("eng"),
                field: "type"
            },
            PlanError::MissingForCreate {
                id: GroupId::from("ops"),
                field: "name"
            },
        ]
    );
}

#[test]
fn an_owner_change_is_a_transfer_to_a_member() {
    let (mut desired, mut actual) = in_sync();
    desired_mut(&mut desired, "eng").group.owner = Some("bob".into());
    actual_mut(&mut actual, "eng")
        .roles
        .insert("bob".into(), Role::Member);
    let plan = run(&desired, &actual);
    assert_eq!(
        plan.changes[0].action,
        Action::Transfer(Transfer {
            actual: Some("alice".into()),
            desired: "bob".into(),
            after: None,
        })
    );
    assert_eq!(plan.summary().transfer, 1);
}

#[test]
fn a_transfer_to_a_non_member_is_a_plan_error() {
    let (mut desired, mut actual) = in_sync();
    desired_mut(&mut desired, "eng").group.owner = Some("mallory".into());
    actual_mut(&mut actual, "eng")
        .roles
        .insert("mallory".into(), Role::NotMember);
    assert_eq!(
        errors(&desired, &actual, &PlanOptions::default()),
        vec![PlanError::OwnerNotMember {
            id: GroupId::from("eng"),
            owner: "mallory".into()
        }]
    );
}

#[test]
fn an_avchatroom_cannot_change_owner() {
    let (mut desired, mut actual) = in_sync();
    for group in [
        &mut desired_mut(&mut desired, "eng").group,
        &mut actual_mut(&mut actual, "eng").group,
    ] {
        group.group_type = Some(GroupType::AVChatRoom);
        group.max_members = None;
    }
    desired_mut(&mut desired, "eng").group.owner = Some("bob".into());
    assert_eq!(
        errors(&desired, &actual, &PlanOptions::default()),
        vec![PlanError::TransferRefused {
            id: GroupId::from("eng"),
            group_type: GroupType::AVChatRoom
        }]
    );
}

#[test]
fn a_type_change_is_refused_unless_replace_is_allowed() {
    let (mut desired, actual) = in_sync();
    desired_mut(&mut desired, "eng").group.group_type = Some(GroupType::ChatRoom);
    assert_eq!(
        errors(&desired, &actual, &PlanOptions::default()),
        vec![PlanError::TypeChange {
            id: GroupId::from("eng"),
            actual: GroupType::Public,
            desired: GroupType::ChatRoom
        }]
    );
    let options = PlanOptions {
        allow_replace: true,
        ..PlanOptions::default()
    };
    let plan = plan(&desired, &actual, &options).unwrap();
    assert!(matches!(&plan.changes[0].action, Action::Replace(r) if r.member_num == 12));
    assert_eq!(
        plan.changes[0].action.commands(),
        vec!["destroy_group", "import_group"]
    );
    assert_eq!(
        plan.warnings,
        vec![Warning::ReplaceLosesHistory {
            id: GroupId::from("eng"),
            member_num: 12
        }]
    );
}

#[test]
fn ensure_absent_destroys_a_live_group_and_ignores_a_missing_one() {
    let (mut desired, actual) = in_sync();
    desired_mut(&mut desired, "eng").ensure = Ensure::Absent;
    let plan = run(&desired, &actual);
    assert_eq!(
        plan.changes[0].action,
        Action::Destroy(Destroy {
            group_type: GroupType::Public,
            member_num: 12,
            reason: DestroyReason::Absent
        })
    );
    assert!(run(&desired, &Actual::default()).is_empty());
}

#[test]
fn a_protected_group_is_never_destroyed() {
    let (mut desired, actual) = in_sync();
    let entry = desired_mut(&mut desired, "eng");
    entry.ensure = Ensure::Absent;
    entry.protect = true;
    assert!(matches!(
        &errors(&desired, &actual, &PlanOptions::default())[..],
        [PlanError::Protected { .. }]
    ));
}

#[test]
fn prune_destroys_only_undeclared_groups_under_a_prefix() {
    let (mut desired, mut actual) = in_sync();
    desired.prune_prefixes.insert("ops-".into());
    for id in ["ops-old", "other-old"] {
        actual
            .groups
            .insert(GroupId::from(id), Box::new(live(full(id), 3)));
    }
    let plan = run(&desired, &actual);
    assert_eq!(plan.changes.len(), 1);
    assert_eq!(plan.changes[0].id, GroupId::from("ops-old"));
    assert!(matches!(
        &plan.changes[0].action,
        Action::Destroy(Destroy { reason: DestroyReason::Pruned { prefix }, .. }) if prefix == "ops-"
    ));
}

#[test]
fn prune_with_no_declared_group_is_refused() {
    let mut desired = Desired::default();
    desired.prune_prefixes.insert("ops-".into());
    let mut actual = Actual::default();
    actual
        .groups
        .insert(GroupId::from("ops-a"), Box::new(live(full("ops-a"), 1)));
    assert_eq!(
        errors(&desired, &actual, &PlanOptions::default()),
        vec![PlanError::PruneWithoutGroups {
            prefixes: vec!["ops-".into()]
        }]
    );
}

#[test]
fn targets_and_excludes_limit_the_plan() {
    let (mut desired, actual) = in_sync();
    desired_mut(&mut desired, "eng").group.name = Some("Platform".into());
    let mut second = full("ops");
    second.name = Some("Ops".into());
    desired
        .groups
        .insert(second.id.clone(), Arc::new(declared(second)));
    let targeted = PlanOptions {
        targets: [GroupId::from("ops")].into(),
        ..PlanOptions::default()
    };
    let plan = plan(&desired, &actual, &targeted).unwrap();
    assert_eq!(plan.changes.len(), 1);
    assert_eq!(plan.changes[0].id, GroupId::from("ops"));
    let excluded = PlanOptions {
        excludes: [GroupId::from("ops")].into(),
        ..PlanOptions::default()
    };
    let plan = super::plan(&desired, &actual, &excluded).unwrap();
    assert_eq!(plan.changes.len(), 1);
    assert_eq!(plan.changes[0].id, GroupId::from("eng"));
}

#[test]
fn changes_come_in_phase_order() {
    let (mut desired, mut actual) = in_sync();
    desired_mut(&mut desired, "eng").group.name = Some("Platform".into());
    desired_mut(&mut desired, "eng").group.owner = Some("bob".into());
    actual_mut(&mut actual, "eng")
        .roles
        .insert("bob".into(), Role::Admin);
    let new = full("aaa-new");
    desired
        .groups
        .insert(new.id.clone(), Arc::new(declared(new)));
    let mut gone = declared(full("zzz-gone"));
    gone.ensure = Ensure::Absent;
    desired.groups.insert(gone.group.id.clone(), Arc::new(gone));
    actual.groups.insert(
        GroupId::from("zzz-gone"),
        Box::new(live(full("zzz-gone"), 4)),
    );
    let plan = run(&desired, &actual);
    let phases: Vec<(Phase, &str)> = plan
        .changes
        .iter()
        .map(|c| (c.action.phase(), c.id.as_str()))
        .collect();
    assert_eq!(
        phases,
        vec![
            (Phase::Create, "aaa-new"),
            (Phase::Update, "eng"),
            (Phase::Transfer, "eng"),
            (Phase::Destroy, "zzz-gone"),
        ]
    );
}

#[test]
fn destroy_limits_count_groups_and_members() {
    let mut desired = Desired::default();
    let mut actual = Actual::default();
    for (i, members) in [40u32, 70].into_iter().enumerate() {
        let id = format!("old-{i}");
        let mut entry = declared(full(&id));
        entry.ensure = Ensure::Absent;
        desired
            .groups
            .insert(GroupId::from(id.as_str()), Arc::new(entry));
        actual.groups.insert(
            GroupId::from(id.as_str()),
            Box::new(live(full(&id), members)),
        );
    }
    let plan = run(&desired, &actual);
    assert_eq!(plan.summary().destroyed_members, 110);
    assert_eq!(
        check_limits(&plan, SafetyLimits::default()),
        Err(SafetyError::TooManyMembers {
            members: 110,
            limit: 100
        })
    );
    assert_eq!(
        check_limits(
            &plan,
            SafetyLimits {
                max_destroy: 1,
                max_destroy_members: 1000,
                ..SafetyLimits::default()
            }
        ),
        Err(SafetyError::TooManyGroups { count: 2, limit: 1 })
    );
    assert!(
        check_limits(
            &plan,
            SafetyLimits {
                max_destroy: 2,
                max_destroy_members: 110,
                ..SafetyLimits::default()
            }
        )
        .is_ok()
    );
}

#[test]
fn baseline_labels_drift_apart_from_this_change() {
    let (mut baseline, mut actual) = in_sync();
    actual_mut(&mut actual, "eng").group.notification = Some("edited by hand".into());
    let mut proposed = baseline.clone();
    desired_mut(&mut proposed, "eng").group.owner = Some("bob".into());
    actual_mut(&mut actual, "eng")
        .roles
        .insert("bob".into(), Role::Member);
    desired_mut(&mut baseline, "eng").group.owner = Some("alice".into());
    let base_plan = run(&baseline, &actual);
    let mut plan = run(&proposed, &actual);
    plan.label_origins(&base_plan);
    let origins: Vec<(Phase, Option<Origin>)> = plan
        .changes
        .iter()
        .map(|c| (c.action.phase(), c.origin))
        .collect();
    assert_eq!(
        origins,
        vec![
            (Phase::Update, Some(Origin::Drift)),
            (Phase::Transfer, Some(Origin::ThisChange)),
        ]
    );
}

#[test]
fn baseline_labels_an_update_field_by_field() {
    let (baseline, mut actual) = in_sync();
    let eng = &mut actual_mut(&mut actual, "eng").group;
    eng.notification = Some("edited by hand".into());
    eng.custom
        .get_or_insert_with(Custom::new)
        .insert("stray", "x");
    let mut proposed = baseline.clone();
    desired_mut(&mut proposed, "eng").group.name = Some("Platform".into());
    let base_plan = run(&baseline, &actual);
    let mut plan = run(&proposed, &actual);
    plan.label_origins(&base_plan);
    let [change] = plan.changes.as_slice() else {
        panic!("one change: {plan:?}");
    };
    assert_eq!(change.origin, Some(Origin::ThisChange));
    let Action::Update(update) = &change.action else {
        panic!("an update: {change:?}");
    };
    assert_eq!(
        update.name.as_ref().unwrap().origin,
        Some(Origin::ThisChange)
    );
    assert_eq!(
        update.notification.as_ref().unwrap().origin,
        Some(Origin::Drift)
    );
    assert_eq!(update.custom[0].origin, Some(Origin::Drift));
    assert_eq!(update.origins(), vec![Origin::ThisChange, Origin::Drift]);
    let own = update.part(Origin::ThisChange);
    assert!(own.name.is_some() && own.notification.is_none() && own.custom.is_empty());
    let drift = update.part(Origin::Drift);
    assert!(drift.name.is_none() && drift.notification.is_some() && drift.custom.len() == 1);
}

#[test]
fn fingerprints_follow_every_field() {
    let a = full("eng");
    let mut b = a.clone();
    assert_eq!(fingerprint(&a), fingerprint(&b));
    b.custom.as_mut().unwrap().insert("k", "v");
    assert_ne!(fingerprint(&a), fingerprint(&b));
}

#[test]
fn unmet_fields_name_what_did_not_take_effect() {
    let desired = full("eng");
    let mut actual = desired.clone();
    assert!(unmet_fields(&desired, &actual).is_empty());
    actual.name = Some("Other".into());
    actual.mute_all = None;
    actual.custom.as_mut().unwrap().insert("extra", "x");
    assert_eq!(unmet_fields(&desired, &actual), vec!["name"]);
    actual.custom = Some(Custom::new());
    assert_eq!(unmet_fields(&desired, &actual), vec!["name", "custom"]);
}

#[test]
fn an_update_leads_to_its_desired_values() {
    let (mut desired, actual) = in_sync();
    desired_mut(&mut desired, "eng").group.name = Some("Platform".into());
    desired_mut(&mut desired, "eng").group.custom = Some(Custom::new());
    let plan = run(&desired, &actual);
    let target = only_update(&plan).desired_group(&GroupId::from("eng"));
    let mut after = actual.groups[&GroupId::from("eng")].group.clone();
    assert_eq!(unmet_fields(&target, &after), vec!["name", "custom"]);
    after.name = Some("Platform".into());
    after.custom = Some(Custom::new());
    assert!(unmet_fields(&target, &after).is_empty());
}

#[test]
fn a_service_assigned_id_is_adopted_but_never_created() {
    let mut desired = Desired::default();
    let mut adopted = full("@TGS#2J4SZEAEL");
    adopted.group_type = Some(GroupType::Public);
    desired
        .groups
        .insert(adopted.id.clone(), Arc::new(declared(adopted.clone())));
    let mut actual = Actual::default();
    actual
        .groups
        .insert(adopted.id.clone(), Box::new(live(adopted.clone(), 3)));
    assert!(run(&desired, &actual).is_empty());
    assert_eq!(
        errors(&desired, &Actual::default(), &PlanOptions::default()),
        vec![PlanError::ReservedId { id: adopted.id }]
    );
    let mut community = full("@TGS#_ops");
    community.group_type = Some(GroupType::Community);
    community.apply_join = None;
    let mut desired = Desired::default();
    desired
        .groups
        .insert(community.id.clone(), Arc::new(declared(community)));
    assert_eq!(run(&desired, &Actual::default()).changes.len(), 1);
}

#[test]
fn a_community_join_option_is_set_right_after_import() {
    let mut community = full("@TGS#_ops");
    community.group_type = Some(GroupType::Community);
    community.mute_all = Some(false);
    community.apply_join = Some(ApplyJoin::NeedPermission);
    let mut desired = Desired::default();
    desired
        .groups
        .insert(community.id.clone(), Arc::new(declared(community)));
    let plan = run(&desired, &Actual::default());
    assert_eq!(
        plan.changes[0].action.commands(),
        vec!["import_group", "modify_group_base_info"]
    );
}

#[test]
fn a_destroy_whose_id_differs_from_a_declared_one_only_by_case_or_spaces_is_refused() {
    let (mut desired, mut actual) = in_sync();
    desired.prune_prefixes.insert("ops-".into());
    let keep = full("ops-Keep");
    desired
        .groups
        .insert(keep.id.clone(), Arc::new(declared(keep.clone())));
    actual
        .groups
        .insert(keep.id.clone(), Box::new(live(keep, 3)));
    for lookalike in ["ops-keep", "ops-KEEP", "ops-Keep "] {
        let mut actual = actual.clone();
        actual
            .groups
            .insert(GroupId::from(lookalike), Box::new(live(full(lookalike), 3)));
        assert_eq!(
            errors(&desired, &actual, &PlanOptions::default()),
            vec![PlanError::LookalikeDestroy {
                id: GroupId::from(lookalike),
                declared: GroupId::from("ops-Keep"),
            }],
            "{lookalike:?}"
        );
    }
    // `ensure: absent` on a lookalike of a protected id, too.
    let mut protected = desired.clone();
    desired_mut(&mut protected, "eng").protect = true;
    let twin = full("ENG");
    let mut absent = declared(twin.clone());
    absent.ensure = Ensure::Absent;
    protected.groups.insert(twin.id.clone(), Arc::new(absent));
    actual
        .groups
        .insert(twin.id.clone(), Box::new(live(twin, 1)));
    assert!(
        errors(&protected, &actual, &PlanOptions::default()).contains(
            &PlanError::LookalikeDestroy {
                id: GroupId::from("ENG"),
                declared: GroupId::from("eng"),
            }
        )
    );
    // A destroy with no lookalike declared goes ahead.
    let mut plain = actual.clone();
    plain.groups.remove(&GroupId::from("ENG"));
    plain.groups.insert(
        GroupId::from("ops-other"),
        Box::new(live(full("ops-other"), 1)),
    );
    assert_eq!(run(&desired, &plain).summary().destroy, 1);
}

/// `n` declared groups in sync, named g00, g01, …
fn fleet(n: usize) -> (Desired, Actual) {
    let mut desired = Desired::default();
    let mut actual = Actual::default();
    for i in 0..n {
        let group = full(&format!("g{i:02}"));
        desired
            .groups
            .insert(group.id.clone(), Arc::new(declared(group.clone())));
        actual
            .groups
            .insert(group.id.clone(), Box::new(live(group, 1)));
    }
    (desired, actual)
}

#[test]
fn updates_past_the_threshold_of_existing_groups_stop_the_apply() {
    let limits = SafetyLimits::default();
    let rename = |desired: &mut Desired, count: usize| {
        for (i, group) in desired.groups.values_mut().enumerate().take(count) {
            Arc::make_mut(group).group.name = Some(format!("Renamed {i}").into());
        }
    };
    // 20 existing groups: 6 updated is 30%, allowed; 7 is 35%, refused.
    let (mut desired, actual) = fleet(20);
    rename(&mut desired, 6);
    let plan = run(&desired, &actual);
    assert_eq!(plan.existing_declared, 20);
    assert_eq!(check_limits(&plan, limits), Ok(()));
    rename(&mut desired, 7);
    assert_eq!(
        check_limits(&run(&desired, &actual), limits),
        Err(SafetyError::TooManyUpdates {
            count: 7,
            existing: 20,
            percent: 35,
            limit: 30
        })
    );
    // Ten existing groups or fewer: no threshold.
    let (mut small, actual) = fleet(10);
    rename(&mut small, 10);
    assert_eq!(check_limits(&run(&small, &actual), limits), Ok(()));
    // Creates do not count against it, and a raised limit lets it through.
    let (mut desired, mut actual) = fleet(20);
    rename(&mut desired, 20);
    actual.groups.clear();
    assert_eq!(check_limits(&run(&desired, &actual), limits), Ok(()));
    let (mut desired, actual) = fleet(20);
    rename(&mut desired, 20);
    let all = SafetyLimits {
        max_update_percent: 100,
        ..limits
    };
    assert_eq!(check_limits(&run(&desired, &actual), all), Ok(()));
}

#[test]
fn protected_ids_travel_with_the_plan_and_stop_any_destroy_of_them() {
    let (mut desired, actual) = in_sync();
    desired_mut(&mut desired, "eng").protect = true;
    let mut plan = run(&desired, &actual);
    assert!(plan.protected.contains(&GroupId::from("eng")));
    assert_eq!(check_protected(&plan), Ok(()));
    // A destroy of it added to the plan (as an edited saved plan would) is refused.
    plan.changes.push(Change {
        id: GroupId::from("eng"),
        action: Action::Destroy(Destroy {
            group_type: GroupType::Public,
            member_num: 12,
            reason: DestroyReason::Absent,
        }),
        origin: None,
    });
    assert_eq!(
        check_protected(&plan),
        Err(SafetyError::Protected {
            id: GroupId::from("eng")
        })
    );
}

#[test]
fn an_owner_that_is_not_an_imported_account_is_a_plan_error_naming_the_file() {
    // A group to create whose owner is not imported.
    let (desired, _) = in_sync();
    let mut none = Actual::default();
    none.accounts.insert("alice".into(), false);
    let found = errors(&desired, &none, &PlanOptions::default());
    assert!(
        matches!(&found[..], [PlanError::AccountNotImported { field: "owner", account, role: "own the group made here", .. }] if account == "alice"),
        "{found:?}"
    );
    assert!(
        found[0]
            .to_string()
            .contains("group \"eng\": field owner: account \"alice\" is not imported")
    );
    // A transfer to an account that is not imported: one error, not also "not a member".
    let (mut desired, mut actual) = in_sync();
    desired_mut(&mut desired, "eng").group.owner = Some("ghost".into());
    actual.accounts.insert("ghost".into(), false);
    assert!(matches!(
        &errors(&desired, &actual, &PlanOptions::default())[..],
        [PlanError::AccountNotImported {
            role: "become the new owner",
            ..
        }]
    ));
    // An imported owner, or one that already owns the group, is fine.
    let (desired, mut actual) = in_sync();
    actual.accounts.insert("alice".into(), false);
    assert!(
        run(&desired, &actual).is_empty(),
        "the owner already owns it"
    );
    let mut imported = Actual::default();
    imported.accounts.insert("alice".into(), true);
    assert_eq!(run(&desired, &imported).summary().create, 1);
}

/// The in-sync group, declared with only a new type and its name: every other field unmanaged.
fn retyped(group_type: GroupType) -> (Desired, Actual) {
    let (mut desired, actual) = in_sync();
    desired_mut(&mut desired, "eng").group = Group {
        group_type: Some(group_type),
        name: Some("Engineering".into()),
        ..Group::new("eng")
    };
    (desired, actual)
}

fn replaced(desired: &Desired, actual: &Actual) -> Replace {
    let options = PlanOptions {
        allow_replace: true,
        ..PlanOptions::default()
    };
    let plan = plan(desired, actual, &options).expect("plan");
    match &plan.changes[..] {
        [
            Change {
                action: Action::Replace(replace),
                ..
            },
        ] => replace.clone(),
        other => panic!("expected one replace, got {other:?}"),
    }
}

#[test]
fn a_replace_carries_over_every_unmanaged_live_value_the_new_type_accepts() {
    let (desired, actual) = retyped(GroupType::Private);
    let replace = replaced(&desired, &actual);
    let live = &actual.groups[&GroupId::from("eng")].group;
    assert_eq!(
        replace.desired,
        Group {
            group_type: Some(GroupType::Private),
            apply_join: None,
            // Not muted is what a new group is anyway: nothing to carry.
            mute_all: None,
            ..live.clone()
        }
    );
    assert_eq!(
        replace.carried,
        vec![
            Field::Owner,
            Field::Introduction,
            Field::Notification,
            Field::FaceUrl,
            Field::MaxMembers,
            Field::Custom,
            Field::CreateTime,
        ]
    );
    // A Private group takes no join applications: the live join option is lost, and said so.
    assert_eq!(
        replace.lost,
        vec![Loss::ApplyJoin {
            actual: ApplyJoin::NeedPermission
        }]
    );
    assert_eq!(
        replace.lost[0].why(GroupType::Private),
        "a Private group takes no join applications"
    );
}

#[test]
fn a_replace_carries_only_what_the_manifest_leaves_unmanaged() {
    let (mut desired, mut actual) = retyped(GroupType::Public);
    actual_mut(&mut actual, "eng").group.group_type = Some(GroupType::ChatRoom);
    let group = &mut desired_mut(&mut desired, "eng").group;
    group.introduction = Some("Rewritten".into());
    group.owner = Some("bob".into());
    // Written and empty: no custom keys wanted, so the live ones are not carried.
    group.custom = Some(Custom::new());
    let replace = replaced(&desired, &actual);
    assert_eq!(replace.desired.introduction.as_deref(), Some("Rewritten"));
    assert_eq!(replace.desired.owner.as_deref(), Some("bob"));
    assert_eq!(replace.desired.custom, Some(Custom::new()));
    assert_eq!(
        replace.carried,
        vec![
            Field::Notification,
            Field::FaceUrl,
            Field::MaxMembers,
            Field::ApplyJoin,
            Field::CreateTime,
        ]
    );
    assert!(replace.lost.is_empty(), "{:?}", replace.lost);
}

#[test]
fn a_replace_to_an_avchatroom_loses_the_values_it_refuses() {
    let (desired, mut actual) = retyped(GroupType::AVChatRoom);
    actual_mut(&mut actual, "eng").group.mute_all = Some(true);
    let replace = replaced(&desired, &actual);
    assert_eq!(
        replace.lost,
        vec![
            Loss::MaxMembers { actual: 2000 },
            Loss::ApplyJoin {
                actual: ApplyJoin::NeedPermission
            },
            Loss::CreateTime {
                actual: 1_448_357_837
            },
        ]
    );
    assert_eq!(replace.desired.max_members, None);
    assert_eq!(replace.desired.create_time, None);
    // The owner, texts, mute-all and custom data are accepted: carried, muted after creation.
    assert_eq!(replace.desired.owner.as_deref(), Some("alice"));
    assert_eq!(replace.desired.mute_all, Some(true));
    assert!(replace.carried.contains(&Field::MuteAll));
    assert_eq!(
        Action::Replace(replace.clone()).commands(),
        vec!["destroy_group", "create_group", "modify_group_base_info"]
    );
    assert_eq!(
        replace.lost[0].why(GroupType::AVChatRoom),
        "an AVChatRoom group has no member cap"
    );
}

#[test]
fn a_replace_loses_a_cap_above_the_new_types_and_carries_a_join_option_to_a_community() {
    let (mut desired, mut actual) = retyped(GroupType::Community);
    desired_mut(&mut desired, "eng").group.max_members = None;
    let live = &mut actual_mut(&mut actual, "eng").group;
    live.apply_join = Some(ApplyJoin::FreeAccess);
    let replace = replaced(&desired, &actual);
    assert_eq!(replace.desired.apply_join, Some(ApplyJoin::FreeAccess));
    assert_eq!(replace.desired.max_members, Some(2000));
    // A Community takes no join option at import: it is set right after.
    assert_eq!(
        Action::Replace(replace).commands(),
        vec!["destroy_group", "import_group", "modify_group_base_info"]
    );

    let (desired, mut actual) = retyped(GroupType::Public);
    let live = &mut actual_mut(&mut actual, "eng").group;
    live.group_type = Some(GroupType::Community);
    live.max_members = Some(100_000);
    let replace = replaced(&desired, &actual);
    assert_eq!(replace.lost, vec![Loss::MaxMembers { actual: 100_000 }]);
    assert_eq!(replace.desired.max_members, None);
    assert_eq!(
        replace.lost[0].why(GroupType::Public),
        "above a Public group's cap of 6000"
    );
}

#[test]
fn a_carried_owner_must_be_an_imported_account() {
    let (desired, mut actual) = retyped(GroupType::Private);
    actual.accounts.insert("alice".into(), false);
    let options = PlanOptions {
        allow_replace: true,
        ..PlanOptions::default()
    };
    let found = errors(&desired, &actual, &options);
    assert!(
        matches!(&found[..], [PlanError::AccountNotImported { id, field: "owner", account, .. }] if account == "alice" && id.as_str() == "eng"),
        "{found:?}"
    );
    assert!(
        found[0]
            .to_string()
            .contains("the live owner is carried over"),
        "{}",
        found[0]
    );
    actual.accounts.insert("alice".into(), true);
    assert_eq!(
        replaced(&desired, &actual).desired.owner.as_deref(),
        Some("alice")
    );
}
