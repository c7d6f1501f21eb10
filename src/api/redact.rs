//! Scrubbing secrets out of text the client did not write.
//!
//! The request URL carries the UserSig in its query, and nothing stops a server, a proxy or a
//! broken gateway from echoing that URL back: in `ErrorInfo`, in a field the client cannot
//! parse, in a body that is not JSON (whose decode error quotes it). Such text ends up in error
//! messages, apply summaries and `tracing` lines. So every string that comes from the server or
//! the transport passes through a [`Redactor`] where the [`ApiError`](super::ApiError) holding
//! it is built, and the error types only accept it as [`Redacted`]: text that did not go through
//! the redactor does not compile into an error.
//!
//! The redactor knows every secret the client has: the secret key, and every UserSig the
//! [`Signer`](super::credentials::Signer) has handed out (or the one the user gave), raw, in
//! the percent-encodings a server might echo it in, and the `TLS.sig` HMAC inside it. Each is
//! replaced with `<redacted>`, as is the value of any `usersig=` parameter, whatever it holds.
//!
//! Cost: a few substring searches per error, nothing per successful call; a UserSig is
//! remembered once when it is signed (every 12 hours).
//!
//! Not covered: group data the service returns on success (names, ids, custom values) is data
//! and is shown as it is.

use std::error::Error;
use std::fmt;
use std::sync::RwLock;

use super::credentials::Credentials;
use crate::usersig;

/// What a secret is replaced with.
pub const REDACTED: &str = "<redacted>";

/// Secrets shorter than this are not searched for: they would blank out ordinary words, and
/// no real key or UserSig is that short.
const MIN_SECRET_LEN: usize = 8;

/// Replaces the client's secrets in text from the server or the transport.
#[derive(Default)]
pub struct Redactor {
    /// Every form of every secret, longest first.
    secrets: RwLock<Vec<String>>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Redactor(<redacted>)")
    }
}

impl Redactor {
    /// A redactor that knows the key or the given UserSig of `credentials`.
    pub fn new(credentials: &Credentials) -> Redactor {
        let redactor = Redactor::default();
        match credentials {
            Credentials::SecretKey(key) => redactor.remember(key),
            Credentials::UserSig(sig) => redactor.remember_usersig(sig),
        }
        redactor
    }

    /// Remembers a UserSig about to be sent, and the HMAC inside it.
    pub fn remember_usersig(&self, usersig: &str) {
        self.remember(usersig);
        if let Ok(doc) = usersig::decode(usersig) {
            self.remember(&doc.sig);
        }
    }

    /// Remembers one secret in every form it may be echoed in.
    fn remember(&self, secret: &str) {
        if secret.len() < MIN_SECRET_LEN {
            return;
        }
        let mut secrets = self
            .secrets
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for form in forms(secret) {
            if !secrets.contains(&form) {
                secrets.push(form);
            }
        }
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }

    /// `text` with every known secret and every `usersig=` value replaced by `<redacted>`.
    pub fn text(&self, text: &str) -> Redacted {
        let mut out = redact_usersig_params(text);
        let secrets = self
            .secrets
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for secret in secrets.iter() {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), REDACTED);
            }
        }
        Redacted(out)
    }

    /// `error` and its causes, each message redacted, as an error chain of its own.
    pub fn cause(&self, error: &dyn Error) -> Cause {
        let mut messages = Vec::new();
        let mut next = Some(error);
        while let Some(error) = next {
            messages.push(self.text(&error.to_string()));
            next = error.source();
        }
        let mut cause = None;
        for message in messages.into_iter().rev() {
            cause = Some(Cause {
                message,
                source: cause.map(Box::new),
            });
        }
        cause.expect("the chain holds at least the error itself")
    }
}

/// The forms a secret can take in echoed text: raw, and percent-encoded the ways URL encoders
/// do it (form encoding keeps `*-._`, RFC 3986 keeps `-._~`, some encode every symbol), with
/// upper- and lower-case hex digits.
fn forms(secret: &str) -> Vec<String> {
    let mut forms = vec![secret.to_owned()];
    let keeps: [&[u8]; 3] = [b"*-._", b"-._~", b""];
    for keep in keeps {
        for upper in [true, false] {
            let form = percent_encode(secret, keep, upper);
            if !forms.contains(&form) {
                forms.push(form);
            }
        }
    }
    forms
}

fn percent_encode(text: &str, keep: &[u8], upper: bool) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || keep.contains(&byte) {
            out.push(byte as char);
        } else if upper {
            out.push_str(&format!("%{byte:02X}"));
        } else {
            out.push_str(&format!("%{byte:02x}"));
        }
    }
    out
}

/// Replaces the value of every `usersig=` (any case) up to `&`, whitespace, a quote or the end.
fn redact_usersig_params(text: &str) -> String {
    const PARAM: &str = "usersig=";
    let lower = text.to_ascii_lowercase();
    if !lower.contains(PARAM) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = 0;
    for (at, _) in lower.match_indices(PARAM) {
        if at < rest {
            continue;
        }
        let value_start = at + PARAM.len();
        let value_len = text[value_start..]
            .find(|c: char| c == '&' || c == '"' || c == '\'' || c.is_whitespace())
            .unwrap_or(text.len() - value_start);
        out.push_str(&text[rest..value_start]);
        if value_len > 0 {
            out.push_str(REDACTED);
        }
        rest = value_start + value_len;
    }
    out.push_str(&text[rest..]);
    out
}

/// Text from the server or the transport that went through a [`Redactor`], or text the client
/// wrote itself ([`Redacted::from`] a `&'static str`).
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Redacted(String);

impl Redacted {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A literal is the client's own text, so it holds no secret.
impl From<&'static str> for Redacted {
    fn from(text: &'static str) -> Redacted {
        Redacted(text.to_owned())
    }
}

impl fmt::Display for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

/// An error chain from a library (reqwest, serde_json), captured as redacted messages, so that
/// neither its `Display` nor its `Debug` can show what a server sent.
#[derive(Debug)]
pub struct Cause {
    message: Redacted,
    source: Option<Box<Cause>>,
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message.as_str())
    }
}

impl Error for Cause {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.source
            .as_deref()
            .map(|cause| cause as &(dyn Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e";

    fn with_sig() -> (Redactor, String) {
        let redactor = Redactor::new(&Credentials::SecretKey(KEY.to_owned()));
        let sig = usersig::sign(KEY, 1_400_000_000, "administrator", 1_700_000_000, 86_400);
        redactor.remember_usersig(&sig);
        (redactor, sig)
    }

    fn clean(redactor: &Redactor, text: &str) -> String {
        redactor.text(text).as_str().to_owned()
    }

    #[test]
    fn an_ordinary_message_is_unchanged() {
        let (redactor, _) = with_sig();
        for text in [
            "",
            "group not exist",
            "Name too long: 31 bytes, usersig is fine",
            "a*b-c_d 100% sure",
        ] {
            assert_eq!(clean(&redactor, text), text);
        }
    }

    #[test]
    fn the_raw_usersig_and_the_key_are_replaced_anywhere() {
        let (redactor, sig) = with_sig();
        assert!(sig.contains('*') || sig.contains('-') || sig.contains('_'));
        assert_eq!(
            clean(&redactor, &format!("sig {sig}, key {KEY}.")),
            "sig <redacted>, key <redacted>."
        );
        assert_eq!(
            clean(&redactor, &format!("{sig}{sig}")),
            "<redacted><redacted>"
        );
    }

    #[test]
    fn percent_encoded_usersigs_are_replaced() {
        let (redactor, sig) = with_sig();
        for (keep, upper) in [(&b""[..], true), (b"", false), (b"-._~", true)] {
            let encoded = percent_encode(&sig, keep, upper);
            assert_ne!(encoded, sig);
            assert_eq!(clean(&redactor, &format!("[{encoded}]")), "[<redacted>]");
        }
        assert!(percent_encode("a*b", b"", true) == "a%2Ab");
    }

    #[test]
    fn the_hmac_inside_the_usersig_is_replaced() {
        let (redactor, sig) = with_sig();
        let hmac = usersig::decode(&sig).unwrap().sig;
        assert!(hmac.contains('+') || hmac.contains('/') || hmac.ends_with('='));
        assert_eq!(clean(&redactor, &format!("sig={hmac}")), "sig=<redacted>");
        let encoded = percent_encode(&hmac, b"*-._", true);
        assert_eq!(clean(&redactor, &format!("({encoded})")), "(<redacted>)");
    }

    #[test]
    fn any_usersig_parameter_is_replaced_wherever_it_stands() {
        let redactor = Redactor::default();
        let cases = [
            ("usersig=abc", "usersig=<redacted>"),
            ("/x?a=1&usersig=abc&b=2", "/x?a=1&usersig=<redacted>&b=2"),
            (
                "GET /x?UserSig=abc HTTP/1.1",
                "GET /x?UserSig=<redacted> HTTP/1.1",
            ),
            ("{\"u\":\"USERSIG=abc\"}", "{\"u\":\"USERSIG=<redacted>\"}"),
            (
                "'usersig=abc' and usersig=def",
                "'usersig=<redacted>' and usersig=<redacted>",
            ),
            ("usersig=&x", "usersig=&x"),
            ("usersig=usersig=abc", "usersig=<redacted>"),
            ("ünïcode usersig=ä€ end", "ünïcode usersig=<redacted> end"),
        ];
        for (text, expected) in cases {
            assert_eq!(clean(&redactor, text), expected, "{text}");
        }
    }

    #[test]
    fn a_given_usersig_is_known_from_the_start() {
        let redactor = Redactor::new(&Credentials::UserSig("given-usersig-123".to_owned()));
        assert_eq!(
            clean(&redactor, "echo given-usersig-123 given%2Dusersig%2D123"),
            "echo <redacted> <redacted>"
        );
    }

    #[test]
    fn short_secrets_are_not_searched_for() {
        let redactor = Redactor::new(&Credentials::UserSig("a".to_owned()));
        assert_eq!(clean(&redactor, "a banana"), "a banana");
    }

    #[test]
    fn a_cause_keeps_the_chain_with_every_message_redacted() {
        #[derive(Debug)]
        struct Outer(std::io::Error);
        impl fmt::Display for Outer {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "outer usersig=abc")
            }
        }
        impl Error for Outer {
            fn source(&self) -> Option<&(dyn Error + 'static)> {
                Some(&self.0)
            }
        }
        let (redactor, sig) = with_sig();
        let error = Outer(std::io::Error::other(format!("inner {sig}")));
        let cause = redactor.cause(&error);
        assert_eq!(cause.to_string(), "outer usersig=<redacted>");
        assert_eq!(cause.source().unwrap().to_string(), "inner <redacted>");
        assert!(cause.source().unwrap().source().is_none());
        assert!(!format!("{cause:?}").contains(&sig));
    }
}
