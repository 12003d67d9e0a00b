//! `sts` `GetCallerIdentity`: the sandbox has one account (the world's uin), and every accepted key is
//! its root account's.

use serde::{Deserialize, Serialize};

use super::Ctx;
use crate::error::ApiResult;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GetCallerIdentityRequest {}

#[derive(Debug, Serialize)]
struct GetCallerIdentityResponse<'a> {
    #[serde(rename = "Arn")]
    arn: String,
    #[serde(rename = "AccountId")]
    account_id: &'a str,
    #[serde(rename = "UserId")]
    user_id: &'a str,
    #[serde(rename = "PrincipalId")]
    principal_id: &'a str,
    #[serde(rename = "Type")]
    kind: &'static str,
}

pub fn get_caller_identity(
    ctx: &mut Ctx<'_>,
    _req: GetCallerIdentityRequest,
) -> ApiResult<Vec<u8>> {
    let uin = ctx.settings.uin.as_str();
    ctx.reply(&GetCallerIdentityResponse {
        arn: format!("qcs::cam::uin/{uin}:uin/{uin}"),
        account_id: uin,
        user_id: uin,
        principal_id: uin,
        kind: "RootAccount",
    })
}
