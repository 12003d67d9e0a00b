//! Retry policy: which failures may be retried (a pure function of the action's kind, the error and the
//! attempt number) and how long to wait (exponential backoff with full jitter, bounded attempts and a total
//! time budget). Every attempt is signed afresh.

use crate::action::ActionKind;
use crate::error::{ErrorCode, ErrorKind};
use std::time::Duration;

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Retry,
    Stop,
}

/// Whether a failure may be retried, ignoring attempt limits and budgets.
///
/// - Reads: any transient failure: not sent, outcome unknown (connection lost, timeout, HTTP 5xx),
///   `InternalError*`, `RequestLimitExceeded*`, `ResourceBusy`/`ResourceInUse`.
/// - Writes: only failures that prove the server did not act: not sent, `RequestLimitExceeded*`,
///   `ResourceInUse`/`ResourceBusy`. Never an unknown outcome or `InternalError` (the caller decides, e.g.
///   by reading back).
/// - Both: `AuthFailure.SignatureExpire` once (`attempt == 1`), re-signed with a fresh timestamp; if the
///   clock is really off, more attempts would not help.
///
/// `attempt` is the number of attempts made so far (1 after the first failure).
pub fn should_retry(kind: ActionKind, err: &ErrorKind, attempt: u32) -> Decision {
    let retry = match err {
        ErrorKind::NotSent { .. } => true,
        ErrorKind::OutcomeUnknown { .. } => kind == ActionKind::Read,
        ErrorKind::Api { code, .. } => {
            if *code == ErrorCode::AuthFailureSignatureExpire {
                attempt == 1
            } else if code.is_rate_limited() || code.is_in_use_or_busy() {
                true
            } else if code.is_internal_error() {
                kind == ActionKind::Read
            } else {
                false
            }
        }
        ErrorKind::UnexpectedStatus { .. }
        | ErrorKind::Decode { .. }
        | ErrorKind::InvalidRequest { .. } => false,
    };
    if retry {
        Decision::Retry
    } else {
        Decision::Stop
    }
}

/// Bounds and backoff of retries.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Maximum number of attempts, the first included (1 = never retry).
    pub max_attempts: u32,
    /// Backoff ceiling of the first retry; doubles with each retry up to `max_delay`.
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// No retry starts once this much time has passed since the first attempt, nor when its delay would
    /// end after it.
    pub total_budget: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 6,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
            total_budget: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// Never retry.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..Default::default()
        }
    }

    /// The full decision after `attempt` attempts, `elapsed` since the first one started.
    pub fn decide(
        &self,
        kind: ActionKind,
        err: &ErrorKind,
        attempt: u32,
        elapsed: Duration,
    ) -> Decision {
        if attempt >= self.max_attempts || elapsed >= self.total_budget {
            return Decision::Stop;
        }
        should_retry(kind, err, attempt)
    }

    /// The backoff ceiling before retry number `attempt` (1-based): `min(max_delay, base_delay * 2^(attempt-1))`.
    pub fn backoff_ceiling(&self, attempt: u32) -> Duration {
        let exp = attempt.saturating_sub(1).min(30);
        self.base_delay
            .saturating_mul(1u32 << exp)
            .min(self.max_delay)
    }

    /// Full jitter: a delay uniformly in `[0, ceiling]`; `unit` is a sample in `[0, 1)`.
    pub fn delay(&self, attempt: u32, unit: f64) -> Duration {
        self.backoff_ceiling(attempt).mul_f64(unit.clamp(0.0, 1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ActionKind::{Read, Write};

    fn api(code: &str) -> ErrorKind {
        ErrorKind::Api {
            code: ErrorCode::parse(code),
            message: String::new(),
        }
    }
    fn unknown() -> ErrorKind {
        ErrorKind::OutcomeUnknown {
            reason: "connection reset".into(),
            http_status: None,
        }
    }
    fn not_sent() -> ErrorKind {
        ErrorKind::NotSent {
            reason: "connection refused".into(),
        }
    }

    #[test]
    fn reads_retry_every_transient_failure() {
        for e in [
            not_sent(),
            unknown(),
            ErrorKind::OutcomeUnknown {
                reason: "HTTP 503".into(),
                http_status: Some(503),
            },
            api("InternalError"),
            api("InternalError.ModuleError"),
            api("RequestLimitExceeded"),
            api("RequestLimitExceeded.UinLimitExceeded"),
            api("ResourceBusy"),
            api("ResourceInUse"),
        ] {
            assert_eq!(should_retry(Read, &e, 1), Decision::Retry, "{e:?}");
            assert_eq!(should_retry(Read, &e, 4), Decision::Retry, "{e:?}");
        }
    }

    #[test]
    fn writes_retry_only_what_proves_nothing_happened() {
        for e in [
            not_sent(),
            api("RequestLimitExceeded"),
            api("RequestLimitExceeded.X"),
            api("ResourceInUse"),
            api("ResourceBusy"),
        ] {
            assert_eq!(should_retry(Write, &e, 1), Decision::Retry, "{e:?}");
        }
        for e in [
            unknown(),
            ErrorKind::OutcomeUnknown {
                reason: "HTTP 502".into(),
                http_status: Some(502),
            },
            api("InternalError"),
            api("LimitExceeded"),
        ] {
            assert_eq!(should_retry(Write, &e, 1), Decision::Stop, "{e:?}");
        }
    }

    #[test]
    fn permanent_errors_are_never_retried() {
        for kind in [Read, Write] {
            for e in [
                api("InvalidParameterValue.TooLong"),
                api("MissingParameter"),
                api("UnknownParameter"),
                api("InvalidAction"),
                api("ResourceNotFound"),
                api("AuthFailure.SignatureFailure"),
                api("AuthFailure.SecretIdNotFound"),
                api("UnsupportedOperation.VpnConnInvalidState"),
                api("LimitExceeded"),
                ErrorKind::Decode { reason: "x".into() },
                ErrorKind::UnexpectedStatus { status: 404 },
                ErrorKind::InvalidRequest { reason: "x".into() },
            ] {
                assert_eq!(should_retry(kind, &e, 1), Decision::Stop, "{kind:?} {e:?}");
            }
        }
    }

    #[test]
    fn signature_expire_is_retried_once_after_resigning() {
        for kind in [Read, Write] {
            assert_eq!(
                should_retry(kind, &api("AuthFailure.SignatureExpire"), 1),
                Decision::Retry
            );
            assert_eq!(
                should_retry(kind, &api("AuthFailure.SignatureExpire"), 2),
                Decision::Stop
            );
        }
    }

    #[test]
    fn policy_bounds_attempts_and_budget() {
        let p = RetryPolicy {
            max_attempts: 3,
            total_budget: Duration::from_secs(10),
            ..Default::default()
        };
        let e = not_sent();
        assert_eq!(p.decide(Write, &e, 1, Duration::ZERO), Decision::Retry);
        assert_eq!(p.decide(Write, &e, 2, Duration::ZERO), Decision::Retry);
        assert_eq!(p.decide(Write, &e, 3, Duration::ZERO), Decision::Stop);
        assert_eq!(
            p.decide(Write, &e, 1, Duration::from_secs(10)),
            Decision::Stop
        );
        assert_eq!(
            RetryPolicy::none().decide(Read, &e, 1, Duration::ZERO),
            Decision::Stop
        );
    }

    #[test]
    fn backoff_is_exponential_capped_and_fully_jittered() {
        let p = RetryPolicy {
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
            ..Default::default()
        };
        assert_eq!(p.backoff_ceiling(1), Duration::from_millis(100));
        assert_eq!(p.backoff_ceiling(2), Duration::from_millis(200));
        assert_eq!(p.backoff_ceiling(4), Duration::from_millis(800));
        assert_eq!(p.backoff_ceiling(5), Duration::from_millis(1000));
        assert_eq!(p.backoff_ceiling(200), Duration::from_millis(1000));
        assert_eq!(p.delay(3, 0.0), Duration::ZERO);
        assert_eq!(p.delay(3, 0.5), Duration::from_millis(200));
        assert!(p.delay(3, 0.999_999) <= Duration::from_millis(400));
    }
}
