//! UserSig v2 (TLSSigAPIv2, HMAC-SHA256): the credential every REST call carries.
//!
//! Pure functions, used by the API client (to sign) and by the emulator (to verify). The
//! algorithm is the one of Tencent's reference libraries (reference §2):
//!
//! 1. `sig = base64std(HMAC-SHA256(key = UTF-8 bytes of the console key, msg = string to sign))`
//!    where the string to sign is `TLS.identifier:…\nTLS.sdkappid:…\nTLS.time:…\nTLS.expire:…\n`.
//! 2. A JSON document with `TLS.ver`, `TLS.identifier`, `TLS.sdkappid`, `TLS.expire`, `TLS.time`,
//!    `TLS.sig` is zlib-compressed, base64-encoded, and `+ / =` become `* - _`.
//!
//! The outer string is not canonical (JSON layout and deflate output differ between
//! implementations), so verification decodes and checks fields; it never compares strings.
//!
//! Guarantees: neither the key nor a UserSig is ever part of an error message here.

use std::io::{Read, Write};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use flate2::Compression;
use flate2::read::ZlibDecoder;
use flate2::write::ZlibEncoder;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// The library default validity: 180 days.
pub const DEFAULT_EXPIRE_SECS: u64 = 180 * 86_400;

/// Why a UserSig was refused, each mapped to the service's error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("UserSig is empty")]
    Empty,
    #[error("UserSig cannot be decoded")]
    Undecodable,
    #[error("UserSig was made for SDKAppID {found}, not {expected}")]
    SdkAppIdMismatch { expected: u64, found: u64 },
    #[error("UserSig was made for identifier {found:?}, not {expected:?}")]
    IdentifierMismatch { expected: String, found: String },
    #[error("UserSig expired at {expired_at} (now {now})")]
    Expired { expired_at: u64, now: u64 },
    #[error("UserSig signature does not match the app's key")]
    BadSignature,
}

impl VerifyError {
    /// The TIM error code the service answers with (reference §1.4).
    pub fn code(&self) -> i64 {
        match self {
            VerifyError::Empty => 70002,
            VerifyError::Undecodable => 70003,
            VerifyError::SdkAppIdMismatch { .. } => 70014,
            VerifyError::IdentifierMismatch { .. } => 70013,
            VerifyError::Expired { .. } => 70001,
            VerifyError::BadSignature => 70009,
        }
    }
}

/// The decoded JSON document inside a UserSig.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decoded {
    #[serde(rename = "TLS.ver")]
    pub ver: String,
    #[serde(rename = "TLS.identifier")]
    pub identifier: String,
    #[serde(rename = "TLS.sdkappid")]
    pub sdkappid: u64,
    #[serde(rename = "TLS.expire")]
    pub expire: u64,
    #[serde(rename = "TLS.time")]
    pub time: u64,
    #[serde(
        rename = "TLS.userbuf",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub userbuf: Option<String>,
    #[serde(rename = "TLS.sig")]
    pub sig: String,
}

impl Decoded {
    /// Unix second after which the signature is expired.
    pub fn expires_at(&self) -> u64 {
        self.time.saturating_add(self.expire)
    }
}

/// The HMAC over the fields, standard base64 (`TLS.sig`).
pub fn hmac_sig(
    key: &str,
    identifier: &str,
    sdkappid: u64,
    time: u64,
    expire: u64,
    userbuf: Option<&str>,
) -> String {
    let mut content = format!(
        "TLS.identifier:{identifier}\nTLS.sdkappid:{sdkappid}\nTLS.time:{time}\nTLS.expire:{expire}\n"
    );
    if let Some(userbuf) = userbuf {
        content.push_str(&format!("TLS.userbuf:{userbuf}\n"));
    }
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key.as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(content.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

/// Signs a UserSig for `identifier`, made at `now` (Unix seconds) and valid for `expire` seconds.
pub fn sign(key: &str, sdkappid: u64, identifier: &str, now: u64, expire: u64) -> String {
    let doc = Decoded {
        ver: "2.0".to_owned(),
        identifier: identifier.to_owned(),
        sdkappid,
        expire,
        time: now,
        userbuf: None,
        sig: hmac_sig(key, identifier, sdkappid, now, expire, None),
    };
    let json = serde_json::to_vec(&doc).expect("a struct of strings and numbers serializes");
    let mut encoder = ZlibEncoder::new(Vec::new(), Compression::default());
    encoder
        .write_all(&json)
        .and_then(|()| encoder.finish())
        .map(|compressed| to_url_alphabet(&STANDARD.encode(compressed)))
        .expect("compressing into memory cannot fail")
}

/// Decodes a UserSig without checking it.
pub fn decode(usersig: &str) -> Result<Decoded, VerifyError> {
    if usersig.is_empty() {
        return Err(VerifyError::Empty);
    }
    let standard: String = usersig
        .chars()
        .map(|c| match c {
            '*' => '+',
            '-' => '/',
            '_' => '=',
            c => c,
        })
        .collect();
    let compressed = STANDARD
        .decode(standard)
        .map_err(|_| VerifyError::Undecodable)?;
    let mut json = Vec::new();
    // A UserSig is a few hundred bytes; refuse to inflate anything absurd.
    ZlibDecoder::new(&compressed[..])
        .take(64 * 1024)
        .read_to_end(&mut json)
        .map_err(|_| VerifyError::Undecodable)?;
    serde_json::from_slice(&json).map_err(|_| VerifyError::Undecodable)
}

/// Verifies a UserSig the way the Go reference verifier does: sdkappid, identifier, expiry,
/// then the HMAC. Returns the decoded document.
pub fn verify(
    key: &str,
    sdkappid: u64,
    identifier: &str,
    usersig: &str,
    now: u64,
) -> Result<Decoded, VerifyError> {
    let doc = decode(usersig)?;
    if doc.sdkappid != sdkappid {
        return Err(VerifyError::SdkAppIdMismatch {
            expected: sdkappid,
            found: doc.sdkappid,
        });
    }
    if doc.identifier != identifier {
        return Err(VerifyError::IdentifierMismatch {
            expected: identifier.to_owned(),
            found: doc.identifier,
        });
    }
    if now > doc.expires_at() {
        return Err(VerifyError::Expired {
            expired_at: doc.expires_at(),
            now,
        });
    }
    let expected = hmac_sig(
        key,
        &doc.identifier,
        doc.sdkappid,
        doc.time,
        doc.expire,
        doc.userbuf.as_deref(),
    );
    if !constant_time_eq(expected.as_bytes(), doc.sig.as_bytes()) {
        return Err(VerifyError::BadSignature);
    }
    Ok(doc)
}

fn to_url_alphabet(standard: &str) -> String {
    standard
        .chars()
        .map(|c| match c {
            '+' => '*',
            '/' => '-',
            '=' => '_',
            c => c,
        })
        .collect()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Current Unix time in seconds.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The known-answer vector of `shared/reference/usersig-vector.json`.
    const KEY: &str = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e";
    const APP: u64 = 1_400_000_000;
    const NOW: u64 = 1_700_000_000;
    const PYTHON_SIG: &str = "eJyrVgrxCdYrSy1SslJQMtIzUNJRAItkpqTmlWSmZUIkElNyM-Myi0uKEkvyi2BKilOyEwsKMlOACgxNDKAAKpdaUZBZlAqSMTU1NUKIl2TmgkXN0dQXZ6aD7PFyrqpIzHOz8AsJiUgsNcnVNsqwLC8zT4-0yqv0yy7ONajINfRzjQg1MjexVaoFANTGNgc_";
    const GO_SIG: &str = "eJyrVgrxCdZLrSjILEpVsjI0NTU1MjAw0AGLZqak5pVkpmWmFilZKSWm5GbmZRaXFCWW5BcpQRQUp2QnFhRkpgA1mhhAAVQmMx2ox8u5qiIxz83CLyQkIrHUJFfbKMOyvMw8PdIrr9IvuzjXoCLX0M81ItTI3MQWamRJZi7IHeaoxpWBnWCkZ6BUCwDzEjSn";
    const USERBUF_SIG: &str = "eJxdjc0KgkAYRV9FZh2i5iQELSxX5SrFajk1o3zq2DA-ZkXvXpoVdJfnHLh3lMaJ3TKJ5hbybAdNrIEAZY2GHN6CUA4NKC2JPstPomhFhAD6ClzfGTc61gmQrDcYY*-HNfCBBn*9UUweTd5-HXbr8nsBRY*uUXZyvaQq9kbUos6CGw7LVZjExmnztOPLyybiMzr1t2qBHk-oNj0Y";

    #[test]
    fn hmac_matches_the_known_answer() {
        assert_eq!(
            hmac_sig(KEY, "administrator", APP, NOW, DEFAULT_EXPIRE_SECS, None),
            "JCzxanF8NTTXau4m+2h9wv7gYJnyNksm0xm1NEXU274="
        );
        assert_eq!(
            hmac_sig(
                KEY,
                "administrator",
                APP,
                NOW,
                DEFAULT_EXPIRE_SECS,
                Some("YWJj")
            ),
            "yDVc12SkgXuplplV7z5AjCASLu0vfTxmBwKDm6d34Rs="
        );
    }

    #[test]
    fn our_signature_decodes_to_the_reference_fields() {
        let ours = sign(KEY, APP, "administrator", NOW, DEFAULT_EXPIRE_SECS);
        let reference = decode(PYTHON_SIG).unwrap();
        assert_eq!(decode(&ours).unwrap(), reference);
        assert_eq!(
            reference.sig,
            "JCzxanF8NTTXau4m+2h9wv7gYJnyNksm0xm1NEXU274="
        );
    }

    #[test]
    fn reference_signatures_verify_in_every_encoding() {
        for sig in [PYTHON_SIG, GO_SIG, USERBUF_SIG] {
            let doc = verify(KEY, APP, "administrator", sig, NOW + 10).unwrap();
            assert_eq!(doc.expires_at(), 1_715_552_000);
        }
    }

    #[test]
    fn every_refusal_has_its_code() {
        let sig = sign(KEY, APP, "administrator", NOW, 3600);
        let code = |r: Result<Decoded, VerifyError>| r.unwrap_err().code();
        assert_eq!(code(verify(KEY, APP, "administrator", "", NOW)), 70002);
        assert_eq!(code(verify(KEY, APP, "administrator", "@@@", NOW)), 70003);
        assert_eq!(code(verify(KEY, APP, "administrator", "eJyr", NOW)), 70003);
        assert_eq!(
            code(verify(KEY, APP + 1, "administrator", &sig, NOW)),
            70014
        );
        assert_eq!(code(verify(KEY, APP, "alice", &sig, NOW)), 70013);
        assert_eq!(
            code(verify(KEY, APP, "administrator", &sig, NOW + 3601)),
            70001
        );
        assert_eq!(
            code(verify("other", APP, "administrator", &sig, NOW)),
            70009
        );
        assert!(verify(KEY, APP, "administrator", &sig, NOW + 3600).is_ok());
    }

    #[test]
    fn errors_never_show_the_key_or_the_signature() {
        let sig = sign(KEY, APP, "administrator", NOW, 3600);
        let err = verify("other", APP, "administrator", &sig, NOW).unwrap_err();
        let text = format!("{err} {err:?}");
        assert!(!text.contains(KEY) && !text.contains(&sig));
    }
}
