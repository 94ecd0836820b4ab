//! The console page (being written).
