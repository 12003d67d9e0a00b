//! tunnelform's one way to wait (layer 0): observe something until a condition holds, on a poll
//! schedule with backoff, up to a deadline.
//!
//! In the spirit of kube-runtime's `await_condition`: [`Wait::until`] takes what to observe and a
//! condition over the observed value, and returns the value that satisfied it, or, at the deadline,
//! [`WaitError::TimedOut`] with the last value observed (so the caller can say what it was still
//! waiting for). An error of an observation ends the wait with [`WaitError::Failed`]. Waiting is a
//! future: dropping it cancels the wait, and no observation starts afterwards.
//!
//! Every poll loop of tunnelform is built on it: the task waiter (`tencent-api`), the batched
//! watcher and recovery's wait for objects left busy (`apply`), the state lock (`state`). Time is
//! tokio's ([`tokio::time::Instant`], [`tokio::time::sleep_until`]), so waits never block a runtime
//! thread, and tests run them under paused time (`tokio::time::pause`).

use std::future::Future;
use std::time::Duration;

pub use tokio::time::Instant;

/// When to observe: a delay before the first observation, then delays growing by `factor` up to
/// `max`.
///
/// The delays are `first`, then `then` (capped at `max`), then each previous one times `factor`
/// (capped at `max`). `factor` 1 gives a fixed interval; a zero `then` stays zero whatever the
/// factor.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Schedule {
    /// Delay before the first observation (zero: observe at once).
    pub first: Duration,
    /// Delay before the second observation...
    pub then: Duration,
    /// ...each later delay being the previous one times this...
    pub factor: f64,
    /// ...up to this.
    pub max: Duration,
}

impl Schedule {
    /// The same `interval` before every observation, the first included.
    pub fn every(interval: Duration) -> Schedule {
        Schedule {
            first: interval,
            then: interval,
            factor: 1.0,
            max: interval,
        }
    }

    /// The delays of this schedule, in order (an endless iterator).
    pub fn delays(&self) -> impl Iterator<Item = Duration> {
        let s = *self;
        let mut prev: Option<Duration> = None;
        let mut started = false;
        std::iter::from_fn(move || {
            if !started {
                started = true;
                return Some(s.first);
            }
            let next = match prev {
                None => s.then,
                Some(p) => p.mul_f64(s.factor.max(0.0)),
            }
            .min(s.max);
            prev = Some(next);
            Some(next)
        })
    }
}

/// How long a [`Wait`] may last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Limit {
    Never,
    After(Duration),
    At(Instant),
}

/// A wait: a [`Schedule`] and, optionally, a deadline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Wait {
    schedule: Schedule,
    limit: Limit,
}

/// Why [`Wait::until`] did not return a value satisfying its condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WaitError<T, E> {
    /// The deadline passed: `last` is the last value observed (there is always one: a wait
    /// observes at least once, at the deadline at the latest).
    TimedOut {
        last: T,
        /// From the start of the wait to the end of its last observation.
        waited: Duration,
        /// How many observations were made.
        polls: u32,
    },
    /// An observation failed.
    Failed(E),
}

impl<T, E: std::fmt::Display> std::fmt::Display for WaitError<T, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WaitError::TimedOut { waited, polls, .. } => write!(
                f,
                "the condition still did not hold after {:.1}s ({polls} observations)",
                waited.as_secs_f64()
            ),
            WaitError::Failed(e) => e.fmt(f),
        }
    }
}

impl<T: std::fmt::Debug, E: std::error::Error + 'static> std::error::Error for WaitError<T, E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            WaitError::TimedOut { .. } => None,
            WaitError::Failed(e) => e.source(),
        }
    }
}

impl Wait {
    /// Waits on `schedule`, with no deadline.
    pub fn new(schedule: Schedule) -> Wait {
        Wait {
            schedule,
            limit: Limit::Never,
        }
    }

    /// Gives up `timeout` after the wait starts (when [`Wait::until`] is first polled).
    pub fn timeout(self, timeout: Duration) -> Wait {
        Wait {
            limit: Limit::After(timeout),
            ..self
        }
    }

    /// Gives up at `deadline` (e.g. one deadline shared by several waits).
    pub fn deadline(self, deadline: Instant) -> Wait {
        Wait {
            limit: Limit::At(deadline),
            ..self
        }
    }

    /// Observes, following the schedule, until `done` holds for the value observed, and returns that
    /// value.
    ///
    /// `observe` is given the previous observation (`None` the first time), so an observation can
    /// carry what the next one needs, e.g. only the objects still pending, or what was settled so
    /// far. A delay that would end after the deadline is cut short, so the last observation happens
    /// at the deadline; if `done` still does not hold, the wait ends with [`WaitError::TimedOut`]
    /// and that last value. An `Err` from `observe` ends the wait at once with
    /// [`WaitError::Failed`] (retrying a failed observation is the observer's business: the API
    /// client retries reads itself).
    pub async fn until<T, E, F, Fut>(
        self,
        mut observe: F,
        mut done: impl FnMut(&T) -> bool,
    ) -> Result<T, WaitError<T, E>>
    where
        F: FnMut(Option<T>) -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let start = Instant::now();
        let deadline = match self.limit {
            Limit::Never => None,
            Limit::After(d) => Some(start + d),
            Limit::At(at) => Some(at),
        };
        let mut last: Option<T> = None;
        for (n, delay) in self.schedule.delays().enumerate() {
            let wake = Instant::now() + delay;
            tokio::time::sleep_until(deadline.map_or(wake, |d| wake.min(d))).await;
            let polls = u32::try_from(n + 1).unwrap_or(u32::MAX);
            let value = observe(last.take()).await.map_err(WaitError::Failed)?;
            if done(&value) {
                return Ok(value);
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Err(WaitError::TimedOut {
                    last: value,
                    waited: start.elapsed(),
                    polls,
                });
            }
            last = Some(value);
        }
        unreachable!("a schedule's delays never end")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    const MS: Duration = Duration::from_millis(1);

    /// Records when each observation happens (relative to `start`) and returns its index.
    fn recorder(
        start: Instant,
        times: Arc<Mutex<Vec<Duration>>>,
    ) -> impl FnMut(Option<u32>) -> std::future::Ready<Result<u32, String>> {
        move |prev| {
            let n = prev.map_or(0, |p| p + 1);
            times.lock().unwrap().push(start.elapsed());
            std::future::ready(Ok(n))
        }
    }

    #[test]
    fn delays_start_with_first_then_grow_by_the_factor_up_to_max() {
        let s = Schedule {
            first: Duration::ZERO,
            then: 200 * MS,
            factor: 1.5,
            max: 500 * MS,
        };
        let d: Vec<u128> = s.delays().take(6).map(|d| d.as_millis()).collect();
        assert_eq!(d, [0, 200, 300, 450, 500, 500]);
        let every: Vec<Duration> = Schedule::every(250 * MS).delays().take(3).collect();
        assert_eq!(every, [250 * MS; 3]);
    }

    #[tokio::test(start_paused = true)]
    async fn observes_on_the_schedule_until_the_condition_holds() {
        let start = Instant::now();
        let times = Arc::new(Mutex::new(Vec::new()));
        let schedule = Schedule {
            first: 10 * MS,
            then: 20 * MS,
            factor: 2.0,
            max: 50 * MS,
        };
        let got = Wait::new(schedule)
            .timeout(Duration::from_secs(10))
            .until(recorder(start, times.clone()), |n| *n == 4)
            .await
            .unwrap();
        assert_eq!(got, 4);
        let at: Vec<u128> = times
            .lock()
            .unwrap()
            .iter()
            .map(|d| d.as_millis())
            .collect();
        // Delays 10, 20, 40, 50 (capped), 50.
        assert_eq!(at, [10, 30, 70, 120, 170]);
        assert_eq!(
            start.elapsed(),
            170 * MS,
            "no sleep after the value that satisfied"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_deadline_cuts_the_last_delay_short_and_reports_the_last_value() {
        let start = Instant::now();
        let times = Arc::new(Mutex::new(Vec::new()));
        let err = Wait::new(Schedule::every(40 * MS))
            .timeout(100 * MS)
            .until(recorder(start, times.clone()), |_| false)
            .await
            .unwrap_err();
        assert_eq!(
            err,
            WaitError::TimedOut {
                last: 2,
                waited: 100 * MS,
                polls: 3
            }
        );
        let at: Vec<u128> = times
            .lock()
            .unwrap()
            .iter()
            .map(|d| d.as_millis())
            .collect();
        assert_eq!(at, [40, 80, 100], "the last observation is at the deadline");
    }

    #[tokio::test(start_paused = true)]
    async fn a_deadline_before_the_first_delay_still_observes_once() {
        let start = Instant::now();
        let times = Arc::new(Mutex::new(Vec::new()));
        let err = Wait::new(Schedule::every(Duration::from_secs(5)))
            .timeout(MS)
            .until(recorder(start, times.clone()), |_| false)
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                WaitError::TimedOut {
                    last: 0,
                    polls: 1,
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(*times.lock().unwrap(), [MS]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_shared_deadline_in_the_past_observes_once_at_once() {
        let start = Instant::now();
        tokio::time::advance(Duration::from_secs(1)).await;
        let times = Arc::new(Mutex::new(Vec::new()));
        let err = Wait::new(Schedule::every(Duration::from_secs(5)))
            .deadline(start)
            .until(recorder(start, times.clone()), |_| false)
            .await
            .unwrap_err();
        assert!(
            matches!(err, WaitError::TimedOut { polls: 1, .. }),
            "{err:?}"
        );
        assert_eq!(*times.lock().unwrap(), [Duration::from_secs(1)]);
    }

    #[tokio::test(start_paused = true)]
    async fn an_observation_error_ends_the_wait_at_once() {
        let mut calls = 0;
        let err = Wait::new(Schedule::every(10 * MS))
            .timeout(Duration::from_secs(60))
            .until(
                |_: Option<u32>| {
                    calls += 1;
                    std::future::ready(if calls == 2 {
                        Err("denied".to_string())
                    } else {
                        Ok(calls)
                    })
                },
                |_| false,
            )
            .await
            .unwrap_err();
        assert_eq!(err, WaitError::Failed("denied".to_string()));
        assert_eq!(calls, 2);
        assert_eq!(err.to_string(), "denied");
    }

    #[tokio::test(start_paused = true)]
    async fn without_a_deadline_it_waits_as_long_as_it_takes() {
        let start = Instant::now();
        let times = Arc::new(Mutex::new(Vec::new()));
        let got = Wait::new(Schedule::every(Duration::from_secs(3600)))
            .until(recorder(start, times.clone()), |n| *n == 47)
            .await
            .unwrap();
        assert_eq!(got, 47);
        assert_eq!(start.elapsed(), Duration::from_secs(48 * 3600));
    }

    #[tokio::test(start_paused = true)]
    async fn dropping_the_wait_cancels_it() {
        let start = Instant::now();
        let times = Arc::new(Mutex::new(Vec::new()));
        let wait =
            Wait::new(Schedule::every(10 * MS)).until(recorder(start, times.clone()), |_| false);
        assert!(tokio::time::timeout(35 * MS, wait).await.is_err());
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(
            times.lock().unwrap().len(),
            3,
            "no observation after the drop"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn each_observation_gets_the_previous_one() {
        // What is settled accumulates through the observations; only the rest is asked again.
        #[derive(Debug, Default)]
        struct Progress {
            settled: Vec<u32>,
            pending: Vec<u32>,
        }
        let asked = Arc::new(Mutex::new(Vec::new()));
        let got = Wait::new(Schedule::every(MS))
            .until(
                |prev: Option<Progress>| {
                    let asked = asked.clone();
                    async move {
                        let mut p = prev.unwrap_or(Progress {
                            settled: vec![],
                            pending: vec![1, 2, 3],
                        });
                        asked.lock().unwrap().push(p.pending.clone());
                        let first = p.pending.remove(0);
                        p.settled.push(first);
                        Ok::<_, String>(p)
                    }
                },
                |p| p.pending.is_empty(),
            )
            .await
            .unwrap();
        assert_eq!(got.settled, [1, 2, 3]);
        assert_eq!(*asked.lock().unwrap(), [vec![1, 2, 3], vec![2, 3], vec![3]]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_wait_can_run_on_a_spawned_task() {
        // The future is Send when what it observes is: the watcher spawns its waits.
        let shared = Arc::new(Mutex::new(0u32));
        let handle = tokio::spawn({
            let shared = shared.clone();
            async move {
                Wait::new(Schedule::every(MS))
                    .timeout(Duration::from_secs(1))
                    .until(
                        |_| {
                            let shared = shared.clone();
                            async move {
                                tokio::task::yield_now().await;
                                let mut n = shared.lock().unwrap();
                                *n += 1;
                                Ok::<_, String>(*n)
                            }
                        },
                        |n| *n >= 3,
                    )
                    .await
            }
        });
        assert_eq!(handle.await.unwrap(), Ok(3));
    }
}
