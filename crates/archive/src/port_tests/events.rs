//! The events port's shared suite (being written).
