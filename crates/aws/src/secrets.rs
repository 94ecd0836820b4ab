//! The secrets adapter (being written).
