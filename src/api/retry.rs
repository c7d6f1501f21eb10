//! When to send a request again, and how long to wait first (DESIGN §4).
//!
//! Only transient failures are retried ([`ApiError::is_transient`]), with exponential backoff
//! and full jitter: the wait before attempt `n + 1` is uniform in `[0, min(cap, base · 2ⁿ⁻¹)]`,
//! which spreads out many tasks that failed together. A rate-limit answer also pauses the
//! command in the pacer, so its retry waits at least that long.
//!
//! This module only decides; the loop that sends lives in `client.rs`, and what a retried
//! *write* means (was the first attempt applied?) is judged in `write.rs`.

use std::time::Duration;

use super::error::ApiError;

/// How many times, and how patiently, a request is tried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 = no retries).
    pub max_attempts: u32,
    /// Ceiling of the first wait.
    pub base: Duration,
    /// Ceiling of every wait.
    pub cap: Duration,
}

impl Default for RetryPolicy {
    /// 6 attempts, waits up to 0.1, 0.2, 0.4, 0.8, 1.6 s: about 3 s of backoff at most in all,
    /// on top of the request timeouts.
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 6,
            base: Duration::from_millis(100),
            cap: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// Whether to try again after `err`, `attempts` having been made.
    pub fn should_retry(&self, err: &ApiError, attempts: u32) -> bool {
        err.is_transient() && attempts < self.max_attempts
    }

    /// The longest wait after `attempts` failed attempts (`attempts ≥ 1`).
    pub fn ceiling(&self, attempts: u32) -> Duration {
        let doublings = attempts.saturating_sub(1).min(30);
        self.base.saturating_mul(1 << doublings).min(self.cap)
    }

    /// The wait after `attempts` failed attempts, for a uniform random `unit` in `[0, 1)`.
    pub fn delay(&self, attempts: u32, unit: f64) -> Duration {
        self.ceiling(attempts).mul_f64(unit.clamp(0.0, 1.0))
    }
}

#[cfg(test)]
mod tests {
    use crate::api::wire::Command;

    use super::*;

    fn service(code: i64) -> ApiError {
        ApiError::Service {
            command: Command::GetGroupInfo,
            group: None,
            code,
            info: Default::default(),
        }
    }

    #[test]
    fn ceilings_double_from_the_base_up_to_the_cap() {
        let policy = RetryPolicy::default();
        let ceilings: Vec<u64> = (1..=8)
            .map(|n| policy.ceiling(n).as_millis() as u64)
            .collect();
        assert_eq!(ceilings, [100, 200, 400, 800, 1600, 3200, 5000, 5000]);
        assert_eq!(policy.ceiling(u32::MAX), policy.cap);
    }

    #[test]
    fn delay_is_full_jitter_below_the_ceiling() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.delay(3, 0.0), Duration::ZERO);
        assert_eq!(policy.delay(3, 0.5), Duration::from_millis(200));
        assert!(policy.delay(3, 0.999_999) < Duration::from_millis(400));
        for _ in 0..100 {
            assert!(policy.delay(2, rand::random::<f64>()) <= policy.ceiling(2));
        }
    }

    #[test]
    fn transient_errors_are_retried_until_the_budget_is_spent() {
        let policy = RetryPolicy::default();
        assert!(policy.should_retry(&service(10002), 1));
        assert!(policy.should_retry(&service(60007), 5));
        assert!(!policy.should_retry(&service(10002), 6));
        assert!(!policy.should_retry(&service(10004), 1));
        let once = RetryPolicy {
            max_attempts: 1,
            ..policy
        };
        assert!(!once.should_retry(&service(10002), 1));
    }
}
