//! The member commands.

use serde_json::json;

use super::client::Tim;

#[tokio::test]
async fn add_group_member_reports_each_account() {
    let tim = Tim::start().await;
    tim.import("g").await;
    let reply = tim
        .ok(
            "add_group_member",
            json!({"GroupId": "g", "Silence": 1,
                   "MemberList": [{"Member_Account": "bob"}, {"Member_Account": "alice"}, {"Member_Account": "bob"}]}),
        )
        .await;
    assert_eq!(
        reply["MemberList"],
        json!([
            {"Member_Account": "bob", "Result": 1},
            {"Member_Account": "alice", "Result": 2},
            {"Member_Account": "bob", "Result": 2}
        ])
    );
    let info = tim.info("g").await;
    assert_eq!(info["MemberNum"], 2);
    assert_eq!(info["InfoSeq"], 1, "member changes are not profile changes");
}

#[tokio::test]
async fn add_group_member_refuses_full_groups_too_many_accounts_and_live_rooms() {
    let tim = Tim::start().await;
    tim.ok(
        "import_group",
        json!({"GroupId": "small", "Type": "Public", "Name": "s", "Owner_Account": "alice", "MaxMemberCount": 2}),
    )
    .await;
    tim.ok(
        "add_group_member",
        json!({"GroupId": "small", "MemberList": [{"Member_Account": "bob"}]}),
    )
    .await;
    tim.fails(
        "add_group_member",
        json!({"GroupId": "small", "MemberList": [{"Member_Account": "carol"}]}),
        10014,
    )
    .await;

    let many: Vec<_> = (0..301)
        .map(|i| json!({"Member_Account": format!("u{i}")}))
        .collect();
    tim.fails(
        "add_group_member",
        json!({"GroupId": "small", "MemberList": many}),
        10005,
    )
    .await;

    let live = tim
        .ok(
            "create_group",
            json!({"Type": "AVChatRoom", "Name": "live"}),
        )
        .await;
    let info = tim
        .fails(
            "add_group_member",
            json!({"GroupId": live["GroupId"], "MemberList": [{"Member_Account": "bob"}]}),
            10007,
        )
        .await;
    assert!(info.contains("AVChatRoom"), "{info}");
    tim.fails(
        "add_group_member",
        json!({"GroupId": "nope", "MemberList": [{"Member_Account": "bob"}]}),
        10010,
    )
    .await;
}

#[tokio::test]
async fn delete_group_member_removes_members_but_never_the_owner() {
    let tim = Tim::start().await;
    tim.import("g").await;
    tim.ok(
        "add_group_member",
        json!({"GroupId": "g", "MemberList": [{"Member_Account": "bob"}, {"Member_Account": "carol"}]}),
    )
    .await;
    tim.ok(
        "delete_group_member",
        json!({"GroupId": "g", "Silence": 1, "Reason": "left", "MemberToDel_Account": ["bob", "nobody"]}),
    )
    .await;
    let roles = tim
        .ok(
            "get_role_in_group",
            json!({"GroupId": "g", "User_Account": ["bob", "carol"]}),
        )
        .await;
    assert_eq!(roles["UserIdList"][0]["Role"], "NotMember");
    assert_eq!(roles["UserIdList"][1]["Role"], "Member");

    let info = tim
        .fails(
            "delete_group_member",
            json!({"GroupId": "g", "MemberToDel_Account": ["alice"]}),
            10004,
        )
        .await;
    assert!(info.contains("MemberToDel_Account"), "{info}");
    let many: Vec<String> = (0..101).map(|i| format!("u{i}")).collect();
    tim.fails(
        "delete_group_member",
        json!({"GroupId": "g", "MemberToDel_Account": many}),
        10005,
    )
    .await;
}

#[tokio::test]
async fn get_role_in_group_answers_for_up_to_500_accounts() {
    let tim = Tim::start().await;
    tim.import("g").await;
    let accounts: Vec<String> = (0..500).map(|i| format!("u{i}")).collect();
    let reply = tim
        .ok(
            "get_role_in_group",
            json!({"GroupId": "g", "User_Account": accounts}),
        )
        .await;
    assert_eq!(reply["UserIdList"].as_array().unwrap().len(), 500);
    assert_eq!(reply["UserIdList"][0]["Role"], "NotMember");
    let accounts: Vec<String> = (0..501).map(|i| format!("u{i}")).collect();
    tim.fails(
        "get_role_in_group",
        json!({"GroupId": "g", "User_Account": accounts}),
        10005,
    )
    .await;
    tim.fails(
        "get_role_in_group",
        json!({"GroupId": "g", "User_Account": [7]}),
        60015,
    )
    .await;
}

#[tokio::test]
async fn get_group_member_info_filters_and_pages() {
    let tim = Tim::start().await;
    tim.ok(
        "create_group",
        json!({"GroupId": "g", "Type": "Public", "Name": "g", "Owner_Account": "alice",
               "MemberList": [{"Member_Account": "bob", "Role": "Admin"}, {"Member_Account": "carol"}, {"Member_Account": "dave"}]}),
    )
    .await;
    let all = tim
        .ok("get_group_member_info", json!({"GroupId": "g"}))
        .await;
    assert_eq!(all["MemberNum"], 4);
    assert_eq!(all["MemberList"].as_array().unwrap().len(), 4);
    assert!(all["MemberList"][0]["JoinTime"].is_u64());

    let admins = tim
        .ok(
            "get_group_member_info",
            json!({"GroupId": "g", "MemberRoleFilter": ["Owner", "Admin"], "MemberInfoFilter": ["Role"]}),
        )
        .await;
    assert_eq!(
        admins["MemberList"],
        json!([{"Member_Account": "alice", "Role": "Owner"}, {"Member_Account": "bob", "Role": "Admin"}])
    );

    let page = tim
        .ok(
            "get_group_member_info",
            json!({"GroupId": "g", "Limit": 2, "Offset": 2, "MemberInfoFilter": []}),
        )
        .await;
    assert_eq!(
        page["MemberList"],
        json!([{"Member_Account": "carol"}, {"Member_Account": "dave"}])
    );
    tim.fails(
        "get_group_member_info",
        json!({"GroupId": "g", "Limit": 6001}),
        10004,
    )
    .await;
}

#[tokio::test]
async fn get_group_member_info_pages_communities_with_next() {
    let tim = Tim::start().await;
    tim.ok(
        "create_group",
        json!({"GroupId": "@TGS#_c", "Type": "Community", "Name": "c", "Owner_Account": "alice",
               "MemberList": [{"Member_Account": "bob"}, {"Member_Account": "carol"}]}),
    )
    .await;
    let mut next = String::new();
    let mut accounts = Vec::new();
    loop {
        let page = tim
            .ok(
                "get_group_member_info",
                json!({"GroupId": "@TGS#_c", "Limit": 2, "Next": next}),
            )
            .await;
        for m in page["MemberList"].as_array().unwrap() {
            accounts.push(m["Member_Account"].as_str().unwrap().to_owned());
        }
        next = page["Next"].as_str().unwrap().to_owned();
        if next.is_empty() {
            break;
        }
    }
    assert_eq!(accounts, ["alice", "bob", "carol"]);
    tim.fails(
        "get_group_member_info",
        json!({"GroupId": "@TGS#_c", "Offset": 1}),
        10004,
    )
    .await;

    let live = tim
        .ok(
            "create_group",
            json!({"Type": "AVChatRoom", "Name": "live"}),
        )
        .await;
    tim.fails(
        "get_group_member_info",
        json!({"GroupId": live["GroupId"]}),
        10007,
    )
    .await;
}
