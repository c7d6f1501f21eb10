//! The benchmark's world: N declared groups, most of them already live and in sync, some
//! drifted, a few new, a few changing owner and a few to destroy — written as manifests (what a
//! repository holds) and as emulator seeds (what the app holds).
//!
//! Which group is which is a pure function of its index, so a run is reproducible and the
//! expected plan is known before planning.
//!
//! The members scenario (`declared_members` > 0) declares people instead: every group is live
//! and its fields in sync; each declares its admins and `declared_members` people in all
//! (`members_exclusive`, `members_silent`). Two sets of manifests are written: one that
//! matches the live member lists, and one in which `member_drift` of each group's people differ
//! (accounts the live group lacks, live members not declared, promotions and demotions). To
//! the reader, a manifest that changed and a live group that drifted are the same difference.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io;
use std::path::Path;

use timctl::emulator::{GroupType, SeedGroup, SeedMember};

/// Groups per manifest file, like one file per team.
const GROUPS_PER_FILE: usize = 1000;

/// What a group's live state is, relative to its manifest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    InSync,
    /// Live differs in one field; the number picks which (name, notification, a custom value,
    /// an extra custom key).
    Drifted(u8),
    /// Declared, not live: created (muted ones take a modify after the import).
    New,
    /// Live owner differs; the declared owner is a member: transferred.
    NewOwner,
    /// Declared `ensure: absent`, live: destroyed.
    Absent,
}

#[derive(Clone, Copy, Debug)]
pub struct Scenario {
    pub groups: usize,
    /// Fraction of groups drifted.
    pub drift: f64,
    /// Fraction of groups new.
    pub new: f64,
    /// Fraction of groups changing owner.
    pub transfers: f64,
    /// Number of groups to destroy (within the default destroy limits: 5).
    pub destroys: usize,
    /// Fraction of new groups declared muted.
    pub muted: f64,
    /// Members of each live group besides its owner (undeclared).
    pub members: usize,
    /// People each group declares in `admins` and `members` (0: none, the groups scenario).
    pub declared_members: usize,
    /// Fraction of each group's declared people that differ in the drifted manifests.
    pub member_drift: f64,
    /// The prune scenario: live groups under [`PRUNE_PREFIX`] besides the others, one kept
    /// and `pruned` that a pull request removes from the manifests (0: none).
    pub pruned: usize,
}

/// The prune prefix of the prune scenario.
pub const PRUNE_PREFIX: &str = "pr-";

/// Which manifests to write in the members scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// The people as the live groups hold them.
    InSync,
    /// `member_drift` of each group's people differ.
    Drifted,
}

/// How one group's people differ in the drifted manifests, as counts; the accounts are picked
/// by index (see [`Scenario::people`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PeopleDrift {
    /// Live admins (of `admins` in all).
    pub admins: usize,
    /// Declared accounts not yet members: added.
    pub adds: usize,
    /// Live members no longer declared: removed.
    pub removes: usize,
    /// Live members declared as admins.
    pub promotes: usize,
    /// Live admins declared as members.
    pub demotes: usize,
}

/// How many groups of each kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Expected {
    pub creates: usize,
    pub updates: usize,
    pub transfers: usize,
    pub destroys: usize,
    /// Groups with member changes, and the accounts added, removed and changing role.
    pub members: usize,
    pub member_adds: usize,
    pub member_removes: usize,
    pub role_changes: usize,
}

impl Scenario {
    /// `groups` live groups, declared as they are: nothing drifted, new, moved, destroyed or
    /// pruned, no members but their owners. The other scenarios change this one.
    pub fn in_sync(groups: usize) -> Scenario {
        Scenario {
            groups,
            drift: 0.0,
            new: 0.0,
            transfers: 0.0,
            destroys: 0,
            muted: 0.0,
            members: 0,
            declared_members: 0,
            member_drift: 0.0,
            pruned: 0,
        }
    }

    pub fn kind(&self, i: usize) -> Kind {
        if i < self.destroys {
            return Kind::Absent;
        }
        let draw = splitmix(i as u64);
        let u = (draw >> 11) as f64 / (1u64 << 53) as f64;
        if u < self.new {
            Kind::New
        } else if u < self.new + self.transfers {
            Kind::NewOwner
        } else if u < self.new + self.transfers + self.drift {
            Kind::Drifted((draw & 3) as u8)
        } else {
            Kind::InSync
        }
    }

    /// Whether new group `i` is declared muted: one index in every `1 / muted`.
    fn muted(&self, i: usize) -> bool {
        self.muted > 0.0 && i.is_multiple_of((1.0 / self.muted).round().max(1.0) as usize)
    }

    /// The plan the drifted manifests imply.
    pub fn expected(&self) -> Expected {
        let mut expected = Expected::default();
        for i in 0..self.groups {
            match self.kind(i) {
                Kind::InSync => {}
                Kind::Drifted(_) => expected.updates += 1,
                Kind::New => expected.creates += 1,
                Kind::NewOwner => expected.transfers += 1,
                Kind::Absent => expected.destroys += 1,
            }
            if self.people(i).is_some() {
                let d = self.people_drift();
                if d.adds + d.removes + d.promotes + d.demotes > 0 {
                    expected.members += 1;
                }
                expected.member_adds += d.adds;
                expected.member_removes += d.removes;
                expected.role_changes += d.promotes + d.demotes;
            }
        }
        expected
    }

    /// How each group's people differ in the drifted manifests: `member_drift` of the declared
    /// people, two fifths added, two fifths removed, the rest changing role (promotions first).
    pub fn people_drift(&self) -> PeopleDrift {
        let m = self.declared_members;
        let admins = (m / 40).max(1).min(m);
        let drifted = ((m as f64 * self.member_drift).round() as usize).min(m);
        let adds = drifted * 2 / 5;
        let removes = (drifted * 2 / 5).min(m - admins);
        let roles = drifted - adds - removes;
        let promotes = roles.div_ceil(2).min(m - admins - removes);
        let demotes = (roles - promotes).min(admins);
        PeopleDrift {
            admins,
            adds,
            removes,
            promotes,
            demotes,
        }
    }

    /// Group `i`'s people as the live group holds them (owner aside) and as the `variant`
    /// manifests declare them: `(live, admins, members)`. Account `k` of group `i` is
    /// `g{i}-m{k}`; live, `k` < `declared_members`, the first [`PeopleDrift::admins`] Admin.
    /// Drifted: the last `removes` live members are not declared, `adds` accounts beyond them
    /// are, the first `promotes` live members are declared admins, and the first `demotes`
    /// admins members. `None` outside the members scenario.
    fn people(&self, i: usize) -> Option<People> {
        if self.declared_members == 0 || self.kind(i) == Kind::New {
            return None;
        }
        let m = self.declared_members;
        let d = self.people_drift();
        let account = |k: usize| format!("g{i}-m{k}");
        let live = (0..m)
            .map(|k| SeedMember {
                account: account(k),
                role: if k < d.admins {
                    timctl::emulator::Role::Admin
                } else {
                    timctl::emulator::Role::Member
                },
                join_time: None,
            })
            .collect();
        let in_sync = (
            (0..d.admins).map(account).collect(),
            (d.admins..m).map(account).collect(),
        );
        let drifted = (
            (d.demotes..d.admins + d.promotes).map(account).collect(),
            (0..d.demotes)
                .chain(d.admins + d.promotes..m - d.removes)
                .chain(m..m + d.adds)
                .map(account)
                .collect(),
        );
        let imported = (m..m + d.adds).map(account).collect();
        Some(People {
            live,
            in_sync,
            drifted,
            imported,
        })
    }

    /// The accounts the app must have imported besides the seeded groups' people (seeding
    /// imports those): the owners of the groups to create and the people the drifted
    /// manifests add.
    pub fn accounts_to_import(&self) -> Vec<String> {
        let mut accounts = self.new_owners();
        for i in 0..self.groups {
            if let Some(people) = self.people(i) {
                accounts.extend(people.imported);
            }
        }
        accounts
    }

    /// `get_group_member_info` pages the apply's read-back takes: each group with member
    /// changes, its member list after them (owner included), 200 a page.
    pub fn readback_member_pages(&self) -> u64 {
        let d = self.people_drift();
        if d.adds + d.removes + d.promotes + d.demotes == 0 {
            return 0;
        }
        let after = 1 + self.declared_members + d.adds - d.removes;
        let per_group = after.div_ceil(timctl::api::MEMBER_PAGE as usize).max(1) as u64;
        let groups = (0..self.groups)
            .filter(|&i| self.people(i).is_some())
            .count() as u64;
        groups * per_group
    }

    /// Writes the `variant` manifests into `dir`; returns how many files.
    pub fn write_manifests(&self, dir: &Path, variant: Variant) -> io::Result<usize> {
        let mut files = 0;
        for (file, start) in (0..self.groups).step_by(GROUPS_PER_FILE).enumerate() {
            let mut text = String::from("defaults:\n  type: Public\ngroups:\n");
            for i in start..(start + GROUPS_PER_FILE).min(self.groups) {
                manifest_entry(&mut text, i, self.kind(i), self.muted(i));
                if let Some(people) = self.people(i) {
                    let (admins, members) = match variant {
                        Variant::InSync => &people.in_sync,
                        Variant::Drifted => &people.drifted,
                    };
                    let _ = write!(
                        text,
                        "    admins: [{}]\n    members: [{}]\n    members_exclusive: true\n    members_silent: true\n",
                        admins.join(", "),
                        members.join(", ")
                    );
                }
            }
            std::fs::write(dir.join(format!("groups-{file:04}.yaml")), text)?;
            files += 1;
        }
        Ok(files)
    }

    /// The owners of the groups to create: accounts the app must have imported (the seeded
    /// groups bring their own people).
    fn new_owners(&self) -> Vec<String> {
        (0..self.groups)
            .filter(|&i| self.kind(i) == Kind::New)
            .map(|i| Declared::of(i).owner)
            .collect()
    }

    /// The live groups, `chunk` at a time (seeding all at once would double peak memory).
    pub fn seeds(&self, chunk: usize) -> impl Iterator<Item = Vec<SeedGroup>> + '_ {
        let pruned = (self.pruned > 0).then(|| self.prune_groups().map(prune_seed).collect());
        (0..self.groups)
            .step_by(chunk)
            .map(move |start| {
                (start..(start + chunk).min(self.groups))
                    .filter_map(|i| self.seed(i))
                    .collect()
            })
            .chain(pruned)
    }

    /// The ids under the prune prefix: the one kept, then the `pruned` ones.
    fn prune_groups(&self) -> impl Iterator<Item = String> {
        std::iter::once(format!("{PRUNE_PREFIX}keep"))
            .chain((0..self.pruned).map(|k| format!("{PRUNE_PREFIX}{k:04}")))
    }

    /// The prune scenario's manifests: the base branch's (the kept group and the `pruned`
    /// ones, under the prune prefix) into `base`, the pull request's (the kept group alone)
    /// into `head`.
    pub fn write_prune_manifests(&self, base: &Path, head: &Path) -> io::Result<()> {
        let ids: Vec<String> = self.prune_groups().collect();
        for (dir, ids) in [(base, &ids[..]), (head, &ids[..1])] {
            let mut text = format!(
                "defaults:\n  type: Public\nprune:\n  id_prefixes: [\"{PRUNE_PREFIX}\"]\ngroups:\n"
            );
            for id in ids {
                let _ = write!(
                    text,
                    "  - id: {id}\n    name: Group {id}\n    owner: {PRUNE_OWNER}\n"
                );
            }
            std::fs::write(dir.join("prune.yaml"), text)?;
        }
        Ok(())
    }

    /// The pull request scenario's head: the in-sync manifests of `base` copied into `head`
    /// with `touched` groups renamed, spread over the files. Returns their indices.
    pub fn write_touched_manifests(
        &self,
        base: &Path,
        head: &Path,
        touched: usize,
    ) -> io::Result<Vec<usize>> {
        let touched = touched.min(self.groups);
        let picked: Vec<usize> = (0..touched).map(|k| k * self.groups / touched).collect();
        for entry in std::fs::read_dir(base)? {
            let entry = entry?;
            if !entry.file_type()?.is_file() {
                continue;
            }
            std::fs::copy(entry.path(), head.join(entry.file_name()))?;
        }
        for &i in &picked {
            let file = head.join(format!("groups-{:04}.yaml", i / GROUPS_PER_FILE));
            let text = std::fs::read_to_string(&file)?;
            let from = format!("    name: Group {i}\n");
            if !text.contains(&from) {
                return Err(io::Error::other(format!(
                    "{}: group {i} has no name line to edit",
                    file.display()
                )));
            }
            let to = format!("    name: Group {i} (renamed)\n");
            std::fs::write(&file, text.replacen(&from, &to, 1))?;
        }
        Ok(picked)
    }

    fn seed(&self, i: usize) -> Option<SeedGroup> {
        let kind = self.kind(i);
        if kind == Kind::New {
            return None;
        }
        let desired = Declared::of(i);
        let mut group = SeedGroup::new(&desired.id, GroupType::Public, &desired.name);
        group.introduction = desired.introduction;
        group.notification = desired.notification;
        group.owner = Some(desired.owner.clone());
        group.custom = desired.custom;
        group.members = match self.people(i) {
            Some(people) => people.live,
            None => (0..self.members)
                .map(|m| member(&format!("member{:05}", (i * 7 + m) % 100_000)))
                .collect(),
        };
        match kind {
            Kind::InSync | Kind::New | Kind::Absent => {}
            Kind::Drifted(0) => group.name = format!("Old group {i}"),
            Kind::Drifted(1) => group.notification = "Old rules.".to_owned(),
            Kind::Drifted(2) => {
                group
                    .custom
                    .insert("team".to_owned(), "unassigned".to_owned());
            }
            Kind::Drifted(_) => {
                group.custom.insert("legacy".to_owned(), "1".to_owned());
            }
            Kind::NewOwner => {
                group.owner = Some("previous-owner".to_owned());
                group.members.push(member(&desired.owner));
            }
        }
        Some(group)
    }
}

/// The owner of the groups under the prune prefix.
const PRUNE_OWNER: &str = "user00000";

fn prune_seed(id: String) -> SeedGroup {
    let mut group = SeedGroup::new(&id, GroupType::Public, &format!("Group {id}"));
    group.owner = Some(PRUNE_OWNER.to_owned());
    group
}

fn member(account: &str) -> SeedMember {
    SeedMember {
        account: account.to_owned(),
        role: timctl::emulator::Role::Member,
        join_time: None,
    }
}

/// One group's people in the members scenario.
struct People {
    /// The live members besides the owner.
    live: Vec<SeedMember>,
    /// `(admins, members)` as declared in sync and drifted.
    in_sync: (Vec<String>, Vec<String>),
    drifted: (Vec<String>, Vec<String>),
    /// The accounts the drifted manifests add: not members anywhere, imported in the app.
    imported: Vec<String>,
}

/// Group `i` as its manifest declares it.
struct Declared {
    id: String,
    name: String,
    owner: String,
    introduction: String,
    notification: String,
    custom: BTreeMap<String, String>,
}

impl Declared {
    fn of(i: usize) -> Declared {
        Declared {
            id: format!("bench-{i:07}"),
            name: format!("Group {i}"),
            owner: format!("user{:05}", i % 50_000),
            introduction: format!("Benchmark group {i}, managed by timctl."),
            notification: "Be kind.".to_owned(),
            custom: BTreeMap::from([
                ("team".to_owned(), format!("t{}", i % 97)),
                (
                    "tier".to_owned(),
                    if i.is_multiple_of(3) {
                        "gold"
                    } else {
                        "silver"
                    }
                    .to_owned(),
                ),
            ]),
        }
    }
}

fn manifest_entry(text: &mut String, i: usize, kind: Kind, muted: bool) {
    let d = Declared::of(i);
    if kind == Kind::Absent {
        let _ = write!(text, "  - id: {}\n    ensure: absent\n", d.id);
        return;
    }
    let _ = write!(
        text,
        "  - id: {}\n    name: {}\n    owner: {}\n    introduction: {}\n    notification: {}\n    custom:\n",
        d.id, d.name, d.owner, d.introduction, d.notification
    );
    for (key, value) in &d.custom {
        let _ = writeln!(text, "      {key}: {value}");
    }
    if kind == Kind::New && muted {
        text.push_str("    mute_all: true\n");
    }
}

/// A well-mixed 64-bit hash (SplitMix64's finalizer).
fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
