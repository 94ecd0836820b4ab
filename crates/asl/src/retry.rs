//! Error handling fields shared by Task, Parallel and Map: `Retry` and
//! `Catch`. Owns error-name matching (`States.ALL`, `States.TaskFailed`,
//! `States.Timeout`) and the backoff arithmetic; knows nothing of clocks:
//! the caller turns a delay into a due time.

use crate::error::names;
use crate::path::Path;
use crate::{Entropy, Failure};

/// How a Retry interval is randomised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jitter {
    None,
    /// A random delay between 0 and the computed backoff.
    Full,
}

/// One element of a `Retry` array, with the spec's defaults filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct Retrier {
    pub error_equals: Vec<String>,
    pub interval_seconds: u64,
    pub max_attempts: u64,
    pub backoff_rate: f64,
    pub max_delay_seconds: Option<u64>,
    pub jitter: Jitter,
}

impl Retrier {
    pub const DEFAULT_INTERVAL_SECONDS: u64 = 1;
    pub const DEFAULT_MAX_ATTEMPTS: u64 = 3;
    pub const DEFAULT_BACKOFF_RATE: f64 = 2.0;

    /// The delay before retry number `retries_done + 1`, in milliseconds.
    /// The first retry waits `IntervalSeconds`; each next one multiplies by
    /// `BackoffRate`; `MaxDelaySeconds` caps it; `FULL` jitter draws a delay
    /// uniformly between 0 and the capped backoff.
    pub fn delay_millis(&self, retries_done: u64, entropy: &mut dyn Entropy) -> u64 {
        let exponent = i32::try_from(retries_done).unwrap_or(i32::MAX);
        let mut seconds = self.interval_seconds as f64 * self.backoff_rate.powi(exponent);
        if let Some(max) = self.max_delay_seconds {
            seconds = seconds.min(max as f64);
        }
        // AWS caps any single retry interval at one year; so do we, which
        // also keeps the arithmetic finite for absurd backoff rates.
        seconds = seconds.min(31_536_000.0);
        let millis = (seconds * 1000.0).round() as u64;
        match self.jitter {
            Jitter::None => millis,
            Jitter::Full => {
                if millis == 0 {
                    0
                } else {
                    entropy.next_u64() % (millis + 1)
                }
            }
        }
    }
}

/// One element of a `Catch` array.
#[derive(Debug, Clone, PartialEq)]
pub struct Catcher {
    pub error_equals: Vec<String>,
    pub next: String,
    /// `None` is `"ResultPath": null` (discard the error output).
    pub result_path: Option<Path>,
    pub assign: Option<crate::definition::Assign>,
    /// JSONata `Output`: the catcher's output, in place of the error output.
    pub output: Option<crate::jsonata::Template>,
}

/// Whether an `ErrorEquals` list matches a failure.
///
/// `States.ALL` matches every error except the terminal one
/// (`States.Runtime`); `States.TaskFailed`
/// matches every error except timeouts and the terminal ones;
/// `States.Timeout` also matches `States.HeartbeatTimeout`, since AWS
/// documents a heartbeat timeout as a kind of task timeout. Terminal errors
/// are never matched, even by name: AWS documents them as always failing the
/// execution.
pub fn error_matches(error_equals: &[String], failure: &Failure) -> bool {
    if is_terminal(&failure.error) {
        return false;
    }
    error_equals.iter().any(|name| match name.as_str() {
        names::ALL => true,
        names::TASK_FAILED => {
            failure.error != names::TIMEOUT && failure.error != names::HEARTBEAT_TIMEOUT
        }
        names::TIMEOUT => {
            failure.error == names::TIMEOUT || failure.error == names::HEARTBEAT_TIMEOUT
        }
        other => other == failure.error,
    })
}

/// Errors that no Retry or Catch can handle. AWS's error-handling page
/// calls `States.DataLimitExceeded` terminal too, but AWS itself catches
/// it, by name and by `States.ALL` (executions recorded on AWS in
/// <https://github.com/localstack/localstack/blob/main/tests/aws/services/stepfunctions/v2/error_handling/test_states_errors.snapshot.json>),
/// and we follow what AWS does.
pub fn is_terminal(error: &str) -> bool {
    error == names::RUNTIME
}

/// What to do with a failure, given the state's Retry and Catch.
#[derive(Debug, Clone, PartialEq)]
pub enum Recovery {
    /// Run the state again after `delay_millis`; `retrier` is the index whose
    /// attempt counter must be incremented.
    Retry { retrier: usize, delay_millis: u64 },
    /// Go to the catcher's `Next`.
    Catch { catcher: usize },
    /// Nothing handles it: the failure propagates.
    Propagate,
}

/// Decides how a failure is handled. `retries_done[i]` counts the retries
/// already made under retrier `i` (the caller keeps these counts durably).
/// The first retrier whose `ErrorEquals` matches decides: it retries while
/// attempts remain, otherwise the catchers are consulted, as the spec says.
pub fn recover(
    retriers: &[Retrier],
    catchers: &[Catcher],
    failure: &Failure,
    retries_done: &[u64],
    entropy: &mut dyn Entropy,
) -> Recovery {
    if let Some(index) = retriers
        .iter()
        .position(|r| error_matches(&r.error_equals, failure))
    {
        let retrier = &retriers[index];
        let done = retries_done.get(index).copied().unwrap_or(0);
        if done < retrier.max_attempts {
            return Recovery::Retry {
                retrier: index,
                delay_millis: retrier.delay_millis(done, entropy),
            };
        }
    }
    match catchers
        .iter()
        .position(|c| error_matches(&c.error_equals, failure))
    {
        Some(catcher) => Recovery::Catch { catcher },
        None => Recovery::Propagate,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SplitMix64;

    fn retrier(errors: &[&str]) -> Retrier {
        Retrier {
            error_equals: errors.iter().map(|s| s.to_string()).collect(),
            interval_seconds: 1,
            max_attempts: 3,
            backoff_rate: 2.0,
            max_delay_seconds: None,
            jitter: Jitter::None,
        }
    }

    fn fail(name: &str) -> Failure {
        Failure::new(name, "")
    }

    #[test]
    fn all_matches_custom_errors_but_not_runtime() {
        let all = vec!["States.ALL".to_string()];
        assert!(error_matches(&all, &fail("MyError")));
        assert!(error_matches(&all, &fail("States.Timeout")));
        assert!(!error_matches(&all, &fail("States.Runtime")));
        assert!(!error_matches(
            &["States.Runtime".to_string()],
            &fail("States.Runtime")
        ));
    }

    #[test]
    fn task_failed_matches_everything_but_timeouts() {
        let tf = vec!["States.TaskFailed".to_string()];
        assert!(error_matches(&tf, &fail("Lambda.ServiceException")));
        assert!(!error_matches(&tf, &fail("States.Timeout")));
        assert!(!error_matches(&tf, &fail("States.HeartbeatTimeout")));
    }

    #[test]
    fn timeout_matches_heartbeat_timeout() {
        let t = vec!["States.Timeout".to_string()];
        assert!(error_matches(&t, &fail("States.HeartbeatTimeout")));
        let hb = vec!["States.HeartbeatTimeout".to_string()];
        assert!(!error_matches(&hb, &fail("States.Timeout")));
    }

    #[test]
    fn backoff_multiplies_and_caps() {
        let mut r = retrier(&["E"]);
        r.interval_seconds = 3;
        r.backoff_rate = 2.0;
        let mut e = SplitMix64(1);
        let delays: Vec<u64> = (0..4).map(|n| r.delay_millis(n, &mut e)).collect();
        assert_eq!(delays, vec![3000, 6000, 12000, 24000]);
        r.max_delay_seconds = Some(10);
        assert_eq!(r.delay_millis(3, &mut e), 10000);
    }

    #[test]
    fn full_jitter_stays_within_backoff() {
        let mut r = retrier(&["E"]);
        r.jitter = Jitter::Full;
        let mut e = SplitMix64(7);
        for n in 0..20 {
            let d = r.delay_millis(n % 5, &mut e);
            assert!(d <= 1000 * 2u64.pow((n % 5) as u32));
        }
    }

    #[test]
    fn max_attempts_zero_never_retries_and_falls_to_catch() {
        let mut r = retrier(&["E"]);
        r.max_attempts = 0;
        let c = Catcher {
            error_equals: vec!["E".into()],
            next: "Recover".into(),
            result_path: None,
            assign: None,
            output: None,
        };
        let mut e = SplitMix64(0);
        assert_eq!(
            recover(&[r], &[c], &fail("E"), &[0], &mut e),
            Recovery::Catch { catcher: 0 }
        );
    }

    #[test]
    fn first_matching_retrier_decides_even_when_exhausted() {
        let first = retrier(&["E"]);
        let second = retrier(&["States.ALL"]);
        let mut e = SplitMix64(0);
        // The first retrier matches and is exhausted; the second is not consulted.
        assert_eq!(
            recover(&[first, second], &[], &fail("E"), &[3, 0], &mut e),
            Recovery::Propagate
        );
    }

    #[test]
    fn retries_until_attempts_exhausted() {
        let r = retrier(&["E"]);
        let mut e = SplitMix64(0);
        for done in 0..3 {
            assert!(matches!(
                recover(std::slice::from_ref(&r), &[], &fail("E"), &[done], &mut e),
                Recovery::Retry { retrier: 0, .. }
            ));
        }
        assert_eq!(
            recover(&[r], &[], &fail("E"), &[3], &mut e),
            Recovery::Propagate
        );
    }
}
