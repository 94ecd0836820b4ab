//! The harness of zoomvault's bounded fuzzing: property tests over hostile
//! input that run in the ordinary `cargo test`, on stable Rust. [`check`]
//! runs a proptest strategy for a fixed number of cases on a thread with a
//! 2 MiB stack (what `cargo test` gives its threads), so a recursion that
//! would overflow in production overflows here too, and it fails a case
//! whose peak heap on that thread exceeds the case's budget, so "memory
//! stays bounded" is measured rather than assumed.
//!
//! The measuring needs [`CountingAllocator`] installed as the global
//! allocator of the test binary: a crate whose unit tests fuzz says
//! `#[cfg(test)] #[global_allocator] static ALLOCATOR: CountingAllocator =
//! CountingAllocator;` once. Without it [`check`] refuses to run, rather
//! than pass with every budget unmeasured.
//!
//! This crate is for tests only: no library or binary depends on it, so its
//! one `unsafe` impl (forwarding to the system allocator) never ships.

#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::fmt::Debug;
use std::panic;
use std::thread;

use proptest::strategy::Strategy;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRunner};

/// The stack of the thread a property runs on: the 2 MiB `cargo test`
/// gives its own threads (and Rust gives any spawned thread by default).
pub const STACK_BYTES: usize = 2 * 1024 * 1024;

thread_local! {
    /// Bytes this thread holds now, and the most it has held since the
    /// last [`reset_peak`]. Const-initialised cells without destructors, so
    /// reading them from the allocator never allocates.
    static LIVE: Cell<usize> = const { Cell::new(0) };
    static PEAK: Cell<usize> = const { Cell::new(0) };
    static INSTALLED: Cell<bool> = const { Cell::new(false) };
}

/// The system allocator, counting each thread's live bytes and their peak.
/// Only allocations made and freed on the same thread balance out; the
/// properties measure single-threaded code, so that is all they need.
#[derive(Debug, Clone, Copy, Default)]
pub struct CountingAllocator;

fn grow(bytes: usize) {
    let _ = LIVE.try_with(|live| {
        let now = live.get().saturating_add(bytes);
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
    let _ = INSTALLED.try_with(|installed| installed.set(true));
}

fn shrink(bytes: usize) {
    let _ = LIVE.try_with(|live| live.set(live.get().saturating_sub(bytes)));
}

// SAFETY: every method forwards to `System` with the caller's arguments
// unchanged; the counting touches only const thread-locals, which neither
// allocate nor unwind.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let pointer = System.alloc(layout);
        if !pointer.is_null() {
            grow(layout.size());
        }
        pointer
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let pointer = System.alloc_zeroed(layout);
        if !pointer.is_null() {
            grow(layout.size());
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        System.dealloc(pointer, layout);
        shrink(layout.size());
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let moved = System.realloc(pointer, layout, new_size);
        if !moved.is_null() {
            shrink(layout.size());
            grow(new_size);
        }
        moved
    }
}

/// Starts measuring this thread's peak from what it holds now.
fn reset_peak() {
    let live = LIVE.with(Cell::get);
    PEAK.with(|peak| peak.set(live));
}

/// How far this thread's heap rose above `baseline` since [`reset_peak`].
fn peak_above(baseline: usize) -> usize {
    PEAK.with(Cell::get).saturating_sub(baseline)
}

/// Runs `body` on this thread and returns its result with the most heap it
/// held at once beyond what the thread held before.
pub fn measure<T>(body: impl FnOnce() -> T) -> (T, usize) {
    let baseline = LIVE.with(Cell::get);
    reset_peak();
    let value = body();
    (value, peak_above(baseline))
}

/// One property: `cases` inputs drawn from the strategy `strategy()`
/// builds, each handed to `test` on a fresh thread with a [`STACK_BYTES`]
/// stack. A case fails when `test` fails or panics, or when its peak heap
/// beyond the input's own exceeds `budget(&input)` bytes.
///
/// proptest itself (generating and shrinking inputs) runs on a thread with
/// a generous stack of its own, because its value trees for structured
/// strategies take more than 2 MiB in debug builds; only the code under
/// test is held to [`STACK_BYTES`]. The strategy is built on that thread
/// because proptest's boxed strategies are not `Send`. Failures are not
/// persisted to files: a failure this finds is kept as a plain unit test
/// beside the code it exercised.
pub fn check<S, F>(
    cases: u32,
    strategy: impl FnOnce() -> S + Send + 'static,
    budget: fn(&S::Value) -> usize,
    test: F,
) where
    S: Strategy + 'static,
    S::Value: Debug + Send + 'static,
    F: Fn(S::Value) -> Result<(), TestCaseError> + Send + Sync + 'static,
{
    let runner = thread::Builder::new()
        .name("fuzz-runner".to_owned())
        .stack_size(RUNNER_STACK_BYTES)
        .spawn(move || {
            let strategy = strategy();
            let mut runner = TestRunner::new(Config {
                cases,
                failure_persistence: None,
                // proptest's default ChaCha generator takes most of a
                // debug build's time; XorShift is plenty for test inputs.
                rng_algorithm: RngAlgorithm::XorShift,
                ..Config::default()
            });
            runner
                .run(&strategy, |input| run_case(input, budget, &test))
                .map_err(|failure| failure.to_string())
        })
        .expect("the fuzz runner thread starts");
    match runner.join() {
        Ok(Ok(())) => {}
        Ok(Err(failure)) => panic!("{failure}"),
        Err(payload) => panic::resume_unwind(payload),
    }
}

/// The stack proptest generates and shrinks inputs on.
const RUNNER_STACK_BYTES: usize = 64 * 1024 * 1024;

/// Runs one case on its own [`STACK_BYTES`] thread, measuring its heap.
fn run_case<T, F>(input: T, budget: fn(&T) -> usize, test: &F) -> Result<(), TestCaseError>
where
    T: Debug + Send,
    F: Fn(T) -> Result<(), TestCaseError> + Sync,
{
    let allowed = budget(&input);
    let outcome = thread::scope(|scope| {
        let case = thread::Builder::new()
            .name("fuzz-case".to_owned())
            .stack_size(STACK_BYTES)
            .spawn_scoped(scope, move || {
                // One allocation on this thread, which the counting
                // allocator notices if it is installed.
                drop(std::hint::black_box(Box::new(0u8)));
                assert!(
                    INSTALLED.with(Cell::get),
                    "zoomvault_fuzz::CountingAllocator is not this test binary's global \
                     allocator, so heap budgets cannot be measured; install it with \
                     #[global_allocator] in the crate's root under #[cfg(test)]"
                );
                measure(|| test(input))
            })
            .expect("a fuzz case thread starts");
        case.join()
    });
    let (result, peak) = match outcome {
        Ok(measured) => measured,
        Err(payload) => {
            let message = payload
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| payload.downcast_ref::<&str>().copied())
                .unwrap_or("a panic without a message");
            return Err(TestCaseError::fail(format!("panicked: {message}")));
        }
    };
    result?;
    if peak > allowed {
        return Err(TestCaseError::fail(format!(
            "the case held {peak} bytes of heap at its peak, over its budget of {allowed}"
        )));
    }
    Ok(())
}

/// A budget proportional to the input: `per_byte` bytes of heap per byte
/// of `size`, plus `fixed`. Parsers that only copy and index their input
/// stay within a small multiple of it.
pub fn linear(size: usize, per_byte: usize, fixed: usize) -> usize {
    size.saturating_mul(per_byte).saturating_add(fixed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[global_allocator]
    static ALLOCATOR: CountingAllocator = CountingAllocator;

    #[test]
    fn measure_sees_a_vector_grow_and_not_what_was_held_before() {
        let held = vec![0u8; 1 << 20];
        let ((), peak) = measure(|| {
            let grown = vec![1u8; 3 << 20];
            drop(grown);
        });
        assert!((3 << 20..4 << 20).contains(&peak), "{peak}");
        drop(held);
    }

    #[test]
    fn check_runs_cases_within_budget() {
        check(
            16,
            || 0usize..1000,
            |n| linear(*n, 1, 64),
            |n| {
                prop_assert_eq!(vec![0u8; n].len(), n);
                Ok(())
            },
        );
    }

    #[test]
    #[should_panic(expected = "over its budget")]
    fn check_fails_a_case_over_budget() {
        check(
            4,
            || Just(1usize << 20),
            |_| 1024,
            |n| {
                prop_assert_eq!(vec![0u8; n].len(), n);
                Ok(())
            },
        );
    }
}
