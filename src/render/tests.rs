//! Rendering specifications: one rich plan, made by the real planner, seen through every view;
//! then the promises each view makes (colour, size cap, escaping, a parseable document).

use std::sync::Arc;

use super::*;
use crate::model::{
    Actual, ActualGroup, ApplyJoin, Custom, Desired, DesiredGroup, Ensure, GroupType, Role, Source,
};
use crate::plan::{PlanOptions, plan};

fn live(group: Group, member_num: u32, roles: &[(&str, Role)]) -> ActualGroup {
    ActualGroup {
        group,
        info_seq: 7,
        member_num,
        roles: roles
            .iter()
            .map(|(account, role)| ((*account).to_owned(), *role))
            .collect(),
        members: None,
    }
}

fn declared(group: Group, ensure: Ensure) -> DesiredGroup {
    DesiredGroup {
        group,
        ensure,
        protect: false,
        source: Source::default(),
        people: Default::default(),
    }
}

fn group(id: &str, group_type: GroupType, name: &str) -> Group {
    Group {
        group_type: Some(group_type),
        name: Some(name.into()),
        ..Group::new(id)
    }
}

fn custom(pairs: &[(&str, &str)]) -> Option<Custom> {
    Some(pairs.iter().map(|(k, v)| (*k, *v)).collect())
}

/// Every kind of change: a create with every field, an AVChatRoom create (warning), an update
/// of every field with an owner transfer, a transfer of an ownerless group, a destroy by
/// `ensure: absent`, a destroy by prune, and a replace.
fn rich_plan() -> Plan {
    let mut desired = Desired::default();
    let mut actual = Actual::default();
    let mut declare = |group: Group, ensure: Ensure| {
        desired
            .groups
            .insert(group.id.clone(), Arc::new(declared(group, ensure)));
    };

    declare(
        Group {
            owner: Some("alice".into()),
            introduction: Some("Where ops talk.\nBe kind.\n".into()),
            notification: Some("On call: \"bob\"".into()),
            face_url: Some("https://example.com/ops.png".into()),
            max_members: Some(500),
            apply_join: Some(ApplyJoin::FreeAccess),
            mute_all: Some(true),
            custom: custom(&[("team", "plat\0form"), ("tier", "1")]),
            create_time: Some(1_448_357_837),
            ..group("ops-room", GroupType::ChatRoom, "Ops room")
        },
        Ensure::Present,
    );
    declare(
        group("av-live", GroupType::AVChatRoom, "Town hall"),
        Ensure::Present,
    );

    let eng_actual = Group {
        owner: Some("alice".into()),
        introduction: Some("Announcements\nfor engineering.\nAsk in #help.".into()),
        notification: Some("Deploy freeze on Friday".into()),
        face_url: Some("https://example.com/old.png".into()),
        max_members: Some(200),
        apply_join: Some(ApplyJoin::NeedPermission),
        mute_all: Some(false),
        custom: custom(&[("keep", "x"), ("legacy", "1"), ("team", "infra")]),
        ..group("eng-announce", GroupType::Public, "Ops")
    };
    declare(
        Group {
            owner: Some("bob".into()),
            introduction: Some("Announcements\nfor the engineering org.\nAsk in #help.".into()),
            notification: Some("No freeze".into()),
            face_url: Some("https://example.com/eng.png".into()),
            max_members: Some(2000),
            apply_join: Some(ApplyJoin::FreeAccess),
            mute_all: Some(true),
            custom: custom(&[("keep", "x"), ("new_key", "a\0b"), ("team", "platform")]),
            ..group("eng-announce", GroupType::Public, "Operations")
        },
        Ensure::Present,
    );
    actual.groups.insert(
        eng_actual.id.clone(),
        Box::new(live(eng_actual, 40, &[("bob", Role::Member)])),
    );

    declare(
        Group {
            owner: Some("carol".into()),
            ..Group::new("lobby")
        },
        Ensure::Present,
    );
    actual.groups.insert(
        "lobby".into(),
        Box::new(live(
            group("lobby", GroupType::Public, "Lobby"),
            5,
            &[("carol", Role::Admin)],
        )),
    );

    declare(Group::new("old-room"), Ensure::Absent);
    actual.groups.insert(
        "old-room".into(),
        Box::new(live(group("old-room", GroupType::Public, "Old"), 12, &[])),
    );
    actual.groups.insert(
        "ops-stale".into(),
        Box::new(live(
            group("ops-stale", GroupType::ChatRoom, "Stale"),
            1,
            &[],
        )),
    );
    desired.prune_prefixes.insert("ops-".into());

    declare(group("x", GroupType::ChatRoom, "X"), Ensure::Present);
    actual.groups.insert(
        "x".into(),
        Box::new(live(group("x", GroupType::Public, "X"), 12, &[])),
    );

    let options = PlanOptions {
        allow_replace: true,
        ..PlanOptions::default()
    };
    plan(&desired, &actual, &options).expect("the rich plan is valid")
}

/// The rich plan as `--baseline` labels it when the baseline already asked for the lobby's
/// owner and the pruning of `ops-stale`.
fn labelled_plan() -> Plan {
    let mut plan = rich_plan();
    let baseline = Plan {
        changes: plan
            .changes
            .iter()
            .filter(|change| ["lobby", "ops-stale"].contains(&change.id.as_str()))
            .cloned()
            .collect(),
        ..Plan::default()
    };
    plan.label_origins(&baseline);
    plan
}

const PLAIN: TextOptions = TextOptions { color: false };

#[test]
fn text_of_every_kind_of_change() {
    insta::assert_snapshot!("text", text(&rich_plan(), &PLAIN));
}

#[test]
fn text_with_origins_has_two_sections() {
    let out = text(&labelled_plan(), &PLAIN);
    assert!(out.contains("\nThis change:\n"), "{out}");
    assert!(
        out.contains("\nDrift (live already differed from the baseline):\n"),
        "{out}"
    );
    insta::assert_snapshot!("text_origins", out);
}

#[test]
fn text_of_an_empty_plan_is_one_sentence() {
    assert_eq!(
        text(&Plan::default(), &PLAIN),
        "No changes. Live groups match the manifests.\n"
    );
}

#[test]
fn text_ends_with_the_totals_and_the_api_calls() {
    let out = text(&rich_plan(), &PLAIN);
    assert!(out.ends_with(
        "Plan: 2 to create, 1 to replace, 1 to update, 2 owner transfers, 2 to destroy.\n\
         The apply will make 10 API calls.\n"
    ));
}

#[test]
fn text_is_coloured_only_when_asked() {
    let mut plan = rich_plan();
    // A user string that tries to drive the terminal.
    plan.changes.push(Change {
        id: "zz".into(),
        action: Action::Transfer(Transfer {
            actual: None,
            desired: "\u{1b}[2Jevil".into(),
            after: None,
        }),
        origin: None,
    });
    let plain = text(&plan, &PLAIN);
    assert!(!plain.contains('\u{1b}'), "{plain}");
    assert!(plain.contains(r#""\u{1b}[2Jevil""#), "{plain}");
    let coloured = text(&plan, &TextOptions { color: true });
    assert!(coloured.contains("\u{1b}[32m+\u{1b}[0m create ops-room"));
    assert!(coloured.contains("\u{1b}[31m-\u{1b}[0m destroy old-room"));
    assert!(coloured.contains("\u{1b}[33m~\u{1b}[0m update eng-announce"));
    assert!(!coloured.contains("\u{1b}[2J"), "{coloured}");
}

#[test]
fn text_shows_nul_and_newlines_escaped() {
    let out = text(&rich_plan(), &PLAIN);
    assert!(out.contains(r#"custom.team: "plat\0form""#), "{out}");
    assert!(out.contains(r#"custom.new_key: (none) -> "a\0b""#), "{out}");
}

#[test]
fn a_change_of_line_ending_is_visible() {
    let update = Update {
        introduction: Some(Diff {
            actual: Some("one\ntwo".into()),
            desired: "one\ntwo\n".into(),
            origin: None,
        }),
        notification: Some(Diff {
            actual: Some("a\nb ".into()),
            desired: "a\nb".into(),
            origin: None,
        }),
        ..Update::default()
    };
    let plan = Plan {
        changes: vec![Change {
            id: "g".into(),
            action: Action::Update(update),
            origin: None,
        }],
        ..Plan::default()
    };
    let out = text(&plan, &PLAIN);
    // The ending shows on the line itself: no "\ No newline at end" marker line.
    assert!(
        out.contains("  one\n        - two\n        + two\\n\n"),
        "{out}"
    );
    assert!(out.contains("- b\\u{20}\n        + b\n"), "{out}");
    let md = markdown(&plan, MARKDOWN_MAX_CHARS);
    assert!(md.contains("-     two\n+     two\\n\n"), "{md}");
    for out in [&out, &md] {
        assert!(!out.contains("No newline"), "{out}");
    }
}

/// A final newline on one side only is the last line changing; a shared one is not shown.
#[test]
fn a_final_newline_is_shown_only_where_the_endings_differ() {
    let lines = |actual: &str, desired: &str| -> Vec<String> {
        line_diff(actual, desired)
            .into_iter()
            .map(|line| {
                let sign = match line.tag {
                    ChangeTag::Equal => ' ',
                    ChangeTag::Delete => '-',
                    ChangeTag::Insert => '+',
                };
                format!("{sign}{}", line.text)
            })
            .collect()
    };
    assert_eq!(lines("a\nb", "a\nc"), [" a", "-b", "+c"]);
    assert_eq!(lines("a\nb\n", "a\nc\n"), [" a", "-b", "+c"]);
    assert_eq!(lines("a\nb\n", "a\nb"), [" a", "-b\\n", "+b"]);
    assert_eq!(lines("a\n", "a\nb"), ["-a\\n", "+a", "+b"]);
    assert_eq!(lines("", "a\nb\n"), ["+a", "+b"]);
    // A literal backslash-n in the text stays distinguishable from the shown ending.
    assert_eq!(lines("a\nb\\n", "a\nb\n"), [" a", "-b\\\\n", "+b\\n"]);
}

#[test]
fn markdown_of_every_kind_of_change() {
    insta::assert_snapshot!("markdown", markdown(&rich_plan(), MARKDOWN_MAX_CHARS));
}

#[test]
fn markdown_with_origins_has_two_sections() {
    let out = markdown(&labelled_plan(), MARKDOWN_MAX_CHARS);
    let this_change = out.find("### This change\n").expect("this change section");
    let drift = out
        .find("### Drift (live already differed from the baseline)\n")
        .expect("drift section");
    assert!(this_change < drift);
    insta::assert_snapshot!("markdown_origins", out);
}

#[test]
fn markdown_of_an_empty_plan() {
    assert_eq!(
        markdown(&Plan::default(), MARKDOWN_MAX_CHARS),
        "<!-- timctl-plan -->\n## timctl plan\n\nNo changes. Live groups match the manifests.\n"
    );
}

/// CI finds its earlier comment by the marker: it is the first line of every markdown plan,
/// empty or not, and survives truncation (it is part of the head).
#[test]
fn markdown_starts_with_the_hidden_comment_marker() {
    assert_eq!(MARKDOWN_MARKER, "<!-- timctl-plan -->");
    let plan = rich_plan();
    for out in [
        markdown(&Plan::default(), MARKDOWN_MAX_CHARS),
        markdown(&plan, MARKDOWN_MAX_CHARS),
        markdown(&plan, 10),
    ] {
        assert_eq!(out.lines().next(), Some(MARKDOWN_MARKER), "{out}");
        assert_eq!(out.matches(MARKDOWN_MARKER).count(), 1, "{out}");
    }
}

#[test]
fn markdown_truncates_details_never_the_summary() {
    let plan = rich_plan();
    let full = markdown(&plan, usize::MAX);
    let groups = full.matches("<details>").count();
    assert_eq!(groups, 7);
    let head = &full[..full.find("<details>").unwrap()];
    let cap = full.chars().count() - 200;
    let cut = markdown(&plan, cap);
    assert!(
        cut.chars().count() <= cap,
        "{} > {cap}",
        cut.chars().count()
    );
    assert!(cut.starts_with(head), "the head is kept whole:\n{cut}");
    let shown = cut.matches("<details>").count();
    assert!(shown < groups);
    assert!(
        cut.ends_with(&format!(
            "> … {} more group{} not shown (output truncated to fit a comment); run `timctl plan` locally for the full plan.\n",
            groups - shown,
            if groups - shown == 1 { "" } else { "s" }
        )),
        "{cut}"
    );
    // Dropped from the end: what is shown is a prefix of the full output.
    let notice = cut.rfind("> [!NOTE]\n> …").unwrap();
    assert!(full.starts_with(&cut[..notice]));

    // With room for nothing but the head, every group goes and the head stays.
    let tiny = markdown(&plan, head.chars().count());
    assert!(tiny.starts_with(head));
    assert_eq!(tiny.matches("<details>").count(), 0);
    assert!(tiny.contains("> … 7 more groups not shown"));
}

#[test]
fn markdown_of_a_large_plan_fits_a_comment() {
    let changes = (0..2000)
        .map(|i| Change {
            id: GroupId::from(format!("group-{i:04}")),
            action: Action::Update(Update {
                introduction: Some(Diff {
                    actual: Some("line one\nline two\nline three".into()),
                    desired: "line one\nline 2\nline three".into(),
                    origin: None,
                }),
                ..Update::default()
            }),
            origin: None,
        })
        .collect();
    let out = markdown(
        &Plan {
            changes,
            ..Plan::default()
        },
        MARKDOWN_MAX_CHARS,
    );
    assert!(out.chars().count() <= MARKDOWN_MAX_CHARS);
    assert!(out.contains("| 0 | 2000 | 0 | 0 | 0 | 2000 |"), "{out}");
    assert!(out.contains("more groups not shown"));
}

#[test]
fn user_strings_cannot_break_the_markdown() {
    let plan = Plan {
        changes: vec![
            Change {
                id: "fence".into(),
                action: Action::Update(Update {
                    introduction: Some(Diff {
                        actual: None,
                        desired: "run:\n```\n</details>\n````".into(),
                        origin: None,
                    }),
                    ..Update::default()
                }),
                origin: None,
            },
            Change {
                id: "pipe".into(),
                action: Action::Transfer(Transfer {
                    actual: Some("a|b".into()),
                    desired: "<b>`x`</b>".into(),
                    after: None,
                }),
                origin: None,
            },
        ],
        ..Plan::default()
    };
    let out = markdown(&plan, MARKDOWN_MAX_CHARS);
    // The diff block's fence is longer than the user's four backticks.
    assert!(out.contains("`````diff\n"), "{out}");
    assert!(out.contains("\n`````\n\n</details>"), "{out}");
    // Table cells escape `|`; code spans outlast the user's backticks.
    assert!(
        out.contains(r#"> | `pipe` | `"a\|b"` | ``"<b>`x`</b>"`` |"#),
        "{out}"
    );
    // Text inside the HTML summary is escaped.
    assert!(
        out.contains(
            r#"<summary><code>~ owner pipe: "a|b" -&gt; "&lt;b&gt;`x`&lt;/b&gt;"</code></summary>"#
        ),
        "{out}"
    );
    // Only the renderer's own lines close a section.
    let closing = out.lines().filter(|line| *line == "</details>").count();
    assert_eq!(closing, 2, "{out}");
}

#[test]
fn json_of_every_kind_of_change() {
    insta::assert_snapshot!("json", json(&rich_plan()));
}

/// A split update: its fields in their own sections in text and markdown, and one JSON change
/// whose fields carry their own labels.
fn split_plan() -> Plan {
    let diff = |actual: &str, desired: &str, origin| Diff {
        actual: Some(actual.into()),
        desired: desired.into(),
        origin: Some(origin),
    };
    Plan {
        changes: vec![Change {
            id: "g".into(),
            action: Action::Update(Update {
                name: Some(diff("A", "A2", Origin::ThisChange)),
                notification: Some(diff("by hand", "Be kind", Origin::Drift)),
                custom: vec![CustomDiff {
                    key: "team".into(),
                    actual: Some("x".into()),
                    desired: None,
                    origin: Some(Origin::Drift),
                }],
                ..Update::default()
            }),
            origin: Some(Origin::ThisChange),
        }],
        ..Plan::default()
    }
}

#[test]
fn a_split_update_shows_each_field_in_its_own_section() {
    let out = text(&split_plan(), &PLAIN);
    let drift_at = out.find("\nDrift (").expect("a drift section");
    let (own, drift) = out.split_at(drift_at);
    assert!(
        own.ends_with("This change:\n\n  ~ update g\n      name: \"A\" -> \"A2\"\n"),
        "{out}"
    );
    assert!(
        !own.contains("notification") && !own.contains("custom"),
        "{out}"
    );
    assert!(
        drift.contains("  ~ update g\n      notification: \"by hand\" -> \"Be kind\"\n      custom.team: \"x\" -> (deleted)\n"),
        "{out}"
    );
    assert!(
        out.ends_with(
            "1 to update, 0 owner transfers, 0 to destroy.\nThe apply will make 1 API call.\n"
        ),
        "{out}"
    );

    let md = markdown(&split_plan(), MARKDOWN_MAX_CHARS);
    assert!(
        md.contains("| this change | 0 | 1 | 0 | 0 | 0 | 1 |"),
        "{md}"
    );
    assert!(md.contains("| drift | 0 | 1 | 0 | 0 | 0 | 0 |"), "{md}");
    assert_eq!(md.matches("<details>").count(), 2, "{md}");

    let doc: serde_json::Value = serde_json::from_str(&json(&split_plan())).unwrap();
    let change = &doc["changes"][0];
    assert_eq!(doc["changes"].as_array().unwrap().len(), 1);
    assert_eq!(change["origin"], "this_change");
    assert_eq!(change["fields"]["name"]["origin"], "this_change");
    assert_eq!(change["fields"]["notification"]["origin"], "drift");
    assert_eq!(change["custom"]["team"]["origin"], "drift");
}

#[test]
fn json_labels_every_field_of_a_whole_change_with_its_origin() {
    let doc: serde_json::Value = serde_json::from_str(&json(&labelled_plan())).unwrap();
    let mut seen = 0;
    for change in doc["changes"].as_array().unwrap() {
        assert!(change["origin"].is_string(), "{change}");
        for pairs in [&change["fields"], &change["custom"]] {
            for (_, pair) in pairs.as_object().unwrap() {
                assert_eq!(pair["origin"], change["origin"], "{change}");
                seen += 1;
            }
        }
    }
    assert!(seen > 10, "{doc}");
}

#[test]
fn json_is_a_versioned_document_with_actual_and_desired() {
    let out = json(&labelled_plan());
    assert!(out.ends_with("}\n"));
    let doc: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    assert_eq!(doc["format_version"], FORMAT_VERSION);
    assert_eq!(doc["summary"]["api_calls"], 10);
    let changes = doc["changes"].as_array().unwrap();
    assert_eq!(changes.len(), rich_plan().changes.len());
    let update = changes
        .iter()
        .find(|c| c["action"] == "update")
        .expect("an update");
    assert_eq!(update["id"], "eng-announce");
    assert_eq!(update["origin"], "this_change");
    assert_eq!(update["commands"][0], "modify_group_base_info");
    assert_eq!(update["fields"]["name"]["actual"], "Ops");
    assert_eq!(update["fields"]["name"]["desired"], "Operations");
    assert_eq!(update["custom"]["new_key"]["desired"], "a\0b");
    assert_eq!(
        update["custom"]["legacy"]["desired"],
        serde_json::Value::Null
    );
    let pruned = changes.iter().find(|c| c["id"] == "ops-stale").unwrap();
    assert_eq!(pruned["origin"], "drift");
    assert_eq!(pruned["reason"]["kind"], "pruned");
    assert_eq!(pruned["reason"]["prefix"], "ops-");
    assert_eq!(pruned["member_num"], 1);
    assert_eq!(doc["warnings"][0]["kind"], "created_not_imported");
}

#[test]
fn the_documented_json_example_is_what_json_writes() {
    let page = include_str!("../../schema/plan-json.md");
    let example: String = page
        .lines()
        .skip_while(|line| *line != "### Example: a plan against a region")
        .skip_while(|line| *line != "```json")
        .skip(1)
        .take_while(|line| *line != "```")
        .map(|line| format!("{line}\n"))
        .collect();
    assert!(!example.is_empty(), "the page has the example");
    let plan = Plan {
        changes: vec![Change {
            id: "eng-announce".into(),
            action: Action::Update(Update {
                name: Some(Diff {
                    actual: Some("Ops".into()),
                    desired: "Operations".into(),
                    origin: None,
                }),
                custom: vec![CustomDiff {
                    key: "legacy".into(),
                    actual: Some("1".into()),
                    desired: None,
                    origin: None,
                }],
                ..Update::default()
            }),
            origin: None,
        }],
        target: Some(crate::plan::PlanTarget {
            sdkappid: 1400000000,
            endpoint: "singapore (https://adminapisgp.im.qcloud.com)".into(),
            builtin_emulator: false,
            region: Some("singapore".into()),
            url: Some("https://adminapisgp.im.qcloud.com".into()),
        }),
        ..Plan::default()
    };
    assert_eq!(json(&plan), example);
}

/// A plan against the built-in emulator says so in every view, so it cannot pass for a plan
/// against production; one against an app names it.
#[test]
fn every_view_names_the_target() {
    let emulator = Plan {
        target: Some(crate::plan::PlanTarget {
            sdkappid: 1400000000,
            endpoint: "state in .timctl/emulator.json".into(),
            builtin_emulator: true,
            region: None,
            url: None,
        }),
        ..Plan::default()
    };
    let says = "the built-in emulator (SDKAppID 1400000000, state in .timctl/emulator.json), not Tencent Cloud";
    assert!(
        text(&emulator, &TextOptions::default())
            .starts_with(&format!("Note: planned against {says}"))
    );
    assert!(
        markdown(&emulator, MARKDOWN_MAX_CHARS)
            .contains(&format!("> [!WARNING]\n> Planned against {says}"))
    );
    let doc: serde_json::Value = serde_json::from_str(&json(&emulator)).unwrap();
    assert_eq!(doc["target"]["builtin_emulator"], true);
    let app = Plan {
        target: Some(crate::plan::PlanTarget {
            sdkappid: 1400012345,
            endpoint: "seoul (https://adminapikr.im.qcloud.com)".into(),
            builtin_emulator: false,
            region: Some("seoul".into()),
            url: Some("https://adminapikr.im.qcloud.com".into()),
        }),
        ..Plan::default()
    };
    let says = "Planned against SDKAppID 1400012345 at seoul (https://adminapikr.im.qcloud.com).";
    assert!(text(&app, &TextOptions::default()).starts_with(says));
    assert!(markdown(&app, MARKDOWN_MAX_CHARS).contains(says));
    let doc: serde_json::Value = serde_json::from_str(&json(&app)).unwrap();
    assert_eq!(doc["target"]["sdkappid"], 1400012345);
    assert_eq!(doc["target"]["builtin_emulator"], false);
}

#[test]
fn json_of_an_empty_plan() {
    insta::assert_snapshot!("json_empty", json(&Plan::default()));
}

#[test]
fn the_summary_sentence_counts_right() {
    let summary = Summary {
        create: 1,
        transfer: 1,
        api_calls: 1,
        ..Summary::default()
    };
    assert_eq!(
        summary_counts(&summary),
        "1 to create, 0 to update, 1 owner transfer, 0 to destroy"
    );
    assert_eq!(
        api_calls_sentence(&summary),
        "The apply will make 1 API call."
    );
}

/// A replace of a Public group whose owner, texts, join option and custom data the manifest
/// leaves unmanaged, into an AVChatRoom (which refuses the cap, the join option and the
/// create time).
fn replace_plan() -> Plan {
    let mut desired = Desired::default();
    let mut actual = Actual::default();
    let wanted = group("ty-a", GroupType::AVChatRoom, "Team A");
    desired.groups.insert(
        wanted.id.clone(),
        Arc::new(declared(wanted, Ensure::Present)),
    );
    let live_group = Group {
        owner: Some("alice".into()),
        introduction: Some("Line one\nline two\n".into()),
        face_url: Some("https://example.com/a.png".into()),
        max_members: Some(200),
        apply_join: Some(ApplyJoin::FreeAccess),
        mute_all: Some(true),
        custom: custom(&[("team", "a")]),
        create_time: Some(1_448_357_837),
        ..group("ty-a", GroupType::Public, "Old A")
    };
    actual
        .groups
        .insert("ty-a".into(), Box::new(live(live_group, 1, &[])));
    let options = PlanOptions {
        allow_replace: true,
        ..PlanOptions::default()
    };
    plan(&desired, &actual, &options).expect("the replace plan is valid")
}

#[test]
fn text_of_a_replace_names_what_is_carried_over_and_what_is_lost() {
    let out = text(&replace_plan(), &PLAIN);
    for line in [
        "      owner: \"alice\" (carried over)\n",
        "      introduction: (carried over)\n",
        "      custom.team: \"a\" (carried over)\n",
        "      mute_all: true (carried over)\n",
        "      members: 1 (lost)\n",
        "      history: all messages (lost)\n",
        "      apply_join: FreeAccess (lost: an AVChatRoom group is free to join; its join option is not set)\n",
        "      max_members: 200 (lost: an AVChatRoom group has no member cap)\n",
        "      create_time: 1448357837 (lost: an AVChatRoom group is made with create_group, which takes no CreateTime)\n",
    ] {
        assert!(out.contains(line), "{line:?} not in:\n{out}");
    }
    assert!(!out.contains("name: \"Team A\" (carried over)"), "{out}");
    insta::assert_snapshot!("text_replace", out);
}

#[test]
fn markdown_of_a_replace_names_what_is_carried_over_and_what_is_lost() {
    let out = markdown(&replace_plan(), MARKDOWN_MAX_CHARS);
    for line in [
        "+   owner: \"alice\" (carried over)\n",
        "+   introduction: (carried over)\n",
        "+   custom.team: \"a\" (carried over)\n",
        "-   members: 1 (lost)\n",
        "-   history: all messages (lost)\n",
        "-   apply_join: FreeAccess (lost: an AVChatRoom group is free to join; its join option is not set)\n",
    ] {
        assert!(out.contains(line), "{line:?} not in:\n{out}");
    }
    insta::assert_snapshot!("markdown_replace", out);
}

#[test]
fn json_of_a_replace_lists_carried_and_lost_fields() {
    let out = json(&replace_plan());
    let document: serde_json::Value = serde_json::from_str(&out).unwrap();
    let change = &document["changes"][0];
    assert_eq!(change["action"], "replace");
    assert_eq!(
        change["carried"],
        serde_json::json!(["owner", "introduction", "face_url", "mute_all", "custom"])
    );
    assert_eq!(
        change["fields"]["owner"],
        serde_json::json!({"actual": "alice", "desired": "alice", "origin": null})
    );
    assert_eq!(
        change["fields"]["name"],
        serde_json::json!({"actual": null, "desired": "Team A", "origin": null})
    );
    assert_eq!(
        change["custom"]["team"],
        serde_json::json!({"actual": "a", "desired": "a", "origin": null})
    );
    let lost: Vec<(&str, &serde_json::Value)> = change["lost"]
        .as_array()
        .unwrap()
        .iter()
        .map(|loss| (loss["field"].as_str().unwrap(), &loss["actual"]))
        .collect();
    assert_eq!(
        lost,
        vec![
            ("members", &serde_json::json!(1)),
            ("history", &serde_json::Value::Null),
            ("max_members", &serde_json::json!(200)),
            ("apply_join", &serde_json::json!("FreeAccess")),
            ("create_time", &serde_json::json!(1_448_357_837)),
        ]
    );
    // Other actions have neither key.
    let rich: serde_json::Value = serde_json::from_str(&json(&rich_plan())).unwrap();
    for change in rich["changes"].as_array().unwrap() {
        let is_replace = change["action"] == "replace";
        assert_eq!(change.get("carried").is_some(), is_replace, "{change}");
        assert_eq!(change.get("lost").is_some(), is_replace, "{change}");
    }
    insta::assert_snapshot!("json_replace", out);
}

/// A plan of people: a group made with an owner and an admin; a group whose owner moves from
/// alice to zed (added first) with alice an admin after it, bob demoted, carol promoted, dave
/// added and mallory removed; a replace that carries its live owner over.
fn people_plan() -> Plan {
    let mut desired = Desired::default();
    let mut actual = Actual::default();
    let mut declare = |group: Group, people: crate::model::People| {
        let mut declared = declared(group, Ensure::Present);
        declared.people = people;
        desired
            .groups
            .insert(declared.group.id.clone(), Arc::new(declared));
    };
    let set = |accounts: &[&str]| Some(accounts.iter().map(|a| (*a).into()).collect());

    declare(
        Group {
            owner: Some("dave".into()),
            ..group("new-room", GroupType::Public, "New room")
        },
        crate::model::People {
            admins: set(&["bob"]),
            ..Default::default()
        },
    );

    declare(
        Group {
            owner: Some("zed".into()),
            ..group("eng", GroupType::Public, "Engineering")
        },
        crate::model::People {
            admins: set(&["alice", "carol"]),
            members: set(&["bob", "dave", "zed"]),
            exclusive: true,
            silent: false,
        },
    );
    let mut eng = live(
        Group {
            owner: Some("alice".into()),
            ..group("eng", GroupType::Public, "Engineering")
        },
        4,
        &[],
    );
    eng.members = Some(
        [
            ("alice", Role::Owner),
            ("bob", Role::Admin),
            ("carol", Role::Member),
            ("mallory", Role::Member),
        ]
        .into_iter()
        .map(|(account, role)| (account.into(), role))
        .collect(),
    );
    actual.groups.insert("eng".into(), Box::new(eng));

    declare(
        group("ty-b", GroupType::ChatRoom, "Team B"),
        crate::model::People::default(),
    );
    actual.groups.insert(
        "ty-b".into(),
        Box::new(live(
            Group {
                owner: Some("mallory".into()),
                ..group("ty-b", GroupType::Public, "Team B")
            },
            3,
            &[],
        )),
    );

    let options = PlanOptions {
        allow_replace: true,
        ..PlanOptions::default()
    };
    plan(&desired, &actual, &options).expect("the people plan is valid")
}

/// Every account the people plan names.
const PEOPLE: &[&str] = &["alice", "bob", "carol", "dave", "mallory", "zed"];

const PEOPLE_APP: u64 = 1_400_000_000;

#[test]
fn text_of_member_changes() {
    insta::assert_snapshot!("text_people", text(&people_plan(), &PLAIN));
}

#[test]
fn json_of_member_changes() {
    insta::assert_snapshot!("json_people", json(&people_plan()));
}

#[test]
fn markdown_of_member_changes_counts_people_and_calls_out_removals_and_roles() {
    let out = markdown(&people_plan(), MARKDOWN_MAX_CHARS);
    for needle in [
        "| create | update | owner | destroy | replace | API calls | added | removed | promoted | demoted | notified |\n",
        "> **This plan removes 1 person from 1 group and changes the role of 4 people.**",
        "> | `eng` | 1 | 2 | 1 |\n> | `new-room` | 0 | 1 | 0 |\n",
        "> | Group | Owner | New owner | Then the old owner |\n",
        "> | `eng` | `\"alice\"` | `\"zed\"` | becomes Admin |\n",
        "+   member dave\n",
        "-   role carol: Member\n+   role carol: Admin\n",
        "-   member mallory\n",
        "-   role alice: Member (after the transfer)\n+   role alice: Admin (after the transfer)\n",
    ] {
        assert!(out.contains(needle), "{needle:?} not in:\n{out}");
    }
    insta::assert_snapshot!("markdown_people", out);
}

#[test]
fn markdown_without_member_changes_keeps_its_summary_table_and_callouts() {
    let out = markdown(&rich_plan(), MARKDOWN_MAX_CHARS);
    assert!(
        out.contains("| create | update | owner | destroy | replace | API calls |\n|---:|"),
        "{out}"
    );
    assert!(!out.contains("promoted"), "{out}");
    assert!(!out.contains("Then the old owner"), "{out}");
    assert!(!out.contains("changes the role"), "{out}");
}

#[test]
fn redacted_markdown_names_no_account_and_keeps_every_count() {
    let plan = people_plan();
    let out = markdown_for(&plan, Some(PEOPLE_APP));
    for account in PEOPLE {
        assert!(
            !out.contains(account),
            "{account:?} shows in the redacted markdown:\n{out}"
        );
        let hash = crate::plan::redacted_account(PEOPLE_APP, account);
        assert!(out.contains(hash.as_str()), "{hash} not in:\n{out}");
    }
    let plain = markdown(&plan, MARKDOWN_MAX_CHARS);
    let summary = |s: &str| s.lines().take(8).collect::<Vec<_>>().join("\n");
    assert_eq!(summary(&out), summary(&plain), "the totals stay");
    for needle in [
        "> **This plan removes 1 person from 1 group and changes the role of 4 people.**",
        "becomes Admin |",
        "(after the transfer)",
        "(carried over)",
    ] {
        assert!(out.contains(needle), "{needle:?} not in:\n{out}");
    }
    // Group ids and names are not accounts.
    assert!(
        out.contains("`eng`") && out.contains("\"New room\""),
        "{out}"
    );
    // Another app, other hashes; the same app, the same ones.
    assert_ne!(markdown_for(&plan, Some(PEOPLE_APP + 1)), out);
    assert_eq!(markdown_for(&plan, Some(PEOPLE_APP)), out);
    // Text and JSON keep the ids.
    assert!(text(&plan, &PLAIN).contains("mallory"));
    assert!(json(&plan).contains("mallory"));
    insta::assert_snapshot!("markdown_people_redacted", out);
}

#[test]
fn the_people_callout_says_only_what_the_plan_does() {
    let only = |id: &str| {
        let mut plan = people_plan();
        plan.changes.retain(|change| change.id.as_str() == id);
        plan
    };
    let roles = markdown(&only("new-room"), MARKDOWN_MAX_CHARS);
    assert!(
        roles.contains("> **This plan changes the role of 1 person in 1 group.** An admin can manage the group's members and profile.\n"),
        "{roles}"
    );
    let mut removals = only("eng");
    for change in &mut removals.changes {
        match &mut change.action {
            Action::Members(members) => members.roles.clear(),
            Action::Transfer(transfer) => transfer.after = None,
            _ => {}
        }
    }
    let out = markdown(&removals, MARKDOWN_MAX_CHARS);
    assert!(
        out.contains("> **This plan removes 1 person from 1 group.** A removed member loses access to the group and its messages.\n"),
        "{out}"
    );
    // Without a follow-up the old owner stays an ordinary member.
    assert!(out.contains("| Group | Owner | New owner |\n"), "{out}");
    assert!(!out.contains("Then the old owner"), "{out}");
    assert!(!markdown(&only("ty-b"), MARKDOWN_MAX_CHARS).contains("This plan removes"));
}
