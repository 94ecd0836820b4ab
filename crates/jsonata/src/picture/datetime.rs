//! `$fromMillis` and `$toMillis`: timestamps as milliseconds since the Unix
//! epoch, written and read with fn:format-dateTime pictures
//! (<https://www.w3.org/TR/xpath-functions-31/#rules-for-datetime-formatting>)
//! the way jsonata-js's `datetime.js` does
//! (<https://docs.jsonata.org/date-time-functions>): components, names,
//! ordinals, ISO week dates (`[W]`, `[X]`, and jsonata-js's `[w]`/`[x]` week
//! of month), half-day `[P]`, timezones `[Z]`/`[z]` and the `±hhmm`
//! timezone argument.
//!
//! Time values are doubles and the calendar arithmetic is JavaScript's
//! `Date` (proleptic Gregorian, UTC, ±8.64e15 ms, `Date.UTC`'s years 0-99
//! meaning 1900-1999), so out-of-range inputs give the same NaN fields
//! jsonata-js prints. This file reads no clock: the "now" that fills a
//! parsed timestamp's missing leading fields is an argument.

use std::collections::BTreeMap;

use regex::Regex;

use super::integer::{
    analyse_integer_picture, format_integer, format_with, integer_regex, parse_with,
};
use super::integer::{Case, Grouping, IntegerFormat, Primary};
use super::{js_parse_int, PictureError};

const MILLIS_IN_A_DAY: f64 = 86_400_000.0;
/// ECMAScript's time value range: ±100,000,000 days from the epoch.
const MAX_TIME: f64 = 8.64e15;

const DAYS: [&str; 8] = [
    "",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// The picture `$fromMillis` uses when given none.
const ISO8601_PICTURE: &str = "[Y0001]-[M01]-[D01]T[H01]:[m01]:[s01].[f001][Z01:01t]";

// ---------------------------------------------------------------------
// JavaScript Date arithmetic on time values (f64 milliseconds, NaN for an
// invalid date).

/// Days from 1970-01-01 to the given proleptic Gregorian date (month 1-12).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian (year, month 1-12, day) of a day number.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// ECMAScript's TimeClip: NaN outside ±8.64e15, else truncated.
fn time_clip(time: f64) -> f64 {
    if !time.is_finite() || time.abs() > MAX_TIME {
        f64::NAN
    } else {
        time.trunc() + 0.0
    }
}

/// ECMAScript's MakeDay(year, month0, date) followed by MakeDate with
/// MakeTime: fields may overflow (month 12 is January next year).
fn make_date(
    year: f64,
    month0: f64,
    day: f64,
    hours: f64,
    minutes: f64,
    seconds: f64,
    millis: f64,
) -> f64 {
    let fields = [year, month0, day, hours, minutes, seconds, millis];
    if fields.iter().any(|f| !f.is_finite()) {
        return f64::NAN;
    }
    let [year, month0, day, hours, minutes, seconds, millis] = fields.map(f64::trunc);
    let year = year + (month0 / 12.0).floor();
    let month = month0.rem_euclid(12.0);
    // Beyond about 285,000 years the day number no longer fits the
    // calendar arithmetic; those dates are outside TimeClip's range anyway.
    if year.abs() > 400_000.0 {
        return f64::NAN;
    }
    let days = days_from_civil(year as i64, month as i64 + 1, 1) as f64 + day - 1.0;
    let time = hours * 3_600_000.0 + minutes * 60_000.0 + seconds * 1000.0 + millis;
    days * MILLIS_IN_A_DAY + time
}

/// `Date.UTC(year, month0, day, h, m, s, ms)`, years 0-99 meaning 1900-1999.
fn date_utc(
    year: f64,
    month0: f64,
    day: f64,
    hours: f64,
    minutes: f64,
    seconds: f64,
    millis: f64,
) -> f64 {
    let year = if year.is_finite() && (0.0..=99.0).contains(&year.trunc()) {
        1900.0 + year.trunc()
    } else {
        year
    };
    time_clip(make_date(
        year, month0, day, hours, minutes, seconds, millis,
    ))
}

/// The UTC calendar fields of a time value, each NaN for an invalid date.
#[derive(Debug, Clone, Copy)]
struct UtcFields {
    year: f64,
    /// 0-11, as `getUTCMonth`.
    month0: f64,
    day: f64,
    /// 0 is Sunday, as `getUTCDay`.
    weekday: f64,
    hours: f64,
    minutes: f64,
    seconds: f64,
    millis: f64,
}

fn utc_fields(time: f64) -> UtcFields {
    // Beyond TimeClip's range a JavaScript Date is invalid; the evaluation
    // timestamp passed in is not clipped, so check here.
    if !time.is_finite() || time.abs() > MAX_TIME {
        return UtcFields {
            year: f64::NAN,
            month0: f64::NAN,
            day: f64::NAN,
            weekday: f64::NAN,
            hours: f64::NAN,
            minutes: f64::NAN,
            seconds: f64::NAN,
            millis: f64::NAN,
        };
    }
    let days = (time / MILLIS_IN_A_DAY).floor();
    let in_day = time - days * MILLIS_IN_A_DAY;
    let (year, month, day) = civil_from_days(days as i64);
    UtcFields {
        year: year as f64,
        month0: (month - 1) as f64,
        day: day as f64,
        weekday: (days + 4.0).rem_euclid(7.0),
        hours: (in_day / 3_600_000.0).floor(),
        minutes: ((in_day / 60_000.0).floor()).rem_euclid(60.0),
        seconds: ((in_day / 1000.0).floor()).rem_euclid(60.0),
        millis: in_day.rem_euclid(1000.0),
    }
}

/// The Monday that starts ISO week 1 of a year (month0 0) or, as XPath
/// F&O extends it, of a month: the week holding the first Thursday.
fn start_of_first_week(year: f64, month0: f64) -> f64 {
    let first = date_utc(year, month0, 1.0, 0.0, 0.0, 0.0, 0.0);
    let mut weekday = utc_fields(first).weekday;
    if weekday == 0.0 {
        weekday = 7.0;
    }
    if weekday > 4.0 {
        first + (8.0 - weekday) * MILLIS_IN_A_DAY
    } else {
        first - (weekday - 1.0) * MILLIS_IN_A_DAY
    }
}

fn delta_weeks(start: f64, end: f64) -> f64 {
    (end - start) / (MILLIS_IN_A_DAY * 7.0) + 1.0
}

fn next_month(year: f64, month0: f64) -> (f64, f64) {
    if month0 == 11.0 {
        (year + 1.0, 0.0)
    } else {
        (year, month0 + 1.0)
    }
}

fn previous_month(year: f64, month0: f64) -> (f64, f64) {
    if month0 == 0.0 {
        (year - 1.0, 11.0)
    } else {
        (year, month0 - 1.0)
    }
}

/// One component's value at a time value (jsonata-js's
/// `getDateTimeFragment`).
#[derive(Debug, Clone, PartialEq)]
enum Fragment {
    Number(f64),
    Text(&'static str),
    /// The timezone components, formatted from the offset instead.
    Offset,
}

fn fragment(time: f64, component: char) -> Fragment {
    let f = utc_fields(time);
    let number = match component {
        'Y' => f.year,
        'M' => f.month0 + 1.0,
        'D' => f.day,
        'd' => {
            let today = date_utc(f.year, f.month0, f.day, 0.0, 0.0, 0.0, 0.0);
            let first_jan = date_utc(f.year, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0);
            (today - first_jan) / MILLIS_IN_A_DAY + 1.0
        }
        'F' => {
            if f.weekday == 0.0 {
                7.0
            } else {
                f.weekday
            }
        }
        'W' => {
            let start = start_of_first_week(f.year, 0.0);
            let today = date_utc(f.year, f.month0, f.day, 0.0, 0.0, 0.0, 0.0);
            let mut week = delta_weeks(start, today);
            if week > 52.0 {
                if today >= start_of_first_week(f.year + 1.0, 0.0) {
                    week = 1.0;
                }
            } else if week < 1.0 {
                week = delta_weeks(start_of_first_week(f.year - 1.0, 0.0), today);
            }
            week.floor()
        }
        'w' => {
            let start = start_of_first_week(f.year, f.month0);
            let today = date_utc(f.year, f.month0, f.day, 0.0, 0.0, 0.0, 0.0);
            let mut week = delta_weeks(start, today);
            if week > 4.0 {
                let (ny, nm) = next_month(f.year, f.month0);
                if today >= start_of_first_week(ny, nm) {
                    week = 1.0;
                }
            } else if week < 1.0 {
                let (py, pm) = previous_month(f.year, f.month0);
                week = delta_weeks(start_of_first_week(py, pm), today);
            }
            week.floor()
        }
        // The ISO week-numbering year: 1 January 2005 is in week 53 of 2004.
        'X' => {
            if time < start_of_first_week(f.year, 0.0) {
                f.year - 1.0
            } else if time >= start_of_first_week(f.year + 1.0, 0.0) {
                f.year + 1.0
            } else {
                f.year
            }
        }
        // jsonata-js's week-numbering month: the month [w] counts in.
        'x' => {
            let (ny, nm) = next_month(f.year, f.month0);
            if time < start_of_first_week(f.year, f.month0) {
                previous_month(f.year, f.month0).1 + 1.0
            } else if time >= start_of_first_week(ny, nm) {
                nm + 1.0
            } else {
                f.month0 + 1.0
            }
        }
        'H' => f.hours,
        'h' => {
            let h = f.hours % 12.0;
            if h == 0.0 {
                12.0
            } else {
                h
            }
        }
        'P' => return Fragment::Text(if f.hours >= 12.0 { "pm" } else { "am" }),
        'm' => f.minutes,
        's' => f.seconds,
        'f' => f.millis,
        'C' | 'E' => return Fragment::Text("ISO"),
        _ => return Fragment::Offset,
    };
    Fragment::Number(number)
}

// ---------------------------------------------------------------------
// The picture.

#[derive(Debug, Clone, Copy, PartialEq)]
struct Width {
    min: Option<usize>,
    max: Option<usize>,
}

#[derive(Debug, Clone)]
struct Marker {
    /// The component specifier; `None` for an empty marker `[]`.
    component: Option<char>,
    width: Option<Width>,
    presentation2: Option<char>,
    names: Option<Case>,
    integer_format: Option<IntegerFormat>,
    /// For the year: how many trailing digits to show, or -1 for all.
    year_digits: i64,
}

#[derive(Debug, Clone)]
enum Part {
    Literal(String),
    Marker(Marker),
}

fn default_presentation(component: char) -> Option<&'static str> {
    Some(match component {
        'Y' | 'M' | 'D' | 'd' | 'W' | 'w' | 'X' | 'x' | 'H' | 'h' | 'f' => "1",
        'F' | 'P' | 'C' | 'E' => "n",
        'm' | 's' => "01",
        'Z' | 'z' => "01:01",
        _ => return None,
    })
}

/// The widest width modifier accepted. jsonata-js pads to any width it is
/// given (and fails with a RangeError past 2^32); a picture from outside
/// must not make this process build a string of gigabytes, so wider
/// widths are refused.
const MAX_WIDTH: usize = 100_000;

/// A width in a width modifier: `*` or nothing is no limit.
fn parse_width(text: Option<&str>) -> Result<Option<usize>, PictureError> {
    match text {
        None | Some("*") => Ok(None),
        Some(text) => {
            let value = js_parse_int(text);
            if value > MAX_WIDTH as f64 {
                return Err(PictureError {
                    code: "RangeError",
                    message: format!("Invalid width {text} in date/time picture string"),
                });
            }
            Ok((value.is_finite() && value >= 0.0).then_some(value as usize))
        }
    }
}

/// Splits a date/time picture into literals and analysed variable markers
/// (jsonata-js's `analyseDateTimePicture`).
fn analyse_picture(picture: &str) -> Result<Vec<Part>, PictureError> {
    let chars: Vec<char> = picture.chars().collect();
    let mut parts: Vec<Part> = Vec::new();
    let add_literal = |parts: &mut Vec<Part>, start: usize, end: usize| {
        if end > start {
            let literal: String = chars[start..end].iter().collect();
            // A doubled ]] outside a marker stands for one ].
            parts.push(Part::Literal(literal.replace("]]", "]")));
        }
    };
    let mut start = 0;
    let mut pos = 0;
    while pos < chars.len() {
        if chars[pos] == '[' {
            if chars.get(pos + 1) == Some(&'[') {
                add_literal(&mut parts, start, pos);
                parts.push(Part::Literal("[".to_owned()));
                pos += 2;
                start = pos;
                continue;
            }
            add_literal(&mut parts, start, pos);
            start = pos;
            let Some(close) = chars[start..].iter().position(|c| *c == ']') else {
                return Err(PictureError::new("D3135", ""));
            };
            pos = start + close;
            // Whitespace inside a marker is ignored.
            let marker: Vec<char> = chars[start + 1..pos]
                .iter()
                .copied()
                .filter(|c| !c.is_whitespace())
                .collect();
            let marker = analyse_marker(&marker, &mut parts)?;
            parts.push(Part::Marker(marker));
            start = pos + 1;
        }
        pos += 1;
    }
    add_literal(&mut parts, start, pos.min(chars.len()));
    Ok(parts)
}

fn analyse_marker(marker: &[char], parts: &mut [Part]) -> Result<Marker, PictureError> {
    let component = marker.first().copied();
    let text = |from: usize, to: usize| -> String {
        let to = to.min(marker.len());
        let from = from.min(marker.len());
        let (a, b) = if from <= to { (from, to) } else { (to, from) };
        marker[a..b].iter().collect()
    };
    let mut width = None;
    let presentation = match marker.iter().rposition(|c| *c == ',') {
        Some(comma) => {
            let modifier = text(comma + 1, marker.len());
            let (min, max) = match modifier.split_once('-') {
                None => (Some(modifier.as_str()), None),
                Some((min, max)) => (Some(min), Some(max)),
            };
            width = Some(Width {
                min: parse_width(min)?,
                max: parse_width(max)?,
            });
            text(1, comma)
        }
        None => text(1, marker.len()),
    };
    let mut presentation2 = None;
    let presentation1: String = match presentation.chars().count() {
        0 => match component.and_then(default_presentation) {
            Some(default) => default.to_owned(),
            None => {
                let value = component.map(String::from).unwrap_or_default();
                return Err(PictureError::new("D3132", &value));
            }
        },
        1 => presentation,
        _ => {
            let last = presentation.chars().last().unwrap_or(' ');
            if "atco".contains(last) {
                // 'o' is ordinal; 'c' cardinal (the default); jsonata-js
                // ignores 'a' and 't' except for the timezone's 't'.
                presentation2 = Some(last);
                presentation[..presentation.len() - last.len_utf8()].to_owned()
            } else {
                presentation
            }
        }
    };
    let mut first = presentation1.chars();
    let names = match (first.next(), first.next()) {
        (Some('n'), _) => Some(Case::Lower),
        (Some('N'), Some('n')) => Some(Case::Title),
        (Some('N'), _) => Some(Case::Upper),
        _ => None,
    };
    let mut integer_format = None;
    let mut year_digits = -1;
    let component_char = component.unwrap_or(' ');
    if names.is_none() && "YMDdFWwXxHhmsf".contains(component_char) {
        let pattern = match presentation2 {
            Some(p2) => format!("{presentation1};{p2}"),
            None => presentation1.clone(),
        };
        let mut format = analyse_integer_picture(&pattern)?;
        if let Some(min) = width.and_then(|w| w.min) {
            if format.mandatory_digits.is_some_and(|m| m < min) {
                format.mandatory_digits = Some(min);
            }
        }
        if component_char == 'Y' {
            // F&O 9.8.4.4: the year shows as many trailing digits as the
            // width (or the picture's digit count, from two) says.
            if let Some(max) = width.and_then(|w| w.max) {
                year_digits = max as i64;
                format.mandatory_digits = Some(max);
            } else if let (Some(m), Some(o)) = (format.mandatory_digits, format.optional_digits) {
                if m + o >= 2 {
                    year_digits = (m + o) as i64;
                }
            }
        }
        // Two integer markers with nothing between them: the first must
        // have an exact width to be parsed.
        if let Some(Part::Marker(previous)) = parts.last_mut() {
            if let Some(previous_format) = previous.integer_format.as_mut() {
                previous_format.parse_width = previous_format.mandatory_digits;
            }
        }
        integer_format = Some(format);
    }
    if component_char == 'Z' || component_char == 'z' {
        integer_format = Some(analyse_integer_picture(&presentation1)?);
    }
    Ok(Marker {
        component,
        width,
        presentation2,
        names,
        integer_format,
        year_digits,
    })
}

// ---------------------------------------------------------------------
// Formatting.

/// `$fromMillis(millis, picture, timezone)`: the instant written with the
/// picture (default ISO 8601 with milliseconds) at the timezone offset
/// `±hhmm` (default UTC).
pub fn from_millis(
    millis: f64,
    picture: Option<&str>,
    timezone: Option<&str>,
) -> Result<String, PictureError> {
    // jsonata-js reads the timezone with parseInt and splits it with
    // floor and remainder, so "-0530" becomes -6 hours and -30 minutes.
    let (offset_hours, offset_minutes) = match timezone {
        None => (0.0, 0.0),
        Some(timezone) => {
            let offset = js_parse_int(timezone);
            ((offset / 100.0).floor(), offset % 100.0)
        }
    };
    let parts = analyse_picture(picture.unwrap_or(ISO8601_PICTURE))?;
    let offset_millis = (60.0 * offset_hours + offset_minutes) * 60.0 * 1000.0;
    let time = time_clip(millis + offset_millis);
    let mut result = String::new();
    for part in &parts {
        match part {
            Part::Literal(literal) => result.push_str(literal),
            Part::Marker(marker) => {
                result.push_str(&format_component(
                    time,
                    marker,
                    offset_hours,
                    offset_minutes,
                )?);
            }
        }
    }
    Ok(result)
}

fn format_component(
    time: f64,
    marker: &Marker,
    offset_hours: f64,
    offset_minutes: f64,
) -> Result<String, PictureError> {
    let component = marker.component.unwrap_or(' ');
    let value = fragment(time, component);
    if "YMDdFWwXxHhms".contains(component) {
        let Fragment::Number(mut number) = value else {
            return Ok(String::new());
        };
        if component == 'Y' && marker.year_digits != -1 {
            number %= 10f64.powi(marker.year_digits as i32);
        }
        if let Some(case) = marker.names {
            let name = match component {
                'M' | 'x' => MONTHS.get((number - 1.0).max(0.0) as usize),
                'F' => DAYS.get(number.max(0.0) as usize),
                _ => return Err(PictureError::new("D3133", &component.to_string())),
            };
            let name = name.copied().unwrap_or("undefined");
            let mut name = match case {
                Case::Upper => name.to_uppercase(),
                Case::Lower => name.to_lowercase(),
                Case::Title => name.to_owned(),
            };
            if let Some(max) = marker.width.and_then(|w| w.max) {
                if name.chars().count() > max {
                    name = name.chars().take(max).collect();
                }
            }
            return Ok(name);
        }
        return match &marker.integer_format {
            Some(format) => format_with(number, format),
            None => Ok(String::new()),
        };
    }
    match (component, value) {
        ('f', Fragment::Number(number)) => match &marker.integer_format {
            Some(format) => format_with(number, format),
            None => Ok(String::new()),
        },
        ('Z' | 'z', _) => format_timezone(marker, offset_hours, offset_minutes),
        ('P', Fragment::Text(text)) => Ok(if marker.names == Some(Case::Upper) {
            text.to_uppercase()
        } else {
            text.to_owned()
        }),
        (_, Fragment::Text(text)) => Ok(text.to_owned()),
        _ => Ok(String::new()),
    }
}

/// F&O 9.8.4.6: `[Z01:01]` is `+01:00`, `[Z0]` is `+1` (`+5:30` with
/// minutes), `[Z0101]` is `+0100`, `[z]` puts GMT in front and the `t`
/// modifier writes UTC as `Z`.
fn format_timezone(
    marker: &Marker,
    offset_hours: f64,
    offset_minutes: f64,
) -> Result<String, PictureError> {
    let Some(format) = &marker.integer_format else {
        return Ok(String::new());
    };
    let offset = offset_hours * 100.0 + offset_minutes;
    let mut text = if matches!(format.grouping, Grouping::Regular(_)) {
        format_with(offset, format)?
    } else {
        match format.mandatory_digits {
            Some(1 | 2) => {
                let mut text = format_with(offset_hours, format)?;
                if offset_minutes != 0.0 {
                    text.push(':');
                    text.push_str(&format_integer(offset_minutes, "00")?);
                }
                text
            }
            Some(3 | 4) => format_with(offset, format)?,
            digits => {
                let value = digits.map_or_else(|| "undefined".to_owned(), |d| d.to_string());
                return Err(PictureError::new("D3134", &value));
            }
        }
    };
    if offset >= 0.0 {
        text.insert(0, '+');
    }
    if marker.component == Some('z') {
        text.insert_str(0, "GMT");
    }
    if offset == 0.0 && marker.presentation2 == Some('t') {
        text = "Z".to_owned();
    }
    Ok(text)
}

// ---------------------------------------------------------------------
// Parsing.

/// How one captured piece of the timestamp becomes a component value.
#[derive(Debug)]
enum Reader {
    Literal,
    Integer(IntegerFormat),
    /// Fractional seconds: the digits are a decimal fraction of a second
    /// cut to milliseconds, so `[f1]` reads "01987" as 19 ms, as jsonata-js
    /// does since https://github.com/jsonata-js/jsonata/pull/782 (test
    /// suite function-tomillis/parseDateTime case 46).
    Fraction,
    Timezone {
        gmt: bool,
        separator: Option<char>,
    },
    Names(Vec<(String, f64)>),
}

struct Matcher {
    regex: String,
    component: Option<char>,
    reader: Reader,
}

fn matcher(part: &Part) -> Result<Matcher, PictureError> {
    let marker = match part {
        Part::Literal(literal) => {
            return Ok(Matcher {
                regex: regex::escape(literal),
                component: None,
                reader: Reader::Literal,
            })
        }
        Part::Marker(marker) => marker,
    };
    let component = marker.component.unwrap_or(' ');
    let (regex, reader) = if component == 'Z' || component == 'z' {
        let separator = match marker.integer_format.as_ref().map(|f| &f.grouping) {
            Some(Grouping::Regular(separator)) => Some(separator.character),
            _ => None,
        };
        let mut regex = if component == 'z' {
            "GMT".to_owned()
        } else {
            String::new()
        };
        regex.push_str("[-+][0-9]+");
        if let Some(separator) = separator {
            regex.push_str(&regex::escape(&separator.to_string()));
            regex.push_str("[0-9]+");
        }
        (
            regex,
            Reader::Timezone {
                gmt: component == 'z',
                separator,
            },
        )
    } else if let Some(format) = &marker.integer_format {
        let regex = integer_regex(format)?;
        if component == 'f' && format.primary == Primary::Decimal {
            (regex, Reader::Fraction)
        } else {
            (regex, Reader::Integer(format.clone()))
        }
    } else {
        let truncate = |name: &str| -> String {
            match marker.width.and_then(|w| w.max).filter(|max| *max > 0) {
                Some(max) => name.chars().take(max).collect(),
                None => name.to_owned(),
            }
        };
        let lookup: Vec<(String, f64)> = match component {
            'M' | 'x' => MONTHS
                .iter()
                .enumerate()
                .map(|(i, name)| (truncate(name), (i + 1) as f64))
                .collect(),
            'F' => DAYS
                .iter()
                .enumerate()
                .skip(1)
                .map(|(i, name)| (truncate(name), i as f64))
                .collect(),
            'P' => vec![
                ("am".to_owned(), 0.0),
                ("AM".to_owned(), 0.0),
                ("pm".to_owned(), 1.0),
                ("PM".to_owned(), 1.0),
            ],
            _ => return Err(PictureError::new("D3133", &component.to_string())),
        };
        ("[a-zA-Z]+".to_owned(), Reader::Names(lookup))
    };
    Ok(Matcher {
        regex,
        component: marker.component,
        reader,
    })
}

impl Reader {
    /// The component value a capture stands for; `None` where jsonata-js
    /// gets `undefined` (a name not in its table, looked up by exact case).
    fn read(&self, text: &str) -> Option<f64> {
        match self {
            Reader::Literal => None,
            Reader::Integer(format) => Some(parse_with(text, format)),
            Reader::Fraction => {
                let digits: String = text.chars().filter(char::is_ascii_digit).take(3).collect();
                if digits.is_empty() {
                    return Some(f64::NAN);
                }
                let millis = format!("{digits:0<3}");
                Some(js_parse_int(&millis))
            }
            Reader::Timezone { gmt, separator } => {
                let value = if *gmt {
                    text.get(3..).unwrap_or("")
                } else {
                    text
                };
                let (hours, minutes) = match separator.and_then(|s| value.find(s).map(|i| (i, s))) {
                    Some((index, s)) => (
                        js_parse_int(&value[..index]),
                        js_parse_int(&value[index + s.len_utf8()..]),
                    ),
                    None if value.len() <= 3 => (js_parse_int(value), 0.0),
                    None => (js_parse_int(&value[..3]), js_parse_int(&value[3..])),
                };
                Some(hours * 60.0 + minutes)
            }
            Reader::Names(lookup) => lookup
                .iter()
                .find(|(name, _)| name == text)
                .map(|(_, value)| *value),
        }
    }
}

/// `$toMillis(timestamp, picture)` with no evaluation timestamp: where the
/// picture leaves out leading fields (a time with no date), they are taken
/// from 1970-01-01T00:00:00Z. The evaluator should call [`to_millis_at`]
/// with its `$now()` instead, as jsonata-js fills them from the evaluation
/// timestamp.
pub fn to_millis(timestamp: &str, picture: Option<&str>) -> Result<Option<f64>, PictureError> {
    to_millis_at(timestamp, picture, 0.0)
}

/// `$toMillis(timestamp, picture)` evaluated at `now_millis` (the
/// evaluation's `$millis()`): without a picture the timestamp must be ISO
/// 8601 (D3110 otherwise); with one it is read as the picture says, fields
/// left of the most significant one given coming from `now_millis` and
/// those right of the least significant one being zero (January, day 1).
/// `Ok(None)` is JSONata's undefined: the timestamp does not match the
/// picture, or the picture has no components.
pub fn to_millis_at(
    timestamp: &str,
    picture: Option<&str>,
    now_millis: f64,
) -> Result<Option<f64>, PictureError> {
    match picture {
        None => parse_iso8601(timestamp).map(Some),
        Some(picture) => parse_date_time(timestamp, picture, now_millis),
    }
}

fn parse_date_time(
    timestamp: &str,
    picture: &str,
    now_millis: f64,
) -> Result<Option<f64>, PictureError> {
    let parts = analyse_picture(picture)?;
    let matchers = parts.iter().map(matcher).collect::<Result<Vec<_>, _>>()?;
    let full: String = matchers.iter().map(|m| format!("({})", m.regex)).collect();
    let Ok(regex) = Regex::new(&format!("(?i)^{full}$")) else {
        return Ok(None);
    };
    let Some(captures) = regex.captures(timestamp) else {
        return Ok(None);
    };

    // A component present with an undefined value still counts as given
    // for the "nothing specified" test, as a JavaScript property would.
    let mut components: BTreeMap<char, Option<f64>> = BTreeMap::new();
    for (index, m) in matchers.iter().enumerate() {
        if matches!(m.reader, Reader::Literal) {
            continue;
        }
        let text = captures.get(index + 1).map_or("", |c| c.as_str());
        components.insert(m.component.unwrap_or(' '), m.reader.read(text));
    }
    if components.is_empty() {
        return Ok(None);
    }
    let get =
        |components: &BTreeMap<char, Option<f64>>, c: char| components.get(&c).copied().flatten();
    // JavaScript truthiness: 0 and NaN count as absent in the masks.
    let truthy = |v: Option<f64>| v.is_some_and(|v| v != 0.0 && !v.is_nan());

    // Which of jsonata-js's date and time combinations the picture gives:
    //        Y X M x W w d D F P H h m s f
    // dateA  1 0 1 0 0 0 0 1 ?
    // dateB  1 0 0 0 0 0 1 0 ?
    // dateC  0 1 0 1 0 1 0 0 1
    // dateD  0 1 0 0 1 0 0 0 1
    // timeA                    0 1 0 1 1 1
    // timeB                    1 0 1 1 1 1
    let mask_of = |letters: &str| -> u32 {
        letters.chars().fold(0, |mask, c| {
            (mask << 1) | u32::from(truthy(get(&components, c)))
        })
    };
    let is_type = |kind: u32, mask: u32| (!kind & mask) == 0 && (kind & mask) != 0;
    let date_mask = mask_of("YXMxWwdD");
    let date_a = is_type(0b1010_0001, date_mask);
    let date_b = !date_a && is_type(0b1000_0010, date_mask);
    let date_c = is_type(0b0101_0100, date_mask);
    let date_d = !date_c && is_type(0b0100_1000, date_mask);
    let time_mask = mask_of("PHhmsf");
    let time_a = is_type(0b01_0111, time_mask);
    let time_b = !time_a && is_type(0b10_1111, time_mask);

    let date_components = if date_b {
        "YD"
    } else if date_c {
        "XxwF"
    } else if date_d {
        "XWF"
    } else {
        "YMD"
    };
    let time_components = if time_b { "Phmsf" } else { "Hmsf" };

    // Most significant missing fields come from now, least significant
    // ones are zero, and a gap between given fields is an error.
    let mut start_specified = false;
    let mut end_specified = false;
    for part in date_components.chars().chain(time_components.chars()) {
        if get(&components, part).is_none() {
            let value = if start_specified {
                end_specified = true;
                if "MDd".contains(part) {
                    1.0
                } else {
                    0.0
                }
            } else {
                match fragment(now_millis, part) {
                    Fragment::Number(n) => n,
                    // jsonata-js stores "am"/"pm" here, which is never the
                    // 1 that means afternoon.
                    _ => 0.0,
                }
            };
            components.insert(part, Some(value));
        } else {
            start_specified = true;
            if end_specified {
                return Err(PictureError::new("D3136", ""));
            }
        }
    }

    let value = |c: char| get(&components, c).unwrap_or(f64::NAN);
    let mut month0 = match get(&components, 'M') {
        Some(m) if m > 0.0 => m - 1.0,
        _ => 0.0,
    };
    let mut day = value('D');
    if date_b {
        let first_jan = date_utc(value('Y'), 0.0, 1.0, 0.0, 0.0, 0.0, 0.0);
        let derived = utc_fields(time_clip(first_jan + (value('d') - 1.0) * MILLIS_IN_A_DAY));
        month0 = derived.month0;
        day = derived.day;
    }
    if date_c || date_d {
        // jsonata-js cannot build a date from week numbers either.
        return Err(PictureError::new("D3136", ""));
    }
    let mut hours = value('H');
    if time_b {
        let h = value('h');
        hours = if h == 12.0 { 0.0 } else { h };
        if get(&components, 'P') == Some(1.0) {
            hours += 12.0;
        }
    }
    let mut millis = date_utc(
        value('Y'),
        month0,
        day,
        hours,
        value('m'),
        value('s'),
        value('f'),
    );
    let zone = [get(&components, 'Z'), get(&components, 'z')]
        .into_iter()
        .find(|v| truthy(*v))
        .flatten();
    if let Some(offset_minutes) = zone {
        millis -= offset_minutes * 60.0 * 1000.0;
    }
    Ok(Some(millis))
}

/// `Date.parse` of a timestamp that passes jsonata-js's ISO 8601 check:
/// `YYYY[-MM[-DD]][THH:mm:ss[.s+]][Z|±HH:mm|±HHmm]`, UTC unless an offset
/// says otherwise. (V8 reads a date-time with no offset as local time;
/// zoomvault runs in UTC, where that is the same.) A string the check
/// lets through that is not of this form, or names no real month, day or
/// time, is NaN, as `Date.parse` gives.
fn parse_iso8601(timestamp: &str) -> Result<f64, PictureError> {
    static CHECK: std::sync::OnceLock<Option<Regex>> = std::sync::OnceLock::new();
    static FORM: std::sync::OnceLock<Option<Regex>> = std::sync::OnceLock::new();
    let check = CHECK.get_or_init(|| {
        Regex::new(r"^\d{4}(-[01]\d)*(-[0-3]\d)*(T[0-2]\d:[0-5]\d:[0-5]\d)*(\.\d+)?([+-][0-2]\d:?[0-5]\d|Z)?$").ok()
    });
    let form = FORM.get_or_init(|| {
        Regex::new(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?(?:T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:?\d{2})?$").ok()
    });
    let (Some(check), Some(form)) = (check, form) else {
        return Ok(f64::NAN);
    };
    // The check uses \d as JavaScript does: ASCII digits only.
    if !timestamp.is_ascii() || !check.is_match(timestamp) {
        return Err(PictureError::new("D3110", timestamp));
    }
    let Some(c) = form.captures(timestamp) else {
        return Ok(f64::NAN);
    };
    let number = |i: usize, default: i64| -> i64 {
        c.get(i)
            .and_then(|m| m.as_str().parse().ok())
            .unwrap_or(default)
    };
    let (year, month, day) = (number(1, 0), number(2, 1), number(3, 1));
    let (hours, minutes, seconds) = (number(4, 0), number(5, 0), number(6, 0));
    let millis = c.get(7).map_or(0, |m| {
        let digits: String = m.as_str().chars().take(3).collect();
        format!("{digits:0<3}").parse().unwrap_or(0)
    });
    let has_time = c.get(4).is_some();
    let valid = (1..=12).contains(&month)
        && (1..=31).contains(&day)
        && (hours < 24 || (hours == 24 && minutes == 0 && seconds == 0 && millis == 0))
        && minutes < 60
        && seconds < 60;
    if !valid || (c.get(8).is_some() && !has_time) {
        return Ok(f64::NAN);
    }
    let offset_minutes = match c.get(8).map(|m| m.as_str()) {
        None | Some("Z") => 0,
        Some(zone) => {
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            let digits: String = zone.chars().filter(char::is_ascii_digit).collect();
            let hours: i64 = digits[..2].parse().unwrap_or(0);
            let minutes: i64 = digits[2..].parse().unwrap_or(0);
            sign * (hours * 60 + minutes)
        }
    };
    let time = make_date(
        year as f64,
        (month - 1) as f64,
        day as f64,
        hours as f64,
        minutes as f64,
        seconds as f64,
        millis as f64,
    );
    Ok(time_clip(time - (offset_minutes * 60_000) as f64))
}
