//! The JSON Schema of a manifest file, for editors (`yaml-language-server`) and other tools.
//!
//! The types here mirror the YAML and exist only to derive the schema with schemars; the
//! loader does not use them (it reads fields one by one to report every problem, see
//! `fields.rs`), and a test keeps their keys equal to the loader's. The schema can state
//! lengths only in characters, so its `maxLength` values are hints: the loader's byte limits
//! (one CJK character is 3 bytes) are the rule.
//!
//! `schema/timctl.schema.json` in the repository is [`schema_json`]'s output, and a test keeps
//! them equal. Regenerate it with `cargo run -- schema > schema/timctl.schema.json`.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde_json::Value;

use crate::model::{ApplyJoin, Ensure, GroupType};

/// A timctl manifest: the chat groups of a Tencent Cloud Chat (TIM) app, as a Git repository
/// declares them. A file may hold several YAML documents, each of this shape.
#[derive(JsonSchema)]
#[schemars(title = "timctl manifest")]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Manifest {
    /// Field values for every group of this document; a group's own value wins (a group's
    /// `custom` replaces the default `custom` whole).
    defaults: Option<Defaults>,
    /// The groups this document declares.
    groups: Option<Vec<GroupEntry>>,
    /// Prune mode: live groups under these id prefixes that no manifest declares are destroyed.
    prune: Option<Prune>,
}

/// One group. A field left out is never changed; a field written is authoritative.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct GroupEntry {
    /// The GroupId, the identity of the group: printable ASCII, at most 48 bytes. Custom ids
    /// must not start with `@TGS#` (writing a service-assigned `@TGS#…` id adopts that group);
    /// Community ids must start with `@TGS#_`.
    #[schemars(length(min = 1, max = 48), regex(pattern = r"^[\x20-\x7E]+$"))]
    id: String,
    #[serde(flatten)]
    fields: GroupFields,
}

/// Defaults for the groups of this document: any group field but `id`.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Defaults {
    #[serde(flatten)]
    fields: GroupFields,
}

#[derive(JsonSchema)]
#[allow(dead_code)]
struct GroupFields {
    /// The group type, fixed at creation: changing it replaces the group (`--allow-replace`).
    #[serde(rename = "type")]
    group_type: Option<GroupType>,
    /// The group name (`Name`): at most 30 UTF-8 bytes (10 CJK characters). Needed to create
    /// the group.
    #[schemars(length(min = 1, max = 30))]
    name: Option<String>,
    /// The owner's account (`Owner_Account`); a change is an ownership transfer, and the new
    /// owner must already be a member.
    #[schemars(length(min = 1))]
    owner: Option<String>,
    /// The introduction (`Introduction`): at most 240 UTF-8 bytes.
    #[schemars(length(max = 240))]
    introduction: Option<String>,
    /// The group notice (`Notification`): at most 300 UTF-8 bytes.
    #[schemars(length(max = 300))]
    notification: Option<String>,
    /// The avatar URL (`FaceUrl`): at most 100 UTF-8 bytes.
    #[schemars(length(max = 100))]
    face_url: Option<String>,
    /// The member cap (`MaxMemberCount` at import, `MaxMemberNum` at modify): up to 6000, or
    /// 100000 for Community; AVChatRoom has no cap.
    #[schemars(range(min = 1))]
    max_members: Option<u32>,
    /// How users join (`ApplyJoinOption`). Not for Community groups.
    apply_join: Option<ApplyJoin>,
    /// Mute every member but the owner and admins (`MuteAllMember`).
    mute_all: Option<bool>,
    /// Group custom fields (`AppDefinedData`), first defined in the console. When written, this
    /// is the whole set of managed keys: a key on the group but not here is deleted. Keys: at
    /// most 16 bytes of `A-Z a-z 0-9 _`, not starting with a digit; values: 1 to 512 bytes, any
    /// character; at most 10 keys.
    #[schemars(extend("propertyNames" = {"pattern": "^[A-Za-z_][A-Za-z0-9_]{0,15}$"}))]
    #[schemars(length(max = 10))]
    custom: Option<BTreeMap<String, String>>,
    /// Creation time in Unix seconds (`CreateTime`): sent only when the group is imported,
    /// never a difference afterwards. Not for AVChatRoom.
    create_time: Option<u64>,
    /// `present` (default) keeps the group; `absent` destroys it.
    ensure: Option<Ensure>,
    /// `true` makes any destroy of this group a plan error, `--force` or not.
    protect: Option<bool>,
    /// Exactly these accounts hold the Admin role: an admin not listed is made a Member. Admins
    /// are members (added when missing). Not for AVChatRoom (no member list) nor Private (Work,
    /// no Admin role). The owner keeps its Owner role.
    #[schemars(inner(length(min = 1)), extend("uniqueItems" = true))]
    admins: Option<Vec<String>>,
    /// These accounts must be members: those missing are added. Not for AVChatRoom. With
    /// `members_exclusive`, members not listed (the owner and admins aside) are removed.
    #[schemars(inner(length(min = 1)), extend("uniqueItems" = true))]
    members: Option<Vec<String>>,
    /// `true`: members not listed in `members`, and not the owner or an admin, are removed.
    /// Default `false` (members are only added). Needs `members`.
    members_exclusive: Option<bool>,
    /// `true`: members are added and removed with no group notice (`Silence`).
    members_silent: Option<bool>,
}

/// Prune mode settings.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Prune {
    /// Live groups whose id starts with one of these and that no manifest declares are
    /// destroyed. Nothing outside these prefixes is ever pruned.
    #[schemars(inner(length(min = 1)))]
    id_prefixes: Vec<String>,
}

/// The JSON Schema of a manifest document.
pub fn schema() -> Value {
    let mut schema =
        serde_json::to_value(schemars::schema_for!(Manifest)).expect("a schema is JSON");
    forbid_null(&mut schema);
    schema
}

/// schemars lets every `Option` field be `null`, but a key written with no value is an error
/// to the loader (omitting the key is how a field is left unmanaged): drop those `null`s.
fn forbid_null(schema: &mut Value) {
    let is_null_type = |v: &Value| v.get("type") == Some(&Value::from("null"));
    match schema {
        Value::Object(map) => {
            if let Some(Value::Array(types)) = map.get_mut("type") {
                types.retain(|t| t != "null");
                if let [only] = types.as_slice() {
                    let only = only.clone();
                    map.insert("type".into(), only);
                }
            }
            if let Some(Value::Array(any_of)) = map.get_mut("anyOf") {
                any_of.retain(|v| !is_null_type(v));
                if let [only] = any_of.as_slice() {
                    let only = only.clone();
                    map.remove("anyOf");
                    if let Value::Object(only) = only {
                        map.extend(only);
                    }
                }
            }
            map.values_mut().for_each(forbid_null);
        }
        Value::Array(items) => items.iter_mut().for_each(forbid_null),
        _ => {}
    }
}

/// [`schema`] as the text of `schema/timctl.schema.json`: pretty, ending with a newline.
pub fn schema_json() -> String {
    let mut text = serde_json::to_string_pretty(&schema()).expect("a schema is JSON");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::fields::GROUP_KEYS;

    #[test]
    fn the_committed_schema_is_the_output_of_timctl_schema() {
        let committed = include_str!("../../schema/timctl.schema.json");
        assert!(
            committed == schema_json(),
            "schema/timctl.schema.json is stale; regenerate it with \
             `cargo run -- schema > schema/timctl.schema.json`"
        );
    }

    fn keys(schema: &Value, pointer: &str) -> Vec<String> {
        let mut keys: Vec<String> = schema
            .pointer(pointer)
            .and_then(Value::as_object)
            .expect("properties")
            .keys()
            .cloned()
            .collect();
        keys.sort();
        keys
    }

    #[test]
    fn the_schema_has_the_keys_the_loader_reads() {
        let schema = schema();
        let mut group_keys: Vec<String> = GROUP_KEYS.iter().map(|k| k.to_string()).collect();
        group_keys.sort();
        assert_eq!(keys(&schema, "/$defs/GroupEntry/properties"), group_keys);
        group_keys.retain(|k| k != "id");
        assert_eq!(keys(&schema, "/$defs/Defaults/properties"), group_keys);
        assert_eq!(
            keys(&schema, "/properties"),
            ["defaults", "groups", "prune"]
        );
        assert_eq!(keys(&schema, "/$defs/Prune/properties"), ["id_prefixes"]);
    }

    #[test]
    fn no_key_may_be_null_and_unknown_keys_are_refused() {
        let text = schema_json();
        assert!(!text.contains("\"null\""), "{text}");
        for def in ["GroupEntry", "Defaults", "Prune"] {
            let pointer = format!("/$defs/{def}/additionalProperties");
            assert_eq!(
                schema().pointer(&pointer),
                Some(&Value::Bool(false)),
                "{def}"
            );
        }
        assert_eq!(schema()["additionalProperties"], Value::Bool(false));
    }
}
