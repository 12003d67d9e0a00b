//! IPv4 and CIDR arithmetic shared by the kinds' rules and the configuration's checks.

use std::net::Ipv4Addr;

/// Strict dotted-quad IPv4 (no leading zeros, no shorthand).
pub fn parse_ipv4(s: &str) -> Option<Ipv4Addr> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() != 4 {
        return None;
    }
    let mut octets = [0u8; 4];
    for (i, p) in parts.iter().enumerate() {
        if p.is_empty()
            || p.len() > 3
            || !p.bytes().all(|b| b.is_ascii_digit())
            || (p.len() > 1 && p.starts_with('0'))
        {
            return None;
        }
        octets[i] = p.parse().ok()?;
    }
    Some(Ipv4Addr::from(octets))
}

#[derive(Debug)]
pub enum CidrError {
    Syntax,
    HostBits(String),
}

impl CidrError {
    pub fn message(&self, s: &str) -> String {
        match self {
            CidrError::Syntax => format!("{s:?} is not an IPv4 CIDR block such as \"10.0.0.0/16\""),
            CidrError::HostBits(_) => {
                format!("{s:?} has host bits set: a CIDR block must start at its network address")
            }
        }
    }
    pub fn suggestion(&self) -> Option<String> {
        match self {
            CidrError::Syntax => None,
            CidrError::HostBits(n) => Some(format!("did you mean \"{n}\"?")),
        }
    }
}

/// `a.b.c.d/n` with the host bits zero: (network address as u32, prefix length).
pub fn parse_cidr(s: &str) -> Result<(u32, u8), CidrError> {
    let (ip, len) = s.split_once('/').ok_or(CidrError::Syntax)?;
    let ip = parse_ipv4(ip).ok_or(CidrError::Syntax)?;
    if len.is_empty() || len.len() > 2 || !len.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CidrError::Syntax);
    }
    let len: u8 = len.parse().map_err(|_| CidrError::Syntax)?;
    if len > 32 {
        return Err(CidrError::Syntax);
    }
    let addr = u32::from(ip);
    let mask = mask_of(len);
    if addr & !mask != 0 {
        return Err(CidrError::HostBits(format!(
            "{}/{len}",
            Ipv4Addr::from(addr & mask)
        )));
    }
    Ok((addr, len))
}

pub fn mask_of(len: u8) -> u32 {
    if len == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(len))
    }
}

/// The inclusive address range of a CIDR.
pub fn range_of(net: u32, len: u8) -> (u32, u32) {
    (net, net | !mask_of(len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_parsing_is_strict() {
        assert_eq!(parse_cidr("10.0.0.0/16").unwrap(), (0x0a00_0000, 16));
        assert!(
            matches!(parse_cidr("10.0.0.1/16"), Err(CidrError::HostBits(ref s)) if s == "10.0.0.0/16")
        );
        for bad in [
            "10.0.0.0",
            "10.0.0/8",
            "10.0.0.0/33",
            "010.0.0.0/8",
            "a.b.c.d/8",
            "10.0.0.0/",
            "10.0.0.0/x",
        ] {
            assert!(matches!(parse_cidr(bad), Err(CidrError::Syntax)), "{bad}");
        }
    }
}
