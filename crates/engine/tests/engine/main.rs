//! The engine end to end through its public API: executions journaled in a
//! real SQLite file, tasks on real handlers, virtual time for waits and
//! retries. Every scenario also replays its journal and must rebuild the
//! exact stored history.
//!
//! One test binary, a module per area, so the engine is built and linked
//! once for all of them; what the modules share lives in `support`.

mod basics;
mod callbacks;
mod map_runs;
mod redrive;
mod redrive_parallel_map;
mod retention;
mod state_machines;
mod support;
