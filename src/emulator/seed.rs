//! Groups given to the emulator outside the API: seed files, `Emulator::seed`, and edits made
//! "in the console" (`Emulator::edit_group`), plus the snapshot tests read back.
//!
//! [`SeedGroup`] is the one public shape for all of these; its keys are the manifest's
//! (snake_case), so a seed file reads like a manifest. Seeds are checked with the same rules as
//! the API, except that IDs shaped like server-assigned ones (`@TGS#…`) are allowed, since a
//! seed stands for a group that already exists.
//!
//! A seed file (`--seed FILE`, YAML or JSON) is a list of groups, or a map that can also
//! import accounts and configure group custom-field keys, as the console would:
//! ```yaml
//! accounts: [dave]          # imported at start-up
//! custom_keys: [team]       # configured for the app, beside --custom-key
//! groups:
//!   - id: eng-announce
//!     type: Public
//!     name: Engineering
//!     owner: alice
//!     members: [{account: bob}, {account: carol, role: Admin}]
//!     custom: {team: platform}
//! ```
//! Seeding a group imports its owner and members (a seed stands for a group that exists, and
//! its people with it); its custom keys must be configured.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::EmulatorError;
use super::rules::{self, ApplyJoin, GroupType, Reject, Role};
use super::store::{Entry, Group, Member, Record, Store, new_members};

/// A group as seeded, edited out of band, or read back with `Emulator::group`. When seeding,
/// the optional fields default like `import_group` does; a snapshot has them all set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedGroup {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: GroupType,
    pub name: String,
    #[serde(default)]
    pub introduction: String,
    #[serde(default)]
    pub notification: String,
    #[serde(default)]
    pub face_url: String,
    /// Automatically a member with role Owner (except in an AVChatRoom).
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub max_members: Option<u64>,
    #[serde(default)]
    pub apply_join: Option<ApplyJoin>,
    #[serde(default)]
    pub mute_all: bool,
    #[serde(default)]
    pub custom: BTreeMap<String, String>,
    #[serde(default)]
    pub create_time: Option<u64>,
    #[serde(default)]
    pub info_seq: Option<u64>,
    #[serde(default)]
    pub last_info_time: Option<u64>,
    /// Members besides the owner (a snapshot lists the owner too).
    #[serde(default)]
    pub members: Vec<SeedMember>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedMember {
    pub account: String,
    #[serde(default = "member_role")]
    pub role: Role,
    #[serde(default)]
    pub join_time: Option<u64>,
}

fn member_role() -> Role {
    Role::Member
}

impl SeedGroup {
    /// A group with only the required fields; the rest take their defaults.
    pub fn new(id: &str, kind: GroupType, name: &str) -> SeedGroup {
        SeedGroup {
            id: id.to_owned(),
            kind,
            name: name.to_owned(),
            introduction: String::new(),
            notification: String::new(),
            face_url: String::new(),
            owner: None,
            max_members: None,
            apply_join: None,
            mute_all: false,
            custom: BTreeMap::new(),
            create_time: None,
            info_seq: None,
            last_info_time: None,
            members: Vec::new(),
        }
    }

    /// The snapshot of a stored group, every field set.
    pub(crate) fn of(entry: &Entry) -> SeedGroup {
        let g = &entry.group;
        SeedGroup {
            id: g.id.clone(),
            kind: g.kind,
            name: g.name.clone(),
            introduction: g.introduction.clone(),
            notification: g.notification.clone(),
            face_url: g.face_url.clone(),
            owner: (!g.owner.is_empty()).then(|| g.owner.clone()),
            max_members: Some(g.max_members),
            apply_join: Some(g.apply_join),
            mute_all: g.mute_all,
            custom: g.custom.clone(),
            create_time: Some(g.create_time),
            info_seq: Some(g.info_seq),
            last_info_time: Some(g.last_info_time),
            members: entry
                .members
                .values()
                .map(|m| SeedMember {
                    account: m.account.clone(),
                    role: m.role,
                    join_time: Some(m.join_time),
                })
                .collect(),
        }
    }

    /// Checks the group and builds the record that puts it in `store`, replacing a group with
    /// the same id in place (same list position; `InfoSeq` one higher unless given).
    pub(crate) fn to_record(&self, store: &Store, now: u64) -> Result<Record, EmulatorError> {
        self.validate()?;
        let existing = store.get(&self.id).map(|e| &e.group);
        let kind = self.kind;
        let create_time = self.create_time.unwrap_or(now);
        let owner = self.owner.clone().unwrap_or_default();
        let members = self.members(create_time);
        let group = Group {
            id: self.id.clone(),
            kind,
            name: self.name.clone(),
            introduction: self.introduction.clone(),
            notification: self.notification.clone(),
            face_url: self.face_url.clone(),
            owner,
            max_members: rules::max_members(
                "max_members",
                kind,
                self.max_members,
                rules::IMPORT_MAX_MEMBERS_DEFAULT,
            )
            .expect("validated"),
            apply_join: self.apply_join.unwrap_or(kind.default_apply_join()),
            mute_all: self.mute_all,
            custom: self.custom.clone(),
            create_time,
            info_seq: self
                .info_seq
                .unwrap_or_else(|| existing.map_or(1, |g| g.info_seq + 1)),
            last_info_time: self.last_info_time.unwrap_or(now),
            list_seq: existing.map_or_else(|| store.next_list_seq(), |g| g.list_seq),
        };
        Ok(Record::Put {
            group,
            members: members.into_values().collect(),
        })
    }

    /// Checks the group against the API's rules (server-style IDs allowed).
    pub(crate) fn validate(&self) -> Result<(), EmulatorError> {
        self.check().map_err(|reject| EmulatorError::Seed {
            id: self.id.clone(),
            reason: reject.info,
        })
    }

    fn check(&self) -> Result<(), Reject> {
        let kind = self.kind;
        rules::check_group_id(&self.id, kind, true)?;
        if self.name.is_empty() {
            return Err(Reject::param("Name must not be empty"));
        }
        rules::check_len("Name", &self.name, rules::NAME_MAX)?;
        rules::check_len("Introduction", &self.introduction, rules::INTRODUCTION_MAX)?;
        rules::check_len("Notification", &self.notification, rules::NOTIFICATION_MAX)?;
        rules::check_len("FaceUrl", &self.face_url, rules::FACE_URL_MAX)?;
        if let Some(owner) = &self.owner {
            rules::check_account("owner", owner)?;
        }
        let max = rules::max_members(
            "max_members",
            kind,
            self.max_members,
            rules::IMPORT_MAX_MEMBERS_DEFAULT,
        )?;
        for (key, value) in &self.custom {
            rules::check_custom_key("custom", key)?;
            rules::check_custom_value("custom", key, value)?;
            if value.is_empty() {
                return Err(Reject::param(format!(
                    "custom: key {key:?} has an empty value"
                )));
            }
        }
        if !kind.keeps_members() && !self.members.is_empty() {
            return Err(Reject::param(
                "members: an AVChatRoom group keeps no members",
            ));
        }
        for m in &self.members {
            rules::check_account("members.account", &m.account)?;
            if m.role == Role::Owner && self.owner.as_deref() != Some(m.account.as_str()) {
                return Err(Reject::param(format!(
                    "members: {:?} has role Owner but is not the group's owner",
                    m.account
                )));
            }
        }
        rules::check_fits("max_members", kind, self.members(0).len(), max)
    }

    /// The member list this group stands for (the owner included).
    fn members(&self, create_time: u64) -> BTreeMap<String, Member> {
        let others = self.members.iter().map(|m| Member {
            account: m.account.clone(),
            role: m.role,
            join_time: m.join_time.unwrap_or(create_time),
            custom: BTreeMap::new(),
            profile: Default::default(),
        });
        new_members(
            self.kind,
            self.owner.as_deref().unwrap_or_default(),
            create_time,
            others,
        )
    }
}

/// What a seed file holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedFile {
    #[serde(default)]
    pub accounts: Vec<String>,
    #[serde(default)]
    pub custom_keys: Vec<String>,
    #[serde(default)]
    pub groups: Vec<SeedGroup>,
}

/// Reads a seed file: a YAML (or JSON) list of groups, or a [`SeedFile`] map.
pub(crate) fn read_file(path: &Path) -> Result<SeedFile, EmulatorError> {
    let text = std::fs::read_to_string(path).map_err(|source| EmulatorError::SeedFile {
        path: path.to_owned(),
        source,
    })?;
    let parse_error = |source| EmulatorError::SeedParse {
        path: path.to_owned(),
        source,
    };
    let value: serde_yaml::Value = serde_yaml::from_str(&text).map_err(parse_error)?;
    if value.is_mapping() {
        serde_yaml::from_value(value).map_err(parse_error)
    } else {
        let groups = serde_yaml::from_value(value).map_err(parse_error)?;
        Ok(SeedFile {
            groups,
            ..SeedFile::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_round_trips_through_a_snapshot() {
        let mut seed = SeedGroup::new("@TGS#2ABCDEFGH", GroupType::Public, "Eng");
        seed.owner = Some("alice".into());
        seed.members = vec![SeedMember {
            account: "bob".into(),
            role: Role::Admin,
            join_time: None,
        }];
        seed.custom.insert("team".into(), "a\0b".into());
        let mut store = Store::default();
        let record = seed.to_record(&store, 100).unwrap();
        store.apply(&record).unwrap();
        let snapshot = SeedGroup::of(store.get(&seed.id).unwrap());
        assert_eq!(snapshot.info_seq, Some(1));
        assert_eq!(snapshot.max_members, Some(2000));
        assert_eq!(snapshot.members.len(), 2);
        let again = snapshot.to_record(&store, 200).unwrap();
        store.apply(&again).unwrap();
        assert_eq!(SeedGroup::of(store.get(&seed.id).unwrap()), snapshot);
    }

    #[test]
    fn seeds_follow_the_rules() {
        let store = Store::default();
        let reason = |seed: SeedGroup| match seed.to_record(&store, 1) {
            Err(EmulatorError::Seed { reason, .. }) => reason,
            other => panic!("expected a seed error, got {other:?}"),
        };
        assert!(reason(SeedGroup::new("x", GroupType::Public, &"n".repeat(31))).contains("Name"));
        assert!(reason(SeedGroup::new("plain", GroupType::Community, "c")).contains("@TGS#_"));
        let mut av = SeedGroup::new("live", GroupType::AVChatRoom, "live");
        av.members.push(SeedMember {
            account: "bob".into(),
            role: Role::Member,
            join_time: None,
        });
        assert!(reason(av).contains("AVChatRoom"));
    }
}
