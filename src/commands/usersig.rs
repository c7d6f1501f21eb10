//! `timctl usersig`.

use std::process::ExitCode;

use anyhow::bail;

use super::print;
use crate::cli::UsersigArgs;
use crate::settings::{ProcessEnv, Settings};

/// Prints a UserSig signed with the configured secret key, for the configured app and admin
/// (the same settings, from the same sources, as every other command). The key is never
/// printed; a UserSig-only configuration has nothing to sign with and says so.
pub fn run(args: &UsersigArgs) -> anyhow::Result<ExitCode> {
    let settings = Settings::resolve(&args.connection.flags(), &ProcessEnv)?;
    let (sdkappid, admin, key) = match &settings.target {
        crate::settings::Target::Remote {
            sdkappid,
            admin,
            credentials,
            ..
        } => match credentials {
            crate::api::Credentials::SecretKey(key) => (*sdkappid, admin.clone(), key.clone()),
            crate::api::Credentials::UserSig(_) => bail!(
                "cannot sign a UserSig: only a UserSig is configured (TIM_USERSIG or usersig in the settings file), not the app's secret key; give --secret-key-file or TIM_SECRET_KEY"
            ),
        },
        crate::settings::Target::Embedded { .. } => {
            eprintln!(
                "timctl: no sdkappid configured: signing for the built-in emulator (SDKAppID {}, its public development key)",
                crate::emulator::DEV_SDKAPPID
            );
            (
                crate::emulator::DEV_SDKAPPID,
                crate::emulator::DEV_ADMIN.to_owned(),
                crate::emulator::DEV_SECRET_KEY.to_owned(),
            )
        }
    };
    let identifier = args.identifier.clone().unwrap_or(admin);
    let now = crate::usersig::unix_now();
    print(&crate::usersig::sign(
        key.trim(),
        sdkappid,
        &identifier,
        now,
        args.expire.as_secs(),
    ))?;
    Ok(ExitCode::SUCCESS)
}
