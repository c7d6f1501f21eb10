//! The credential every request carries in its query string, and its renewal.
//!
//! With the app's secret key, the client signs its own UserSig (HMAC-SHA256 v2, see
//! [`crate::usersig`]) for the admin account, valid for [`SIGN_VALIDITY`], and signs a fresh one
//! once the current one is older than [`RENEW_AFTER`], so a request never carries a signature
//! close to expiry, however long the run. A UserSig given by the user is used as is.
//!
//! Guarantees: neither the key nor a UserSig is ever shown by `Debug` or any message here; the
//! types that hold them print `<redacted>`. The signer's [`Redactor`] knows the key and every
//! UserSig the signer has handed out before it is sent, so text a server echoes can be cleaned.

use std::fmt;
use std::sync::{Arc, Mutex};

use crate::usersig;

use super::redact::Redactor;

/// Validity of the UserSigs the client signs (the docs advise at least 24 h).
pub const SIGN_VALIDITY: u64 = 24 * 3600;
/// Age after which a signed UserSig is replaced: half its validity, so clock skew between us
/// and the service up to 12 h cannot make it expire in flight.
pub const RENEW_AFTER: u64 = 12 * 3600;

/// What the client authenticates with.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// The app's secret key from the console; the client signs its own UserSigs.
    SecretKey(String),
    /// A UserSig made elsewhere for the admin account; used until it expires (then the service
    /// answers 70001).
    UserSig(String),
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::SecretKey(_) => f.write_str("SecretKey(<redacted>)"),
            Credentials::UserSig(_) => f.write_str("UserSig(<redacted>)"),
        }
    }
}

/// A UserSig ready to put in a query string. Cheap to clone; prints `<redacted>`.
#[derive(Clone, PartialEq, Eq)]
pub struct UserSig(Arc<str>);

impl UserSig {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for UserSig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UserSig(<redacted>)")
    }
}

/// Hands out the UserSig for each request, signing a new one when the cached one is old.
pub struct Signer {
    credentials: Credentials,
    sdkappid: u64,
    admin: String,
    /// `(signed at, usersig)` of the last signature made from a secret key.
    cache: Mutex<Option<(u64, UserSig)>>,
    redactor: Redactor,
}

impl Signer {
    pub fn new(credentials: Credentials, sdkappid: u64, admin: String) -> Signer {
        Signer {
            redactor: Redactor::new(&credentials),
            credentials,
            sdkappid,
            admin,
            cache: Mutex::new(None),
        }
    }

    /// Knows the key and every UserSig this signer has handed out.
    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    /// The UserSig to send now.
    pub fn usersig(&self) -> UserSig {
        self.usersig_at(usersig::unix_now())
    }

    /// The UserSig to send at Unix time `now`: the cached one unless it is [`RENEW_AFTER`] old
    /// (or the clock went back past its signing time).
    pub fn usersig_at(&self, now: u64) -> UserSig {
        let key = match &self.credentials {
            Credentials::UserSig(sig) => return UserSig(Arc::from(sig.as_str())),
            Credentials::SecretKey(key) => key,
        };
        let mut cache = self
            .cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match &*cache {
            Some((signed_at, sig)) if *signed_at <= now && now - signed_at < RENEW_AFTER => {
                sig.clone()
            }
            _ => {
                let sig = UserSig(Arc::from(usersig::sign(
                    key,
                    self.sdkappid,
                    &self.admin,
                    now,
                    SIGN_VALIDITY,
                )));
                self.redactor.remember_usersig(sig.expose());
                tracing::debug!(
                    signed_at = now,
                    validity_secs = SIGN_VALIDITY,
                    "signed a UserSig"
                );
                *cache = Some((now, sig.clone()));
                sig
            }
        }
    }
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("credentials", &self.credentials)
            .field("sdkappid", &self.sdkappid)
            .field("admin", &self.admin)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e";
    const APP: u64 = 1_400_000_000;
    const T0: u64 = 1_700_000_000;

    fn signer() -> Signer {
        Signer::new(
            Credentials::SecretKey(KEY.to_owned()),
            APP,
            "administrator".to_owned(),
        )
    }

    #[test]
    fn signed_usersig_verifies_for_the_admin_with_a_day_of_validity() {
        let sig = signer().usersig_at(T0);
        let doc = usersig::verify(KEY, APP, "administrator", sig.expose(), T0).unwrap();
        assert_eq!((doc.time, doc.expire), (T0, SIGN_VALIDITY));
    }

    #[test]
    fn usersig_is_reused_until_half_its_validity_then_renewed() {
        let signer = signer();
        let first = signer.usersig_at(T0);
        assert_eq!(signer.usersig_at(T0 + RENEW_AFTER - 1), first);
        let renewed = signer.usersig_at(T0 + RENEW_AFTER);
        assert_ne!(renewed, first);
        let doc = usersig::decode(renewed.expose()).unwrap();
        assert_eq!(doc.time, T0 + RENEW_AFTER);
        // Whatever moment a request is made, what it carries is valid for at least 12 more hours.
        for now in [
            T0 + RENEW_AFTER,
            T0 + 2 * RENEW_AFTER - 1,
            T0 + 3 * RENEW_AFTER,
        ] {
            let doc = usersig::decode(signer.usersig_at(now).expose()).unwrap();
            assert!(doc.expires_at() >= now + SIGN_VALIDITY - RENEW_AFTER);
        }
    }

    #[test]
    fn clock_going_back_re_signs() {
        let signer = signer();
        let first = signer.usersig_at(T0);
        let doc = usersig::decode(signer.usersig_at(T0 - 10).expose()).unwrap();
        assert_ne!(doc.time, usersig::decode(first.expose()).unwrap().time);
        assert_eq!(doc.time, T0 - 10);
    }

    #[test]
    fn a_given_usersig_is_used_as_is() {
        let signer = Signer::new(
            Credentials::UserSig("given-sig".to_owned()),
            APP,
            "administrator".to_owned(),
        );
        assert_eq!(signer.usersig_at(T0).expose(), "given-sig");
        assert_eq!(
            signer.usersig_at(T0 + 10 * RENEW_AFTER).expose(),
            "given-sig"
        );
    }

    #[test]
    fn debug_never_shows_secrets() {
        let signer = signer();
        let sig = signer.usersig_at(T0);
        let text = format!(
            "{:?} {:?} {:?} {signer:?}",
            Credentials::SecretKey(KEY.to_owned()),
            Credentials::UserSig("given-sig".to_owned()),
            sig,
        );
        assert!(!text.contains(KEY) && !text.contains("given-sig") && !text.contains(sig.expose()));
        assert!(text.contains("<redacted>"));
    }

    #[test]
    fn every_usersig_handed_out_is_known_to_the_redactor_first() {
        let signer = signer();
        let first = signer.usersig_at(T0);
        let renewed = signer.usersig_at(T0 + RENEW_AFTER);
        let text = format!("{} {} {KEY}", first.expose(), renewed.expose());
        assert_eq!(
            signer.redactor().text(&text).as_str(),
            "<redacted> <redacted> <redacted>"
        );
        let given = Signer::new(
            Credentials::UserSig("given-usersig".to_owned()),
            APP,
            "administrator".to_owned(),
        );
        assert_eq!(
            given.redactor().text("given-usersig").as_str(),
            "<redacted>"
        );
    }
}
