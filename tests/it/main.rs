//! The one integration-test binary; each module is a self-contained area.

mod controller;
mod crash;
mod e2e;
mod emulator;
mod export_people;
mod faults;
mod filtered;
mod fuzz;
mod gitops;
mod hostile;
mod layout;
mod manifest;
mod members;
mod pacing;
mod people;
mod plans;
mod property;
mod recipe;
mod redact;
mod scoped;
mod secrets;
mod shell;
mod support;
mod trust;
mod webhook;
