//! tunnelform's configuration loading (layer 6): the blocks of a Terraform-compatible subset of
//! HCL decoded (local modules flattened, `moved`/`removed` checked), and the [`Config`] API. The
//! syntax is `tunnelform-syntax`'s, the expressions and functions `tunnelform-lang`'s, what a
//! loaded configuration keeps and how it is evaluated (variables, expansion, instances and their
//! dependencies, validation) `tunnelform-instances`', and the reference checks, cycles and block
//! order `tunnelform-references`'.
//!
//! [`Config::load`] reads every `*.tf` file of a directory, resolves variables, checks what can be
//! checked without resource values, and keeps the parsed blocks. The plan and apply crates then
//! call [`Config::expand_block`] per resource block (in [`Config::block_order`]) with a [`Lookup`]
//! that knows the values of resources that already exist, and get [`Instance`]s whose attribute
//! values are validated against the resource schemas of `tunnelform-model`.
//!
//! Every problem is a [`Diagnostic`] that names file:line:column, shows the offending line and
//! says how to fix it. Hostile input (huge files, deep nesting, cycles, non-UTF-8 bytes) gives a
//! diagnostic, never a panic or a stack overflow.
//!
//! [`format_source`] is `tunnelform fmt`: canonical formatting that keeps comments.
//!
//! # Conventions
//! - Spans name files as `dir.join(name)` (the directory as the caller gave it); values given
//!   on the command line or in the environment are located in pseudo-files such as
//!   `<--var NAME>` and `<environment variable TF_VAR_NAME>`.
//! - Values: nested blocks are `Value::Map` (single) or `Value::List` of maps (list/set, source
//!   order); set attributes are lists without duplicates; numbers are `i64` when whole;
//!   `Value::Unknown` for anything known only after apply; `Value::Sensitive` for sensitive
//!   variables, values computed from them and `pre_share_key`. Sensitive values never appear in
//!   diagnostics.
//! - Cycles (among locals, resources and data sources) are load errors, so
//!   [`Config::block_order`] never fails on a loaded configuration.
//! - No process environment is read: `TF_VAR_*` come through [`VarInputs::env`], and the
//!   default region can be replaced with [`Config::with_default_region`].
//!
//! # Limits
//! All files together at most [`MAX_CONFIG_BYTES`]; expressions at most 64 nested brackets
//! (hcl-edit's limit) and [`MAX_EXPRESSION_DEPTH`] levels once lowered; 2 million evaluation
//! steps and values of 1 million elements per instance, local or output; `count` at most
//! 1,000,000; `range()` at most 100,000 elements.

mod config;
mod decode;

pub use config::Config;
pub use tunnelform_instances::api::{
    ImportBlock, Instance, InstanceKind, Lookup, Moved, NoLookup, OutputValue, ProviderConfig,
    ProviderRef, Removed, VarArg, VarInputs, DEFAULT_REGION, MAX_CONFIG_BYTES,
};
pub use tunnelform_instances::conditions::{CheckOutcome, CheckStatus, Checked, CondKind};
pub use tunnelform_instances::regions::{is_known_region, region_problem, REGIONS};
pub use tunnelform_instances::validate::validate_instances;
pub use tunnelform_model::{Diagnostic, Diagnostics};
/// `tunnelform fmt`, re-exported for the callers of the loader.
pub use tunnelform_syntax::{format_source, MAX_EXPRESSION_DEPTH};
