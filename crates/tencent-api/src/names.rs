//! Six-segment resource names of the tag service (`qcs::vpc:<region>:uin/<uin>:vpnx/<id>`) and the
//! account id (uin) they need.

use crate::action::GetResources;
use crate::error::ApiError;
use crate::tag::GetResourcesRequest;
use crate::Client;
use std::fmt;

/// `qcs::vpc:<region>:uin/<uin>:<prefix>/<id>`, where `prefix` is the resource's id prefix
/// (`vpnx`, `vpngw`, `cgw`, `vpc`).
pub fn resource_name(region: &str, uin: &str, prefix: &str, id: &str) -> String {
    format!("qcs::vpc:{region}:uin/{uin}:{prefix}/{id}")
}

/// The parts of a six-segment name `qcs::<service>:<region>:uin/<uin>:<prefix>/<id>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceName {
    pub service: String,
    pub region: String,
    pub uin: String,
    pub prefix: String,
    pub id: String,
}

impl fmt::Display for ResourceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "qcs::{}:{}:uin/{}:{}/{}",
            self.service, self.region, self.uin, self.prefix, self.id
        )
    }
}

/// Parses a six-segment name; `None` if it is not one.
pub fn parse_resource_name(s: &str) -> Option<ResourceName> {
    let mut seg = s.splitn(6, ':');
    let (qcs, empty, service, region, account, resource) = (
        seg.next()?,
        seg.next()?,
        seg.next()?,
        seg.next()?,
        seg.next()?,
        seg.next()?,
    );
    if qcs != "qcs" || !empty.is_empty() || service.is_empty() {
        return None;
    }
    let uin = account.strip_prefix("uin/")?;
    let (prefix, id) = resource.split_once('/')?;
    if uin.is_empty() || prefix.is_empty() || id.is_empty() {
        return None;
    }
    Some(ResourceName {
        service: service.to_string(),
        region: region.to_string(),
        uin: uin.to_string(),
        prefix: prefix.to_string(),
        id: id.to_string(),
    })
}

/// The account id (uin) could not be determined.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UinError {
    #[error("the account id (uin) is unknown: set TENCENTCLOUD_UIN (the account has no tagged resource to learn it from)")]
    Unknown,
    #[error("could not discover the account id (uin); set TENCENTCLOUD_UIN: {0}")]
    Api(#[from] ApiError),
}

impl Client {
    /// The account id: from the configuration (`ClientConfig.uin` / `TENCENTCLOUD_UIN`), else the account
    /// of the identity already learnt by [`Client::caller_identity`], else discovered once with
    /// [`Client::discover_uin`] and cached.
    pub async fn uin(&self, region: &str) -> Result<String, UinError> {
        if let Some(u) = &self.inner.config.uin {
            return Ok(u.clone());
        }
        if let Some(id) = self.known_identity() {
            return Ok(id.account_id.clone());
        }
        self.inner
            .uin
            .get_or_try_init(|| self.discover_uin(region))
            .await
            .cloned()
    }

    /// Learns the account id from the first resource `GetResources` returns.
    pub async fn discover_uin(&self, region: &str) -> Result<String, UinError> {
        let req = GetResourcesRequest {
            max_results: Some(1),
            ..Default::default()
        };
        let resp = self.call::<GetResources>(region, &req).await?;
        resp.resource_tag_mapping_list
            .iter()
            .find_map(|m| parse_resource_name(&m.resource))
            .map(|n| n.uin)
            .ok_or(UinError::Unknown)
    }

    /// The six-segment name of a resource, with the account id from [`Client::uin`].
    pub async fn resource_name(
        &self,
        region: &str,
        prefix: &str,
        id: &str,
    ) -> Result<String, UinError> {
        Ok(resource_name(region, &self.uin(region).await?, prefix, id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_and_parse() {
        let n = resource_name("ap-guangzhou", "100000558920", "vpnx", "vpnx-abcd1234");
        assert_eq!(
            n,
            "qcs::vpc:ap-guangzhou:uin/100000558920:vpnx/vpnx-abcd1234"
        );
        let p = parse_resource_name(&n).unwrap();
        assert_eq!(p.uin, "100000558920");
        assert_eq!(p.prefix, "vpnx");
        assert_eq!(p.id, "vpnx-abcd1234");
        assert_eq!(p.to_string(), n);
        assert_eq!(
            resource_name("ap-beijing", "1", "vpngw", "vpngw-x"),
            "qcs::vpc:ap-beijing:uin/1:vpngw/vpngw-x"
        );
        assert_eq!(
            resource_name("r", "1", "cgw", "cgw-x"),
            "qcs::vpc:r:uin/1:cgw/cgw-x"
        );
        let cvm = parse_resource_name("qcs::cvm:ap-beijing:uin/1234567:instance/ins-123").unwrap();
        assert_eq!((cvm.service.as_str(), cvm.uin.as_str()), ("cvm", "1234567"));
        for bad in [
            "",
            "qcs::vpc",
            "qcs::vpc:r:1234:vpnx/x",
            "qcs:x:vpc:r:uin/1:vpnx/x",
            "qcs::vpc:r:uin/1:vpnx",
            "arn::vpc:r:uin/1:a/b",
        ] {
            assert!(parse_resource_name(bad).is_none(), "{bad}");
        }
    }
}
