//! Timestamps as ASL reads and writes them: the strict RFC 3339 profile that
//! Choice `Timestamp...` rules, `IsTimestamp` and the Wait state's
//! `Timestamp`/`TimestampPath` accept, and the UTC, millisecond style in
//! which Step Functions prints instants such as `$$.Execution.StartTime`.
//!
//! This module only converts between text and instants; it never reads the
//! clock.
//!
//! What AWS documents (the ASL spec's "Timestamps" section and the Choice and
//! Wait pages): the RFC 3339 profile of ISO 8601, with an uppercase `T`
//! between date and time and an uppercase `Z` when there is no numeric
//! offset, e.g. `2016-03-14T01:59:00Z`. Fractional seconds are part of that
//! profile (AWS's own context timestamps carry milliseconds). Where the docs
//! are silent we follow RFC 3339's grammar and Java's
//! `DateTimeFormatter.ISO_OFFSET_DATE_TIME`, which the service is built on:
//!
//! * seconds are required (`2016-03-14T01:59Z` is rejected, as RFC 3339 has it);
//! * a fraction has 1 to 9 digits (Java's limit; nanosecond precision);
//! * a leap second (`:60`) is rejected (Java's strict resolver rejects it);
//! * an offset is `Z` or `+hh:mm`/`-hh:mm` with hours up to 23, minutes up to 59;
//! * a date alone, a lowercase `t`/`z`, a space separator or a missing offset
//!   is rejected;
//! * an instant whose UTC date falls outside years 0000..=9999 is rejected, so
//!   every parsed timestamp can be printed back in UTC.

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// Parses an ASL timestamp: RFC 3339 with an uppercase `T` and `Z` or a
/// numeric offset. `None` for anything else; never panics.
pub fn parse(text: &str) -> Option<OffsetDateTime> {
    let bytes = text.as_bytes();
    let mut cursor = Cursor { bytes, at: 0 };

    let year = cursor.digits(4)?;
    cursor.expect(b'-')?;
    let month = cursor.digits(2)?;
    cursor.expect(b'-')?;
    let day = cursor.digits(2)?;
    cursor.expect(b'T')?;
    let hour = cursor.digits(2)?;
    cursor.expect(b':')?;
    let minute = cursor.digits(2)?;
    cursor.expect(b':')?;
    let second = cursor.digits(2)?;

    let mut nanosecond = 0u32;
    if cursor.peek() == Some(b'.') {
        cursor.at += 1;
        let start = cursor.at;
        while cursor.peek().is_some_and(|byte| byte.is_ascii_digit()) {
            cursor.at += 1;
        }
        let count = cursor.at - start;
        if count == 0 || count > 9 {
            return None;
        }
        let fraction = cursor.number(start, cursor.at);
        nanosecond = fraction * 10u32.pow((9 - count) as u32);
    }

    let offset = match cursor.next()? {
        b'Z' => UtcOffset::UTC,
        sign @ (b'+' | b'-') => {
            let hours = cursor.digits(2)?;
            cursor.expect(b':')?;
            let minutes = cursor.digits(2)?;
            if hours > 23 || minutes > 59 {
                return None;
            }
            let (hours, minutes) = (hours as i8, minutes as i8);
            if sign == b'+' {
                UtcOffset::from_hms(hours, minutes, 0).ok()?
            } else {
                UtcOffset::from_hms(-hours, -minutes, 0).ok()?
            }
        }
        _ => return None,
    };
    if cursor.at != bytes.len() {
        return None;
    }

    let month = Month::try_from(u8::try_from(month).ok()?).ok()?;
    let date =
        Date::from_calendar_date(i32::try_from(year).ok()?, month, u8::try_from(day).ok()?).ok()?;
    let time = Time::from_hms_nano(
        u8::try_from(hour).ok()?,
        u8::try_from(minute).ok()?,
        u8::try_from(second).ok()?,
        nanosecond,
    )
    .ok()?;
    let local = PrimitiveDateTime::new(date, time).assume_offset(offset);
    let utc = local.checked_to_offset(UtcOffset::UTC)?;
    if !(0..=9999).contains(&utc.year()) {
        return None;
    }
    Some(local)
}

/// Prints an instant the way Step Functions does: in UTC with `Z`, and with
/// milliseconds only when there are any, e.g. `2016-03-14T01:59:00Z` or
/// `2019-03-26T20:14:13.192Z`. AWS timestamps have millisecond precision, so
/// anything finer is truncated.
pub fn format(t: OffsetDateTime) -> String {
    // An instant whose UTC date is out of the `time` crate's range cannot be
    // shifted to UTC; print it in its own offset rather than panic.
    let (local, offset) = match t.checked_to_offset(UtcOffset::UTC) {
        Some(utc) => (utc, None),
        None => (t, Some(t.offset())),
    };
    let mut text = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        local.year(),
        u8::from(local.month()),
        local.day(),
        local.hour(),
        local.minute(),
        local.second()
    );
    let millisecond = local.millisecond();
    if millisecond != 0 {
        text.push_str(&format!(".{millisecond:03}"));
    }
    match offset {
        None => text.push('Z'),
        Some(offset) => {
            let (hours, minutes, _) = offset.as_hms();
            let sign = if offset.is_negative() { '-' } else { '+' };
            text.push_str(&format!(
                "{sign}{:02}:{:02}",
                hours.unsigned_abs(),
                minutes.unsigned_abs()
            ));
        }
    }
    text
}

/// A forward-only reader over the ASCII bytes of a timestamp.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let byte = self.peek()?;
        self.at += 1;
        Some(byte)
    }

    fn expect(&mut self, wanted: u8) -> Option<()> {
        (self.next()? == wanted).then_some(())
    }

    /// Exactly `count` ASCII digits, as a number.
    fn digits(&mut self, count: usize) -> Option<u32> {
        let start = self.at;
        for _ in 0..count {
            if !self.next()?.is_ascii_digit() {
                return None;
            }
        }
        Some(self.number(start, self.at))
    }

    /// The value of the ASCII digits in `start..end` (at most 9 of them).
    fn number(&self, start: usize, end: usize) -> u32 {
        self.bytes[start..end]
            .iter()
            .fold(0, |value, digit| value * 10 + u32::from(digit - b'0'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn accepted(text: &str) -> bool {
        parse(text).is_some()
    }

    fn instant(text: &str) -> i128 {
        parse(text).expect("valid timestamp").unix_timestamp_nanos()
    }

    #[test]
    fn utc_timestamp_is_accepted() {
        assert_eq!(
            instant("2016-03-14T01:59:00Z"),
            1_457_920_740 * 1_000_000_000
        );
    }

    #[test]
    fn fractional_seconds_are_accepted() {
        assert_eq!(
            instant("2019-03-26T20:14:13.192Z") % 1_000_000_000,
            192_000_000
        );
        assert_eq!(
            instant("2019-03-26T20:14:13.5Z") % 1_000_000_000,
            500_000_000
        );
        assert_eq!(
            instant("2019-03-26T20:14:13.123456789Z") % 1_000_000_000,
            123_456_789
        );
    }

    #[test]
    fn more_than_nine_fraction_digits_are_rejected() {
        assert!(!accepted("2019-03-26T20:14:13.1234567890Z"));
    }

    #[test]
    fn empty_fraction_is_rejected() {
        assert!(!accepted("2019-03-26T20:14:13.Z"));
    }

    #[test]
    fn numeric_offsets_name_the_same_instant() {
        assert_eq!(
            instant("2025-01-01T07:00:00-05:00"),
            instant("2025-01-01T12:00:00Z")
        );
        assert_eq!(
            instant("2025-01-01T17:30:00+05:30"),
            instant("2025-01-01T12:00:00Z")
        );
        assert_eq!(
            instant("2025-01-01T12:00:00+00:00"),
            instant("2025-01-01T12:00:00Z")
        );
        assert_eq!(
            instant("2025-01-01T12:00:00-00:00"),
            instant("2025-01-01T12:00:00Z")
        );
    }

    #[test]
    fn lowercase_separator_and_zone_are_rejected() {
        assert!(!accepted("2016-03-14t01:59:00Z"));
        assert!(!accepted("2016-03-14T01:59:00z"));
        assert!(!accepted("2016-03-14 01:59:00Z"));
    }

    #[test]
    fn missing_offset_is_rejected() {
        assert!(!accepted("2016-03-14T01:59:00"));
        assert!(!accepted("2016-03-14T01:59:00.123"));
    }

    #[test]
    fn date_only_is_rejected() {
        assert!(!accepted("2016-03-14"));
        assert!(!accepted("2016-03-14T"));
    }

    #[test]
    fn missing_seconds_are_rejected() {
        assert!(!accepted("2016-03-14T01:59Z"));
    }

    #[test]
    fn out_of_range_fields_are_rejected() {
        assert!(!accepted("2016-13-14T01:59:00Z"));
        assert!(!accepted("2016-00-14T01:59:00Z"));
        assert!(!accepted("2016-02-30T01:59:00Z"));
        assert!(!accepted("2016-03-14T24:00:00Z"));
        assert!(!accepted("2016-03-14T01:60:00Z"));
        assert!(!accepted("2016-03-14T01:59:60Z"));
        assert!(!accepted("2016-03-14T01:59:00+24:00"));
        assert!(!accepted("2016-03-14T01:59:00+05:60"));
    }

    #[test]
    fn leap_day_is_accepted_only_in_leap_years() {
        assert!(accepted("2016-02-29T00:00:00Z"));
        assert!(!accepted("2017-02-29T00:00:00Z"));
    }

    #[test]
    fn malformed_shapes_are_rejected() {
        for text in [
            "",
            "not-a-timestamp",
            "2025-01-01T00%3A00%3A00Z",
            "16-03-14T01:59:00Z",
            "2016-3-14T01:59:00Z",
            "2016-03-14T01:59:00+0500",
            "2016-03-14T01:59:00+05",
            "2016-03-14T01:59:00Z ",
            " 2016-03-14T01:59:00Z",
            "2016-03-14T01:59:00ZZ",
            "+2016-03-14T01:59:00Z",
            "２016-03-14T01:59:00Z",
        ] {
            assert!(!accepted(text), "{text:?} should be rejected");
        }
    }

    #[test]
    fn instants_beyond_year_9999_in_utc_are_rejected() {
        assert!(accepted("9999-12-31T23:59:59Z"));
        assert!(!accepted("9999-12-31T23:59:59-01:00"));
        assert!(accepted("0000-01-01T00:00:00Z"));
        assert!(!accepted("0000-01-01T00:00:00+01:00"));
    }

    #[test]
    fn format_prints_utc_without_fraction_when_whole_seconds() {
        let t = parse("2016-03-14T01:59:00Z").unwrap();
        assert_eq!(format(t), "2016-03-14T01:59:00Z");
    }

    #[test]
    fn format_prints_milliseconds_when_present() {
        let t = parse("2019-03-26T20:14:13.192Z").unwrap();
        assert_eq!(format(t), "2019-03-26T20:14:13.192Z");
        let t = parse("2019-03-26T20:14:13.5Z").unwrap();
        assert_eq!(format(t), "2019-03-26T20:14:13.500Z");
    }

    #[test]
    fn format_truncates_below_milliseconds() {
        let t = parse("2019-03-26T20:14:13.192999Z").unwrap();
        assert_eq!(format(t), "2019-03-26T20:14:13.192Z");
        let t = parse("2019-03-26T20:14:13.000999Z").unwrap();
        assert_eq!(format(t), "2019-03-26T20:14:13Z");
    }

    #[test]
    fn format_converts_offsets_to_utc() {
        let t = parse("2025-01-01T07:00:00-05:00").unwrap();
        assert_eq!(format(t), "2025-01-01T12:00:00Z");
    }

    #[test]
    fn format_of_an_instant_outside_utc_range_keeps_its_offset() {
        let t = PrimitiveDateTime::new(
            Date::from_calendar_date(9999, Month::December, 31).unwrap(),
            Time::from_hms(23, 0, 0).unwrap(),
        )
        .assume_offset(UtcOffset::from_hms(-5, -30, 0).unwrap());
        assert_eq!(format(t), "9999-12-31T23:00:00-05:30");
    }

    proptest! {
        #[test]
        fn parse_never_panics(text in any::<String>()) {
            let _ = parse(&text);
        }

        #[test]
        fn parse_never_panics_on_timestamp_shaped_text(
            text in "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{0,11})?(Z|[+-][0-9]{2}:[0-9]{2})"
        ) {
            if let Some(t) = parse(&text) {
                // Whatever parses prints and parses back to the same instant
                // (to the millisecond).
                let printed = format(t);
                let again = parse(&printed).expect("format output parses");
                prop_assert_eq!(
                    again.unix_timestamp_nanos(),
                    t.unix_timestamp_nanos() - i128::from(t.nanosecond() % 1_000_000)
                );
            }
        }
    }
}
