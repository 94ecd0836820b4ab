//! The object_store port's shared suite (being written).
