//! Input variables: values from `TF_VAR_*`, `terraform.tfvars`, `*.auto.tfvars`, `--var-file`
//! and `--var`, type conversion, defaults, sensitivity and validation rules.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use tunnelform_model::{Diagnostic, Diagnostics, Value};

use tunnelform_lang::eval::{Evaluator, Scope};
use tunnelform_lang::suggest;
use tunnelform_lang::types::{convert, Ty};
use tunnelform_lang::values::{primitive_string, to_bool};
use tunnelform_syntax::ast::Expr;
use tunnelform_syntax::{clip_line, BSpan, SourceFile, Sources};

use crate::api::{VarArg, VarInputs, MAX_CONFIG_BYTES};
use crate::files::read_source_file;

pub struct VariableDecl {
    pub name: String,
    pub header: BSpan,
    pub ty: Option<Ty>,
    pub default: Option<Value>,
    pub description: Option<String>,
    pub sensitive: bool,
    pub nullable: bool,
    pub validations: Vec<ValidationRule>,
}

pub struct ValidationRule {
    pub condition: Expr,
    pub message: Expr,
}

/// A value given for a variable and where it came from.
struct Given {
    value: Value,
    /// Where to point when the value is wrong.
    origin: BSpan,
}

pub struct Resolver<'a> {
    pub decls: &'a [VariableDecl],
    pub sources: &'a mut Sources,
    pub budget: &'a mut usize,
    pub diags: &'a mut Diagnostics,
    /// A variable without a value and without a default is unknown instead of an error.
    pub unset_unknown: bool,
}

impl<'a> Resolver<'a> {
    fn decl(&self, name: &str) -> Option<&'a VariableDecl> {
        let decls: &'a [VariableDecl] = self.decls;
        decls.iter().find(|d| d.name == name)
    }

    fn undeclared_help(&self, name: &str, place: &str) -> String {
        match suggest::did_you_mean(name, self.decls.iter().map(|d| d.name.as_str())) {
            Some(s) => s,
            None => format!(
                "declare it with a variable \"{name}\" {{ }} block, or remove it from {place}"
            ),
        }
    }

    /// Resolves every declared variable. Values of sensitive variables are marked.
    pub fn resolve(&mut self, dir: &Path, inputs: &VarInputs) -> HashMap<String, Arc<Value>> {
        let mut given: HashMap<String, Given> = HashMap::new();

        // 1. TF_VAR_ environment variables (undeclared ones are ignored, as Terraform does).
        for (k, raw) in &inputs.env {
            let name = k.strip_prefix("TF_VAR_").unwrap_or(k);
            let Some(decl) = self.decl(name) else {
                continue;
            };
            let label = format!("<environment variable TF_VAR_{name}>");
            if let Some(g) = self.raw_value(decl.ty.as_ref(), decl.sensitive, &label, raw) {
                given.insert(name.to_string(), g);
            }
        }

        // 2. terraform.tfvars(.json), 3. *.auto.tfvars(.json) in lexical order.
        let mut auto: Vec<std::path::PathBuf> = Vec::new();
        if let Ok(rd) = std::fs::read_dir(dir) {
            for entry in rd.flatten() {
                let name = entry.file_name().to_string_lossy().to_string();
                if name.ends_with(".auto.tfvars") || name.ends_with(".auto.tfvars.json") {
                    auto.push(entry.path());
                }
            }
        }
        auto.sort();
        let mut files: Vec<std::path::PathBuf> = Vec::new();
        for base in ["terraform.tfvars", "terraform.tfvars.json"] {
            let p = dir.join(base);
            if p.is_file() {
                files.push(p);
            }
        }
        files.extend(auto);
        for f in files {
            self.read_var_file(&f, &mut given);
        }

        // 4. The command line, in order.
        for arg in &inputs.cli {
            match arg {
                VarArg::File(p) => {
                    if !p.is_file() {
                        let what = match std::fs::metadata(p) {
                            Err(e) if e.kind() == std::io::ErrorKind::NotFound => "not found",
                            Err(_) => "cannot be read",
                            Ok(m) if m.is_dir() => "is a directory, not a file",
                            Ok(_) => "is not a regular file (a device or a pipe)",
                        };
                        self.diags.push(
                            Diagnostic::error(format!("Variable file {} {what}", p.display()))
                                .with_help(
                                    "give --var-file the path of a .tfvars or .tfvars.json file",
                                ),
                        );
                        continue;
                    }
                    self.read_var_file(p, &mut given);
                }
                VarArg::Pair(name, raw) => {
                    let Some(decl) = self.decl(name) else {
                        self.diags.push(
                            Diagnostic::error(format!("Value for undeclared variable \"{name}\""))
                                .with_detail("the variable was set with --var on the command line")
                                .with_help(self.undeclared_help(name, "the command line")),
                        );
                        continue;
                    };
                    let label = format!("<--var {name}>");
                    if let Some(g) = self.raw_value(decl.ty.as_ref(), decl.sensitive, &label, raw) {
                        given.insert(name.clone(), g);
                    }
                }
            }
        }

        // Defaults, required variables, types, sensitivity.
        let mut out: HashMap<String, Arc<Value>> = HashMap::new();
        let mut origins: HashMap<String, BSpan> = HashMap::new();
        for decl in self.decls {
            let (value, origin) = match given.remove(&decl.name) {
                Some(g) => (g.value, g.origin),
                None => match &decl.default {
                    Some(d) => (d.clone(), decl.header),
                    // Unknown, of the declared type (conversion keeps it unknown).
                    None if self.unset_unknown => (Value::Unknown, decl.header),
                    None => {
                        let d = Diagnostic::error(format!("No value for required variable \"{}\"", decl.name))
                            .with_detail(match &decl.description {
                                Some(desc) => format!("the variable has no default: {desc}"),
                                None => "the variable has no default".to_string(),
                            })
                            .with_help(format!(
                                "set it with --var {n}=VALUE, in a --var-file, in terraform.tfvars, or with the environment variable TF_VAR_{n}",
                                n = decl.name
                            ));
                        self.diags.push(self.sources.locate(d, decl.header));
                        continue;
                    }
                },
            };
            let value = if value.is_null() && !decl.nullable {
                match &decl.default {
                    Some(d) if !d.is_null() => d.clone(),
                    _ => {
                        let d = Diagnostic::error(format!(
                            "Null value for non-nullable variable \"{}\"",
                            decl.name
                        ))
                        .with_detail("the variable is declared with nullable = false")
                        .with_help("give it a value other than null");
                        self.diags.push(self.sources.locate(d, origin));
                        continue;
                    }
                }
            } else {
                value
            };
            let value = match &decl.ty {
                Some(ty) => match convert(&value, ty) {
                    Ok(v) => v,
                    Err(msg) => {
                        let mut d = Diagnostic::error(format!(
                            "Invalid value for variable \"{}\"",
                            decl.name
                        ))
                        .with_help(format!("the variable's type is {ty}"));
                        d.detail = Some(if decl.sensitive {
                            format!("the (sensitive) value does not match the type {ty}")
                        } else {
                            msg
                        });
                        let mut d = self.sources.locate(d, origin);
                        if decl.sensitive {
                            d.source_line = None;
                        }
                        self.diags.push(d);
                        continue;
                    }
                },
                None => value,
            };
            let value = if decl.sensitive {
                Value::sensitive(value)
            } else {
                value
            };
            origins.insert(decl.name.clone(), origin);
            out.insert(decl.name.clone(), Arc::new(value));
        }

        // Validation rules (all variables are known by now).
        for decl in self.decls {
            if decl.validations.is_empty() || !out.contains_key(&decl.name) {
                continue;
            }
            let ev = Evaluator::new(
                Some(&out),
                None,
                Path::new("."),
                "a variable validation rule",
            );
            for rule in &decl.validations {
                let ok = match ev.eval(&rule.condition, &Scope::root()) {
                    Ok(v) => match to_bool(&v) {
                        Some(b) => b,
                        None if v.is_unknown() => true,
                        None => {
                            let d = Diagnostic::error("Invalid validation condition")
                                .with_detail("the condition must give true or false");
                            self.diags.push(self.sources.locate(d, rule.condition.span));
                            continue;
                        }
                    },
                    Err(e) => {
                        self.diags.push(e.into_diag(self.sources));
                        continue;
                    }
                };
                if ok {
                    continue;
                }
                let message = match ev.eval(&rule.message, &Scope::root()) {
                    Ok(v) => primitive_string(&v)
                        .map(|s| s.into_owned())
                        .unwrap_or_else(|| "(no message)".into()),
                    Err(e) => {
                        self.diags.push(e.into_diag(self.sources));
                        continue;
                    }
                };
                let rule_at = self.sources.span(rule.condition.span);
                let d = Diagnostic::error(format!("Invalid value for variable \"{}\"", decl.name))
                    .with_detail(message)
                    .with_help(format!(
                        "this was checked by the validation rule at {rule_at}"
                    ));
                let origin = origins.get(&decl.name).copied().unwrap_or(decl.header);
                let mut d = self.sources.locate(d, origin);
                if decl.sensitive {
                    d.source_line = None;
                }
                self.diags.push(d);
            }
        }
        out
    }

    /// A raw string from the command line or the environment: literal for primitive types,
    /// an HCL expression otherwise (as Terraform does).
    fn raw_value(
        &mut self,
        ty: Option<&Ty>,
        sensitive: bool,
        label: &str,
        raw: &str,
    ) -> Option<Given> {
        if raw.len() > *self.budget {
            self.diags.push(
                Diagnostic::error(format!("Value of {label} too large")).with_help(format!(
                    "all configuration and variable input together may be at most {} MiB",
                    MAX_CONFIG_BYTES / (1024 * 1024)
                )),
            );
            return None;
        }
        *self.budget -= raw.len();
        let file = self.sources.add(SourceFile::new(label, raw));
        let whole = BSpan::new(file, 0..raw.len());
        if ty.is_none_or(Ty::takes_literal_input) {
            return Some(Given {
                value: Value::string(raw.to_string()),
                origin: whole,
            });
        }
        match tunnelform_syntax::parse_expr(file, raw) {
            Ok((expr, errs)) => {
                if let Some(e) = errs.into_iter().next() {
                    self.diags
                        .push(self.hide(e.into_diag(self.sources), sensitive));
                    return None;
                }
                let ev = Evaluator::new(None, None, Path::new("."), "a variable value");
                match ev.eval(&expr, &Scope::root()) {
                    Ok(v) => Some(Given {
                        value: v,
                        origin: expr.span,
                    }),
                    Err(e) => {
                        let d = e.into_diag(self.sources);
                        self.diags.push(self.hide(d, sensitive));
                        None
                    }
                }
            }
            Err(e) => {
                let d = e.into_diag(self.sources).with_help(format!(
                    "the value of {label} is read as an expression because the variable's type is not a primitive: quote strings, e.g. [\"a\", \"b\"]"
                ));
                self.diags.push(self.hide(d, sensitive));
                None
            }
        }
    }

    fn hide(&self, mut d: Diagnostic, sensitive: bool) -> Diagnostic {
        if sensitive {
            d.source_line = None;
            d.detail = None;
        }
        d
    }

    fn read_var_file(&mut self, path: &Path, given: &mut HashMap<String, Given>) {
        let label = path.display().to_string();
        let text = match read_source_file(path, self.budget) {
            Ok(t) => t,
            Err(d) => {
                self.diags.push(*d);
                return;
            }
        };
        let file = self
            .sources
            .add(SourceFile::new(label.as_str(), text.as_str()));
        if label.ends_with(".json") {
            let parsed: Result<serde_json::Value, _> = serde_json::from_str(&text);
            match parsed {
                Ok(serde_json::Value::Object(obj)) => {
                    for (k, v) in obj {
                        let at = text.find(&format!("\"{k}\"")).unwrap_or(0);
                        let span = BSpan::new(file, at..at + k.len() + 2);
                        if self.decl(&k).is_none() {
                            let d =
                                Diagnostic::error(format!("Value for undeclared variable \"{k}\""))
                                    .with_help(self.undeclared_help(&k, &label));
                            self.diags.push(self.sources.locate(d, span));
                            continue;
                        }
                        given.insert(
                            k,
                            Given {
                                value: Value::from_json(&v),
                                origin: span,
                            },
                        );
                    }
                }
                Ok(_) => self.diags.push(
                    Diagnostic::error(format!("Invalid variable file {label}")).with_detail(
                        "a .tfvars.json file must hold one JSON object: {\"name\": value, ...}",
                    ),
                ),
                Err(e) => {
                    let line = e.line().max(1);
                    let span = tunnelform_model::Span::point(
                        label.as_str().into(),
                        line,
                        e.column().max(1),
                    );
                    let d = Diagnostic::error(format!("Invalid JSON in {label}"))
                        .with_detail(e.to_string());
                    let src = self.sources.get(file).map(|f| f.text.clone());
                    let mut d = d.with_span(span, src.as_deref());
                    d.source_line = d.source_line.as_deref().map(clip_line);
                    self.diags.push(d);
                }
            }
            return;
        }
        let (body, errs) = match tunnelform_syntax::parse_body(file, &text) {
            Ok(b) => b,
            Err(e) => {
                self.diags.push(e.into_diag(self.sources));
                return;
            }
        };
        for e in errs {
            self.diags.push(e.into_diag(self.sources));
        }
        for b in &body.blocks {
            let d = Diagnostic::error("Unexpected block in a variable file")
                .with_help("a .tfvars file holds only NAME = VALUE lines");
            self.diags.push(self.sources.locate(d, b.header));
        }
        let ev = Evaluator::new(None, None, Path::new("."), "a variable file");
        for a in &body.attrs {
            let Some(decl) = self.decl(&a.name) else {
                let d = Diagnostic::error(format!("Value for undeclared variable \"{}\"", a.name))
                    .with_help(self.undeclared_help(&a.name, &label));
                self.diags.push(self.sources.locate(d, a.name_span));
                continue;
            };
            let sensitive = decl.sensitive;
            match ev.eval(&a.expr, &Scope::root()) {
                Ok(v) => {
                    given.insert(
                        a.name.clone(),
                        Given {
                            value: v,
                            origin: a.expr.span,
                        },
                    );
                }
                Err(e) => {
                    let d = e.into_diag(self.sources);
                    self.diags.push(self.hide(d, sensitive));
                }
            }
        }
    }
}
