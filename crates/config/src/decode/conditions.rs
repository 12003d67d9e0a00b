//! Decoding custom conditions: `precondition` / `postcondition` blocks (in a resource's or a data
//! block's `lifecycle`, `precondition` in an `output`), and `check "NAME"` blocks with their
//! `assert` blocks and scoped `data` blocks. What they mean is `tunnelform_instances::conditions`'.

use tunnelform_lang::graph::{self, RefKind};
use tunnelform_model::{Diagnostic, Mode};
use tunnelform_syntax::ast::{Block, Expr, ExprKind};

use tunnelform_instances::conditions::{CheckDecl, CondKind, Condition, OutputConditions};

use super::Decoder;

/// The kind of condition a block name is, in a lifecycle block.
pub(super) fn condition_kind(name: &str) -> Option<CondKind> {
    match name {
        "precondition" => Some(CondKind::Pre),
        "postcondition" => Some(CondKind::Post),
        _ => None,
    }
}

/// Whether `e` refers to `self`.
fn uses_self(e: &Expr) -> Option<tunnelform_syntax::BSpan> {
    let mut with = Vec::new();
    graph::collect_refs(e, &[], &mut with);
    with.iter()
        .find(
            |r| matches!(&r.kind, RefKind::Invalid { summary, .. } if summary.contains("\"self\"")),
        )
        .map(|r| r.span)
}

impl Decoder {
    /// One `precondition`, `postcondition` or `assert` block: `condition` and `error_message`,
    /// both required. `self` may be used in a postcondition only.
    pub(super) fn decode_condition(&mut self, b: &Block, kind: CondKind) -> Option<Condition> {
        let usage = format!(
            "{} {{ condition = EXPRESSION, error_message = \"...\" }}",
            b.kind
        );
        self.labels(b, 0, &usage)?;
        let mut condition = None;
        let mut error_message = None;
        for a in &b.body.attrs {
            match a.name.as_str() {
                "condition" => condition = Some(a.expr.clone()),
                "error_message" => error_message = Some(a.expr.clone()),
                _ => self.unsupported_arg(
                    a,
                    &format!("a {} block", b.kind),
                    &["condition", "error_message"],
                ),
            }
        }
        for inner in &b.body.blocks {
            self.unsupported_block(inner, &format!("a {} block", b.kind), &[]);
        }
        let (Some(condition), Some(error_message)) = (condition, error_message) else {
            let d = Diagnostic::error(format!("Missing required argument in a {} block", b.kind))
                .with_detail("a condition needs both condition and error_message")
                .with_help(format!("write {usage}"));
            self.error(d, b.kind_span);
            return None;
        };
        let mut ok = true;
        if let Some(lit) = literal_kind(&condition) {
            if lit != "bool" {
                let d = Diagnostic::error("Invalid condition").with_detail(format!(
                    "the condition must be true or false, got a {lit}"
                ))
                .with_help("write an expression that is true when all is well, for example var.x != \"\"");
                self.error(d, condition.span);
                ok = false;
            }
        }
        if let Some(lit) = literal_kind(&error_message) {
            if lit != "string" {
                let d = Diagnostic::error("Invalid error_message")
                    .with_detail(format!("error_message must be a string, got a {lit}"))
                    .with_help("write error_message = \"...\" (interpolations are allowed)");
                self.error(d, error_message.span);
                ok = false;
            }
        }
        if kind == CondKind::Pre || b.kind == "assert" {
            for e in [&condition, &error_message] {
                if let Some(span) = uses_self(e) {
                    let article = if b.kind == "assert" { "an" } else { "a" };
                    let d = Diagnostic::error(format!(
                        "Invalid reference to \"self\" in {article} {} block",
                        b.kind
                    ))
                    .with_detail(if kind == CondKind::Pre && b.kind != "assert" {
                        "a precondition is checked before the object is planned, so it cannot refer to the object itself"
                    } else {
                        "\"self\" is only available in a resource's or data source's postcondition"
                    })
                    .with_help(if b.kind == "precondition" {
                        "use a postcondition to check the object's own attributes"
                    } else {
                        "refer to the object by its address"
                    });
                    self.error(d, span);
                    ok = false;
                }
            }
        }
        ok.then_some(Condition {
            kind,
            condition,
            error_message,
        })
    }

    /// A `precondition` or `postcondition` block in a lifecycle block: kept for the block being
    /// decoded (see `take_conditions`).
    pub(super) fn lifecycle_condition(&mut self, b: &Block) -> bool {
        let Some(kind) = condition_kind(&b.kind) else {
            return false;
        };
        if let Some(c) = self.decode_condition(b, kind) {
            self.conditions.push(c);
        }
        true
    }

    /// A data block's `lifecycle`: only `precondition` and `postcondition` blocks.
    pub(super) fn decode_data_lifecycle(&mut self, b: &Block) {
        for a in &b.body.attrs {
            let d = Diagnostic::error(format!(
                "Unsupported argument \"{}\" in a data block's lifecycle",
                a.name
            ))
            .with_detail("a data source is read, never created or destroyed")
            .with_help("a data block's lifecycle takes only precondition and postcondition blocks");
            self.error(d, a.name_span);
        }
        for inner in &b.body.blocks {
            if !self.lifecycle_condition(inner) {
                self.unsupported_block(
                    inner,
                    "a data block's lifecycle block",
                    &["precondition", "postcondition"],
                );
            }
        }
    }

    /// `precondition` blocks of an output block (root or module) named `address`.
    pub(super) fn output_conditions(&mut self, b: &Block, address: String) {
        let mut conditions = Vec::new();
        for inner in &b.body.blocks {
            if inner.kind == "precondition" {
                if let Some(c) = self.decode_condition(inner, CondKind::Pre) {
                    conditions.push(c);
                }
            } else {
                self.unsupported_block(inner, "an output block", &["precondition"]);
            }
        }
        if !conditions.is_empty() {
            self.output_conds.push(OutputConditions {
                address,
                conditions,
            });
        }
    }

    /// `check "NAME" { data "TYPE" "NAME" { ... }  assert { condition, error_message } }`.
    pub(super) fn decode_check(&mut self, b: &Block) {
        let Some(labels) = self.labels(
            b,
            1,
            "check \"NAME\" { assert { condition = EXPRESSION, error_message = \"...\" } }",
        ) else {
            return;
        };
        let name = labels[0].clone();
        let decl = CheckDecl {
            name: name.clone(),
            module: self.scope.path.clone(),
            header: b.header,
            asserts: Vec::new(),
            data: Vec::new(),
        };
        let address = decl.address();
        if let Some(first) = self.checks.iter().find(|c| c.address() == address) {
            let first = self.span_of(first.header);
            let d = Diagnostic::error(format!("Duplicate check \"{name}\""))
                .with_detail(format!("{address} is already declared at {first}"))
                .with_help("each check block needs a unique name; rename one of them");
            self.error(d, b.header);
            return;
        }
        let index = self.checks.len();
        self.checks.push(decl);
        for a in &b.body.attrs {
            self.unsupported_arg(a, "a check block", &[]);
        }
        let mut asserts = Vec::new();
        let mut data = Vec::new();
        for inner in &b.body.blocks {
            match inner.kind.as_str() {
                "assert" => {
                    if let Some(c) = self.decode_condition(inner, CondKind::Pre) {
                        asserts.push(c);
                    }
                }
                "data" => {
                    let before = self.blocks.len();
                    self.decode_resource(inner, Mode::Data);
                    if self.blocks.len() > before {
                        self.blocks[before].check = Some(index);
                        data.push(before);
                    }
                }
                _ => self.unsupported_block(inner, "a check block", &["assert", "data"]),
            }
        }
        if asserts.is_empty() && !b.body.blocks.iter().any(|x| x.kind == "assert") {
            let d = Diagnostic::error(format!("Missing assert block in check \"{name}\""))
                .with_help("add assert { condition = EXPRESSION, error_message = \"...\" }");
            self.error(d, b.header);
        }
        let c = &mut self.checks[index];
        c.asserts = asserts;
        c.data = data;
    }
}

/// The type of a literal that is plainly not of the expected one (None for any other expression).
fn literal_kind(e: &Expr) -> Option<&'static str> {
    match &e.kind {
        ExprKind::Literal(v) => Some(match v {
            tunnelform_model::Value::Bool(_) => "bool",
            tunnelform_model::Value::String(_) => "string",
            tunnelform_model::Value::Number(_) => "number",
            tunnelform_model::Value::Null => "null",
            _ => return None,
        }),
        ExprKind::Template(_) => Some("string"),
        ExprKind::Tuple(_) => Some("tuple"),
        ExprKind::Object(_) => Some("object"),
        _ => None,
    }
}
