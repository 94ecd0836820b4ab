//! The one retry policy for every Zoom request: how many attempts, how long to
//! back off, and how to read `Retry-After`. It owns timing decisions only; it
//! must not send requests or decide which statuses are retryable (the client
//! does), and it stays small because the workflow's ASL `Retry` is the outer
//! loop: this one only smooths over short blips.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

use time::OffsetDateTime;

/// Bounded retries for 429, 5xx and connection failures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total attempts, the first included. `1` disables retries.
    pub max_attempts: u32,
    /// Backoff before the second attempt; doubles each time after.
    pub initial_backoff: Duration,
    /// Ceiling for one computed backoff.
    pub max_backoff: Duration,
    /// Longest `Retry-After` honoured in-process. Zoom answers a daily limit
    /// with a wait of hours; rather than sleep that long inside a task, the
    /// client returns `Error::RateLimited` and leaves it to the workflow.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(20),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// No retries at all: every failure is returned at once.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The wait before attempt `failed_attempts + 1`: exponential with
    /// "equal jitter" (half fixed, half random), so concurrent workers that
    /// failed together do not retry together, yet every wait is at least half
    /// the nominal backoff.
    pub fn backoff(&self, failed_attempts: u32) -> Duration {
        let exponent = failed_attempts.saturating_sub(1).min(16);
        let nominal = self
            .initial_backoff
            .saturating_mul(1u32 << exponent)
            .min(self.max_backoff);
        let half = nominal / 2;
        let jitter_nanos = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX);
        let jitter = if jitter_nanos == 0 {
            Duration::ZERO
        } else {
            Duration::from_nanos(random_u64() % (jitter_nanos + 1))
        };
        half + jitter
    }
}

/// Parses `Retry-After`: either delay-seconds or an HTTP-date (RFC 9110
/// §10.2.3). A date in the past means "now". Unparseable values are ignored,
/// so the caller falls back to its own backoff.
pub fn parse_retry_after(value: &str, now: OffsetDateTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = parse_http_date(value)?;
    let wait = at - now;
    Some(if wait.is_negative() {
        Duration::ZERO
    } else {
        wait.unsigned_abs()
    })
}

/// IMF-fixdate, the only HTTP-date form servers may send:
/// `Sun, 06 Nov 1994 08:49:37 GMT`.
fn parse_http_date(value: &str) -> Option<OffsetDateTime> {
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    time::PrimitiveDateTime::parse(value, &format)
        .ok()
        .map(time::PrimitiveDateTime::assume_utc)
}

/// A random number without a dependency: std seeds every `RandomState` from
/// the OS and perturbs it per instance, which is plenty for jitter.
fn random_u64() -> u64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(0x9e37_79b9_7f4a_7c15);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn retry_after_accepts_seconds_and_http_dates() {
        let now = datetime!(1994-11-06 08:49:30 UTC);
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn backoff_doubles_within_jitter_and_is_capped() {
        let policy = RetryPolicy {
            max_attempts: 10,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(350),
            max_retry_after: Duration::from_secs(1),
        };
        for (failed, nominal_ms) in [(1, 100), (2, 200), (3, 350), (9, 350)] {
            let nominal = Duration::from_millis(nominal_ms);
            for _ in 0..50 {
                let wait = policy.backoff(failed);
                assert!(
                    wait >= nominal / 2 && wait <= nominal,
                    "{wait:?} for {failed}"
                );
            }
        }
    }

    #[test]
    fn jitter_varies() {
        let policy = RetryPolicy::default();
        let waits: std::collections::HashSet<Duration> =
            (0..20).map(|_| policy.backoff(3)).collect();
        assert!(waits.len() > 1);
    }
}
