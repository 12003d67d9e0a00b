//! What the apply tests share: applying a plan as `tunnelform apply` does.

use std::sync::Arc;
use std::time::Duration;

use tunnelform_apply::{apply_plan, ApplyOptions, ApplyReport, EventSink, StateStore};
use tunnelform_config::Config;
use tunnelform_planner::Planned;
use tunnelform_tencent_api::Client;

/// Applies `planned` (made from `config`) into `store`, `parallelism` operations at once, with
/// ownership tags, each asynchronous task given `task_timeout`; events go to `sink`.
pub async fn apply_planned(
    client: &Client,
    config: Config,
    planned: Planned,
    store: &StateStore,
    parallelism: usize,
    task_timeout: Duration,
    sink: Arc<dyn EventSink>,
) -> ApplyReport {
    let (_tx, rx) = tokio::sync::watch::channel(false);
    apply_plan(
        client,
        Some(Arc::new(config)),
        Arc::new(planned.plan),
        Arc::new(planned.instances),
        planned.data,
        store,
        ApplyOptions {
            parallelism,
            ownership_tags: true,
            project: None,
            interrupt: rx,
            task_timeout,
        },
        sink,
    )
    .await
    .expect("the apply runs")
}
