//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use tunnelform_config::{Config, Diagnostics, NoLookup, VarArg, VarInputs};
use tunnelform_model::{Address, Value};

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A temporary configuration directory with the given files.
pub struct Dir {
    pub tmp: tempfile::TempDir,
}

impl Dir {
    pub fn new(files: &[(&str, &str)]) -> Dir {
        let tmp = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(tmp.path().join(name), text).unwrap();
        }
        Dir { tmp }
    }

    pub fn path(&self) -> &Path {
        self.tmp.path()
    }

    pub fn file(&self, name: &str) -> String {
        self.tmp.path().join(name).display().to_string()
    }

    pub fn load(&self) -> Result<(Config, Diagnostics), Diagnostics> {
        Config::load(self.path(), &VarInputs::default())
    }

    pub fn load_with(&self, vars: &VarInputs) -> Result<(Config, Diagnostics), Diagnostics> {
        Config::load(self.path(), vars)
    }

    /// Loads and expects errors; returns them.
    pub fn errors(&self) -> Diagnostics {
        match self.load() {
            Ok((c, w)) => panic!("expected errors, loaded {c:?} with warnings {w}"),
            Err(d) => d,
        }
    }
}

/// Loads a single main.tf that must succeed.
pub fn load_ok(main: &str) -> (Dir, Config) {
    let d = Dir::new(&[("main.tf", main)]);
    let (c, _) = d.load().unwrap_or_else(|e| panic!("load failed:\n{e}"));
    (d, c)
}

/// Loads a single main.tf that must fail; returns the diagnostics and the directory.
pub fn load_err(main: &str) -> (Dir, Diagnostics) {
    let d = Dir::new(&[("main.tf", main)]);
    let e = d.errors();
    (d, e)
}

/// The value of output "x" of a configuration (evaluated with no resources known).
pub fn output(cfg: &Config, name: &str) -> Value {
    let outs = cfg
        .outputs(&NoLookup)
        .unwrap_or_else(|e| panic!("outputs failed:\n{e}"));
    outs.into_iter()
        .find(|o| o.name == name)
        .unwrap_or_else(|| panic!("no output {name}"))
        .value
}

/// Evaluates one expression (with optional extra top-level text, e.g. variables).
pub fn eval_with(extra: &str, expr: &str) -> Value {
    let (_d, cfg) = load_ok(&format!(
        "{extra}\noutput \"x\" {{\n  value = {expr}\n  sensitive = true\n}}\n"
    ));
    output(&cfg, "x").into_unmarked()
}

/// Evaluates one expression, keeping sensitive marks.
pub fn eval_marked(extra: &str, expr: &str) -> Value {
    let (_d, cfg) = load_ok(&format!(
        "{extra}\noutput \"x\" {{\n  value = {expr}\n  sensitive = true\n}}\n"
    ));
    match output(&cfg, "x") {
        Value::Sensitive(inner) => *inner,
        v => v,
    }
}

pub fn eval(expr: &str) -> Value {
    eval_with("", expr)
}

/// The error diagnostics of evaluating output "x" = expr.
pub fn eval_err(expr: &str) -> (Dir, Diagnostics) {
    let d = Dir::new(&[(
        "main.tf",
        &format!("output \"x\" {{\n  value = {expr}\n}}\n"),
    )]);
    match d.load() {
        Err(e) => (d, e),
        Ok((cfg, _)) => {
            let e = cfg
                .outputs(&NoLookup)
                .expect_err("expected an evaluation error");
            (d, e)
        }
    }
}

pub fn s(v: &str) -> Value {
    Value::from(v)
}

pub fn list(items: Vec<Value>) -> Value {
    Value::List(items)
}

pub fn map(items: Vec<(&str, Value)>) -> Value {
    Value::Map(items.into_iter().collect::<tunnelform_model::Map>())
}

pub fn addr(s: &str) -> Address {
    s.parse().unwrap()
}

pub fn vars(cli: Vec<VarArg>, env: Vec<(&str, &str)>) -> VarInputs {
    VarInputs {
        cli,
        env: env
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..Default::default()
    }
}

/// Asserts that one diagnostic has this summary (substring) at file:line:column.
pub fn assert_diag(
    diags: &Diagnostics,
    summary: &str,
    file: &str,
    line: usize,
    column: usize,
) -> tunnelform_config::Diagnostic {
    let found = diags.iter().find(|d| d.summary.contains(summary));
    let Some(d) = found else {
        panic!("no diagnostic containing {summary:?} in:\n{diags}")
    };
    let span = d
        .span
        .as_ref()
        .unwrap_or_else(|| panic!("diagnostic without span: {d}"));
    assert_eq!(
        (span.file.as_ref(), span.line, span.column),
        (file, line, column),
        "wrong location for {summary:?}:\n{d}"
    );
    assert!(d.source_line.is_some(), "no source line:\n{d}");
    d.clone()
}
