//! The dynamodb adapter (being written).
