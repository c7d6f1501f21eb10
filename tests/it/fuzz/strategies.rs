//! Generators for the fuzz tests: request bodies shaped like each command's (plausible values
//! from small pools of ids and accounts, then a few fields broken), any JSON, raw bytes, and
//! YAML shaped like a manifest at the top and random below.

use proptest::prelude::*;
use serde_json::{Map, Value};

/// Request fields the commands read, so random objects reach past the first missing field.
const FIELDS: &[&str] = &[
    "GroupId",
    "GroupIdList",
    "Type",
    "Name",
    "Introduction",
    "Notification",
    "FaceUrl",
    "Owner_Account",
    "NewOwner_Account",
    "MaxMemberCount",
    "MaxMemberNum",
    "ApplyJoinOption",
    "MuteAllMember",
    "ShutUpAllMember",
    "AppDefinedData",
    "Key",
    "Value",
    "CreateTime",
    "MemberList",
    "Member_Account",
    "MemberToDel_Account",
    "Role",
    "JoinTime",
    "User_Account",
    "Silence",
    "Reason",
    "ResponseFilter",
    "GroupBaseInfoFilter",
    "MemberInfoFilter",
    "MemberRoleFilter",
    "AppDefinedDataFilter_Group",
    "Limit",
    "Next",
    "Offset",
    "GroupType",
    "MsgFlag",
    "NameCard",
    "AppMemberDefinedData",
    "MuteTime",
    "ShutUpTime",
];

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => prop::sample::select(FIELDS).prop_map(str::to_owned),
        1 => "\\PC{0,12}",
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        prop::sample::select(vec![
            0i64,
            1,
            -1,
            30,
            31,
            200,
            2000,
            6000,
            6001,
            100_000,
            1 << 32
        ])
        .prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        prop::sample::select(vec![
            "Public",
            "Private",
            "ChatRoom",
            "AVChatRoom",
            "Community",
            "Owner",
            "Admin",
            "Member",
            "On",
            "Off",
            "FreeAccess",
            "NeedPermission",
            "DisableApply",
            "administrator",
            "alice",
            "bob",
            "g1",
            "@TGS#_room",
            "@TGS#2AAAAAAAA",
            "",
            "\0",
        ])
        .prop_map(Value::from),
        "\\PC{0,40}".prop_map(Value::from),
        (0usize..400).prop_map(|n| Value::from("字".repeat(n))),
    ]
}

pub fn json() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..6)
                .prop_map(|entries| Value::Object(entries.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A plausible value for a request field, from small pools of ids and accounts so that calls
/// act on the same groups.
fn plausible(field: &'static str) -> BoxedStrategy<Value> {
    let ids = || {
        prop::sample::select(vec![
            "g1",
            "g2",
            "g3",
            "live",
            "@TGS#_room",
            "n1",
            "n2",
            "@TGS#_new",
        ])
        .prop_map(Value::from)
    };
    let account = || {
        prop::sample::select(vec![
            "alice",
            "bob",
            "carol",
            "administrator",
            "",
            "d\u{fe0f}",
        ])
        .prop_map(Value::from)
    };
    let accounts = move || prop::collection::vec(account(), 0..4).prop_map(Value::Array);
    let text = || {
        prop_oneof![
            20 => "[a-zA-Z 字]{1,9}".prop_map(Value::from),
            1 => (0usize..350).prop_map(|n| Value::from("n".repeat(n))),
        ]
    };
    let number = || {
        prop_oneof![
            (0u64..10_000).prop_map(Value::from),
            prop::sample::select(vec![0u64, 1, 2, 200, 2000, 6000, 6001, 100_000, 1 << 32])
                .prop_map(Value::from),
        ]
    };
    let names = |pool: Vec<&'static str>| {
        prop::collection::vec(prop::sample::select(pool).prop_map(Value::from), 0..4)
            .prop_map(Value::Array)
    };
    match field {
        "GroupId" => ids().boxed(),
        "GroupIdList" => prop::collection::vec(ids(), 0..5)
            .prop_map(Value::Array)
            .boxed(),
        "Type" | "GroupType" => prop::sample::select(vec![
            "Public",
            "Private",
            "ChatRoom",
            "AVChatRoom",
            "Community",
        ])
        .prop_map(Value::from)
        .boxed(),
        "Owner_Account" | "NewOwner_Account" | "Member_Account" => account().boxed(),
        "Role" => prop::sample::select(vec!["Admin", "Member", "Owner", "admin"])
            .prop_map(Value::from)
            .boxed(),
        "MsgFlag" => prop::sample::select(vec![
            "AcceptAndNotify",
            "AcceptNotNotify",
            "Discard",
            "Mute",
        ])
        .prop_map(Value::from)
        .boxed(),
        "AppMemberDefinedData" => prop::collection::vec(
            (
                prop::sample::select(vec!["seat", "team", "bad key", ""]),
                text(),
            )
                .prop_map(|(k, v)| serde_json::json!({"Key": k, "Value": v})),
            0..4,
        )
        .prop_map(Value::Array)
        .boxed(),
        "User_Account" | "MemberToDel_Account" => accounts().boxed(),
        "ApplyJoinOption" => {
            prop::sample::select(vec!["FreeAccess", "NeedPermission", "DisableApply", "Free"])
                .prop_map(Value::from)
                .boxed()
        }
        "MuteAllMember" | "ShutUpAllMember" => prop::sample::select(vec!["On", "Off", "on"])
            .prop_map(Value::from)
            .boxed(),
        "AppDefinedData" => prop::collection::vec(
            (prop::sample::select(vec!["team", "zone", "k", ""]), text())
                .prop_map(|(k, v)| serde_json::json!({"Key": k, "Value": v})),
            0..4,
        )
        .prop_map(Value::Array)
        .boxed(),
        "MemberList" => prop::collection::vec(
            (
                account(),
                prop::option::of(prop::sample::select(vec!["Admin", "Member", "Owner"])),
                prop::option::of(number()),
            )
                .prop_map(|(account, role, join)| {
                    let mut member = serde_json::json!({"Member_Account": account});
                    if let Some(role) = role {
                        member["Role"] = role.into();
                    }
                    if let Some(join) = join {
                        member["JoinTime"] = join;
                    }
                    member
                }),
            0..4,
        )
        .prop_map(Value::Array)
        .boxed(),
        "ResponseFilter" => (
            prop::option::of(names(vec![
                "Name",
                "Type",
                "Owner_Account",
                "MemberNum",
                "InfoSeq",
                "AppDefinedData",
                "ShutUpAllMember",
                "Nope",
            ])),
            prop::option::of(names(vec!["Role", "JoinTime", "Member_Account", "Nope"])),
            prop::option::of(names(vec!["team", "zone"])),
        )
            .prop_map(|(base, member, custom)| {
                let mut filter = Map::new();
                for (key, value) in [
                    ("GroupBaseInfoFilter", base),
                    ("MemberInfoFilter", member),
                    ("AppDefinedDataFilter_Group", custom),
                ] {
                    if let Some(value) = value {
                        filter.insert(key.to_owned(), value);
                    }
                }
                Value::Object(filter)
            })
            .boxed(),
        "MemberInfoFilter" => names(vec!["Role", "JoinTime", "Nope"]).boxed(),
        "MemberRoleFilter" => names(vec!["Owner", "Admin", "Member", "Nope"]).boxed(),
        "Silence" => prop::sample::select(vec![0u64, 1, 2])
            .prop_map(Value::from)
            .boxed(),
        "MaxMemberCount" | "MaxMemberNum" | "CreateTime" | "Limit" | "Next" | "Offset"
        | "MuteTime" | "ShutUpTime" => number().boxed(),
        _ => text().boxed(),
    }
}

/// A value that breaks a field: any JSON, or one just past a limit.
fn wild() -> impl Strategy<Value = Value> {
    prop_oneof![
        json(),
        prop::sample::select(vec![31usize, 101, 241, 301, 513])
            .prop_map(|n| Value::from("x".repeat(n))),
        Just(Value::from("")),
        Just(Value::from(-1)),
        Just(Value::from(u64::MAX)),
        Just(Value::from("Work")),
    ]
}

/// Fields a command cannot do without: present in nearly every generated body.
const REQUIRED: &[&str] = &[
    "GroupId",
    "GroupIdList",
    "Type",
    "Name",
    "NewOwner_Account",
    "User_Account",
    "MemberToDel_Account",
];

/// The fields `command` reads.
fn fields_of(command: &str) -> &'static [&'static str] {
    match command {
        "import_group" | "create_group" => &[
            "GroupId",
            "Type",
            "Name",
            "Owner_Account",
            "Introduction",
            "Notification",
            "FaceUrl",
            "MaxMemberCount",
            "ApplyJoinOption",
            "AppDefinedData",
            "CreateTime",
            "MemberList",
        ],
        "modify_group_base_info" => &[
            "GroupId",
            "Name",
            "Introduction",
            "Notification",
            "FaceUrl",
            "MaxMemberNum",
            "ApplyJoinOption",
            "MuteAllMember",
            "ShutUpAllMember",
            "AppDefinedData",
        ],
        "change_group_owner" => &["GroupId", "NewOwner_Account"],
        "destroy_group" => &["GroupId"],
        "get_group_info" => &["GroupIdList", "ResponseFilter"],
        "get_appid_group_list" => &["Limit", "Next", "GroupType"],
        "get_role_in_group" => &["GroupId", "User_Account"],
        "add_group_member" => &["GroupId", "MemberList", "Silence"],
        "delete_group_member" => &["GroupId", "MemberToDel_Account", "Silence", "Reason"],
        "modify_group_member_info" => &[
            "GroupId",
            "Member_Account",
            "Role",
            "MsgFlag",
            "NameCard",
            "AppMemberDefinedData",
            "MuteTime",
            "ShutUpTime",
        ],
        "get_group_member_info" => &[
            "GroupId",
            "Limit",
            "Offset",
            "Next",
            "MemberInfoFilter",
            "MemberRoleFilter",
        ],
        _ => FIELDS,
    }
}

/// A body for `command`: mostly its own fields with plausible values, then up to three of
/// them replaced by wild ones; sometimes raw bytes, any JSON, or JSON cut short.
pub fn body(command: &'static str) -> BoxedStrategy<Vec<u8>> {
    let fields: Vec<BoxedStrategy<Option<(String, Value)>>> = fields_of(command)
        .iter()
        .map(|field| {
            let presence = if REQUIRED.contains(field) { 0.95 } else { 0.5 };
            prop::option::weighted(presence, plausible(field))
                .prop_map(move |value| value.map(|value| ((*field).to_owned(), value)))
                .boxed()
        })
        .collect();
    let mutations = prop_oneof![
        2 => Just(Vec::new()),
        3 => prop::collection::vec((any::<prop::sample::Index>(), wild()), 1..4),
    ];
    let object = move || {
        (
            fields.clone(),
            mutations.clone(),
            prop::collection::vec((key(), json()), 0..2),
        )
            .prop_map(|(known, mutations, extra)| {
                let mut object: Map<String, Value> = known.into_iter().flatten().collect();
                for (at, value) in mutations {
                    if let Some(key) = object.keys().nth(at.index(object.len().max(1))).cloned() {
                        object.insert(key, value);
                    }
                }
                for (key, value) in extra {
                    object.entry(key).or_insert(value);
                }
                Value::Object(object)
            })
    };
    prop_oneof![
        1 => prop::collection::vec(any::<u8>(), 0..300),
        1 => json().prop_map(|v| v.to_string().into_bytes()),
        12 => object().prop_map(|v| v.to_string().into_bytes()),
        1 => (object(), any::<prop::sample::Index>()).prop_map(|(v, cut)| {
            let mut bytes = v.to_string().into_bytes();
            bytes.truncate(cut.index(bytes.len() + 1));
            bytes
        }),
    ]
    .boxed()
}

/// YAML that looks like a manifest at the top and is random below.
pub fn manifest_text() -> impl Strategy<Value = String> {
    let field = prop_oneof![
        prop::sample::select(vec![
            "id",
            "type",
            "name",
            "owner",
            "introduction",
            "notification",
            "face_url",
            "max_members",
            "apply_join",
            "mute_all",
            "custom",
            "create_time",
            "ensure",
            "protect",
        ])
        .prop_map(str::to_owned),
        "[a-z_]{1,8}",
    ];
    let group = prop::collection::vec((field, json()), 0..6)
        .prop_map(|entries| Value::Object(entries.into_iter().collect::<Map<_, _>>()));
    prop_oneof![
        4 => (prop::collection::vec(group, 0..5), prop::option::of(json())).prop_map(
            |(groups, defaults)| {
                let mut doc = serde_json::json!({ "groups": groups });
                if let Some(defaults) = defaults {
                    doc["defaults"] = defaults;
                }
                serde_yaml::to_string(&doc).unwrap()
            }
        ),
        1 => json().prop_map(|v| serde_yaml::to_string(&v).unwrap()),
        1 => prop::collection::vec(any::<u8>(), 0..200)
            .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
    ]
}
