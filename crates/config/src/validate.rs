//! Schema-driven validation of attribute values (types, `Check` rules, cross-field rules) and
//! cross-instance validation (SPD and BGP overlaps on a gateway, duplicate tunnels).

use std::collections::{BTreeMap, HashMap};
use std::net::Ipv4Addr;

use tunnelform_model::schema::{AttrSchema, AttrType, Check};
use tunnelform_model::{Diagnostic, Diagnostics, ResourceKind, Span, Value};

use tunnelform_lang::suggest;
use tunnelform_lang::values::{self, primitive_string, show, to_bool, to_number};
use tunnelform_syntax::clip_line;

use crate::api::{Instance, InstanceKind};

/// A problem with one attribute value: (summary, detail, help).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    pub summary: String,
    pub detail: Option<String>,
    pub help: Option<String>,
}

impl Problem {
    fn new(summary: impl Into<String>, detail: impl Into<String>) -> Problem {
        Problem {
            summary: summary.into(),
            detail: Some(detail.into()),
            help: None,
        }
    }
    fn help(mut self, h: Option<String>) -> Problem {
        self.help = h;
        self
    }
}

/// Converts a configured value to the attribute's type (Terraform's string <-> number <-> bool
/// conversions). Unknown stays unknown, marks are kept.
pub(crate) fn convert_attr(ty: &AttrType, v: Value, name: &str) -> Result<Value, Problem> {
    match v {
        Value::Sensitive(inner) => {
            return convert_attr(ty, *inner, name)
                .map(Value::sensitive)
                .map_err(|mut p| {
                    p.detail = Some("the (sensitive) value does not have the expected type".into());
                    p
                })
        }
        Value::Unknown | Value::Null => return Ok(v),
        _ => {}
    }
    let wrong = |expected: &str, v: &Value| {
        Problem::new(
            format!("Incorrect attribute value type for \"{name}\""),
            format!("{expected} is required, got {}", values::describe_type(v)),
        )
    };
    match ty {
        AttrType::String => match primitive_string(&v) {
            Some(s) => Ok(Value::String(s.into_owned())),
            None => Err(wrong("a string", &v)),
        },
        AttrType::Int => match to_number(&v) {
            Some(n) if n.as_i64().is_some() => Ok(n),
            Some(_) => Err(Problem::new(
                format!("Incorrect attribute value type for \"{name}\""),
                format!("a whole number is required, got {}", show(&v)),
            )),
            None => Err(match &v {
                Value::String(_) => Problem::new(
                    format!("Incorrect attribute value type for \"{name}\""),
                    format!("a number is required, got {}", show(&v)),
                ),
                _ => wrong("a number", &v),
            }),
        },
        AttrType::Bool => match to_bool(&v) {
            Some(b) => Ok(Value::Bool(b)),
            None => Err(wrong("a bool", &v)),
        },
        AttrType::List(elem) | AttrType::Set(elem) => match v {
            Value::List(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, it) in items.into_iter().enumerate() {
                    if it.is_null() {
                        return Err(Problem::new(
                            format!("Invalid element in \"{name}\""),
                            format!("element {i} is null; lists may not contain null"),
                        ));
                    }
                    out.push(convert_attr(elem, it, name)?);
                }
                if matches!(ty, AttrType::Set(_)) && out.iter().all(Value::is_wholly_known) {
                    // A set holds each element once (order as written otherwise).
                    let mut seen = std::collections::HashSet::new();
                    out.retain(|v| seen.insert(v.canonical_key()));
                }
                Ok(Value::List(out))
            }
            other => Err(wrong("a list", &other)),
        },
        AttrType::Map(elem) => match v {
            Value::Map(m) => {
                let mut out = BTreeMap::new();
                for (k, it) in m {
                    if it.is_null() {
                        return Err(Problem::new(
                            format!("Invalid element in \"{name}\""),
                            format!("the value of \"{k}\" is null"),
                        ));
                    }
                    let c = convert_attr(elem, it, name)?;
                    out.insert(k, c);
                }
                Ok(Value::Map(out))
            }
            other => Err(wrong("a map", &other)),
        },
        AttrType::Block(..) | AttrType::Any => Ok(v),
    }
}

/// Applies the schema's `Check` rules to a known value (elements of lists/sets one by one).
pub(crate) fn check_attr(schema: &AttrSchema, v: &Value) -> Vec<Problem> {
    let mut out = Vec::new();
    let sensitive = schema.sensitive || v.is_sensitive();
    let v = v.unmarked();
    match v {
        Value::Unknown | Value::Null => {}
        Value::List(items) => {
            for it in items {
                for c in schema.checks {
                    if let Some(p) = check_one(
                        schema.name,
                        c,
                        it.unmarked(),
                        sensitive || it.is_sensitive(),
                    ) {
                        out.push(p);
                    }
                }
            }
        }
        one => {
            for c in schema.checks {
                if let Some(p) = check_one(schema.name, c, one, sensitive) {
                    out.push(p);
                }
            }
        }
    }
    if schema.name == "tags" {
        if let Value::Map(m) = v {
            for k in m.keys() {
                if k.trim().is_empty() {
                    out.push(Problem::new("Invalid tag key", "tag keys may not be empty"));
                }
            }
        }
    }
    out
}

fn check_one(name: &str, c: &Check, v: &Value, sensitive: bool) -> Option<Problem> {
    // Messages are only built for values that fail.
    let invalid = || format!("Invalid value for \"{name}\"");
    let shown = || {
        if sensitive {
            "(sensitive value)".to_string()
        } else {
            show(v)
        }
    };
    match c {
        Check::OneOf(allowed) => {
            let s = v.as_str()?;
            if allowed.contains(&s) {
                return None;
            }
            Some(
                Problem::new(
                    invalid(),
                    format!(
                        "expected one of {}, got {}",
                        suggest::one_of(allowed),
                        shown()
                    ),
                )
                .help(if sensitive {
                    None
                } else {
                    suggest::did_you_mean(s, allowed.iter().copied())
                }),
            )
        }
        Check::IntRange(lo, hi) => {
            let i = v.as_i64()?;
            (i < *lo || i > *hi).then(|| {
                Problem::new(
                    invalid(),
                    format!("must be between {lo} and {hi}, got {}", shown()),
                )
            })
        }
        Check::IntOneOf(allowed) => {
            let i = v.as_i64()?;
            (!allowed.contains(&i)).then(|| {
                let list: Vec<String> = allowed.iter().map(i64::to_string).collect();
                Problem::new(
                    invalid(),
                    format!("expected one of {}, got {}", list.join(", "), shown()),
                )
            })
        }
        Check::IntMin(m) => {
            let i = v.as_i64()?;
            (i < *m)
                .then(|| Problem::new(invalid(), format!("must be at least {m}, got {}", shown())))
        }
        Check::StrLen(lo, hi) => {
            let s = v.as_str()?;
            let n = s.chars().count();
            (n < *lo || n > *hi).then(|| {
                let what = if sensitive {
                    String::new()
                } else {
                    format!(" ({})", shown())
                };
                Problem::new(
                    invalid(),
                    format!("must be {lo} to {hi} characters long, got {n}{what}"),
                )
            })
        }
        Check::Cidr => {
            let s = v.as_str()?;
            match parse_cidr(s) {
                Ok(_) => None,
                Err(e) => Some(Problem::new(invalid(), e.message(s)).help(e.suggestion())),
            }
        }
        Check::Cidr30 => {
            let s = v.as_str()?;
            match parse_cidr(s) {
                Ok((_, 30)) => None,
                Ok((_, len)) => Some(
                    Problem::new(
                        invalid(),
                        format!("the BGP tunnel block must be a /30, got /{len} ({s:?})"),
                    )
                    .help(Some("pick a /30 such as \"169.254.128.0/30\"".into())),
                ),
                Err(e) => Some(Problem::new(invalid(), e.message(s)).help(e.suggestion())),
            }
        }
        Check::Ipv4 => {
            let s = v.as_str()?;
            parse_ipv4(s).is_none().then(|| {
                Problem::new(
                    invalid(),
                    format!(
                        "{} is not an IPv4 address such as \"203.0.113.10\"",
                        shown()
                    ),
                )
            })
        }
        Check::CustomerGatewayIp => {
            let s = v.as_str()?;
            match parse_ipv4(s) {
                None => Some(Problem::new(
                    invalid(),
                    format!(
                        "{} is not an IPv4 address such as \"203.0.113.10\"",
                        shown()
                    ),
                )),
                Some(ip) => customer_gateway_ip_problem(ip).map(|why| {
                    Problem::new(
                        invalid(),
                        format!("{s} cannot be a customer gateway address: {why}"),
                    )
                    .help(Some(
                        "use the public IPv4 address of your on-premises VPN device".into(),
                    ))
                }),
            }
        }
    }
}

/// Strict dotted-quad IPv4 (no leading zeros, no shorthand).
pub(crate) fn parse_ipv4(s: &str) -> Option<Ipv4Addr> {
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
pub(crate) enum CidrError {
    Syntax,
    HostBits(String),
}

impl CidrError {
    fn message(&self, s: &str) -> String {
        match self {
            CidrError::Syntax => format!("{s:?} is not an IPv4 CIDR block such as \"10.0.0.0/16\""),
            CidrError::HostBits(_) => {
                format!("{s:?} has host bits set: a CIDR block must start at its network address")
            }
        }
    }
    fn suggestion(&self) -> Option<String> {
        match self {
            CidrError::Syntax => None,
            CidrError::HostBits(n) => Some(format!("did you mean \"{n}\"?")),
        }
    }
}

/// `a.b.c.d/n` with the host bits zero: (network address as u32, prefix length).
pub(crate) fn parse_cidr(s: &str) -> Result<(u32, u8), CidrError> {
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

fn mask_of(len: u8) -> u32 {
    if len == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(len))
    }
}

/// The inclusive address range of a CIDR.
fn range_of(net: u32, len: u8) -> (u32, u32) {
    (net, net | !mask_of(len))
}

/// Why an address cannot be a customer gateway's public IP (FACTS: not all-zero, broadcast,
/// multicast 224/4, loopback 127/8, link-local 169.254/16, or a classful host part of all
/// zeros or all ones).
pub(crate) fn customer_gateway_ip_problem(ip: Ipv4Addr) -> Option<&'static str> {
    let n = u32::from(ip);
    let o = ip.octets();
    if n == 0 {
        return Some("it is the all-zero address");
    }
    if n == u32::MAX {
        return Some("it is the broadcast address");
    }
    if o[0] >= 224 && o[0] <= 239 {
        return Some("it is a multicast address (224.0.0.0/4)");
    }
    if o[0] == 127 {
        return Some("it is a loopback address (127.0.0.0/8)");
    }
    if o[0] == 169 && o[1] == 254 {
        return Some("it is a link-local address (169.254.0.0/16)");
    }
    let host_bits = match o[0] {
        0..=127 => 24,
        128..=191 => 16,
        192..=223 => 8,
        _ => return None,
    };
    let host = n & ((1u32 << host_bits) - 1);
    if host == 0 {
        return Some("its host part is all zeros (a network address)");
    }
    if host == (1u32 << host_bits) - 1 {
        return Some("its host part is all ones (a broadcast address)");
    }
    None
}

/// ASNs Tencent Cloud documents as unavailable.
const RESERVED_ASNS: &[i64] = &[139_341, 45_090, 58_835];
/// Documented quotas of one tunnel: SPD entries, and remote blocks per entry.
const MAX_SPD_PER_TUNNEL: usize = 10;
const MAX_CIDRS_PER_SPD: usize = 50;

/// Rules across several arguments of one instance. Each problem is keyed by the attribute path
/// whose span it should point at.
pub(crate) fn cross_checks(
    kind: InstanceKind,
    attrs: &BTreeMap<String, Value>,
) -> Vec<(String, Problem)> {
    let mut out = Vec::new();
    if matches!(
        kind,
        InstanceKind::Managed(ResourceKind::VpnGateway | ResourceKind::CustomerGateway)
    ) {
        if let Some(n) = attrs.get("bgp_asn").and_then(|v| v.unmarked().as_i64()) {
            let problem = if !(1..=i64::from(u32::MAX)).contains(&n) {
                Some(format!(
                    "an ASN is a number from 1 to {}, got {n}",
                    u32::MAX
                ))
            } else if RESERVED_ASNS.contains(&n) {
                Some(format!(
                    "{n} is reserved by Tencent Cloud (the API refuses it: InvalidParameterValue.Reserved)"
                ))
            } else {
                None
            };
            if let Some(detail) = problem {
                out.push((
                    "bgp_asn".into(),
                    Problem::new("Invalid value for \"bgp_asn\"", detail).help(Some(
                        "use a private ASN: 64512-65534 or 4200000000-4294967294".into(),
                    )),
                ));
            }
        }
    }
    if kind != InstanceKind::Managed(ResourceKind::VpnConnection) {
        return out;
    }

    // SPD quotas: entries per tunnel, remote blocks per entry.
    if let Some(spds) = attrs
        .get("security_group_policy")
        .and_then(|v| v.unmarked().as_list())
    {
        if spds.len() > MAX_SPD_PER_TUNNEL {
            out.push((
                format!("security_group_policy.{MAX_SPD_PER_TUNNEL}"),
                Problem::new(
                    "Too many SPD entries",
                    format!(
                        "a tunnel has at most {MAX_SPD_PER_TUNNEL} security_group_policy blocks (the API's quota), this one has {}",
                        spds.len()
                    ),
                )
                .help(Some("merge entries with the same local_cidr_block, or split the traffic over several tunnels".into())),
            ));
        }
        for (i, spd) in spds.iter().enumerate() {
            let n = spd
                .unmarked()
                .get("remote_cidr_block")
                .and_then(|v| v.unmarked().as_list())
                .map_or(0, <[Value]>::len);
            if n > MAX_CIDRS_PER_SPD {
                out.push((
                    format!("security_group_policy.{i}.remote_cidr_block"),
                    Problem::new(
                        "Too many remote CIDR blocks",
                        format!(
                            "an SPD entry has at most {MAX_CIDRS_PER_SPD} remote_cidr_block values (the API's quota), this one has {n}"
                        ),
                    )
                    .help(Some("summarise adjacent blocks into larger ones, or use another SPD entry".into())),
                ));
            }
        }
    }
    let known_str = |k: &str| {
        attrs
            .get(k)
            .and_then(|v| v.unmarked().as_str().map(str::to_string))
    };
    let is_set = |k: &str| attrs.get(k).is_some_and(|v| !v.is_null());

    // BGP: the addresses inside the /30.
    let bgp = attrs.get("bgp_config").and_then(|v| v.unmarked().as_map());
    if let Some(bgp) = bgp {
        let s = |k: &str| bgp.get(k).and_then(|v| v.unmarked().as_str());
        if let Some(Ok((net, len))) = s("tunnel_cidr").map(parse_cidr) {
            let (lo, hi) = range_of(net, len);
            let mut ips = Vec::new();
            for key in ["local_bgp_ip", "remote_bgp_ip"] {
                if let Some(ip) = s(key).and_then(parse_ipv4) {
                    let n = u32::from(ip);
                    if n < lo || n > hi {
                        out.push((
                            format!("bgp_config.{key}"),
                            Problem::new(
                                format!("Invalid value for \"{key}\""),
                                format!(
                                    "{ip} is not inside the BGP tunnel block {}",
                                    s("tunnel_cidr").unwrap_or("")
                                ),
                            )
                            .help(Some(format!(
                                "use an address of {}: {} or {}",
                                s("tunnel_cidr").unwrap_or(""),
                                Ipv4Addr::from(lo.saturating_add(1)),
                                Ipv4Addr::from(lo.saturating_add(2))
                            ))),
                        ));
                    }
                    ips.push(n);
                }
            }
            if ips.len() == 2 && ips[0] == ips[1] {
                out.push((
                    "bgp_config.remote_bgp_ip".into(),
                    Problem::new(
                        "Invalid value for \"remote_bgp_ip\"",
                        "the local and remote BGP addresses must differ",
                    ),
                ));
            }
        }
    }
    if let Some(rt) = known_str("route_type") {
        if rt == "Bgp" && !is_set("bgp_config") {
            out.push((
                "route_type".into(),
                Problem::new(
                    "Missing bgp_config",
                    "a tunnel with route_type = \"Bgp\" needs a bgp_config { tunnel_cidr, local_bgp_ip, remote_bgp_ip } block",
                ),
            ));
        }
    }
    if is_set("bgp_config")
        && attrs
            .get("route_type")
            .is_none_or(|v| v.unmarked().as_str().is_some_and(|s| s != "Bgp"))
    {
        out.push((
            "bgp_config".into(),
            Problem::new(
                "bgp_config needs route_type = \"Bgp\"",
                "the BGP settings are only used by tunnels whose route_type is \"Bgp\"",
            )
            .help(Some(
                "add route_type = \"Bgp\" or remove the bgp_config block".into(),
            )),
        ));
    }

    // IKE identities: ADDRESS uses ike_*_address, FQDN uses ike_*_fqdn_name.
    for (ident_key, addr_key, fqdn_key) in [
        (
            "ike_local_identity",
            "ike_local_address",
            "ike_local_fqdn_name",
        ),
        (
            "ike_remote_identity",
            "ike_remote_address",
            "ike_remote_fqdn_name",
        ),
    ] {
        if attrs.get(ident_key).is_some_and(Value::is_unknown) {
            continue;
        }
        let identity = attrs
            .get(ident_key)
            .and_then(|v| v.unmarked().as_str())
            .unwrap_or("ADDRESS");
        match identity {
            "ADDRESS" if is_set(fqdn_key) => out.push((
                fqdn_key.to_string(),
                Problem::new(
                    format!("Conflicting arguments \"{fqdn_key}\" and \"{ident_key}\""),
                    format!("{fqdn_key} is only used when {ident_key} = \"FQDN\" ({ident_key} is \"ADDRESS\"{})",
                        if attrs.contains_key(ident_key) { "" } else { " by default" }),
                )
                .help(Some(format!("set {ident_key} = \"FQDN\", or use {addr_key} instead"))),
            )),
            "FQDN" => {
                if is_set(addr_key) {
                    out.push((
                        addr_key.to_string(),
                        Problem::new(
                            format!("Conflicting arguments \"{addr_key}\" and \"{ident_key}\""),
                            format!("{addr_key} is only used when {ident_key} = \"ADDRESS\""),
                        )
                        .help(Some(format!("remove {addr_key}, or set {ident_key} = \"ADDRESS\""))),
                    ));
                }
                if !is_set(fqdn_key) {
                    out.push((
                        ident_key.to_string(),
                        Problem::new(
                            format!("Missing argument \"{fqdn_key}\""),
                            format!("{ident_key} = \"FQDN\" needs {fqdn_key}"),
                        ),
                    ));
                }
            }
            _ => {}
        }
    }
    out
}

/// Cross-instance validation over all expanded instances (call after expanding every block):
/// SPD overlaps between tunnels of the same VPN gateway (same known `vpn_gateway_id`), BGP
/// `tunnel_cidr` overlaps on the same gateway, and duplicate (customer gateway, VPN gateway)
/// pairs. Source lines are read from the files the spans name (see also
/// [`crate::Config::validate_instances`], which uses the loaded sources instead).
pub fn validate_instances(instances: &[Instance]) -> Diagnostics {
    let mut diags = cross_instance(instances);
    let mut cache: HashMap<String, Option<String>> = HashMap::new();
    for d in &mut diags.0 {
        if d.source_line.is_some() {
            continue;
        }
        if let Some(span) = &d.span {
            let text = cache
                .entry(span.file.to_string())
                .or_insert_with(|| std::fs::read_to_string(&*span.file).ok())
                .as_deref();
            d.source_line = text
                .and_then(|t| t.lines().nth(span.line.saturating_sub(1)))
                .map(clip_line);
        }
    }
    diags
}

struct SpdEntry {
    inst: usize,
    spd: usize,
    local: (u32, u32),
    remote: (u32, u32),
}

/// Max conflicts reported per rule (the rest are counted).
const MAX_REPORTED: usize = 20;

pub(crate) fn cross_instance(instances: &[Instance]) -> Diagnostics {
    let mut diags = Diagnostics::new();
    let conns: Vec<(usize, &Instance)> = instances
        .iter()
        .enumerate()
        .filter(|(_, i)| i.kind == InstanceKind::Managed(ResourceKind::VpnConnection))
        .collect();
    let gw_of = |i: &Instance| {
        i.attrs
            .get("vpn_gateway_id")
            .and_then(|v| v.unmarked().as_str().map(str::to_string))
    };

    let mut by_gw: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (idx, inst) in &conns {
        if let Some(gw) = gw_of(inst) {
            by_gw.entry(gw).or_default().push(*idx);
        }
    }

    // Duplicate (customer gateway, VPN gateway) pairs.
    let mut pairs: HashMap<(String, String), usize> = HashMap::new();
    let mut dup_count = 0usize;
    for (idx, inst) in &conns {
        let cgw = inst
            .attrs
            .get("customer_gateway_id")
            .and_then(|v| v.unmarked().as_str().map(str::to_string));
        if let (Some(cgw), Some(gw)) = (cgw, gw_of(inst)) {
            if let Some(first) = pairs.get(&(cgw.clone(), gw.clone())) {
                dup_count += 1;
                if dup_count <= MAX_REPORTED {
                    let other = &instances[*first];
                    diags.push(at(
                        inst,
                        "customer_gateway_id",
                        Diagnostic::error("Duplicate tunnel between the same gateways")
                            .with_detail(format!(
                                "{} and {} both connect customer gateway {cgw} to VPN gateway {gw}{}",
                                other.address,
                                inst.address,
                                where_is(other, "customer_gateway_id")
                            ))
                            .with_help("one customer gateway and one VPN gateway may have only one tunnel between them; merge the SPD entries into one tunnel"),
                    ));
                }
            } else {
                pairs.insert((cgw, gw), *idx);
            }
        }
    }

    for (gw, members) in &by_gw {
        // BGP tunnel blocks.
        let mut bgp: HashMap<(u32, u32), usize> = HashMap::new();
        let mut bgp_reported = 0usize;
        for &m in members {
            let inst = &instances[m];
            let cidr = inst
                .attrs
                .get("bgp_config")
                .and_then(|b| b.unmarked().get("tunnel_cidr"))
                .and_then(|v| v.unmarked().as_str().map(str::to_string));
            let Some(Ok((net, len))) = cidr.as_deref().map(parse_cidr) else {
                continue;
            };
            let (lo, hi) = range_of(net, len);
            if let Some((&_, &first)) = bgp.iter().find(|((a, b), _)| lo <= *b && *a <= hi) {
                bgp_reported += 1;
                if bgp_reported <= MAX_REPORTED {
                    let other = &instances[first];
                    diags.push(at(
                        inst,
                        "bgp_config.tunnel_cidr",
                        Diagnostic::error("BGP tunnel blocks overlap on the same VPN gateway")
                            .with_detail(format!(
                                "{} and {} on VPN gateway {gw} use overlapping BGP tunnel blocks{}",
                                other.address,
                                inst.address,
                                where_is(other, "bgp_config.tunnel_cidr")
                            ))
                            .with_help("give each tunnel of a gateway its own /30, e.g. 169.254.128.0/30, 169.254.128.4/30, ..."),
                    ));
                }
            } else {
                bgp.insert((lo, hi), m);
            }
        }

        // SPD entries.
        let mut entries = Vec::new();
        for &m in members {
            let Some(spds) = instances[m]
                .attrs
                .get("security_group_policy")
                .and_then(|v| v.unmarked().as_list())
            else {
                continue;
            };
            for (si, spd) in spds.iter().enumerate() {
                let Some(local) = spd
                    .unmarked()
                    .get("local_cidr_block")
                    .and_then(|v| v.unmarked().as_str())
                else {
                    continue;
                };
                let Ok((ln, ll)) = parse_cidr(local) else {
                    continue;
                };
                let remotes = spd
                    .unmarked()
                    .get("remote_cidr_block")
                    .and_then(|v| v.unmarked().as_list())
                    .unwrap_or(&[]);
                for r in remotes {
                    if let Some(Ok((rn, rl))) = r.unmarked().as_str().map(parse_cidr) {
                        entries.push(SpdEntry {
                            inst: m,
                            spd: si,
                            local: range_of(ln, ll),
                            remote: range_of(rn, rl),
                        });
                    }
                }
            }
        }
        let conflicts = spd_conflicts(&entries);
        let total = conflicts.len();
        for (n, (a, b)) in conflicts.into_iter().enumerate() {
            if n >= MAX_REPORTED {
                diags.push(Diagnostic::error(format!(
                    "{} more overlapping SPD entries on VPN gateway {gw}",
                    total - MAX_REPORTED
                )));
                break;
            }
            let (ea, eb) = (&entries[a], &entries[b]);
            let (first, second) = if ea.inst <= eb.inst {
                (ea, eb)
            } else {
                (eb, ea)
            };
            let other = &instances[first.inst];
            let inst = &instances[second.inst];
            let key = format!("security_group_policy.{}", second.spd);
            diags.push(at(
                inst,
                &format!("{key}.remote_cidr_block"),
                Diagnostic::error("SPD entries overlap on the same VPN gateway")
                    .with_detail(format!(
                        "{} and {} on VPN gateway {gw} both route {} <-> {}{}",
                        other.address,
                        inst.address,
                        show_range(overlap(first.local, second.local)),
                        show_range(overlap(first.remote, second.remote)),
                        where_is(other, &format!("security_group_policy.{}", first.spd))
                    ))
                    .with_help("traffic selectors of tunnels on one gateway must not overlap: narrow the local or remote CIDR blocks"),
            ));
        }
    }
    diags
}

fn overlap(a: (u32, u32), b: (u32, u32)) -> (u32, u32) {
    (a.0.max(b.0), a.1.min(b.1))
}

fn show_range((lo, hi): (u32, u32)) -> String {
    // Show as a CIDR when the range is one.
    let size = hi.wrapping_sub(lo).wrapping_add(1);
    if size.is_power_of_two() && lo & size.wrapping_sub(1) == 0 {
        format!("{}/{}", Ipv4Addr::from(lo), 32 - size.trailing_zeros())
    } else if size == 0 {
        "0.0.0.0/0".into()
    } else {
        format!("{}-{}", Ipv4Addr::from(lo), Ipv4Addr::from(hi))
    }
}

/// Pairs of entries of different instances whose local AND remote ranges overlap (one pair per
/// instance pair). Entries with identical local ranges are checked with a sort-and-sweep over
/// their remote ranges; distinct overlapping local ranges are compared group by group.
fn spd_conflicts(entries: &[SpdEntry]) -> Vec<(usize, usize)> {
    let mut groups: BTreeMap<(u32, u32), Vec<usize>> = BTreeMap::new();
    for (i, e) in entries.iter().enumerate() {
        groups.entry(e.local).or_default().push(i);
    }
    let keys: Vec<(u32, u32)> = groups.keys().copied().collect();
    let mut found: Vec<(usize, usize)> = Vec::new();
    let mut seen_pairs = std::collections::HashSet::new();
    let mut push = |a: usize, b: usize, found: &mut Vec<(usize, usize)>| {
        let (ia, ib) = (entries[a].inst, entries[b].inst);
        let key = (ia.min(ib), ia.max(ib));
        if seen_pairs.insert(key) {
            found.push((a, b));
        }
    };
    for (gi, ka) in keys.iter().enumerate() {
        // Same local range.
        sweep(entries, &groups[ka], &mut |a, b| push(a, b, &mut found));
        // Overlapping, different local ranges (sorted by start: stop once they no longer can overlap).
        for kb in &keys[gi + 1..] {
            if kb.0 > ka.1 {
                break;
            }
            if ka.0 <= kb.1 && kb.0 <= ka.1 {
                let mut union: Vec<usize> = groups[ka].clone();
                union.extend(&groups[kb]);
                sweep(entries, &union, &mut |a, b| {
                    if entries[a].local != entries[b].local {
                        push(a, b, &mut found)
                    }
                });
            }
        }
        if found.len() > 10 * MAX_REPORTED {
            break;
        }
    }
    found.sort_by_key(|(a, b)| (entries[*a].inst.max(entries[*b].inst), *a.min(b)));
    found
}

/// Reports pairs (of different instances) among `idx` whose remote ranges overlap: a sweep over
/// the ranges sorted by start, keeping the ranges still open.
fn sweep(entries: &[SpdEntry], idx: &[usize], report: &mut dyn FnMut(usize, usize)) {
    let mut sorted: Vec<usize> = idx.to_vec();
    sorted.sort_by_key(|&i| (entries[i].remote.0, entries[i].remote.1));
    let mut active: Vec<usize> = Vec::new();
    for &i in &sorted {
        let e = &entries[i];
        active.retain(|&a| entries[a].remote.1 >= e.remote.0);
        for &a in &active {
            if entries[a].inst != e.inst {
                report(a, i);
            }
        }
        active.push(i);
    }
}

fn where_is(inst: &Instance, key: &str) -> String {
    let span = inst
        .attr_spans
        .get(key)
        .or_else(|| inst.attr_spans.get(key.split('.').next().unwrap_or(key)));
    match span {
        Some(s) => format!(" (the other one is at {s})"),
        None => format!(" (the other one is at {})", inst.span),
    }
}

/// Places a diagnostic at an attribute of an instance (or its nearest enclosing span).
fn at(inst: &Instance, key: &str, d: Diagnostic) -> Diagnostic {
    let span = find_span(inst, key);
    let mut d = d;
    d.span = Some(span);
    d
}

fn find_span(inst: &Instance, key: &str) -> Span {
    let mut k = key.to_string();
    loop {
        if let Some(s) = inst.attr_spans.get(&k) {
            return s.clone();
        }
        match k.rfind('.') {
            Some(i) => k.truncate(i),
            None => return inst.span.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_drop_duplicates_and_keep_order() {
        let ty = AttrType::Set(&AttrType::String);
        let v = Value::List(vec!["b".into(), "a".into(), "b".into()]);
        assert_eq!(
            convert_attr(&ty, v, "x").unwrap(),
            Value::List(vec!["b".into(), "a".into()])
        );
        let l = AttrType::List(&AttrType::String);
        let v = Value::List(vec!["b".into(), "b".into()]);
        assert_eq!(
            convert_attr(&l, v, "x").unwrap(),
            Value::List(vec!["b".into(), "b".into()])
        );
    }

    #[test]
    fn int_min_and_sensitive_lengths() {
        let p = check_one("x", &Check::IntMin(10), &Value::int(3), false).unwrap();
        assert_eq!(p.summary, "Invalid value for \"x\"");
        assert_eq!(p.detail.as_deref(), Some("must be at least 10, got 3"));
        assert!(check_one("x", &Check::IntMin(10), &Value::int(10), false).is_none());
        let schema = tunnelform_model::ResourceKind::VpnConnection
            .schema()
            .attr("pre_share_key")
            .unwrap();
        let long = Value::sensitive(Value::from("k".repeat(129)));
        let problems = check_attr(schema, &long);
        assert_eq!(problems.len(), 1);
        assert_eq!(
            problems[0].detail.as_deref(),
            Some("must be 1 to 128 characters long, got 129")
        );
        let ok = Value::sensitive(Value::from("k".repeat(128)));
        assert!(check_attr(schema, &ok).is_empty());
        // A sensitive value with the wrong type says so without showing it.
        let p = convert_attr(
            &tunnelform_model::AttrType::Int,
            Value::sensitive("abc".into()),
            "dpd_timeout",
        )
        .unwrap_err();
        assert!(!format!("{p:?}").contains("abc"));
    }

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

    #[test]
    fn customer_gateway_ip_rules() {
        let p = |s: &str| customer_gateway_ip_problem(parse_ipv4(s).unwrap());
        assert_eq!(p("203.0.113.10"), None);
        assert_eq!(p("1.1.1.1"), None);
        assert!(p("0.0.0.0").unwrap().contains("all-zero"));
        assert!(p("255.255.255.255").unwrap().contains("broadcast"));
        assert!(p("224.0.0.5").unwrap().contains("multicast"));
        assert!(p("127.0.0.1").unwrap().contains("loopback"));
        assert!(p("169.254.1.1").unwrap().contains("link-local"));
        assert!(p("10.0.0.0").unwrap().contains("all zeros"));
        assert!(p("10.255.255.255").unwrap().contains("all ones"));
        assert!(p("172.16.0.0").unwrap().contains("all zeros"));
        assert!(p("192.168.1.255").unwrap().contains("all ones"));
        assert_eq!(p("192.168.1.254"), None);
    }

    #[test]
    fn sweep_finds_cross_instance_overlaps_only() {
        let e = |inst, remote: (u32, u32)| SpdEntry {
            inst,
            spd: 0,
            local: (0, 10),
            remote,
        };
        let entries = vec![
            e(0, (0, 10)),
            e(0, (5, 15)),
            e(1, (20, 30)),
            e(2, (25, 26)),
            e(3, (100, 200)),
        ];
        let found = spd_conflicts(&entries);
        let insts: Vec<(usize, usize)> = found
            .iter()
            .map(|(a, b)| (entries[*a].inst, entries[*b].inst))
            .collect();
        assert_eq!(insts, vec![(1, 2)]);
    }

    #[test]
    fn sweep_with_one_long_interval_of_the_same_instance() {
        // Instance 0 has a long interval; instance 1 overlaps an earlier interval of instance 2.
        let e = |inst, remote: (u32, u32)| SpdEntry {
            inst,
            spd: 0,
            local: (0, 10),
            remote,
        };
        let entries = vec![
            e(2, (0, 50)),
            e(0, (1, 1000)),
            e(0, (2, 3)),
            e(2, (60, 70)),
            e(1, (40, 41)),
        ];
        let found = spd_conflicts(&entries);
        let mut insts: Vec<(usize, usize)> = found
            .iter()
            .map(|(a, b)| {
                (
                    entries[*a].inst.min(entries[*b].inst),
                    entries[*a].inst.max(entries[*b].inst),
                )
            })
            .collect();
        insts.sort();
        assert_eq!(insts, vec![(0, 1), (0, 2), (1, 2)]);
    }
}
