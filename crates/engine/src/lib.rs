//! Durable execution of ASL state machines.
//!
//! `core` is the deterministic heart (`apply(fact) -> history + actions`),
//! `store` the SQLite journal, `driver` the thread that joins them and runs
//! tasks on handlers. See ARCHITECTURE.md for the invariants.

pub mod arn;
pub mod clock;
pub mod core;
pub mod driver;
pub mod handler;
pub mod history;
pub mod store;
pub mod task;

pub use clock::Clock;
pub use driver::{
    Engine, EngineConfig, Error, MachineType, NewStateMachine, RedriveStatus, Started,
};
pub use handler::{Handlers, TaskHandler, TaskRequest};
