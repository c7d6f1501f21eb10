//! Reaching the service and reading the live state a plan needs.
//!
//! A [`Connection`] is a client for the configured target; with no sdkappid configured it is a
//! client for the built-in emulator, started in this process on a loopback port with its state
//! in `.timctl/emulator.json`. [`read_actual`] fetches everything the pure planner needs, and
//! nothing more, before planning starts: the declared groups, the undeclared ones under prune
//! prefixes, the member lists of groups whose manifest writes `admins` or `members`, and the roles
//! of new owners (the transfer precondition; taken from the member list when one was read).
//!
//! Long reads show a progress bar on stderr when the caller asks (on a terminal); the applier
//! draws its phases' bars with the same `progress_bar`.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Context;

use crate::api::{ApiError, Client, ClientConfig, Credentials, Endpoint};
use crate::emulator::{self, Emulator};
use crate::model::{
    Actual, ActualGroup, CompactString, Desired, DesiredGroup, Ensure, GroupId, GroupType, Pair,
    Role, side_by_side,
};
use crate::plan::{PlanOptions, PlanTarget};
use crate::settings::{Settings, Target};

/// A client, and the embedded emulator it talks to when there is one.
pub struct Connection {
    pub client: Client,
    pub sdkappid: u64,
    /// What plans made over this connection name as their target.
    pub target: PlanTarget,
    embedded: Option<Emulator>,
}

/// The key saved plans are sealed with: the app's secret key when the settings hold one (the
/// built-in emulator's own key for it), `None` with only a UserSig.
pub fn seal_key(settings: &Settings) -> Option<String> {
    match &settings.target {
        Target::Remote {
            credentials: Credentials::SecretKey(key),
            ..
        } => Some(key.clone()),
        Target::Remote { .. } => None,
        Target::Embedded { .. } => Some(emulator::Config::dev().secret_key),
    }
}

impl Connection {
    pub async fn open(settings: &Settings) -> anyhow::Result<Connection> {
        let connection = match Connection::prepare(settings) {
            Some(remote) => remote?,
            None => Connection::embedded(settings).await?,
        };
        announce_reads(settings);
        Ok(connection)
    }

    /// The connection to a remote target, made without writing anything or reaching the
    /// network (the HTTP client, its TLS roots, the signer), so that it can be made while the
    /// manifests load; `None` for the built-in emulator, which [`Connection::open`] starts
    /// only once they are valid (it takes its state's lock and may make its directory).
    pub fn prepare(settings: &Settings) -> Option<anyhow::Result<Connection>> {
        let Target::Remote {
            endpoint,
            sdkappid,
            admin,
            credentials,
        } = &settings.target
        else {
            return None;
        };
        let connection = client(
            endpoint.clone(),
            *sdkappid,
            admin,
            credentials.clone(),
            settings,
        )
        .map(|client| Connection {
            client,
            sdkappid: *sdkappid,
            target: PlanTarget {
                sdkappid: *sdkappid,
                endpoint: endpoint.to_string(),
                builtin_emulator: false,
                region: endpoint.region().map(|r| r.as_str().to_owned()),
                url: Some(endpoint.base_url()),
            },
            embedded: None,
        });
        Some(connection)
    }

    /// Starts the built-in emulator and connects to it.
    async fn embedded(settings: &Settings) -> anyhow::Result<Connection> {
        let Target::Embedded { state } = &settings.target else {
            anyhow::bail!("the settings name a remote target, not the built-in emulator");
        };
        if let Some(dir) = state.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        // The demo has no console: it imports owners and members on first use (each
        // logged) and accepts any well-formed custom key (still at most 10 a group).
        let config = emulator::Config {
            state: Some(state.clone()),
            custom_keys: emulator::CustomKeys::Any,
            auto_import_accounts: true,
            // Another timctl in this directory (a plan while an apply runs) holds the
            // state; wait a while for it to finish, then refuse.
            lock_wait: std::time::Duration::from_secs(10),
            ..emulator::Config::dev()
        };
        let sdkappid = config.sdkappid;
        let admin = config.admins[0].clone();
        let key = config.secret_key.clone();
        let emulator = Emulator::start(config, "127.0.0.1:0")
            .await
            .context("cannot start the built-in emulator")?;
        eprintln!(
            "timctl: no sdkappid configured: using the built-in emulator (state in {})",
            state.display()
        );
        let endpoint = Endpoint::url(&emulator.base_url())
            .context("the built-in emulator's address is not a URL")?;
        let client = client(
            endpoint,
            sdkappid,
            &admin,
            Credentials::SecretKey(key),
            settings,
        )?;
        Ok(Connection {
            client,
            sdkappid,
            target: PlanTarget {
                sdkappid,
                endpoint: format!("state in {}", state.display()),
                builtin_emulator: true,
                region: None,
                url: None,
            },
            embedded: Some(emulator),
        })
    }

    /// Stops the embedded emulator, if any, after its last write is durable.
    pub async fn close(self) {
        if let Some(emulator) = self.embedded
            && let Err(error) = emulator.shutdown().await
        {
            tracing::warn!(%error, "the built-in emulator did not shut down cleanly");
        }
    }
}

/// Says in `-v` output why reads are slower when the app's custom keys are not declared.
pub fn announce_reads(settings: &Settings) {
    if settings.limits.configured_keys.is_none() {
        tracing::info!(
            "get_group_info is read without a ResponseFilter, so every answer carries the groups' member lists and grows with them: declare the app's group custom fields (timctl.yaml custom_fields) to read only the fields timctl compares"
        );
    }
}

fn client(
    endpoint: Endpoint,
    sdkappid: u64,
    admin: &str,
    credentials: Credentials,
    settings: &Settings,
) -> anyhow::Result<Client> {
    let custom_keys = settings
        .limits
        .configured_keys
        .as_ref()
        .map(|keys| keys.iter().cloned().collect::<Vec<_>>());
    Ok(Client::new(ClientConfig {
        rate: settings.rate,
        timeout: settings.timeout,
        custom_keys,
        ..ClientConfig::new(endpoint, sdkappid, admin.to_owned(), credentials)
    })?)
}

/// Reads what the planner needs: every declared group in scope, every undeclared group under a
/// prune prefix, and for each group whose owner would change, the new owner's role. Owners that
/// `baseline` declares are asked about too, so that the baseline plan meets the same
/// preconditions. With `progress`, a bar on stderr counts the groups read.
pub async fn read_actual(
    client: &Client,
    desired: &Desired,
    baseline: Option<&Desired>,
    options: &PlanOptions,
    progress: bool,
) -> Result<Actual, ApiError> {
    let mut ids: BTreeSet<GroupId> = options.scoped(desired).map(|(id, _)| id.clone()).collect();
    if !desired.prune_prefixes.is_empty() && options.lists_app() {
        let listed = client.list_group_ids(None).await?;
        ids.extend(
            listed
                .into_iter()
                .filter(|id| options.in_scope(id) && desired.prunes(id)),
        );
    }
    if let Some(only) = options.only.as_ref().filter(|_| !options.lists_app()) {
        // Prune from history, or from an event: an undeclared group the run is limited to
        // (removed from the baseline, or named by a callback) is read by id when it is under a
        // prune prefix; the planner destroys it.
        ids.extend(
            only.ids
                .iter()
                .filter(|id| {
                    options.in_scope(id) && !desired.groups.contains_key(*id) && desired.prunes(id)
                })
                .cloned(),
        );
    }
    let ids: Vec<GroupId> = ids.into_iter().collect();
    let mut actual = read_groups(client, &ids, progress.then_some("read")).await?;
    read_members(client, desired, baseline, options, &mut actual).await?;

    let mut wanted: BTreeMap<GroupId, BTreeSet<String>> = BTreeMap::new();
    // Identity pre-flight: every account a change would make an owner must be imported.
    // Found in the same walk of the manifests as the roles (neither needs the other).
    let mut accounts = BTreeSet::new();
    // Only groups read live can need a role, and every group read is in scope.
    for (index, manifests) in std::iter::once(desired).chain(baseline).enumerate() {
        for pair in side_by_side(options.scoped(manifests), actual.groups.iter_mut()) {
            let (id, declared, live) = match pair {
                Pair::Left(_, declared) if index == 0 => {
                    relied_on(declared, None, options, &mut accounts);
                    continue;
                }
                Pair::Both(id, declared, live) => (id, declared, live),
                _ => continue,
            };
            if index == 0 {
                relied_on(declared, Some(&**live), options, &mut accounts);
            }
            let Some(owner) = declared.group.owner.as_ref() else {
                continue;
            };
            if live.group.owner.as_ref() == Some(owner) {
                continue;
            }
            // A member list already read answers the new owner's role: no second read.
            if let Some(members) = &live.members {
                let role = members.get(owner).copied().unwrap_or(Role::NotMember);
                live.roles.insert(owner.to_string(), role);
                continue;
            }
            wanted
                .entry(id.clone())
                .or_default()
                .insert(owner.to_string());
        }
    }
    for (id, roles) in client.read_roles(&wanted).await? {
        if let Some(live) = actual.groups.get_mut(&id) {
            live.roles.extend(roles);
        }
    }
    if !accounts.is_empty() {
        actual.accounts = client.check_accounts(&accounts).await?;
    }
    Ok(actual)
}

/// Reads the member list of every live group in scope whose manifest (or baseline) writes
/// `admins` or `members` (and is to be kept: not `ensure: absent`), once, into
/// [`ActualGroup::members`]. An AVChatRoom keeps no member
/// list and is not asked (the planner refuses people on one).
///
/// [`ActualGroup::members`]: crate::model::ActualGroup::members
async fn read_members(
    client: &Client,
    desired: &Desired,
    baseline: Option<&Desired>,
    options: &PlanOptions,
    actual: &mut Actual,
) -> Result<(), ApiError> {
    let managed: BTreeSet<GroupId> = std::iter::once(desired)
        .chain(baseline)
        .flat_map(|manifests| options.scoped(manifests))
        .filter(|(_, declared)| declared.ensure == Ensure::Present && declared.people.managed())
        .map(|(id, _)| id.clone())
        .collect();
    let ids: Vec<GroupId> = managed.into_iter().collect();
    for (id, members) in member_lists(client, actual, &ids).await? {
        if let Some(live) = actual.groups.get_mut(&id) {
            live.members = Some(members);
        }
    }
    Ok(())
}

/// Every member and its role for each of `ids` that exists in `actual` and keeps a member
/// list (not an AVChatRoom), read once each.
pub(crate) async fn member_lists(
    client: &Client,
    actual: &Actual,
    ids: &[GroupId],
) -> Result<BTreeMap<GroupId, BTreeMap<CompactString, Role>>, ApiError> {
    let groups: Vec<(GroupId, GroupType)> = ids
        .iter()
        .filter_map(|id| {
            let kind = actual.groups.get(id)?.group.group_type?;
            (kind != GroupType::AVChatRoom).then(|| (id.clone(), kind))
        })
        .collect();
    if groups.is_empty() {
        return Ok(BTreeMap::new());
    }
    client.read_members(&groups).await
}

/// Adds the accounts a declared group (read `live`) relies on: the owner of a group to create
/// (or re-create, the live owner carried over when the manifest leaves owner unmanaged), the
/// new owner of a transfer, and every declared admin or member who is not a member yet.
fn relied_on(
    declared: &DesiredGroup,
    live: Option<&ActualGroup>,
    options: &PlanOptions,
    accounts: &mut BTreeSet<String>,
) {
    if declared.ensure != Ensure::Present {
        return;
    }
    accounts.extend(owner_relied_on(declared, live, options));
    let members = live.and_then(|live| live.members.as_ref());
    let people = &declared.people;
    for account in [&people.admins, &people.members]
        .into_iter()
        .flatten()
        .flatten()
    {
        if members.is_none_or(|members| !members.contains_key(account.as_str())) {
            accounts.insert(account.to_string());
        }
    }
}

/// The account a present declared group would make its owner, given the `live` group.
fn owner_relied_on(
    declared: &DesiredGroup,
    live: Option<&ActualGroup>,
    options: &PlanOptions,
) -> Option<String> {
    let Some(owner) = declared.group.owner.as_ref() else {
        // A replace carries the live owner of a group whose owner is unmanaged.
        let live = live?;
        let replaced = options.allow_replace
            && declared
                .group
                .group_type
                .is_some_and(|t| Some(t) != live.group.group_type);
        return live
            .group
            .owner
            .as_ref()
            .filter(|owner| replaced && !owner.is_empty())
            .map(|owner| owner.to_string());
    };
    let relied = match live {
        None => true,
        Some(live) => {
            live.group.owner.as_ref() != Some(owner)
                || declared
                    .group
                    .group_type
                    .is_some_and(|t| Some(t) != live.group.group_type)
        }
    };
    relied.then(|| owner.to_string())
}

/// Reads `ids`, with a progress bar on stderr labelled `shown` when it is given.
pub(crate) async fn read_groups(
    client: &Client,
    ids: &[GroupId],
    shown: Option<&'static str>,
) -> Result<Actual, ApiError> {
    let bar = shown.and_then(|label| progress_bar(true, label, ids.len()));
    let read = client
        .read_groups_with_progress(ids, |answered| {
            if let Some(bar) = &bar {
                bar.inc(answered as u64);
            }
        })
        .await;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    read
}

/// A bar on stderr counting `len` steps, labelled `prefix`; `None` when not `enabled` (stderr
/// is not a terminal) or there is nothing to count.
pub(crate) fn progress_bar(
    enabled: bool,
    prefix: &'static str,
    len: usize,
) -> Option<indicatif::ProgressBar> {
    if !enabled || len == 0 {
        return None;
    }
    let bar = indicatif::ProgressBar::new(len as u64);
    let style =
        indicatif::ProgressStyle::with_template("{prefix:>9} [{bar:30}] {pos}/{len} {elapsed}")
            .map(|s| s.progress_chars("=> "))
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_prefix(prefix);
    Some(bar)
}
