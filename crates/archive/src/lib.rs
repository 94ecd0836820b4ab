//! The archive domain: the recording document, object keys, storage ports and local adapters.
