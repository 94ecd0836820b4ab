//! End-to-end tests of the Zoom simulator over real HTTP: each test starts a
//! simulator on a free loopback port and talks to it with reqwest, exactly
//! as the zoomvault Zoom client will. One test binary, one module per
//! surface, to keep link time low.

mod admin;
mod downloads;
mod oauth;
mod rest;
mod support;
mod webhooks;
