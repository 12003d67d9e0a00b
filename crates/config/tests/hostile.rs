//! Broken and hostile input: syntax errors, unknown blocks, cycles, huge files, deep nesting,
//! non-UTF-8 bytes, expensive expressions. Each gives located diagnostics, never a panic or a
//! stack overflow.

use crate::common;

use common::*;
use tunnelform_config::{Config, NoLookup, VarInputs};

/// Runs `f` on a thread with the 2 MiB stack tokio and the test harness use.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap()
}

#[test]
fn syntax_errors_are_located() {
    let (d, e) = load_err("resource \"tencentcloud_vpn_gateway\" \"g\" {\n  name = \n}\n");
    let diag = assert_diag(&e, "Invalid expression", &d.file("main.tf"), 2, 10);
    assert!(diag.help.is_some());
    let (d, e) = load_err("locals {\n  a = [1, 2\n}\n");
    assert!(e.iter().all(|x| x.span.is_some()), "{e}");
    assert!(e.to_string().contains(&d.file("main.tf")));
    let (d, e) = load_err("locals {\n  a = 1\n  b = \"unterminated\n}\n");
    assert_diag(&e, "Unterminated string", &d.file("main.tf"), 3, 7);
    let (d, e) = load_err("locals {\n  a = <<EOT\nnever closed\n}\n");
    assert_diag(&e, "Unterminated heredoc", &d.file("main.tf"), 2, 7);
    // Errors in several files are all reported.
    let d = Dir::new(&[
        ("a.tf", "locals {\n  x = \n}\n"),
        ("b.tf", "resouce \"x\" \"y\" {}\n"),
    ]);
    let e = d.errors();
    assert!(
        e.iter()
            .any(|x| x.span.as_ref().is_some_and(|s| s.file.ends_with("a.tf"))),
        "{e}"
    );
    let diag = assert_diag(
        &e,
        "Unsupported block type \"resouce\"",
        &d.file("b.tf"),
        1,
        1,
    );
    assert_eq!(diag.help.as_deref(), Some("did you mean \"resource\"?"));
}

#[test]
fn unsupported_language_features() {
    // A local module whose directory does not exist: the error points at the source.
    let (d, e) = load_err("module \"m\" {\n  source = \"./m\"\n}\n");
    assert_diag(
        &e,
        "Cannot read the configuration directory",
        &d.file("main.tf"),
        2,
        12,
    );
    for (source, kind) in [
        ("hashicorp/consul/aws", "module registry address"),
        (
            "app.terraform.io/corp/site/tencentcloud",
            "module registry address",
        ),
        ("git::https://example.com/vpn.git?ref=v1", "git repository"),
        ("github.com/corp/vpn-site", "git repository"),
        ("https://example.com/vpn-site.zip", "HTTP URL"),
        (
            "s3::https://s3.amazonaws.com/bucket/site.zip",
            "remote archive",
        ),
        (
            "/opt/modules/site",
            "path that does not start with ./ or ../",
        ),
        ("modules/site", "source that is not a local path"),
    ] {
        let (d, e) = load_err(&format!(
            "module \"site\" {{\n  source = \"{source}\"\n}}\n"
        ));
        let diag = assert_diag(
            &e,
            &format!("Unsupported module source {source:?}"),
            &d.file("main.tf"),
            2,
            12,
        );
        let detail = diag.detail.clone().unwrap();
        assert!(detail.contains(kind), "{source}: {detail}");
        assert!(
            detail.contains("only local module sources are supported"),
            "{detail}"
        );
        assert!(diag.help.as_deref().unwrap().contains("./modules/NAME"));
    }
    let (d, e) = load_err("module \"site\" {\n  version = \"1.0\"\n}\n");
    assert_diag(
        &e,
        "Missing \"source\" in a module block",
        &d.file("main.tf"),
        1,
        1,
    );
    let (d, e) = load_err("terraform {\n  backend \"s3\" {\n    bucket = \"b\"\n  }\n}\n");
    assert_diag(&e, "Unsupported backend \"s3\"", &d.file("main.tf"), 2, 3);
    let (d, e) = load_err("provider \"aws\" {\n  region = \"us-east-1\"\n}\n");
    assert_diag(
        &e,
        "Unsupported provider \"aws\"",
        &d.file("main.tf"),
        1,
        10,
    );
    let (d, e) = load_err("provider \"tencentcloud\" {\n  regoin = \"ap-guangzhou\"\n}\n");
    let diag = assert_diag(
        &e,
        "Unsupported argument \"regoin\"",
        &d.file("main.tf"),
        2,
        3,
    );
    assert_eq!(diag.help.as_deref(), Some("did you mean \"region\"?"));
    let (d, e) = load_err("output \"o\" {\n  value = provider::tencentcloud::f(1)\n}\n");
    assert_diag(
        &e,
        "Provider-defined functions are not supported",
        &d.file("main.tf"),
        2,
        11,
    );
    let (d, e) = load_err("foo = 1\n");
    assert_diag(
        &e,
        "Unexpected argument \"foo\" at the top level",
        &d.file("main.tf"),
        1,
        1,
    );
}

#[test]
fn credentials_in_the_provider_are_warned_about_and_not_echoed() {
    let d = Dir::new(&[(
        "main.tf",
        "provider \"tencentcloud\" {\n  secret_id  = \"AKIDexample123\"\n  secret_key = \"SuperSecretKey987\"\n  region     = \"ap-shanghai\"\n  profile    = \"default\"\n  assume_role {\n    role_arn = \"x\"\n  }\n}\n",
    )]);
    let (cfg, warnings) = d.load().unwrap();
    assert_eq!(cfg.providers()[0].region, "ap-shanghai");
    assert_eq!(warnings.len(), 4, "{warnings}");
    assert!(warnings.iter().all(|w| !w.is_error()));
    let w = warnings
        .iter()
        .find(|w| w.summary == "Credentials in the configuration are ignored: \"secret_key\"")
        .unwrap();
    let span = w.span.as_ref().unwrap();
    assert_eq!(
        (span.file.to_string(), span.line, span.column),
        (d.file("main.tf"), 3, 3)
    );
    assert_eq!(w.source_line, None, "the line holds the secret");
    assert!(w.help.as_ref().unwrap().contains("TENCENTCLOUD_SECRET_KEY"));
    // The warning names the argument, never the value (not even in the shown source line).
    let shown = format!("{warnings}{warnings:?}");
    assert!(
        !shown.contains("SuperSecretKey987") && !shown.contains("AKIDexample123"),
        "{shown}"
    );
}

#[test]
fn cycles_are_named() {
    let (d, e) = load_err("locals {\n  a = local.b\n  b = local.c\n  c = local.a\n  d = 1\n}\n");
    let diag = assert_diag(
        &e,
        "Cycle: local.a, local.b, local.c",
        &d.file("main.tf"),
        2,
        3,
    );
    let detail = diag.detail.unwrap();
    assert!(
        detail.contains("local.b at") && detail.contains("main.tf:3:3"),
        "{detail}"
    );
    let (d, e) = load_err("resource \"tencentcloud_vpn_gateway\" \"g\" {\n  name = tencentcloud_vpn_gateway.g.id\n}\n");
    let diag = assert_diag(
        &e,
        "Cycle: tencentcloud_vpn_gateway.g",
        &d.file("main.tf"),
        1,
        1,
    );
    assert!(diag.detail.unwrap().contains("refers to itself"));
    let (d, e) = load_err(
        "locals {\n  n = tencentcloud_vpn_customer_gateway.c.name\n}\nresource \"tencentcloud_vpn_customer_gateway\" \"c\" {\n  name              = \"c\"\n  public_ip_address = \"203.0.113.1\"\n  depends_on        = [tencentcloud_vpn_gateway.g]\n}\nresource \"tencentcloud_vpn_gateway\" \"g\" {\n  name = local.n\n}\n",
    );
    let diag = assert_diag(
        &e,
        "Cycle: local.n, tencentcloud_vpn_customer_gateway.c, tencentcloud_vpn_gateway.g",
        &d.file("main.tf"),
        2,
        3,
    );
    assert!(diag.help.unwrap().contains("break the cycle"));
}

#[test]
fn huge_configurations_are_refused() {
    let d = Dir::new(&[]);
    let chunk = "# padding padding padding padding padding padding padding padding padding\n"
        .repeat(1 << 14);
    let mut f = std::fs::File::create(d.path().join("big.tf")).unwrap();
    use std::io::Write;
    for _ in 0..((17 << 20) / chunk.len() + 1) {
        f.write_all(chunk.as_bytes()).unwrap();
    }
    drop(f);
    let e = d.errors();
    let diag = e
        .iter()
        .find(|x| x.summary.starts_with("Configuration too large"))
        .expect("size error");
    assert!(diag.summary.contains("big.tf"));
    assert!(diag.detail.as_ref().unwrap().contains("16 MiB"));
    assert_eq!(diag.span.as_ref().unwrap().line, 1);
}

#[test]
fn non_utf8_files_are_named() {
    let d = Dir::new(&[("main.tf", "locals {\n  a = 1\n}\n")]);
    std::fs::write(
        d.path().join("latin1.tf"),
        b"locals {\n  b = \"caf\xe9\"\n}\n",
    )
    .unwrap();
    let e = d.errors();
    let diag = e
        .iter()
        .find(|x| x.summary.contains("is not valid UTF-8"))
        .expect("utf-8 error");
    assert!(diag.summary.contains("latin1.tf"));
    assert!(
        diag.detail
            .as_ref()
            .unwrap()
            .contains("0xe9 at line 2, column 11"),
        "{diag}"
    );
    let span = diag.span.as_ref().unwrap();
    assert_eq!((span.line, span.column), (2, 11));
    // NUL bytes and binary garbage are syntax errors, not crashes.
    let d = Dir::new(&[("main.tf", "\0\0\u{1}locals {}\n")]);
    assert!(d.errors().iter().all(|x| x.span.is_some()));
}

#[test]
fn deep_nesting_does_not_overflow() {
    on_small_stack(|| {
        for src in [
            format!(
                "locals {{\n  a = {}1{}\n}}\n",
                "[".repeat(100_000),
                "]".repeat(100_000)
            ),
            format!(
                "locals {{\n  a = {}1{}\n}}\n",
                "(".repeat(100_000),
                ")".repeat(100_000)
            ),
            format!("locals {{\n  a = {}true\n}}\n", "!".repeat(100_000)),
            format!("locals {{\n  a = {}1\n}}\n", "-".repeat(100_000)),
            format!("locals {{\n  a = {}1\n}}\n", "true ? 1 : ".repeat(50_000)),
            format!("locals {{\n  a = {}\n}}\n", "1 + ".repeat(100_000) + "1"),
            format!("locals {{\n  a = \"{}\"\n}}\n", "${\"".repeat(20_000)),
            format!("{}{}", "b {\n".repeat(100_000), "}\n".repeat(100_000)),
            format!(
                "locals {{\n  a = {}\n}}\n",
                "{ a = ".repeat(50_000) + "1" + &"}".repeat(50_000)
            ),
        ] {
            let (_d, e) = load_err(&src);
            assert!(e.iter().all(|x| x.span.is_some()), "{e}");
        }
        // The deepest nesting the parser accepts evaluates fine on a small stack.
        let deep_for = format!(
            "output \"o\" {{\n  value = {}1{}\n}}\n",
            "[for x in [1] : ".repeat(60),
            "]".repeat(60)
        );
        let (_d, cfg) = load_ok(&deep_for);
        let mut v = output(&cfg, "o");
        let mut depth = 0;
        while let tunnelform_model::Value::List(mut items) = v {
            v = items.remove(0);
            depth += 1;
        }
        assert_eq!(depth, 60);
        let chain = format!(
            "output \"o\" {{\n  value = {}\n}}\n",
            vec!["1"; 120].join(" + ")
        );
        let (_d, cfg) = load_ok(&chain);
        assert_eq!(output(&cfg, "o"), tunnelform_model::Value::int(120));
    });
}

#[test]
fn long_chains_of_locals_and_resources() {
    on_small_stack(|| {
        let n = 20_000;
        let mut src = String::from("locals {\n  l0 = 1\n");
        for i in 1..n {
            src.push_str(&format!("  l{i} = local.l{} + 1\n", i - 1));
        }
        src.push_str(&format!(
            "}}\noutput \"o\" {{\n  value = local.l{}\n}}\n",
            n - 1
        ));
        let (_d, cfg) = load_ok(&src);
        assert_eq!(output(&cfg, "o"), tunnelform_model::Value::int(n));

        // A long cycle is found without recursion.
        let mut src = String::from("locals {\n");
        for i in 0..n {
            src.push_str(&format!("  l{i} = local.l{}\n", (i + 1) % n));
        }
        src.push_str("}\n");
        let (_d, e) = load_err(&src);
        assert!(
            e.iter()
                .any(|x| x.summary.starts_with("Cycle: local.l0, local.l1")),
            "{}",
            e.len()
        );

        // A chain of resources, each depending on the previous one.
        let mut src = String::new();
        for i in 0..2000 {
            let dep = if i == 0 {
                String::new()
            } else {
                format!("  depends_on = [tencentcloud_vpn_gateway.g{}]\n", i - 1)
            };
            src.push_str(&format!(
                "resource \"tencentcloud_vpn_gateway\" \"g{i}\" {{\n  name = \"g{i}\"\n{dep}}}\n"
            ));
        }
        let (_d, cfg) = load_ok(&src);
        let order = cfg.block_order().unwrap();
        assert_eq!(order.len(), 2000);
        assert_eq!(order[1999].name, "g1999");
    });
}

#[test]
fn expensive_expressions_are_stopped() {
    // Doubling through locals.
    let mut src = String::from("locals {\n  l0 = [\"xxxxxxxxxxxxxxxx\"]\n");
    for i in 1..40 {
        src.push_str(&format!(
            "  l{i} = concat(local.l{p}, local.l{p})\n",
            p = i - 1
        ));
    }
    src.push_str("}\n");
    let (_d, e) = load_err(&src);
    assert!(e.iter().any(|x| x.summary.contains("too large")), "{e}");
    // Nested loops.
    let (_, e) =
        eval_err("length([for a in range(100000) : length([for b in range(100000) : b])])");
    assert!(e.to_string().contains("Evaluation too expensive"), "{e}");
    let (_, e) = eval_err("length([for a in range(100) : range(100000)])");
    assert!(e.to_string().contains("Value too large"), "{e}");
    let (_, e) = eval_err("jsondecode(\"${join(\"\", [for i in range(1000) : \"[\"])}\")");
    assert!(e.to_string().contains("jsondecode"), "{e}");
    // count and for_each that depend only on variables are checked while loading.
    let (d, e) = load_err("resource \"tencentcloud_vpn_gateway\" \"g\" {\n  count = 100000000000\n  name  = \"g\"\n}\n");
    assert_diag(&e, "Invalid count argument", &d.file("main.tf"), 2, 11);
}

/// Random damage to realistic files (deterministic): loading never panics, and every error
/// names a place.
#[test]
fn mutated_fixtures_never_panic() {
    let mut files = Vec::new();
    for fx in ["quickstart", "provider_examples", "multi_site"] {
        for entry in std::fs::read_dir(fixture(fx)).unwrap() {
            let p = entry.unwrap().path();
            if p.extension().is_some_and(|e| e == "tf") {
                files.push(std::fs::read(&p).unwrap());
            }
        }
    }
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut rnd = move |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n.max(1) as u64) as usize
    };
    const TOKENS: &[&[u8]] = &[
        b"{",
        b"}",
        b"[",
        b"]",
        b"\"",
        b"${",
        b"=",
        b"\n",
        b"#",
        b"<<EOT\n",
        b"local.",
        b"var.",
        b"each.",
        b"\xff",
        b"for x in ",
        b":",
        b"...",
        b"(",
        b")",
        b"count.index",
    ];
    on_small_stack(move || {
        for round in 0..250 {
            let mut bytes = files[round % files.len()].clone();
            for _ in 0..1 + rnd(4) {
                let at = rnd(bytes.len() + 1);
                match rnd(3) {
                    0 => {
                        let end = (at + rnd(20)).min(bytes.len());
                        bytes.drain(at..end);
                    }
                    1 => {
                        let t = TOKENS[rnd(TOKENS.len())];
                        bytes.splice(at..at, t.iter().copied());
                    }
                    _ => bytes.truncate(at),
                }
            }
            let d = Dir::new(&[]);
            std::fs::write(d.path().join("main.tf"), &bytes).unwrap();
            match Config::load(d.path(), &VarInputs::default()) {
                Err(e) => {
                    for x in e.iter().filter(|x| x.is_error()) {
                        assert!(
                            x.span.is_some() || x.summary.contains("No value for required"),
                            "round {round}: no span: {x}"
                        );
                    }
                }
                Ok((cfg, _)) => {
                    for a in cfg.block_order().unwrap() {
                        let _ = cfg.expand_block(&a, &NoLookup);
                    }
                    let _ = cfg.outputs(&NoLookup);
                }
            }
        }
    });
}
