//! `$formatNumber` (the fn:format-number picture,
//! <https://www.w3.org/TR/xpath-functions-31/#func-format-number>, with its
//! decimal-format properties as JSONata's options object) and
//! `$formatBase`, as jsonata-js 2.x computes them
//! (<https://docs.jsonata.org/numeric-functions>).
//!
//! The analysis and the string surgery follow jsonata-js step by step,
//! including its departures from F&O (a picture without a decimal separator
//! treats its suffix as the fractional part; the validation reports the
//! last rule broken, not the first), because the test suite pins them. It
//! must not round or print numbers any other way than the JavaScript
//! helpers in `mod.rs` do.

use serde_json::{Map, Value};

use super::integer::regular_positions;
use super::{js_number_to_string, js_to_fixed_abs, jsonata_round, PictureError};

/// The decimal-format properties, jsonata-js's defaults overridden by the
/// options object's string entries.
#[derive(Debug)]
struct DecimalFormat {
    decimal_separator: Vec<char>,
    grouping_separator: Vec<char>,
    exponent_separator: Vec<char>,
    infinity: String,
    minus_sign: Vec<char>,
    nan: String,
    percent: Vec<char>,
    per_mille: Vec<char>,
    zero_digit: Vec<char>,
    digit: Vec<char>,
    pattern_separator: String,
    /// The ten digits starting at the zero digit.
    family: Vec<char>,
}

impl DecimalFormat {
    fn new(options: Option<&Map<String, Value>>) -> Self {
        let option = |name: &str, default: &str| -> String {
            options
                .and_then(|o| o.get(name))
                .and_then(Value::as_str)
                .unwrap_or(default)
                .to_owned()
        };
        let chars =
            |name: &str, default: &str| -> Vec<char> { option(name, default).chars().collect() };
        let zero_digit = chars("zero-digit", "0");
        // jsonata-js takes the family from the zero digit's first UTF-16
        // code unit; an empty zero-digit option falls back to ASCII.
        let zero = zero_digit
            .first()
            .and_then(|c| c.encode_utf16(&mut [0; 2]).first().copied())
            .map_or(0x30, u32::from);
        let family = (zero..zero + 10)
            .map(|code| char::from_u32(code).unwrap_or('\u{fffd}'))
            .collect();
        DecimalFormat {
            decimal_separator: chars("decimal-separator", "."),
            grouping_separator: chars("grouping-separator", ","),
            exponent_separator: chars("exponent-separator", "e"),
            infinity: option("infinity", "Infinity"),
            minus_sign: chars("minus-sign", "-"),
            nan: option("NaN", "NaN"),
            percent: chars("percent", "%"),
            per_mille: chars("per-mille", "\u{2030}"),
            zero_digit,
            digit: chars("digit", "#"),
            pattern_separator: option("pattern-separator", ";"),
            family,
        }
    }

    fn in_family(&self, c: char) -> bool {
        self.family.contains(&c)
    }

    /// A character that is one of the properties' strings, as jsonata-js's
    /// `activeChars.indexOf(ch)` tests it (a multi-character property
    /// never matches a single character).
    fn is(property: &[char], c: char) -> bool {
        property.len() == 1 && property[0] == c
    }

    fn is_active(&self, c: char) -> bool {
        self.in_family(c)
            || Self::is(&self.decimal_separator, c)
            || Self::is(&self.exponent_separator, c)
            || Self::is(&self.grouping_separator, c)
            || Self::is(&self.digit, c)
            || self.pattern_separator.chars().eq(std::iter::once(c))
    }

    fn is_digit_sign(&self, c: char) -> bool {
        self.in_family(c) || Self::is(&self.digit, c)
    }
}

/// JavaScript's `indexOf(needle, from)` over characters.
fn index_of(haystack: &[char], needle: &[char], from: usize) -> Option<usize> {
    if needle.is_empty() {
        return Some(from.min(haystack.len()));
    }
    if needle.len() > haystack.len() {
        return None;
    }
    (from..=haystack.len() - needle.len()).find(|&i| haystack[i..i + needle.len()] == *needle)
}

fn last_index_of(haystack: &[char], needle: &[char]) -> Option<usize> {
    if needle.is_empty() {
        return Some(haystack.len());
    }
    if needle.len() > haystack.len() {
        return None;
    }
    (0..=haystack.len() - needle.len())
        .rev()
        .find(|&i| haystack[i..i + needle.len()] == *needle)
}

fn contains(haystack: &[char], needle: &[char]) -> bool {
    index_of(haystack, needle, 0).is_some()
}

/// JavaScript's `substring(start, end)`: indexes clamped to the string and
/// swapped when reversed.
fn substring(chars: &[char], start: usize, end: usize) -> Vec<char> {
    let start = start.min(chars.len());
    let end = end.min(chars.len());
    let (from, to) = if start <= end {
        (start, end)
    } else {
        (end, start)
    };
    chars[from..to].to_vec()
}

/// JavaScript's `slice` index: a negative one counts from the end.
fn slice_index(len: usize, index: i64) -> usize {
    if index < 0 {
        (len as i64 + index).max(0) as usize
    } else {
        (index as usize).min(len)
    }
}

/// One sub-picture cut into F&O's parts.
#[derive(Debug)]
struct Parts {
    prefix: Vec<char>,
    suffix: Vec<char>,
    active: Vec<char>,
    mantissa: Vec<char>,
    exponent: Option<Vec<char>>,
    integer: Vec<char>,
    fractional: Vec<char>,
    subpicture: Vec<char>,
}

fn split_parts(subpicture: Vec<char>, format: &DecimalFormat) -> Parts {
    let is_boundary =
        |c: char| format.is_active(c) && !DecimalFormat::is(&format.exponent_separator, c);
    // A sub-picture with no active character at all has an empty prefix
    // and suffix, so all of it is the (invalid) active part: jsonata-js
    // reports D3086 for `%%` and `---` since
    // https://github.com/jsonata-js/jsonata/pull/788 (suite issue786).
    let prefix_len = subpicture.iter().position(|c| is_boundary(*c)).unwrap_or(0);
    let suffix_start = subpicture
        .iter()
        .rposition(|c| is_boundary(*c))
        .map_or(subpicture.len(), |i| i + 1);
    let prefix = subpicture[..prefix_len].to_vec();
    let suffix = subpicture[suffix_start..].to_vec();
    let active = substring(&subpicture, prefix.len(), subpicture.len() - suffix.len());
    let exponent_position = index_of(&subpicture, &format.exponent_separator, prefix.len());
    let (mantissa, exponent) = match exponent_position {
        Some(position) if position <= subpicture.len() - suffix.len() => {
            // jsonata-js cuts the active part at the separator's index in
            // the whole sub-picture, which is the same index only when the
            // prefix is empty.
            (
                substring(&active, 0, position),
                Some(substring(&active, position + 1, active.len())),
            )
        }
        _ => (active.clone(), None),
    };
    let (integer, fractional) = match index_of(&mantissa, &format.decimal_separator, 0) {
        None => (mantissa.clone(), suffix.clone()),
        Some(position) => (
            substring(&mantissa, 0, position),
            substring(&mantissa, position + 1, mantissa.len()),
        ),
    };
    Parts {
        prefix,
        suffix,
        active,
        mantissa,
        exponent,
        integer,
        fractional,
        subpicture,
    }
}

/// F&O 4.7.3's rules; like jsonata-js, the last rule broken is reported.
fn validate(parts: &Parts, format: &DecimalFormat) -> Result<(), PictureError> {
    let sub = &parts.subpicture;
    let mut error = None;
    let decimal_pos = index_of(sub, &format.decimal_separator, 0);
    if decimal_pos != last_index_of(sub, &format.decimal_separator) {
        error = Some("D3081");
    }
    if index_of(sub, &format.percent, 0) != last_index_of(sub, &format.percent) {
        error = Some("D3082");
    }
    if index_of(sub, &format.per_mille, 0) != last_index_of(sub, &format.per_mille) {
        error = Some("D3083");
    }
    if contains(sub, &format.percent) && contains(sub, &format.per_mille) {
        error = Some("D3084");
    }
    if !parts.mantissa.iter().any(|c| format.is_digit_sign(*c)) {
        error = Some("D3085");
    }
    if parts.active.iter().any(|c| !format.is_active(*c)) {
        error = Some("D3086");
    }
    let is_grouping =
        |c: Option<&char>| c.is_some_and(|c| DecimalFormat::is(&format.grouping_separator, *c));
    match decimal_pos {
        Some(pos) => {
            let before = pos.checked_sub(1).and_then(|i| sub.get(i));
            if is_grouping(before) || is_grouping(sub.get(pos + 1)) {
                error = Some("D3087");
            }
        }
        None => {
            if is_grouping(parts.integer.last()) {
                error = Some("D3088");
            }
        }
    }
    let doubled: Vec<char> = format
        .grouping_separator
        .iter()
        .chain(format.grouping_separator.iter())
        .copied()
        .collect();
    if contains(sub, &doubled) {
        error = Some("D3089");
    }
    if let Some(pos) = index_of(&parts.integer, &format.digit, 0) {
        if parts.integer[..pos].iter().any(|c| format.in_family(*c)) {
            error = Some("D3090");
        }
    }
    if let Some(pos) = last_index_of(&parts.fractional, &format.digit) {
        if parts.fractional[pos.min(parts.fractional.len())..]
            .iter()
            .any(|c| format.in_family(*c))
        {
            error = Some("D3091");
        }
    }
    if let Some(exponent) = &parts.exponent {
        if !exponent.is_empty()
            && (contains(sub, &format.percent) || contains(sub, &format.per_mille))
        {
            error = Some("D3092");
        }
        if exponent.is_empty() || exponent.iter().any(|c| !format.in_family(*c)) {
            error = Some("D3093");
        }
    }
    match error {
        Some(code) => Err(PictureError::new(code, "")),
        None => Ok(()),
    }
}

/// F&O 4.7.4's variables for one sub-picture.
#[derive(Debug, Clone)]
struct Variables {
    integer_grouping_positions: Vec<usize>,
    regular_grouping: usize,
    minimum_integer_part_size: usize,
    scaling_factor: usize,
    prefix: Vec<char>,
    fractional_grouping_positions: Vec<usize>,
    minimum_fractional_part_size: usize,
    maximum_fractional_part_size: usize,
    minimum_exponent_size: usize,
    exponent_present: bool,
    suffix: Vec<char>,
    picture: Vec<char>,
}

fn analyse(parts: &Parts, format: &DecimalFormat) -> Variables {
    // jsonata-js looks for each next separator in the integer part, even
    // when collecting the fractional part's positions.
    let grouping_positions = |part: &[char], to_left: bool| -> Vec<usize> {
        let mut positions = Vec::new();
        let mut position = index_of(part, &format.grouping_separator, 0);
        while let Some(pos) = position {
            let counted = if to_left {
                &part[..pos.min(part.len())]
            } else {
                &part[pos.min(part.len())..]
            };
            positions.push(counted.iter().filter(|c| format.is_digit_sign(**c)).count());
            position = index_of(&parts.integer, &format.grouping_separator, pos + 1);
        }
        positions
    };
    let integer_grouping_positions = grouping_positions(&parts.integer, false);
    let regular_grouping = regular_positions(&integer_grouping_positions);
    let fractional_grouping_positions = grouping_positions(&parts.fractional, true);

    let mut minimum_integer_part_size = parts
        .integer
        .iter()
        .filter(|c| format.in_family(**c))
        .count();
    let scaling_factor = minimum_integer_part_size;
    let mut minimum_fractional_part_size = parts
        .fractional
        .iter()
        .filter(|c| format.in_family(**c))
        .count();
    let mut maximum_fractional_part_size = parts
        .fractional
        .iter()
        .filter(|c| format.is_digit_sign(**c))
        .count();
    let exponent_present = parts.exponent.is_some();
    if minimum_integer_part_size == 0 && maximum_fractional_part_size == 0 {
        if exponent_present {
            minimum_fractional_part_size = 1;
            maximum_fractional_part_size = 1;
        } else {
            minimum_integer_part_size = 1;
        }
    }
    if exponent_present && minimum_integer_part_size == 0 && contains(&parts.integer, &format.digit)
    {
        minimum_integer_part_size = 1;
    }
    if minimum_integer_part_size == 0 && minimum_fractional_part_size == 0 {
        minimum_fractional_part_size = 1;
    }
    let minimum_exponent_size = parts
        .exponent
        .as_ref()
        .map_or(0, |e| e.iter().filter(|c| format.in_family(**c)).count());
    Variables {
        integer_grouping_positions,
        regular_grouping,
        minimum_integer_part_size,
        scaling_factor,
        prefix: parts.prefix.clone(),
        fractional_grouping_positions,
        minimum_fractional_part_size,
        maximum_fractional_part_size,
        minimum_exponent_size,
        exponent_present,
        suffix: parts.suffix.clone(),
        picture: parts.subpicture.clone(),
    }
}

/// `$formatNumber(value, picture, options)`.
pub fn format_number(
    value: f64,
    picture: &str,
    options: Option<&Map<String, Value>>,
) -> Result<String, PictureError> {
    let format = DecimalFormat::new(options);
    let sub_pictures: Vec<Vec<char>> = if format.pattern_separator.is_empty() {
        picture.chars().map(|c| vec![c]).collect()
    } else {
        picture
            .split(format.pattern_separator.as_str())
            .map(|s| s.chars().collect())
            .collect()
    };
    if sub_pictures.len() > 2 {
        return Err(PictureError::new("D3080", ""));
    }
    let parts: Vec<Parts> = sub_pictures
        .into_iter()
        .map(|s| split_parts(s, &format))
        .collect();
    for part in &parts {
        validate(part, &format)?;
    }
    let mut variables: Vec<Variables> = parts.iter().map(|p| analyse(p, &format)).collect();
    if variables.len() == 1 {
        let mut negative = variables[0].clone();
        negative.prefix = format
            .minus_sign
            .iter()
            .chain(negative.prefix.iter())
            .copied()
            .collect();
        variables.push(negative);
    }
    let pic = if value >= 0.0 {
        &variables[0]
    } else {
        &variables[1]
    };

    // jsonata-js leaves NaN and infinity as TODOs (JSONata numbers are
    // finite); F&O's rule is used so such a value cannot loop below.
    if value.is_nan() {
        return Ok(format.nan.clone());
    }
    let prefix: String = pic.prefix.iter().collect();
    let suffix: String = pic.suffix.iter().collect();
    if value.is_infinite() {
        return Ok(format!("{prefix}{}{suffix}", format.infinity));
    }

    let adjusted = if contains(&pic.picture, &format.percent) {
        value * 100.0
    } else if contains(&pic.picture, &format.per_mille) {
        value * 1000.0
    } else {
        value
    };

    let (mantissa, exponent) = if pic.minimum_exponent_size == 0 {
        (adjusted, None)
    } else {
        // mantissa × 10^exponent = adjusted. jsonata-js leaves zero alone
        // and scales negative numbers by their magnitude since
        // https://github.com/jsonata-js/jsonata/pull/790 (suite issue785:
        // 0 → "0e0", -42 → "-4e1").
        let max_mantissa = 10f64.powi(pic.scaling_factor as i32);
        let min_mantissa = 10f64.powi(pic.scaling_factor as i32 - 1);
        let mut mantissa = adjusted;
        let mut exponent = 0_i64;
        if mantissa != 0.0 {
            while mantissa.abs() < min_mantissa {
                mantissa *= 10.0;
                exponent -= 1;
            }
            while mantissa.abs() > max_mantissa {
                mantissa /= 10.0;
                exponent += 1;
            }
        }
        (mantissa, Some(exponent))
    };

    let rounded = jsonata_round(mantissa, pic.maximum_fractional_part_size as i64);
    let make_string = |v: f64, dp: usize| -> Vec<char> {
        js_to_fixed_abs(v, dp)
            .chars()
            .map(|c| match c.to_digit(10) {
                Some(d) => format.family[d as usize],
                None => c,
            })
            .collect()
    };
    let mut text = make_string(rounded, pic.maximum_fractional_part_size);
    match text.iter().position(|c| *c == '.') {
        None => text.extend(format.decimal_separator.iter()),
        Some(pos) => {
            text.splice(pos..=pos, format.decimal_separator.iter().copied());
        }
    }
    if format.zero_digit.len() == 1 {
        let zero = format.zero_digit[0];
        let leading = text.iter().take_while(|c| **c == zero).count();
        text.drain(..leading);
        let trailing = text.iter().rev().take_while(|c| **c == zero).count();
        text.truncate(text.len() - trailing);
    }

    // Bullets 8 and 9: pad to the minimum integer and fractional sizes.
    let decimal_pos = index_of(&text, &format.decimal_separator, 0).unwrap_or(0);
    let pad_left = pic.minimum_integer_part_size as i64 - decimal_pos as i64;
    let pad_right =
        pic.minimum_fractional_part_size as i64 - (text.len() as i64 - decimal_pos as i64 - 1);
    if pad_left > 0 {
        let mut padded: Vec<char> = format.zero_digit.repeat(pad_left as usize);
        padded.extend(text);
        text = padded;
    }
    if pad_right > 0 {
        text.extend(format.zero_digit.repeat(pad_right as usize));
    }

    // Bullet 10: grouping separators in the integer part.
    let mut decimal_pos = index_of(&text, &format.decimal_separator, 0).unwrap_or(0) as i64;
    if pic.regular_grouping > 0 {
        let interval = pic.regular_grouping as i64;
        let groups = (decimal_pos - 1).div_euclid(interval);
        for group in 1..=groups {
            let at = slice_index(text.len(), decimal_pos - group * interval);
            text.splice(at..at, format.grouping_separator.iter().copied());
        }
    } else {
        for pos in &pic.integer_grouping_positions {
            let at = slice_index(text.len(), decimal_pos - *pos as i64);
            text.splice(at..at, format.grouping_separator.iter().copied());
            decimal_pos += 1;
        }
    }

    // Bullet 11: grouping separators in the fractional part.
    let decimal_pos = index_of(&text, &format.decimal_separator, 0).unwrap_or(0) as i64;
    for pos in &pic.fractional_grouping_positions {
        let at = slice_index(text.len(), *pos as i64 + decimal_pos + 1);
        text.splice(at..at, format.grouping_separator.iter().copied());
    }

    // Bullet 12: no decimal separator when the picture has none or nothing
    // follows it (jsonata-js drops the last character, which is it).
    let decimal_pos = index_of(&text, &format.decimal_separator, 0);
    if !contains(&pic.picture, &format.decimal_separator)
        || decimal_pos == text.len().checked_sub(1)
    {
        text.pop();
    }

    // Bullet 13: the exponent.
    if let (Some(exponent), true) = (exponent, pic.exponent_present) {
        let mut exponent_text = make_string(exponent as f64, 0);
        let pad = pic
            .minimum_exponent_size
            .saturating_sub(exponent_text.len());
        if pad > 0 {
            let mut padded = format.zero_digit.repeat(pad);
            padded.extend(exponent_text);
            exponent_text = padded;
        }
        text.extend(format.exponent_separator.iter());
        if exponent < 0 {
            text.extend(format.minus_sign.iter());
        }
        text.extend(exponent_text);
    }

    let body: String = text.iter().collect();
    Ok(format!("{prefix}{body}{suffix}"))
}

/// `$formatBase(value, radix)`: `value` rounded (half to even) and written
/// in base `radix` (default 10, itself rounded) with lower-case digits.
pub fn format_base(value: f64, radix: Option<f64>) -> Result<String, PictureError> {
    let value = jsonata_round(value, 0);
    let radix = radix.map_or(10.0, |r| jsonata_round(r, 0));
    if !(2.0..=36.0).contains(&radix) {
        return Err(PictureError::new("D3100", &js_number_to_string(radix)));
    }
    Ok(integer_to_radix_string(value, radix as u32))
}

/// JavaScript's `Number.prototype.toString(radix)` for an integer-valued
/// double. Radix 10 is the ordinary number printing; other radices follow
/// V8's `DoubleToRadixCString`, which writes zeros for the digits below the
/// double's precision.
fn integer_to_radix_string(value: f64, radix: u32) -> String {
    if radix == 10 || !value.is_finite() {
        return js_number_to_string(value);
    }
    let negative = value < 0.0;
    let mut integer = value.abs().floor();
    let base = f64::from(radix);
    let mut digits: Vec<char> = Vec::new();
    // 2^53: above it a double has no units digit of its own.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    while integer / base >= EXACT {
        integer /= base;
        digits.push('0');
    }
    loop {
        let remainder = integer % base;
        digits.push(char::from_digit(remainder as u32, radix).unwrap_or('0'));
        integer = (integer - remainder) / base;
        if integer <= 0.0 {
            break;
        }
    }
    if negative {
        digits.push('-');
    }
    digits.iter().rev().collect()
}
