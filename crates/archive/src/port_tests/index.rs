//! The index port's shared suite (being written).
