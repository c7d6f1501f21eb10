//! The emulator's state: the app's imported accounts and every group with its members, in
//! memory, changed only by [`Record`]s.
//!
//! Commands never mutate a group directly: they validate, build the record that describes the
//! result, and [`Store::apply`] it. The journal writes the same records, and replay at start-up
//! applies them through the same function, so what a restart rebuilds is exactly what the
//! running emulator held.
//!
//! `list_seq` is the cursor of `get_appid_group_list`: a per-app counter given to each group at
//! creation, starting above 2^32 so a client that parses `Next` as 32 bits breaks visibly.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use super::rules::{ApplyJoin, GroupType, MsgFlag, Role};

/// The first `list_seq`; also `Next` values are these, so they need 64 bits.
pub const FIRST_LIST_SEQ: u64 = 1 << 32;

/// A group's profile: everything but its members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Group {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: GroupType,
    pub name: String,
    pub introduction: String,
    pub notification: String,
    pub face_url: String,
    /// `""` when the group has no owner.
    pub owner: String,
    /// 0 for AVChatRoom (not capped).
    pub max_members: u64,
    pub apply_join: ApplyJoin,
    pub mute_all: bool,
    pub custom: BTreeMap<String, String>,
    pub create_time: u64,
    pub info_seq: u64,
    pub last_info_time: u64,
    pub list_seq: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Member {
    pub account: String,
    pub role: Role,
    pub join_time: u64,
    /// `AppMemberDefinedData`, the member's custom fields (absent in older journals).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub custom: BTreeMap<String, String>,
    /// What `modify_group_member_info` sets besides role and custom fields; every part is
    /// absent from journals while at its default, so journals of older versions still load.
    #[serde(flatten)]
    pub profile: MemberProfile,
}

/// A member's `MsgFlag`, `NameCard` and mute deadline.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct MemberProfile {
    #[serde(default, skip_serializing_if = "MsgFlag::is_default")]
    pub msg_flag: MsgFlag,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name_card: String,
    /// Unix seconds until which the member is muted; 0 = not muted.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub mute_until: u64,
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}

/// One acknowledged change; a journal line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub(crate) enum Record {
    /// The whole group, replacing any group with that id (create, import, seed, snapshot).
    Put {
        group: Group,
        members: Vec<Member>,
    },
    /// A new profile for an existing group plus a member delta (modify, owner change, members).
    Update {
        group: Group,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        upsert: Vec<Member>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        remove: Vec<String>,
    },
    Delete {
        id: String,
    },
    /// Accounts imported (`account_import`, seeding) and deleted (`account_delete`).
    Accounts {
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        import: Vec<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        delete: Vec<String>,
    },
    /// Records applied together, in order, as one acknowledged change (a group write that
    /// also imported accounts on first use).
    Batch {
        records: Vec<Record>,
    },
}

/// The members of a new group: the owner (role Owner, joined at `create_time`) unless the type
/// keeps no member list, then `others`; the first mention of an account wins.
pub(crate) fn new_members(
    kind: GroupType,
    owner: &str,
    create_time: u64,
    others: impl IntoIterator<Item = Member>,
) -> BTreeMap<String, Member> {
    let mut members = BTreeMap::new();
    if !owner.is_empty() && kind.keeps_members() {
        let member = Member {
            account: owner.to_owned(),
            role: Role::Owner,
            join_time: create_time,
            custom: BTreeMap::new(),
            profile: Default::default(),
        };
        members.insert(member.account.clone(), member);
    }
    for member in others {
        members.entry(member.account.clone()).or_insert(member);
    }
    members
}

/// A group with its members, keyed by account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub group: Group,
    pub members: BTreeMap<String, Member>,
}

impl Entry {
    pub fn role_of(&self, account: &str) -> Option<Role> {
        self.members.get(account).map(|m| m.role)
    }
}

#[derive(Debug, Default, Clone)]
pub(crate) struct Store {
    groups: HashMap<String, Entry>,
    by_list_seq: BTreeMap<u64, String>,
    next_list_seq: u64,
    accounts: BTreeSet<String>,
}

impl Store {
    /// Whether `account` was imported (app admins are not stored: they always exist).
    pub fn has_account(&self, account: &str) -> bool {
        self.accounts.contains(account)
    }

    pub fn accounts(&self) -> impl Iterator<Item = &String> {
        self.accounts.iter()
    }

    pub fn get(&self, id: &str) -> Option<&Entry> {
        self.groups.get(id)
    }

    pub fn contains(&self, id: &str) -> bool {
        self.groups.contains_key(id)
    }

    pub fn len(&self) -> usize {
        self.groups.len()
    }

    /// A fresh `list_seq` for a group being created.
    pub fn next_list_seq(&self) -> u64 {
        self.next_list_seq.max(FIRST_LIST_SEQ)
    }

    /// Groups in creation order with `list_seq > after`.
    pub fn iter_after(&self, after: u64) -> impl Iterator<Item = &Entry> {
        self.by_list_seq
            .range(after.saturating_add(1)..)
            .filter_map(|(_, id)| self.groups.get(id))
    }

    pub fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.iter_after(0)
    }

    /// Applies a record. An `Update` or `Delete` of a group that is not there means the record
    /// does not belong to this state (a damaged journal); live commands never build one.
    pub fn apply(&mut self, record: &Record) -> Result<(), String> {
        match record {
            Record::Put { group, members } => {
                self.remove(&group.id);
                self.insert_group(group.clone());
                let entry = self.groups.get_mut(&group.id).expect("just inserted");
                for member in members {
                    entry.members.insert(member.account.clone(), member.clone());
                }
            }
            Record::Update {
                group,
                upsert,
                remove,
            } => {
                let entry = self
                    .groups
                    .get_mut(&group.id)
                    .ok_or_else(|| format!("update of unknown group {:?}", group.id))?;
                if entry.group.list_seq != group.list_seq {
                    return Err(format!("update changes the list order of {:?}", group.id));
                }
                entry.group = group.clone();
                for account in remove {
                    entry.members.remove(account);
                }
                for member in upsert {
                    entry.members.insert(member.account.clone(), member.clone());
                }
            }
            Record::Delete { id } => {
                if self.remove(id).is_none() {
                    return Err(format!("delete of unknown group {id:?}"));
                }
            }
            Record::Accounts { import, delete } => {
                self.accounts.extend(import.iter().cloned());
                for account in delete {
                    self.accounts.remove(account);
                }
            }
            Record::Batch { records } => {
                for record in records {
                    self.apply(record)?;
                }
            }
        }
        Ok(())
    }

    fn insert_group(&mut self, group: Group) {
        self.next_list_seq = self.next_list_seq().max(group.list_seq + 1);
        self.by_list_seq.insert(group.list_seq, group.id.clone());
        self.groups.insert(
            group.id.clone(),
            Entry {
                group,
                members: BTreeMap::new(),
            },
        );
    }

    fn remove(&mut self, id: &str) -> Option<Entry> {
        let entry = self.groups.remove(id)?;
        self.by_list_seq.remove(&entry.group.list_seq);
        Some(entry)
    }

    /// The whole state, the compacted journal: one `Accounts` record (when any account was
    /// imported), then `Put` records in creation order.
    pub fn snapshot(&self) -> impl Iterator<Item = Record> + '_ {
        let accounts = (!self.accounts.is_empty()).then(|| Record::Accounts {
            import: self.accounts.iter().cloned().collect(),
            delete: Vec::new(),
        });
        accounts
            .into_iter()
            .chain(self.iter().map(|entry| Record::Put {
                group: entry.group.clone(),
                members: entry.members.values().cloned().collect(),
            }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(id: &str, list_seq: u64) -> Group {
        Group {
            id: id.to_owned(),
            kind: GroupType::Public,
            name: "n".to_owned(),
            introduction: String::new(),
            notification: String::new(),
            face_url: String::new(),
            owner: "alice".to_owned(),
            max_members: 2000,
            apply_join: ApplyJoin::NeedPermission,
            mute_all: false,
            custom: BTreeMap::new(),
            create_time: 1,
            info_seq: 1,
            last_info_time: 1,
            list_seq,
        }
    }

    fn owner() -> Member {
        Member {
            account: "alice".to_owned(),
            role: Role::Owner,
            join_time: 1,
            custom: BTreeMap::new(),
            profile: Default::default(),
        }
    }

    #[test]
    fn snapshot_replays_to_the_same_state() {
        let mut store = Store::default();
        let first = store.next_list_seq();
        store
            .apply(&Record::Put {
                group: group("a", first),
                members: vec![owner()],
            })
            .unwrap();
        let second = store.next_list_seq();
        assert_eq!(second, first + 1);
        store
            .apply(&Record::Put {
                group: group("b", second),
                members: vec![owner()],
            })
            .unwrap();
        let mut renamed = group("a", first);
        renamed.name = "renamed".to_owned();
        store
            .apply(&Record::Update {
                group: renamed,
                upsert: vec![Member {
                    account: "bob".to_owned(),
                    role: Role::Member,
                    join_time: 2,
                    custom: BTreeMap::from([("seat".to_owned(), "3".to_owned())]),
                    profile: Default::default(),
                }],
                remove: vec![],
            })
            .unwrap();
        store.apply(&Record::Delete { id: "b".to_owned() }).unwrap();
        store
            .apply(&Record::Batch {
                records: vec![Record::Accounts {
                    import: vec!["alice".into(), "bob".into(), "eve".into()],
                    delete: vec![],
                }],
            })
            .unwrap();
        store
            .apply(&Record::Accounts {
                import: vec![],
                delete: vec!["eve".into()],
            })
            .unwrap();

        let mut replayed = Store::default();
        for record in store.snapshot() {
            replayed.apply(&record).unwrap();
        }
        assert_eq!(replayed.groups, store.groups);
        assert_eq!(replayed.accounts, store.accounts);
        assert_eq!(replayed.get("a").unwrap().group.name, "renamed");
        assert_eq!(replayed.get("a").unwrap().members.len(), 2);
        assert!(replayed.get("b").is_none());
    }

    #[test]
    fn member_custom_fields_are_journaled_and_older_records_lack_them() {
        let mut bob = owner();
        bob.custom.insert("seat".to_owned(), "3".to_owned());
        let record = Record::Put {
            group: group("a", FIRST_LIST_SEQ),
            members: vec![bob],
        };
        let line = serde_json::to_string(&record).unwrap();
        assert!(line.contains(r#""custom":{"seat":"3"}"#), "{line}");
        assert_eq!(serde_json::from_str::<Record>(&line).unwrap(), record);
        let plain = serde_json::to_value(owner()).unwrap();
        assert!(plain.get("custom").is_none(), "{plain}");
        let older = r#"{"account": "alice", "role": "Owner", "join_time": 1}"#;
        assert_eq!(serde_json::from_str::<Member>(older).unwrap(), owner());
    }

    #[test]
    fn member_profiles_are_journaled_only_when_set_and_older_records_load() {
        let mut carol = owner();
        carol.role = Role::Admin;
        carol.profile = MemberProfile {
            msg_flag: MsgFlag::Discard,
            name_card: "C".to_owned(),
            mute_until: 99,
        };
        let record = Record::Update {
            group: group("a", FIRST_LIST_SEQ),
            upsert: vec![carol],
            remove: vec![],
        };
        let line = serde_json::to_string(&record).unwrap();
        assert!(
            line.contains(r#""msg_flag":"Discard","name_card":"C","mute_until":99"#),
            "{line}"
        );
        assert_eq!(serde_json::from_str::<Record>(&line).unwrap(), record);
        let plain = serde_json::to_value(owner()).unwrap();
        for field in ["msg_flag", "name_card", "mute_until"] {
            assert!(plain.get(field).is_none(), "{plain}");
        }
        let older = r#"{"op": "update", "group": GROUP,
            "upsert": [{"account": "alice", "role": "Owner", "join_time": 1}]}"#
            .replace(
                "GROUP",
                &serde_json::to_string(&group("a", FIRST_LIST_SEQ)).unwrap(),
            );
        let Record::Update { upsert, .. } = serde_json::from_str::<Record>(&older).unwrap() else {
            panic!("an update")
        };
        assert_eq!(upsert, [owner()]);
        assert_eq!(upsert[0].profile, MemberProfile::default());
    }

    #[test]
    fn records_for_unknown_groups_are_refused() {
        let mut store = Store::default();
        assert!(store.apply(&Record::Delete { id: "x".into() }).is_err());
        let update = Record::Update {
            group: group("x", FIRST_LIST_SEQ),
            upsert: vec![],
            remove: vec![],
        };
        assert!(store.apply(&update).is_err());
    }
}
