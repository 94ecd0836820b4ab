//! Durable execution of ASL state machines.
//!
//! `core` is the deterministic heart (`apply(fact) -> history + actions`),
//! `store` the SQLite journal, `driver` the thread that joins them and runs
//! tasks on handlers, `engine` the handle callers hold. See ARCHITECTURE.md
//! for the invariants.

pub mod arn;
mod checkpoint;
pub mod clock;
pub mod core;
mod driver;
mod engine;
pub mod handler;
pub mod history;
pub mod rules;
pub mod store;
pub mod task;

pub use clock::Clock;
pub use core::{End, Status};
pub use engine::{Engine, EngineConfig, Error, NewStateMachine, Result, Started};
pub use handler::{BoxFuture, Handlers, LambdaFallback, TaskHandler, TaskRequest};
pub use rules::{MachineType, RedriveStatus};
