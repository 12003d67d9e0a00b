//! The tunnels' rules across instances: on one VPN gateway, one tunnel per customer gateway, and
//! no overlapping BGP tunnel blocks or SPD entries.

use std::collections::{BTreeMap, HashMap};
use std::net::Ipv4Addr;

use crate::contract::{Conflict, Member};
use crate::net::{parse_cidr, range_of};

struct SpdEntry {
    inst: usize,
    spd: usize,
    local: (u32, u32),
    remote: (u32, u32),
}

/// Max conflicts reported per rule (the rest are counted).
const MAX_REPORTED: usize = 20;

/// Every conflict between the tunnels `instances` (all of this kind): duplicate gateway pairs,
/// overlapping BGP tunnel blocks and SPD entries on one VPN gateway.
pub fn check<'a>(instances: &'a [Member<'_>]) -> Vec<Conflict> {
    let mut diags = Vec::new();
    let conns: Vec<(usize, &Member<'_>)> = instances.iter().enumerate().collect();
    // Borrowed from the members' attributes: nothing is copied per tunnel.
    fn text<'m>(i: &'m Member<'_>, attr: &str) -> Option<&'m str> {
        i.attrs.get(attr).and_then(|v| v.unmarked().as_str())
    }
    let gw_of = |i: &'a Member<'_>| text(i, "vpn_gateway_id");

    let mut by_gw: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (idx, inst) in &conns {
        if let Some(gw) = gw_of(inst) {
            by_gw.entry(gw).or_default().push(*idx);
        }
    }

    // Duplicate (customer gateway, VPN gateway) pairs.
    let mut pairs: HashMap<(&str, &str), usize> = HashMap::new();
    let mut dup_count = 0usize;
    for (idx, inst) in &conns {
        let cgw = text(inst, "customer_gateway_id");
        if let (Some(cgw), Some(gw)) = (cgw, gw_of(inst)) {
            if let Some(first) = pairs.get(&(cgw, gw)) {
                dup_count += 1;
                if dup_count <= MAX_REPORTED {
                    let other = &instances[*first];
                    diags.push(Conflict {
                        at: Some((*idx, "customer_gateway_id".into())),
                        other: Some((*first, "customer_gateway_id".into())),
                        summary: "Duplicate tunnel between the same gateways".into(),
                        detail: format!(
                            "{} and {} both connect customer gateway {cgw} to VPN gateway {gw}",
                            other.address, inst.address,
                        ),
                        help: Some("one customer gateway and one VPN gateway may have only one tunnel between them; merge the SPD entries into one tunnel".into()),
                    });
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
                    diags.push(Conflict {
                        at: Some((m, "bgp_config.tunnel_cidr".into())),
                        other: Some((first, "bgp_config.tunnel_cidr".into())),
                        summary: "BGP tunnel blocks overlap on the same VPN gateway".into(),
                        detail: format!(
                            "{} and {} on VPN gateway {gw} use overlapping BGP tunnel blocks",
                            other.address, inst.address,
                        ),
                        help: Some("give each tunnel of a gateway its own /30, e.g. 169.254.128.0/30, 169.254.128.4/30, ...".into()),
                    });
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
                diags.push(Conflict {
                    at: None,
                    other: None,
                    summary: format!(
                        "{} more overlapping SPD entries on VPN gateway {gw}",
                        total - MAX_REPORTED
                    ),
                    detail: String::new(),
                    help: None,
                });
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
            diags.push(Conflict {
                at: Some((second.inst, format!("{key}.remote_cidr_block"))),
                other: Some((first.inst, format!("security_group_policy.{}", first.spd))),
                summary: "SPD entries overlap on the same VPN gateway".into(),
                detail: format!(
                    "{} and {} on VPN gateway {gw} both route {} <-> {}",
                    other.address,
                    inst.address,
                    show_range(overlap(first.local, second.local)),
                    show_range(overlap(first.remote, second.remote)),
                ),
                help: Some("traffic selectors of tunnels on one gateway must not overlap: narrow the local or remote CIDR blocks".into()),
            });
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

#[cfg(test)]
mod tests {
    use super::*;

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
