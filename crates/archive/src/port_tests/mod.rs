//! The ports' contract as executable checks. Every adapter of a port runs
//! the same suite: the local adapters in this crate's tests, the AWS
//! adapters against moto's server in `crates/aws/tests`. A behaviour the
//! suite checks is part of the port's contract; one it does not check is
//! not promised.
//!
//! The checks panic on a broken promise, with what was expected and what
//! the adapter did, like any test assertion.

pub mod events;
pub mod index;
pub mod object_store;
