//! timctl: keeps the chat groups of a Tencent Cloud Chat (TIM) app equal to what a Git
//! repository declares.
//!
//! Data flows one way: manifests → [`model::Desired`]; API → [`model::Actual`];
//! `(desired, actual)` → [`plan::Plan`]; the plan is rendered or applied. Only [`manifest`]
//! (files), [`api`] (HTTP), [`apply`] and [`emulator`] do I/O.

pub mod api;
pub mod apply;
pub mod cli;
pub mod commands;
pub mod emulator;
pub mod export;
pub mod interrupt;
pub mod live;
pub mod manifest;
pub mod metrics;
pub mod model;
pub mod pipeline;
pub mod plan;
pub mod reconcile;
pub mod render;
pub mod saved;
pub mod settings;
pub mod shell;
pub mod usersig;
pub mod webhook;
