//! Expressions: operators, templates, for expressions, splats, every function, and the
//! propagation of unknown and sensitive values.

use crate::common;

use common::*;
use tunnelform_config::{Config, NoLookup};
use tunnelform_model::{Address, Value};

fn i(n: i64) -> Value {
    Value::int(n)
}

fn f(x: f64) -> Value {
    Value::Number(tunnelform_model::Number::from_f64(x).unwrap())
}

#[test]
fn literals_and_operators() {
    assert_eq!(eval("1 + 2 * 3"), i(7));
    assert_eq!(eval("(1 + 2) * 3"), i(9));
    assert_eq!(eval("10 / 4"), f(2.5));
    assert_eq!(eval("10 / 5"), i(2));
    assert_eq!(eval("10 % 3"), i(1));
    assert_eq!(eval("-3 + 1"), i(-2));
    assert_eq!(eval("\"5\" + 1"), i(6));
    assert_eq!(
        eval("1 < 2 && 2 <= 2 && 3 > 2 && 3 >= 4 == false"),
        Value::Bool(true)
    );
    assert_eq!(eval("!true || false"), Value::Bool(false));
    assert_eq!(eval("[1, \"a\"] == [1, \"a\"]"), Value::Bool(true));
    assert_eq!(eval("{ a = 1 } != { a = 2 }"), Value::Bool(true));
    assert_eq!(eval("1 == 1.0"), Value::Bool(true));
    assert_eq!(eval("null == null"), Value::Bool(true));
    assert_eq!(eval("true ? \"y\" : \"n\""), s("y"));
    assert_eq!(eval("1 > 2 ? \"y\" : \"n\""), s("n"));
    assert_eq!(eval("{ a = { b = [10, 20] } }.a.b[1]"), i(20));
    assert_eq!(eval("[[1, 2], [3]][0][1]"), i(2));
    assert_eq!(eval("[\"x\", \"y\"].1"), s("y"));
}

#[test]
fn templates_and_heredocs() {
    assert_eq!(
        eval_with("locals {\n  n = \"world\"\n}", "\"hello ${local.n}!\""),
        s("hello world!")
    );
    assert_eq!(
        eval("\"${1 + 1}\""),
        i(2),
        "a lone interpolation keeps its type"
    );
    assert_eq!(eval("\"a${true}b${1.5}\""), s("atrueb1.5"));
    assert_eq!(eval("\"$${literal} %%{also}\""), s("${literal} %{also}"));
    assert_eq!(eval("\"%{ if true }yes%{ else }no%{ endif }\""), s("yes"));
    assert_eq!(
        eval("\"%{ for x in [1, 2, 3] }${x},%{ endfor }\""),
        s("1,2,3,")
    );
    assert_eq!(
        eval("\"%{ for k, v in { a = 1, b = 2 } }${k}=${v} %{ endfor }\""),
        s("a=1 b=2 ")
    );
    assert_eq!(eval("\"x  ${~ \"y\" ~}  z\""), s("xyz"));
    let (_d, cfg) = load_ok(
        "output \"x\" {\n  value = <<-EOT\n    line one\n      indented ${1 + 1}\n    EOT\n}\n",
    );
    assert_eq!(output(&cfg, "x"), s("line one\n  indented 2\n"));
    let (_d, cfg) = load_ok("output \"x\" {\n  value = <<EOT\n%{ for n in [\"a\", \"b\"] ~}\nitem ${n}\n%{ endfor ~}\nEOT\n}\n");
    assert_eq!(output(&cfg, "x"), s("item a\nitem b\n"));
}

#[test]
fn for_expressions_and_splats() {
    assert_eq!(
        eval("[for x in [1, 2, 3] : x * 2]"),
        list(vec![i(2), i(4), i(6)])
    );
    assert_eq!(
        eval("[for i, x in [\"a\", \"b\"] : \"${i}${x}\"]"),
        list(vec![s("0a"), s("1b")])
    );
    assert_eq!(
        eval("[for x in [1, 2, 3, 4] : x if x % 2 == 0]"),
        list(vec![i(2), i(4)])
    );
    assert_eq!(
        eval("{ for k, v in { a = 1, b = 2 } : upper(k) => v + 1 }"),
        map(vec![("A", i(2)), ("B", i(3))])
    );
    assert_eq!(
        eval("{ for s in [\"ax\", \"ay\", \"bz\"] : substr(s, 0, 1) => s... }"),
        map(vec![
            ("a", list(vec![s("ax"), s("ay")])),
            ("b", list(vec![s("bz")]))
        ])
    );
    assert_eq!(
        eval("[{ id = 1 }, { id = 2 }][*].id"),
        list(vec![i(1), i(2)])
    );
    assert_eq!(
        eval("[{ id = 1 }, { id = 2 }].*.id"),
        list(vec![i(1), i(2)])
    );
    assert_eq!(eval("{ id = 7 }[*].id"), list(vec![i(7)]));
    assert_eq!(eval("null[*].id"), list(vec![]));
    assert_eq!(eval("[[1, 2], [3, 4]][*][0]"), list(vec![i(1), i(3)]));
    assert_eq!(eval("length([for k, v in { a = 1 } : v])"), i(1));
}

#[test]
fn every_function() {
    let cases: &[(&str, Value)] = &[
        (
            "format(\"%s-%03d-%.2f-%q-%t-%v-%%\", \"a\", 7, 1.5, \"q\", true, 9)",
            s("a-007-1.50-\"q\"-true-9-%"),
        ),
        (
            "format(\"%-4s|%4s|%x\", \"ab\", \"cd\", 255)",
            s("ab  |  cd|ff"),
        ),
        (
            "formatlist(\"%s=%d\", [\"a\", \"b\"], [1, 2])",
            list(vec![s("a=1"), s("b=2")]),
        ),
        ("join(\", \", [\"a\", \"b\"], [\"c\"])", s("a, b, c")),
        (
            "split(\",\", \"a,b,,c\")",
            list(vec![s("a"), s("b"), s(""), s("c")]),
        ),
        ("split(\",\", \"\")", list(vec![])),
        ("lower(\"ABC\")", s("abc")),
        ("upper(\"abc\")", s("ABC")),
        ("title(\"hello world\")", s("Hello World")),
        ("lookup({ a = 1 }, \"a\")", i(1)),
        ("lookup({ a = 1 }, \"b\", 2)", i(2)),
        (
            "merge({ a = 1, b = 1 }, null, { b = 2 })",
            map(vec![("a", i(1)), ("b", i(2))]),
        ),
        ("concat([1], [], [2, 3])", list(vec![i(1), i(2), i(3)])),
        ("length(\"héllo\")", i(5)),
        ("length({ a = 1, b = 2 })", i(2)),
        ("keys({ b = 1, a = 2 })", list(vec![s("a"), s("b")])),
        ("values({ b = 1, a = 2 })", list(vec![i(2), i(1)])),
        ("tomap({ a = \"x\" })", map(vec![("a", s("x"))])),
        ("toset([\"b\", \"a\", \"b\"])", list(vec![s("a"), s("b")])),
        ("toset([10, 9, 10])", list(vec![i(9), i(10)])),
        ("tolist([1, 2])", list(vec![i(1), i(2)])),
        ("tostring(12)", s("12")),
        ("tostring(true)", s("true")),
        ("tonumber(\"42\")", i(42)),
        ("tobool(\"true\")", Value::Bool(true)),
        ("cidrsubnet(\"10.0.0.0/16\", 8, 2)", s("10.0.2.0/24")),
        ("cidrsubnet(\"10.1.2.3/16\", 4, 15)", s("10.1.240.0/20")),
        ("cidrsubnet(\"fd00::/56\", 8, 1)", s("fd00:0:0:1::/64")),
        (
            "cidrsubnets(\"10.0.0.0/16\", 8, 8, 4)",
            list(vec![s("10.0.0.0/24"), s("10.0.1.0/24"), s("10.0.16.0/20")]),
        ),
        ("cidrhost(\"10.0.0.0/24\", 5)", s("10.0.0.5")),
        ("cidrhost(\"10.0.0.0/24\", -2)", s("10.0.0.254")),
        ("cidrnetmask(\"10.0.0.0/20\")", s("255.255.240.0")),
        (
            "jsonencode({ b = [1, \"<x>\"], a = true })",
            s("{\"a\":true,\"b\":[1,\"\\u003cx\\u003e\"]}"),
        ),
        (
            "jsondecode(\"{\\\"a\\\": [1, 2.5, null]}\")",
            map(vec![("a", list(vec![i(1), f(2.5), Value::Null]))]),
        ),
        ("contains([\"a\", \"b\"], \"b\")", Value::Bool(true)),
        ("contains([1, 2], 3)", Value::Bool(false)),
        ("element([\"a\", \"b\", \"c\"], 4)", s("b")),
        ("flatten([[1, [2]], [], 3])", list(vec![i(1), i(2), i(3)])),
        ("distinct([1, 2, 1, 3, 2])", list(vec![i(1), i(2), i(3)])),
        ("coalesce(null, \"\", \"x\", \"y\")", s("x")),
        ("coalescelist([], [1])", list(vec![i(1)])),
        (
            "compact([\"a\", \"\", null, \"b\"])",
            list(vec![s("a"), s("b")]),
        ),
        ("try(local.missing_map.x, \"fallback\")", s("fallback")),
        ("try({ a = 1 }.b, { a = 1 }.a)", i(1)),
        ("can({ a = 1 }.b)", Value::Bool(false)),
        ("can(tonumber(\"12\"))", Value::Bool(true)),
        ("replace(\"a-b-c\", \"-\", \"_\")", s("a_b_c")),
        ("replace(\"a1b22\", \"/[0-9]+/\", \"#\")", s("a#b#")),
        ("substr(\"hello\", 1, 3)", s("ell")),
        ("substr(\"hello\", -3, -1)", s("llo")),
        ("trimspace(\"  x \\n\")", s("x")),
        ("trim(\"xxaxx\", \"x\")", s("a")),
        ("trimprefix(\"pre-x\", \"pre-\")", s("x")),
        ("trimsuffix(\"x.tf\", \".tf\")", s("x")),
        ("chomp(\"x\\n\")", s("x")),
        ("strrev(\"abc\")", s("cba")),
        ("startswith(\"vpngw-1\", \"vpngw-\")", Value::Bool(true)),
        ("endswith(\"a.tf\", \".tf\")", Value::Bool(true)),
        ("strcontains(\"abc\", \"b\")", Value::Bool(true)),
        ("range(3)", list(vec![i(0), i(1), i(2)])),
        ("range(1, 7, 3)", list(vec![i(1), i(4)])),
        ("range(3, 0)", list(vec![i(3), i(2), i(1)])),
        (
            "zipmap([\"a\", \"b\"], [1, 2])",
            map(vec![("a", i(1)), ("b", i(2))]),
        ),
        (
            "sort([\"b\", \"c\", \"a\"])",
            list(vec![s("a"), s("b"), s("c")]),
        ),
        ("reverse([1, 2])", list(vec![i(2), i(1)])),
        ("slice([1, 2, 3, 4], 1, 3)", list(vec![i(2), i(3)])),
        ("index([\"a\", \"b\"], \"b\")", i(1)),
        ("min(3, 1, 2)", i(1)),
        ("max(3, 1, 2.5)", i(3)),
        ("max([4, 9]...)", i(9)),
        ("abs(-4)", i(4)),
        ("ceil(1.2)", i(2)),
        ("floor(1.8)", i(1)),
        ("pow(2, 10)", i(1024)),
        ("signum(-3)", i(-1)),
        ("log(8, 2)", i(3)),
        ("parseint(\"ff\", 16)", i(255)),
        ("sum([1, 2, 3.5])", f(6.5)),
        ("alltrue([true, \"true\"])", Value::Bool(true)),
        ("anytrue([false])", Value::Bool(false)),
        ("one([])", Value::Null),
        ("one([\"x\"])", s("x")),
        (
            "setunion([\"a\"], [\"b\", \"a\"])",
            list(vec![s("a"), s("b")]),
        ),
        (
            "setintersection([\"a\", \"b\"], [\"b\", \"c\"])",
            list(vec![s("b")]),
        ),
        ("setsubtract([\"a\", \"b\"], [\"b\"])", list(vec![s("a")])),
        (
            "setproduct([\"a\"], [1, 2])",
            list(vec![list(vec![s("a"), i(1)]), list(vec![s("a"), i(2)])]),
        ),
        (
            "transpose({ a = [\"x\"], b = [\"x\", \"y\"] })",
            map(vec![
                ("x", list(vec![s("a"), s("b")])),
                ("y", list(vec![s("b")])),
            ]),
        ),
        (
            "regex(\"^vpngw-([a-z0-9]+)$\", \"vpngw-ab12\")",
            list(vec![s("ab12")]),
        ),
        ("regex(\"[0-9]+\", \"ab12\")", s("12")),
        ("regexall(\"[0-9]\", \"a1b2\")", list(vec![s("1"), s("2")])),
        ("base64encode(\"hi\")", s("aGk=")),
        ("base64decode(\"aGk=\")", s("hi")),
        (
            "sha256(\"abc\")",
            s("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ),
        ("nonsensitive(sensitive(\"x\"))", s("x")),
    ];
    let mut failures = Vec::new();
    for (expr, want) in cases {
        // A missing local makes try() fall back; declare one that exists to keep the config valid.
        let extra = "locals {\n  missing_map = {}\n}";
        let got = eval_with(extra, expr);
        if &got != want {
            failures.push(format!("{expr}: got {got:?}, want {want:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn function_errors_name_the_argument() {
    let (d, e) = eval_err("cidrsubnet(\"10.0.0.0/16\", 20, 0)");
    assert_diag(
        &e,
        "Invalid function argument to cidrsubnet()",
        &d.file("main.tf"),
        2,
        11,
    );
    let (d, e) = eval_err("lookup({ alpha = 1 }, \"alpah\")");
    let diag = assert_diag(
        &e,
        "Invalid function argument to lookup()",
        &d.file("main.tf"),
        2,
        33,
    );
    assert_eq!(diag.help.as_deref(), Some("did you mean \"alpha\"?"));
    let (d, e) = eval_err("formatt(\"%s\", 1)");
    let diag = assert_diag(
        &e,
        "Call to unknown function \"formatt\"",
        &d.file("main.tf"),
        2,
        11,
    );
    assert_eq!(diag.help.as_deref(), Some("did you mean \"format\"?"));
    let (d, e) = eval_err("[1, 2][5]");
    let diag = assert_diag(&e, "Invalid index", &d.file("main.tf"), 2, 17);
    assert!(diag.detail.unwrap().contains("the list has 2 elements"));
    let (d, e) = eval_err("{ name = 1 }.nmae");
    let diag = assert_diag(
        &e,
        "Unsupported attribute \"nmae\"",
        &d.file("main.tf"),
        2,
        23,
    );
    assert_eq!(diag.help.as_deref(), Some("did you mean \"name\"?"));
    let (_, e) = eval_err("1 / 0");
    assert!(e.to_string().contains("Division by zero"), "{e}");
    let (_, e) = eval_err("\"a${[1]}\"");
    assert!(
        e.to_string()
            .contains("Invalid template interpolation value"),
        "{e}"
    );
    let (_, e) = eval_err("range(1000000)");
    assert!(e.to_string().contains("more than 100000"), "{e}");
    let (_, e) = eval_err("{ for x in [\"a\", \"a\"] : x => 1 }");
    assert!(e.to_string().contains("Duplicate object key \"a\""), "{e}");
    let (_, e) = eval_err("format(\"%s %s\", \"a\")");
    assert!(
        e.to_string().contains("Not enough arguments for format()"),
        "{e}"
    );
}

/// A configuration whose gateway is unknown until it exists.
const UNKNOWN_GW: &str = r#"
resource "tencentcloud_vpn_gateway" "gw" {
  name = "gw"
}
locals {
  id = tencentcloud_vpn_gateway.gw.id
}
"#;

fn unknown_out(expr: &str) -> Value {
    let (_d, cfg) = load_ok(&format!(
        "{UNKNOWN_GW}\noutput \"x\" {{\n  value = {expr}\n}}\n"
    ));
    output(&cfg, "x")
}

#[test]
fn unknown_values_propagate() {
    assert_eq!(unknown_out("local.id"), Value::Unknown);
    assert_eq!(unknown_out("\"id-${local.id}\""), Value::Unknown);
    assert_eq!(unknown_out("upper(local.id)"), Value::Unknown);
    assert_eq!(unknown_out("local.id == \"x\""), Value::Unknown);
    assert_eq!(unknown_out("local.id + 1"), Value::Unknown);
    assert_eq!(unknown_out("local.id != null ? 1 : 2"), Value::Unknown);
    assert_eq!(unknown_out("[for x in local.id : x]"), Value::Unknown);
    assert_eq!(
        unknown_out("[local.id, \"b\"]"),
        list(vec![Value::Unknown, s("b")])
    );
    assert_eq!(
        unknown_out("tencentcloud_vpn_gateway.gw.public_ip_address"),
        Value::Unknown
    );
    // Results decided without the unknown value are known.
    assert_eq!(
        unknown_out("false && local.id == \"x\""),
        Value::Bool(false)
    );
    assert_eq!(unknown_out("true || local.id == \"x\""), Value::Bool(true));
    assert_eq!(
        unknown_out("local.id == \"x\" && false"),
        Value::Bool(false)
    );
    assert_eq!(unknown_out("length([local.id, local.id])"), i(2));
    assert_eq!(unknown_out("lookup({ a = 1, b = local.id }, \"a\")"), i(1));
    assert_eq!(unknown_out("coalesce(\"x\", local.id)"), s("x"));
    assert_eq!(
        unknown_out("contains([\"a\", local.id], \"a\")"),
        Value::Bool(true)
    );
    assert_eq!(
        unknown_out("contains([\"a\", local.id], \"b\")"),
        Value::Unknown
    );
    assert_eq!(unknown_out("keys({ a = local.id })"), list(vec![s("a")]));
    assert_eq!(unknown_out("can(local.id)"), Value::Unknown);
    assert_eq!(unknown_out("try(local.id, \"x\")"), Value::Unknown);
    assert_eq!(unknown_out("jsonencode({ a = local.id })"), Value::Unknown);
    // With the gateway known, everything is known.
    let (_d, cfg) = load_ok(&format!(
        "{UNKNOWN_GW}\noutput \"x\" {{\n  value = \"id-${{upper(local.id)}}\"\n}}\n"
    ));
    let lookup = |a: &Address| {
        (a.to_string() == "tencentcloud_vpn_gateway.gw").then(|| map(vec![("id", s("vpngw-ab"))]))
    };
    assert_eq!(cfg.outputs(&lookup).unwrap()[0].value, s("id-VPNGW-AB"));
}

const SECRET: &str = r#"
variable "key" {
  type      = string
  sensitive = true
  default   = "s3cret-value"
}
variable "tags" {
  type      = map(string)
  sensitive = true
  default   = { team = "net" }
}
"#;

#[test]
fn sensitive_values_propagate() {
    let marked = |e: &str| {
        let (_d, cfg) = load_ok(&format!(
            "{SECRET}\noutput \"x\" {{\n  value = {e}\n  sensitive = true\n}}\n"
        ));
        let outs = cfg.outputs(&NoLookup).unwrap();
        // The output itself is marked; look inside for the evaluation's own mark.
        outs[0].value.clone().into_unmarked()
    };
    let is_marked = |e: &str| {
        let (_d, cfg) = load_ok(&format!("{SECRET}\noutput \"x\" {{\n  value = {e}\n}}\n"));
        match cfg.outputs(&NoLookup) {
            Err(d) => d.to_string().contains("refers to sensitive values"),
            Ok(_) => false,
        }
    };
    for e in [
        "var.key",
        "\"prefix-${var.key}\"",
        "upper(var.key)",
        "length(var.key)",
        "var.key == \"x\"",
        "var.tags.team",
        "var.tags[\"team\"]",
        "lookup(var.tags, \"team\")",
        "[for c in split(\"-\", var.key) : c]",
        "var.key != \"\" ? \"a\" : \"b\"",
        "jsonencode({ k = var.key })",
        "[var.key]",
        "{ k = var.key }",
        "sensitive(\"x\")",
    ] {
        assert!(is_marked(e), "{e} should be sensitive");
    }
    assert!(!is_marked("nonsensitive(var.key)"));
    assert!(!is_marked("\"plain\""));
    assert_eq!(marked("upper(var.key)"), s("S3CRET-VALUE"));
    // A sensitive value never appears in an error message.
    for e in [
        "tonumber(var.key)",
        "var.key + 1",
        "{ a = 1 }[var.key]",
        "var.tags[var.key]",
    ] {
        let (_d, cfg) = load_ok(&format!(
            "{SECRET}\noutput \"x\" {{\n  value = {e}\n  sensitive = true\n}}\n"
        ));
        let err = cfg.outputs(&NoLookup).unwrap_err();
        assert!(!err.to_string().contains("s3cret-value"), "{e}: {err}");
        assert!(!format!("{err:?}").contains("s3cret-value"), "{e}: {err:?}");
    }
}

#[test]
fn nested_marks_survive_traversal() {
    let (_d, cfg) = load_ok(&format!("{SECRET}\nlocals {{\n  obj = {{ k = var.key, plain = \"p\" }}\n}}\noutput \"p\" {{\n  value = local.obj.plain\n}}\noutput \"k\" {{\n  value = local.obj.k\n  sensitive = true\n}}\n"));
    let outs = cfg.outputs(&NoLookup).unwrap();
    let p = outs.iter().find(|o| o.name == "p").unwrap();
    assert_eq!(p.value, s("p"), "a plain sibling of a secret stays plain");
    let k = outs.iter().find(|o| o.name == "k").unwrap();
    assert!(k.value.is_sensitive());
    assert!(
        !format!("{:?}", outs).contains("s3cret"),
        "Debug never shows secrets"
    );
}

#[test]
fn whole_resource_references() {
    let src = r#"
resource "tencentcloud_vpn_customer_gateway" "cgw" {
  for_each          = { a = "203.0.113.1", b = "203.0.113.2" }
  name              = each.key
  public_ip_address = each.value
}
resource "tencentcloud_vpn_gateway" "gws" {
  count = 2
  name  = "gw-${count.index}"
}
output "ids" {
  value = { for k, c in tencentcloud_vpn_customer_gateway.cgw : k => c.id }
}
output "gw_names" {
  value = tencentcloud_vpn_gateway.gws[*].name
}
output "one" {
  value = tencentcloud_vpn_customer_gateway.cgw["b"].id
}
output "count" {
  value = length(tencentcloud_vpn_gateway.gws)
}
"#;
    let (_d, cfg) = load_ok(src);
    let lookup = |a: &Address| match a.to_string().as_str() {
        "tencentcloud_vpn_customer_gateway.cgw[\"a\"]" => Some(map(vec![("id", s("cgw-a"))])),
        "tencentcloud_vpn_customer_gateway.cgw[\"b\"]" => Some(map(vec![("id", s("cgw-b"))])),
        "tencentcloud_vpn_gateway.gws[0]" => Some(map(vec![("id", s("g0")), ("name", s("gw-0"))])),
        _ => None,
    };
    let outs = cfg.outputs(&lookup).unwrap();
    let get = |n: &str| outs.iter().find(|o| o.name == n).unwrap().value.clone();
    assert_eq!(get("ids"), map(vec![("a", s("cgw-a")), ("b", s("cgw-b"))]));
    assert_eq!(get("gw_names"), list(vec![s("gw-0"), Value::Unknown]));
    assert_eq!(get("one"), s("cgw-b"));
    assert_eq!(get("count"), i(2));

    // A key that is not an instance is an error with a suggestion.
    let (_d, cfg) = load_ok(&src.replace("cgw[\"b\"].id", "cgw[\"c\"].id"));
    let e = cfg.outputs(&NoLookup).unwrap_err();
    assert!(
        e.to_string().contains("Invalid resource instance key"),
        "{e}"
    );
    let _ = Config::load;
}
