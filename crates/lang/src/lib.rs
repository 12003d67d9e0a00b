//! tunnelform's expression language (layer 3): Terraform's values, type constraints, expression
//! evaluation with unknown and sensitive marks, and the built-in functions.
//!
//! - [`eval::Evaluator`] evaluates a lowered expression (`tunnelform_syntax::ast`) in a
//!   [`eval::Scope`]; variables come as a map, locals and resources through [`eval::Refs`], which
//!   the configuration implements.
//! - [`functions`] is the table of built-in functions (the `tunnelform-functions` crate, with
//!   [`values`], [`error`] and [`suggest`], which it shares with the evaluator).
//! - [`types`] parses `variable` type constraints and converts values to them.
//! - [`graph`] finds the static references of expressions, cycles and a topological order.
//! - [`values`] and [`suggest`] are small helpers over values and for "did you mean" hints.
//!
//! Every evaluation counts steps and depth, and values are bounded in size, so hostile
//! expressions end with an [`error::EvalError`], never by exhausting time, memory or stack.

pub mod eval;
pub mod graph;
pub mod types;

pub use tunnelform_functions as functions;
pub use tunnelform_functions::{error, suggest, values};
