//! Addresses written as references: `moved`, `removed` and `import` name a resource (or one of its
//! instances) by its address, as it is, without expressions.

use tunnelform_model::{Address, InstanceKey, Mode, ModuleStep, Value};
use tunnelform_syntax::ast::{Expr, ExprKind, OpKind, TraverseOp};

/// A static address expression (`TYPE.NAME`, `TYPE.NAME[KEY]`, `data.TYPE.NAME`, any of them
/// after a module path `module.NAME.` or `module.NAME[KEY].`).
pub fn static_address(e: &Expr) -> Option<Address> {
    let (root, ops) = e.as_static_traversal()?;
    let mut module = Vec::new();
    let (root, ops) = if root == "module" {
        let mut ops = ops;
        loop {
            let [TraverseOp {
                kind: OpKind::Attr(name),
                ..
            }, rest @ ..] = ops
            else {
                return None;
            };
            let (key, rest) = match rest {
                [op @ TraverseOp {
                    kind: OpKind::Index(_) | OpKind::LegacyIndex(_),
                    ..
                }, rest @ ..] => (Some(literal_key(op)?), rest),
                _ => (None, rest),
            };
            module.push(ModuleStep {
                name: name.into(),
                key,
            });
            match rest {
                [TraverseOp {
                    kind: OpKind::Attr(next),
                    ..
                }, rest @ ..]
                    if next == "module" =>
                {
                    ops = rest
                }
                [TraverseOp {
                    kind: OpKind::Attr(next),
                    ..
                }, rest @ ..] => break (next.as_str(), rest),
                _ => return None,
            }
        }
    } else {
        (root, ops)
    };
    if matches!(
        root,
        "var" | "local" | "each" | "count" | "path" | "module" | "self" | "terraform"
    ) {
        return None;
    }
    let (mode, type_name, rest) = if root == "data" {
        match ops {
            [TraverseOp {
                kind: OpKind::Attr(t),
                ..
            }, rest @ ..] => (Mode::Data, t.clone(), rest),
            _ => return None,
        }
    } else {
        (Mode::Managed, root.to_string(), ops)
    };
    let (name, rest) = match rest {
        [TraverseOp {
            kind: OpKind::Attr(n),
            ..
        }, rest @ ..] => (n.clone(), rest),
        _ => return None,
    };
    let key = match rest {
        [] => None,
        [op] => Some(literal_key(op)?),
        _ => return None,
    };
    Some(Address {
        module,
        mode,
        type_name: type_name.into(),
        name: name.into(),
        key,
    })
}

/// The instance key an index written as a literal gives: `["sh"]`, `[0]`, `.0`.
pub fn literal_key(op: &TraverseOp) -> Option<InstanceKey> {
    match &op.kind {
        OpKind::LegacyIndex(i) => Some(InstanceKey::Index(*i)),
        OpKind::Index(ie) => literal(ie),
        _ => None,
    }
}

/// A key written as a literal: `0` or `"k"`.
pub fn literal(e: &Expr) -> Option<InstanceKey> {
    match &e.kind {
        ExprKind::Literal(Value::Number(n)) => Some(InstanceKey::Index(n.as_u64()?)),
        _ => Some(InstanceKey::Key(e.as_literal_str()?.to_string())),
    }
}
