//! A state that would make apply act on the wrong object, or that could not be written back, is
//! refused when it is read: before the first request to the cloud, never half-way through.

use crate::common::{customer_gateway_block, gateway_block, SandboxProc, Work};

fn two_sites() -> String {
    format!(
        "{}{}{}",
        gateway_block("gw"),
        customer_gateway_block("a", "203.0.113.81"),
        customer_gateway_block("b", "203.0.113.82"),
    )
}

/// Applies `two_sites`, edits the state with `edit`, then checks that plan, apply and destroy
/// each fail with exit 1 and a message containing every one of `needles`, and that nothing was
/// written to the cloud.
#[track_caller]
fn refused(edit: impl Fn(&mut serde_json::Value), needles: &[&str]) {
    let sb = SandboxProc::start(20, &[]);
    let w = Work::with_sandbox(&sb);
    w.config(&two_sites());
    w.apply(&[]).success();
    let mut state = w.state();
    edit(&mut state);
    std::fs::write(w.state_path(), serde_json::to_vec_pretty(&state).unwrap()).unwrap();
    let before = sb.cloud().all_ids("ap-guangzhou");
    let writes = sb.write_request_count();
    for args in [
        vec!["plan", "cfg"],
        vec!["apply", "cfg", "--auto-approve"],
        vec!["destroy", "cfg", "--auto-approve"],
    ] {
        let r = w.tf(&args);
        r.expect_code(1);
        for n in needles {
            assert!(r.stderr.contains(n), "{args:?}: {n}\n{}", r.stderr);
        }
        assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    }
    assert_eq!(sb.write_request_count(), writes);
    assert_eq!(sb.cloud().all_ids("ap-guangzhou"), before);
}

#[test]
fn a_state_where_two_addresses_share_one_id_is_refused_naming_both() {
    refused(
        |s| {
            let a = s["resources"]["tencentcloud_vpn_customer_gateway.a"]["id"].clone();
            s["resources"]["tencentcloud_vpn_customer_gateway.b"]["id"] = a;
        },
        &[
            "tencentcloud_vpn_customer_gateway.a and tencentcloud_vpn_customer_gateway.b both record the object cgw-",
            "tunnelform state rm ADDRESS",
        ],
    );
}

#[test]
fn a_state_whose_serial_cannot_grow_is_refused_before_any_write() {
    refused(
        |s| s["serial"] = serde_json::json!(u64::MAX),
        &["the serial cannot be incremented past 18446744073709551615"],
    );
}

#[test]
fn a_deposed_tunnel_without_its_gateway_is_refused_before_any_write() {
    let sb = SandboxProc::start(20, &[]);
    let w = Work::with_sandbox(&sb);
    w.config(&format!(
        "{}{}{}",
        two_sites(),
        "",
        r#"
resource "tencentcloud_vpn_connection" "t" {
  name                = "t"
  vpc_id              = "vpc-sandbox1"
  vpn_gateway_id      = tencentcloud_vpn_gateway.gw.id
  customer_gateway_id = tencentcloud_vpn_customer_gateway.a.id
  pre_share_key       = "state-check-key"
  security_group_policy {
    local_cidr_block  = "10.0.0.0/24"
    remote_cidr_block = ["192.168.9.0/24"]
  }
}
"#
    ));
    w.apply(&[]).success();
    let mut state = w.state();
    state["resources"]["tencentcloud_vpn_connection.t"]["deposed"] =
        serde_json::json!([{ "id": "vpnx-0ld0ne01" }]);
    std::fs::write(w.state_path(), serde_json::to_vec_pretty(&state).unwrap()).unwrap();
    let writes = sb.write_request_count();
    let r = w.apply(&[]);
    r.expect_code(1);
    assert!(
        r.stderr
            .contains("its deposed object vpnx-0ld0ne01 has no vpn_gateway_id"),
        "{}",
        r.stderr
    );
    assert_eq!(sb.write_request_count(), writes);
}

#[test]
fn a_state_id_of_the_wrong_kind_is_refused_not_sent_to_the_api() {
    refused(
        |s| {
            let gw = s["resources"]["tencentcloud_vpn_gateway.gw"]["id"].clone();
            s["resources"]["tencentcloud_vpn_customer_gateway.b"]["id"] = gw;
        },
        &[
            "holds the id \"vpngw-",
            "at tencentcloud_vpn_customer_gateway.b, but the ids of a tencentcloud_vpn_customer_gateway start with \"cgw-\"",
            "is the id of a tencentcloud_vpn_gateway)",
            "tunnelform state rm tencentcloud_vpn_customer_gateway.b",
        ],
    );
}
