//! Typed request and response of the `sts` service (version 2018-08-13) action tunnelform uses:
//! `GetCallerIdentity`, which says which account the credentials belong to.

use serde::{Deserialize, Serialize};

/// `GetCallerIdentity` takes no parameters (besides the common ones).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetCallerIdentityRequest {}

/// `GetCallerIdentity`'s answer: who is calling.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetCallerIdentityResponse {
    /// The caller's resource description (e.g. `qcs::cam::uin/100000000001:uin/100000000011`).
    #[serde(rename = "Arn", default, deserialize_with = "crate::de::null_default")]
    pub arn: String,
    /// The root account's UIN: the account every resource of the caller belongs to.
    #[serde(
        rename = "AccountId",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub account_id: String,
    /// The caller's id (for a sub-account, its UIN; for a role, the role session's id).
    #[serde(
        rename = "UserId",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub user_id: String,
    /// The UIN of the key's owner.
    #[serde(
        rename = "PrincipalId",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub principal_id: String,
    /// `RootAccount`, `SubAccount`, `CAMRole`, ...
    #[serde(rename = "Type", default, deserialize_with = "crate::de::null_default")]
    pub r#type: String,
    #[serde(
        rename = "RequestId",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub request_id: String,
}
