//! The picture functions against jsonata-js 2.2.2's own test suite: one row
//! per case of the groups function-formatNumber, function-formatBase,
//! function-formatInteger, function-parseInteger, function-fromMillis and
//! function-tomillis whose arguments are literals or a dataset lookup (the
//! value looked up is written in), named `group/file` or `group/file[i]`
//! for the suite's multi-case files. Expressions that chain `$toMillis`
//! into `$fromMillis` are rows too, as one [`Call::Chain`].
//!
//! Not here, because they test the evaluator rather than these functions:
//! the eight cases whose first argument is undefined (function-formatNumber
//! case036, function-formatBase case001, function-formatInteger
//! formatInteger[0], function-parseInteger parseInteger[0],
//! function-fromMillis case002 and formatDateTime[0], function-tomillis
//! case006 and parseDateTime[0]), for which jsonata-js returns undefined
//! before any picture is read. This file must not need the suite at run
//! time: the rows carry the arguments and results.

use super::*;

/// A call of one picture function.
#[derive(Debug)]
enum Call {
    FormatNumber(f64, &'static str, Option<&'static str>),
    FormatBase(f64, Option<f64>),
    FormatInteger(f64, &'static str),
    ParseInteger(&'static str, &'static str),
    FromMillis(f64, Option<&'static str>, Option<&'static str>),
    ToMillis(&'static str, Option<&'static str>),
    /// `$toMillis(timestamp, picture)` at evaluation time `now`, then
    /// `$fromMillis($, format, timezone)`.
    Chain {
        timestamp: &'static str,
        picture: Option<&'static str>,
        now: f64,
        format: Option<&'static str>,
        timezone: Option<&'static str>,
    },
}

#[derive(Debug)]
enum Expect {
    Str(&'static str),
    Num(f64),
    Undefined,
    Error(&'static str),
}

/// `Number.MAX_VALUE` in letters by jsonata-js's `decimalToLetters`, as
/// Node computes it.
const LARGEST_IN_LETTERS: &str = "PAHJJIGEXWRQUAMSQEWWGMWICOMGOQEUECIAIKEUICWUIMQIKGOCOWSUWOIAUGWGIQUGIEMWIUCACSMEIQCUEYACQECSOOYUIYQMGUECUEOYGMEMQGKYWEOWMUACSGISKAQYGSEYUMGWGIOMCSUEKQWYQUKUCEQWEISGSQMMUGOGQWECMWMWOQIOOCEOGIEOEKMAMIEKSKWAOIIOOEQQWAEIGW";

#[derive(Debug)]
struct Case {
    source: &'static str,
    call: Call,
    expect: Expect,
}

#[derive(Debug, PartialEq)]
enum Outcome {
    Str(String),
    Num(f64),
    Undefined,
}

fn run(call: &Call) -> Result<Outcome, PictureError> {
    let number = |n: Option<f64>| n.map_or(Outcome::Undefined, Outcome::Num);
    Ok(match call {
        Call::FormatNumber(value, picture, options) => {
            let options: Option<serde_json::Map<String, serde_json::Value>> = options
                .map(|o| serde_json::from_str(o).expect("options in the table are JSON objects"));
            Outcome::Str(format_number(*value, picture, options.as_ref())?)
        }
        Call::FormatBase(value, radix) => Outcome::Str(format_base(*value, *radix)?),
        Call::FormatInteger(value, picture) => Outcome::Str(format_integer(*value, picture)?),
        Call::ParseInteger(value, picture) => number(parse_integer(value, picture)?),
        Call::FromMillis(millis, picture, timezone) => {
            Outcome::Str(from_millis(*millis, *picture, *timezone)?)
        }
        Call::ToMillis(timestamp, picture) => number(to_millis(timestamp, *picture)?),
        Call::Chain {
            timestamp,
            picture,
            now,
            format,
            timezone,
        } => match to_millis_at(timestamp, *picture, *now)? {
            None => Outcome::Undefined,
            Some(millis) => Outcome::Str(from_millis(millis, *format, *timezone)?),
        },
    })
}

fn check(case: &Case) -> Result<(), String> {
    let got = run(&case.call);
    let ok = match (&case.expect, &got) {
        (Expect::Str(want), Ok(Outcome::Str(got))) => want == got,
        // NaN is a result jsonata-js gives too; it equals itself here.
        (Expect::Num(want), Ok(Outcome::Num(got))) => {
            want == got || (want.is_nan() && got.is_nan())
        }
        (Expect::Undefined, Ok(Outcome::Undefined)) => true,
        (Expect::Error(code), Err(error)) => error.code == *code,
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{}: {:?} gave {:?}, want {:?}",
            case.source, case.call, got, case.expect
        ))
    }
}

#[test]
fn every_suite_case_gives_jsonata_js_result() {
    let failures: Vec<String> = CASES.iter().filter_map(|case| check(case).err()).collect();
    assert!(
        failures.is_empty(),
        "{} of {} suite cases failed:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

/// Examples from the JSONata documentation and behaviour the suite leaves
/// open, checked the same way.
#[test]
fn documented_examples_and_edges_give_jsonata_js_result() {
    let failures: Vec<String> = EXAMPLES
        .iter()
        .filter_map(|case| check(case).err())
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn case_sources_are_unique() {
    let mut names: Vec<&str> = CASES.iter().chain(EXAMPLES).map(|c| c.source).collect();
    names.sort_unstable();
    let before = names.len();
    names.dedup();
    assert_eq!(before, names.len());
}

use Call::*;
use Expect::*;

/// The evaluation time for the rows that need `$now()`: 2018-04-04T00:00Z.
const NOW: f64 = 1_522_800_000_000.0;

const CASES: &[Case] = &[
    Case { source: "function-formatNumber/case000", call: FormatNumber(12345.6, "#,###.00", None), expect: Str("12,345.60") },
    Case { source: "function-formatNumber/case001", call: FormatNumber(12345678.9, "9,999.99", None), expect: Str("12,345,678.90") },
    Case { source: "function-formatNumber/case002", call: FormatNumber(123412345678.9, "9,9,99.99", None), expect: Str("123412345,6,78.90") },
    Case { source: "function-formatNumber/case003", call: FormatNumber(1234.56789, "9,999.999,999", None), expect: Str("1,234.567,890") },
    Case { source: "function-formatNumber/case004", call: FormatNumber(123.9, "9999", None), expect: Str("0124") },
    Case { source: "function-formatNumber/case005", call: FormatNumber(0.14, "01%", None), expect: Str("14%") },
    Case { source: "function-formatNumber/case006", call: FormatNumber(0.4857, "###.###‰", None), expect: Str("485.7‰") },
    Case { source: "function-formatNumber/case007", call: FormatNumber(0.14, "###pm", Some(r#"{"per-mille": "pm"}"#)), expect: Str("140pm") },
    Case { source: "function-formatNumber/case008", call: FormatNumber(-6.0, "000", None), expect: Str("-006") },
    Case { source: "function-formatNumber/case009", call: FormatNumber(1234.5678, "00.000e0", None), expect: Str("12.346e2") },
    Case { source: "function-formatNumber/case010", call: FormatNumber(1234.5678, "00.000e000", None), expect: Str("12.346e002") },
    Case { source: "function-formatNumber/case011", call: FormatNumber(1234.5678, "①①.①①①e①", Some(r#"{"zero-digit": "⑟"}"#)), expect: Str("①②.③④⑥e②") },
    Case { source: "function-formatNumber/case012", call: FormatNumber(0.234, "0.0e0", None), expect: Str("2.3e-1") },
    Case { source: "function-formatNumber/case013", call: FormatNumber(0.234, "#.00e0", None), expect: Str("0.23e0") },
    Case { source: "function-formatNumber/case014", call: FormatNumber(0.123, "#.e9", None), expect: Str("0.1e0") },
    Case { source: "function-formatNumber/case015", call: FormatNumber(0.234, ".00e0", None), expect: Str(".23e0") },
    Case { source: "function-formatNumber/case016", call: FormatNumber(2392.14*(-36.58), "000,000.000###;###,###.000###", None), expect: Str("87,504.4812") },
    Case { source: "function-formatNumber/case017", call: FormatNumber(2.14*86.58, "PREFIX##00.000###SUFFIX", None), expect: Str("PREFIX185.2812SUFFIX") },
    Case { source: "function-formatNumber/case018", call: FormatNumber(1E20, "#,######", None), expect: Str("100,000000,000000,000000") },
    Case { source: "function-formatNumber/case019", call: FormatNumber(20.0, "#;#;#", None), expect: Error("D3080") },
    Case { source: "function-formatNumber/case020", call: FormatNumber(20.0, "#.0.0", None), expect: Error("D3081") },
    Case { source: "function-formatNumber/case021", call: FormatNumber(20.0, "#0%%", None), expect: Error("D3082") },
    Case { source: "function-formatNumber/case022", call: FormatNumber(20.0, "#0‰‰", None), expect: Error("D3083") },
    Case { source: "function-formatNumber/case023", call: FormatNumber(20.0, "#0%‰", None), expect: Error("D3084") },
    Case { source: "function-formatNumber/case024", call: FormatNumber(20.0, ".e0", None), expect: Error("D3085") },
    Case { source: "function-formatNumber/case025", call: FormatNumber(20.0, "0+.e0", None), expect: Error("D3086") },
    Case { source: "function-formatNumber/case026", call: FormatNumber(20.0, "0,.e0", None), expect: Error("D3087") },
    Case { source: "function-formatNumber/case027", call: FormatNumber(20.0, "0,", None), expect: Error("D3088") },
    Case { source: "function-formatNumber/case028", call: FormatNumber(20.0, "0,,0", None), expect: Error("D3089") },
    Case { source: "function-formatNumber/case029", call: FormatNumber(20.0, "0#.e0", None), expect: Error("D3090") },
    Case { source: "function-formatNumber/case030", call: FormatNumber(20.0, "#0.#0e0", None), expect: Error("D3091") },
    Case { source: "function-formatNumber/case031", call: FormatNumber(20.0, "#0.0e0%", None), expect: Error("D3092") },
    Case { source: "function-formatNumber/case032", call: FormatNumber(20.0, "#0.0e0,0", None), expect: Error("D3093") },
    Case { source: "function-formatNumber/case033", call: FormatNumber(2.0, "000.000", None), expect: Str("002.000") },
    Case { source: "function-formatNumber/case034", call: FormatNumber(2.0, "AAA.AAA", Some(r#"{"zero-digit": "A"}"#)), expect: Str("AAC.AAA") },
    Case { source: "function-formatNumber/case035", call: FormatNumber(0.1, "AeAAA", Some(r#"{"zero-digit": "A"}"#)), expect: Str("Be-AAB") },
    Case { source: "function-formatNumber/issue785[0]", call: FormatNumber(0.0, "0e0", None), expect: Str("0e0") },
    Case { source: "function-formatNumber/issue785[1]", call: FormatNumber(-42.0, "0e0", None), expect: Str("-4e1") },
    Case { source: "function-formatNumber/issue785[2]", call: FormatNumber(42.0, "0e0", None), expect: Str("4e1") },
    Case { source: "function-formatNumber/issue785[3]", call: FormatNumber(0.0, "0.00e0", None), expect: Str("0.00e0") },
    Case { source: "function-formatNumber/issue786[0]", call: FormatNumber(42.0, "%%", None), expect: Error("D3086") },
    Case { source: "function-formatNumber/issue786[1]", call: FormatNumber(42.0, "‰‰", None), expect: Error("D3086") },
    Case { source: "function-formatNumber/issue786[2]", call: FormatNumber(42.0, "%‰", None), expect: Error("D3086") },
    Case { source: "function-formatNumber/issue786[3]", call: FormatNumber(42.0, "---", None), expect: Error("D3086") },
    Case { source: "function-formatBase/case000", call: FormatBase(100.0, None), expect: Str("100") },
    Case { source: "function-formatBase/case002", call: FormatBase(100.0, Some(2.0)), expect: Str("1100100") },
    Case { source: "function-formatBase/case003", call: FormatBase(-100.0, Some(2.0)), expect: Str("-1100100") },
    Case { source: "function-formatBase/case004", call: FormatBase(100.0, Some(36.0)), expect: Str("2s") },
    Case { source: "function-formatBase/case005", call: FormatBase(99.5, Some(2.5)), expect: Str("1100100") },
    Case { source: "function-formatBase/case006", call: FormatBase(100.0, Some(1.0)), expect: Error("D3100") },
    Case { source: "function-formatBase/case007", call: FormatBase(100.0, Some(37.0)), expect: Error("D3100") },
    Case { source: "function-formatBase/case008", call: FormatBase(5890840712243076.0, None), expect: Str("5890840712243076") },
    Case { source: "function-formatInteger/formatInteger[1]", call: FormatInteger(123.0, "000"), expect: Str("123") },
    Case { source: "function-formatInteger/formatInteger[2]", call: FormatInteger(123.0, "0000"), expect: Str("0123") },
    Case { source: "function-formatInteger/formatInteger[3]", call: FormatInteger(-3.0, "0000"), expect: Str("-0003") },
    Case { source: "function-formatInteger/formatInteger[4]", call: FormatInteger(1234.0, "0;c"), expect: Str("1234") },
    Case { source: "function-formatInteger/formatInteger[5]", call: FormatInteger(1234.0, "###0"), expect: Str("1234") },
    Case { source: "function-formatInteger/formatInteger[6]", call: FormatInteger(12.0, "###0"), expect: Str("12") },
    Case { source: "function-formatInteger/formatInteger[7]", call: FormatInteger(12.6, "###0"), expect: Str("12") },
    Case { source: "function-formatInteger/formatInteger[8]", call: FormatInteger(123.0, "000;o"), expect: Str("123rd") },
    Case { source: "function-formatInteger/formatInteger[9]", call: FormatInteger(1.0, "0;o"), expect: Str("1st") },
    Case { source: "function-formatInteger/formatInteger[10]", call: FormatInteger(28.0, "#0;o"), expect: Str("28th") },
    Case { source: "function-formatInteger/formatInteger[11]", call: FormatInteger(1234.0, "###0;o"), expect: Str("1234th") },
    Case { source: "function-formatInteger/formatInteger[12]", call: FormatInteger(12.0, "###0;o"), expect: Str("12th") },
    Case { source: "function-formatInteger/formatInteger[13]", call: FormatInteger(12340.0, "###١"), expect: Str("١٢٣٤٠") },
    Case { source: "function-formatInteger/formatInteger[14]", call: FormatInteger(12340.0, "###０"), expect: Str("１２３４０") },
    Case { source: "function-formatInteger/formatInteger[15]", call: FormatInteger(12340.0, "##0０"), expect: Error("D3131") },
    Case { source: "function-formatInteger/formatInteger[16]", call: FormatInteger(12.0, "#,##0"), expect: Str("12") },
    Case { source: "function-formatInteger/formatInteger[17]", call: FormatInteger(1200.0, "#,##0"), expect: Str("1,200") },
    Case { source: "function-formatInteger/formatInteger[18]", call: FormatInteger(120000.0, "#,##0"), expect: Str("120,000") },
    Case { source: "function-formatInteger/formatInteger[19]", call: FormatInteger(12345678.0, "#,##0"), expect: Str("12,345,678") },
    Case { source: "function-formatInteger/formatInteger[20]", call: FormatInteger(1234567890.0, "#,##0"), expect: Str("1,234,567,890") },
    Case { source: "function-formatInteger/formatInteger[21]", call: FormatInteger(1234567890.0, "#,###,##0"), expect: Str("1,234,567,890") },
    Case { source: "function-formatInteger/formatInteger[22]", call: FormatInteger(1234567890.0, "#:###,##0"), expect: Str("1234:567,890") },
    Case { source: "function-formatInteger/formatInteger[23]", call: FormatInteger(1234567890.0, "##,##,##0"), expect: Str("12345,67,890") },
    Case { source: "function-formatInteger/formatInteger[24]", call: FormatInteger(0.0, "I"), expect: Str("") },
    Case { source: "function-formatInteger/formatInteger[25]", call: FormatInteger(1984.0, "I"), expect: Str("MCMLXXXIV") },
    Case { source: "function-formatInteger/formatInteger[26]", call: FormatInteger(99.0, "i"), expect: Str("xcix") },
    Case { source: "function-formatInteger/formatInteger[27]", call: FormatInteger(12.0, "w"), expect: Str("twelve") },
    Case { source: "function-formatInteger/formatInteger[28]", call: FormatInteger(20.0, "w"), expect: Str("twenty") },
    Case { source: "function-formatInteger/formatInteger[29]", call: FormatInteger(34.0, "w"), expect: Str("thirty-four") },
    Case { source: "function-formatInteger/formatInteger[30]", call: FormatInteger(99.0, "W"), expect: Str("NINETY-NINE") },
    Case { source: "function-formatInteger/formatInteger[31]", call: FormatInteger(100.0, "w"), expect: Str("one hundred") },
    Case { source: "function-formatInteger/formatInteger[32]", call: FormatInteger(555.0, "W"), expect: Str("FIVE HUNDRED AND FIFTY-FIVE") },
    Case { source: "function-formatInteger/formatInteger[33]", call: FormatInteger(555.0, "Ww"), expect: Str("Five Hundred and Fifty-Five") },
    Case { source: "function-formatInteger/formatInteger[34]", call: FormatInteger(919.0, "w"), expect: Str("nine hundred and nineteen") },
    Case { source: "function-formatInteger/formatInteger[35]", call: FormatInteger(730.0, "w"), expect: Str("seven hundred and thirty") },
    Case { source: "function-formatInteger/formatInteger[36]", call: FormatInteger(1000.0, "w"), expect: Str("one thousand") },
    Case { source: "function-formatInteger/formatInteger[37]", call: FormatInteger(3730.0, "w"), expect: Str("three thousand, seven hundred and thirty") },
    Case { source: "function-formatInteger/formatInteger[38]", call: FormatInteger(327730.0, "w"), expect: Str("three hundred and twenty-seven thousand, seven hundred and thirty") },
    Case { source: "function-formatInteger/formatInteger[39]", call: FormatInteger(4327730.0, "w"), expect: Str("four million, three hundred and twenty-seven thousand, seven hundred and thirty") },
    Case { source: "function-formatInteger/formatInteger[40]", call: FormatInteger(1000000000001.0, "w"), expect: Str("one trillion and one") },
    Case { source: "function-formatInteger/formatInteger[41]", call: FormatInteger(1234567890123.0, "w"), expect: Str("one trillion, two hundred and thirty-four billion, five hundred and sixty-seven million, eight hundred and ninety thousand, one hundred and twenty-three") },
    Case { source: "function-formatInteger/formatInteger[42]", call: FormatInteger(1000000000000000.0, "w"), expect: Str("one thousand trillion") },
    Case { source: "function-formatInteger/formatInteger[43]", call: FormatInteger(1e+46, "w"), expect: Str("ten billion trillion trillion trillion") },
    Case { source: "function-formatInteger/formatInteger[44]", call: FormatInteger(1234567890123456.0, "w"), expect: Str("one thousand, two hundred and thirty-four trillion, five hundred and sixty-seven billion, eight hundred and ninety million, one hundred and twenty-three thousand, four hundred and fifty-six") },
    Case { source: "function-formatInteger/formatInteger[45]", call: FormatInteger(12.0, "w;o"), expect: Str("twelfth") },
    Case { source: "function-formatInteger/formatInteger[46]", call: FormatInteger(20.0, "w;o"), expect: Str("twentieth") },
    Case { source: "function-formatInteger/formatInteger[47]", call: FormatInteger(34.0, "w;o"), expect: Str("thirty-fourth") },
    Case { source: "function-formatInteger/formatInteger[48]", call: FormatInteger(99.0, "W;o"), expect: Str("NINETY-NINTH") },
    Case { source: "function-formatInteger/formatInteger[49]", call: FormatInteger(100.0, "w;o"), expect: Str("one hundredth") },
    Case { source: "function-formatInteger/formatInteger[50]", call: FormatInteger(555.0, "W;o"), expect: Str("FIVE HUNDRED AND FIFTY-FIFTH") },
    Case { source: "function-formatInteger/formatInteger[51]", call: FormatInteger(919.0, "w;o"), expect: Str("nine hundred and nineteenth") },
    Case { source: "function-formatInteger/formatInteger[52]", call: FormatInteger(730.0, "w;o"), expect: Str("seven hundred and thirtieth") },
    Case { source: "function-formatInteger/formatInteger[53]", call: FormatInteger(1000.0, "w;o"), expect: Str("one thousandth") },
    Case { source: "function-formatInteger/formatInteger[54]", call: FormatInteger(3731.0, "w;o"), expect: Str("three thousand, seven hundred and thirty-first") },
    Case { source: "function-formatInteger/formatInteger[55]", call: FormatInteger(327713.0, "w;o"), expect: Str("three hundred and twenty-seven thousand, seven hundred and thirteenth") },
    Case { source: "function-formatInteger/formatInteger[56]", call: FormatInteger(4327732.0, "w;o"), expect: Str("four million, three hundred and twenty-seven thousand, seven hundred and thirty-second") },
    Case { source: "function-formatInteger/formatInteger[57]", call: FormatInteger(1000000000001.0, "w;o"), expect: Str("one trillion and first") },
    Case { source: "function-formatInteger/formatInteger[58]", call: FormatInteger(1.0, "A"), expect: Str("A") },
    Case { source: "function-formatInteger/formatInteger[59]", call: FormatInteger(12.0, "a"), expect: Str("l") },
    Case { source: "function-formatInteger/formatInteger[60]", call: FormatInteger(26.0, "a"), expect: Str("z") },
    Case { source: "function-formatInteger/formatInteger[61]", call: FormatInteger(27.0, "a"), expect: Str("aa") },
    Case { source: "function-formatInteger/formatInteger[62]", call: FormatInteger(300.0, "A"), expect: Str("KN") },
    Case { source: "function-formatInteger/formatInteger[63]", call: FormatInteger(123456.0, "A"), expect: Str("FZPH") },
    Case { source: "function-formatInteger/formatInteger[64]", call: FormatInteger(123456.0, "α"), expect: Error("D3130") },
    Case { source: "function-parseInteger/parseInteger[1]", call: ParseInteger("123", "000"), expect: Num(123.0) },
    Case { source: "function-parseInteger/parseInteger[2]", call: ParseInteger("0123", "0000"), expect: Num(123.0) },
    Case { source: "function-parseInteger/parseInteger[3]", call: ParseInteger("1234", "0"), expect: Num(1234.0) },
    Case { source: "function-parseInteger/parseInteger[4]", call: ParseInteger("1234", "###0"), expect: Num(1234.0) },
    Case { source: "function-parseInteger/parseInteger[5]", call: ParseInteger("12", "###0"), expect: Num(12.0) },
    Case { source: "function-parseInteger/parseInteger[6]", call: ParseInteger("123rd", "000;o"), expect: Num(123.0) },
    Case { source: "function-parseInteger/parseInteger[7]", call: ParseInteger("1st", "0;o"), expect: Num(1.0) },
    Case { source: "function-parseInteger/parseInteger[8]", call: ParseInteger("28th", "#0;o"), expect: Num(28.0) },
    Case { source: "function-parseInteger/parseInteger[9]", call: ParseInteger("1234th", "###0;o"), expect: Num(1234.0) },
    Case { source: "function-parseInteger/parseInteger[10]", call: ParseInteger("12th", "###0;o"), expect: Num(12.0) },
    Case { source: "function-parseInteger/parseInteger[11]", call: ParseInteger("١٢٣٤٠", "###١"), expect: Num(12340.0) },
    Case { source: "function-parseInteger/parseInteger[12]", call: ParseInteger("１２３４０", "###０"), expect: Num(12340.0) },
    Case { source: "function-parseInteger/parseInteger[13]", call: ParseInteger("12", "#,##0"), expect: Num(12.0) },
    Case { source: "function-parseInteger/parseInteger[14]", call: ParseInteger("1,200", "#,##0"), expect: Num(1200.0) },
    Case { source: "function-parseInteger/parseInteger[15]", call: ParseInteger("12,345,678", "#,##0"), expect: Num(12345678.0) },
    Case { source: "function-parseInteger/parseInteger[16]", call: ParseInteger("1,234,567,890", "#,##0"), expect: Num(1234567890.0) },
    Case { source: "function-parseInteger/parseInteger[17]", call: ParseInteger("1,234,567,890", "#,###,##0"), expect: Num(1234567890.0) },
    Case { source: "function-parseInteger/parseInteger[18]", call: ParseInteger("1234:567,890", "#:###,##0"), expect: Num(1234567890.0) },
    Case { source: "function-parseInteger/parseInteger[19]", call: ParseInteger("12345,67,890", "##,##,##0"), expect: Num(1234567890.0) },
    Case { source: "function-parseInteger/parseInteger[20]", call: ParseInteger("", "I"), expect: Num(0.0) },
    Case { source: "function-parseInteger/parseInteger[21]", call: ParseInteger("MCMLXXXIV", "I"), expect: Num(1984.0) },
    Case { source: "function-parseInteger/parseInteger[22]", call: ParseInteger("xcix", "i"), expect: Num(99.0) },
    Case { source: "function-parseInteger/parseInteger[23]", call: ParseInteger("twelve", "w"), expect: Num(12.0) },
    Case { source: "function-parseInteger/parseInteger[24]", call: ParseInteger("twenty", "w"), expect: Num(20.0) },
    Case { source: "function-parseInteger/parseInteger[25]", call: ParseInteger("thirty-four", "w"), expect: Num(34.0) },
    Case { source: "function-parseInteger/parseInteger[26]", call: ParseInteger("NINETY-NINE", "W"), expect: Num(99.0) },
    Case { source: "function-parseInteger/parseInteger[27]", call: ParseInteger("one hundred", "w"), expect: Num(100.0) },
    Case { source: "function-parseInteger/parseInteger[28]", call: ParseInteger("FIVE HUNDRED AND FIFTY-FIVE", "W"), expect: Num(555.0) },
    Case { source: "function-parseInteger/parseInteger[29]", call: ParseInteger("Five Hundred and Fifty-Five", "Ww"), expect: Num(555.0) },
    Case { source: "function-parseInteger/parseInteger[30]", call: ParseInteger("nine hundred and nineteen", "w"), expect: Num(919.0) },
    Case { source: "function-parseInteger/parseInteger[31]", call: ParseInteger("seven hundred and thirty", "w"), expect: Num(730.0) },
    Case { source: "function-parseInteger/parseInteger[32]", call: ParseInteger("one thousand", "w"), expect: Num(1000.0) },
    Case { source: "function-parseInteger/parseInteger[33]", call: ParseInteger("three thousand, seven hundred and thirty", "w"), expect: Num(3730.0) },
    Case { source: "function-parseInteger/parseInteger[34]", call: ParseInteger("three hundred and twenty-seven thousand, seven hundred and thirty", "w"), expect: Num(327730.0) },
    Case { source: "function-parseInteger/parseInteger[35]", call: ParseInteger("four million, three hundred and twenty-seven thousand, seven hundred and thirty", "w"), expect: Num(4327730.0) },
    Case { source: "function-parseInteger/parseInteger[36]", call: ParseInteger("one trillion and one", "w"), expect: Num(1000000000001.0) },
    Case { source: "function-parseInteger/parseInteger[37]", call: ParseInteger("one trillion, two hundred and thirty-four billion, five hundred and sixty-seven million, eight hundred and ninety thousand, one hundred and twenty-three", "w"), expect: Num(1234567890123.0) },
    Case { source: "function-parseInteger/parseInteger[38]", call: ParseInteger("one thousand trillion", "w"), expect: Num(1000000000000000.0) },
    Case { source: "function-parseInteger/parseInteger[39]", call: ParseInteger("ten billion trillion trillion trillion", "w"), expect: Num(1e+46) },
    Case { source: "function-parseInteger/parseInteger[40]", call: ParseInteger("twelfth", "w;o"), expect: Num(12.0) },
    Case { source: "function-parseInteger/parseInteger[41]", call: ParseInteger("twentieth", "w;o"), expect: Num(20.0) },
    Case { source: "function-parseInteger/parseInteger[42]", call: ParseInteger("thirty-fourth", "w;o"), expect: Num(34.0) },
    Case { source: "function-parseInteger/parseInteger[43]", call: ParseInteger("NINETY-NINTH", "W;o"), expect: Num(99.0) },
    Case { source: "function-parseInteger/parseInteger[44]", call: ParseInteger("one hundredth", "w;o"), expect: Num(100.0) },
    Case { source: "function-parseInteger/parseInteger[45]", call: ParseInteger("FIVE HUNDRED AND FIFTY-FIFTH", "W;o"), expect: Num(555.0) },
    Case { source: "function-parseInteger/parseInteger[46]", call: ParseInteger("nine hundred and nineteenth", "w;o"), expect: Num(919.0) },
    Case { source: "function-parseInteger/parseInteger[47]", call: ParseInteger("seven hundred and thirtieth", "w;o"), expect: Num(730.0) },
    Case { source: "function-parseInteger/parseInteger[48]", call: ParseInteger("Seven Hundred and Thirty-Third", "Ww;o"), expect: Num(733.0) },
    Case { source: "function-parseInteger/parseInteger[49]", call: ParseInteger("one thousandth", "w;o"), expect: Num(1000.0) },
    Case { source: "function-parseInteger/parseInteger[50]", call: ParseInteger("three thousand, seven hundred and thirty-first", "w;o"), expect: Num(3731.0) },
    Case { source: "function-parseInteger/parseInteger[51]", call: ParseInteger("three hundred and twenty-seven thousand, seven hundred and thirteenth", "w;o"), expect: Num(327713.0) },
    Case { source: "function-parseInteger/parseInteger[52]", call: ParseInteger("four million, three hundred and twenty-seven thousand, seven hundred and thirty-second", "w;o"), expect: Num(4327732.0) },
    Case { source: "function-parseInteger/parseInteger[53]", call: ParseInteger("one trillion and first", "w;o"), expect: Num(1000000000001.0) },
    Case { source: "function-parseInteger/parseInteger[54]", call: ParseInteger("A", "A"), expect: Num(1.0) },
    Case { source: "function-parseInteger/parseInteger[55]", call: ParseInteger("l", "a"), expect: Num(12.0) },
    Case { source: "function-parseInteger/parseInteger[56]", call: ParseInteger("z", "a"), expect: Num(26.0) },
    Case { source: "function-parseInteger/parseInteger[57]", call: ParseInteger("aa", "a"), expect: Num(27.0) },
    Case { source: "function-parseInteger/parseInteger[58]", call: ParseInteger("KN", "A"), expect: Num(300.0) },
    Case { source: "function-parseInteger/parseInteger[59]", call: ParseInteger("FZPH", "A"), expect: Num(123456.0) },
    Case { source: "function-parseInteger/parseInteger[60]", call: ParseInteger("50", "#"), expect: Error("D3130") },
    Case { source: "function-fromMillis/case000", call: FromMillis(1.0, None, None), expect: Str("1970-01-01T00:00:00.001Z") },
    Case { source: "function-fromMillis/case001", call: FromMillis(1509380732935.0, None, None), expect: Str("2017-10-30T16:25:32.935Z") },
    Case { source: "function-fromMillis/formatDateTime[1]", call: FromMillis(1521801216617.0, Some("Hello"), None), expect: Str("Hello") },
    Case { source: "function-fromMillis/formatDateTime[2]", call: FromMillis(1521801216617.0, Some("Year: [Y0001]"), None), expect: Str("Year: 2018") },
    Case { source: "function-fromMillis/formatDateTime[3]", call: FromMillis(1521801216617.0, Some("Year: <[Y0001]>"), None), expect: Str("Year: <2018>") },
    Case { source: "function-fromMillis/formatDateTime[4]", call: FromMillis(1521801216617.0, Some("Year: <[Y9,999,*]>"), None), expect: Str("Year: <2,018>") },
    Case { source: "function-fromMillis/formatDateTime[5]", call: FromMillis(1521801216617.0, Some("[[Year: <[Y0001]>"), None), expect: Str("[Year: <2018>") },
    Case { source: "function-fromMillis/formatDateTime[6]", call: FromMillis(1521801216617.0, Some("Year]]: <[Y0001]>"), None), expect: Str("Year]: <2018>") },
    Case { source: "function-fromMillis/formatDateTime[7]", call: FromMillis(1521801216617.0, Some("[[Year]]: [[[Y0001]]]"), None), expect: Str("[Year]: [2018]") },
    Case { source: "function-fromMillis/formatDateTime[8]", call: FromMillis(1521801216617.0, Some("[D#1]/[M#1]/[Y0001]"), None), expect: Str("23/3/2018") },
    Case { source: "function-fromMillis/formatDateTime[9]", call: FromMillis(1522616700000.0, Some("[F0] [FNn]"), None), expect: Str("7 Sunday") },
    Case { source: "function-fromMillis/formatDateTime[10]", call: FromMillis(1522703100000.0, Some("[F0] [FNn]"), None), expect: Str("1 Monday") },
    Case { source: "function-fromMillis/formatDateTime[11]", call: FromMillis(1521801216617.0, Some("[Y0001]-[M01]-[D01]"), None), expect: Str("2018-03-23") },
    Case { source: "function-fromMillis/formatDateTime[12]", call: FromMillis(1521801216617.0, Some("[M01]/[D01]/[Y0001] at [H01]:[m01]:[s01]"), None), expect: Str("03/23/2018 at 10:33:36") },
    Case { source: "function-fromMillis/formatDateTime[13]", call: FromMillis(1521801216617.0, Some("[Y]-[M01]-[D01]T[H01]:[m]:[s].[f001][Z01:01t]"), None), expect: Str("2018-03-23T10:33:36.617Z") },
    Case { source: "function-fromMillis/formatDateTime[14]", call: FromMillis(1521801216617.0, Some("[Y]-[ M01]-[D 01]T[H01 ]:[ m   ]:[s].[f0  01][Z01:\n 01t]"), None), expect: Str("2018-03-23T10:33:36.617Z") },
    Case { source: "function-fromMillis/formatDateTime[15]", call: FromMillis(1521801216617.0, Some("[Y]-[M01]-[D01]T[H01]:[m]:[s].[f001][Z0101t]"), Some("+0100")), expect: Str("2018-03-23T11:33:36.617+0100") },
    Case { source: "function-fromMillis/formatDateTime[16]", call: FromMillis(1531310400000.0, Some("[Y]-[M01]-[D01]T[H01]:[m]:[s][Z01:01]"), None), expect: Str("2018-07-11T12:00:00+00:00") },
    Case { source: "function-fromMillis/formatDateTime[17]", call: FromMillis(1531310400000.0, Some("[Y]-[M01]-[D01]T[H01]:[m]:[s][Z01:01t]"), None), expect: Str("2018-07-11T12:00:00Z") },
    Case { source: "function-fromMillis/formatDateTime[18]", call: FromMillis(1531310400000.0, Some("[Y]-[M01]-[D01]T[H01]:[m]:[s][Z]"), Some("-0500")), expect: Str("2018-07-11T07:00:00-05:00") },
    Case { source: "function-fromMillis/formatDateTime[19]", call: FromMillis(1531310400000.0, Some("[Y]-[M01]-[D01]T[H01]:[m]:[s][Z0]"), Some("-0500")), expect: Str("2018-07-11T07:00:00-5") },
    Case { source: "function-fromMillis/formatDateTime[20]", call: FromMillis(1531310400000.0, Some("[Y]-[M01]-[D01]T[H01]:[m]:[s][Z]"), Some("+1000")), expect: Str("2018-07-11T22:00:00+10:00") },
    Case { source: "function-fromMillis/formatDateTime[21]", call: FromMillis(1531310400000.0, Some("[Y]-[M01]-[D01]T[H01]:[m]:[s][Z0]"), Some("+1000")), expect: Str("2018-07-11T22:00:00+10") },
    Case { source: "function-fromMillis/formatDateTime[22]", call: FromMillis(1531310400000.0, Some("[Y]-[M01]-[D01]T[H01]:[m]:[s][Z0]"), Some("+0530")), expect: Str("2018-07-11T17:30:00+5:30") },
    Case { source: "function-fromMillis/formatDateTime[23]", call: FromMillis(1531310400000.0, Some("[Y]-[M01]-[D01]T[H01]:[m]:[s][z]"), Some("-0500")), expect: Str("2018-07-11T07:00:00GMT-05:00") },
    Case { source: "function-fromMillis/formatDateTime[24]", call: FromMillis(1204405500000.0, Some("[Y]-[M01]-[D01]T[H01]:[m]:[s].[f001][Z0101t]"), Some("+0530")), expect: Str("2008-03-02T02:35:00.000+0530") },
    Case { source: "function-fromMillis/formatDateTime[25]", call: FromMillis(1230757500000.0, Some("[Y]-[M01]-[D01]T[H01]:[m]:[s].[f001][Z0101t]"), Some("+0530")), expect: Str("2009-01-01T02:35:00.000+0530") },
    Case { source: "function-fromMillis/formatDateTime[26]", call: FromMillis(1230757500000.0, Some("[Y]-[M01]-[D01]T[H01]:[m]:[s].[f001][Z010101t]"), Some("+0530")), expect: Error("D3134") },
    Case { source: "function-fromMillis/formatDateTime[27]", call: FromMillis(1521801216617.0, Some("[D#1,2]/[M1,2]/[Y,2]"), None), expect: Str("23/03/18") },
    Case { source: "function-fromMillis/formatDateTime[28]", call: FromMillis(1521801216617.0, Some("[D#1,2]/[M1,2]/[Y0001,2]"), None), expect: Str("23/03/2018") },
    Case { source: "function-fromMillis/formatDateTime[29]", call: FromMillis(1521801216617.0, Some("[D#1,2]/[M1,2]/[Y##01,2-2]"), None), expect: Str("23/03/18") },
    Case { source: "function-fromMillis/formatDateTime[30]", call: FromMillis(1521801216617.0, Some("[D#1,2]/[M1,2]/[Y0001,2-2]"), None), expect: Str("23/03/18") },
    Case { source: "function-fromMillis/formatDateTime[31]", call: FromMillis(1521801216617.0, Some("[D1] [M01] [YI]"), None), expect: Str("23 03 MMXVIII") },
    Case { source: "function-fromMillis/formatDateTime[32]", call: FromMillis(1521801216617.0, Some("[Da] [MA] [Yi]"), None), expect: Str("w C mmxviii") },
    Case { source: "function-fromMillis/formatDateTime[33]", call: FromMillis(1521801216617.0, Some("[D1o] [M01] [Y]"), None), expect: Str("23rd 03 2018") },
    Case { source: "function-fromMillis/formatDateTime[34]", call: FromMillis(1521801216617.0, Some("[Yw]"), None), expect: Str("two thousand and eighteen") },
    Case { source: "function-fromMillis/formatDateTime[35]", call: FromMillis(1521801216617.0, Some("[Dwo] [M01] [Y]"), None), expect: Str("twenty-third 03 2018") },
    Case { source: "function-fromMillis/formatDateTime[36]", call: FromMillis(1521801216617.0, Some("[D1o] [MNn] [Y]"), None), expect: Str("23rd March 2018") },
    Case { source: "function-fromMillis/formatDateTime[37]", call: FromMillis(1521801216617.0, Some("[D1o] [MN] [Y]"), None), expect: Str("23rd MARCH 2018") },
    Case { source: "function-fromMillis/formatDateTime[38]", call: FromMillis(1521801216617.0, Some("[FNn], [D1o] [MNn] [Y]"), None), expect: Str("Friday, 23rd March 2018") },
    Case { source: "function-fromMillis/formatDateTime[39]", call: FromMillis(1521801216617.0, Some("[FNn], the [Dwo] of [MNn] [Y] [E]"), None), expect: Str("Friday, the twenty-third of March 2018 ISO") },
    Case { source: "function-fromMillis/formatDateTime[40]", call: FromMillis(1521801216617.0, Some("[FNn,3-3], [D1o] [MNn,3-3] [Y] [C]"), None), expect: Str("Fri, 23rd Mar 2018 ISO") },
    Case { source: "function-fromMillis/formatDateTime[41]", call: FromMillis(1521801216617.0, Some("[F], [D]/[M]/[Y] [h]:[m]:[s] [P]"), None), expect: Str("friday, 23/3/2018 10:33:36 am") },
    Case { source: "function-fromMillis/formatDateTime[42]", call: FromMillis(1204405500000.0, Some("[F], [D]/[M]/[Y] [h]:[m]:[s] [P]"), None), expect: Str("saturday, 1/3/2008 9:05:00 pm") },
    Case { source: "function-fromMillis/formatDateTime[43]", call: FromMillis(1199664000000.0, Some("[F], [D]/[M]/[Y] [h]:[m]:[s] [P]"), None), expect: Str("monday, 7/1/2008 12:00:00 am") },
    Case { source: "function-fromMillis/formatDateTime[44]", call: FromMillis(1514808000000.0, Some("[dwo] day of the year"), None), expect: Str("first day of the year") },
    Case { source: "function-fromMillis/formatDateTime[45]", call: FromMillis(1546257600000.0, Some("[d] days in [Y0001]"), None), expect: Str("365 days in 2018") },
    Case { source: "function-fromMillis/formatDateTime[46]", call: FromMillis(1483185600000.0, Some("[d] days in [Y0001]"), None), expect: Str("366 days in 2016") },
    Case { source: "function-fromMillis/formatDateTime[47]", call: FromMillis(1514808000000.0, Some("Week: [W]"), None), expect: Str("Week: 1") },
    Case { source: "function-fromMillis/formatDateTime[48]", call: FromMillis(1515326400000.0, Some("Week: [W]"), None), expect: Str("Week: 1") },
    Case { source: "function-fromMillis/formatDateTime[49]", call: FromMillis(1545739200000.0, Some("Week: [W]"), None), expect: Str("Week: 52") },
    Case { source: "function-fromMillis/formatDateTime[50]", call: FromMillis(1388577600000.0, Some("Week: [W]"), None), expect: Str("Week: 1") },
    Case { source: "function-fromMillis/formatDateTime[51]", call: FromMillis(1419854400000.0, Some("Week: [W]"), None), expect: Str("Week: 1") },
    Case { source: "function-fromMillis/formatDateTime[52]", call: FromMillis(1419768000000.0, Some("Week: [W]"), None), expect: Str("Week: 52") },
    Case { source: "function-fromMillis/formatDateTime[53]", call: FromMillis(1419336000000.0, Some("Week: [W]"), None), expect: Str("Week: 52") },
    Case { source: "function-fromMillis/formatDateTime[54]", call: FromMillis(1420113600000.0, Some("Week: [W]"), None), expect: Str("Week: 1") },
    Case { source: "function-fromMillis/formatDateTime[55]", call: FromMillis(1420459200000.0, Some("Week: [W]"), None), expect: Str("Week: 2") },
    Case { source: "function-fromMillis/formatDateTime[56]", call: FromMillis(1451304000000.0, Some("Week: [W]"), None), expect: Str("Week: 53") },
    Case { source: "function-fromMillis/formatDateTime[57]", call: FromMillis(1451563200000.0, Some("Week: [W]"), None), expect: Str("Week: 53") },
    Case { source: "function-fromMillis/formatDateTime[58]", call: FromMillis(1451736000000.0, Some("Week: [W]"), None), expect: Str("Week: 53") },
    Case { source: "function-fromMillis/formatDateTime[59]", call: FromMillis(1359460800000.0, Some("Week: [w] of [xNn]"), None), expect: Str("Week: 5 of January") },
    Case { source: "function-fromMillis/formatDateTime[60]", call: FromMillis(1359633600000.0, Some("Week: [w] of [xNn]"), None), expect: Str("Week: 5 of January") },
    Case { source: "function-fromMillis/formatDateTime[61]", call: FromMillis(1359720000000.0, Some("Week: [w] of [xNn]"), None), expect: Str("Week: 5 of January") },
    Case { source: "function-fromMillis/formatDateTime[62]", call: FromMillis(1514808000000.0, Some("Week: [w] of [xNn]"), None), expect: Str("Week: 1 of January") },
    Case { source: "function-fromMillis/formatDateTime[63]", call: FromMillis(1483272000000.0, Some("Week: [w] of [xNn]"), None), expect: Str("Week: 5 of December") },
    Case { source: "function-fromMillis/formatDateTime[64]", call: FromMillis(1533038400000.0, Some("Week: [w] of [xNn]"), None), expect: Str("Week: 1 of August") },
    Case { source: "function-fromMillis/formatDateTime[65]", call: FromMillis(1419940800000.0, Some("Week: [w] of [xNn]"), None), expect: Str("Week: 1 of January") },
    Case { source: "function-fromMillis/formatDateTime[67]", call: FromMillis(1521801216617.0, Some("[F], [D]/[M]/[Y] [h]:[m]:[s] [PN]"), None), expect: Str("friday, 23/3/2018 10:33:36 AM") },
    Case { source: "function-fromMillis/formatDateTime[68]", call: FromMillis(1521801216617.0, Some("[F], [D]/[M]/[Y] [h]:[m]:[s] [Pn]"), None), expect: Str("friday, 23/3/2018 10:33:36 am") },
    Case { source: "function-fromMillis/formatDateTime[69]", call: FromMillis(1419940800000.0, Some("[YN]-[M]-[D]"), None), expect: Error("D3133") },
    Case { source: "function-fromMillis/formatDateTime[70]", call: FromMillis(1419940800000.0, Some("[YN]-[M"), None), expect: Error("D3135") },
    Case { source: "function-tomillis/case001", call: ToMillis("1970-01-01T00:00:00.001Z", None), expect: Num(1.0) },
    Case { source: "function-tomillis/case002", call: ToMillis("2018-02-01T09:42:13.123+0000", None), expect: Num(1517478133123.0) },
    Case { source: "function-tomillis/case003", call: ToMillis("2017-10-30", None), expect: Num(1509321600000.0) },
    Case { source: "function-tomillis/case004", call: ToMillis("2017-10-30T15:28:34Z", None), expect: Num(1509377314000.0) },
    Case { source: "function-tomillis/case005", call: ToMillis("2018", None), expect: Num(1514764800000.0) },
    Case { source: "function-tomillis/case007", call: ToMillis("foo", None), expect: Error("D3110") },
    Case { source: "function-tomillis/case008", call: ToMillis("01-02-2018", None), expect: Error("D3110") },
    Case { source: "function-tomillis/case009", call: ToMillis("2018-02-03 11:15:33", None), expect: Error("D3110") },
    Case { source: "function-tomillis/case010", call: ToMillis("201802", Some("[Y0001][M01]")), expect: Num(1517443200000.0) },
    Case { source: "function-tomillis/case011", call: ToMillis("201802", Some("[Y,*-4][M01]")), expect: Num(1517443200000.0) },
    Case { source: "function-tomillis/case012", call: ToMillis("20180205", Some("[Y0001][M01][D01]")), expect: Num(1517788800000.0) },
    Case { source: "function-tomillis/parseDateTime[1]", call: ToMillis("Hello", Some("Hello")), expect: Undefined },
    Case { source: "function-tomillis/parseDateTime[2]", call: ToMillis("2018", Some("[Y1]")), expect: Num(1514764800000.0) },
    Case { source: "function-tomillis/parseDateTime[3]", call: ToMillis("2018-03-27", Some("[Y1]-[M01]-[D01]")), expect: Num(1522108800000.0) },
    Case { source: "function-tomillis/parseDateTime[4]", call: ToMillis("2018-03-27T14:03:00.123Z", Some("[Y0001]-[M01]-[D01]T[H01]:[m01]:[s01].[f001]Z")), expect: Num(1522159380123.0) },
    Case { source: "function-tomillis/parseDateTime[5]", call: ToMillis("27th 3 1976", Some("[D1o] [M#1] [Y0001]")), expect: Num(196732800000.0) },
    Case { source: "function-tomillis/parseDateTime[6]", call: ToMillis("21st 12 1881", Some("[D1o] [M01] [Y0001]")), expect: Num(-2777932800000.0) },
    Case { source: "function-tomillis/parseDateTime[7]", call: ToMillis("2nd 12 2012", Some("[D1o] [M01] [Y0001]")), expect: Num(1354406400000.0) },
    Case { source: "function-tomillis/parseDateTime[8]", call: ToMillis("MCMLXXXIV", Some("[YI]")), expect: Num(441763200000.0) },
    Case { source: "function-tomillis/parseDateTime[9]", call: ToMillis("27 03 MMXVIII", Some("[D1] [M01] [YI]")), expect: Num(1522108800000.0) },
    Case { source: "function-tomillis/parseDateTime[10]", call: ToMillis("27 iii MMXVIII", Some("[D1] [Mi] [YI]")), expect: Num(1522108800000.0) },
    Case { source: "function-tomillis/parseDateTime[11]", call: ToMillis("w C mmxviii", Some("[Da] [MA] [Yi]")), expect: Num(1521763200000.0) },
    Case { source: "function-tomillis/parseDateTime[12]", call: ToMillis("ae C mmxviii", Some("[Da] [MA] [Yi]")), expect: Num(1522454400000.0) },
    Case { source: "function-tomillis/parseDateTime[13]", call: ToMillis("27th April 2008", Some("[D1o] [MNn] [Y0001]")), expect: Num(1209254400000.0) },
    Case { source: "function-tomillis/parseDateTime[14]", call: ToMillis("21 August 2017", Some("[D1] [MNn] [Y0001]")), expect: Num(1503273600000.0) },
    Case { source: "function-tomillis/parseDateTime[15]", call: ToMillis("2 Feb 2012", Some("[D1] [MNn,3-3] [Y0001]")), expect: Num(1328140800000.0) },
    Case { source: "function-tomillis/parseDateTime[16]", call: ToMillis("one thousand, nine hundred and eighty-four", Some("[Yw]")), expect: Num(441763200000.0) },
    Case { source: "function-tomillis/parseDateTime[17]", call: ToMillis("nineteen hundred and eighty-four", Some("[Yw]")), expect: Num(441763200000.0) },
    Case { source: "function-tomillis/parseDateTime[18]", call: ToMillis("twenty-seven April 2008", Some("[Dw] [MNn] [Y0001]")), expect: Num(1209254400000.0) },
    Case { source: "function-tomillis/parseDateTime[19]", call: ToMillis("twenty-seventh April 2008", Some("[Dw] [MNn] [Y0001]")), expect: Num(1209254400000.0) },
    Case { source: "function-tomillis/parseDateTime[20]", call: ToMillis("twenty-first August two thousand and seventeen", Some("[Dw] [MNn] [Yw]")), expect: Num(1503273600000.0) },
    Case { source: "function-tomillis/parseDateTime[21]", call: ToMillis("TWENTY-SECOND August two thousand and seventeen", Some("[DW] [MNn] [Yw]")), expect: Num(1503360000000.0) },
    Case { source: "function-tomillis/parseDateTime[22]", call: ToMillis("Twentieth of August, two thousand and seventeen", Some("[DW] of [MNn], [Yw]")), expect: Num(1503187200000.0) },
    Case { source: "function-tomillis/parseDateTime[23]", call: ToMillis("4/4/2018 12:06 am", Some("[D1]/[M1]/[Y0001] [h]:[m] [P]")), expect: Num(1522800360000.0) },
    Case { source: "function-tomillis/parseDateTime[24]", call: ToMillis("4/4/2018 06:30 am", Some("[D1]/[M1]/[Y0001] [h]:[m] [P]")), expect: Num(1522823400000.0) },
    Case { source: "function-tomillis/parseDateTime[25]", call: ToMillis("4/4/2018 12:06 pm", Some("[D1]/[M1]/[Y0001] [h]:[m] [P]")), expect: Num(1522843560000.0) },
    Case { source: "function-tomillis/parseDateTime[26]", call: ToMillis("4/4/2018 11:30 pm", Some("[D1]/[M1]/[Y0001] [h]:[m] [P]")), expect: Num(1522884600000.0) },
    Case { source: "function-tomillis/parseDateTime[27]", call: ToMillis("2018-094", Some("[Y0001]-[d001]")), expect: Num(1522800000000.0) },
    Case { source: "function-tomillis/parseDateTime[34]", call: ToMillis("irrelevent string", Some("[Y]-[M]-[D]")), expect: Undefined },
    Case { source: "function-tomillis/parseDateTime[35]", call: ToMillis("2018-05-22", Some("[Y]-[M]-[q]")), expect: Error("D3132") },
    Case { source: "function-tomillis/parseDateTime[36]", call: ToMillis("2018-05-22", Some("[YN]-[M]-[D]")), expect: Error("D3133") },
    Case { source: "function-tomillis/parseDateTime[37]", call: ToMillis("2018-22", Some("[Y]-[D]")), expect: Error("D3136") },
    Case { source: "function-tomillis/parseDateTime[38]", call: ToMillis("5-22 23:59", Some("[M]-[D] [m]:[s]")), expect: Error("D3136") },
    Case { source: "function-tomillis/parseDateTime[39]", call: ToMillis("2018-3-2-5", Some("[X]-[x]-[w]-[F1]")), expect: Error("D3136") },
    Case { source: "function-tomillis/parseDateTime[40]", call: ToMillis("2018-32-5", Some("[X]-[W]-[F1]")), expect: Error("D3136") },
    // function-tomillis/case013 compares these two; both are 2024-01-01T12:38:49Z.
    Case { source: "function-tomillis/case013 (ISO 8601)", call: ToMillis("2024-01-01T12:38:49Z", None), expect: Num(1_704_112_729_000.0) },
    Case { source: "function-tomillis/case013 (picture)", call: ToMillis("20240101123849", Some("[Y0000][M00][D00][H00][m00][s00]")), expect: Num(1_704_112_729_000.0) },
    Case { source: "function-fromMillis/isoWeekDate[0]", call: Chain { timestamp: "2005-01-01", picture: Some("[Y]-[M]-[D]"), now: 0.0, format: Some("[X0001]-W[W01]-[F1]"), timezone: None }, expect: Str("2004-W53-6") },
    Case { source: "function-fromMillis/isoWeekDate[1]", call: Chain { timestamp: "2005-01-02", picture: Some("[Y]-[M]-[D]"), now: 0.0, format: Some("[X0001]-W[W01]-[F1]"), timezone: None }, expect: Str("2004-W53-7") },
    Case { source: "function-fromMillis/isoWeekDate[2]", call: Chain { timestamp: "2005-12-31", picture: Some("[Y]-[M]-[D]"), now: 0.0, format: Some("[X0001]-W[W01]-[F1]"), timezone: None }, expect: Str("2005-W52-6") },
    Case { source: "function-fromMillis/isoWeekDate[3]", call: Chain { timestamp: "2006-01-01", picture: Some("[Y]-[M]-[D]"), now: 0.0, format: Some("[X0001]-W[W01]-[F1]"), timezone: None }, expect: Str("2005-W52-7") },
    Case { source: "function-fromMillis/isoWeekDate[4]", call: Chain { timestamp: "2006-01-02", picture: Some("[Y]-[M]-[D]"), now: 0.0, format: Some("[X0001]-W[W01]-[F1]"), timezone: None }, expect: Str("2006-W01-1") },
    Case { source: "function-fromMillis/isoWeekDate[5]", call: Chain { timestamp: "2006-12-31", picture: Some("[Y]-[M]-[D]"), now: 0.0, format: Some("[X0001]-W[W01]-[F1]"), timezone: None }, expect: Str("2006-W52-7") },
    Case { source: "function-fromMillis/isoWeekDate[6]", call: Chain { timestamp: "2007-01-01", picture: Some("[Y]-[M]-[D]"), now: 0.0, format: Some("[X0001]-W[W01]-[F1]"), timezone: None }, expect: Str("2007-W01-1") },
    Case { source: "function-fromMillis/isoWeekDate[7]", call: Chain { timestamp: "2007-12-30", picture: Some("[Y]-[M]-[D]"), now: 0.0, format: Some("[X0001]-W[W01]-[F1]"), timezone: None }, expect: Str("2007-W52-7") },
    Case { source: "function-fromMillis/isoWeekDate[8]", call: Chain { timestamp: "2007-12-31", picture: Some("[Y]-[M]-[D]"), now: 0.0, format: Some("[X0001]-W[W01]-[F1]"), timezone: None }, expect: Str("2008-W01-1") },
    Case { source: "function-fromMillis/isoWeekDate[9]", call: Chain { timestamp: "2008-01-01", picture: Some("[Y]-[M]-[D]"), now: 0.0, format: Some("[X0001]-W[W01]-[F1]"), timezone: None }, expect: Str("2008-W01-2") },
    Case { source: "function-fromMillis/isoWeekDate[10]", call: Chain { timestamp: "2008-12-28", picture: Some("[Y]-[M]-[D]"), now: 0.0, format: Some("[X0001]-W[W01]-[F1]"), timezone: None }, expect: Str("2008-W52-7") },
    Case { source: "function-fromMillis/isoWeekDate[11]", call: Chain { timestamp: "2008-12-29", picture: Some("[Y]-[M]-[D]"), now: 0.0, format: Some("[X0001]-W[W01]-[F1]"), timezone: None }, expect: Str("2009-W01-1") },
    Case { source: "function-fromMillis/isoWeekDate[12]", call: Chain { timestamp: "2008-12-30", picture: Some("[Y]-[M]-[D]"), now: 0.0, format: Some("[X0001]-W[W01]-[F1]"), timezone: None }, expect: Str("2009-W01-2") },
    Case { source: "function-fromMillis/isoWeekDate[13]", call: Chain { timestamp: "2008-12-31", picture: Some("[Y]-[M]-[D]"), now: 0.0, format: Some("[X0001]-W[W01]-[F1]"), timezone: None }, expect: Str("2009-W01-3") },
    Case { source: "function-fromMillis/isoWeekDate[14]", call: Chain { timestamp: "2009-01-01", picture: Some("[Y]-[M]-[D]"), now: 0.0, format: Some("[X0001]-W[W01]-[F1]"), timezone: None }, expect: Str("2009-W01-4") },
    Case { source: "function-fromMillis/isoWeekDate[15]", call: Chain { timestamp: "2009-12-31", picture: Some("[Y]-[M]-[D]"), now: 0.0, format: Some("[X0001]-W[W01]-[F1]"), timezone: None }, expect: Str("2009-W53-4") },
    Case { source: "function-fromMillis/isoWeekDate[16]", call: Chain { timestamp: "2010-01-01", picture: Some("[Y]-[M]-[D]"), now: 0.0, format: Some("[X0001]-W[W01]-[F1]"), timezone: None }, expect: Str("2009-W53-5") },
    Case { source: "function-fromMillis/isoWeekDate[17]", call: Chain { timestamp: "2010-01-02", picture: Some("[Y]-[M]-[D]"), now: 0.0, format: Some("[X0001]-W[W01]-[F1]"), timezone: None }, expect: Str("2009-W53-6") },
    Case { source: "function-fromMillis/isoWeekDate[18]", call: Chain { timestamp: "2010-01-03", picture: Some("[Y]-[M]-[D]"), now: 0.0, format: Some("[X0001]-W[W01]-[F1]"), timezone: None }, expect: Str("2009-W53-7") },
    Case { source: "function-fromMillis/formatDateTime[66] ($fromMillis())", call: Chain { timestamp: "2018-10-21T13:05:00Z", picture: None, now: 0.0, format: None, timezone: None }, expect: Str("2018-10-21T13:05:00.000Z") },
    Case { source: "function-fromMillis/formatDateTime[66] ($fromMillis($, (), '-0500'))", call: Chain { timestamp: "2018-10-21T13:05:00Z", picture: None, now: 0.0, format: None, timezone: Some("-0500") }, expect: Str("2018-10-21T08:05:00.000-05:00") },
    Case { source: "function-fromMillis/formatDateTime[66] ($fromMillis($, (), '0000'))", call: Chain { timestamp: "2018-10-21T13:05:00Z", picture: None, now: 0.0, format: None, timezone: Some("0000") }, expect: Str("2018-10-21T13:05:00.000Z") },
    // The suite checks the date is $now()'s; NOW stands for it here.
    Case { source: "function-tomillis/parseDateTime[28]", call: Chain { timestamp: "13:45", picture: Some("[H]:[m]"), now: NOW, format: None, timezone: None }, expect: Str("2018-04-04T13:45:00.000Z") },
    // The suite checks only the time after the T.
    Case { source: "function-tomillis/parseDateTime[29]", call: Chain { timestamp: "13:45", picture: Some("[H]:[m]"), now: NOW, format: None, timezone: None }, expect: Str("2018-04-04T13:45:00.000Z") },
    Case { source: "function-tomillis/parseDateTime[30]", call: Chain { timestamp: "Wednesday, 14th November 2018", picture: Some("[FNn], [D1o] [MNn] [Y]"), now: 0.0, format: None, timezone: None }, expect: Str("2018-11-14T00:00:00.000Z") },
    Case { source: "function-tomillis/parseDateTime[31]", call: Chain { timestamp: "Mon, Twelfth November 2018", picture: Some("[FNn,*-3], [DWwo] [MNn] [Y]"), now: 0.0, format: None, timezone: None }, expect: Str("2018-11-12T00:00:00.000Z") },
    Case { source: "function-tomillis/parseDateTime[32]", call: Chain { timestamp: "2018--180", picture: Some("[Y]--[d]"), now: 0.0, format: None, timezone: None }, expect: Str("2018-06-29T00:00:00.000Z") },
    Case { source: "function-tomillis/parseDateTime[33]", call: Chain { timestamp: "three hundred and sixty-fifth day of 2018", picture: Some("[dwo] day of [Y]"), now: 0.0, format: None, timezone: None }, expect: Str("2018-12-31T00:00:00.000Z") },
    Case { source: "function-tomillis/parseDateTime[41]", call: Chain { timestamp: "2020-09-09 08:00:00 +02:00", picture: Some("[Y0001]-[M01]-[D01] [H01]:[m01]:[s01] [Z]"), now: 0.0, format: None, timezone: None }, expect: Str("2020-09-09T06:00:00.000Z") },
    Case { source: "function-tomillis/parseDateTime[42]", call: Chain { timestamp: "2020-09-09 08:00:00 GMT-05:00", picture: Some("[Y0001]-[M01]-[D01] [H01]:[m01]:[s01] [z]"), now: 0.0, format: None, timezone: None }, expect: Str("2020-09-09T13:00:00.000Z") },
    Case { source: "function-tomillis/parseDateTime[43]", call: Chain { timestamp: "2020-09-09 12:00:00 +05:30", picture: Some("[Y0001]-[M01]-[D01] [H01]:[m01]:[s01] [Z]"), now: 0.0, format: None, timezone: None }, expect: Str("2020-09-09T06:30:00.000Z") },
    Case { source: "function-tomillis/parseDateTime[44]", call: Chain { timestamp: "2020-09-09 12:00:00 GMT-5", picture: Some("[Y0001]-[M01]-[D01] [H01]:[m01]:[s01] [z01]"), now: 0.0, format: None, timezone: None }, expect: Str("2020-09-09T17:00:00.000Z") },
    Case { source: "function-tomillis/parseDateTime[45]", call: Chain { timestamp: "2020-09-09 12:00:00 +0530", picture: Some("[Y0001]-[M01]-[D01] [H01]:[m01]:[s01] [Z0001]"), now: 0.0, format: None, timezone: None }, expect: Str("2020-09-09T06:30:00.000Z") },
    Case { source: "function-tomillis/parseDateTime[46]", call: Chain { timestamp: "2026-04-08T19:05:04.01987", picture: Some("[Y0001]-[M01]-[D01]T[H01]:[m01]:[s01].[f1]"), now: 0.0, format: None, timezone: None }, expect: Str("2026-04-08T19:05:04.019Z") },
];

const EXAMPLES: &[Case] = &[
    // https://docs.jsonata.org/numeric-functions#formatnumber
    Case {
        source: "docs numeric-functions: $formatNumber(34.555, '#0.00;(#0.00)')",
        call: FormatNumber(34.555, "#0.00;(#0.00)", None),
        expect: Str("34.56"),
    },
    Case {
        source: "docs numeric-functions: $formatNumber(-34.555, '#0.00;(#0.00)')",
        call: FormatNumber(-34.555, "#0.00;(#0.00)", None),
        expect: Str("(34.56)"),
    },
    // jsonata-js's results measured by another implementation's
    // differential tests: https://github.com/txjmb/jsonata-core/issues/135
    // (the last rule broken is the error) and /issues/136 (values).
    Case {
        source: "txjmb/jsonata-core#135: 'k'",
        call: FormatNumber(1.0, "k", None),
        expect: Error("D3086"),
    },
    Case {
        source: "txjmb/jsonata-core#135: '..'",
        call: FormatNumber(1.0, "..", None),
        expect: Error("D3085"),
    },
    Case {
        source: "txjmb/jsonata-core#135: 'e'",
        call: FormatNumber(1.0, "e", None),
        expect: Error("D3093"),
    },
    Case {
        source: "txjmb/jsonata-core#135: '0.a'",
        call: FormatNumber(1.0, "0.a", None),
        expect: Str("1a"),
    },
    Case {
        source: "txjmb/jsonata-core#136: 1.5 '0.'",
        call: FormatNumber(1.5, "0.", None),
        expect: Str("2"),
    },
    Case {
        source: "txjmb/jsonata-core#136: 1 '#.'",
        call: FormatNumber(1.0, "#.", None),
        expect: Str("1"),
    },
    Case {
        source: "txjmb/jsonata-core#136: 1.5 '0.a'",
        call: FormatNumber(1.5, "0.a", None),
        expect: Str("2a"),
    },
    Case {
        source: "txjmb/jsonata-core#136: 12.345 '#,##0.00' half to even",
        call: FormatNumber(12.345, "#,##0.00", None),
        expect: Str("12.34"),
    },
    Case {
        source: "txjmb/jsonata-core#136: 0.25 '0.0'",
        call: FormatNumber(0.25, "0.0", None),
        expect: Str("0.2"),
    },
    Case {
        source: "txjmb/jsonata-core#136: 0.25 '#.#'",
        call: FormatNumber(0.25, "#.#", None),
        expect: Str(".2"),
    },
    Case {
        source: "txjmb/jsonata-core#136: 1 '#.e0'",
        call: FormatNumber(1.0, "#.e0", None),
        expect: Str("1.0e0"),
    },
    // https://docs.jsonata.org/date-time-functions#frommillis
    Case {
        source: "docs date-time-functions: $fromMillis(1510067557121)",
        call: FromMillis(1510067557121.0, None, None),
        expect: Str("2017-11-07T15:12:37.121Z"),
    },
    Case {
        source: "docs date-time-functions: $fromMillis with [h#1]:[m01][P]",
        call: FromMillis(
            1510067557121.0,
            Some("[M01]/[D01]/[Y0001] [h#1]:[m01][P]"),
            None,
        ),
        expect: Str("11/07/2017 3:12pm"),
    },
    // jsonata-js splits the timezone with floor and remainder, so "-0530"
    // is -6 hours and -30 minutes: 6h30 behind UTC, not 5h30.
    Case {
        source: "edge: timezone -0530 is read as -6h -30m",
        call: FromMillis(0.0, Some("[H01]:[m01]"), Some("-0530")),
        expect: Str("17:30"),
    },
    Case {
        source: "edge: timezone +0530",
        call: FromMillis(0.0, Some("[H01]:[m01][Z]"), Some("+0530")),
        expect: Str("05:30+05:30"),
    },
    // Outside a JavaScript Date's range every field is NaN.
    Case {
        source: "edge: millis past 8.64e15 is an invalid date",
        call: FromMillis(8.64e15 + 1.0, Some("[Y0001]-[M01]"), None),
        expect: Str("0NaN-NaN"),
    },
    Case {
        source: "edge: ISO 8601 with a -hh:mm offset",
        call: ToMillis("2018-02-01T09:42:13-01:30", None),
        expect: Num(1_517_483_533_000.0),
    },
    Case {
        source: "edge: ISO 8601 fraction beyond milliseconds is truncated",
        call: ToMillis("1970-01-01T00:00:00.0019Z", None),
        expect: Num(1.0),
    },
    Case {
        source: "edge: ISO 8601 month 13 passes the check but is no date",
        call: ToMillis("2018-13", None),
        expect: Num(f64::NAN),
    },
    // Without an evaluation timestamp the missing date is the epoch's.
    Case {
        source: "edge: to_millis without now takes 1970-01-01",
        call: ToMillis("13:45", Some("[H]:[m]")),
        expect: Num(49_500_000.0),
    },
    Case {
        source: "edge: a width past the limit is refused",
        call: FromMillis(0.0, Some("[Y,*-1000000]"), None),
        expect: Error("RangeError"),
    },
    Case {
        source: "edge: roman numerals past the limit are refused",
        call: FormatInteger(1e12, "I"),
        expect: Error("RangeError"),
    },
    // Found by format_integer_and_parse_integer_never_panic, which this
    // ran out of memory in: letters for an infinite number never ended.
    Case {
        source: "edge: letters for an infinite number are refused",
        call: FormatInteger(f64::NEG_INFINITY, "a"),
        expect: Error("RangeError"),
    },
    Case {
        source: "edge: letters for the largest number end",
        call: FormatInteger(f64::MAX, "A"),
        expect: Str(LARGEST_IN_LETTERS),
    },
    Case {
        source: "edge: words for an unknown word are NaN",
        call: ParseInteger("twelve bananas", "w"),
        expect: Num(f64::NAN),
    },
    Case {
        source: "edge: formatBase of 2^60 + 6144 in base 2",
        call: FormatBase(1_152_921_504_606_853_120.0, Some(2.0)),
        expect: Str("1000000000000000000000000000000000000000000000001100000000000"),
    },
    Case {
        source: "edge: formatBase radix 2.5 rounds half to even",
        call: FormatBase(7.0, Some(2.5)),
        expect: Str("111"),
    },
    Case {
        source: "edge: formatBase radix 37 is out of range",
        call: FormatBase(7.0, Some(36.6)),
        expect: Error("D3100"),
    },
];

#[test]
fn numbers_print_as_javascript_prints_them() {
    let cases: &[(f64, &str)] = &[
        (0.0, "0"),
        (-0.0, "0"),
        (100.0, "100"),
        (123.456, "123.456"),
        (0.1 + 0.2, "0.30000000000000004"),
        (1e20, "100000000000000000000"),
        (1e21, "1e+21"),
        (1.5e21, "1.5e+21"),
        (0.000001, "0.000001"),
        (1e-7, "1e-7"),
        (-1.5e-7, "-1.5e-7"),
        (f64::NAN, "NaN"),
        (f64::NEG_INFINITY, "-Infinity"),
    ];
    for (value, want) in cases {
        assert_eq!(js_number_to_string(*value), *want, "{value:e}");
    }
}

#[test]
fn to_fixed_rounds_the_exact_binary_value_ties_up() {
    let cases: &[(f64, usize, &str)] = &[
        (2.5, 0, "3"),
        (0.5, 0, "1"),
        (1.45, 1, "1.4"),
        (1.005, 2, "1.00"),
        (-2.345, 2, "2.35"),
        (99.995, 2, "100.00"),
        (0.0, 3, "0.000"),
        (1e21, 2, "1e+21"),
    ];
    for (value, dp, want) in cases {
        assert_eq!(js_to_fixed_abs(*value, *dp), *want, "{value} to {dp}");
    }
}

/// https://docs.jsonata.org/numeric-functions#round
#[test]
fn round_is_jsonata_round_half_to_even() {
    let cases: &[(f64, i64, f64)] = &[
        (123.456, 0, 123.0),
        (123.456, 2, 123.46),
        (123.456, -1, 120.0),
        (123.456, -2, 100.0),
        (11.5, 0, 12.0),
        (12.5, 0, 12.0),
        (125.0, -1, 120.0),
        (2.675, 2, 2.68),
        (-0.4, 0, 0.0),
    ];
    for (value, precision, want) in cases {
        assert_eq!(
            jsonata_round(*value, *precision),
            *want,
            "{value} to {precision}"
        );
    }
}

#[test]
fn parse_int_reads_a_leading_integer() {
    let cases: &[(&str, f64)] = &[
        ("0123", 123.0),
        ("+05", 5.0),
        ("-05", -5.0),
        ("  12abc", 12.0),
        ("0x1A", 26.0),
    ];
    for (text, want) in cases {
        assert_eq!(js_parse_int(text), *want, "{text}");
    }
    assert!(js_parse_int("abc").is_nan());
    assert!(js_parse_int("").is_nan());
}

#[test]
fn to_millis_fills_missing_date_from_the_evaluation_time() {
    // 2018-04-04T22:10Z: the picture gives only the time.
    let now = 1_522_879_800_000.0;
    assert_eq!(
        to_millis_at("13:45", Some("[H]:[m]"), now),
        Ok(Some(1_522_849_500_000.0))
    );
    // Month and day given, year from now.
    assert_eq!(
        to_millis_at("12-25", Some("[M]-[D]"), now),
        Ok(Some(1_545_696_000_000.0))
    );
}

mod no_panic {
    //! Pictures and values from outside (a state machine's JSONata) must
    //! give a result or a PictureError, never a panic.
    use super::super::*;
    use proptest::prelude::*;

    const PICTURE: &str =
        "[0-9#,.;%\u{2030}eEaAiIwWoNncYMDdFxXHhmsfPZzCqt\\[\\] :*\u{0661}\u{FF10}-]{0,14}";

    proptest! {
        #[test]
        fn format_number_never_panics(value in proptest::num::f64::ANY, picture in PICTURE) {
            let _ = format_number(value, &picture, None);
        }

        #[test]
        fn format_integer_and_parse_integer_never_panic(value in proptest::num::f64::ANY, picture in PICTURE, text in "[a-zA-Z0-9 ,\\-]{0,20}") {
            let _ = format_integer(value, &picture);
            let _ = parse_integer(&text, &picture);
        }

        #[test]
        fn from_millis_never_panics(millis in proptest::num::f64::ANY, picture in PICTURE, zone in "[-+]?[0-9]{0,5}") {
            let _ = from_millis(millis, Some(&picture), Some(&zone));
        }

        #[test]
        fn to_millis_never_panics(text in "[0-9a-zA-Z :,+\\-]{0,20}", picture in PICTURE, now in proptest::num::f64::ANY) {
            let _ = to_millis_at(&text, Some(&picture), now);
            let _ = to_millis(&text, None);
        }

        #[test]
        fn format_base_never_panics(value in proptest::num::f64::ANY, radix in proptest::num::f64::ANY) {
            let _ = format_base(value, Some(radix));
        }
    }
}
