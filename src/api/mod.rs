//! The TIM REST client: the only place that talks to the group service.
//!
//! It turns live groups into [`crate::model::Actual`] (reads) and carries out the applier's
//! writes, and owns everything the service's protocol asks of a caller: signing the UserSig
//! ([`credentials`]), the regional URL ([`endpoint`]), the JSON bodies ([`wire`]), the error
//! envelope ([`error`]), the per-command call frequencies ([`pacing`]) and the retries of
//! transient failures ([`retry`]) with their safety rules for writes (`write.rs`).
//!
//! Guarantees: the secret key and the UserSig appear in no error, log line or `Debug` output,
//! even when a hostile or broken server echoes them back ([`redact`]); the request URL, which
//! carries the UserSig, is never logged; redirects are never followed; answers are read up to
//! [`MAX_BODY`] bytes and no further.

pub mod credentials;
pub mod endpoint;
pub mod error;
pub mod pacing;
pub mod redact;
pub mod retry;
pub mod wire;

mod client;
mod members;
mod read;
mod write;

#[cfg(test)]
mod tests;

pub use client::{Client, ClientConfig, MAX_BODY};
pub use credentials::Credentials;
pub use endpoint::{Endpoint, EndpointError, Region};
pub use error::{ApiError, code_meaning};
pub use members::MEMBER_PAGE;
pub use read::{GROUP_INFO_BATCH, LIST_PAGE, ROLE_BATCH};
pub use retry::RetryPolicy;
pub use wire::Command;
pub use write::{ADD_MEMBER_BATCH, AddResult, ModifyFields, WriteOutcome, fields_set_after_create};
