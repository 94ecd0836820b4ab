//! `zoomvault workflow validate|run`: the engine on its own, for a state
//! machine file. `run` journals to a data directory (a fresh temporary one
//! by default), so a run interrupted with Ctrl-C or `kill -9` resumes when
//! started again with the same `--data-dir` and `--name`.

use anyhow::Context;
use clap::Subcommand;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use zoomvault_asl::definition;
use zoomvault_engine::{Engine, EngineConfig};

#[derive(Debug, Subcommand)]
pub enum WorkflowCommand {
    /// Check a state machine definition; print every problem (exit 2 if any).
    Validate {
        /// The ASL definition (JSON).
        file: PathBuf,
    },
    /// Run a state machine to completion and print its output.
    Run {
        /// The ASL definition (JSON).
        file: PathBuf,
        /// Execution input: JSON text, or @FILE to read it from a file.
        #[arg(long, default_value = "{}")]
        input: String,
        /// Also print the execution's history events.
        #[arg(long)]
        history: bool,
        /// Where the journal lives (default: a new temporary directory).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Execution name (default: a UUID). Running again with the same
        /// name and --data-dir resumes or returns that execution.
        #[arg(long)]
        name: Option<String>,
    },
}

pub fn run(command: WorkflowCommand) -> anyhow::Result<ExitCode> {
    match command {
        WorkflowCommand::Validate { file } => validate(&file),
        WorkflowCommand::Run {
            file,
            input,
            history,
            data_dir,
            name,
        } => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("starting the async runtime")?;
            runtime.block_on(run_file(&file, &input, history, data_dir, name))
        }
    }
}

fn read_definition(file: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))
}

fn validate(file: &Path) -> anyhow::Result<ExitCode> {
    let text = read_definition(file)?;
    match definition::parse_str(&text) {
        Ok(machine) => {
            println!(
                "{}: valid ({} states)",
                file.display(),
                machine.total_states()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(errors) => {
            eprintln!("{}: {} problem(s)", file.display(), errors.len());
            for e in &errors {
                println!("{e}");
            }
            Ok(ExitCode::from(2))
        }
    }
}

fn parse_input(input: &str) -> anyhow::Result<Value> {
    let text = match input.strip_prefix('@') {
        Some(path) => {
            std::fs::read_to_string(path).with_context(|| format!("reading input file {path}"))?
        }
        None => input.to_string(),
    };
    serde_json::from_str(&text).with_context(|| format!("--input is not valid JSON: {text:.80}"))
}

async fn run_file(
    file: &Path,
    input: &str,
    show_history: bool,
    data_dir: Option<PathBuf>,
    name: Option<String>,
) -> anyhow::Result<ExitCode> {
    let text = read_definition(file)?;
    if let Err(errors) = definition::parse_str(&text) {
        for e in &errors {
            eprintln!("{e}");
        }
        return Ok(ExitCode::from(2));
    }
    let input = parse_input(input)?;
    let data_dir = match data_dir {
        Some(d) => d,
        None => std::env::temp_dir().join(format!("zoomvault-run-{}", std::process::id())),
    };
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("creating {}", data_dir.display()))?;
    let engine = Engine::open(
        EngineConfig::new(data_dir.join("engine.db")),
        zoomvault::demo::handlers(),
    )
    .context("opening the engine journal")?;
    let machine_name = file
        .file_stem()
        .and_then(|s| s.to_str())
        .map(|s| {
            s.replace(
                |c: char| !c.is_ascii_alphanumeric() && c != '-' && c != '_',
                "-",
            )
        })
        .unwrap_or_else(|| "workflow".into());
    let machine = engine.upsert_state_machine(&machine_name, &text)?;
    let started = engine
        .start_execution(&machine.arn, name.as_deref(), input)
        .await?;
    eprintln!(
        "execution {} (journal in {})",
        started.execution_arn,
        data_dir.display()
    );
    let row = engine.wait_for(&started.execution_arn).await?;
    if show_history {
        for event in engine.history(&started.execution_arn)? {
            println!("{event}");
        }
    }
    match row.status.as_str() {
        "SUCCEEDED" => {
            let output: Value = serde_json::from_str(row.output.as_deref().unwrap_or("null"))?;
            println!(
                "{}",
                serde_json::to_string_pretty(&json!({"status": row.status, "output": output}))?
            );
            Ok(ExitCode::SUCCESS)
        }
        status => {
            println!(
                "{}",
                serde_json::to_string_pretty(
                    &json!({"status": status, "error": row.error, "cause": row.cause})
                )?
            );
            Ok(ExitCode::from(1))
        }
    }
}
