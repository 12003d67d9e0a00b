//! The command line (`SandboxArgs`) and its conversion to a configuration.

use clap::Parser;
use tunnelform_sandbox::{ConfigError, SandboxArgs};

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: SandboxArgs,
}

fn parse(args: &[&str]) -> Result<SandboxArgs, clap::Error> {
    let mut all = vec!["sandbox"];
    all.extend_from_slice(args);
    Cli::try_parse_from(all).map(|c| c.args)
}

#[test]
fn defaults() {
    let config = parse(&[]).unwrap().into_config().unwrap();
    assert_eq!(config.listen.to_string(), "127.0.0.1:9000");
    assert_eq!(config.task_latency.as_millis(), 1000);
    assert_eq!(config.quotas.tunnels_per_vpn_gateway, 20);
    assert_eq!(config.rate_limits.limit_for("DescribeVpcTaskResult"), 20);
    assert_eq!(config.rate_limits.limit_for("DescribeVpnGateways"), 300);
    assert_eq!(config.rate_limits.limit_for("CreateVpnConnection"), 100);
    assert_eq!(config.rate_limits.limit_for("DeleteVpnConnection"), 20);
    assert_eq!(config.rate_limits.limit_for("ResetVpnConnection"), 100);
    assert!(config.data_file.is_none());
    // Constructed without clap, the defaults are the same.
    let config = SandboxArgs::default().into_config().unwrap();
    assert_eq!(config.task_latency.as_millis(), 1000);
    assert_eq!(config.listen.to_string(), "127.0.0.1:9000");
}

#[test]
fn every_flag() {
    let args = parse(&[
        "--listen",
        "127.0.0.1:0",
        "--data",
        "/tmp/x.json",
        "--secret-id",
        "AKIDx",
        "--secret-key",
        "k",
        "--task-latency-ms",
        "5",
        "--quota",
        "tunnels-per-vpn-gateway=50",
        "--quota",
        "cidrs-per-spd=3",
        "--rate-limit",
        "DescribeVpnConnections=1000",
        "--fault-rate",
        "0.25",
        "--task-failure-rate",
        "0.5",
        "--seed",
        "9",
    ])
    .unwrap();
    let dbg = format!("{args:?}");
    assert!(
        !dbg.contains("\"k\""),
        "the key must not appear in Debug: {dbg}"
    );
    let config = args.into_config().unwrap();
    assert_eq!(config.listen.port(), 0);
    assert_eq!(
        config.data_file.as_deref(),
        Some(std::path::Path::new("/tmp/x.json"))
    );
    assert_eq!(config.credentials.secret_id, "AKIDx");
    assert_eq!(config.credentials.secret_key(), "k");
    assert!(!format!("{config:?}").contains("secret_key: \"k\""));
    assert_eq!(config.task_latency.as_millis(), 5);
    assert_eq!(config.quotas.tunnels_per_vpn_gateway, 50);
    assert_eq!(config.quotas.cidrs_per_spd, 3);
    assert_eq!(config.rate_limits.limit_for("DescribeVpnConnections"), 1000);
    assert_eq!(config.fault_rate, 0.25);
    assert_eq!(config.task_failure_rate, 0.5);
    assert_eq!(config.seed, Some(9));
}

#[test]
fn bad_settings_are_clear_errors() {
    for (args, needle) in [
        (vec!["--quota", "tunnels=3"], "unknown quota"),
        (vec!["--quota", "tunnels-per-vpn-gateway"], "NAME=N"),
        (
            vec!["--quota", "tunnels-per-vpn-gateway=-1"],
            "whole number",
        ),
        (
            vec!["--rate-limit", "DescribeEverything=3"],
            "unknown action",
        ),
        (vec!["--secret-id", "x"], "secret-key"),
    ] {
        let err = parse(&args)
            .err()
            .unwrap_or_else(|| panic!("{args:?} accepted"))
            .to_string();
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    let args = parse(&["--fault-rate", "1.5"]).unwrap();
    assert!(matches!(
        args.into_config(),
        Err(ConfigError::BadProbability { .. })
    ));
    // Built by hand, the same checks happen in into_config.
    let args = SandboxArgs {
        quota: vec!["bogus=1".into()],
        ..SandboxArgs::default()
    };
    let err = args.into_config().unwrap_err();
    assert!(matches!(err, ConfigError::UnknownQuota { .. }), "{err}");
    assert!(
        err.to_string().contains("tunnels-per-vpn-gateway"),
        "lists the known names: {err}"
    );
    let args = SandboxArgs {
        secret_id: Some("x".into()),
        ..SandboxArgs::default()
    };
    assert!(matches!(args.into_config(), Err(ConfigError::SecretPair)));
}
