//! Timestamps as ASL reads them. (INTERFACE STUB: the choice helper replaces the bodies.)

use time::OffsetDateTime;

/// Parses an ASL timestamp: RFC 3339 with an uppercase `T` and `Z` or offset.
pub fn parse(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()
}
