//! A Zoom API simulator over real HTTP, for tests and demos.
