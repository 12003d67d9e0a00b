//! The BGP ASN rule shared by the kinds that carry an ASN (VPN gateways, customer gateways).

use tunnelform_model::Attrs;

use crate::contract::Problem;

/// ASNs Tencent Cloud documents as unavailable.
const RESERVED_ASNS: &[i64] = &[139_341, 45_090, 58_835];

/// A problem with a configured `bgp_asn` (out of range, or reserved).
pub fn check_bgp_asn(attrs: &Attrs) -> Option<Problem> {
    let n = attrs.get("bgp_asn").and_then(|v| v.unmarked().as_i64())?;
    let detail = if !(1..=i64::from(u32::MAX)).contains(&n) {
        format!("an ASN is a number from 1 to {}, got {n}", u32::MAX)
    } else if RESERVED_ASNS.contains(&n) {
        format!(
            "{n} is reserved by Tencent Cloud (the API refuses it: InvalidParameterValue.Reserved)"
        )
    } else {
        return None;
    };
    Some(
        Problem::new("bgp_asn", "Invalid value for \"bgp_asn\"", detail)
            .help("use a private ASN: 64512-65534 or 4200000000-4294967294".into()),
    )
}
