//! The service's field rules: each refusal has the reference's code and names its field.

use serde_json::{Value, json};

use super::client::Tim;

/// A Public import with `extra` fields merged in.
fn import(extra: Value) -> Value {
    let mut body = json!({"GroupId": "g", "Type": "Public", "Name": "n", "Owner_Account": "alice"});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    body
}

#[tokio::test]
async fn every_rule_has_its_code_and_names_its_field() {
    let tim = Tim::start().await;
    tim.import("taken").await;
    let live = tim
        .ok(
            "create_group",
            json!({"Type": "AVChatRoom", "Name": "live", "Owner_Account": "alice"}),
        )
        .await;
    let live = live["GroupId"].clone();
    let cjk = |n: usize| "\u{4e2d}".repeat(n);

    let cases: Vec<(&str, Value, i64, &str)> = vec![
        // Types and what each allows.
        (
            "import_group",
            import(json!({"Type": "AVChatRoom"})),
            10007,
            "AVChatRoom",
        ),
        (
            "import_group",
            import(json!({"Type": "Work"})),
            10004,
            "Type",
        ),
        (
            "change_group_owner",
            json!({"GroupId": live, "NewOwner_Account": "bob"}),
            10007,
            "AVChatRoom",
        ),
        (
            "create_group",
            json!({"Type": "AVChatRoom", "Name": "x", "MemberList": [{"Member_Account": "b"}]}),
            10007,
            "MemberList",
        ),
        // Custom GroupIds.
        (
            "import_group",
            import(json!({"GroupId": "caf\u{e9}"})),
            10004,
            "GroupId",
        ),
        (
            "import_group",
            import(json!({"GroupId": "x".repeat(49)})),
            10004,
            "GroupId",
        ),
        (
            "import_group",
            import(json!({"GroupId": "@TGS#mine"})),
            10004,
            "@TGS#",
        ),
        (
            "import_group",
            import(json!({"GroupId": "room", "Type": "Community"})),
            10004,
            "@TGS#_",
        ),
        (
            "import_group",
            import(json!({"GroupId": "taken"})),
            10021,
            "GroupId",
        ),
        // Byte limits in UTF-8 bytes.
        (
            "import_group",
            import(json!({"Name": cjk(11)})),
            10004,
            "Name",
        ),
        ("import_group", import(json!({"Name": ""})), 10004, "Name"),
        (
            "import_group",
            import(json!({"Introduction": "i".repeat(241)})),
            10004,
            "Introduction",
        ),
        (
            "import_group",
            import(json!({"Notification": "n".repeat(301)})),
            10004,
            "Notification",
        ),
        (
            "import_group",
            import(json!({"FaceUrl": "f".repeat(101)})),
            10004,
            "FaceUrl",
        ),
        (
            "modify_group_base_info",
            json!({"GroupId": "taken", "Name": cjk(11)}),
            10004,
            "Name",
        ),
        (
            "modify_group_base_info",
            json!({"GroupId": "taken", "Notification": cjk(101)}),
            10004,
            "Notification",
        ),
        // Member caps: MaxMemberCount at import/create, MaxMemberNum at modify.
        (
            "import_group",
            import(json!({"MaxMemberCount": 6001})),
            10004,
            "MaxMemberCount",
        ),
        (
            "modify_group_base_info",
            json!({"GroupId": "taken", "MaxMemberNum": 6001}),
            10004,
            "MaxMemberNum",
        ),
        (
            "create_group",
            json!({"Type": "Public", "Name": "x", "Owner_Account": "a", "MaxMemberCount": 1,
                                "MemberList": [{"Member_Account": "b"}]}),
            10014,
            "MaxMemberCount",
        ),
        // ApplyJoinOption.
        (
            "import_group",
            import(json!({"ApplyJoinOption": "Anyone"})),
            10004,
            "ApplyJoinOption",
        ),
        (
            "import_group",
            import(
                json!({"GroupId": "@TGS#_c", "Type": "Community", "ApplyJoinOption": "FreeAccess"}),
            ),
            10004,
            "ApplyJoinOption",
        ),
        (
            "modify_group_base_info",
            json!({"GroupId": "taken", "ApplyJoinOption": "free"}),
            10004,
            "ApplyJoinOption",
        ),
        // Custom keys and values.
        (
            "import_group",
            import(json!({"AppDefinedData": [{"Key": "k".repeat(17), "Value": "v"}]})),
            10004,
            "AppDefinedData",
        ),
        (
            "import_group",
            import(json!({"AppDefinedData": [{"Key": "bad-key", "Value": "v"}]})),
            10004,
            "AppDefinedData",
        ),
        (
            "modify_group_base_info",
            json!({"GroupId": "taken", "AppDefinedData": [{"Key": "k", "Value": "v".repeat(513)}]}),
            10004,
            "AppDefinedData",
        ),
        // Mute switch, under both names.
        (
            "modify_group_base_info",
            json!({"GroupId": "taken", "MuteAllMember": "Yes"}),
            10004,
            "MuteAllMember",
        ),
        (
            "modify_group_base_info",
            json!({"GroupId": "taken", "ShutUpAllMember": "on"}),
            10004,
            "ShutUpAllMember",
        ),
        (
            "modify_group_base_info",
            json!({"GroupId": "taken", "MuteAllMember": "On", "ShutUpAllMember": "Off"}),
            10004,
            "ShutUpAllMember",
        ),
        // Required fields, types, group lookups.
        (
            "import_group",
            json!({"GroupId": "x", "Name": "n"}),
            10004,
            "Type",
        ),
        (
            "import_group",
            json!({"GroupId": "x", "Type": "Public"}),
            10004,
            "Name",
        ),
        ("import_group", import(json!({"Name": 5})), 10004, "Name"),
        (
            "import_group",
            import(json!({"Owner_Account": 5})),
            60015,
            "Owner_Account",
        ),
        (
            "modify_group_base_info",
            json!({"Name": "n"}),
            10004,
            "GroupId",
        ),
        (
            "modify_group_base_info",
            json!({"GroupId": "nope", "Name": "n"}),
            10010,
            "nope",
        ),
        (
            "destroy_group",
            json!({"GroupId": "\u{1}"}),
            10015,
            "GroupId",
        ),
    ];
    for (command, body, code, named) in cases {
        let info = tim.fails(command, body.clone(), code).await;
        assert!(
            info.contains(named),
            "{command} {body}: ErrorInfo {info:?} should name {named:?}"
        );
    }
    // Nothing above was applied.
    let list = tim.ok("get_appid_group_list", json!({})).await;
    assert_eq!(list["TotalCount"], 2);
    assert_eq!(tim.info("taken").await["InfoSeq"], 1);
}

#[tokio::test]
async fn limits_are_inclusive_and_values_may_hold_any_character() {
    let mut config = super::client::config();
    config.custom_keys.extend(["k".repeat(16)]);
    let tim = Tim::with(config).await;
    let cjk = |n: usize| "\u{4e2d}".repeat(n);
    let value = format!("{}\u{0}\u{1}", "v".repeat(510));
    tim.ok(
        "import_group",
        import(json!({
            "GroupId": "x".repeat(48),
            "Name": cjk(10),
            "Introduction": cjk(80),
            "Notification": cjk(100),
            "FaceUrl": "f".repeat(100),
            "MaxMemberCount": 6000,
            "AppDefinedData": [{"Key": "k".repeat(16), "Value": value}]
        })),
    )
    .await;
    let info = tim.info(&"x".repeat(48)).await;
    assert_eq!(info["Name"], cjk(10));
    assert_eq!(info["AppDefinedData"][0]["Value"], value);
    tim.ok(
        "import_group",
        json!({"GroupId": "@TGS#_big", "Type": "Community", "Name": "c", "MaxMemberCount": 100000}),
    )
    .await;
}
