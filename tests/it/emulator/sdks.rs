//! What third-party server SDKs (Python, Go, Java) send and expect, against the documentation:
//! zero values of optional fields, documented defaults, per-type codes, member custom data,
//! the older page's integer `Next`.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use super::client::Tim;

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// An AVChatRoom owned by alice; its GroupId.
async fn live_room(tim: &Tim) -> Value {
    let reply = tim
        .ok(
            "create_group",
            json!({"Type": "AVChatRoom", "Name": "live", "Owner_Account": "alice"}),
        )
        .await;
    reply["GroupId"].clone()
}

#[tokio::test]
async fn zero_values_of_optional_fields_mean_not_given() {
    let tim = Tim::start().await;
    let before = now();
    // What a Go struct without omitempty sends for the fields it leaves unset.
    tim.ok(
        "import_group",
        json!({"GroupId": "g", "Type": "Public", "Name": "g", "Owner_Account": "alice",
               "Introduction": "", "MaxMemberCount": 0, "ApplyJoinOption": "", "CreateTime": 0}),
    )
    .await;
    let info = tim.info("g").await;
    assert_eq!(info["MaxMemberNum"], 2000, "{info}");
    assert_eq!(info["ApplyJoinOption"], "NeedPermission", "{info}");
    let created = info["CreateTime"].as_u64().unwrap();
    assert!(
        created >= before && created <= now(),
        "CreateTime 0 is the request time, not {created}"
    );
    assert_eq!(info["MemberList"][0]["JoinTime"], created);

    tim.ok(
        "import_group",
        json!({"GroupId": "@TGS#_c", "Type": "Community", "Name": "c", "ApplyJoinOption": ""}),
    )
    .await;
    assert_eq!(tim.info("@TGS#_c").await["ApplyJoinOption"], "FreeAccess");

    let made = tim
        .ok(
            "create_group",
            json!({"Type": "Private", "Name": "p", "Owner_Account": "alice",
                   "MaxMemberCount": 0, "ApplyJoinOption": ""}),
        )
        .await;
    let made = tim.info(made["GroupId"].as_str().unwrap()).await;
    assert_eq!(made["MaxMemberNum"], 200, "create_group's Private default");
    assert_eq!(made["ApplyJoinOption"], "NeedPermission");

    tim.ok(
        "modify_group_base_info",
        json!({"GroupId": "g", "MaxMemberNum": 500, "ApplyJoinOption": "FreeAccess"}),
    )
    .await;
    let seq = tim.info("g").await["InfoSeq"].clone();
    tim.ok(
        "modify_group_base_info",
        json!({"GroupId": "g", "MaxMemberNum": 0, "ApplyJoinOption": ""}),
    )
    .await;
    let info = tim.info("g").await;
    assert_eq!(
        (
            &info["MaxMemberNum"],
            &info["ApplyJoinOption"],
            &info["InfoSeq"]
        ),
        (&json!(500), &json!("FreeAccess"), &seq),
        "zero values change nothing at modify: {info}"
    );

    let all = tim
        .ok(
            "get_appid_group_list",
            json!({"Limit": 0, "Next": 0, "GroupType": ""}),
        )
        .await;
    assert_eq!(all["TotalCount"], 3, "{all}");
    assert_eq!(all["GroupIdList"].as_array().unwrap().len(), 3, "{all}");
    assert_eq!(all["Next"], 0);
}

#[tokio::test]
async fn import_group_without_max_member_count_gets_the_import_pages_2000() {
    let tim = Tim::start().await;
    for (id, kind) in [
        ("p", "Private"),
        ("m", "ChatRoom"),
        ("@TGS#_c", "Community"),
    ] {
        tim.ok(
            "import_group",
            json!({"GroupId": id, "Type": kind, "Name": id}),
        )
        .await;
        assert_eq!(tim.info(id).await["MaxMemberNum"], 2000, "{kind}");
    }
    tim.ok(
        "import_group",
        json!({"GroupId": "big", "Type": "ChatRoom", "Name": "big", "MaxMemberCount": 6000}),
    )
    .await;
    assert_eq!(tim.info("big").await["MaxMemberNum"], 6000);
}

#[tokio::test]
async fn get_role_in_group_on_an_avchatroom_is_10007() {
    let tim = Tim::start().await;
    let live = live_room(&tim).await;
    let info = tim
        .fails(
            "get_role_in_group",
            json!({"GroupId": live, "User_Account": ["alice"]}),
            10007,
        )
        .await;
    assert!(info.contains("AVChatRoom"), "{info}");
}

#[tokio::test]
async fn delete_group_member_on_an_avchatroom_is_10004() {
    let tim = Tim::start().await;
    let live = live_room(&tim).await;
    let info = tim
        .fails(
            "delete_group_member",
            json!({"GroupId": live, "MemberToDel_Account": ["bob"]}),
            10004,
        )
        .await;
    assert!(info.contains("AVChatRoom"), "{info}");
}

#[tokio::test]
async fn member_custom_data_is_stored_and_get_group_info_filters_it() {
    let tim = Tim::start().await;
    let made = tim
        .ok(
            "create_group",
            json!({"Type": "Public", "Name": "t", "Owner_Account": "alice", "MemberList": [
                {"Member_Account": "bob",
                 "AppMemberDefinedData": [{"Key": "seat", "Value": "3"}, {"Key": "desk", "Value": "b\u{0}1"}]},
                {"Member_Account": "carol"}
            ]}),
        )
        .await;
    let id = made["GroupId"].as_str().unwrap().to_owned();
    let bob = |info: &Value| -> Value {
        info["MemberList"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["Member_Account"] == "bob")
            .cloned()
            .expect("bob is listed")
    };

    let info = tim.info(&id).await;
    assert_eq!(
        bob(&info)["AppMemberDefinedData"],
        json!([{"Key": "desk", "Value": "b\u{0}1"}, {"Key": "seat", "Value": "3"}])
    );

    let filtered = tim
        .ok(
            "get_group_info",
            json!({"GroupIdList": [id], "ResponseFilter": {
                "GroupBaseInfoFilter": ["Name"],
                "AppDefinedDataFilter_GroupMember": ["seat"]}}),
        )
        .await;
    let item = &filtered["GroupInfo"][0];
    assert_eq!(item["Name"], "t");
    assert_eq!(
        bob(item),
        json!({"Member_Account": "bob", "AppMemberDefinedData": [{"Key": "seat", "Value": "3"}]})
    );
    let with_roles = tim
        .ok(
            "get_group_info",
            json!({"GroupIdList": [id], "ResponseFilter": {
                "MemberInfoFilter": ["Account", "Role"],
                "AppDefinedDataFilter_GroupMember": ["desk"]}}),
        )
        .await;
    assert_eq!(
        bob(&with_roles["GroupInfo"][0]),
        json!({"Member_Account": "bob", "Role": "Member",
               "AppMemberDefinedData": [{"Key": "desk", "Value": "b\u{0}1"}]})
    );

    let page = tim
        .ok(
            "get_group_member_info",
            json!({"GroupId": id, "MemberInfoFilter": ["Role"],
                   "AppDefinedDataFilter_GroupMember": ["seat"]}),
        )
        .await;
    assert_eq!(
        bob(&page),
        json!({"Member_Account": "bob", "Role": "Member",
               "AppMemberDefinedData": [{"Key": "seat", "Value": "3"}]})
    );

    let too_long = tim
        .fails(
            "create_group",
            json!({"Type": "Public", "Name": "x", "MemberList": [{"Member_Account": "bob",
                "AppMemberDefinedData": [{"Key": "seat", "Value": "v".repeat(65)}]}]}),
            10004,
        )
        .await;
    assert!(too_long.contains("AppMemberDefinedData"), "{too_long}");
    let six: Vec<Value> = (0..6)
        .map(|i| json!({"Key": format!("k{i}"), "Value": "1"}))
        .collect();
    let too_many = tim
        .fails(
            "create_group",
            json!({"Type": "Public", "Name": "x", "MemberList": [{"Member_Account": "bob",
                "AppMemberDefinedData": six}]}),
            10004,
        )
        .await;
    assert!(too_many.contains("AppMemberDefinedData"), "{too_many}");
}

#[tokio::test]
async fn get_group_info_reports_no_member_count_or_list_for_an_avchatroom() {
    let tim = Tim::start().await;
    let live = live_room(&tim).await;
    let asked = tim
        .ok(
            "get_group_info",
            json!({"GroupIdList": [live], "ResponseFilter": {
                "GroupBaseInfoFilter": ["Type", "MemberNum", "MemberList"],
                "MemberInfoFilter": ["Role"]}}),
        )
        .await;
    let item = asked["GroupInfo"][0].as_object().unwrap();
    assert_eq!(item["Type"], "AVChatRoom");
    assert!(
        !item.contains_key("MemberNum") && !item.contains_key("MemberList"),
        "{item:?}"
    );
    let info = tim.info(live.as_str().unwrap()).await;
    assert_eq!(info["Owner_Account"], "alice");
    assert!(info.get("MemberNum").is_none() && info.get("MemberList").is_none());
}

#[tokio::test]
async fn community_member_pages_take_the_older_integer_next() {
    let tim = Tim::start().await;
    tim.ok(
        "create_group",
        json!({"GroupId": "@TGS#_c", "Type": "Community", "Name": "c", "Owner_Account": "alice",
               "MemberList": [{"Member_Account": "bob"}, {"Member_Account": "carol"}]}),
    )
    .await;
    let first = tim
        .ok(
            "get_group_member_info",
            json!({"GroupId": "@TGS#_c", "Limit": 2, "Next": 0}),
        )
        .await;
    assert_eq!(first["MemberList"].as_array().unwrap().len(), 2, "{first}");
    let cursor: u64 = first["Next"].as_str().unwrap().parse().unwrap();
    let rest = tim
        .ok(
            "get_group_member_info",
            json!({"GroupId": "@TGS#_c", "Limit": 2, "Next": cursor}),
        )
        .await;
    assert_eq!(rest["MemberList"].as_array().unwrap().len(), 1, "{rest}");
    assert_eq!(rest["Next"], "");
    tim.fails(
        "get_group_member_info",
        json!({"GroupId": "@TGS#_c", "Next": -1}),
        10004,
    )
    .await;
}

#[tokio::test]
async fn bchatroom_is_a_valid_group_type_filter_that_matches_nothing() {
    let tim = Tim::start().await;
    tim.import("g").await;
    let legacy = tim
        .ok("get_appid_group_list", json!({"GroupType": "BChatRoom"}))
        .await;
    assert_eq!(
        (
            &legacy["TotalCount"],
            &legacy["GroupIdList"],
            &legacy["Next"]
        ),
        (&json!(0), &json!([]), &json!(0))
    );
}
