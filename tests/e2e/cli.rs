//! Command-line behaviour around the edges: JSON plans, closed pipes.

use crate::common::{customer_gateway_block, run_with_closed_stdout, SandboxProc, Work};

#[test]
fn plan_json_is_one_document_with_the_changes() {
    let sb = SandboxProc::start(50, &[]);
    let w = Work::with_sandbox(&sb);
    w.config(&customer_gateway_block("a", "203.0.113.1"));
    let r = w.plan(&["--json"]);
    r.success();
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("one JSON document");
    let changes = v["resource_changes"].as_array().expect("resource_changes");
    assert_eq!(changes.len(), 1, "{v}");
    assert_eq!(changes[0]["address"], "tencentcloud_vpn_customer_gateway.a");
    assert_eq!(
        changes[0]["change"]["actions"],
        serde_json::json!(["create"])
    );
    assert_eq!(
        changes[0]["change"]["after"]["public_ip_address"],
        "203.0.113.1"
    );
}

#[test]
fn a_reader_that_goes_away_is_an_error_not_a_crash() {
    let sb = SandboxProc::start(50, &[]);
    let w = Work::with_sandbox(&sb);
    w.config(&customer_gateway_block("a", "203.0.113.1"));
    for args in [
        &["plan", "cfg", "--endpoint", &sb.url][..],
        &["plan", "cfg", "--json", "--endpoint", &sb.url][..],
        &["validate", "cfg"][..],
    ] {
        let r = run_with_closed_stdout(w.path(), args);
        assert!(!r.stderr.contains("panicked"), "{args:?}:\n{}", r.stderr);
        assert_ne!(r.code(), Some(101), "{args:?}: {}", r.stderr);
    }
    // Apply stops before changing anything when it cannot show the plan.
    let r = run_with_closed_stdout(
        w.path(),
        &["apply", "cfg", "--auto-approve", "--endpoint", &sb.url],
    );
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    r.expect_code(1);
    assert!(sb.cloud().customer_gateways("ap-guangzhou").is_empty());
}
