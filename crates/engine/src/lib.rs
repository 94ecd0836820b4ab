//! Durable execution of ASL state machines.
//!
//! `core` is the deterministic heart (`apply(fact) -> history + actions`),
//! `store` the SQLite journal, `driver` the thread that joins them and runs
//! tasks on handlers, `engine` the handle callers hold. See ARCHITECTURE.md
//! for the invariants.

pub mod arn;
pub mod clock;
pub mod core;
mod driver;
mod engine;
pub mod handler;
pub mod history;
mod map_run_io;
pub mod objects;
pub mod rules;
#[cfg(test)]
mod scratch;
pub mod store;
pub mod task;
mod upkeep;

pub use clock::Clock;
pub use core::{End, MapRunUpdate, Status};
pub use engine::{
    Engine, EngineConfig, Error, MapRunDescription, NewStateMachine, Result, Started, WeakEngine,
    DEFAULT_RETENTION,
};
pub use handler::{BoxFuture, Handlers, LambdaFallback, TaskHandler, TaskRequest};
pub use objects::{DirectoryObjects, ObjectStore};
pub use rules::{MachineType, RedriveStatus};
pub use store::{Durability, JournalStats, MapRunCounts, MapRunRow};
