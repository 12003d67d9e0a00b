//! Functions that read the configuration's files, in a loaded configuration: paths relative to
//! the module's directory, and errors located at the call with the file and the reason.

use crate::common;

use common::*;

#[test]
fn a_sites_table_in_csv_and_a_template_beside_the_configuration() {
    let d = Dir::new(&[
        (
            "main.tf",
            r#"locals {
  sites = { for s in csvdecode(file("${path.module}/sites.csv")) : s.name => s }
}

output "ips" {
  value = { for k, s in local.sites : k => s.public_ip }
}

output "rendered" {
  value = templatefile("routes.tftpl", { sites = local.sites })
}

output "settings" {
  value = yamldecode(file("settings.yaml")).mtu
}
"#,
        ),
        (
            "sites.csv",
            "name,public_ip,cidr\nsh,203.0.113.10,10.1.0.0/16\nbj,203.0.113.20,10.2.0.0/16\n",
        ),
        (
            "routes.tftpl",
            "%{ for name, s in sites ~}\nroute ${s.cidr} via ${name}\n%{ endfor ~}\n",
        ),
        ("settings.yaml", "mtu: 1400\n"),
    ]);
    let (cfg, _) = d.load().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        output(&cfg, "ips"),
        map(vec![("bj", s("203.0.113.20")), ("sh", s("203.0.113.10"))])
    );
    assert_eq!(
        output(&cfg, "rendered"),
        s("route 10.2.0.0/16 via bj\nroute 10.1.0.0/16 via sh\n")
    );
    assert_eq!(output(&cfg, "settings"), tunnelform_model::Value::int(1400));
}

#[test]
fn errors_of_file_functions_are_located_at_the_call() {
    let d = Dir::new(&[
        (
            "main.tf",
            "output \"x\" {\n  value = templatefile(\"t.tftpl\", { a = 1 })\n}\n\noutput \"y\" {\n  value = file(\"missing.csv\")\n}\n",
        ),
        ("t.tftpl", "a=${a}\nb=${b}\n"),
    ]);
    let diags = match d.load() {
        Err(e) => e,
        Ok((cfg, _)) => cfg
            .outputs(&tunnelform_config::NoLookup)
            .expect_err("expected errors"),
    };
    let t = assert_diag(
        &diags,
        "Unknown template variable \"b\"",
        &d.file("main.tf"),
        2,
        11,
    );
    let detail = t.detail.unwrap_or_default();
    assert!(
        detail.contains("t.tftpl") && detail.contains("line 2, column 5"),
        "{detail}"
    );
    let f = assert_diag(
        &diags,
        "Invalid function argument to file()",
        &d.file("main.tf"),
        6,
        16,
    );
    assert!(
        f.detail
            .unwrap_or_default()
            .contains("no file exists at \"missing.csv\""),
        "{diags}"
    );
}
