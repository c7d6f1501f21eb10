//! `timctl export`.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Context;

use super::{count, print};
use crate::cli::ExportArgs;
use crate::export::{self, ExportFilter};
use crate::live::{self, Connection};
use crate::settings::{ProcessEnv, Settings};

/// `timctl export`: writes manifests for the groups that exist live.
pub async fn run(args: ExportArgs) -> anyhow::Result<ExitCode> {
    let settings = Settings::resolve(&args.connection.flags(), &ProcessEnv)?;
    let connection = Connection::open(&settings).await?;
    let filter = ExportFilter {
        id_prefixes: args.id_prefixes.clone(),
        group_type: args.group_type,
    };
    let ids: Vec<_> = connection
        .client
        .list_group_ids(filter.group_type)
        .await?
        .into_iter()
        .filter(|id| filter.matches(id.as_str()))
        .collect();
    let shown = std::io::stderr().is_terminal().then_some("read");
    let mut actual = live::read_groups(&connection.client, &ids, shown).await?;
    let options = export::Options {
        form: if args.minimal {
            export::Form::Minimal
        } else {
            export::Form::Full
        },
        members: args.members,
    };
    let lists = export::member_lists(&actual, options);
    if !lists.is_empty() {
        for (id, members) in connection.client.read_members(&lists).await? {
            if let Some(live) = actual.groups.get_mut(&id) {
                live.members = Some(members);
            }
        }
    }
    let over_full = export::over_full(&actual, options);
    if !over_full.is_empty() {
        let shown: Vec<String> = over_full.iter().map(|id| format!("{id:?}")).collect();
        eprintln!(
            "warning: left max_members out for {} with more people than it allows, which a \
             manifest cannot say (max_members is then unmanaged): {}",
            count(over_full.len(), "group"),
            shown.join(", ")
        );
    }
    match &args.out {
        Some(dir) => {
            let written = export::write_dir(&actual, dir, &filter, options, args.force)
                .with_context(|| format!("cannot export to {}", dir.display()))?;
            eprintln!(
                "Exported {} to {}",
                count(written.files.len(), "group"),
                dir.display()
            );
            if !written.removed.is_empty() {
                eprintln!(
                    "Removed {} of groups that no longer exist: {}",
                    count(written.removed.len(), "file"),
                    shown_paths(&written.removed)
                );
            }
            if !written.left.is_empty() {
                eprintln!(
                    "warning: left {} an earlier export wrote for groups that no longer exist \
                     (or are now in another file); pass --force to remove them: {}",
                    count(written.left.len(), "file"),
                    shown_paths(&written.left)
                );
            }
        }
        None => print(&export::render(&actual, options))?,
    }
    connection.close().await;
    Ok(ExitCode::SUCCESS)
}

fn shown_paths(paths: &[std::path::PathBuf]) -> String {
    let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    shown.join(", ")
}
