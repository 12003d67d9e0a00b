//! Big object constructors are parsed entry by entry (hcl-edit's own parse is quadratic in
//! the number of keys); the result must be exactly what a normal parse gives.

use crate::common;

use common::*;
use tunnelform_model::Value;

fn big_map_source(n: usize) -> String {
    let mut s = String::from("locals {\n  sites = {\n");
    for i in 0..n {
        match i % 6 {
            0 => s.push_str(&format!(
                "    s{i} = {{ ip = \"11.0.{}.1\", port = {i} }} # comment {{ }}\n",
                i % 250
            )),
            1 => s.push_str(&format!("    \"s{i}\" = \"${{upper(\"x{i}\")}}\"\n")),
            2 => s.push_str(&format!("    s{i}: {i} > 3 ? \"big\" : \"small\",\n")),
            3 => s.push_str(&format!(
                "    (\"s${{{i}}}\") = [\n      1,\n      2,\n    ]\n"
            )),
            4 => s.push_str(&format!("    s{i} = <<EOT\nline {i}\nEOT\n")),
            _ => s.push_str(&format!("    s{i} = {{ for k in [\"a\"] : k => {i} }}\n")),
        }
    }
    s.push_str("  }\n}\noutput \"sites\" {\n  value = local.sites\n}\n");
    s
}

fn expected(n: usize) -> Value {
    let mut m = tunnelform_model::Map::new();
    for i in 0..n {
        let v = match i % 6 {
            0 => map(vec![
                ("ip", s(&format!("11.0.{}.1", i % 250))),
                ("port", Value::int(i as i64)),
            ]),
            1 => s(&format!("X{i}")),
            2 => s(if i > 3 { "big" } else { "small" }),
            3 => list(vec![Value::int(1), Value::int(2)]),
            4 => s(&format!("line {i}\n")),
            _ => map(vec![("a", Value::int(i as i64))]),
        };
        m.insert(format!("s{i}").into(), v);
    }
    Value::Map(m)
}

#[test]
fn big_and_small_objects_agree() {
    for n in [10, 63, 64, 500] {
        let (_d, cfg) = load_ok(&big_map_source(n));
        assert_eq!(output(&cfg, "sites"), expected(n), "n = {n}");
    }
}

#[test]
fn errors_inside_big_objects_are_located() {
    let mut src = big_map_source(300);
    // A bad reference in the middle, and a duplicate key near the end.
    src = src.replace("    s150 = { ip", "    s150 = { ipx = var.nope, ip");
    let (d, e) = load_err(&src);
    let line = src.lines().position(|l| l.contains("var.nope")).unwrap() + 1;
    let col = src.lines().nth(line - 1).unwrap().find("var.nope").unwrap() + 1;
    assert_diag(
        &e,
        "Reference to undeclared input variable \"nope\"",
        &d.file("main.tf"),
        line,
        col,
    );

    let src = big_map_source(300).replace("    s294 = {", "    s12 = {");
    let (d, e) = load_err(&src);
    let line = src
        .lines()
        .position(|l| l.starts_with("    s12 = {") && l.contains("port = 294"))
        .unwrap()
        + 1;
    assert_diag(&e, "Duplicate object key", &d.file("main.tf"), line, 5);

    // A syntax error inside falls back to the normal parser's message.
    let src = big_map_source(300).replace("    s42 = {", "    s42 = {{");
    let (d, e) = load_err(&src);
    let line = src.lines().position(|l| l.contains("s42 = {{")).unwrap() + 1;
    assert!(
        e.iter().any(|x| x
            .span
            .as_ref()
            .is_some_and(|s| s.line == line && *s.file == *d.file("main.tf"))),
        "{e}"
    );
}

#[test]
fn big_maps_in_tfvars_and_on_the_command_line() {
    let entries: String = (0..200)
        .map(|i| format!("  site{i} = {{ cidr = \"10.{i}.0.0/16\" }}\n"))
        .collect();
    let d = Dir::new(&[
        ("main.tf", "variable \"sites\" {\n  type = map(object({ cidr = string }))\n}\noutput \"n\" {\n  value = length(var.sites)\n}\n"),
        ("terraform.tfvars", &format!("sites = {{\n{entries}}}\n")),
    ]);
    let (cfg, _) = d.load().unwrap();
    assert_eq!(output(&cfg, "n"), Value::int(200));
    let cli = format!("{{\n{entries}}}");
    let (cfg, _) = d
        .load_with(&vars(
            vec![tunnelform_config::VarArg::Pair(
                "sites".into(),
                cli.replace("site1 ", "x1 "),
            )],
            vec![],
        ))
        .unwrap();
    assert_eq!(output(&cfg, "n"), Value::int(200));
}
