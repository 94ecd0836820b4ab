//! The Amazon States Language (ASL), in both query languages: definitions
//! parsed and validated once into typed values, and the pure evaluation of
//! paths, payload templates, intrinsic functions, choice rules and JSONata
//! expressions against data.
//!
//! This crate does no I/O, reads no clock and draws no randomness of its own:
//! time and entropy come in from the caller, so every evaluation is
//! deterministic and can be replayed.

pub mod body;
pub mod choice;
pub mod definition;
pub mod entropy;
pub mod error;
pub mod intrinsic;
pub mod json_type;
pub mod jsonata;
pub mod lifecycle;
pub mod limits;
pub mod path;
pub mod payload;
pub mod retry;
pub mod scope;
pub mod timestamp;

pub use entropy::{Entropy, SplitMix64};
pub use error::{DefinitionError, Failure};
pub use json_type::JsonType;
pub use scope::Scope;

#[cfg(test)]
mod fuzz;

/// Measures the heap each fuzzing case holds (`zoomvault_fuzz::check`).
#[cfg(test)]
#[global_allocator]
static ALLOCATOR: zoomvault_fuzz::CountingAllocator = zoomvault_fuzz::CountingAllocator;
