//! Waiting for asynchronous tasks (`CreateVpnConnection`, `DeleteVpnConnection`) with
//! `DescribeVpcTaskResult`, on the one waiting helper ([`tunnelform_wait::Wait`]). Polls go through the
//! client, hence through the action's 20/s limiter shared by every waiter, with a growing delay between
//! polls.

use crate::action::DescribeVpcTaskResult;
use crate::error::ApiError;
use crate::vpc::DescribeVpcTaskResultRequest;
use crate::Client;
use std::time::Duration;
use tracing::debug;
use tunnelform_wait::{self as wait, Instant, Schedule, Wait};

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

impl WaitOptions {
    /// The poll schedule: `initial_delay` before the first poll, then delays growing 1.5 times up to
    /// `max_delay`. After an immediate first poll (a zero `initial_delay`) the delays grow from
    /// 100 ms, so a wait never polls as fast as the rate limiter lets it.
    pub fn schedule(&self) -> Schedule {
        let max = self.max_delay.max(Duration::from_millis(1));
        let then = if self.initial_delay.is_zero() {
            Duration::from_millis(100)
        } else {
            self.initial_delay.mul_f64(1.5)
        };
        Schedule {
            first: self.initial_delay,
            then: then.min(max),
            factor: 1.5,
            max,
        }
    }
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
        let req = DescribeVpcTaskResultRequest {
            task_id: task_id.to_string(),
        };
        let req = &req;
        let mut polls = 0u32;
        let waited = Wait::new(opts.schedule())
            .timeout(opts.timeout)
            .until(
                |_| {
                    polls += 1;
                    self.call::<DescribeVpcTaskResult>(region, req)
                },
                |resp| {
                    matches!(
                        TaskStatus::parse(&resp.status),
                        TaskStatus::Success | TaskStatus::Failed
                    )
                },
            )
            .await;
        let resp = match waited {
            Ok(resp) => resp,
            Err(wait::WaitError::Failed(e)) => return Err(WaitError::Api(e)),
            Err(wait::WaitError::TimedOut { last, waited, .. }) => {
                return Err(WaitError::Timeout {
                    task_id: task_id.to_string(),
                    waited,
                    last_status: last.status,
                })
            }
        };
        let success = TaskStatus::parse(&resp.status) == TaskStatus::Success;
        debug!(
            task_id,
            region,
            polls,
            waited_ms = start.elapsed().as_millis() as u64,
            "task {}",
            if success { "succeeded" } else { "failed" }
        );
        let output = resp.output;
        Ok(if success {
            TaskOutcome::Success { output }
        } else {
            TaskOutcome::Failed { output }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delays_ms(opts: &WaitOptions, n: usize) -> Vec<u128> {
        opts.schedule()
            .delays()
            .take(n)
            .map(|d| d.as_millis())
            .collect()
    }

    #[test]
    fn polls_back_off_from_the_initial_delay_to_the_max() {
        assert_eq!(
            delays_ms(&WaitOptions::default(), 8),
            [500, 750, 1125, 1687, 2531, 3796, 5000, 5000]
        );
    }

    #[test]
    fn an_immediate_first_poll_is_followed_by_growing_delays() {
        // Not one poll per limiter slot: the task limit (20/s) is shared by every waiter.
        let opts = WaitOptions {
            timeout: Duration::from_secs(30),
            initial_delay: Duration::ZERO,
            max_delay: Duration::from_secs(2),
        };
        assert_eq!(delays_ms(&opts, 5), [0, 100, 150, 225, 337]);
    }
}
