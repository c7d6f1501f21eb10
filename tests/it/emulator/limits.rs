//! Rate limits over HTTP: exceeded calls are answered like the service, and the scale knob
//! tightens or switches them off. (The pacing contract itself is unit-tested with synthetic
//! time in `src/emulator/limits.rs`.)

use serde_json::json;
use timctl::emulator::Config;

use super::client::{Tim, config};

fn codes(replies: &[serde_json::Value]) -> Vec<i64> {
    replies
        .iter()
        .map(|r| r["ErrorCode"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn a_tight_scale_trips_the_200_per_second_commands_with_60007() {
    // 200/s × 0.01 = 2 calls per second, a burst of 2.
    let tim = Tim::with(Config {
        rate_limit_scale: 0.01,
        ..config()
    })
    .await;
    let mut replies = Vec::new();
    for _ in 0..10 {
        replies.push(
            tim.call("get_group_info", json!({"GroupIdList": ["g"]}))
                .await,
        );
    }
    let codes = codes(&replies);
    assert_eq!(codes[..2], [0, 0], "{codes:?}");
    assert!(codes.contains(&60007), "{codes:?}");
    assert!(codes.iter().all(|c| *c == 0 || *c == 60007), "{codes:?}");
    let refused = replies.iter().find(|r| r["ErrorCode"] == 60007).unwrap();
    assert!(
        refused["ErrorInfo"]
            .as_str()
            .unwrap()
            .contains("get_group_info")
    );
    // Other commands have their own bucket: this one reaches the command (no such group).
    tim.fails("destroy_group", json!({"GroupId": "g"}), 10010)
        .await;
}

#[tokio::test]
async fn get_appid_group_list_allows_one_call_per_second_and_answers_10006() {
    let tim = Tim::with(Config::dev()).await;
    tim.ok("get_appid_group_list", json!({})).await;
    let info = tim.fails("get_appid_group_list", json!({}), 10006).await;
    assert!(info.contains("get_appid_group_list"), "{info}");
    // Switched off at runtime, the same call goes through at once.
    tim.emu.set_rate_limit_scale(0.0);
    for _ in 0..5 {
        tim.ok("get_appid_group_list", json!({})).await;
    }
}
