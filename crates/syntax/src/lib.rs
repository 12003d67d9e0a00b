//! tunnelform's HCL syntax (layer 1): a Terraform-compatible subset of HCL, parsed with hcl-edit
//! (which keeps spans) and lowered into tunnelform's own spanned tree ([`ast`]).
//!
//! - [`parse_body`] and [`parse_expr`] parse a file or a standalone expression; syntax errors come
//!   back as one [`SpanError`] with a byte span, located against [`Sources`] into a
//!   `Diagnostic` naming file:line:column.
//! - [`format_source`] is `tunnelform fmt`: canonical layout that keeps comments.
//! - [`lexer`] is the one tokenizer of the language, for what works below the syntax tree: the
//!   formatter, the entry-by-entry parsing of big objects and the location of syntax errors.
//! - [`source`] keeps the loaded texts and turns byte spans into `model::Span`s with their
//!   source lines ([`clip_line`] makes a line safe to show).
//!
//! Hostile input (huge files, deep nesting) gives an error, never a panic or a stack overflow:
//! parsing runs on a thread with a large stack ([`with_big_stack`]) and the lowered tree is at
//! most [`MAX_EXPRESSION_DEPTH`] deep.

pub mod ast;
mod bigobj;
mod error;
mod fmt;
pub mod lexer;
mod lower;
pub mod source;

pub use ast::MAX_EXPRESSION_DEPTH;
pub use error::SpanError;
pub use fmt::format_source;
pub use lower::{parse_body, parse_expr, parse_template, with_big_stack, PARSE_STACK};
pub use source::{clip_line, BSpan, SourceFile, Sources};
