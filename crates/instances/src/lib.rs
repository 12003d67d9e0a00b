//! The loaded configuration and its evaluation (layer 4), under `tunnelform-config` (which
//! decodes the `*.tf` files into it and is the API the layers above use).
//!
//! - [`loaded`]: what a configuration keeps once loaded (blocks checked against their schemas,
//!   locals, outputs, providers, the dependency order) in [`loaded::Loaded`];
//! - [`vars`] and [`files`]: input variables (`TF_VAR_*`, `*.tfvars`, `--var`), their types,
//!   defaults and validation rules, and reading source files within the size limit;
//! - [`session`]: evaluation against a [`api::Lookup`] of resource values: `count`/`for_each`
//!   expansion, instances, outputs, imports; per-instance dependencies traced through locals and
//!   module inputs (`deps.rs`);
//! - [`validate`]: attribute values against the kinds' schemas and rules, across instances;
//! - [`conditions`]: preconditions, postconditions and `check` blocks, evaluated;
//! - [`api`]: the types the layers above see (re-exported by `tunnelform-config`), [`regions`]
//!   the known regions.

pub mod api;
pub mod conditions;
mod deps;
pub mod files;
pub mod loaded;
pub mod regions;
pub mod session;
pub mod validate;
pub mod vars;
