//! The lambda adapter (being written).
