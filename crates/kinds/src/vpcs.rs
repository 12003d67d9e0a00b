//! The CIDR blocks the kinds' plan rules ask for ([`crate::Kind::plan_vpcs`]), read in batches: by
//! VPC id (`vpc-...`), or by route table id (`rtb-...`: the table's VPC's block), so that a rule
//! about an object of a table the configuration does not manage (the VPC's default table, found
//! through a data source) can still be checked before any write.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use ipnet::Ipv4Net;
use tunnelform_tencent_api::actions::DescribeVpcs;
use tunnelform_tencent_api::vpc::DescribeVpcsRequest;
use tunnelform_tencent_api::{ApiError, Client};

/// The CIDR block of each id of `wanted` (region -> VPC or route table ids), keyed by that id:
/// one DescribeRouteTables per 100 tables, then one DescribeVpcs per 100 VPCs, per region. Ids
/// that do not exist are left out.
pub async fn read_cidrs(
    client: &Client,
    wanted: &BTreeMap<String, BTreeSet<String>>,
) -> Result<HashMap<String, Ipv4Net>, ApiError> {
    let mut out = HashMap::new();
    for (region, ids) in wanted {
        let tables: Vec<String> = ids
            .iter()
            .filter(|i| i.starts_with("rtb-"))
            .cloned()
            .collect();
        let mut vpc_of_table: Vec<(String, String)> = Vec::new();
        if !tables.is_empty() {
            for t in client.describe_route_tables_by_ids(region, &tables).await? {
                vpc_of_table.push((t.route_table_id, t.vpc_id));
            }
        }
        let vpcs: BTreeSet<String> = ids
            .iter()
            .filter(|i| !i.starts_with("rtb-"))
            .cloned()
            .chain(vpc_of_table.iter().map(|(_, v)| v.clone()))
            .collect();
        let vpcs: Vec<String> = vpcs.into_iter().collect();
        let mut cidr_of: HashMap<String, Ipv4Net> = HashMap::new();
        for chunk in vpcs.chunks(100) {
            let req = DescribeVpcsRequest {
                vpc_ids: Some(chunk.to_vec()),
                limit: Some("100".to_string()),
                ..Default::default()
            };
            for vpc in client.call::<DescribeVpcs>(region, &req).await?.vpc_set {
                if let Ok(net) = vpc.cidr_block.parse::<Ipv4Net>() {
                    cidr_of.insert(vpc.vpc_id, net);
                }
            }
        }
        for (table, vpc) in vpc_of_table {
            if let Some(net) = cidr_of.get(&vpc) {
                out.insert(table, *net);
            }
        }
        out.extend(cidr_of);
    }
    Ok(out)
}
