//! `lifecycle { replace_triggered_by = [...] }` entries as references: each names a managed
//! resource of the same module (`TYPE.NAME`), one of its instances (`TYPE.NAME[0]`,
//! `TYPE.NAME["k"]`, `TYPE.NAME[count.index]`, `TYPE.NAME[each.key]`) or an attribute of one
//! instance (`TYPE.NAME.ATTR`, deeper paths with literal keys), Terraform's rules.

use tunnelform_instances::loaded::{TriggerKey, TriggerRef};
use tunnelform_kinds::ResourceKind;
use tunnelform_model::{Address, Diagnostic, InstanceKey, ModuleStep, TriggerStep};
use tunnelform_syntax::ast::{Expr, OpKind, TraverseOp};
use tunnelform_syntax::BSpan;

use crate::address::literal;

/// The forms an entry may take, for the diagnostics' help.
pub const FORMS: &str = "write TYPE.NAME (any change to the resource), TYPE.NAME[each.key], \
TYPE.NAME[count.index] or TYPE.NAME[\"KEY\"] (a change to one instance), or TYPE.NAME.ATTRIBUTE \
(a change to one attribute's value)";

/// One entry of `replace_triggered_by` as a reference to a managed resource of the module being
/// decoded: `own` is the resource's type and its name as the loader indexes it, `prefix` the
/// module's prefix of indexed names (empty at the root) and `module` its path.
pub fn trigger_ref(
    e: &Expr,
    own: (&str, &str),
    prefix: &str,
    module: &[ModuleStep],
) -> Result<TriggerRef, (Diagnostic, BSpan)> {
    let invalid = |what: String, span: BSpan| {
        let d = Diagnostic::error("Invalid replace_triggered_by reference")
            .with_detail(format!(
                "{what}: only managed resources of this module can trigger a replacement"
            ))
            .with_help(FORMS);
        (d, span)
    };
    let Some((root, ops)) = e.as_static_traversal() else {
        return Err(invalid(
            "this is an expression, not a reference".into(),
            e.span,
        ));
    };
    if ResourceKind::from_type_name(root).is_none() {
        return Err(invalid(not_a_resource(root, ops), e.span));
    }
    let Some(TraverseOp {
        kind: OpKind::Attr(name),
        ..
    }) = ops.first()
    else {
        return Err(invalid(format!("{root} names no resource"), e.span));
    };
    if (root, name.as_str()) == own {
        let d = Diagnostic::error("Invalid replace_triggered_by reference")
            .with_detail("a resource cannot trigger its own replacement")
            .with_help("name another resource (TYPE.NAME), or remove the entry");
        return Err((d, e.span));
    }
    let mut rest = &ops[1..];
    let key = match rest.first().map(|op| (&op.kind, op.span)) {
        Some((OpKind::Index(ie), span)) => {
            rest = &rest[1..];
            Some(instance_key(ie).ok_or_else(|| {
                let d = Diagnostic::error("Invalid replace_triggered_by instance key")
                    .with_detail("the key of an instance in replace_triggered_by is a literal, count.index or each.key")
                    .with_help("write TYPE.NAME[each.key], TYPE.NAME[count.index], TYPE.NAME[0] or TYPE.NAME[\"KEY\"]");
                (d, span)
            })?)
        }
        Some((OpKind::LegacyIndex(i), _)) => {
            rest = &rest[1..];
            Some(TriggerKey::Literal(InstanceKey::Index(*i)))
        }
        _ => None,
    };
    let mut path = Vec::new();
    for op in rest {
        let step = match &op.kind {
            OpKind::Attr(a) => Some(TriggerStep::Attr(a.clone())),
            OpKind::LegacyIndex(i) => Some(TriggerStep::Index(InstanceKey::Index(*i))),
            OpKind::Index(ie) => literal(ie).map(TriggerStep::Index),
            OpKind::AttrSplat | OpKind::FullSplat => None,
        };
        let Some(step) = step else {
            let d = Diagnostic::error("Invalid replace_triggered_by attribute path")
                .with_detail("an attribute path in replace_triggered_by takes names and literal keys only")
                .with_help("write TYPE.NAME.ATTRIBUTE, TYPE.NAME.ATTRIBUTE[0] or TYPE.NAME.ATTRIBUTE[\"KEY\"]");
            return Err((d, op.span));
        };
        path.push(step);
    }
    // Inside a module the loader indexes the module's resources by a scoped name
    // (`module.site.NAME`, see `module.rs`); the address has the module path instead.
    let plain = match prefix {
        "" => name.as_str(),
        prefix => name
            .strip_prefix(prefix)
            .and_then(|n| n.strip_prefix('.'))
            .unwrap_or(name),
    };
    let block = Address {
        module: module.to_vec(),
        ..Address::managed(root, plain)
    };
    Ok(TriggerRef {
        expr: e.clone(),
        block,
        key,
        path,
    })
}

/// What a reference that is not a managed resource names, for the message.
fn not_a_resource(root: &str, ops: &[TraverseOp]) -> String {
    let first = match ops.first() {
        Some(TraverseOp {
            kind: OpKind::Attr(a),
            ..
        }) => a.as_str(),
        _ => "",
    };
    match root {
        "var" => format!("var.{first} is an input variable"),
        // Inside a module, variables and locals were rewritten into locals named by the
        // module path (`module.site.var.X`).
        "local" => match first.rfind(".var.").or_else(|| first.rfind(".local.")) {
            Some(i) if first[i + 1..].starts_with("var.") => {
                format!("{} is an input variable", &first[i + 1..])
            }
            Some(i) => format!("{} is a local value", &first[i + 1..]),
            None => format!("local.{first} is a local value"),
        },
        "data" => format!("data.{first} is a data source"),
        "module" => format!("module.{first} is a module call"),
        "each" | "count" | "path" | "terraform" | "self" => {
            format!("{root}.{first} is not a resource")
        }
        other => format!("\"{other}\" is not a managed resource type"),
    }
}

/// An instance key: a literal, `count.index` or `each.key`.
fn instance_key(e: &Expr) -> Option<TriggerKey> {
    if let Some(k) = literal(e) {
        return Some(TriggerKey::Literal(k));
    }
    match e.as_static_traversal()? {
        (
            "count",
            [TraverseOp {
                kind: OpKind::Attr(a),
                ..
            }],
        ) if a == "index" => Some(TriggerKey::CountIndex),
        (
            "each",
            [TraverseOp {
                kind: OpKind::Attr(a),
                ..
            }],
        ) if a == "key" => Some(TriggerKey::EachKey),
        _ => None,
    }
}
