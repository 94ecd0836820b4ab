//! Durable execution of ASL state machines.
