//! tunnelform's shared vocabulary (layer 0): the schema language, resource addresses,
//! attribute values (with unknown and sensitive marks), and diagnostics with source spans.
//!
//! Nothing here does I/O; every other crate speaks in these types.

pub mod address;
pub mod diagnostic;
pub mod lifecycle;
pub mod map;
pub mod schema;
pub mod value;

pub use address::{Address, AddressParseError, InstanceKey, Mode, ModuleStep, Target};
pub use diagnostic::{Diagnostic, Diagnostics, Severity, Span};
pub use lifecycle::{IgnoreChanges, Lifecycle, ReplaceTrigger, TriggerStep};
pub use map::{Map, Name, SharedAttrs};
pub use schema::{AttrSchema, AttrType, BlockSchema, Check, DefaultValue, Nesting};
pub use value::Attrs;
pub use value::{Number, Str, Value};
