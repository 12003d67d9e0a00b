//! Value checks shared by the actions, each answering the documented error code.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr};

use ipnet::Ipv4Net;
use serde::Deserialize;

use crate::error::{codes, ApiError, ApiResult};
use crate::world::model::Tag;

/// Names of VPCs, gateways, customer gateways and tunnels: 1 to 60 characters.
pub const MAX_NAME_CHARS: usize = 60;
const MAX_TAG_KEY_CHARS: usize = 127;
const MAX_TAG_VALUE_CHARS: usize = 255;
/// Tags per resource.
pub const MAX_TAGS_PER_RESOURCE: usize = 50;
/// ASNs the documentation says are not available.
const RESERVED_ASNS: &[u64] = &[139_341, 45_090, 58_835];

/// A VPC-service tag in a request (`Value` is optional).
#[derive(Debug, Clone, Deserialize)]
pub struct TagIn {
    #[serde(rename = "Key")]
    pub key: String,
    #[serde(rename = "Value", default)]
    pub value: Option<String>,
}

pub fn name(param: &str, value: &str) -> ApiResult<()> {
    if value.trim().is_empty() {
        return Err(ApiError::new(
            codes::IPV_EMPTY,
            format!("The parameter `{param}` must not be empty."),
        ));
    }
    if value.chars().count() > MAX_NAME_CHARS {
        return Err(ApiError::new(
            codes::IPV_TOO_LONG,
            format!("The value of parameter `{param}` is longer than {MAX_NAME_CHARS} characters."),
        ));
    }
    Ok(())
}

/// Checks the tags of a create call and converts them.
pub fn vpc_tags(param: &str, tags: Option<Vec<TagIn>>) -> ApiResult<Vec<Tag>> {
    let tags = tags.unwrap_or_default();
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(tags.len());
    for t in tags {
        if t.key.is_empty() {
            return Err(ApiError::new(
                codes::IPV_TAG_INVALID_KEY,
                format!("A tag key in `{param}` is empty."),
            ));
        }
        if t.key.chars().count() > MAX_TAG_KEY_CHARS {
            return Err(ApiError::new(
                codes::IPV_TAG_INVALID_KEY_LEN,
                format!(
                    "The tag key `{}` is longer than {MAX_TAG_KEY_CHARS} characters.",
                    t.key
                ),
            ));
        }
        let value = t.value.unwrap_or_default();
        if value.chars().count() > MAX_TAG_VALUE_CHARS {
            return Err(ApiError::new(
                codes::IPV_TAG_INVALID_VAL,
                format!(
                    "The value of tag `{}` is longer than {MAX_TAG_VALUE_CHARS} characters.",
                    t.key
                ),
            ));
        }
        if !seen.insert(t.key.clone()) {
            return Err(ApiError::new(
                codes::IPV_TAG_DUPLICATE_KEY,
                format!(
                    "The tag key `{}` appears more than once in `{param}`.",
                    t.key
                ),
            ));
        }
        out.push(Tag { key: t.key, value });
    }
    if out.len() > MAX_TAGS_PER_RESOURCE {
        return Err(ApiError::new(
            codes::LIMIT_EXCEEDED_TAG_KEY_PER_RESOURCE,
            format!("A resource can have at most {MAX_TAGS_PER_RESOURCE} tags."),
        ));
    }
    Ok(out)
}

pub fn ipv4(param: &str, value: &str) -> ApiResult<Ipv4Addr> {
    value
        .parse::<Ipv4Addr>()
        .map_err(|_| ApiError::malformed(param, value))
}

/// An IPv4 CIDR (`a.b.c.d/n`); host bits may be set (the API's own example uses `10.0.0.5/24`).
pub fn cidr(param: &str, value: &str) -> ApiResult<Ipv4Net> {
    if !value.contains('/') {
        return Err(ApiError::malformed(param, value));
    }
    value
        .parse::<Ipv4Net>()
        .map_err(|_| ApiError::malformed(param, value))
}

pub fn one_of(param: &str, value: &str, allowed: &[&str]) -> ApiResult<()> {
    if allowed.contains(&value) {
        Ok(())
    } else {
        Err(ApiError::range(
            param,
            format_args!("`{value}` is not one of {}", allowed.join(", ")),
        ))
    }
}

pub fn int_range<T: PartialOrd + std::fmt::Display + Copy>(
    param: &str,
    value: T,
    lo: T,
    hi: T,
) -> ApiResult<()> {
    if value >= lo && value <= hi {
        Ok(())
    } else {
        Err(ApiError::range(
            param,
            format_args!("{value} is not within [{lo}, {hi}]"),
        ))
    }
}

/// A BGP ASN: 1..=4294967295, except the reserved 139341, 45090 and 58835.
pub fn bgp_asn(param: &str, asn: u64) -> ApiResult<()> {
    int_range(param, asn, 1, u64::from(u32::MAX))?;
    if RESERVED_ASNS.contains(&asn) {
        return Err(ApiError::new(
            codes::IPV_RESERVED,
            format!("The ASN {asn} of parameter `{param}` is reserved."),
        ));
    }
    Ok(())
}

/// A customer gateway's public IP: IPv4, not all-zero, broadcast, multicast, loopback, link-local, class E,
/// nor an address whose host part is all zeros or all ones for its classful network.
pub fn customer_gateway_ip(param: &str, value: &str) -> ApiResult<Ipv4Addr> {
    let ip = match value.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => ip,
        Ok(IpAddr::V6(_)) => {
            return Err(ApiError::new(
                codes::UO_CUSTOMER_GATEWAY_IPV6,
                "IPv6 customer gateways are not supported.",
            ))
        }
        Err(_) => return Err(ApiError::malformed(param, value)),
    };
    let o = ip.octets();
    let reason = if ip.is_unspecified() {
        Some("an all-zero address")
    } else if ip.is_broadcast() {
        Some("the broadcast address")
    } else if ip.is_multicast() {
        Some("a multicast address")
    } else if ip.is_loopback() {
        Some("a loopback address")
    } else if ip.is_link_local() {
        Some("a link-local address")
    } else if o[0] >= 240 {
        Some("a reserved (class E) address")
    } else {
        let host: &[u8] = match o[0] {
            0..=127 => &o[1..],
            128..=191 => &o[2..],
            _ => &o[3..],
        };
        if host.iter().all(|&b| b == 0) {
            Some("a network address (host part all zeros)")
        } else if host.iter().all(|&b| b == 255) {
            Some("a broadcast address (host part all ones)")
        } else {
            None
        }
    };
    match reason {
        Some(reason) => Err(ApiError::new(
            codes::INVALID_PARAMETER_VALUE,
            format!("The customer gateway address `{value}` is {reason}."),
        )),
        None => Ok(ip),
    }
}

/// Whether two networks share any address.
pub fn overlaps(a: &Ipv4Net, b: &Ipv4Net) -> bool {
    let (a, b) = (a.trunc(), b.trunc());
    a.contains(&b.network()) || b.contains(&a.network())
}

/// `0.0.0.0/0`, the "any" traffic selector of route-based tunnels, takes no part in conflict checks.
pub fn is_any(net: &Ipv4Net) -> bool {
    net.prefix_len() == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customer_gateway_ips() {
        for ok in ["58.211.1.12", "1.2.3.4", "129.1.0.1", "203.0.113.7"] {
            assert!(customer_gateway_ip("IpAddress", ok).is_ok(), "{ok}");
        }
        for bad in [
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "239.1.1.1",
            "127.0.0.1",
            "169.254.1.1",
            "10.0.0.0",
            "10.255.255.255",
            "172.16.0.0",
            "172.16.255.255",
            "192.168.1.0",
            "192.168.1.255",
            "240.1.1.1",
        ] {
            let e = customer_gateway_ip("IpAddress", bad).unwrap_err();
            assert_eq!(e.code, codes::INVALID_PARAMETER_VALUE, "{bad}");
        }
        assert_eq!(
            customer_gateway_ip("IpAddress", "::1").unwrap_err().code,
            codes::UO_CUSTOMER_GATEWAY_IPV6
        );
        assert_eq!(
            customer_gateway_ip("IpAddress", "1.2.3").unwrap_err().code,
            codes::IPV_MALFORMED
        );
    }

    #[test]
    fn overlap_and_names() {
        let a: Ipv4Net = "10.0.0.0/16".parse().unwrap();
        let b: Ipv4Net = "10.0.5.7/24".parse().unwrap();
        let c: Ipv4Net = "10.1.0.0/16".parse().unwrap();
        assert!(overlaps(&a, &b) && overlaps(&b, &a));
        assert!(!overlaps(&a, &c));
        assert!(name("N", &"x".repeat(60)).is_ok());
        assert_eq!(
            name("N", &"x".repeat(61)).unwrap_err().code,
            codes::IPV_TOO_LONG
        );
        assert_eq!(
            name("N", &"名".repeat(61)).unwrap_err().code,
            codes::IPV_TOO_LONG
        );
        assert!(name("N", &"名".repeat(60)).is_ok());
        assert_eq!(bgp_asn("A", 45_090).unwrap_err().code, codes::IPV_RESERVED);
        assert_eq!(bgp_asn("A", 0).unwrap_err().code, codes::IPV_RANGE);
    }
}
