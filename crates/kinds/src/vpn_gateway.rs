//! `tencentcloud_vpn_gateway`: the cloud side of the tunnels, in a VPC (or a CCN). A new gateway
//! is PENDING until it is AVAILABLE; it has no task to wait on.

use futures::future::BoxFuture;
use futures::FutureExt;
use tunnelform_model::schema::{
    AttrSchema, AttrType as T, BlockSchema, Check as C, DefaultValue as D,
};
use tunnelform_model::{Attrs, Value};
use tunnelform_tencent_api::actions::{
    CreateVpnGateway, DeleteVpnGateway, ModifyVpnGatewayAttribute,
    ResetVpnGatewayInternetMaxBandwidth,
};
use tunnelform_tencent_api::vpc::{
    CreateVpnGatewayRequest, DeleteVpnGatewayRequest, Filter, InstanceChargePrepaid,
    ModifyVpnGatewayAttributeRequest, ResetVpnGatewayInternetMaxBandwidthRequest, VpnGateway,
};
use tunnelform_tencent_api::{ApiError, Client};

use crate::attrs::{changed as has, get_int, get_str, get_u64, non_empty, s};
use std::collections::HashMap;

use crate::contract::{
    Call, CallError, Created, Deleted, Kind, Observed, Per, Problem, Quota, RegionHint,
};
use crate::tags::{split_tags, Tag};

/// The BGP ASN of a VPN gateway created without one (the API's documented default).
pub const DEFAULT_ASN: i64 = 64551;

const STR: T = T::String;
const STR_MAP: T = T::Map(&T::String);

pub const SCHEMA: BlockSchema = BlockSchema {
    attrs: &[
        AttrSchema::new("name", STR)
            .required()
            .checks(&[C::StrLen(1, 60)]),
        AttrSchema::new("vpc_id", STR).force_new(),
        AttrSchema::new("bandwidth", T::Int)
            .default(D::Int(5))
            .checks(&[C::IntOneOf(&[5, 10, 20, 50, 100, 200, 500, 1000, 3000])])
            .doc("Mbps."),
        AttrSchema::new("type", STR)
            .default(D::Str("IPSEC"))
            .force_new()
            .checks(&[C::OneOf(&["IPSEC", "SSL", "CCN", "SSL_CCN"])]),
        AttrSchema::new("zone", STR).computed().force_new(),
        AttrSchema::new("charge_type", STR)
            .default(D::Str("POSTPAID_BY_HOUR"))
            .checks(&[C::OneOf(&["PREPAID", "POSTPAID_BY_HOUR"])]),
        AttrSchema::new("prepaid_period", T::Int)
            .default(D::Int(1))
            .checks(&[C::IntOneOf(&[1, 2, 3, 4, 6, 7, 8, 9, 12, 24, 36])]),
        AttrSchema::new("prepaid_renew_flag", STR)
            .default(D::Str("NOTIFY_AND_AUTO_RENEW"))
            .checks(&[C::OneOf(&[
                "NOTIFY_AND_AUTO_RENEW",
                "NOTIFY_AND_MANUAL_RENEW",
                "NOTIFY_AND_NOT_RENEW",
            ])]),
        AttrSchema::new("tags", STR_MAP),
        AttrSchema::new("bgp_asn", T::Int).computed(),
        AttrSchema::new("cdc_id", STR).computed().force_new(),
        AttrSchema::new("max_connection", T::Int).computed(),
        AttrSchema::new("public_ip_address", STR).read_only(),
        AttrSchema::new("state", STR).read_only(),
        AttrSchema::new("create_time", STR).read_only(),
        AttrSchema::new("expired_time", STR).read_only(),
        AttrSchema::new("is_address_blocked", T::Bool).read_only(),
        AttrSchema::new("new_purchase_plan", STR).read_only(),
        AttrSchema::new("restrict_state", STR).read_only(),
    ],
};

/// Attributes of a described VPN gateway (ownership tags set apart).
pub fn observe(g: &VpnGateway) -> Observed {
    let (tags, own) = split_tags(g.tag_set.as_deref().unwrap_or_default());
    let mut a = crate::attrs::AttrsBuilder::with_capacity(24);
    a.insert("name".into(), s(&g.vpn_gateway_name));
    a.insert("vpc_id".into(), non_empty(&g.vpc_id));
    a.insert(
        "bandwidth".into(),
        Value::int(g.internet_max_bandwidth_out as i64),
    );
    a.insert("type".into(), s(&g.gateway_type));
    a.insert("zone".into(), non_empty(&g.zone));
    a.insert("charge_type".into(), s(&g.instance_charge_type));
    // The API does not report the prepaid period; the renew flag only means something when prepaid.
    a.insert("prepaid_period".into(), Value::int(1));
    a.insert(
        "prepaid_renew_flag".into(),
        if g.renew_flag.is_empty() || g.instance_charge_type != "PREPAID" {
            s("NOTIFY_AND_AUTO_RENEW")
        } else {
            s(&g.renew_flag)
        },
    );
    a.insert("tags".into(), tags);
    a.insert(
        "bgp_asn".into(),
        g.bgp_asn
            .map(|v| Value::int(v as i64))
            .unwrap_or(Value::Null),
    );
    a.insert("cdc_id".into(), non_empty(&g.cdc_id));
    a.insert("max_connection".into(), Value::int(g.max_connection as i64));
    a.insert("public_ip_address".into(), s(&g.public_ip_address));
    a.insert("state".into(), s(&g.state));
    a.insert("create_time".into(), s(&g.created_time));
    a.insert("expired_time".into(), s(&g.expired_time));
    a.insert(
        "is_address_blocked".into(),
        Value::Bool(g.is_address_blocked),
    );
    a.insert("new_purchase_plan".into(), s(&g.new_purchase_plan));
    a.insert("restrict_state".into(), s(&g.restrict_state));
    Observed {
        id: g.vpn_gateway_id.clone(),
        attrs: a.build(),
        ownership: own,
    }
}

pub fn create_request(a: &Attrs, tags: Vec<Tag>) -> CreateVpnGatewayRequest {
    let charge = get_str(a, "charge_type");
    CreateVpnGatewayRequest {
        vpc_id: get_str(a, "vpc_id").unwrap_or_default(),
        vpn_gateway_name: get_str(a, "name").unwrap_or_default(),
        internet_max_bandwidth_out: get_int(a, "bandwidth").unwrap_or(5) as u64,
        instance_charge_prepaid: (charge.as_deref() == Some("PREPAID")).then(|| {
            InstanceChargePrepaid {
                period: get_int(a, "prepaid_period").unwrap_or(1) as u64,
                renew_flag: get_str(a, "prepaid_renew_flag"),
            }
        }),
        instance_charge_type: charge,
        zone: get_str(a, "zone"),
        gateway_type: get_str(a, "type"),
        tags: if tags.is_empty() { None } else { Some(tags) },
        cdc_id: get_str(a, "cdc_id"),
        max_connection: get_int(a, "max_connection").map(|v| v as u64),
        bgp_asn: get_int(a, "bgp_asn").map(|v| v as u64),
        ..Default::default()
    }
}

/// The ModifyVpnGatewayAttribute request for the changed arguments (None when it changes nothing).
pub fn modify_request(
    id: &str,
    a: &Attrs,
    changed: &[String],
) -> Option<ModifyVpnGatewayAttributeRequest> {
    let has = |k: &str| has(changed, k);
    (has("name") || has("charge_type") || has("bgp_asn") || has("max_connection")).then(|| {
        ModifyVpnGatewayAttributeRequest {
            vpn_gateway_id: id.to_string(),
            vpn_gateway_name: get_str(a, "name"),
            instance_charge_type: get_str(a, "charge_type").filter(|_| has("charge_type")),
            bgp_asn: get_u64(a, "bgp_asn").filter(|_| has("bgp_asn")),
            max_connection: get_u64(a, "max_connection").filter(|_| has("max_connection")),
        }
    })
}

/// The kind.
pub struct VpnGatewayKind;

impl Kind for VpnGatewayKind {
    fn type_name(&self) -> &'static str {
        "tencentcloud_vpn_gateway"
    }

    fn id_prefix(&self) -> &'static str {
        "vpngw"
    }

    fn schema(&self) -> &'static BlockSchema {
        &SCHEMA
    }

    fn region_hint(&self) -> RegionHint {
        RegionHint::Zone("zone")
    }

    fn quotas(&self) -> &'static [Quota] {
        &[Quota {
            name: "vpn-gateways-per-vpc",
            objects: "VPN gateways",
            default: 10,
            per: Per::Value {
                attr: "vpc_id",
                place: "VPC",
                filter: "vpc-id",
            },
        }]
    }

    // The gateways of the VPCs asked about: one filtered, paged describe per quota (the quota
    // names its attribute and the Describe filter on it), each gateway counted under its
    // attribute's value as the kind reads it (`observe`).
    fn count_existing<'a>(
        &'a self,
        client: &'a Client,
        region: &'a str,
        asked: &'a [(Quota, Vec<String>)],
    ) -> BoxFuture<'a, Result<Vec<HashMap<String, u64>>, ApiError>> {
        async move {
            let mut out = Vec::with_capacity(asked.len());
            for (q, keys) in asked {
                let mut counts: HashMap<String, u64> = HashMap::new();
                if let (Per::Value { attr, filter, .. }, false) = (q.per, keys.is_empty()) {
                    let filter = Filter {
                        name: filter.to_string(),
                        values: keys.clone(),
                    };
                    for g in client
                        .describe_vpn_gateways_by_filters(region, &[filter])
                        .await?
                    {
                        if let Some(k) = observe(&g).attrs.get(attr).and_then(Value::as_str) {
                            *counts.entry(k.to_string()).or_default() += 1;
                        }
                    }
                }
                out.push(counts);
            }
            Ok(out)
        }
        .boxed()
    }

    fn check(&self, attrs: &Attrs) -> Vec<Problem> {
        crate::asn::check_bgp_asn(attrs).into_iter().collect()
    }

    fn reads_by_id(&self) -> bool {
        true
    }

    fn read<'a>(
        &'a self,
        client: &'a Client,
        region: &'a str,
        ids: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<Observed>, ApiError>> {
        async move {
            Ok(client
                .describe_vpn_gateways_by_ids(region, ids)
                .await?
                .iter()
                .map(observe)
                .collect())
        }
        .boxed()
    }

    fn create<'a>(
        &'a self,
        client: &'a Client,
        region: &'a str,
        attrs: &'a Attrs,
        tags: Vec<Tag>,
    ) -> BoxFuture<'a, Result<Created, ApiError>> {
        async move {
            let r = client
                .call::<CreateVpnGateway>(region, &create_request(attrs, tags))
                .await?;
            Ok(Created {
                id: r.vpn_gateway.vpn_gateway_id,
                request_id: r.request_id,
                task_id: None,
                observed: None,
            })
        }
        .boxed()
    }

    fn update<'a>(
        &'a self,
        call: &'a Call<'a>,
        id: &'a str,
        attrs: &'a Attrs,
        changed: &'a [String],
    ) -> BoxFuture<'a, Result<(), CallError>> {
        async move {
            if let Some(req) = modify_request(id, attrs, changed) {
                let r = call
                    .client
                    .call::<ModifyVpnGatewayAttribute>(call.region, &req)
                    .await?;
                call.sent(&r.request_id)?;
            }
            if has(changed, "bandwidth") {
                let req = ResetVpnGatewayInternetMaxBandwidthRequest {
                    vpn_gateway_id: id.to_string(),
                    internet_max_bandwidth_out: get_u64(attrs, "bandwidth").unwrap_or(5),
                };
                let r = call
                    .client
                    .call::<ResetVpnGatewayInternetMaxBandwidth>(call.region, &req)
                    .await?;
                call.sent(&r.request_id)?;
            }
            Ok(())
        }
        .boxed()
    }

    fn delete<'a>(
        &'a self,
        client: &'a Client,
        region: &'a str,
        id: &'a str,
        _before: Option<&'a Attrs>,
    ) -> BoxFuture<'a, Result<Option<Deleted>, ApiError>> {
        async move {
            let req = DeleteVpnGatewayRequest {
                vpn_gateway_id: id.to_string(),
            };
            crate::deleted(
                client
                    .call::<DeleteVpnGateway>(region, &req)
                    .await
                    .map(|r| r.request_id),
                false,
            )
        }
        .boxed()
    }
}
