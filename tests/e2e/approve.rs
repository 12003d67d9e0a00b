//! Without `--auto-approve` and without a terminal, apply and destroy refuse with a clear message.

use crate::common::{customer_gateway_block, SandboxProc, Work};

#[test]
fn apply_and_destroy_without_auto_approve_refuse_when_there_is_no_terminal() {
    let sb = SandboxProc::start(50, &[]);
    let w = Work::with_sandbox(&sb);
    w.config(&customer_gateway_block("a", "203.0.113.1"));

    let r = w.tf(&["apply", "cfg"]);
    r.expect_code(1);
    assert!(
        r.stderr
            .contains("needs confirmation, and there is no terminal to ask on"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("--auto-approve"), "{}", r.stderr);
    // The plan was shown so it can be reviewed; nothing was done.
    assert!(
        r.stdout
            .contains("Plan: 1 to add, 0 to change, 0 to destroy."),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("Creating..."), "{}", r.stdout);
    assert!(sb.cloud().all_ids("ap-guangzhou").is_empty());

    w.apply(&[]).success();
    let r = w.tf(&["destroy", "cfg"]);
    r.expect_code(1);
    assert!(
        r.stderr
            .contains("needs confirmation, and there is no terminal to ask on"),
        "{}",
        r.stderr
    );
    assert_eq!(sb.cloud().customer_gateways("ap-guangzhou").len(), 1);
}
