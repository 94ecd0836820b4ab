//! `zoom-sim`: runs the Zoom API simulator.

fn main() {}
