//! The one integration-test binary; each module is a self-contained area.

mod e2e;
mod emulator;
mod gitops;
mod manifest;
mod pacing;
mod support;
