//! The server against hostile or careless clients: an oversized body is answered in the
//! envelope; idle connections beyond the cap do not starve real calls; a client that never
//! finishes its headers is cut off.

use serde_json::json;

use super::client::Tim;

#[tokio::test]
async fn a_body_over_the_limit_is_answered_in_the_envelope() {
    let tim = Tim::start().await;
    let name = "x".repeat(3 << 20);
    let url = tim.url(
        "group_open_http_svc/import_group",
        &tim.query("administrator"),
    );
    let (status, reply) = tim
        .post(
            &url,
            json!({"GroupId": "g", "Type": "Public", "Name": name}).to_string(),
        )
        .await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["ActionStatus"], "FAIL");
    assert_eq!(reply["ErrorCode"], 60002);
    assert!(tim.emu.group("g").is_none());
}
