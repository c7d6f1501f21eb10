//! The group commands and the app-wide reads, on their happy paths.

use serde_json::json;

use super::client::Tim;

#[tokio::test]
async fn import_group_keeps_every_field_and_get_group_info_returns_them() {
    let tim = Tim::start().await;
    let reply = tim
        .ok(
            "import_group",
            json!({
                "GroupId": "eng-announce",
                "Type": "Public",
                "Name": "Engineering",
                "Owner_Account": "alice",
                "Introduction": "Announcements",
                "Notification": "Deploy freeze",
                "FaceUrl": "https://example.com/eng.png",
                "MaxMemberCount": 500,
                "ApplyJoinOption": "FreeAccess",
                "AppDefinedData": [{"Key": "team", "Value": "plat\u{0}form"}],
                "CreateTime": 1448357837
            }),
        )
        .await;
    assert_eq!(reply["GroupId"], "eng-announce");

    let info = tim.info("eng-announce").await;
    assert_eq!(info["ErrorCode"], 0);
    assert_eq!(info["Type"], "Public");
    assert_eq!(info["Appid"], 1_400_000_000u64);
    assert_eq!(info["Name"], "Engineering");
    assert_eq!(info["Introduction"], "Announcements");
    assert_eq!(info["Notification"], "Deploy freeze");
    assert_eq!(info["FaceUrl"], "https://example.com/eng.png");
    assert_eq!(info["Owner_Account"], "alice");
    assert_eq!(info["CreateTime"], 1448357837);
    assert_eq!(info["InfoSeq"], 1);
    assert!(info["LastInfoTime"].as_u64().unwrap() > 1448357837);
    assert_eq!(info["MaxMemberNum"], 500);
    assert_eq!(info["MemberNum"], 1);
    assert_eq!(info["ApplyJoinOption"], "FreeAccess");
    assert_eq!(info["MuteAllMember"], "Off");
    assert_eq!(info["ShutUpAllMember"], "Off");
    assert_eq!(
        info["AppDefinedData"],
        json!([{"Key": "team", "Value": "plat\u{0}form"}])
    );
    assert_eq!(info["MemberList"][0]["Member_Account"], "alice");
    assert_eq!(info["MemberList"][0]["Role"], "Owner");
    assert_eq!(info["MemberList"][0]["JoinTime"], 1448357837);
}

#[tokio::test]
async fn create_group_assigns_tgs_ids_and_takes_initial_members() {
    let tim = Tim::start().await;
    let reply = tim
        .ok(
            "create_group",
            json!({"Type": "Private", "Name": "team", "Owner_Account": "alice",
                   "MemberList": [{"Member_Account": "bob"}, {"Member_Account": "carol"}]}),
        )
        .await;
    let id = reply["GroupId"].as_str().unwrap().to_owned();
    assert!(id.starts_with("@TGS#") && !id.starts_with("@TGS#_"), "{id}");
    let info = tim.info(&id).await;
    assert_eq!(info["MemberNum"], 3);
    assert_eq!(info["MaxMemberNum"], 200, "the Private default");
    let roles = tim
        .ok(
            "get_role_in_group",
            json!({"GroupId": id, "User_Account": ["alice", "bob", "carol"]}),
        )
        .await;
    assert_eq!(
        roles["UserIdList"],
        json!([
            {"Member_Account": "alice", "Role": "Owner"},
            {"Member_Account": "bob", "Role": "Member"},
            {"Member_Account": "carol", "Role": "Member"}
        ])
    );
    // An initial Admin, in a type that has admins (a Work group has none).
    let public = tim
        .ok(
            "create_group",
            json!({"Type": "Public", "Name": "p", "Owner_Account": "alice",
                   "MemberList": [{"Member_Account": "carol", "Role": "Admin"}]}),
        )
        .await;
    let roles = tim
        .ok(
            "get_role_in_group",
            json!({"GroupId": public["GroupId"], "User_Account": ["carol"]}),
        )
        .await;
    assert_eq!(
        roles["UserIdList"],
        json!([{"Member_Account": "carol", "Role": "Admin"}])
    );

    let community = tim
        .ok("create_group", json!({"Type": "Community", "Name": "c"}))
        .await;
    assert!(
        community["GroupId"].as_str().unwrap().starts_with("@TGS#_"),
        "{community}"
    );
    let live = tim
        .ok(
            "create_group",
            json!({"Type": "AVChatRoom", "Name": "live", "Owner_Account": "alice"}),
        )
        .await;
    let live = tim.info(live["GroupId"].as_str().unwrap()).await;
    assert!(
        live["MemberNum"].is_null() && live["MemberList"].is_null(),
        "an AVChatRoom reports no member count or list: {live}"
    );
    assert_eq!(live["Owner_Account"], "alice");
}

#[tokio::test]
async fn modify_changes_the_profile_and_info_seq_grows_only_on_change() {
    let tim = Tim::start().await;
    tim.import("g").await;
    let before = tim.info("g").await;

    tim.ok(
        "modify_group_base_info",
        json!({"GroupId": "g", "Name": "Renamed", "MaxMemberNum": 300,
               "ShutUpAllMember": "On", "ApplyJoinOption": "DisableApply",
               "AppDefinedData": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]}),
    )
    .await;
    let after = tim.info("g").await;
    assert_eq!(after["Name"], "Renamed");
    assert_eq!(after["MaxMemberNum"], 300);
    assert_eq!(after["MuteAllMember"], "On");
    assert_eq!(after["ShutUpAllMember"], "On");
    assert_eq!(after["ApplyJoinOption"], "DisableApply");
    assert_eq!(after["InfoSeq"], before["InfoSeq"].as_u64().unwrap() + 1);
    assert!(after["LastInfoTime"].as_u64() >= before["LastInfoTime"].as_u64());

    // Setting what is already there is no change.
    tim.ok(
        "modify_group_base_info",
        json!({"GroupId": "g", "Name": "Renamed", "MuteAllMember": "On"}),
    )
    .await;
    assert_eq!(tim.info("g").await["InfoSeq"], after["InfoSeq"]);

    // An empty value deletes a custom key; MaxMemberCount is not the modify field name.
    tim.ok(
        "modify_group_base_info",
        json!({"GroupId": "g", "AppDefinedData": [{"Key": "a", "Value": ""}],
               "MaxMemberCount": 10, "MuteAllMember": "Off"}),
    )
    .await;
    let last = tim.info("g").await;
    assert_eq!(last["AppDefinedData"], json!([{"Key": "b", "Value": "2"}]));
    assert_eq!(last["MaxMemberNum"], 300);
    assert_eq!(last["MuteAllMember"], "Off");
    assert_eq!(last["InfoSeq"], after["InfoSeq"].as_u64().unwrap() + 1);
}

#[tokio::test]
async fn change_group_owner_swaps_roles_and_needs_a_member() {
    let tim = Tim::start().await;
    tim.import("g").await;
    tim.ok(
        "add_group_member",
        json!({"GroupId": "g", "MemberList": [{"Member_Account": "bob"}]}),
    )
    .await;
    let info = tim
        .fails(
            "change_group_owner",
            json!({"GroupId": "g", "NewOwner_Account": "carol"}),
            10004,
        )
        .await;
    assert!(info.contains("NewOwner_Account"), "{info}");

    tim.ok(
        "change_group_owner",
        json!({"GroupId": "g", "NewOwner_Account": "bob"}),
    )
    .await;
    let info = tim.info("g").await;
    assert_eq!(info["Owner_Account"], "bob");
    assert_eq!(info["InfoSeq"], 2);
    let roles = tim
        .ok(
            "get_role_in_group",
            json!({"GroupId": "g", "User_Account": ["alice", "bob"]}),
        )
        .await;
    assert_eq!(roles["UserIdList"][0]["Role"], "Member");
    assert_eq!(roles["UserIdList"][1]["Role"], "Owner");
}

#[tokio::test]
async fn destroy_group_removes_it_and_frees_the_id() {
    let tim = Tim::start().await;
    tim.import("g").await;
    tim.ok("destroy_group", json!({"GroupId": "g"})).await;
    assert_eq!(tim.info("g").await["ErrorCode"], 10010);
    tim.fails("destroy_group", json!({"GroupId": "g"}), 10010)
        .await;
    tim.import("g").await;
    assert_eq!(tim.info("g").await["ErrorCode"], 0);
}

#[tokio::test]
async fn get_group_info_filters_and_reports_unknown_groups_per_item() {
    let tim = Tim::start().await;
    tim.ok(
        "import_group",
        json!({"GroupId": "g", "Type": "Public", "Name": "G", "Owner_Account": "alice",
               "AppDefinedData": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]}),
    )
    .await;
    let reply = tim
        .ok(
            "get_group_info",
            json!({"GroupIdList": ["g", "missing", "bad\u{7}id"],
                   "ResponseFilter": {"GroupBaseInfoFilter": ["Name", "InfoSeq", "MuteAllMember"],
                                      "AppDefinedDataFilter_Group": ["b"]}}),
        )
        .await;
    assert_eq!(
        reply["GroupInfo"][0],
        json!({"GroupId": "g", "ErrorCode": 0, "ErrorInfo": "", "Name": "G", "InfoSeq": 1,
               "MuteAllMember": "Off", "AppDefinedData": [{"Key": "b", "Value": "2"}]})
    );
    assert_eq!(reply["GroupInfo"][1]["ErrorCode"], 10010);
    assert_eq!(reply["GroupInfo"][2]["ErrorCode"], 10015);

    let members = tim
        .ok(
            "get_group_info",
            json!({"GroupIdList": ["g"],
                   "ResponseFilter": {"GroupBaseInfoFilter": ["MemberNum"], "MemberInfoFilter": ["Role"]}}),
        )
        .await;
    assert_eq!(
        members["GroupInfo"][0]["MemberList"],
        json!([{"Member_Account": "alice", "Role": "Owner"}])
    );
    assert_eq!(members["GroupInfo"][0]["MemberNum"], 1);
    assert!(members["GroupInfo"][0].get("Name").is_none());

    let fifty: Vec<String> = (0..50).map(|i| format!("g{i}")).collect();
    let reply = tim
        .ok("get_group_info", json!({"GroupIdList": fifty}))
        .await;
    assert_eq!(reply["GroupInfo"].as_array().unwrap().len(), 50);
    let fifty_one: Vec<String> = (0..51).map(|i| format!("g{i}")).collect();
    let info = tim
        .fails("get_group_info", json!({"GroupIdList": fifty_one}), 10004)
        .await;
    assert!(info.contains("GroupIdList"), "{info}");
}

#[tokio::test]
async fn get_appid_group_list_pages_with_a_64_bit_cursor() {
    let tim = Tim::start().await;
    for id in ["a", "b", "c", "d", "e"] {
        tim.import(id).await;
    }
    tim.ok(
        "import_group",
        json!({"GroupId": "@TGS#_room", "Type": "Community", "Name": "room"}),
    )
    .await;

    let mut seen = Vec::new();
    let mut next = 0u64;
    loop {
        let page = tim
            .ok(
                "get_appid_group_list",
                json!({"Limit": 2, "Next": next, "GroupType": "Public"}),
            )
            .await;
        assert_eq!(page["TotalCount"], 5);
        for item in page["GroupIdList"].as_array().unwrap() {
            seen.push(item["GroupId"].as_str().unwrap().to_owned());
        }
        next = page["Next"].as_u64().unwrap();
        if next == 0 {
            break;
        }
        assert!(next > u64::from(u32::MAX), "Next {next} needs 64 bits");
    }
    assert_eq!(seen, ["a", "b", "c", "d", "e"]);

    let all = tim.ok("get_appid_group_list", json!({})).await;
    assert_eq!(all["TotalCount"], 6);
    assert_eq!(all["GroupIdList"].as_array().unwrap().len(), 6);
    assert_eq!(all["Next"], 0);
    let community = tim
        .ok("get_appid_group_list", json!({"GroupType": "Community"}))
        .await;
    assert_eq!(community["GroupIdList"], json!([{"GroupId": "@TGS#_room"}]));

    let info = tim
        .fails("get_appid_group_list", json!({"Limit": 10001}), 10004)
        .await;
    assert!(info.contains("Limit"), "{info}");
    let info = tim
        .fails("get_appid_group_list", json!({"GroupType": "Work"}), 10004)
        .await;
    assert!(info.contains("GroupType"), "{info}");
}
