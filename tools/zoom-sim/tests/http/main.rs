//! End-to-end tests of the Zoom simulator over real HTTP: each test starts a
//! simulator on a free loopback port and talks to it with reqwest, as
//! zoomvault's Zoom client (`crates/zoom`) does. One test binary, one module
//! per surface, to keep link time low. Tests must not share a simulator or
//! a fixed port, and do not wait for tokens to expire: they expire them, or
//! advance the simulator's clock.

mod admin;
mod downloads;
mod oauth;
mod rest;
mod support;
mod webhooks;
