//! The one integration-test binary; each module is a self-contained area.

mod crash;
mod e2e;
mod emulator;
mod faults;
mod fuzz;
mod gitops;
mod hostile;
mod manifest;
mod pacing;
mod property;
mod secrets;
mod shell;
mod support;
mod trust;
