//! The schema language: how a resource kind describes its arguments and attributes (the Terraform
//! provider's names). Each kind's schema lives in its home in `tunnelform-kinds`.
//!
//! One static description per kind drives validation (config), diffing and normalisation (plan)
//! and rendering. `default` is the value the API fills in when an argument is omitted, so an
//! omitted argument never produces a perpetual diff.

use crate::value::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrType {
    String,
    Int,
    Bool,
    List(&'static AttrType),
    /// Order-insensitive collection.
    Set(&'static AttrType),
    Map(&'static AttrType),
    /// Nested block(s): `security_group_policy { ... }`.
    Block(Nesting, &'static BlockSchema),
    /// Computed structured output (data-source result lists).
    Any,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nesting {
    /// At most one block (the provider's `MaxItems: 1` lists).
    Single,
    /// Ordered blocks.
    List,
    /// Unordered blocks.
    Set,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultValue {
    Str(&'static str),
    Int(i64),
    Bool(bool),
}

impl DefaultValue {
    pub fn to_value(self) -> Value {
        match self {
            DefaultValue::Str(s) => Value::from(s),
            DefaultValue::Int(i) => Value::int(i),
            DefaultValue::Bool(b) => Value::Bool(b),
        }
    }
}

/// Value checks applied before any API call; they mirror what the API would reject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    OneOf(&'static [&'static str]),
    IntRange(i64, i64),
    IntOneOf(&'static [i64]),
    IntMin(i64),
    /// Length in characters, inclusive.
    StrLen(usize, usize),
    /// An IPv4 CIDR block `a.b.c.d/n`.
    Cidr,
    /// An IPv4 address.
    Ipv4,
    /// A public IPv4 address acceptable for a customer gateway.
    CustomerGatewayIp,
    /// A /30 IPv4 block (BGP tunnel).
    Cidr30,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttrSchema {
    pub name: &'static str,
    pub ty: AttrType,
    pub required: bool,
    pub optional: bool,
    /// Filled in by the API when not configured (or always, when neither required nor optional).
    pub computed: bool,
    /// A change replaces the resource.
    pub force_new: bool,
    pub sensitive: bool,
    /// Write-only: sent to the API but never returned by it (`CreateVpnConnection.Route`). The
    /// value kept is the one planned; it is compared with the prior state, never with the cloud,
    /// and an object whose state never recorded it (imported, adopted, migrated) takes the
    /// configuration's value without a change.
    pub write_only: bool,
    pub default: Option<DefaultValue>,
    pub checks: &'static [Check],
    pub description: &'static str,
}

impl AttrSchema {
    pub const fn new(name: &'static str, ty: AttrType) -> Self {
        AttrSchema {
            name,
            ty,
            required: false,
            optional: true,
            computed: false,
            force_new: false,
            sensitive: false,
            write_only: false,
            default: None,
            checks: &[],
            description: "",
        }
    }
    pub const fn required(mut self) -> Self {
        self.required = true;
        self.optional = false;
        self
    }
    pub const fn computed(mut self) -> Self {
        self.computed = true;
        self
    }
    /// Read-only: only the API sets it.
    pub const fn read_only(mut self) -> Self {
        self.computed = true;
        self.optional = false;
        self
    }
    pub const fn force_new(mut self) -> Self {
        self.force_new = true;
        self
    }
    pub const fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }
    /// Never read back from the API (see [`AttrSchema::write_only`]).
    pub const fn write_only(mut self) -> Self {
        self.write_only = true;
        self
    }
    pub const fn default(mut self, d: DefaultValue) -> Self {
        self.default = Some(d);
        self
    }
    pub const fn checks(mut self, c: &'static [Check]) -> Self {
        self.checks = c;
        self
    }
    pub const fn doc(mut self, d: &'static str) -> Self {
        self.description = d;
        self
    }

    /// Whether the user may set it.
    pub fn is_argument(&self) -> bool {
        self.required || self.optional
    }

    /// Whether reading the object from the API gives this attribute (all but write-only ones):
    /// what drift and staleness checks compare.
    pub fn is_read_back(&self) -> bool {
        !self.write_only
    }

    /// Whether the value is unordered (set semantics).
    pub fn is_set(&self) -> bool {
        matches!(self.ty, AttrType::Set(_) | AttrType::Block(Nesting::Set, _))
    }

    pub fn block(&self) -> Option<(Nesting, &'static BlockSchema)> {
        match self.ty {
            AttrType::Block(n, b) => Some((n, b)),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockSchema {
    pub attrs: &'static [AttrSchema],
}

impl BlockSchema {
    pub fn attr(&self, name: &str) -> Option<&'static AttrSchema> {
        // Called for every attribute of every object: compare the first byte before the rest (a
        // string comparison is a libc call; most names differ at once).
        let first = name.as_bytes().first();
        self.attrs
            .iter()
            .find(|a| a.name.as_bytes().first() == first && a.name == name)
    }

    pub fn argument_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.attrs
            .iter()
            .filter(|a| a.is_argument())
            .map(|a| a.name)
    }
}
