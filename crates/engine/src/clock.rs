//! The engine's clock, injected so Wait states, retries and timeouts run
//! instantly under test: a virtual clock jumps to the next timer whenever
//! nothing else can happen first.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

#[derive(Debug, Clone)]
pub enum Clock {
    /// Wall-clock time.
    System,
    /// Time that moves only when the driver advances it to a due timer.
    Virtual(Arc<AtomicI64>),
}

impl Clock {
    /// A virtual clock starting at `start_ms` (milliseconds since the epoch).
    pub fn virtual_at(start_ms: i64) -> Clock {
        Clock::Virtual(Arc::new(AtomicI64::new(start_ms)))
    }

    pub fn now_ms(&self) -> i64 {
        match self {
            Clock::System => {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default();
                now.as_millis() as i64
            }
            Clock::Virtual(t) => t.load(Ordering::SeqCst),
        }
    }

    pub fn is_virtual(&self) -> bool {
        matches!(self, Clock::Virtual(_))
    }

    /// Moves virtual time forward to `ms` (never backward). No-op for the
    /// system clock.
    pub fn advance_to(&self, ms: i64) {
        if let Clock::Virtual(t) = self {
            t.fetch_max(ms, Ordering::SeqCst);
        }
    }
}
