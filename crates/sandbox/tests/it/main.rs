//! Integration tests: the real HTTP server on 127.0.0.1:0, driven by a small signed client.

mod args;
mod common;
mod connections;
mod examples;
mod faults;
mod get;
mod hostile;
mod identity;
mod persistence;
mod protocol;
mod reset;
mod resources;
mod tags;
