//! `modify_group_member_info` (roles and member profiles), `Silence` on add and delete, member
//! counts and `InfoSeq` around member changes.

use serde_json::{Value, json};
use timctl::emulator::Config;

use super::client::{Tim, config};

/// A group of `kind` owned by alice with bob and carol as members.
async fn group_with_members(tim: &Tim, id: &str, kind: &str) {
    tim.ok(
        "import_group",
        json!({"GroupId": id, "Type": kind, "Name": id, "Owner_Account": "alice"}),
    )
    .await;
    tim.ok(
        "add_group_member",
        json!({"GroupId": id, "Silence": 1,
               "MemberList": [{"Member_Account": "bob"}, {"Member_Account": "carol"}]}),
    )
    .await;
}

async fn role(tim: &Tim, id: &str, account: &str) -> String {
    let reply = tim
        .ok(
            "get_role_in_group",
            json!({"GroupId": id, "User_Account": [account]}),
        )
        .await;
    reply["UserIdList"][0]["Role"].as_str().unwrap().to_owned()
}

/// One member as `get_group_member_info` reports it, all fields.
async fn member(tim: &Tim, id: &str, account: &str) -> Value {
    let reply = tim
        .ok("get_group_member_info", json!({"GroupId": id}))
        .await;
    reply["MemberList"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["Member_Account"] == account)
        .cloned()
        .unwrap_or_else(|| panic!("{account} is not in {reply}"))
}

fn set_role(id: &str, account: &str, role: &str) -> Value {
    json!({"GroupId": id, "Member_Account": account, "Role": role})
}

#[tokio::test]
async fn admin_is_set_and_revoked_without_moving_info_seq_or_member_num() {
    let tim = Tim::start().await;
    group_with_members(&tim, "g", "Public").await;
    let before = tim.info("g").await;

    tim.ok("modify_group_member_info", set_role("g", "bob", "Admin"))
        .await;
    assert_eq!(role(&tim, "g", "bob").await, "Admin");
    assert_eq!(member(&tim, "g", "bob").await["Role"], "Admin");
    let info = tim.info("g").await;
    let admins: Vec<&Value> = info["MemberList"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["Role"] == "Admin")
        .collect();
    assert_eq!(admins.len(), 1, "{info}");
    assert_eq!(
        info["InfoSeq"], before["InfoSeq"],
        "a role is not group profile"
    );
    assert_eq!(info["LastInfoTime"], before["LastInfoTime"]);
    assert_eq!(info["MemberNum"], 3);

    // Setting what is there changes nothing and journals nothing.
    tim.emu.clear_request_log();
    tim.ok("modify_group_member_info", set_role("g", "bob", "Admin"))
        .await;
    assert!(!tim.emu.request_log()[0].applied);

    tim.ok("modify_group_member_info", set_role("g", "bob", "Member"))
        .await;
    assert_eq!(role(&tim, "g", "bob").await, "Member");
    assert!(tim.emu.request_log()[1].applied);
    assert_eq!(tim.info("g").await["InfoSeq"], before["InfoSeq"]);

    // Meeting (ChatRoom) and Community groups have admins too.
    group_with_members(&tim, "meet", "ChatRoom").await;
    tim.ok(
        "modify_group_member_info",
        set_role("meet", "carol", "Admin"),
    )
    .await;
    assert_eq!(role(&tim, "meet", "carol").await, "Admin");
    group_with_members(&tim, "@TGS#_c", "Community").await;
    tim.ok(
        "modify_group_member_info",
        set_role("@TGS#_c", "carol", "Admin"),
    )
    .await;
    assert_eq!(role(&tim, "@TGS#_c", "carol").await, "Admin");
}

#[tokio::test]
async fn the_owners_role_cannot_be_changed_here() {
    let tim = Tim::start().await;
    group_with_members(&tim, "g", "Public").await;
    for to in ["Member", "Admin"] {
        let info = tim
            .fails(
                "modify_group_member_info",
                set_role("g", "alice", to),
                10004,
            )
            .await;
        assert!(
            info.contains("Role") && info.contains("change_group_owner"),
            "{info}"
        );
    }
    let info = tim
        .fails(
            "modify_group_member_info",
            set_role("g", "bob", "Owner"),
            10004,
        )
        .await;
    assert!(info.contains("change_group_owner"), "{info}");
    assert_eq!(role(&tim, "g", "alice").await, "Owner");
    assert_eq!(role(&tim, "g", "bob").await, "Member");
    // After a transfer the new owner is the one whose role is fixed; the old one can be an admin.
    tim.ok(
        "change_group_owner",
        json!({"GroupId": "g", "NewOwner_Account": "bob"}),
    )
    .await;
    tim.ok("modify_group_member_info", set_role("g", "alice", "Admin"))
        .await;
    assert_eq!(role(&tim, "g", "alice").await, "Admin");
    tim.fails(
        "modify_group_member_info",
        set_role("g", "bob", "Member"),
        10004,
    )
    .await;
}

#[tokio::test]
async fn work_groups_have_no_admins_and_live_rooms_no_member_profiles() {
    let tim = Tim::start().await;
    group_with_members(&tim, "work", "Private").await;
    let info = tim
        .fails(
            "modify_group_member_info",
            set_role("work", "bob", "Admin"),
            10007,
        )
        .await;
    assert!(
        info.contains("Role") && info.contains("Private") && info.contains("work"),
        "{info}"
    );
    assert_eq!(role(&tim, "work", "bob").await, "Member");
    // Nor can a Work group be created with one.
    let info = tim
        .fails(
            "create_group",
            json!({"Type": "Private", "GroupId": "work2", "Name": "w", "Owner_Account": "alice",
                   "MemberList": [{"Member_Account": "bob", "Role": "Admin"}]}),
            10007,
        )
        .await;
    assert!(info.contains("MemberList.Role"), "{info}");
    assert!(tim.emu.group("work2").is_none());
    // Revoking (a no-op here) and the other fields are fine in a Work group.
    tim.ok(
        "modify_group_member_info",
        set_role("work", "bob", "Member"),
    )
    .await;
    tim.ok(
        "modify_group_member_info",
        json!({"GroupId": "work", "Member_Account": "bob", "NameCard": "Bob"}),
    )
    .await;

    let live = tim
        .ok(
            "create_group",
            json!({"Type": "AVChatRoom", "Name": "live", "Owner_Account": "alice"}),
        )
        .await;
    let info = tim
        .fails(
            "modify_group_member_info",
            set_role(live["GroupId"].as_str().unwrap(), "alice", "Admin"),
            10007,
        )
        .await;
    assert!(info.contains("AVChatRoom"), "{info}");
}

#[tokio::test]
async fn bad_requests_name_their_field_and_code() {
    let tim = Tim::start().await;
    group_with_members(&tim, "g", "Public").await;
    let cases = [
        (set_role("nope", "bob", "Admin"), 10010, "nope"),
        (set_role("tab\there", "bob", "Admin"), 10015, "GroupId"),
        (
            json!({"GroupId": "g", "Role": "Admin"}),
            10004,
            "Member_Account",
        ),
        (
            json!({"GroupId": "g", "Member_Account": 7, "Role": "Admin"}),
            60015,
            "Member_Account",
        ),
        (set_role("g", "dave", "Admin"), 10004, "Member_Account"),
        (set_role("g", "bob", "Boss"), 10004, "Role"),
        (
            json!({"GroupId": "g", "Member_Account": "bob", "MsgFlag": "Loud"}),
            10004,
            "MsgFlag",
        ),
        (
            json!({"GroupId": "g", "Member_Account": "bob", "NameCard": "x".repeat(51)}),
            10004,
            "NameCard",
        ),
        (
            json!({"GroupId": "g", "Member_Account": "bob", "MuteTime": 60, "ShutUpTime": 61}),
            10004,
            "ShutUpTime",
        ),
        (
            json!({"GroupId": "g", "Member_Account": "bob",
                   "AppMemberDefinedData": [{"Key": "bad key", "Value": "v"}]}),
            10004,
            "AppMemberDefinedData",
        ),
        (
            json!({"GroupId": "g", "Member_Account": "bob",
                   "AppMemberDefinedData": [{"Key": "k", "Value": "v".repeat(65)}]}),
            10004,
            "AppMemberDefinedData",
        ),
    ];
    for (body, code, field) in cases {
        let info = tim.fails("modify_group_member_info", body, code).await;
        assert!(info.contains(field), "{field} not in {info:?}");
    }
    // Nothing of the refused requests was applied.
    assert_eq!(member(&tim, "g", "bob").await["Role"], "Member");
    assert_eq!(member(&tim, "g", "bob").await["NameCard"], "");
    // A NameCard counts UTF-8 bytes: 16 three-byte characters are 48 bytes, 17 are 51.
    tim.ok(
        "modify_group_member_info",
        json!({"GroupId": "g", "Member_Account": "bob", "NameCard": "鲍".repeat(16)}),
    )
    .await;
    tim.fails(
        "modify_group_member_info",
        json!({"GroupId": "g", "Member_Account": "bob", "NameCard": "鲍".repeat(17)}),
        10004,
    )
    .await;
}

#[tokio::test]
async fn member_profile_fields_are_set_and_reported() {
    let tim = Tim::start().await;
    group_with_members(&tim, "g", "Public").await;
    tim.ok(
        "modify_group_member_info",
        json!({"GroupId": "g", "Member_Account": "bob", "MsgFlag": "Discard",
               "NameCard": "鲍勃", "MuteTime": 3600,
               "AppMemberDefinedData": [{"Key": "seat", "Value": "3"}, {"Key": "team", "Value": "ops"}]}),
    )
    .await;
    let bob = member(&tim, "g", "bob").await;
    assert_eq!(bob["MsgFlag"], "Discard");
    assert_eq!(bob["NameCard"], "鲍勃");
    let until = bob["MuteUntil"].as_u64().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(until > now + 3500 && until <= now + 3600 + 5, "{bob}");
    assert_eq!(bob["ShutUpUntil"], until);
    assert_eq!(
        bob["AppMemberDefinedData"],
        json!([{"Key": "seat", "Value": "3"}, {"Key": "team", "Value": "ops"}])
    );
    // The role is untouched; carol is untouched.
    assert_eq!(bob["Role"], "Member");
    let carol = member(&tim, "g", "carol").await;
    assert_eq!(
        (&carol["MsgFlag"], &carol["NameCard"], &carol["MuteUntil"]),
        (&json!("AcceptAndNotify"), &json!(""), &json!(0))
    );

    // The older name of the mute time; 0 unmutes; an empty value removes a custom field.
    tim.ok(
        "modify_group_member_info",
        json!({"GroupId": "g", "Member_Account": "bob", "ShutUpTime": 0,
               "AppMemberDefinedData": [{"Key": "seat", "Value": ""}]}),
    )
    .await;
    let bob = member(&tim, "g", "bob").await;
    assert_eq!(bob["MuteUntil"], 0);
    assert_eq!(
        bob["AppMemberDefinedData"],
        json!([{"Key": "team", "Value": "ops"}])
    );

    // get_group_info's member list reports the same profile.
    let info = tim.info("g").await;
    let listed = info["MemberList"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["Member_Account"] == "bob")
        .unwrap()
        .clone();
    assert_eq!(listed["NameCard"], "鲍勃");
    assert_eq!(listed["MsgFlag"], "Discard");
    assert_eq!(
        info["InfoSeq"], 1,
        "member profiles are not the group profile"
    );

    // Work groups cannot mute members ("Private 群 … 不支持禁言群用户").
    group_with_members(&tim, "work", "Private").await;
    let info = tim
        .fails(
            "modify_group_member_info",
            json!({"GroupId": "work", "Member_Account": "bob", "MuteTime": 60}),
            10007,
        )
        .await;
    assert!(
        info.contains("MuteTime") && info.contains("Private"),
        "{info}"
    );
}

#[tokio::test]
async fn silence_decides_whether_adds_and_deletes_notify_the_group() {
    let tim = Tim::start().await;
    tim.import("g").await;
    tim.emu.clear_request_log();
    let add = |account: &str, silence: Option<u64>| {
        let mut body = json!({"GroupId": "g", "MemberList": [{"Member_Account": account}]});
        if let Some(silence) = silence {
            body["Silence"] = json!(silence);
        }
        body
    };
    tim.ok("add_group_member", add("bob", None)).await;
    tim.ok("add_group_member", add("carol", Some(1))).await;
    tim.ok("add_group_member", add("dave", Some(0))).await;
    // Already a member: nothing changes, nobody is told.
    tim.ok("add_group_member", add("bob", Some(0))).await;
    tim.ok(
        "delete_group_member",
        json!({"GroupId": "g", "MemberToDel_Account": ["bob"]}),
    )
    .await;
    tim.ok(
        "delete_group_member",
        json!({"GroupId": "g", "Silence": 1, "MemberToDel_Account": ["carol"]}),
    )
    .await;
    tim.ok(
        "delete_group_member",
        json!({"GroupId": "g", "MemberToDel_Account": ["nobody"]}),
    )
    .await;
    tim.fails("add_group_member", add("zed", Some(2)), 10004)
        .await;
    let notices: Vec<(String, bool)> = tim
        .emu
        .request_log()
        .iter()
        .map(|e| (e.command.clone(), e.notice))
        .collect();
    let expect = |c: &str, n: bool| (c.to_owned(), n);
    assert_eq!(
        notices,
        [
            expect("add_group_member", true),
            expect("add_group_member", false),
            expect("add_group_member", true),
            expect("add_group_member", false),
            expect("delete_group_member", true),
            expect("delete_group_member", false),
            expect("delete_group_member", false),
            expect("add_group_member", false),
        ]
    );

    // Meeting (ChatRoom) groups do not notify member changes, nor do Work groups, which are
    // never activated by a message here; role changes never notify.
    tim.ok(
        "import_group",
        json!({"GroupId": "m", "Type": "ChatRoom", "Name": "m", "Owner_Account": "alice"}),
    )
    .await;
    tim.ok(
        "import_group",
        json!({"GroupId": "w", "Type": "Private", "Name": "w", "Owner_Account": "alice"}),
    )
    .await;
    tim.emu.clear_request_log();
    for id in ["m", "w"] {
        tim.ok(
            "add_group_member",
            json!({"GroupId": id, "MemberList": [{"Member_Account": "bob"}]}),
        )
        .await;
    }
    tim.ok("modify_group_member_info", set_role("m", "bob", "Admin"))
        .await;
    let log = tim.emu.request_log();
    assert!(log.iter().all(|e| e.applied && !e.notice), "{log:?}");
}

#[tokio::test]
async fn member_counts_follow_adds_deletes_and_transfers() {
    let tim = Tim::start().await;
    tim.import("g").await;
    let counts = async |tim: &Tim| {
        let page = tim
            .ok("get_group_member_info", json!({"GroupId": "g"}))
            .await;
        let info = tim.info("g").await;
        assert_eq!(page["MemberNum"], info["MemberNum"]);
        assert_eq!(
            page["MemberList"].as_array().unwrap().len() as u64,
            page["MemberNum"].as_u64().unwrap()
        );
        (
            info["MemberNum"].as_u64().unwrap(),
            info["InfoSeq"].as_u64().unwrap(),
        )
    };
    assert_eq!(counts(&tim).await, (1, 1));
    tim.ok(
        "add_group_member",
        json!({"GroupId": "g", "MemberList": [{"Member_Account": "bob"}, {"Member_Account": "carol"}, {"Member_Account": "dave"}]}),
    )
    .await;
    assert_eq!(counts(&tim).await, (4, 1));
    tim.ok("modify_group_member_info", set_role("g", "bob", "Admin"))
        .await;
    assert_eq!(counts(&tim).await, (4, 1));
    tim.ok(
        "delete_group_member",
        json!({"GroupId": "g", "MemberToDel_Account": ["carol", "dave", "nobody"]}),
    )
    .await;
    assert_eq!(counts(&tim).await, (2, 1));
    // An ownership transfer is a profile change (Owner_Account): InfoSeq moves, the count not.
    tim.ok(
        "change_group_owner",
        json!({"GroupId": "g", "NewOwner_Account": "bob"}),
    )
    .await;
    assert_eq!(counts(&tim).await, (2, 2));
}

#[tokio::test]
async fn role_and_profile_changes_survive_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("emulator.json");
    let with_state = || Config {
        state: Some(path.clone()),
        ..config()
    };
    let tim = Tim::with(with_state()).await;
    group_with_members(&tim, "g", "Public").await;
    tim.ok("modify_group_member_info", set_role("g", "bob", "Admin"))
        .await;
    tim.ok(
        "modify_group_member_info",
        json!({"GroupId": "g", "Member_Account": "carol", "NameCard": "C", "MsgFlag": "AcceptNotNotify",
               "MuteTime": 86400}),
    )
    .await;
    let before = tim
        .ok("get_group_member_info", json!({"GroupId": "g"}))
        .await;
    tim.emu.shutdown().await.unwrap();
    let journal = std::fs::read_to_string(&path).unwrap();
    assert!(journal.contains(r#""name_card":"C""#), "{journal}");

    // Twice: once replaying the journaled updates, once from the compacted snapshot.
    for _ in 0..2 {
        let tim = Tim::with(with_state()).await;
        let after = tim
            .ok("get_group_member_info", json!({"GroupId": "g"}))
            .await;
        assert_eq!(after, before);
        assert_eq!(role(&tim, "g", "bob").await, "Admin");
        assert_eq!(
            member(&tim, "g", "carol").await["MsgFlag"],
            "AcceptNotNotify"
        );
        tim.emu.shutdown().await.unwrap();
    }
}

#[tokio::test]
async fn modify_group_member_info_is_limited_like_the_200_per_second_commands() {
    // 200/s × 0.01 = 2 calls per second, a burst of 2.
    let tim = Tim::with(Config {
        rate_limit_scale: 0.01,
        ..config()
    })
    .await;
    let mut codes = Vec::new();
    for _ in 0..6 {
        let reply = tim
            .call("modify_group_member_info", set_role("g", "bob", "Admin"))
            .await;
        codes.push(reply["ErrorCode"].as_i64().unwrap());
    }
    assert_eq!(codes[..2], [10010, 10010], "{codes:?}");
    assert!(codes.contains(&60007), "{codes:?}");
}
