//! tunnelform's own syntax tree: hcl-edit's tree lowered to what evaluation needs, with byte
//! spans on every node. Owned, `Send + Sync`, and bounded in depth by the lowering.

use tunnelform_model::Value;

use crate::source::BSpan;

/// The deepest expression nesting accepted once lowered (the parser itself stops at 64 nested
/// brackets).
pub const MAX_EXPRESSION_DEPTH: usize = 256;

#[derive(Debug, Clone, Default)]
pub struct Body {
    pub attrs: Vec<Attribute>,
    pub blocks: Vec<Block>,
}

impl Body {
    pub fn attr(&self, name: &str) -> Option<&Attribute> {
        self.attrs.iter().find(|a| a.name == name)
    }
}

#[derive(Debug, Clone)]
pub struct Attribute {
    pub name: String,
    pub name_span: BSpan,
    pub expr: Expr,
}

#[derive(Debug, Clone)]
pub struct Block {
    pub kind: String,
    pub kind_span: BSpan,
    pub labels: Vec<(String, BSpan)>,
    pub body: Body,
    /// From the block type to its last label.
    pub header: BSpan,
}

#[derive(Debug, Clone)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: BSpan,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    Neg,
    Not,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Mod => "%",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::And => "&&",
            BinOp::Or => "||",
        }
    }
}

#[derive(Debug, Clone)]
pub enum ExprKind {
    Literal(Value),
    Tuple(Vec<Expr>),
    Object(Vec<(ObjKey, Expr)>),
    Template(Vec<TemplatePart>),
    /// A bare name: a root of a reference (`var`, `local`, a resource type...) or a for variable.
    Var(String),
    Traversal(Box<Expr>, Vec<TraverseOp>),
    Call {
        name: String,
        name_span: BSpan,
        args: Vec<Expr>,
        expand_final: bool,
    },
    Unary(UnaryOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    Cond(Box<Expr>, Box<Expr>, Box<Expr>),
    For(Box<ForExpr>),
}

#[derive(Debug, Clone)]
pub enum ObjKey {
    /// A bare identifier key: the literal string.
    Ident(String, BSpan),
    Expr(Expr),
}

#[derive(Debug, Clone)]
pub struct TraverseOp {
    pub kind: OpKind,
    pub span: BSpan,
}

#[derive(Debug, Clone)]
pub enum OpKind {
    Attr(String),
    Index(Expr),
    /// `.0` legacy index.
    LegacyIndex(u64),
    /// `.*`
    AttrSplat,
    /// `[*]`
    FullSplat,
}

#[derive(Debug, Clone)]
pub enum TemplatePart {
    Lit(String),
    Interp(Expr),
    If {
        cond: Expr,
        then: Vec<TemplatePart>,
        els: Vec<TemplatePart>,
    },
    For {
        key: Option<String>,
        value: String,
        coll: Expr,
        body: Vec<TemplatePart>,
    },
}

#[derive(Debug, Clone)]
pub struct ForExpr {
    pub key_var: Option<String>,
    pub value_var: String,
    pub coll: Expr,
    /// Present for the object form `{for ... : k => v}`.
    pub key_expr: Option<Expr>,
    pub value_expr: Expr,
    pub cond: Option<Expr>,
    pub grouping: bool,
}

impl Expr {
    /// A literal string value, if the expression is one (or a template of a single literal).
    pub fn as_literal_str(&self) -> Option<&str> {
        match &self.kind {
            ExprKind::Literal(Value::String(s)) => Some(s),
            ExprKind::Template(parts) => match parts.as_slice() {
                [TemplatePart::Lit(s)] => Some(s),
                [] => Some(""),
                _ => None,
            },
            _ => None,
        }
    }

    /// A static traversal `a.b.c` / `a.b["k"]` / `a.b[0]`: the root name and its operators.
    pub fn as_static_traversal(&self) -> Option<(&str, &[TraverseOp])> {
        match &self.kind {
            ExprKind::Var(name) => Some((name, &[])),
            ExprKind::Traversal(base, ops) => match &base.kind {
                ExprKind::Var(name) => Some((name, ops)),
                _ => None,
            },
            _ => None,
        }
    }

    /// A bare keyword such as `all` in `ignore_changes = all`.
    pub fn as_keyword(&self) -> Option<&str> {
        match &self.kind {
            ExprKind::Var(name) => Some(name),
            _ => None,
        }
    }
}
