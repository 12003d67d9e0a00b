//! Variables: precedence, types, command-line parsing, required and undeclared variables,
//! validation rules, sensitivity.

use crate::common;

use common::*;
use tunnelform_config::{Config, VarArg, VarInputs};
use tunnelform_model::Value;

const DECLS: &str = r#"
variable "name" {
  type    = string
  default = "from-default"
}
variable "count_of" {
  type    = number
  default = 1
}
variable "cidrs" {
  type    = list(string)
  default = []
}
variable "untyped" {
  default = "d"
}
output "name" {
  value = var.name
}
output "count_of" {
  value = var.count_of
}
output "cidrs" {
  value = var.cidrs
}
output "untyped" {
  value = var.untyped
}
"#;

fn get(cfg: &Config, name: &str) -> Value {
    output(cfg, name)
}

#[test]
fn precedence_default_env_tfvars_auto_cli() {
    let d = Dir::new(&[("main.tf", DECLS)]);
    let load = |v: &VarInputs| d.load_with(v).unwrap_or_else(|e| panic!("{e}")).0;

    assert_eq!(get(&load(&VarInputs::default()), "name"), s("from-default"));
    let env = vars(
        vec![],
        vec![
            ("TF_VAR_name", "from-env"),
            ("TF_VAR_not_declared", "ignored"),
        ],
    );
    assert_eq!(get(&load(&env), "name"), s("from-env"));

    std::fs::write(
        d.path().join("terraform.tfvars"),
        "name = \"from-tfvars\"\n",
    )
    .unwrap();
    assert_eq!(get(&load(&env), "name"), s("from-tfvars"));

    std::fs::write(d.path().join("b.auto.tfvars"), "name = \"from-b-auto\"\n").unwrap();
    std::fs::write(
        d.path().join("a.auto.tfvars.json"),
        "{\"name\": \"from-a-auto\", \"count_of\": 3}",
    )
    .unwrap();
    let cfg = load(&env);
    assert_eq!(
        get(&cfg, "name"),
        s("from-b-auto"),
        "auto files in lexical order, the last wins"
    );
    assert_eq!(get(&cfg, "count_of"), Value::int(3));

    let extra = d.path().join("extra.tfvars");
    std::fs::write(&extra, "name = \"from-var-file\"\n").unwrap();
    let cli = |args: Vec<VarArg>| VarInputs {
        cli: args,
        env: env.env.clone(),
        ..Default::default()
    };
    assert_eq!(
        get(&load(&cli(vec![VarArg::File(extra.clone())])), "name"),
        s("from-var-file")
    );
    assert_eq!(
        get(
            &load(&cli(vec![
                VarArg::File(extra.clone()),
                VarArg::Pair("name".into(), "from-cli".into())
            ])),
            "name"
        ),
        s("from-cli")
    );
    assert_eq!(
        get(
            &load(&cli(vec![
                VarArg::Pair("name".into(), "from-cli".into()),
                VarArg::File(extra)
            ])),
            "name"
        ),
        s("from-var-file"),
        "command-line order decides between --var and --var-file"
    );
}

#[test]
fn command_line_values_are_parsed_by_type() {
    let d = Dir::new(&[("main.tf", DECLS)]);
    let v = vars(
        vec![
            VarArg::Pair("count_of".into(), "42".into()),
            VarArg::Pair("cidrs".into(), "[\"10.0.0.0/8\", \"172.16.0.0/12\"]".into()),
            VarArg::Pair("name".into(), "[not parsed for strings]".into()),
            VarArg::Pair("untyped".into(), "{ a = 1 }".into()),
        ],
        vec![],
    );
    let (cfg, _) = d.load_with(&v).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(get(&cfg, "count_of"), Value::int(42));
    assert_eq!(
        get(&cfg, "cidrs"),
        list(vec![s("10.0.0.0/8"), s("172.16.0.0/12")])
    );
    assert_eq!(get(&cfg, "name"), s("[not parsed for strings]"));
    assert_eq!(
        get(&cfg, "untyped"),
        s("{ a = 1 }"),
        "untyped variables take the text literally, as Terraform"
    );

    let bad = vars(vec![VarArg::Pair("count_of".into(), "many".into())], vec![]);
    let e = d.load_with(&bad).unwrap_err();
    let diag = e
        .iter()
        .find(|x| x.summary == "Invalid value for variable \"count_of\"")
        .expect("type error");
    assert_eq!(
        diag.span.as_ref().unwrap().file.as_ref(),
        "<--var count_of>"
    );
    assert!(
        diag.detail
            .as_ref()
            .unwrap()
            .contains("a number is required"),
        "{e}"
    );

    let bad = vars(vec![VarArg::Pair("cidrs".into(), "[\"a\",".into())], vec![]);
    let e = d.load_with(&bad).unwrap_err();
    assert!(e.to_string().contains("<--var cidrs>:1:"), "{e}");
}

#[test]
fn undeclared_and_missing_variables() {
    let d = Dir::new(&[
        ("main.tf", "variable \"region\" {\n  type = string\n}\n"),
        ("terraform.tfvars", "regoin = \"x\"\n"),
    ]);
    let e = d.errors();
    let diag = assert_diag(
        &e,
        "Value for undeclared variable \"regoin\"",
        &d.file("terraform.tfvars"),
        1,
        1,
    );
    assert_eq!(diag.help.as_deref(), Some("did you mean \"region\"?"));
    let missing = assert_diag(
        &e,
        "No value for required variable \"region\"",
        &d.file("main.tf"),
        1,
        1,
    );
    let help = missing.help.unwrap();
    for how in [
        "--var region=VALUE",
        "--var-file",
        "terraform.tfvars",
        "TF_VAR_region",
    ] {
        assert!(help.contains(how), "{help}");
    }

    let d = Dir::new(&[("main.tf", "variable \"region\" {\n  default = \"x\"\n}\n")]);
    let e = d
        .load_with(&vars(
            vec![VarArg::Pair("regon".into(), "y".into())],
            vec![],
        ))
        .unwrap_err();
    let diag = e
        .iter()
        .find(|x| x.summary.contains("undeclared variable \"regon\""))
        .expect("cli undeclared");
    assert_eq!(diag.help.as_deref(), Some("did you mean \"region\"?"));
    // Undeclared TF_VAR_ environment variables are ignored.
    assert!(d
        .load_with(&vars(vec![], vec![("TF_VAR_regon", "y")]))
        .is_ok());
}

#[test]
fn complex_types_defaults_and_nullability() {
    let src = r#"
variable "sites" {
  type = map(object({
    ip    = string
    cidrs = optional(list(string), ["0.0.0.0/0"])
    port  = optional(number)
  }))
  default = {
    a = { ip = "203.0.113.1" }
  }
}
variable "pair" {
  type    = tuple([string, number])
  default = ["x", "2"]
}
variable "flags" {
  type    = set(string)
  default = ["b", "a", "b"]
}
variable "not_null" {
  type     = string
  nullable = false
  default  = "fallback"
}
output "sites" {
  value = var.sites
}
output "pair" {
  value = var.pair
}
output "flags" {
  value = var.flags
}
output "not_null" {
  value = var.not_null
}
"#;
    let d = Dir::new(&[("main.tf", src)]);
    let (cfg, _) = d
        .load_with(&vars(
            vec![VarArg::Pair("not_null".into(), "null".into())],
            vec![],
        ))
        .unwrap();
    assert_eq!(
        get(&cfg, "sites"),
        map(vec![(
            "a",
            map(vec![
                ("cidrs", list(vec![s("0.0.0.0/0")])),
                ("ip", s("203.0.113.1")),
                ("port", Value::Null)
            ])
        )])
    );
    assert_eq!(get(&cfg, "pair"), list(vec![s("x"), Value::int(2)]));
    assert_eq!(get(&cfg, "flags"), list(vec![s("a"), s("b")]));
    // "null" for a string variable is the text "null" (literal), not null.
    assert_eq!(get(&cfg, "not_null"), s("null"));

    std::fs::write(
        d.path().join("terraform.tfvars"),
        "not_null = null\nsites = { b = { cidrs = [] } }\n",
    )
    .unwrap();
    let e = d.errors();
    let diag = assert_diag(
        &e,
        "Invalid value for variable \"sites\"",
        &d.file("terraform.tfvars"),
        2,
        9,
    );
    assert!(diag
        .detail
        .unwrap()
        .contains("attribute \"ip\" is required"));

    let bad_default = "variable \"n\" {\n  type    = number\n  default = \"many\"\n}\n";
    let (d, e) = load_err(bad_default);
    assert_diag(
        &e,
        "Invalid default value for variable \"n\"",
        &d.file("main.tf"),
        3,
        13,
    );
    let bad_type = "variable \"n\" {\n  type = lisst(string)\n}\n";
    let (d, e) = load_err(bad_type);
    assert_diag(
        &e,
        "Invalid type constructor \"lisst\"",
        &d.file("main.tf"),
        2,
        10,
    );
}

#[test]
fn validation_rules() {
    let src = r#"
variable "bandwidth" {
  type    = number
  default = 5
  validation {
    condition     = contains([5, 10, 20], var.bandwidth)
    error_message = "bandwidth must be 5, 10 or 20 Mbps."
  }
  validation {
    condition     = var.bandwidth > 0
    error_message = "must be positive"
  }
}
"#;
    let d = Dir::new(&[("main.tf", src)]);
    assert!(d.load().is_ok());
    let e = d
        .load_with(&vars(
            vec![VarArg::Pair("bandwidth".into(), "7".into())],
            vec![],
        ))
        .unwrap_err();
    let diag = e
        .iter()
        .find(|x| x.summary == "Invalid value for variable \"bandwidth\"")
        .unwrap();
    assert_eq!(
        diag.detail.as_deref(),
        Some("bandwidth must be 5, 10 or 20 Mbps.")
    );
    assert!(diag.help.as_ref().unwrap().contains("main.tf:6:"), "{diag}");
    assert_eq!(e.len(), 1);
    std::fs::write(d.path().join("terraform.tfvars"), "bandwidth = -1\n").unwrap();
    let e = d.errors();
    assert_eq!(e.len(), 2, "both rules fail: {e}");
    assert_diag(
        &e,
        "Invalid value for variable \"bandwidth\"",
        &d.file("terraform.tfvars"),
        1,
        13,
    );

    let (d, e) = load_err("locals {\n  x = 1\n}\nvariable \"v\" {\n  validation {\n    condition     = local.x == 1\n    error_message = \"x\"\n  }\n}\n");
    assert_diag(
        &e,
        "Invalid reference in a validation rule",
        &d.file("main.tf"),
        6,
        21,
    );
}

#[test]
fn sensitive_variables_are_marked_and_never_shown() {
    let src = r#"
variable "psk" {
  type      = string
  sensitive = true
  validation {
    condition     = length(var.psk) >= 8
    error_message = "too short"
  }
}
variable "n" {
  type      = number
  sensitive = true
  default   = 1
}
"#;
    let d = Dir::new(&[("main.tf", src)]);
    let (cfg, _) = d
        .load_with(&vars(
            vec![VarArg::Pair("psk".into(), "long-enough-key".into())],
            vec![],
        ))
        .unwrap();
    assert!(cfg.variable("psk").unwrap().is_sensitive());
    assert_eq!(
        cfg.sensitive_values(),
        vec!["long-enough-key".to_string(), "1".to_string()]
    );
    assert!(!format!("{cfg:?}").contains("long-enough-key"));
    assert!(!format!(
        "{:?}",
        VarInputs {
            cli: vec![VarArg::Pair("psk".into(), "long-enough-key".into())],
            env: vec![("TF_VAR_psk".into(), "long-enough-key".into())],
            ..Default::default()
        }
    )
    .contains("long-enough-key"));

    for (name, value) in [("psk", "x7q"), ("n", "not-a-number")] {
        let e = d
            .load_with(&vars(
                vec![
                    VarArg::Pair("psk".into(), "long-enough-key".into()),
                    VarArg::Pair(name.into(), value.into()),
                ],
                vec![],
            ))
            .unwrap_err();
        let text = format!("{e}{e:?}");
        assert!(!text.contains(value), "{name}: the secret leaked: {text}");
        assert!(
            text.contains(&format!("Invalid value for variable \"{name}\"")),
            "{text}"
        );
    }

    // The digest changes with the secret but does not contain it.
    let (a, _) = d
        .load_with(&vars(
            vec![VarArg::Pair("psk".into(), "long-enough-key".into())],
            vec![],
        ))
        .unwrap();
    let (b, _) = d
        .load_with(&vars(
            vec![VarArg::Pair("psk".into(), "another-long-key".into())],
            vec![],
        ))
        .unwrap();
    let (c, _) = d
        .load_with(&vars(
            vec![VarArg::Pair("psk".into(), "long-enough-key".into())],
            vec![],
        ))
        .unwrap();
    assert_ne!(a.digest(), b.digest());
    assert_eq!(a.digest(), c.digest());
    assert_eq!(a.digest().len(), 64);
    let _ = Config::load;
}
