//! IP network (CIDR) functions.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;
use tunnelform_model::Value;
use tunnelform_syntax::BSpan;

use super::call::Call;
use crate::error::EResult;

pub(super) fn cidrsubnet(c: &Call<'_>) -> EResult<Value> {
    let net = cidr_arg(c, c.arg(0))?;
    let newbits = c.int(c.arg(1))?;
    let netnum = c.int(c.arg(2))?;
    let subnet = cidr_subnet(&net, newbits, netnum).map_err(|m| c.err(c.span, m))?;
    Ok(Value::string(subnet))
}

pub(super) fn cidrsubnets(c: &Call<'_>) -> EResult<Value> {
    let net = cidr_arg(c, c.arg(0))?;
    let mut out = Vec::new();
    let max = max_len(&net);
    let base = addr_num(&net.network());
    let mut cursor = base;
    let end = base + (1u128 << (max - net.prefix_len()));
    for x in &c.args[1..] {
        let newbits = c.int(*x)?;
        let new_len = i64::from(net.prefix_len()) + newbits;
        if newbits < 1 || new_len > i64::from(max) {
            return Err(c.err(
                x.1,
                format!(
                    "cannot add {newbits} bits to a /{} prefix",
                    net.prefix_len()
                ),
            ));
        }
        let size = 1u128 << (max - new_len as u8);
        cursor = cursor.div_ceil(size) * size;
        if cursor + size > end {
            return Err(c.err(x.1, "not enough room left in the prefix"));
        }
        out.push(Value::string(format!(
            "{}/{}",
            num_addr(&net, cursor),
            new_len
        )));
        cursor += size;
    }
    Ok(Value::List(out))
}

pub(super) fn cidrhost(c: &Call<'_>) -> EResult<Value> {
    let net = cidr_arg(c, c.arg(0))?;
    let hostnum = c.int(c.arg(1))?;
    let host_bits = max_len(&net) - net.prefix_len();
    let size: u128 = if host_bits >= 128 {
        u128::MAX
    } else {
        1u128 << host_bits
    };
    let base = addr_num(&net.network());
    let does_not_fit = || {
        c.err(
            c.arg(1).1,
            format!("host number {hostnum} does not fit in {net}"),
        )
    };
    let offset: u128 = if hostnum >= 0 {
        hostnum as u128
    } else {
        size.checked_sub(hostnum.unsigned_abs() as u128)
            .ok_or_else(does_not_fit)?
    };
    if offset >= size {
        return Err(does_not_fit());
    }
    Ok(Value::string(num_addr(&net, base + offset).to_string()))
}

pub(super) fn cidrnetmask(c: &Call<'_>) -> EResult<Value> {
    match cidr_arg(c, c.arg(0))? {
        IpNet::V4(n) => Ok(Value::string(n.netmask().to_string())),
        IpNet::V6(_) => Err(c.err(c.arg(0).1, "cidrnetmask() only supports IPv4 prefixes")),
    }
}

fn cidr_arg(c: &Call<'_>, a: (&Value, BSpan)) -> EResult<IpNet> {
    let s = c.str(a)?;
    s.parse::<IpNet>().map_err(|_| {
        c.err(
            a.1,
            format!("{s:?} is not a CIDR prefix such as \"10.0.0.0/16\""),
        )
    })
}

fn max_len(net: &IpNet) -> u8 {
    match net {
        IpNet::V4(_) => 32,
        IpNet::V6(_) => 128,
    }
}

fn addr_num(a: &IpAddr) -> u128 {
    match a {
        IpAddr::V4(v) => u128::from(u32::from(*v)),
        IpAddr::V6(v) => u128::from(*v),
    }
}

fn num_addr(net: &IpNet, n: u128) -> IpAddr {
    match net {
        IpNet::V4(_) => IpAddr::V4(Ipv4Addr::from(n as u32)),
        IpNet::V6(_) => IpAddr::V6(Ipv6Addr::from(n)),
    }
}

fn cidr_subnet(net: &IpNet, newbits: i64, netnum: i64) -> Result<String, String> {
    let max = i64::from(max_len(net));
    let new_len = i64::from(net.prefix_len()) + newbits;
    if newbits < 0 || new_len > max {
        return Err(format!(
            "cannot extend the /{} prefix {net} by {newbits} bits",
            net.prefix_len()
        ));
    }
    if netnum < 0 || (newbits < 64 && netnum >= (1i64 << newbits)) {
        return Err(format!(
            "network number {netnum} does not fit in {newbits} new bits"
        ));
    }
    let shift = (max - new_len) as u32;
    let base = addr_num(&net.network());
    let add = (netnum as u128).checked_shl(shift).unwrap_or(0);
    Ok(format!("{}/{}", num_addr(net, base + add), new_len))
}
