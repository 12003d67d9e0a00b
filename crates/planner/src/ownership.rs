//! The ownership tags of a region, as the tag service lists them (the index that answers "whose
//! object is this" is the plan layer's, [`tunnelform_plan::make::OwnershipIndex`]).

use tunnelform_kinds::tags::{OWNER_ADDRESS_TAG, OWNER_PROJECT_TAG};
use tunnelform_kinds::ResourceKind;
use tunnelform_plan::make::Tagged;
use tunnelform_tencent_api::tag::{GetResourcesRequest, TagFilter};
use tunnelform_tencent_api::{parse_resource_name, ApiError, Client};

/// Every VPN object in `region` carrying a `tunnelform:address` tag: one paged query by tag key.
pub async fn list_tagged(client: &Client, region: &str) -> Result<Vec<Tagged>, ApiError> {
    let req = GetResourcesRequest {
        tag_filters: Some(vec![TagFilter {
            tag_key: OWNER_ADDRESS_TAG.to_string(),
            tag_value: None,
        }]),
        ..Default::default()
    };
    let mut out = Vec::new();
    for mapping in client.get_resources(region, req).await? {
        let Some(name) = parse_resource_name(&mapping.resource) else {
            continue;
        };
        if name.region != region {
            continue;
        }
        let Some(kind) = ResourceKind::of_id(&name.id) else {
            continue;
        };
        let tag = |key: &str| {
            mapping
                .tags
                .iter()
                .find(|t| t.tag_key == key)
                .map(|t| t.tag_value.clone())
        };
        let Some(address_tag) = tag(OWNER_ADDRESS_TAG) else {
            continue;
        };
        out.push(Tagged {
            kind,
            id: name.id.clone(),
            address_tag,
            project: tag(OWNER_PROJECT_TAG),
        });
    }
    Ok(out)
}
