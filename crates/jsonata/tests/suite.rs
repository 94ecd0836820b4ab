//! jsonata-js 2.2.2's own test suite, run case by case from
//! /work/shared/jsonata-test-suite (never copied into the repository).
//! Results compare as the suite's harness compares them (numbers by value,
//! arrays in order, objects regardless of key order), expected errors by
//! code (and token where given). A case that cannot pass is listed with its
//! reason in `suite-skips.txt`; the test fails on any unlisted failure and
//! on any listed case that passes, so the list stays honest.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value as Json;
use zoomvault_jsonata::{Environment, Expression};

fn suite_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/jsonata-test-suite")
}

fn same(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => {
            let (x, y) = (
                x.as_f64().unwrap_or(f64::NAN),
                y.as_f64().unwrap_or(f64::NAN),
            );
            // Exactly, as jsonata-js's harness compares: every case
            // passes without a tolerance.
            x == y
        }
        (Json::Array(x), Json::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
        }
        (Json::Object(x), Json::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

struct Case {
    id: String,
    group: String,
    body: Json,
}

fn load_cases(dir: &Path) -> Vec<Case> {
    let mut cases = Vec::new();
    let mut groups: Vec<_> = std::fs::read_dir(dir.join("groups"))
        .expect("suite groups")
        .flatten()
        .collect();
    groups.sort_by_key(|e| e.file_name());
    for g in groups {
        let group = g.file_name().to_string_lossy().to_string();
        let mut files: Vec<_> = std::fs::read_dir(g.path())
            .expect("group dir")
            .flatten()
            .collect();
        files.sort_by_key(|e| e.file_name());
        for f in files {
            let name = f.file_name().to_string_lossy().to_string();
            let Some(stem) = name.strip_suffix(".json") else {
                continue;
            };
            let text = std::fs::read_to_string(f.path()).expect("case file");
            // A few case files hold lone UTF-16 surrogates (`\ud800`) that
            // serde_json refuses; they become failing cases of their own.
            let body: Json = serde_json::from_str(&text)
                .unwrap_or_else(|e| serde_json::json!({ "__unreadable": e.to_string() }));
            match body {
                Json::Array(items) => {
                    for (i, c) in items.into_iter().enumerate() {
                        cases.push(Case {
                            id: format!("{group}/{stem}#{i}"),
                            group: group.clone(),
                            body: c,
                        });
                    }
                }
                c => cases.push(Case {
                    id: format!("{group}/{stem}"),
                    group: group.clone(),
                    body: c,
                }),
            }
        }
    }
    cases
}

/// Runs one case; `Err` describes expected vs got.
fn run_case(dir: &Path, group: &str, case: &Json) -> Result<(), String> {
    if let Some(why) = case.get("__unreadable") {
        return Err(format!("case file is not JSON serde_json can read: {why}"));
    }
    let expr = match (case.get("expr"), case.get("expr-file")) {
        (Some(Json::String(e)), _) => e.clone(),
        (_, Some(Json::String(f))) => {
            std::fs::read_to_string(dir.join("groups").join(group).join(f))
                .map_err(|e| e.to_string())?
        }
        _ => return Err("case has no expression".into()),
    };
    let data: Option<Json> = match (case.get("data"), case.get("dataset")) {
        (Some(d), _) => Some(d.clone()),
        (None, Some(Json::String(ds))) => {
            let text = std::fs::read_to_string(dir.join("datasets").join(format!("{ds}.json")))
                .map_err(|e| e.to_string())?;
            Some(serde_json::from_str(&text).map_err(|e| e.to_string())?)
        }
        _ => None,
    };
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut random = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut env = Environment::new();
    env.set_now_millis(1_700_000_000_000.0)
        .set_random(&mut random);
    if let Some(Json::Object(b)) = case.get("bindings") {
        for (k, v) in b {
            env.bind(k, v);
        }
    }
    // jsonata-js itself has no depth limit; the suite's `depth` field is
    // the harness's limit. The suite thread has a large stack.
    env.limits.max_depth = case
        .get("depth")
        .and_then(|d| d.as_u64())
        .map(|d| d as usize)
        .unwrap_or(20_000);
    let got = Expression::parse(&expr).and_then(|e| e.evaluate(data.as_ref(), &mut env));
    let show = |g: &Result<Option<Json>, zoomvault_jsonata::Error>| match g {
        Ok(Some(v)) => format!("result {v}"),
        Ok(None) => "undefined".to_string(),
        Err(e) => format!("error {} ({}) token {:?}", e.code, e.message, e.token),
    };
    let code = case
        .get("code")
        .or_else(|| case.get("error").and_then(|e| e.get("code")));
    if let Some(code) = code.and_then(|c| c.as_str()) {
        return match &got {
            Err(e) if e.code == code => match case.get("token").and_then(|t| t.as_str()) {
                Some(t) if e.token.as_deref() != Some(t) => {
                    Err(format!("expected token {t}, got {}", show(&got)))
                }
                _ => Ok(()),
            },
            _ => Err(format!("expected error {code}, got {}", show(&got))),
        };
    }
    if case.get("undefinedResult").and_then(|u| u.as_bool()) == Some(true) {
        return match &got {
            Ok(None) => Ok(()),
            _ => Err(format!("expected undefined, got {}", show(&got))),
        };
    }
    if let Some(want) = case.get("result") {
        return match &got {
            Ok(Some(v)) if same(v, want) => Ok(()),
            _ => Err(format!("expected {want}, got {}", show(&got))),
        };
    }
    // A case with none of the three expectations passes when it runs
    // without an error (jsonata-js's harness treats it that way).
    match &got {
        Ok(_) => Ok(()),
        Err(_) => Err(format!("expected no error, got {}", show(&got))),
    }
}

fn load_skips() -> BTreeMap<String, String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/suite-skips.txt");
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            l.split_once(": ")
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        })
        .collect()
}

#[test]
fn jsonata_reference_suite() {
    // Cases run on a thread with a large stack so that a case that recurses
    // deeply is judged by its result, not by the test harness's stack.
    let handle = std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(run_suite)
        .expect("spawn suite thread");
    let failures = handle.join().expect("suite thread");
    assert!(
        failures.is_empty(),
        "{} suite problems:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn run_suite() -> Vec<String> {
    let dir = suite_dir();
    let cases = load_cases(&dir);
    let skips = load_skips();
    let mut per_group: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new();
    let mut problems = Vec::new();
    let (mut pass, mut skipped) = (0, 0);
    for case in &cases {
        let outcome = std::panic::catch_unwind(|| run_case(&dir, &case.group, &case.body))
            .unwrap_or_else(|_| Err("panicked".to_string()));
        let entry = per_group.entry(case.group.clone()).or_default();
        entry.1 += 1;
        let listed = skips.contains_key(&case.id);
        match (outcome, listed) {
            (Ok(()), false) => {
                pass += 1;
                entry.0 += 1;
            }
            (Ok(()), true) => {
                problems.push(format!("{}: listed in suite-skips.txt but passes", case.id))
            }
            (Err(_), true) => {
                skipped += 1;
                entry.2 += 1;
            }
            (Err(why), false) => {
                let expr = case
                    .body
                    .get("expr")
                    .and_then(|e| e.as_str())
                    .unwrap_or("<expr-file>");
                problems.push(format!("{}: {}\n    expr: {}", case.id, why, expr));
            }
        }
    }
    for (g, (p, n, s)) in &per_group {
        println!("{g}: {p} of {n} cases pass, {s} skipped");
    }
    println!(
        "jsonata suite: {pass} of {} cases pass, {skipped} skipped",
        cases.len()
    );
    for id in skips.keys() {
        if !cases.iter().any(|c| &c.id == id) {
            problems.push(format!("{id}: listed in suite-skips.txt but no such case"));
        }
    }
    problems
}
