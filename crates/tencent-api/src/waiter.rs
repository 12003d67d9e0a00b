//! Waiting for asynchronous tasks (`CreateVpnConnection`, `DeleteVpnConnection`) with
//! `DescribeVpcTaskResult`. Polls go through the client, hence through the action's 20/s limiter shared by
//! every waiter, with a growing delay between polls.

use crate::action::DescribeVpcTaskResult;
use crate::error::ApiError;
use crate::vpc::DescribeVpcTaskResultRequest;
use crate::Client;
use std::time::Duration;
use tokio::time::Instant;
use tracing::debug;

/// How to wait for a task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitOptions {
    /// Give up (with [`WaitError::Timeout`]) after this long.
    pub timeout: Duration,
    /// Delay before the first poll; each later delay is 1.5 times the previous one...
    pub initial_delay: Duration,
    /// ...up to this.
    pub max_delay: Duration,
}

impl Default for WaitOptions {
    fn default() -> Self {
        WaitOptions {
            timeout: Duration::from_secs(600),
            initial_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(5),
        }
    }
}

/// The `Status` of a task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskStatus {
    Running,
    Success,
    Failed,
    /// A status this client does not know; treated as still running.
    Other(String),
}

impl TaskStatus {
    pub fn parse(s: &str) -> TaskStatus {
        match s {
            "RUNNING" => TaskStatus::Running,
            "SUCCESS" => TaskStatus::Success,
            "FAILED" => TaskStatus::Failed,
            other => TaskStatus::Other(other.to_string()),
        }
    }
}

/// How a task ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskOutcome {
    Success {
        output: String,
    },
    /// The task failed; `output` is the server's explanation.
    Failed {
        output: String,
    },
}

impl TaskOutcome {
    pub fn is_success(&self) -> bool {
        matches!(self, TaskOutcome::Success { .. })
    }
    pub fn output(&self) -> &str {
        match self {
            TaskOutcome::Success { output } | TaskOutcome::Failed { output } => output,
        }
    }
}

/// Why waiting did not produce an outcome.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WaitError {
    #[error("task {task_id} still {last_status} after {waited:?}")]
    Timeout {
        task_id: String,
        waited: Duration,
        last_status: String,
    },
    #[error(transparent)]
    Api(#[from] ApiError),
}

impl Client {
    /// Polls `DescribeVpcTaskResult` until the task (id = the `RequestId` of the async call) is `SUCCESS` or
    /// `FAILED`, or `opts.timeout` passes. Poll errors are retried by the client's retry policy (it is a
    /// read); one that still fails ends the wait with [`WaitError::Api`].
    pub async fn wait_task(
        &self,
        region: &str,
        task_id: &str,
        opts: WaitOptions,
    ) -> Result<TaskOutcome, WaitError> {
        let start = Instant::now();
        let deadline = start + opts.timeout;
        let mut delay = opts.initial_delay;
        let req = DescribeVpcTaskResultRequest {
            task_id: task_id.to_string(),
        };
        let mut polls = 0u32;
        loop {
            let wake = (Instant::now() + delay).min(deadline);
            tokio::time::sleep_until(wake).await;
            polls += 1;
            let resp = self.call::<DescribeVpcTaskResult>(region, &req).await?;
            match TaskStatus::parse(&resp.status) {
                TaskStatus::Success => {
                    debug!(
                        task_id,
                        region,
                        polls,
                        waited_ms = start.elapsed().as_millis() as u64,
                        "task succeeded"
                    );
                    return Ok(TaskOutcome::Success {
                        output: resp.output,
                    });
                }
                TaskStatus::Failed => {
                    debug!(
                        task_id,
                        region,
                        polls,
                        waited_ms = start.elapsed().as_millis() as u64,
                        "task failed"
                    );
                    return Ok(TaskOutcome::Failed {
                        output: resp.output,
                    });
                }
                TaskStatus::Running | TaskStatus::Other(_) => {
                    if Instant::now() >= deadline {
                        return Err(WaitError::Timeout {
                            task_id: task_id.to_string(),
                            waited: start.elapsed(),
                            last_status: resp.status,
                        });
                    }
                }
            }
            delay = delay
                .mul_f64(1.5)
                .min(opts.max_delay.max(Duration::from_millis(1)));
        }
    }
}
