//! Zoom: webhook verification, typed events, and the REST API client.
