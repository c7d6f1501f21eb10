//! The benchmark's world: N declared groups, most of them already live and in sync, some
//! drifted, a few new, a few changing owner and a few to destroy — written as manifests (what a
//! repository holds) and as emulator seeds (what the app holds).
//!
//! Which group is which is a pure function of its index, so a run is reproducible and the
//! expected plan is known before planning.

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
    /// Members of each live group besides its owner.
    pub members: usize,
}

/// How many groups of each kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Expected {
    pub creates: usize,
    pub updates: usize,
    pub transfers: usize,
    pub destroys: usize,
}

impl Scenario {
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
        }
        expected
    }

    /// Writes the manifests into `dir`; returns how many files.
    pub fn write_manifests(&self, dir: &Path) -> io::Result<usize> {
        let mut files = 0;
        for (file, start) in (0..self.groups).step_by(GROUPS_PER_FILE).enumerate() {
            let mut text = String::from("defaults:\n  type: Public\ngroups:\n");
            for i in start..(start + GROUPS_PER_FILE).min(self.groups) {
                manifest_entry(&mut text, i, self.kind(i), self.muted(i));
            }
            std::fs::write(dir.join(format!("groups-{file:04}.yaml")), text)?;
            files += 1;
        }
        Ok(files)
    }

    /// The owners of the groups to create: accounts the app must have imported (the seeded
    /// groups bring their own people).
    pub fn new_owners(&self) -> Vec<String> {
        (0..self.groups)
            .filter(|&i| self.kind(i) == Kind::New)
            .map(|i| Declared::of(i).owner)
            .collect()
    }

    /// The live groups, `chunk` at a time (seeding all at once would double peak memory).
    pub fn seeds(&self, chunk: usize) -> impl Iterator<Item = Vec<SeedGroup>> + '_ {
        (0..self.groups).step_by(chunk).map(move |start| {
            (start..(start + chunk).min(self.groups))
                .filter_map(|i| self.seed(i))
                .collect()
        })
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
        group.members = (0..self.members)
            .map(|m| member(&format!("member{:05}", (i * 7 + m) % 100_000)))
            .collect();
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

fn member(account: &str) -> SeedMember {
    SeedMember {
        account: account.to_owned(),
        role: timctl::emulator::Role::Member,
        join_time: None,
    }
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
