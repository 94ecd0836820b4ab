//! SigV4 request verification (being written).
