//! The app model over real HTTP: the `im_open_login_svc` account commands, owners and members
//! that must be imported accounts (10019), accounts that survive a restart, and group
//! custom-field keys that must be configured for the app (10004, at most 10 a group).

use serde_json::{Value, json};
use timctl::emulator::{Config, CustomKeys};

use super::client::{Tim, config};

const ACCOUNTS: &str = "im_open_login_svc";

fn check_items(names: &[&str]) -> Value {
    json!({"CheckItem": names.iter().map(|n| json!({"UserID": n})).collect::<Vec<_>>()})
}

async fn status(tim: &Tim, name: &str) -> Value {
    let reply = tim.ok("account_check", check_items(&[name])).await;
    reply["ResultItem"][0]["AccountStatus"].clone()
}

#[tokio::test]
async fn accounts_are_imported_checked_and_deleted_as_documented() {
    let tim = Tim::start().await;
    assert_eq!(status(&tim, "erin").await, "NotImported");

    let reply = tim
        .ok(
            "account_import",
            json!({"UserID": "erin", "Nick": "Erin", "FaceUrl": "https://example.com/e.png"}),
        )
        .await;
    assert_eq!(
        reply,
        json!({"ActionStatus": "OK", "ErrorCode": 0, "ErrorInfo": ""})
    );
    // Importing twice creates the account once.
    tim.ok("account_import", json!({"UserID": "erin"})).await;
    // The older pages call the field Identifier.
    tim.ok("account_import", json!({"Identifier": "frank"}))
        .await;

    let long = "x".repeat(33);
    let reply = tim
        .ok(
            "multiaccount_import",
            json!({"Accounts": ["gina", "hank", long, "gina"]}),
        )
        .await;
    assert_eq!(reply["FailAccounts"], json!([long]));

    let reply = tim
        .ok(
            "account_check",
            check_items(&["erin", "frank", "gina", "hank", "nobody", "administrator"]),
        )
        .await;
    let statuses: Vec<(&str, &str, i64)> = reply["ResultItem"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["UserID"].as_str().unwrap(),
                r["AccountStatus"].as_str().unwrap(),
                r["ResultCode"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [
            ("erin", "Imported", 0),
            ("frank", "Imported", 0),
            ("gina", "Imported", 0),
            ("hank", "Imported", 0),
            ("nobody", "NotImported", 0),
            ("administrator", "Imported", 0),
        ]
    );

    let reply = tim
        .ok(
            "account_delete",
            json!({"DeleteItem": [{"UserID": "erin"}, {"UserID": "nobody"}]}),
        )
        .await;
    assert_eq!(
        reply["ResultItem"],
        json!([
            {"UserID": "erin", "ResultCode": 0, "ResultInfo": ""},
            {"UserID": "nobody", "ResultCode": 70107,
             "ResultInfo": "Err_TLS_PT_Open_Login_Account_Not_Exist"}
        ])
    );
    assert_eq!(status(&tim, "erin").await, "NotImported");
}

#[tokio::test]
async fn account_requests_are_checked_like_the_service() {
    let tim = Tim::start().await;
    tim.fails("account_import", json!({}), 70402).await;
    tim.fails("account_import", json!({"UserID": ""}), 70402)
        .await;
    let info = tim
        .fails("account_import", json!({"UserID": "x".repeat(33)}), 70402)
        .await;
    assert!(info.contains("32"), "{info}");
    tim.fails("account_import", json!({"UserID": 7}), 60015)
        .await;
    tim.fails("account_import", json!({"UserID": "a", "Nick": 5}), 70402)
        .await;
    let many: Vec<String> = (0..101).map(|i| format!("u{i}")).collect();
    tim.fails("multiaccount_import", json!({"Accounts": many}), 70206)
        .await;
    tim.fails("multiaccount_import", json!({"Accounts": []}), 70206)
        .await;
    let names: Vec<&str> = many.iter().map(String::as_str).collect();
    tim.fails("account_check", check_items(&names), 70206).await;
    tim.fails("account_delete", json!({"DeleteItem": []}), 70206)
        .await;
    tim.ok("account_check", check_items(&names[..100])).await;

    // The same query-string checks and envelope as the group service.
    let url = tim.url(
        &format!("{ACCOUNTS}/account_check"),
        &tim.query("alice")
            .replace("identifier=alice", "identifier=administrator"),
    );
    let (status, reply) = tim.post(&url, check_items(&["a"]).to_string()).await;
    assert_eq!((status, reply["ErrorCode"].as_i64()), (200, Some(70013)));
    assert_eq!(reply["ActionStatus"], "FAIL");
    let url = tim.url(&format!("{ACCOUNTS}/account_check"), &tim.query("alice"));
    let (_, reply) = tim.post(&url, check_items(&["a"]).to_string()).await;
    assert_eq!(reply["ErrorCode"], 60010, "alice is no admin: {reply}");
    let url = tim.url(
        &format!("{ACCOUNTS}/kick_everyone"),
        &tim.query("administrator"),
    );
    let (_, reply) = tim.post(&url, "{}").await;
    assert_eq!(reply["ErrorCode"], 60009, "{reply}");
    let url = tim.url(
        "group_open_http_svc/account_check",
        &tim.query("administrator"),
    );
    let (_, reply) = tim.post(&url, check_items(&["a"]).to_string()).await;
    assert_eq!(reply["ErrorCode"], 10003, "not a group command: {reply}");
}

#[tokio::test]
async fn owners_and_members_must_be_imported_accounts() {
    let tim = Tim::start().await;
    let info = tim
        .fails(
            "import_group",
            json!({"GroupId": "g", "Type": "Public", "Name": "g", "Owner_Account": "stranger"}),
            10019,
        )
        .await;
    assert!(info.contains("stranger"), "{info}");
    tim.fails(
        "create_group",
        json!({"Type": "Private", "Name": "p", "Owner_Account": "stranger"}),
        10019,
    )
    .await;
    tim.fails(
        "create_group",
        json!({"Type": "Private", "Name": "p", "Owner_Account": "alice",
               "MemberList": [{"Member_Account": "bob"}, {"Member_Account": "stranger"}]}),
        10019,
    )
    .await;
    // Nothing was created by the refused calls.
    let list = tim.ok("get_appid_group_list", json!({})).await;
    assert_eq!(list["TotalCount"], 0);

    tim.import("g").await;
    tim.fails(
        "add_group_member",
        json!({"GroupId": "g", "MemberList": [{"Member_Account": "bob"}, {"Member_Account": "stranger"}]}),
        10019,
    )
    .await;
    assert_eq!(
        tim.info("g").await["MemberNum"],
        1,
        "the add was refused whole"
    );

    // Once imported, the same account may join; after it is deleted it cannot own.
    tim.ok("account_import", json!({"UserID": "stranger"}))
        .await;
    tim.ok(
        "add_group_member",
        json!({"GroupId": "g", "MemberList": [{"Member_Account": "stranger"}]}),
    )
    .await;
    tim.ok(
        "account_delete",
        json!({"DeleteItem": [{"UserID": "stranger"}]}),
    )
    .await;
    tim.fails(
        "change_group_owner",
        json!({"GroupId": "g", "NewOwner_Account": "stranger"}),
        10019,
    )
    .await;
    // An app admin always exists.
    tim.ok(
        "create_group",
        json!({"Type": "Public", "Name": "adm", "Owner_Account": "administrator"}),
    )
    .await;
}

#[tokio::test]
async fn imported_and_deleted_accounts_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("emulator.json");
    let with_state = || Config {
        state: Some(state.clone()),
        ..config()
    };
    let tim = Tim::with(with_state()).await;
    tim.ok(
        "multiaccount_import",
        json!({"Accounts": ["erin", "frank"]}),
    )
    .await;
    tim.ok(
        "account_delete",
        json!({"DeleteItem": [{"UserID": "frank"}]}),
    )
    .await;
    tim.emu.shutdown().await.unwrap();

    let tim = Tim::with(with_state()).await;
    assert_eq!(status(&tim, "erin").await, "Imported");
    assert_eq!(status(&tim, "frank").await, "NotImported");
    tim.ok(
        "create_group",
        json!({"Type": "Public", "Name": "e", "Owner_Account": "erin"}),
    )
    .await;
    let accounts = tim.emu.accounts();
    assert!(accounts.contains(&"erin".to_owned()), "{accounts:?}");
    assert!(!accounts.contains(&"frank".to_owned()), "{accounts:?}");
}

#[tokio::test]
async fn account_commands_have_their_documented_rate_limits() {
    // 100/s × 0.02 = 2 calls a second for account_check; account_import is 200/s × 0.02 = 4.
    let tim = Tim::with(Config {
        rate_limit_scale: 0.02,
        ..config()
    })
    .await;
    let mut check = Vec::new();
    let mut import = Vec::new();
    for i in 0..6 {
        check.push(tim.call("account_check", check_items(&["a"])).await["ErrorCode"].clone());
        import.push(
            tim.call("account_import", json!({"UserID": format!("r{i}")}))
                .await["ErrorCode"]
                .clone(),
        );
    }
    assert_eq!(check[..2], [json!(0), json!(0)], "{check:?}");
    assert!(check[2..].contains(&json!(60007)), "{check:?}");
    assert_eq!(
        import[..4],
        [json!(0), json!(0), json!(0), json!(0)],
        "{import:?}"
    );
    assert!(
        check.iter().filter(|c| **c == 0).count() < import.iter().filter(|c| **c == 0).count(),
        "account_check (100/s) admits fewer than account_import (200/s): {check:?} {import:?}"
    );
}

#[tokio::test]
async fn custom_keys_must_be_configured_and_a_group_holds_at_most_ten() {
    let keys: Vec<String> = (0..11).map(|i| format!("key{i}")).collect();
    let tim = Tim::with(Config {
        custom_keys: CustomKeys::only(keys.iter().cloned()),
        ..config()
    })
    .await;
    let fields = |n: usize| -> Vec<Value> {
        keys[..n]
            .iter()
            .map(|k| json!({"Key": k, "Value": "v"}))
            .collect()
    };
    let info = tim
        .fails(
            "import_group",
            json!({"GroupId": "g", "Type": "Public", "Name": "g",
                   "AppDefinedData": [{"Key": "team", "Value": "x"}]}),
            10004,
        )
        .await;
    assert!(
        info.contains("\"team\"") && info.contains("configured"),
        "{info}"
    );
    tim.fails(
        "import_group",
        json!({"GroupId": "g", "Type": "Public", "Name": "g", "AppDefinedData": fields(11)}),
        10004,
    )
    .await;
    tim.ok(
        "import_group",
        json!({"GroupId": "g", "Type": "Public", "Name": "g", "AppDefinedData": fields(10)}),
    )
    .await;
    let info = tim
        .fails(
            "modify_group_base_info",
            json!({"GroupId": "g", "AppDefinedData": [{"Key": "key10", "Value": "v"}]}),
            10004,
        )
        .await;
    assert!(info.contains("10"), "{info}");
    tim.fails(
        "modify_group_base_info",
        json!({"GroupId": "g", "AppDefinedData": [{"Key": "zone", "Value": "v"}]}),
        10004,
    )
    .await;
    // Deleting one makes room for another.
    tim.ok(
        "modify_group_base_info",
        json!({"GroupId": "g", "AppDefinedData": [{"Key": "key0", "Value": ""}, {"Key": "key10", "Value": "v"}]}),
    )
    .await;
    assert_eq!(
        tim.info("g").await["AppDefinedData"]
            .as_array()
            .unwrap()
            .len(),
        10
    );
}

#[tokio::test]
async fn the_library_imports_accounts_and_seeds_bring_their_people() {
    let tim = Tim::start().await;
    tim.emu.import_accounts(&["lib_user"]).await.unwrap();
    assert_eq!(status(&tim, "lib_user").await, "Imported");
    assert!(tim.emu.import_accounts(&[&"x".repeat(33)]).await.is_err());

    let mut seed = crate::support::seed_group("s", timctl::emulator::GroupType::Public, "s");
    seed.owner = Some("seed_owner".into());
    seed.members = vec![timctl::emulator::SeedMember {
        account: "seed_member".into(),
        role: timctl::emulator::Role::Member,
        join_time: None,
    }];
    tim.emu.seed(vec![seed.clone()]).await.unwrap();
    assert_eq!(status(&tim, "seed_owner").await, "Imported");
    assert_eq!(status(&tim, "seed_member").await, "Imported");
    seed.custom.insert("unconfigured".into(), "v".into());
    let error = tim.emu.seed(vec![seed]).await.unwrap_err().to_string();
    assert!(error.contains("unconfigured"), "{error}");
}
