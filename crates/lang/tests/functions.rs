//! The built-in functions through the evaluator, against the examples and edge cases of
//! Terraform's function documentation. Files are read from a temporary module directory.

use std::path::Path;

use serde_json::{json, Value as Json};
use tunnelform_lang::eval::{Evaluator, Scope};
use tunnelform_model::Value;
use tunnelform_syntax::{parse_expr, SpanError};

fn eval_in(dir: &Path, src: &str) -> Result<Value, SpanError> {
    let (e, errs) = parse_expr(0, src).unwrap_or_else(|e| panic!("{src}: {e:?}"));
    assert!(errs.is_empty(), "{errs:?}");
    let ev = Evaluator::new(None, None, dir, "a test");
    ev.eval(&e, &Scope::root()).map_err(|e| *e)
}

fn ok_in(dir: &Path, src: &str) -> Json {
    match eval_in(dir, src) {
        Ok(v) => v.to_json(),
        Err(e) => panic!("{src}: {e:?}"),
    }
}

fn ok(src: &str) -> Json {
    ok_in(Path::new("."), src)
}

/// The error of `src`: summary, detail and help in one string.
fn err_in(dir: &Path, src: &str) -> String {
    match eval_in(dir, src) {
        Ok(v) => panic!("{src} gave {v:?}"),
        Err(e) => format!(
            "{} | {} | {}",
            e.summary,
            e.detail.unwrap_or_default(),
            e.help.unwrap_or_default()
        ),
    }
}

fn err(src: &str) -> String {
    err_in(Path::new("."), src)
}

fn module() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("hello.txt"), "Hello World").unwrap();
    std::fs::create_dir_all(d.path().join("sub/deeper")).unwrap();
    std::fs::write(d.path().join("sub/a.tpl"), "a").unwrap();
    std::fs::write(d.path().join("sub/deeper/b.tpl"), "b").unwrap();
    std::fs::write(d.path().join("sub/c.txt"), "c").unwrap();
    std::fs::write(d.path().join("binary.bin"), [0xff, 0xfe, 0x00]).unwrap();
    d
}

#[test]
fn file_reads_relative_to_the_module_directory() {
    let d = module();
    assert_eq!(
        ok_in(d.path(), r#"file("hello.txt")"#),
        json!("Hello World")
    );
    assert_eq!(
        ok_in(d.path(), r#"file("${path.module}/hello.txt")"#),
        json!("Hello World")
    );
    let abs = d.path().join("hello.txt");
    assert_eq!(
        ok(&format!("file({:?})", abs.display().to_string())),
        json!("Hello World")
    );
    // A file outside the module directory may be read, as in Terraform.
    let inner = d.path().join("sub");
    assert_eq!(
        ok_in(&inner, r#"file("../hello.txt")"#),
        json!("Hello World")
    );
}

#[test]
fn file_errors_name_the_file_and_say_why() {
    let d = module();
    let e = err_in(d.path(), r#"file("missing.txt")"#);
    assert!(e.starts_with("Invalid function argument to file()"), "{e}");
    assert!(e.contains("no file exists at \"missing.txt\""), "{e}");
    assert!(
        e.contains(&d.path().join("missing.txt").display().to_string()),
        "{e}"
    );
    assert!(e.contains("created by a resource"), "{e}");
    let e = err_in(d.path(), r#"file("sub")"#);
    assert!(e.contains("\"sub\"") && e.contains("is a directory"), "{e}");
    let e = err_in(d.path(), r#"file("binary.bin")"#);
    assert!(
        e.contains("not valid UTF-8") && e.contains("filebase64"),
        "{e}"
    );
    assert_eq!(
        ok_in(d.path(), r#"filebase64("binary.bin")"#),
        json!("//4A")
    );
}

#[test]
fn file_refuses_files_over_the_size_limit() {
    let d = module();
    let f = std::fs::File::create(d.path().join("big.txt")).unwrap();
    f.set_len(tunnelform_lang::functions::MAX_FILE_BYTES + 1)
        .unwrap();
    let e = err_in(d.path(), r#"file("big.txt")"#);
    assert!(
        e.contains("\"big.txt\"") && e.contains("larger than 8 MiB"),
        "{e}"
    );
    let e = err_in(d.path(), r#"filesha256("big.txt")"#);
    assert!(e.contains("larger than 8 MiB"), "{e}");
}

#[test]
fn fileexists_and_fileset() {
    let d = module();
    assert_eq!(ok_in(d.path(), r#"fileexists("hello.txt")"#), json!(true));
    assert_eq!(ok_in(d.path(), r#"fileexists("nope.txt")"#), json!(false));
    let e = err_in(d.path(), r#"fileexists("sub")"#);
    assert!(e.contains("is a directory"), "{e}");
    assert_eq!(
        ok_in(d.path(), r#"fileset("sub", "*.tpl")"#),
        json!(["a.tpl"])
    );
    assert_eq!(
        ok_in(d.path(), r#"fileset(path.module, "**/*.tpl")"#),
        json!(["sub/a.tpl", "sub/deeper/b.tpl"])
    );
    assert_eq!(
        ok_in(d.path(), r#"fileset("sub", "{a.tpl,c.txt}")"#),
        json!(["a.tpl", "c.txt"])
    );
    assert_eq!(ok_in(d.path(), r#"fileset("nowhere", "*")"#), json!([]));
    let e = err_in(d.path(), r#"fileset("sub", "[")"#);
    assert!(e.contains("invalid pattern"), "{e}");
}

#[test]
fn hashes_of_strings_and_files() {
    let d = module();
    std::fs::write(d.path().join("hw.txt"), "hello world").unwrap();
    for (f, want) in [
        ("md5", "5eb63bbbe01eeed093cb22bb8f5acdc3"),
        ("sha1", "2aae6c35c94fcfb415dbe95f408b9ce91ee846ed"),
        ("sha256", "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"),
        ("sha512", "309ecc489c12d6eb4cc40f50c902f2b4d0ed77ee511a7c7a9bcd3ca86d4cd86f989dd35bc5ff499670da34255b45b0cfd830e81f605dcf7dc5542e93ae9cd76f"),
        ("base64sha256", "uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek="),
        ("base64sha512", "MJ7MSJwS1utMxA9QyQLytNDtd+5RGnx6m808qG1M2G+YndNbxf9JlnDaNCVbRbDP2DDoH2Bdz33FVC6TrpzXbw=="),
    ] {
        assert_eq!(ok(&format!(r#"{f}("hello world")"#)), json!(want), "{f}");
        assert_eq!(
            ok_in(d.path(), &format!(r#"file{f}("hw.txt")"#)),
            json!(want),
            "file{f}"
        );
    }
}

#[test]
fn templatefile_renders_terraforms_examples() {
    let d = module();
    std::fs::write(
        d.path().join("backends.tftpl"),
        "%{ for addr in ip_addrs ~}\nbackend ${addr}:${port}\n%{ endfor ~}\n",
    )
    .unwrap();
    assert_eq!(
        ok_in(
            d.path(),
            r#"templatefile("${path.module}/backends.tftpl", { port = 8080, ip_addrs = ["10.0.0.1", "10.0.0.2"] })"#
        ),
        json!("backend 10.0.0.1:8080\nbackend 10.0.0.2:8080\n")
    );
    std::fs::write(
        d.path().join("json.tftpl"),
        r#"${jsonencode({"backends": [for addr in ip_addrs : "${addr}:${port}"]})}"#,
    )
    .unwrap();
    assert_eq!(
        ok_in(
            d.path(),
            r#"templatefile("json.tftpl", { port = 8080, ip_addrs = ["10.0.0.1", "10.0.0.2"] })"#
        ),
        json!(r#"{"backends":["10.0.0.1:8080","10.0.0.2:8080"]}"#)
    );
    std::fs::write(
        d.path().join("if.tftpl"),
        "name=${name}\n%{ if primary ~}\nrole=primary\n%{~ else ~}\nrole=backup\n%{~ endif }\n",
    )
    .unwrap();
    assert_eq!(
        ok_in(
            d.path(),
            r#"templatefile("if.tftpl", { name = "sh", primary = true })"#
        ),
        json!("name=sh\nrole=primary\n")
    );
    assert_eq!(
        ok_in(
            d.path(),
            r#"templatefile("if.tftpl", { name = "bj", primary = false })"#
        ),
        json!("name=bj\nrole=backup\n")
    );
    // A template of one interpolation gives the value itself.
    std::fs::write(d.path().join("one.tftpl"), "${x}").unwrap();
    assert_eq!(
        ok_in(d.path(), r#"templatefile("one.tftpl", { x = [1, 2] })"#),
        json!([1, 2])
    );
    // Functions are available inside templates.
    std::fs::write(d.path().join("fn.tftpl"), "${upper(file(\"hello.txt\"))}!").unwrap();
    assert_eq!(
        ok_in(d.path(), r#"templatefile("fn.tftpl", {})"#),
        json!("HELLO WORLD!")
    );
}

#[test]
fn templatefile_errors_name_the_template_and_the_place_in_it() {
    let d = module();
    std::fs::write(d.path().join("t.tftpl"), "line one\nport ${prot}\n").unwrap();
    let e = err_in(d.path(), r#"templatefile("t.tftpl", { port = 1 })"#);
    assert!(e.contains("Unknown template variable \"prot\""), "{e}");
    assert!(e.contains("t.tftpl"), "{e}");
    assert!(e.contains("line 2, column 8"), "{e}");
    assert!(
        e.contains("did you mean \"port\"") || e.contains("port"),
        "{e}"
    );
    std::fs::write(d.path().join("bad.tftpl"), "ok\n%{ if x }never closed\n").unwrap();
    let e = err_in(d.path(), r#"templatefile("bad.tftpl", { x = true })"#);
    assert!(e.contains("bad.tftpl") && e.contains("line "), "{e}");
    // References to the module's values are not available in a template.
    std::fs::write(d.path().join("var.tftpl"), "${var.x}").unwrap();
    let e = err_in(d.path(), r#"templatefile("var.tftpl", {})"#);
    assert!(e.contains("Unknown template variable \"var\""), "{e}");
    // Template variable names must be identifiers.
    let e = err_in(d.path(), r#"templatefile("t.tftpl", { "not valid" = 1 })"#);
    assert!(
        e.contains("invalid template variable name \"not valid\""),
        "{e}"
    );
    // No recursion.
    std::fs::write(
        d.path().join("rec.tftpl"),
        "${templatefile(\"t.tftpl\", {})}",
    )
    .unwrap();
    let e = err_in(d.path(), r#"templatefile("rec.tftpl", {})"#);
    assert!(e.contains("cannot be called from inside a template"), "{e}");
    let e = err_in(d.path(), r#"templatefile("none.tftpl", {})"#);
    assert!(e.contains("no file exists at \"none.tftpl\""), "{e}");
}

#[test]
fn templatefile_with_unknown_or_sensitive_variables() {
    let d = module();
    std::fs::write(d.path().join("t.tftpl"), "psk=${psk}").unwrap();
    let v = eval_in(
        d.path(),
        r#"templatefile("t.tftpl", { psk = sensitive("s3cret") })"#,
    )
    .unwrap();
    assert!(v.is_sensitive(), "{v:?}");
    // An unknown value makes the result unknown.
    let ev = Evaluator::new(None, None, d.path(), "a test");
    let unknown = Value::Unknown;
    let sc = Scope::with_each(&unknown, &unknown);
    let (e, _) = parse_expr(0, r#"templatefile("t.tftpl", { psk = each.value })"#).unwrap();
    assert_eq!(ev.eval(&e, &sc).unwrap(), Value::Unknown);
}

#[test]
fn templatestring_takes_a_reference() {
    assert_eq!(
        ok(r#"[for t in ["hi $${name}"] : templatestring(t, { name = "sh" })][0]"#),
        json!("hi sh")
    );
    let e = err(r#"templatestring("hi", {})"#);
    assert!(e.contains("reference to a string value"), "{e}");
}

#[test]
fn csvdecode_as_terraform_documents_it() {
    assert_eq!(
        ok(r#"csvdecode("a,b,c\n1,2,3\n4,5,6")"#),
        json!([{"a": "1", "b": "2", "c": "3"}, {"a": "4", "b": "5", "c": "6"}])
    );
    // Header only: no rows. Quoted fields may hold commas, quotes and newlines; CRLF works.
    assert_eq!(ok(r#"csvdecode("name,cidr\n")"#), json!([]));
    assert_eq!(
        ok(r#"csvdecode("name,note\r\nsh,\"a, \"\"b\"\"\nc\"\r\n")"#),
        json!([{"name": "sh", "note": "a, \"b\"\nc"}])
    );
    let e = err(r#"csvdecode("a,b\n1,2,3\n")"#);
    assert!(
        e.contains("line 2 has 3 field(s), but the header line has 2"),
        "{e}"
    );
    let e = err(r#"csvdecode("")"#);
    assert!(e.contains("missing header line"), "{e}");
    let e = err(r#"csvdecode("a,a\n1,2")"#);
    assert!(e.contains("duplicate column name \"a\""), "{e}");
}

#[test]
fn csvdecode_of_a_file_is_the_sites_table_pattern() {
    let d = module();
    std::fs::write(
        d.path().join("sites.csv"),
        "name,public_ip,cidr\nsh,203.0.113.10,10.1.0.0/16\nbj,203.0.113.20,10.2.0.0/16\n",
    )
    .unwrap();
    assert_eq!(
        ok_in(
            d.path(),
            r#"{ for s in csvdecode(file("${path.module}/sites.csv")) : s.name => s.cidr }"#
        ),
        json!({"bj": "10.2.0.0/16", "sh": "10.1.0.0/16"})
    );
}

#[test]
fn yamldecode_as_terraform_documents_it() {
    assert_eq!(
        ok(r#"yamldecode("hello: world")"#),
        json!({"hello": "world"})
    );
    assert_eq!(ok(r#"yamldecode("true")"#), json!(true));
    assert_eq!(
        ok(r#"yamldecode("{a: &foo [1, 2, 3], b: *foo}")"#),
        json!({"a": [1, 2, 3], "b": [1, 2, 3]})
    );
    let e = err(r#"yamldecode("{a: &foo [1, *foo, 3]}")"#);
    assert!(e.contains("alias"), "{e}");
    let e = err(r#"yamldecode("{a: !not-supported foo}")"#);
    assert!(e.contains("unsupported tag"), "{e}");
    // YAML 1.2 core schema: yes/no/on/off stay strings; quoted scalars are strings.
    assert_eq!(
        ok(
            r#"yamldecode("a: yes\nb: 0x10\nc: 1.5e3\nd: '1'\ne: ~\nf: null\ng: -7\nh: 0o17\ni: 1.25\nj: .5")"#
        ),
        json!({"a": "yes", "b": 16, "c": 1500, "d": "1", "e": null, "f": null, "g": -7, "h": 15, "i": 1.25, "j": 0.5})
    );
    assert_eq!(ok(r#"yamldecode("")"#), json!(null));
    assert_eq!(
        ok(r#"yamldecode("- 1\n- two\n- [3]")"#),
        json!([1, "two", [3]])
    );
    assert_eq!(
        ok(r#"yamldecode("base: &b {x: 1, y: 2}\nderived:\n  <<: *b\n  y: 3")"#),
        json!({"base": {"x": 1, "y": 2}, "derived": {"x": 1, "y": 3}})
    );
    assert_eq!(ok(r#"yamldecode("a: !!str 12")"#), json!({"a": "12"}));
    let e = err(r#"yamldecode("a: !!int x")"#);
    assert!(e.contains("cannot parse \"x\" as !!int"), "{e}");
    let e = err(r#"yamldecode("a: 1\n---\nb: 2")"#);
    assert!(e.contains("one document"), "{e}");
    let e = err(r#"yamldecode("a: 1\na: 2")"#);
    assert!(e.contains("duplicate key \"a\""), "{e}");
    let e = err(r#"yamldecode("a: [1, 2")"#);
    assert!(e.contains("invalid YAML at line"), "{e}");
    let e = err(r#"yamldecode("a: .inf")"#);
    assert!(e.contains("finite"), "{e}");
}

#[test]
fn yamldecode_refuses_alias_bombs_and_deep_nesting() {
    let mut doc = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..9 {
        let p = i - 1;
        doc.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    let d = module();
    std::fs::write(d.path().join("bomb.yaml"), &doc).unwrap();
    let e = err_in(d.path(), r#"yamldecode(file("bomb.yaml"))"#);
    assert!(e.contains("more than 1000000 elements"), "{e}");
    let deep = format!("{}{}", "[".repeat(150), "]".repeat(150));
    std::fs::write(d.path().join("deep.yaml"), &deep).unwrap();
    let e = err_in(d.path(), r#"yamldecode(file("deep.yaml"))"#);
    assert!(e.contains("nested more than 100 levels"), "{e}");
}

#[test]
fn yamlencode_as_terraform_documents_it() {
    assert_eq!(
        ok(r#"yamlencode({"a":"b", "c":"d"})"#),
        json!("\"a\": \"b\"\n\"c\": \"d\"\n")
    );
    assert_eq!(
        ok(r#"yamlencode({"foo":[1, 2, 3], "bar": "baz"})"#),
        json!("\"bar\": \"baz\"\n\"foo\":\n- 1\n- 2\n- 3\n")
    );
    assert_eq!(
        ok(r#"yamlencode({"foo":[1, {"a":"b","c":"d"}, 3], "bar": "baz"})"#),
        json!("\"bar\": \"baz\"\n\"foo\":\n- 1\n- \"a\": \"b\"\n  \"c\": \"d\"\n- 3\n")
    );
    assert_eq!(ok(r#"yamlencode([])"#), json!("[]\n"));
    assert_eq!(ok(r#"yamlencode(null)"#), json!("null\n"));
    // What yamlencode writes, yamldecode reads back.
    assert_eq!(
        ok(
            r#"yamldecode(yamlencode({a = {b = [1, "two\nlines\n", {c = true}]}, q = "say \"hi\"", e = {}}))"#
        ),
        json!({"a": {"b": [1, "two\nlines\n", {"c": true}]}, "q": "say \"hi\"", "e": {}})
    );
}

#[test]
fn jsondecode_and_encodings() {
    assert_eq!(
        ok(r#"jsondecode("{\"hello\": \"world\"}")"#),
        json!({"hello": "world"})
    );
    assert_eq!(ok(r#"jsondecode("true")"#), json!(true));
    assert_eq!(ok(r#"urlencode("Hello World!")"#), json!("Hello+World%21"));
    assert_eq!(ok(r#"urlencode("☃")"#), json!("%E2%98%83"));
    assert_eq!(
        ok(r#"urlencode("foo:bar@localhost?foo=bar&bar=baz")"#),
        json!("foo%3Abar%40localhost%3Ffoo%3Dbar%26bar%3Dbaz")
    );
    let gz = ok(r#"base64gzip("hello world")"#);
    let bytes = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        gz.as_str().unwrap(),
    )
    .unwrap();
    let mut out = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut out).unwrap();
    assert_eq!(out, "hello world");
}

#[test]
fn uuidv5_as_terraform_documents_it() {
    assert_eq!(
        ok(r#"uuidv5("dns", "www.terraform.io")"#),
        json!("a5008fae-b28c-5ba5-96cd-82b4c53552d6")
    );
    assert_eq!(
        ok(r#"uuidv5("url", "https://www.terraform.io/")"#),
        json!("9db6f67c-dd95-5ea0-aa5b-e70e5c5f7cf5")
    );
    assert_eq!(
        ok(r#"uuidv5("oid", "1.3.6.1.4")"#),
        json!("af9d40a5-7a36-5c07-b23a-851cd99fbfa5")
    );
    assert_eq!(
        ok(r#"uuidv5("x500", "CN=Example,C=GB")"#),
        json!("84e09961-4aa4-57f8-95b7-03edb1073253")
    );
    assert_eq!(
        ok(r#"uuidv5("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "www.terraform.io")"#),
        json!("a5008fae-b28c-5ba5-96cd-82b4c53552d6")
    );
    assert!(err(r#"uuidv5("nope", "x")"#).contains("namespace"));
}

#[test]
fn dates_as_terraform_documents_them() {
    for (spec, ts, want) in [
        (
            "DD MMM YYYY hh:mm ZZZ",
            "2018-01-02T23:12:01Z",
            "02 Jan 2018 23:12 UTC",
        ),
        (
            "EEEE, DD-MMM-YY hh:mm:ss ZZZ",
            "2018-01-02T23:12:01Z",
            "Tuesday, 02-Jan-18 23:12:01 UTC",
        ),
        (
            "EEE, DD MMM YYYY hh:mm:ss ZZZ",
            "2018-01-02T23:12:01-08:00",
            "Tue, 02 Jan 2018 23:12:01 -0800",
        ),
        ("MMM DD, YYYY", "2018-01-02T23:12:01Z", "Jan 02, 2018"),
        ("HH:mmaa", "2018-01-02T23:12:01Z", "11:12pm"),
        ("h'h'mm", "2018-01-02T23:12:01-08:00", "23h12"),
        (
            "YYYY-MM-DD'T'hh:mm:ssZ",
            "2018-01-02T23:12:01Z",
            "2018-01-02T23:12:01Z",
        ),
        ("'It''s' MMMM", "2018-01-02T23:12:01Z", "It's January"),
    ] {
        assert_eq!(
            ok(&format!("formatdate({spec:?}, {ts:?})")),
            json!(want),
            "{spec}"
        );
    }
    assert!(err(r#"formatdate("YYYY", "2018-01-02")"#).contains("not a valid RFC 3339 timestamp"));
    assert!(err(r#"formatdate("YYYY x", "2018-01-02T00:00:00Z")"#)
        .contains("invalid date format sequence \"x\""));
    assert_eq!(
        ok(r#"timeadd("2017-11-22T00:00:00Z", "10m")"#),
        json!("2017-11-22T00:10:00Z")
    );
    assert_eq!(
        ok(r#"timeadd("2017-11-22T00:00:00Z", "-10m")"#),
        json!("2017-11-21T23:50:00Z")
    );
    assert_eq!(
        ok(r#"timeadd("2017-11-22T00:00:00+08:00", "1h30m")"#),
        json!("2017-11-22T01:30:00+08:00")
    );
    assert!(err(r#"timeadd("2017-11-22T00:00:00Z", "1d")"#).contains("not a valid duration"));
    assert_eq!(
        ok(r#"timecmp("2017-07-06T01:02:03Z", "2017-07-06T01:02:03Z")"#),
        json!(0)
    );
    assert_eq!(
        ok(r#"timecmp("2017-07-06T01:02:03Z", "2017-07-06T01:02:04Z")"#),
        json!(-1)
    );
    assert_eq!(
        ok(r#"timecmp("2017-07-06T01:02:04Z", "2017-07-06T01:02:03Z")"#),
        json!(1)
    );
    assert_eq!(
        ok(r#"timecmp("2017-07-06T01:02:03Z", "2017-07-06T00:02:03-01:00")"#),
        json!(0)
    );
}

#[test]
fn impure_functions_are_refused_with_a_reason() {
    for f in ["timestamp()", "plantimestamp()", "uuid()", "bcrypt(\"x\")"] {
        let e = err(f);
        assert!(
            e.contains("is not supported") && e.contains("different result on every run"),
            "{e}"
        );
    }
    assert!(err(r#"rsadecrypt("x", "y")"#).contains("is not supported"));
}

#[test]
fn strings_collections_and_paths() {
    assert_eq!(
        ok(r#"indent(2, "[\n  foo,\n  bar,\n]\n")"#),
        json!("[\n    foo,\n    bar,\n  ]\n  ")
    );
    assert_eq!(
        ok(r#"chunklist(["a", "b", "c", "d", "e"], 2)"#),
        json!([["a", "b"], ["c", "d"], ["e"]])
    );
    assert_eq!(ok(r#"chunklist(["a", "b"], 0)"#), json!([["a", "b"]]));
    assert_eq!(ok(r#"chunklist([], 3)"#), json!([]));
    assert!(err(r#"chunklist(["a"], -1)"#).contains("must not be negative"));
    assert_eq!(
        ok(
            r#"matchkeys(["i-123", "i-abc", "i-def"], ["us-west", "us-east", "us-east"], ["us-east"])"#
        ),
        json!(["i-abc", "i-def"])
    );
    assert!(err(r#"matchkeys(["a"], [], [])"#).contains("same length"));
    assert_eq!(ok(r#"dirname("foo/bar/baz.txt")"#), json!("foo/bar"));
    assert_eq!(ok(r#"dirname("baz.txt")"#), json!("."));
    assert_eq!(ok(r#"dirname("/baz.txt")"#), json!("/"));
    assert_eq!(ok(r#"basename("foo/bar/baz.txt")"#), json!("baz.txt"));
    assert_eq!(ok(r#"basename("foo/bar/")"#), json!("bar"));
    assert_eq!(
        ok(r#"pathexpand("/etc/resolv.conf")"#),
        json!("/etc/resolv.conf")
    );
    if let Ok(home) = std::env::var("HOME") {
        assert_eq!(
            ok(r#"pathexpand("~/.ssh/id_rsa")"#),
            json!(format!("{home}/.ssh/id_rsa"))
        );
    }
    assert!(err(r#"pathexpand("~bob/x")"#).contains("~user"));
    let cwd = std::env::current_dir().unwrap();
    assert_eq!(
        ok(r#"abspath("a/../b")"#),
        json!(format!("{}/b", cwd.display()))
    );
    assert_eq!(ok(r#"issensitive(sensitive("x"))"#), json!(true));
    assert_eq!(ok(r#"issensitive("x")"#), json!(false));
}

#[test]
fn path_values() {
    let d = module();
    assert_eq!(
        ok_in(d.path(), "path.module"),
        json!(d.path().display().to_string())
    );
    assert_eq!(
        ok_in(d.path(), "path.root"),
        json!(d.path().display().to_string())
    );
    assert_eq!(
        ok_in(d.path(), "path.cwd"),
        json!(std::env::current_dir().unwrap().display().to_string())
    );
}
