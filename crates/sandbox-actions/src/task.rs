//! DescribeVpcTaskResult.

use serde::{Deserialize, Serialize};

use super::Ctx;
use crate::error::{codes, ApiError, ApiResult};
use crate::world::model::TaskKind;

#[derive(Deserialize)]
pub struct DescribeReq {
    #[serde(rename = "TaskId")]
    task_id: String,
}

#[derive(Serialize)]
struct Detail<'a> {
    #[serde(rename = "ResourceId")]
    resource_id: &'a str,
    #[serde(rename = "Status")]
    status: &'static str,
}

pub fn describe(ctx: &mut Ctx<'_>, req: DescribeReq) -> ApiResult<Vec<u8>> {
    let task = ctx
        .world
        .tasks
        .get(&req.task_id)
        .filter(|t| t.region == ctx.region && t.kind != TaskKind::ResetVpnConnection)
        .ok_or_else(|| {
            ApiError::new(
                codes::RESOURCE_NOT_FOUND,
                format!(
                    "The task `{}` does not exist in {}.",
                    req.task_id, ctx.region
                ),
            )
        })?;
    #[derive(Serialize)]
    struct Out<'a> {
        #[serde(rename = "Status")]
        status: &'static str,
        #[serde(rename = "Output")]
        output: &'a str,
        #[serde(rename = "Result")]
        result: Vec<Detail<'a>>,
    }
    let status = task.status.as_str();
    let out = Out {
        status,
        output: &task.output,
        result: vec![Detail {
            resource_id: &task.resource_id,
            status,
        }],
    };
    ctx.reply(&out)
}
