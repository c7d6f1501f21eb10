//! Per-command rate limits, answered like the service when exceeded (reference §1.4, §3).
//!
//! Each command has a token bucket: capacity = its rate per second (a burst of one second, at
//! least one call), refilled continuously. So a client paced at the documented rate, spread
//! evenly or in bursts of one second's worth, never trips it, while a client going faster does
//! within a second. Requests may arrive a little early because of scheduling jitter on either
//! side; a grace of [`JITTER_GRACE`] worth of tokens absorbs that without raising the long-run
//! rate (the bucket can go at most that far below zero).
//!
//! The scale multiplies every rate: 0 switches limiting off, 1 is the documented limits, 0.01
//! makes 200/s into 2/s for a fast test.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::lock;
use super::wire::Command;

/// How early, in time, a request may arrive and still be admitted.
pub const JITTER_GRACE: Duration = Duration::from_millis(50);

pub(crate) struct RateLimits {
    inner: Mutex<Inner>,
}

struct Inner {
    scale: f64,
    buckets: HashMap<Command, Bucket>,
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

impl RateLimits {
    pub fn new(scale: f64) -> RateLimits {
        RateLimits {
            inner: Mutex::new(Inner {
                scale,
                buckets: HashMap::new(),
            }),
        }
    }

    /// Changes the scale; buckets start full again.
    pub fn set_scale(&self, scale: f64) {
        let mut inner = lock(&self.inner);
        inner.scale = scale;
        inner.buckets.clear();
    }

    /// Takes one token for `command` at `now`; `false` means the call is over the limit.
    pub fn admit(&self, command: Command, now: Instant) -> bool {
        let mut inner = lock(&self.inner);
        if inner.scale <= 0.0 {
            return true;
        }
        let rate = command.calls_per_second() * inner.scale;
        let capacity = rate.max(1.0);
        let grace = rate * JITTER_GRACE.as_secs_f64();
        let bucket = inner.buckets.entry(command).or_insert(Bucket {
            tokens: capacity,
            at: now,
        });
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(capacity);
        bucket.at = bucket.at.max(now);
        if bucket.tokens + grace >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admitted(limits: &RateLimits, command: Command, times: &[Instant]) -> usize {
        times.iter().filter(|&&t| limits.admit(command, t)).count()
    }

    #[test]
    fn evenly_paced_clients_never_trip() {
        let limits = RateLimits::new(1.0);
        let start = Instant::now();
        let every = |n: u32, period: Duration| -> Vec<Instant> {
            (0..n).map(|i| start + period * i).collect()
        };
        let calls = every(600, Duration::from_millis(5));
        assert_eq!(admitted(&limits, Command::GetGroupInfo, &calls), 600);
        let calls = every(5, Duration::from_secs(1));
        assert_eq!(admitted(&limits, Command::GetAppidGroupList, &calls), 5);
    }

    #[test]
    fn one_second_bursts_at_the_rate_never_trip() {
        let limits = RateLimits::new(1.0);
        let start = Instant::now();
        for second in 0..3u32 {
            let t = start + Duration::from_secs(second.into());
            assert_eq!(
                admitted(&limits, Command::ModifyGroupBaseInfo, &[t; 200]),
                200
            );
        }
    }

    #[test]
    fn going_faster_trips_and_commands_are_independent() {
        let limits = RateLimits::new(1.0);
        let t = Instant::now();
        let burst = 200 + (200.0 * JITTER_GRACE.as_secs_f64()) as usize;
        assert_eq!(admitted(&limits, Command::CreateGroup, &[t; 400]), burst);
        assert!(limits.admit(Command::DestroyGroup, t));
        assert!(limits.admit(Command::GetAppidGroupList, t));
        let soon = t + Duration::from_millis(900);
        assert!(!limits.admit(Command::GetAppidGroupList, soon));
    }

    #[test]
    fn early_arrival_within_the_grace_is_admitted() {
        let limits = RateLimits::new(1.0);
        let t = Instant::now();
        assert!(limits.admit(Command::GetAppidGroupList, t));
        assert!(limits.admit(
            Command::GetAppidGroupList,
            t + Duration::from_secs(1) - JITTER_GRACE / 2
        ));
        assert!(!limits.admit(Command::GetAppidGroupList, t + Duration::from_secs(1)));
    }

    #[test]
    fn scale_zero_is_off_and_scale_shrinks() {
        let t = Instant::now();
        let off = RateLimits::new(0.0);
        assert_eq!(admitted(&off, Command::CreateGroup, &[t; 1000]), 1000);
        let tight = RateLimits::new(0.01);
        assert_eq!(admitted(&tight, Command::CreateGroup, &[t; 10]), 2);
        tight.set_scale(0.0);
        assert!(tight.admit(Command::CreateGroup, t));
    }
}
