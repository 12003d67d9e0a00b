//! End-to-end tests: the real `tunnelform` binary, run as a subprocess in a temporary directory,
//! against a sandbox child process on 127.0.0.1 (ephemeral port) or the embedded `--sandbox`.
//!
//! One test binary (one link) with a module per area; helpers in `tests/common/mod.rs`.

#[path = "../common/mod.rs"]
mod common;

mod approve;
mod bad_input;
mod chaos;
mod cli;
mod commands;
mod conditions;
mod data_sources;
mod destroy;
mod drift;
mod examples;
mod failure;
mod faults;
mod foreach;
mod gitops;
mod hostile;
mod identity;
mod interrupt;
mod lifecycle;
mod modules;
mod ordering;
mod pg;
mod plan_rules;
mod projects;
mod refactor;
mod reliability;
mod replace_triggers;
mod reset;
mod routes;
mod sandbox;
mod shapes;
mod snapshots;
mod state_checks;
mod watch;
mod workspaces;
