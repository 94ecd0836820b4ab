//! `$formatInteger` and `$parseInteger`: the fn:format-integer picture
//! (<https://www.w3.org/TR/xpath-functions-31/#func-format-integer>) as
//! jsonata-js reads it, that is decimal digit patterns in any Unicode digit
//! family with grouping separators, English words (`w`, `W`, `Ww`), roman
//! numerals (`i`, `I`), spreadsheet letters (`a`, `A`) and the `;o` ordinal
//! modifier. The date/time pictures in `datetime.rs` format and parse their
//! integer components through the same [`IntegerFormat`].
//!
//! It keeps jsonata-js's quirks where a JSONata expression could observe
//! them (parsing a regular grouping strips commas whatever the separator
//! is; parsing does not check the text against the picture) and must not
//! add validation jsonata-js does not do.

use std::sync::OnceLock;

use regex::Regex;

use super::{js_number_to_string, js_parse_int, PictureError};

/// The first code point of each Unicode decimal digit family jsonata-js
/// recognises in a decimal digit pattern (its `decimalGroups`).
const DECIMAL_GROUPS: [u32; 37] = [
    0x30, 0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6,
    0x0D66, 0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80,
    0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0,
    0xFF10,
];

const FEW: [&str; 20] = [
    "Zero",
    "One",
    "Two",
    "Three",
    "Four",
    "Five",
    "Six",
    "Seven",
    "Eight",
    "Nine",
    "Ten",
    "Eleven",
    "Twelve",
    "Thirteen",
    "Fourteen",
    "Fifteen",
    "Sixteen",
    "Seventeen",
    "Eighteen",
    "Nineteen",
];
const ORDINALS: [&str; 20] = [
    "Zeroth",
    "First",
    "Second",
    "Third",
    "Fourth",
    "Fifth",
    "Sixth",
    "Seventh",
    "Eighth",
    "Ninth",
    "Tenth",
    "Eleventh",
    "Twelfth",
    "Thirteenth",
    "Fourteenth",
    "Fifteenth",
    "Sixteenth",
    "Seventeenth",
    "Eighteenth",
    "Nineteenth",
];
const DECADES: [&str; 9] = [
    "Twenty", "Thirty", "Forty", "Fifty", "Sixty", "Seventy", "Eighty", "Ninety", "Hundred",
];
const MAGNITUDES: [&str; 4] = ["Thousand", "Million", "Billion", "Trillion"];

/// Roman numerals for formatting, largest first, subtractive pairs included.
const ROMAN_NUMERALS: [(f64, &str); 13] = [
    (1000.0, "m"),
    (900.0, "cm"),
    (500.0, "d"),
    (400.0, "cd"),
    (100.0, "c"),
    (90.0, "xc"),
    (50.0, "l"),
    (40.0, "xl"),
    (10.0, "x"),
    (9.0, "ix"),
    (5.0, "v"),
    (4.0, "iv"),
    (1.0, "i"),
];

/// Beyond this many thousands jsonata-js's recursive roman numeral writer
/// runs out of JavaScript stack; a Rust string of that size is no more
/// useful, so it is refused the same way.
const MAX_ROMAN_THOUSANDS: f64 = 10_000.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Primary {
    Decimal,
    Letters,
    Roman,
    Words,
    /// A picture jsonata-js does not support (fn:format-integer's
    /// implementation-defined numbering sequences): an error when used.
    Sequence,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Case {
    Upper,
    Lower,
    Title,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GroupingSeparator {
    /// Digits to the right of the separator.
    pub(crate) position: usize,
    pub(crate) character: char,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Grouping {
    /// One separator character every `position` digits, repeated to the
    /// left as far as the number goes.
    Regular(GroupingSeparator),
    /// Separators only where the picture has them (possibly none).
    Irregular(Vec<GroupingSeparator>),
}

/// An analysed integer picture (jsonata-js's `analyseIntegerPicture`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IntegerFormat {
    pub(crate) primary: Primary,
    pub(crate) case: Case,
    pub(crate) ordinal: bool,
    /// The zero of the digit family (0x30 for ASCII).
    pub(crate) zero_code: u32,
    /// Decimal patterns only; `None` for words, letters and roman numerals,
    /// where jsonata-js leaves the field undefined (which the date/time
    /// year width logic observes).
    pub(crate) mandatory_digits: Option<usize>,
    pub(crate) optional_digits: Option<usize>,
    pub(crate) grouping: Grouping,
    /// The picture, for the error an unsupported sequence raises.
    pub(crate) token: String,
    /// When a date/time marker follows this one with no literal between,
    /// the number of digits this one must take when parsing.
    pub(crate) parse_width: Option<usize>,
}

/// `$formatInteger(value, picture)`: `value` rounded down, written as the
/// picture says.
pub fn format_integer(value: f64, picture: &str) -> Result<String, PictureError> {
    let format = analyse_integer_picture(picture)?;
    format_with(value.floor(), &format)
}

/// `$parseInteger(value, picture)`: the number `value` spells in the
/// picture's format. Like jsonata-js, the text is not checked against the
/// picture: what cannot be read gives NaN (`Some(f64::NAN)`), which the
/// evaluator turns into JSONata's error for a non-finite number.
pub fn parse_integer(value: &str, picture: &str) -> Result<Option<f64>, PictureError> {
    let format = analyse_integer_picture(picture)?;
    // jsonata-js builds the matcher (and so raises D3130 for an unsupported
    // sequence) before parsing, even though it then ignores the regex.
    integer_regex(&format)?;
    Ok(Some(parse_with(value, &format)))
}

/// Analyses an integer picture: `primary[;modifier]`.
pub(crate) fn analyse_integer_picture(picture: &str) -> Result<IntegerFormat, PictureError> {
    let mut format = IntegerFormat {
        primary: Primary::Decimal,
        case: Case::Lower,
        ordinal: false,
        zero_code: 0x30,
        mandatory_digits: None,
        optional_digits: None,
        grouping: Grouping::Irregular(Vec::new()),
        token: String::new(),
        parse_width: None,
    };
    let primary = match picture.rfind(';') {
        None => picture,
        Some(semicolon) => {
            if picture[semicolon + 1..].starts_with('o') {
                format.ordinal = true;
            }
            &picture[..semicolon]
        }
    };
    match primary {
        "A" | "a" => {
            format.primary = Primary::Letters;
            if primary == "A" {
                format.case = Case::Upper;
            }
        }
        "I" | "i" => {
            format.primary = Primary::Roman;
            if primary == "I" {
                format.case = Case::Upper;
            }
        }
        "W" => {
            format.primary = Primary::Words;
            format.case = Case::Upper;
        }
        "Ww" => {
            format.primary = Primary::Words;
            format.case = Case::Title;
        }
        "w" => format.primary = Primary::Words,
        _ => analyse_decimal_pattern(primary, &mut format)?,
    }
    Ok(format)
}

/// A decimal digit pattern, read right to left so each grouping separator
/// knows how many digit places lie to its right.
fn analyse_decimal_pattern(primary: &str, format: &mut IntegerFormat) -> Result<(), PictureError> {
    let mut zero_code: Option<u32> = None;
    let mut mandatory = 0;
    let mut optional = 0;
    let mut separators = Vec::new();
    let mut position = 0;
    for c in primary.chars().rev() {
        let code = c as u32;
        if let Some(group) = DECIMAL_GROUPS
            .iter()
            .find(|g| code >= **g && code <= **g + 9)
        {
            mandatory += 1;
            position += 1;
            match zero_code {
                None => zero_code = Some(*group),
                Some(zero) if zero != *group => return Err(PictureError::new("D3131", "")),
                Some(_) => {}
            }
        } else if c == '#' {
            position += 1;
            optional += 1;
        } else {
            separators.push(GroupingSeparator {
                position,
                character: c,
            });
        }
    }
    if mandatory == 0 {
        format.primary = Primary::Sequence;
        format.token = primary.to_owned();
        return Ok(());
    }
    format.primary = Primary::Decimal;
    format.zero_code = zero_code.unwrap_or(0x30);
    format.mandatory_digits = Some(mandatory);
    format.optional_digits = Some(optional);
    format.grouping = match regular_interval(&separators) {
        0 => Grouping::Irregular(separators),
        interval => Grouping::Regular(GroupingSeparator {
            position: interval,
            character: separators[0].character,
        }),
    };
    Ok(())
}

/// The interval of a regular grouping (one character, equally spaced from
/// the right), or 0 when the separators are not regular.
pub(crate) fn regular_interval(separators: &[GroupingSeparator]) -> usize {
    let Some(first) = separators.first() else {
        return 0;
    };
    if separators.iter().any(|s| s.character != first.character) {
        return 0;
    }
    let positions: Vec<usize> = separators.iter().map(|s| s.position).collect();
    regular_positions(&positions)
}

/// jsonata-js's test that grouping positions are the multiples of their
/// greatest common divisor: the divisor if so, else 0.
pub(crate) fn regular_positions(positions: &[usize]) -> usize {
    fn gcd(a: usize, b: usize) -> usize {
        if b == 0 {
            a
        } else {
            gcd(b, a % b)
        }
    }
    let Some((first, rest)) = positions.split_first() else {
        return 0;
    };
    let factor = rest.iter().fold(*first, |a, b| gcd(a, *b));
    for index in 1..=positions.len() {
        if !positions.contains(&(index * factor)) {
            return 0;
        }
    }
    factor
}

/// Formats an integer-valued `value` with an analysed picture
/// (jsonata-js's `_formatInteger`).
pub(crate) fn format_with(value: f64, format: &IntegerFormat) -> Result<String, PictureError> {
    let negative = value < 0.0;
    let value = value.abs();
    let formatted = match format.primary {
        Primary::Letters => {
            decimal_to_letters(value, if format.case == Case::Upper { 'A' } else { 'a' })?
        }
        Primary::Roman => {
            let roman = decimal_to_roman(value)?;
            if format.case == Case::Upper {
                roman.to_uppercase()
            } else {
                roman
            }
        }
        Primary::Words => {
            let words = number_to_words(value, format.ordinal)?;
            match format.case {
                Case::Upper => words.to_uppercase(),
                Case::Lower => words.to_lowercase(),
                Case::Title => words,
            }
        }
        Primary::Decimal => format_decimal(value, format),
        Primary::Sequence => return Err(PictureError::new("D3130", &format.token)),
    };
    Ok(if negative {
        format!("-{formatted}")
    } else {
        formatted
    })
}

fn format_decimal(value: f64, format: &IntegerFormat) -> String {
    let mut chars: Vec<char> = js_number_to_string(value).chars().collect();
    let mandatory = format.mandatory_digits.unwrap_or(0);
    if mandatory > chars.len() {
        let mut padded = vec!['0'; mandatory - chars.len()];
        padded.extend(chars);
        chars = padded;
    }
    if format.zero_code != 0x30 {
        // jsonata-js shifts every character by the family's offset, digits
        // or not; only digits can be here below 1e21.
        chars = chars
            .into_iter()
            .map(|c| char::from_u32(c as u32 + format.zero_code - 0x30).unwrap_or(c))
            .collect();
    }
    match &format.grouping {
        Grouping::Regular(separator) if separator.position > 0 => {
            let groups = (chars.len().saturating_sub(1)) / separator.position;
            for ii in (1..=groups).rev() {
                let pos = chars.len() - ii * separator.position;
                chars.insert(pos, separator.character);
            }
        }
        Grouping::Regular(_) => {}
        Grouping::Irregular(separators) => {
            for separator in separators.iter().rev() {
                let pos = chars.len().saturating_sub(separator.position);
                chars.insert(pos, separator.character);
            }
        }
    }
    let mut formatted: String = chars.iter().collect();
    if format.ordinal {
        let last = chars.last().copied();
        let tens_is_one = chars.len() > 1 && chars[chars.len() - 2] == '1';
        let suffix = match last {
            Some('1') if !tens_is_one => "st",
            Some('2') if !tens_is_one => "nd",
            Some('3') if !tens_is_one => "rd",
            _ => "th",
        };
        formatted.push_str(suffix);
    }
    formatted
}

/// Spreadsheet column letters: 1 is `a`, 26 `z`, 27 `aa`; 0 is empty.
fn decimal_to_letters(mut value: f64, a: char) -> Result<String, PictureError> {
    // jsonata-js loops without end on an infinite number, adding a letter
    // each time, until its memory runs out; refuse it as the words do. A
    // finite one takes at most 218 letters (26^218 > f64::MAX).
    if !value.is_finite() {
        return Err(PictureError {
            code: "RangeError",
            message: "Invalid array length".to_owned(),
        });
    }
    let mut letters = Vec::new();
    while value > 0.0 {
        let offset = ((value - 1.0) % 26.0) as u32;
        letters.push(char::from_u32(a as u32 + offset).unwrap_or(a));
        value = ((value - 1.0) / 26.0).floor();
    }
    Ok(letters.iter().rev().collect())
}

fn decimal_to_roman(value: f64) -> Result<String, PictureError> {
    if value / 1000.0 > MAX_ROMAN_THOUSANDS {
        return Err(PictureError {
            code: "RangeError",
            message: "Maximum call stack size exceeded".to_owned(),
        });
    }
    let mut remaining = value;
    let mut roman = String::new();
    for (amount, numeral) in ROMAN_NUMERALS {
        while remaining >= amount {
            roman.push_str(numeral);
            remaining -= amount;
        }
    }
    Ok(roman)
}

/// 10^exponent as the nearest double, as JavaScript's `Math.pow(10, n)`
/// gives for the exponents used here.
fn pow10(exponent: i64) -> f64 {
    format!("1e{exponent}").parse().unwrap_or(f64::NAN)
}

/// English words in jsonata-js's style: "three thousand, seven hundred and
/// thirty-first", title case (the caller changes the case). Magnitudes stop
/// at trillion, so 1e15 is "one thousand trillion".
fn number_to_words(value: f64, ordinal: bool) -> Result<String, PictureError> {
    // jsonata-js recurses without end on a non-finite number until the
    // JavaScript stack overflows; refuse it the same way.
    if !value.is_finite() {
        return Err(PictureError {
            code: "RangeError",
            message: "Maximum call stack size exceeded".to_owned(),
        });
    }
    fn word(table: &[&'static str], index: f64) -> &'static str {
        table.get(index.max(0.0) as usize).copied().unwrap_or("")
    }
    fn lookup(num: f64, prev: bool, ord: bool) -> String {
        if num <= 19.0 {
            let word = word(if ord { &ORDINALS } else { &FEW }, num);
            format!("{}{word}", if prev { " and " } else { "" })
        } else if num < 100.0 {
            let tens = (num / 10.0).floor();
            let remainder = num % 10.0;
            let mut words = format!(
                "{}{}",
                if prev { " and " } else { "" },
                word(&DECADES, tens - 2.0)
            );
            if remainder > 0.0 {
                words.push('-');
                words.push_str(&lookup(remainder, false, ord));
            } else if ord {
                words.pop();
                words.push_str("ieth");
            }
            words
        } else if num < 1000.0 {
            let hundreds = (num / 100.0).floor();
            let remainder = num % 100.0;
            let mut words = format!(
                "{}{} Hundred",
                if prev { ", " } else { "" },
                word(&FEW, hundreds)
            );
            if remainder > 0.0 {
                words.push_str(&lookup(remainder, true, ord));
            } else if ord {
                words.push_str("th");
            }
            words
        } else {
            let mag = ((num.log10() / 3.0).floor() as usize).clamp(1, MAGNITUDES.len());
            let factor = pow10(mag as i64 * 3);
            let mant = (num / factor).floor();
            let remainder = num - mant * factor;
            let mut words = format!(
                "{}{} {}",
                if prev { ", " } else { "" },
                lookup(mant, false, false),
                MAGNITUDES[mag - 1]
            );
            if remainder > 0.0 {
                words.push_str(&lookup(remainder, true, ord));
            } else if ord {
                words.push_str("th");
            }
            words
        }
    }
    Ok(lookup(value, false, ordinal))
}

/// Every number word jsonata-js reads, in its `wordValues` insertion order
/// (which is also the order of the alternation in the parsing regex).
fn word_values() -> &'static Vec<(String, f64)> {
    static WORDS: OnceLock<Vec<(String, f64)>> = OnceLock::new();
    WORDS.get_or_init(|| {
        let mut words: Vec<(String, f64)> = Vec::new();
        let mut set = |word: String, value: f64| {
            if let Some(entry) = words.iter_mut().find(|(w, _)| *w == word) {
                entry.1 = value;
            } else {
                words.push((word, value));
            }
        };
        for (index, word) in FEW.iter().enumerate() {
            set(word.to_lowercase(), index as f64);
        }
        for (index, word) in ORDINALS.iter().enumerate() {
            set(word.to_lowercase(), index as f64);
        }
        for (index, word) in DECADES.iter().enumerate() {
            let lower = word.to_lowercase();
            let value = ((index + 2) * 10) as f64;
            // "twenty" → "twentieth"; "hundred" gives jsonata-js's
            // "hundrieth" too, which is harmless.
            let ordinal = format!("{}ieth", &lower[..lower.len() - 1]);
            set(lower, value);
            set(ordinal, value);
        }
        set("hundredth".to_owned(), 100.0);
        for (index, word) in MAGNITUDES.iter().enumerate() {
            let lower = word.to_lowercase();
            let value = pow10((index as i64 + 1) * 3);
            set(lower.clone(), value);
            set(format!("{lower}th"), value);
        }
        words
    })
}

fn word_value(word: &str) -> Option<f64> {
    word_values()
        .iter()
        .find(|(w, _)| w == word)
        .map(|(_, value)| *value)
}

/// Reads English number words (lower case). An unknown word makes the
/// result NaN, as in jsonata-js.
fn words_to_number(text: &str) -> f64 {
    static SPLIT: OnceLock<Option<Regex>> = OnceLock::new();
    let Some(split) = SPLIT.get_or_init(|| Regex::new(r",\s|\sand\s|[\s\\-]").ok()) else {
        return f64::NAN;
    };
    let mut segments: Vec<f64> = vec![0.0];
    for part in split.split(text) {
        match word_value(part) {
            Some(value) if value < 100.0 => {
                let mut top = segments.pop().unwrap_or(0.0);
                if top >= 1000.0 {
                    segments.push(top);
                    top = 0.0;
                }
                segments.push(top + value);
            }
            Some(value) => {
                let top = segments.pop().unwrap_or(0.0);
                segments.push(top * value);
            }
            None => {
                let top = segments.pop().unwrap_or(0.0);
                segments.push(top * f64::NAN);
            }
        }
    }
    segments.iter().sum()
}

fn roman_to_decimal(roman: &str) -> f64 {
    let mut decimal = 0.0;
    let mut max = 1.0;
    for c in roman.chars().rev() {
        let value = match c {
            'M' => 1000.0,
            'D' => 500.0,
            'C' => 100.0,
            'L' => 50.0,
            'X' => 10.0,
            'V' => 5.0,
            'I' => 1.0,
            _ => f64::NAN,
        };
        if value < max {
            decimal -= value;
        } else {
            max = value;
            decimal += value;
        }
    }
    decimal
}

fn letters_to_decimal(letters: &str, a: char) -> f64 {
    let units: Vec<u16> = letters.encode_utf16().collect();
    let mut decimal = 0.0;
    for (i, unit) in units.iter().rev().enumerate() {
        let digit = f64::from(*unit) - f64::from(a as u32) + 1.0;
        decimal += digit * 26f64.powi(i as i32);
    }
    decimal
}

/// The regular expression jsonata-js's `generateRegex` builds for an
/// integer picture: what a date/time component of this format may look
/// like in a timestamp.
pub(crate) fn integer_regex(format: &IntegerFormat) -> Result<String, PictureError> {
    let upper = format.case == Case::Upper;
    Ok(match format.primary {
        Primary::Letters => if upper { "[A-Z]+" } else { "[a-z]+" }.to_owned(),
        Primary::Roman => if upper { "[MDCLXVI]+" } else { "[mdclxvi]+" }.to_owned(),
        Primary::Words => {
            let mut alternatives: Vec<String> =
                word_values().iter().map(|(w, _)| w.clone()).collect();
            alternatives.push("and".to_owned());
            alternatives.push(r"[\-, ]".to_owned());
            format!("(?:{})+", alternatives.join("|"))
        }
        Primary::Decimal => {
            let mut regex = match format.parse_width {
                Some(width) => format!("[0-9]{{{width}}}"),
                None => "[0-9]+".to_owned(),
            };
            if format.ordinal {
                regex.push_str("(?:th|st|nd|rd)");
            }
            regex
        }
        Primary::Sequence => return Err(PictureError::new("D3130", &format.token)),
    })
}

/// Reads `value` as an integer in `format` (the `parse` half of
/// jsonata-js's matcher); NaN where it cannot.
pub(crate) fn parse_with(value: &str, format: &IntegerFormat) -> f64 {
    let upper = format.case == Case::Upper;
    match format.primary {
        Primary::Letters => letters_to_decimal(value, if upper { 'A' } else { 'a' }),
        Primary::Roman => {
            if upper {
                roman_to_decimal(value)
            } else {
                roman_to_decimal(&value.to_uppercase())
            }
        }
        Primary::Words => words_to_number(&value.to_lowercase()),
        Primary::Decimal => {
            let mut units: Vec<u16> = value.encode_utf16().collect();
            if format.ordinal {
                units.truncate(units.len().saturating_sub(2));
            }
            let mut digits = String::from_utf16_lossy(&units);
            match &format.grouping {
                // jsonata-js strips commas for any regular grouping, whatever
                // its separator character.
                Grouping::Regular(_) => digits = digits.replace(',', ""),
                Grouping::Irregular(separators) => {
                    for separator in separators {
                        digits = digits.replace(separator.character, "");
                    }
                }
            }
            if format.zero_code != 0x30 {
                digits = digits
                    .chars()
                    .map(|c| {
                        (c as u32)
                            .checked_sub(format.zero_code)
                            .and_then(|offset| char::from_u32(offset + 0x30))
                            .unwrap_or(c)
                    })
                    .collect();
            }
            js_parse_int(&digits)
        }
        Primary::Sequence => f64::NAN,
    }
}
