//! JSONata's picture-string functions: `$formatNumber`, `$formatBase`,
//! `$formatInteger`, `$parseInteger`, `$fromMillis` and `$toMillis`, as pure
//! functions over numbers and strings that behave as jsonata-js 2.x does
//! (its `datetime.js` and the `formatNumber`/`formatBase` code in
//! `functions.js`), including the places where jsonata-js departs from the
//! XPath F&O 3.1 pictures they follow
//! (<https://www.w3.org/TR/xpath-functions-31/#func-format-number>,
//! `#func-format-integer`, `#rules-for-datetime-formatting>`). The evaluator
//! handles `undefined` arguments and argument types before calling here.
//!
//! This module does no I/O and reads no clock: where jsonata-js fills a
//! missing date from `$now()`, the caller passes the evaluation's timestamp
//! ([`to_millis_at`]). It must not grow JSONata evaluation of its own.
//!
//! Numbers are JavaScript doubles throughout, and the few JavaScript number
//! conversions the reference leans on (`Number.prototype.toString`,
//! `toFixed`, `parseInt`, JSONata's `$round`) are reproduced here so the
//! digits come out the same.

mod datetime;
mod integer;
mod number;

#[cfg(test)]
mod tests;

pub use datetime::{from_millis, to_millis, to_millis_at};
pub use integer::{format_integer, parse_integer};
pub use number::{format_base, format_number};

/// A dynamic error raised by a picture function, with jsonata-js's error
/// code (`D3080`...`D3136`) and its message text, the `{{value}}` in it
/// filled in. The code is `RangeError` where jsonata-js would fail with a
/// JavaScript RangeError instead (roman numerals for huge numbers, words
/// for a non-finite one, a width modifier too wide to pad to).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct PictureError {
    pub code: &'static str,
    pub message: String,
}

impl PictureError {
    /// The error for `code` with jsonata-js's message, `value` standing in
    /// for the message's `{{value}}` where it has one.
    pub(crate) fn new(code: &'static str, value: &str) -> Self {
        let template = match code {
            "D3080" => "The picture string must only contain a maximum of two sub-pictures",
            "D3081" => "The sub-picture must not contain more than one instance of the 'decimal-separator' character",
            "D3082" => "The sub-picture must not contain more than one instance of the 'percent' character",
            "D3083" => "The sub-picture must not contain more than one instance of the 'per-mille' character",
            "D3084" => "The sub-picture must not contain both a 'percent' and a 'per-mille' character",
            "D3085" => "The mantissa part of a sub-picture must contain at least one character that is either an 'optional digit character' or a member of the 'decimal digit family'",
            "D3086" => "The sub-picture must not contain a passive character that is preceded by an active character and that is followed by another active character",
            "D3087" => "The sub-picture must not contain a 'grouping-separator' character that appears adjacent to a 'decimal-separator' character",
            "D3088" => "The sub-picture must not contain a 'grouping-separator' at the end of the integer part",
            "D3089" => "The sub-picture must not contain two adjacent instances of the 'grouping-separator' character",
            "D3090" => "The integer part of the sub-picture must not contain a member of the 'decimal digit family' that is followed by an instance of the 'optional digit character'",
            "D3091" => "The fractional part of the sub-picture must not contain an instance of the 'optional digit character' that is followed by a member of the 'decimal digit family'",
            "D3092" => "A sub-picture that contains a 'percent' or 'per-mille' character must not contain a character treated as an 'exponent-separator'",
            "D3093" => "The exponent part of the sub-picture must comprise only of one or more characters that are members of the 'decimal digit family'",
            "D3100" => "The radix of the formatBase function must be between 2 and 36.  It was given {{value}}",
            "D3110" => "The argument of the toMillis function must be an ISO 8601 formatted timestamp. Given {{value}}",
            "D3130" => "Formatting or parsing an integer as a sequence starting with {{value}} is not supported by this implementation",
            "D3131" => "In a decimal digit pattern, all digits must be from the same decimal group",
            "D3132" => "Unknown component specifier {{value}} in date/time picture string",
            "D3133" => "The 'name' modifier can only be applied to months and days in the date/time picture string, not {{value}}",
            "D3134" => "The timezone integer format specifier cannot have more than four digits",
            "D3135" => "No matching closing bracket ']' in date/time picture string",
            "D3136" => "The date/time picture string is missing specifiers required to parse the timestamp",
            _ => "{{value}}",
        };
        PictureError {
            code,
            message: template.replace("{{value}}", value),
        }
    }
}

/// JavaScript's `Number.prototype.toString()` (radix 10): the shortest
/// digits that read back as the same double, in plain notation from 1e-7
/// up to 1e21 and in exponent notation (`1e+21`, `1.5e-7`) outside it.
pub(crate) fn js_number_to_string(value: f64) -> String {
    if value.is_nan() {
        return "NaN".to_owned();
    }
    if value.is_infinite() {
        return if value > 0.0 { "Infinity" } else { "-Infinity" }.to_owned();
    }
    if value == 0.0 {
        return "0".to_owned();
    }
    let sign = if value < 0.0 { "-" } else { "" };
    let (digits, point) = shortest_digits(value.abs());
    let k = digits.len() as i64;
    let body = if k <= point && point <= 21 {
        format!("{digits}{}", "0".repeat((point - k) as usize))
    } else if 0 < point && point <= 21 {
        let (int, frac) = digits.split_at(point as usize);
        format!("{int}.{frac}")
    } else if -6 < point && point <= 0 {
        format!("0.{}{digits}", "0".repeat((-point) as usize))
    } else {
        let exponent = point - 1;
        let exp_sign = if exponent < 0 { '-' } else { '+' };
        let (first, rest) = digits.split_at(1);
        if rest.is_empty() {
            format!("{first}e{exp_sign}{}", exponent.abs())
        } else {
            format!("{first}.{rest}e{exp_sign}{}", exponent.abs())
        }
    };
    format!("{sign}{body}")
}

/// The shortest round-trip decimal digits of a positive finite double and
/// the position of the decimal point relative to them (ECMAScript's `n`:
/// the value is `0.digits × 10^n`).
fn shortest_digits(value: f64) -> (String, i64) {
    // Rust's `{:e}` prints the shortest digits that round-trip, as
    // `d.ddde±x`, the same digits ECMAScript's Number::toString picks.
    let formatted = format!("{value:e}");
    let (mantissa, exponent) = formatted.split_once('e').unwrap_or((&formatted, "0"));
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let exponent: i64 = exponent.parse().unwrap_or(0);
    (digits, exponent + 1)
}

/// JavaScript's `Number.prototype.toFixed(dp)` of `|value|`: the exact
/// binary value rounded to `dp` decimals, a tie going up, and for 1e21
/// and above the plain `toString()`.
pub(crate) fn js_to_fixed_abs(value: f64, dp: usize) -> String {
    let value = value.abs();
    if value >= 1e21 || !value.is_finite() {
        return js_number_to_string(value);
    }
    // 1100 decimals print any double exactly (the longest expansion is 1074
    // fractional digits), so the rounding below sees the true value rather
    // than Rust's half-to-even rounding of it.
    let exact = format!("{value:.1100}");
    let (int, frac) = exact.split_once('.').unwrap_or((&exact, ""));
    let mut digits: Vec<u8> = int.bytes().chain(frac.bytes().take(dp)).collect();
    let round_up = frac.as_bytes().get(dp).is_some_and(|d| *d >= b'5');
    if round_up {
        let mut i = digits.len();
        loop {
            if i == 0 {
                digits.insert(0, b'1');
                break;
            }
            i -= 1;
            if digits[i] == b'9' {
                digits[i] = b'0';
            } else {
                digits[i] += 1;
                break;
            }
        }
    }
    let int_len = digits.len() - dp;
    let mut out = String::from_utf8_lossy(&digits[..int_len]).into_owned();
    if dp > 0 {
        out.push('.');
        out.push_str(&String::from_utf8_lossy(&digits[int_len..]));
    }
    out
}

/// JavaScript's `Math.round`: halves go towards +∞.
fn js_math_round(value: f64) -> f64 {
    if !value.is_finite() {
        return value;
    }
    let floor = value.floor();
    if value - floor >= 0.5 {
        floor + 1.0
    } else {
        floor
    }
}

/// JSONata's `$round(value, precision)`: half to even, with the decimal
/// shift done on the number's shortest decimal string (as jsonata-js does
/// through `toString()` and an edited exponent), so 2.675 to 2 places is
/// 2.68 rather than the 2.67 a binary multiplication would give.
pub(crate) fn jsonata_round(value: f64, precision: i64) -> f64 {
    let shift = |v: f64, by: i64| -> f64 {
        if by == 0 {
            return v;
        }
        let text = js_number_to_string(v);
        let (mantissa, exponent) = match text.split_once('e') {
            Some((m, e)) => (m.to_owned(), e.parse::<i64>().unwrap_or(0)),
            None => (text.clone(), 0),
        };
        format!("{mantissa}e{}", exponent + by)
            .parse::<f64>()
            .unwrap_or(f64::NAN)
    };
    let shifted = shift(value, precision);
    let mut result = js_math_round(shifted);
    let diff = result - shifted;
    if diff.abs() == 0.5 && (result % 2.0).abs() == 1.0 {
        result -= 1.0;
    }
    let result = shift(result, -precision);
    if result == 0.0 {
        0.0
    } else {
        result
    }
}

/// JavaScript's global `parseInt(text)`: leading whitespace, an optional
/// sign, a `0x` prefix for hexadecimal, then as many digits as there are;
/// NaN when there are none.
pub(crate) fn js_parse_int(text: &str) -> f64 {
    let trimmed = text.trim_start();
    let (negative, rest) = match trimmed.as_bytes().first() {
        Some(b'-') => (true, &trimmed[1..]),
        Some(b'+') => (false, &trimmed[1..]),
        _ => (false, trimmed),
    };
    let (radix, rest) = if rest.starts_with("0x") || rest.starts_with("0X") {
        (16, &rest[2..])
    } else {
        (10, rest)
    };
    let mut value = 0.0_f64;
    let mut any = false;
    for c in rest.chars() {
        match c.to_digit(radix) {
            Some(d) => {
                value = value * f64::from(radix) + f64::from(d);
                any = true;
            }
            None => break,
        }
    }
    if !any {
        return f64::NAN;
    }
    if negative {
        -value
    } else {
        value
    }
}
