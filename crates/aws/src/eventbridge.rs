//! The eventbridge adapter (being written).
