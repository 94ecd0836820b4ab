//! Durable-transition throughput of the engine, one scenario per process so
//! that peak RSS (VmHWM) belongs to that scenario alone. Not a test: it
//! prints one JSON line per run, and `bench/run` turns those lines into the
//! table in BENCHMARKS.md next to moto's Step Functions interpreter.
//!
//! ```text
//! transitions run <SCENARIO> [SIZE]          measure, print one JSON line
//! transitions definition <SCENARIO> [SIZE]   print the ASL definition
//! ```
//!
//! SCENARIO is `pass-chain`, `map` or `fanout`, each in JSONPath, or with
//! `-jsonata` appended, its JSONata twin: the same states doing the same
//! work with `Arguments`, `Output` and `{% %}` expressions in place of
//! `Parameters`, `ResultSelector`, `ItemsPath`, `ResultPath` and
//! `OutputPath`.
//!
//! A durable transition is one state entered (a `*StateEntered` history
//! event), journaled before the engine moves on. Each run uses a fresh
//! SQLite file in a temporary directory and the system clock. The
//! definitions printed by `definition` are the ones `bench/moto_sfn.py`
//! runs, so both sides execute the same ASL.

use serde_json::{json, Map, Value};
use std::process::ExitCode;
use std::time::Instant;
use zoomvault_engine::{Durability, Engine, EngineConfig, Handlers, Status};

// The same allocator as the `zoomvault` binary, so the bench measures what
// users run.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The no-op task: an in-process Lambda named `noop` that returns its
/// payload, reached through the `lambda:invoke` integration.
const NOOP_TASK_RESOURCE: &str = "arn:aws:states:::lambda:invoke";
const NOOP_FUNCTION: &str = "noop";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Scenario {
    workload: Workload,
    jsonata: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Workload {
    /// One execution of a chain of SIZE Pass states.
    PassChain,
    /// One execution of a Map over SIZE items, MaxConcurrency 100, each
    /// iteration one no-op Task.
    Map,
    /// SIZE concurrent executions of a 10-state machine (nine Pass states
    /// and a no-op Task in the middle).
    Fanout,
}

impl Scenario {
    fn parse(name: &str) -> Option<Scenario> {
        let (base, jsonata) = match name.strip_suffix("-jsonata") {
            Some(base) => (base, true),
            None => (name, false),
        };
        let workload = match base {
            "pass-chain" => Workload::PassChain,
            "map" => Workload::Map,
            "fanout" => Workload::Fanout,
            _ => return None,
        };
        Some(Scenario { workload, jsonata })
    }

    fn name(self) -> String {
        let base = match self.workload {
            Workload::PassChain => "pass-chain",
            Workload::Map => "map",
            Workload::Fanout => "fanout",
        };
        if self.jsonata {
            format!("{base}-jsonata")
        } else {
            base.to_string()
        }
    }

    /// The size the issue asks for.
    fn default_size(self) -> usize {
        match self.workload {
            Workload::PassChain => 10_000,
            Workload::Map => 10_000,
            Workload::Fanout => 1_000,
        }
    }

    fn definition(self, size: usize) -> Value {
        let mut definition = match self.workload {
            Workload::PassChain => pass_chain(size),
            Workload::Map if self.jsonata => json!({
                "StartAt": "Each",
                "States": {"Each": {
                    "Type": "Map",
                    "Items": "{% $states.input.items %}",
                    "MaxConcurrency": 100,
                    "ItemProcessor": {
                        "ProcessorConfig": {"Mode": "INLINE"},
                        "StartAt": "Noop",
                        "States": {"Noop": noop_task(self.jsonata, json!({"End": true}))}
                    },
                    "Output": "{% $states.input %}",
                    "End": true
                }}
            }),
            Workload::Map => json!({
                "StartAt": "Each",
                "States": {"Each": {
                    "Type": "Map",
                    "ItemsPath": "$.items",
                    "MaxConcurrency": 100,
                    "ItemProcessor": {
                        "ProcessorConfig": {"Mode": "INLINE"},
                        "StartAt": "Noop",
                        "States": {"Noop": noop_task(self.jsonata, json!({"End": true}))}
                    },
                    "ResultPath": null,
                    "End": true
                }}
            }),
            Workload::Fanout => ten_states(self.jsonata),
        };
        if self.jsonata {
            definition["QueryLanguage"] = json!("JSONata");
        }
        definition
    }

    /// The input of each execution.
    fn input(self, size: usize) -> Value {
        match self.workload {
            Workload::Map => {
                json!({"items": (0..size).map(|i| json!({"i": i})).collect::<Vec<_>>()})
            }
            Workload::PassChain | Workload::Fanout => json!({"n": 1}),
        }
    }

    fn executions(self, size: usize) -> usize {
        match self.workload {
            Workload::Fanout => size,
            Workload::PassChain | Workload::Map => 1,
        }
    }
}

/// The no-op task, passing its input as the payload and leaving the
/// payload it gets back as its output.
fn noop_task(jsonata: bool, rest: Value) -> Value {
    let mut state = if jsonata {
        json!({
            "Type": "Task",
            "Resource": NOOP_TASK_RESOURCE,
            "Arguments": {"FunctionName": NOOP_FUNCTION, "Payload": "{% $states.input %}"},
            "Output": "{% $states.result.Payload %}"
        })
    } else {
        json!({
            "Type": "Task",
            "Resource": NOOP_TASK_RESOURCE,
            "Parameters": {"FunctionName": NOOP_FUNCTION, "Payload.$": "$"},
            "ResultSelector": {"echo.$": "$.Payload"},
            "OutputPath": "$.echo"
        })
    };
    if let (Some(s), Some(r)) = (state.as_object_mut(), rest.as_object()) {
        s.extend(r.clone());
    }
    state
}

fn pass_chain(size: usize) -> Value {
    let mut states = Map::new();
    for i in 0..size {
        let state = if i + 1 == size {
            json!({"Type": "Pass", "End": true})
        } else {
            json!({"Type": "Pass", "Next": format!("P{}", i + 1)})
        };
        states.insert(format!("P{i}"), state);
    }
    json!({"StartAt": "P0", "States": states})
}

fn ten_states(jsonata: bool) -> Value {
    let mut states = Map::new();
    for i in 0..10 {
        let next = if i == 9 {
            json!({"End": true})
        } else {
            json!({"Next": format!("S{}", i + 1)})
        };
        let state = if i == 4 {
            noop_task(jsonata, next)
        } else {
            let mut pass = json!({"Type": "Pass"});
            if let (Some(p), Some(n)) = (pass.as_object_mut(), next.as_object()) {
                p.extend(n.clone());
            }
            pass
        };
        states.insert(format!("S{i}"), state);
    }
    json!({"StartAt": "S0", "States": states})
}

/// Peak resident set size of this process so far, from /proc.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn fresh_db() -> std::io::Result<std::path::PathBuf> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!("zoomvault-bench-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir.join("engine.db"))
}

/// `JOURNAL_SYNC=full` (the default, as the engine's) or `normal`.
fn durability() -> Result<Durability, String> {
    match std::env::var("JOURNAL_SYNC").as_deref() {
        Err(_) | Ok("full") => Ok(Durability::Full),
        Ok("normal") => Ok(Durability::Normal),
        Ok(other) => Err(format!(
            "JOURNAL_SYNC must be full or normal, not {other:?}"
        )),
    }
}

async fn measure(scenario: Scenario, size: usize) -> Result<Value, String> {
    let db = fresh_db().map_err(|e| format!("create a temporary directory: {e}"))?;
    let mut handlers = Handlers::new();
    handlers.register(NOOP_FUNCTION, |req| async move { Ok(req.input) });
    let mut config = EngineConfig::new(&db);
    config.durability = durability()?;
    let engine = Engine::open(config, handlers).map_err(|e| format!("open engine: {e}"))?;
    let definition = scenario.definition(size).to_string();
    let machine = engine
        .create_state_machine(&scenario.name(), &definition, None)
        .map_err(|e| format!("create state machine: {e}"))?;
    let input = scenario.input(size);

    let began = Instant::now();
    let mut running = Vec::new();
    for i in 0..scenario.executions(size) {
        let engine = engine.clone();
        let arn = machine.arn.clone();
        let input = input.clone();
        running.push(tokio::spawn(async move {
            let started = engine
                .start_execution(&arn, Some(&format!("e{i}")), input)
                .await?;
            engine.wait_for(&started.execution_arn).await
        }));
    }
    let mut finished = Vec::new();
    for r in running {
        let row = r
            .await
            .map_err(|e| format!("execution task: {e}"))?
            .map_err(|e| format!("execution: {e}"))?;
        if row.status != Status::Succeeded {
            return Err(format!(
                "{} ended {}: {:?} {:?}",
                row.arn, row.status, row.error, row.cause
            ));
        }
        finished.push(row.arn);
    }
    let seconds = began.elapsed().as_secs_f64();
    // Read before counting: reading the histories back allocates too.
    let peak_rss_kib = peak_rss_kib();

    let mut transitions = 0u64;
    let mut history_events = 0u64;
    for arn in &finished {
        let history = engine
            .history(arn)
            .map_err(|e| format!("read history: {e}"))?;
        history_events += history.len() as u64;
        transitions += history
            .iter()
            .filter(|e| {
                e["type"]
                    .as_str()
                    .is_some_and(|t| t.ends_with("StateEntered"))
            })
            .count() as u64;
    }
    drop(engine);
    if let Some(dir) = db.parent() {
        let _ = std::fs::remove_dir_all(dir);
    }
    Ok(json!({
        "scenario": scenario.name(),
        "sync": format!("{:?}", durability()?).to_lowercase(),
        "size": size,
        "executions": finished.len(),
        "transitions": transitions,
        "history_events": history_events,
        "seconds": seconds,
        "transitions_per_sec": transitions as f64 / seconds,
        "history_events_per_sec": history_events as f64 / seconds,
        "peak_rss_kib": peak_rss_kib,
    }))
}

fn usage() -> ExitCode {
    eprintln!("usage: transitions <run|definition> <pass-chain|map|fanout>[-jsonata] [SIZE]");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    // `cargo bench` passes `--bench`; ignore flags so it stays harmless.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let (Some(command), Some(scenario)) = (args.first(), args.get(1)) else {
        return usage();
    };
    let Some(scenario) = Scenario::parse(scenario) else {
        return usage();
    };
    let size = match args.get(2).map(|s| s.parse::<usize>()) {
        None => scenario.default_size(),
        Some(Ok(n)) if n > 0 => n,
        Some(_) => return usage(),
    };
    match command.as_str() {
        "definition" => {
            println!("{}", scenario.definition(size));
            ExitCode::SUCCESS
        }
        "run" => {
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
            {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("start the tokio runtime: {e}");
                    return ExitCode::FAILURE;
                }
            };
            match runtime.block_on(measure(scenario, size)) {
                Ok(line) => {
                    println!("{line}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("{}: {e}", scenario.name());
                    ExitCode::FAILURE
                }
            }
        }
        _ => usage(),
    }
}
