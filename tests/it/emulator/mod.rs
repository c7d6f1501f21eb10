//! The emulator over real HTTP: every command, every refusal code, rate limits, UserSig
//! checks, faults, persistence across restarts (in-process and of the real binary).

mod accounts;
mod auth;
mod callbacks;
mod client;
mod commands;
mod connections;
mod faults;
mod limits;
mod member_roles;
mod members;
mod persistence;
mod process;
mod rules;
mod sdks;
