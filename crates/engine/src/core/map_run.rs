//! The distributed Map: a Map Run whose items (read by the ItemReader, or
//! selected by ItemsPath) are batched by the ItemBatcher and each run as a
//! child execution of the item processor; tolerated failures decide whether
//! the Map state fails; the ResultWriter exports the children's results.
//! As AWS documents it:
//! <https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html>.
//!
//! The core decides and records; it performs nothing. Reading items,
//! starting and stopping child executions and writing results are actions
//! (`Action::ReadItems`, `StartChild`, `StopChild`, `WriteResults`) whose
//! outcomes come back as the facts every task uses (`TaskSucceeded` /
//! `TaskFailed` under the action's key), so replay rebuilds a Map Run from
//! the journal like any other state. A child execution's own history is
//! its own, never the parent's: the parent records only MapRunStarted and
//! how the run ended.
//!
//! A run that did not succeed once its items were known is kept for a
//! redrive of the parent (`keep_for_redrive`), which redrives it
//! (`redrive_map_run`, MapRunRedriven): the same ARN, the same items and
//! settings, only the children that did not succeed run again
//! (`Action::RedriveChild` for a STANDARD one, a new child for an EXPRESS
//! one or one never started). See `redrive` for the whole rule.

use super::*;
use zoomvault_asl::definition::{
    ChildExecutionType, Distributed, FieldTemplate, ItemSource, MapState, S3_GET_OBJECT,
    S3_LIST_OBJECTS_V2,
};
use zoomvault_asl::Entropy;

/// What a distributed Map's ItemReader asks the driver to read.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadItems {
    pub key: u64,
    pub execution_arn: String,
    pub resource: &'static str,
    pub source: ItemSource,
    pub bucket: String,
    /// The object to read (getObject), or the prefix to list (listObjectsV2).
    pub object: String,
    /// Read at most this many items; `0` reads them all.
    pub max_items: u64,
}

/// A child execution to start in the transaction that decided it.
#[derive(Debug, Clone, PartialEq)]
pub struct ChildStart {
    pub key: u64,
    pub execution_arn: String,
    pub name: String,
    pub state_machine_arn: String,
    pub definition: String,
    pub input: Value,
    pub map_run_arn: String,
    /// How many items the child's input carries (one, or a batch's).
    pub items: u64,
    pub execution_type: ChildExecutionType,
}

/// A child execution of a redriven Map Run that is redriven itself (a
/// STANDARD child that did not succeed): it resumes where it stopped, in
/// the transaction that decided it, and its end is journaled in the parent
/// under the new key.
#[derive(Debug, Clone, PartialEq)]
pub struct ChildRedrive {
    pub key: u64,
    pub execution_arn: String,
    pub map_run_arn: String,
}

/// What the ResultWriter asks the driver to export once the run is over.
#[derive(Debug, Clone, PartialEq)]
pub struct WriteResults {
    pub key: u64,
    pub execution_arn: String,
    pub map_run_arn: String,
    pub bucket: String,
    pub prefix: String,
    /// The child executions started, in item order.
    pub children: Vec<String>,
    /// The inputs of the children never started.
    pub pending: Vec<Value>,
}

/// A Map Run's row in the journal changing (DescribeMapRun reads it).
#[derive(Debug, Clone, PartialEq)]
pub enum MapRunChange {
    Started {
        map_run_arn: String,
        max_concurrency: u64,
        tolerated_failure_count: u64,
        tolerated_failure_percentage: f64,
        items: u64,
    },
    Updated {
        map_run_arn: String,
        max_concurrency: u64,
        tolerated_failure_count: u64,
        tolerated_failure_percentage: f64,
    },
    /// The run's items are known (read, or selected by ItemsPath) and
    /// batched into this many child executions.
    Planned {
        map_run_arn: String,
        items: u64,
        executions: u64,
    },
    Ended {
        map_run_arn: String,
        status: &'static str,
    },
    /// The parent was redriven and with it this run: RUNNING again, its
    /// children that did not succeed waiting to be redriven.
    Redriven {
        map_run_arn: String,
        redrive_count: u32,
    },
    /// A child that did not succeed is redriven: no longer waiting for it,
    /// and its end is now awaited under `parent_key`.
    ChildRedriven {
        execution_arn: String,
        parent_key: u64,
    },
    /// A child that did not succeed is replaced by a new one (an EXPRESS
    /// child, or one the engine cannot redrive): it no longer counts.
    ChildReplaced { execution_arn: String },
}

/// What UpdateMapRun changes (`Fact::MapRunUpdated`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MapRunUpdate {
    pub map_run_arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrency: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerated_failure_count: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerated_failure_percentage: Option<f64>,
}

/// A distributed Map state's body, evaluated on entering it.
#[derive(Debug, Clone)]
pub(super) struct MapRunStart {
    effective: Value,
    items: Option<Vec<Value>>,
    read: Option<(String, String, u64)>,
    max_concurrency: u64,
    tolerated_percentage: Option<f64>,
    tolerated_count: Option<u64>,
    batching: Option<Batching>,
    writer: Option<(String, String)>,
}

#[derive(Debug, Clone)]
struct Batching {
    max_items: u64,
    max_bytes: u64,
    batch_input: Option<Value>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    Reading(u64),
    Running,
    Writing(u64),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Outcome {
    Pending,
    Running,
    Succeeded,
    Failed,
}

#[derive(Debug, Clone)]
pub(super) struct MapRunProgress {
    arn: String,
    child_machine_arn: String,
    phase: Phase,
    start: MapRunStart,
    /// Each child's input and how many items it carries.
    children: Vec<(Value, u64)>,
    child_arns: Vec<Option<String>>,
    outcomes: Vec<Outcome>,
    results: Vec<Value>,
    next: usize,
    active: BTreeMap<u64, usize>,
    total_items: u64,
    failed_items: u64,
    /// How the run ends, kept while the ResultWriter writes.
    ending: Option<Result<Value, Failure>>,
    /// The items are known and batched into `children`: only then can a
    /// redrive redrive this run rather than start a new one.
    planned: bool,
    redrive_count: u32,
}

fn string_field(v: &Value, field: &str, what: &str) -> Result<String, Failure> {
    match v.get(field) {
        Some(Value::String(s)) => Ok(s.clone()),
        None if field == "Prefix" => Ok(String::new()),
        other => Err(Failure::runtime(format!(
            "{what}: \"{field}\" must be a string, found {}",
            other.map_or("nothing".into(), |v| v.to_string())
        ))),
    }
}

/// Evaluates a distributed Map's fields over its effective input.
pub(super) fn evaluate(
    state: &State,
    map: &MapState,
    dist: &Distributed,
    effective: Value,
    env: &mut Env,
) -> Result<MapRunStart, Failure> {
    let max_concurrency =
        body::dynamic_u64(&map.max_concurrency, &effective, env, "MaxConcurrencyPath")?;
    let tolerated_percentage = map
        .tolerated_failure_percentage
        .as_ref()
        .map(|d| body::dynamic_f64(d, &effective, env, "ToleratedFailurePercentagePath"))
        .transpose()?;
    let tolerated_count = map
        .tolerated_failure_count
        .as_ref()
        .map(|d| body::dynamic_u64(d, &effective, env, "ToleratedFailureCountPath"))
        .transpose()?;
    let (items, read) = match &dist.item_reader {
        None => (Some(body::map_items(state, map, &effective, env)?), None),
        Some(reader) => {
            let what = match reader.parameters {
                FieldTemplate::JsonPath(_) => "ItemReader Parameters",
                FieldTemplate::Jsonata(_) => "ItemReader Arguments",
            };
            let params = lifecycle::eval_field_template(
                &reader.parameters,
                &effective,
                env,
                "ItemReader/Arguments",
            )?;
            let bucket = string_field(&params, "Bucket", what)?;
            let object = if reader.source == ItemSource::Listing {
                string_field(&params, "Prefix", what)?
            } else {
                string_field(&params, "Key", what)?
            };
            let max = reader
                .max_items
                .as_ref()
                .map(|d| body::dynamic_u64(d, &effective, env, "MaxItemsPath"))
                .transpose()?
                .unwrap_or(0);
            (None, Some((bucket, object, max)))
        }
    };
    let batching = match &dist.item_batcher {
        None => None,
        Some(b) => {
            let max_items = b
                .max_items_per_batch
                .as_ref()
                .map(|d| body::dynamic_u64(d, &effective, env, "MaxItemsPerBatchPath"))
                .transpose()?
                .unwrap_or(0);
            let max_bytes = b
                .max_input_bytes_per_batch
                .as_ref()
                .map(|d| body::dynamic_u64(d, &effective, env, "MaxInputBytesPerBatchPath"))
                .transpose()?
                .unwrap_or(0);
            let batch_input = b
                .batch_input
                .as_ref()
                .map(|t| {
                    lifecycle::eval_field_template(t, &effective, env, "ItemBatcher/BatchInput")
                })
                .transpose()?;
            Some(Batching {
                max_items,
                max_bytes,
                batch_input,
            })
        }
    };
    let writer = match &dist.result_writer {
        None => None,
        Some(w) => {
            let what = match w.parameters {
                FieldTemplate::JsonPath(_) => "ResultWriter Parameters",
                FieldTemplate::Jsonata(_) => "ResultWriter Arguments",
            };
            let params = lifecycle::eval_field_template(
                &w.parameters,
                &effective,
                env,
                "ResultWriter/Arguments",
            )?;
            Some((
                string_field(&params, "Bucket", what)?,
                string_field(&params, "Prefix", what)?,
            ))
        }
    };
    Ok(MapRunStart {
        effective,
        items,
        read,
        max_concurrency,
        tolerated_percentage,
        tolerated_count,
        batching,
        writer,
    })
}

/// A UUID from the execution's entropy, so replay names the same run and
/// children.
fn uuid_from(entropy: &mut SplitMix64) -> String {
    let (a, b) = (entropy.next_u64(), entropy.next_u64());
    let bytes: Vec<u8> = a.to_be_bytes().into_iter().chain(b.to_be_bytes()).collect();
    let mut raw = [0u8; 16];
    raw.copy_from_slice(&bytes);
    uuid::Builder::from_random_bytes(raw)
        .into_uuid()
        .hyphenated()
        .to_string()
}

/// Groups the items into batches as the ItemBatcher says: at most
/// `max_items` items and `max_bytes` bytes of input per batch (a single
/// item larger than the byte limit makes a batch of its own).
fn batch(items: Vec<Value>, b: &Batching) -> Vec<(Value, u64)> {
    let mut out = Vec::new();
    let mut current: Vec<Value> = Vec::new();
    let mut bytes = 0u64;
    let close = |current: &mut Vec<Value>, out: &mut Vec<(Value, u64)>| {
        if current.is_empty() {
            return;
        }
        let n = current.len() as u64;
        let mut input = Map::new();
        if let Some(bi) = &b.batch_input {
            input.insert("BatchInput".into(), bi.clone());
        }
        input.insert("Items".into(), Value::Array(std::mem::take(current)));
        out.push((Value::Object(input), n));
    };
    for item in items {
        let size = item.to_string().len() as u64;
        let full_items = b.max_items > 0 && current.len() as u64 >= b.max_items;
        let full_bytes = b.max_bytes > 0 && !current.is_empty() && bytes + size > b.max_bytes;
        if full_items || full_bytes {
            close(&mut current, &mut out);
            bytes = 0;
        }
        bytes += size;
        current.push(item);
    }
    close(&mut current, &mut out);
    out
}

impl Execution {
    pub(super) fn start_map_run(
        &mut self,
        run: RunId,
        state_name: &str,
        start: MapRunStart,
        cx: &mut Ctx,
        work: &mut Vec<Work>,
    ) {
        // A redrive entering the state again redrives the run the attempt
        // before left, if its items were known; otherwise a new run starts.
        if let Some(left) = self.take_unfinished(run).and_then(|u| u.map_run) {
            self.redrive_map_run(run, *left, cx, work);
            return;
        }
        let label = self
            .map_spec(run)
            .and_then(|(m, _)| m.label.clone())
            .unwrap_or_else(|| state_name.to_string());
        let id = uuid_from(&mut cx.entropy);
        let arn = zoomvault_arn::map_run(&self.info.state_machine_arn, &label, &id);
        let child_machine_arn =
            zoomvault_arn::map_run_state_machine(&self.info.state_machine_arn, &label);
        let read = start.read.clone();
        let items = start.items.clone();
        // As AWS records it: MapStateStarted (with no length yet when an
        // ItemReader has still to read the items), then MapRunStarted; the
        // reader reads within the run, so its failure fails the run.
        let length = items.as_ref().map_or(0, Vec::len) as u64;
        let change = MapRunChange::Started {
            map_run_arn: arn.clone(),
            max_concurrency: start.max_concurrency,
            tolerated_failure_count: start.tolerated_count.unwrap_or(0),
            tolerated_failure_percentage: start.tolerated_percentage.unwrap_or(0.0),
            items: length,
        };
        self.event(
            run,
            EventType::MapStateStarted,
            Some(json!({ "length": length })),
            cx,
        );
        self.event(
            run,
            EventType::MapRunStarted,
            Some(json!({ "mapRunArn": arn })),
            cx,
        );
        cx.out.map_runs.push(change);
        let progress = MapRunProgress {
            arn,
            child_machine_arn,
            phase: Phase::Running,
            start,
            children: Vec::new(),
            child_arns: Vec::new(),
            outcomes: Vec::new(),
            results: Vec::new(),
            next: 0,
            active: BTreeMap::new(),
            total_items: 0,
            failed_items: 0,
            ending: None,
            planned: false,
            redrive_count: 0,
        };
        self.set_waiting(run, Waiting::MapRun(Box::new(progress)));
        match (items, read) {
            (Some(items), _) => self.items_ready(run, items, cx, work),
            (None, Some((bucket, object, max_items))) => {
                let Some((_, dist)) = self.map_spec(run) else {
                    return;
                };
                let Some(reader) = dist.item_reader.as_ref() else {
                    return;
                };
                let source = reader.source.clone();
                let resource = if source == ItemSource::Listing {
                    S3_LIST_OBJECTS_V2
                } else {
                    S3_GET_OBJECT
                };
                let key = self.key();
                self.tasks.insert(key, run);
                if let Some(p) = self.map_run_mut(run) {
                    p.phase = Phase::Reading(key);
                }
                cx.out.actions.push(Action::ReadItems(ReadItems {
                    key,
                    execution_arn: self.info.execution_arn.clone(),
                    resource,
                    source,
                    bucket,
                    object,
                    max_items,
                }));
            }
            (None, None) => {}
        }
    }

    /// The Map and distributed spec of the state `run` is in.
    fn map_spec(&self, run: RunId) -> Option<(&MapState, &Distributed)> {
        let r = self.runs.get(&run)?;
        let frame = r.frame.as_ref()?;
        match &self.compiled.machines[r.machine].state(&frame.state)?.kind {
            StateKind::Map(m) => m.distributed.as_deref().map(|d| (&**m, d)),
            _ => None,
        }
    }

    fn map_run_mut(&mut self, run: RunId) -> Option<&mut MapRunProgress> {
        match self.waiting_mut(run) {
            Some(Waiting::MapRun(p)) => Some(p),
            _ => None,
        }
    }

    /// Whether `run` is in a distributed Map (its tasks are the run's
    /// reader, children and writer).
    pub(super) fn in_map_run(&self, run: RunId) -> bool {
        matches!(self.waiting(run), Some(Waiting::MapRun(_)))
    }

    /// The items are known: select, batch, start the run.
    fn items_ready(&mut self, run: RunId, items: Vec<Value>, cx: &mut Ctx, work: &mut Vec<Work>) {
        let selector = self
            .map_spec(run)
            .and_then(|(m, _)| m.item_selector.clone());
        let total_items = items.len() as u64;
        let mut selected = Vec::with_capacity(items.len());
        match &selector {
            None => selected = items,
            Some(selector) => {
                let Some(cur) = self.current(run) else {
                    return;
                };
                let effective = match self.waiting(run) {
                    Some(Waiting::MapRun(p)) => p.start.effective.clone(),
                    _ => Value::Null,
                };
                // Built once: copying the execution's input into every
                // item's context would make a large Map quadratic.
                let mut context = self.context(run, None, ContextUse::Full);
                for (index, item) in items.into_iter().enumerate() {
                    context["Map"] = json!({ "Item": { "Index": index, "Value": item } });
                    let mut env = Env {
                        context: &context,
                        variables: &cur.variables,
                        entropy: &mut cx.entropy,
                    };
                    match lifecycle::item_input(selector, &effective, &mut env) {
                        Ok(v) => selected.push(v),
                        Err(failure) => {
                            self.end_map_run(run, Err(failure), cx, work);
                            return;
                        }
                    }
                }
            }
        }
        let Some(p) = self.map_run_mut(run) else {
            return;
        };
        p.children = match &p.start.batching {
            None => selected.into_iter().map(|v| (v, 1)).collect(),
            Some(b) => batch(selected, b),
        };
        let n = p.children.len();
        p.child_arns = vec![None; n];
        p.outcomes = vec![Outcome::Pending; n];
        p.results = vec![Value::Null; n];
        p.total_items = total_items;
        p.phase = Phase::Running;
        p.planned = true;
        cx.out.map_runs.push(MapRunChange::Planned {
            map_run_arn: p.arn.clone(),
            items: total_items,
            executions: n as u64,
        });
        if n == 0 {
            self.run_over(run, Ok(()), cx, work);
        } else {
            self.launch_children(run, cx);
        }
    }

    /// The parent was redriven: the Map Run `left` (what the attempt before
    /// left) runs again under its own ARN. Its succeeded children keep
    /// their results; the others are redriven (STANDARD: the same
    /// execution resumes where it stopped) or started again (EXPRESS, and
    /// children never started), under MaxConcurrency. The tolerated
    /// failure thresholds count this attempt's failures against all the
    /// run's items, as the inline Map's redrive does.
    fn redrive_map_run(
        &mut self,
        run: RunId,
        mut p: MapRunProgress,
        cx: &mut Ctx,
        work: &mut Vec<Work>,
    ) {
        p.redrive_count += 1;
        p.phase = Phase::Running;
        p.next = 0;
        p.active.clear();
        p.failed_items = 0;
        p.ending = None;
        for outcome in &mut p.outcomes {
            // Stopped with the attempt before: it did not succeed.
            if *outcome == Outcome::Running {
                *outcome = Outcome::Failed;
            }
        }
        let arn = p.arn.clone();
        let count = p.redrive_count;
        let length = p.total_items;
        let all_succeeded = p.outcomes.iter().all(|o| *o == Outcome::Succeeded);
        self.event(
            run,
            EventType::MapStateStarted,
            Some(json!({ "length": length })),
            cx,
        );
        self.event(
            run,
            EventType::MapRunRedriven,
            Some(json!({ "mapRunArn": arn, "redriveCount": count })),
            cx,
        );
        cx.out.map_runs.push(MapRunChange::Redriven {
            map_run_arn: arn,
            redrive_count: count,
        });
        self.set_waiting(run, Waiting::MapRun(Box::new(p)));
        if all_succeeded {
            // Only its ResultWriter (or the state after it) failed.
            self.run_over(run, Ok(()), cx, work);
        } else {
            self.launch_children(run, cx);
        }
    }

    /// Starts children while below MaxConcurrency (`0`: no limit),
    /// skipping those a redrive keeps.
    fn launch_children(&mut self, run: RunId, cx: &mut Ctx) {
        let Some((_, dist)) = self.map_spec(run) else {
            return;
        };
        let definition = dist.child_definition.clone();
        let execution_type = dist.execution_type;
        loop {
            let Some(p) = self.map_run_mut(run) else {
                return;
            };
            while p.outcomes.get(p.next) == Some(&Outcome::Succeeded) {
                p.next += 1;
            }
            let max = p.start.max_concurrency;
            if p.next >= p.children.len() || (max > 0 && p.active.len() as u64 >= max) {
                return;
            }
            let index = p.next;
            p.next += 1;
            let earlier = p.child_arns[index].clone();
            let key = self.key();
            self.tasks.insert(key, run);
            if let (Some(execution_arn), ChildExecutionType::Standard) = (&earlier, execution_type)
            {
                let Some(p) = self.map_run_mut(run) else {
                    return;
                };
                p.active.insert(key, index);
                p.outcomes[index] = Outcome::Running;
                cx.out.map_runs.push(MapRunChange::ChildRedriven {
                    execution_arn: execution_arn.clone(),
                    parent_key: key,
                });
                cx.out.actions.push(Action::RedriveChild(ChildRedrive {
                    key,
                    execution_arn: execution_arn.clone(),
                    map_run_arn: p.arn.clone(),
                }));
                continue;
            }
            let name = uuid_from(&mut cx.entropy);
            let Some(p) = self.map_run_mut(run) else {
                return;
            };
            if let Some(execution_arn) = earlier {
                cx.out
                    .map_runs
                    .push(MapRunChange::ChildReplaced { execution_arn });
            }
            let execution_arn = zoomvault_arn::execution(&p.child_machine_arn, &name);
            p.active.insert(key, index);
            p.outcomes[index] = Outcome::Running;
            p.child_arns[index] = Some(execution_arn.clone());
            let (input, items) = p.children[index].clone();
            cx.out.actions.push(Action::StartChild(ChildStart {
                key,
                execution_arn,
                name,
                state_machine_arn: p.child_machine_arn.clone(),
                definition: definition.clone(),
                input,
                map_run_arn: p.arn.clone(),
                items,
                execution_type,
            }));
        }
    }

    /// A task of the Map Run `run` is in ended: the reader, a child
    /// execution or the writer.
    pub(super) fn map_run_task_ended(
        &mut self,
        run: RunId,
        key: u64,
        outcome: Result<Value, Failure>,
        cx: &mut Ctx,
        work: &mut Vec<Work>,
    ) {
        let Some(p) = self.map_run_mut(run) else {
            return;
        };
        match p.phase {
            Phase::Reading(k) if k == key => match outcome {
                Ok(Value::Array(items)) => self.items_ready(run, items, cx, work),
                Ok(_) => self.reader_failed(
                    run,
                    Failure::new(
                        names::ITEM_READER_FAILED,
                        "The item reader returned no items",
                    ),
                    cx,
                    work,
                ),
                Err(failure) => self.reader_failed(run, failure, cx, work),
            },
            Phase::Writing(k) if k == key => {
                let ending = p.ending.take();
                let arn = p.arn.clone();
                let writer = p.start.writer.clone();
                let outcome = match (outcome, ending) {
                    (Err(failure), _) => Err(failure),
                    (Ok(_), Some(Err(failure))) => Err(failure),
                    (Ok(_), _) => {
                        let (bucket, prefix) = writer.unwrap_or_default();
                        Ok(json!({
                            "MapRunArn": arn,
                            "ResultWriterDetails": {
                                "Bucket": bucket,
                                "Key": result_key(&prefix, &arn, "manifest.json"),
                            }
                        }))
                    }
                };
                self.end_map_run(run, outcome, cx, work);
            }
            Phase::Running => {
                let Some(index) = p.active.remove(&key) else {
                    return;
                };
                let items = p.children[index].1;
                match outcome {
                    Ok(output) => {
                        p.outcomes[index] = Outcome::Succeeded;
                        p.results[index] = output;
                    }
                    Err(_) => {
                        p.outcomes[index] = Outcome::Failed;
                        p.failed_items += items;
                    }
                }
                let over = body::exceeds_tolerance(
                    p.failed_items,
                    p.total_items,
                    p.start.tolerated_percentage,
                    p.start.tolerated_count,
                );
                let all_done = p.active.is_empty() && p.next >= p.children.len();
                if over {
                    self.run_over(
                        run,
                        Err(Failure::new(
                            names::EXCEED_TOLERATED_FAILURE_THRESHOLD,
                            "The specified tolerated failure threshold was exceeded",
                        )),
                        cx,
                        work,
                    );
                } else if all_done {
                    self.run_over(run, Ok(()), cx, work);
                } else {
                    self.launch_children(run, cx);
                }
            }
            _ => {}
        }
    }

    fn reader_failed(&mut self, run: RunId, failure: Failure, cx: &mut Ctx, work: &mut Vec<Work>) {
        self.end_map_run(run, Err(failure), cx, work);
    }

    /// No more children will run: on success or past the tolerance. The
    /// children still running are stopped; the ResultWriter, if any, then
    /// writes before the state goes on.
    fn run_over(
        &mut self,
        run: RunId,
        ended: Result<(), Failure>,
        cx: &mut Ctx,
        work: &mut Vec<Work>,
    ) {
        let stops = self.stop_children_of(run);
        cx.out.actions.extend(stops);
        let Some(p) = self.map_run_mut(run) else {
            return;
        };
        let ending = ended.map(|()| Value::Array(std::mem::take(&mut p.results)));
        let Some((bucket, prefix)) = p.start.writer.clone() else {
            self.end_map_run(run, ending, cx, work);
            return;
        };
        let children: Vec<String> = p.child_arns.iter().flatten().cloned().collect();
        let pending: Vec<Value> = p
            .outcomes
            .iter()
            .zip(&p.children)
            .filter(|(o, _)| **o == Outcome::Pending)
            .map(|(_, (input, _))| input.clone())
            .collect();
        p.ending = Some(ending);
        let map_run_arn = p.arn.clone();
        let key = self.key();
        self.tasks.insert(key, run);
        if let Some(p) = self.map_run_mut(run) {
            p.phase = Phase::Writing(key);
        }
        cx.out.actions.push(Action::WriteResults(WriteResults {
            key,
            execution_arn: self.info.execution_arn.clone(),
            map_run_arn,
            bucket,
            prefix,
            children,
            pending,
        }));
    }

    /// Stops the children of the Map Run `run` is in that still run.
    fn stop_children_of(&mut self, run: RunId) -> Vec<Action> {
        let Some(p) = self.map_run_mut(run) else {
            return Vec::new();
        };
        let active: Vec<(u64, usize)> = std::mem::take(&mut p.active).into_iter().collect();
        let mut arns = Vec::new();
        for &(_, index) in &active {
            if let Some(arn) = p.child_arns[index].clone() {
                arns.push(arn);
            }
            p.outcomes[index] = Outcome::Failed;
        }
        for (key, _) in active {
            self.tasks.remove(&key);
        }
        arns.into_iter()
            .map(|execution_arn| Action::StopChild { execution_arn })
            .collect()
    }

    fn end_map_run(
        &mut self,
        run: RunId,
        outcome: Result<Value, Failure>,
        cx: &mut Ctx,
        work: &mut Vec<Work>,
    ) {
        let progress = match self.take_waiting(run) {
            Some(Waiting::MapRun(p)) => p,
            _ => return,
        };
        let arn = progress.arn.clone();
        match outcome {
            Ok(output) => {
                self.event(run, EventType::MapRunSucceeded, None, cx);
                cx.out.map_runs.push(MapRunChange::Ended {
                    map_run_arn: arn,
                    status: "SUCCEEDED",
                });
                self.event(run, EventType::MapStateSucceeded, None, cx);
                self.state_result(run, output, cx, work);
            }
            Err(failure) => {
                self.event(
                    run,
                    EventType::MapRunFailed,
                    Some(json!({ "error": failure.error, "cause": failure.cause })),
                    cx,
                );
                cx.out.map_runs.push(MapRunChange::Ended {
                    map_run_arn: arn,
                    status: "FAILED",
                });
                self.event(run, EventType::MapStateFailed, None, cx);
                self.keep_for_redrive(run, progress);
                work.push(Work::Fail { run, failure });
            }
        }
    }

    /// `run` is being aborted (the execution ends, or a sibling failed):
    /// the Map Run it is in is aborted and its children stopped. What this
    /// causes waits in `deferred` until the fact's apply is over.
    pub(super) fn abort_map_run(&mut self, run: RunId) {
        if !self.in_map_run(run) {
            return;
        }
        let stops = self.stop_children_of(run);
        self.deferred.actions.extend(stops);
        if let Some(Waiting::MapRun(p)) = self.take_waiting(run) {
            self.deferred.map_runs.push(MapRunChange::Ended {
                map_run_arn: p.arn.clone(),
                status: "ABORTED",
            });
            self.keep_for_redrive(run, p);
        }
    }

    /// A Map Run that did not succeed is left in its state for a redrive
    /// (`Unfinished::map_run`), once its items are known; a Retry or Catch
    /// of the state moves on and drops it, as for an inline Map.
    fn keep_for_redrive(&mut self, run: RunId, progress: Box<MapRunProgress>) {
        if progress.planned {
            self.set_waiting(
                run,
                Waiting::Unfinished(Box::new(Unfinished {
                    outputs: Vec::new(),
                    succeeded: Vec::new(),
                    stopped: FxHashMap::default(),
                    map_run: Some(progress),
                })),
            );
        }
    }

    /// UpdateMapRun: the running Map Run's concurrency and tolerance change.
    pub(super) fn update_map_run(&mut self, update: &MapRunUpdate, cx: &mut Ctx) {
        let run = self.runs.iter().find_map(|(id, r)| match r.frame.as_ref() {
            Some(Frame {
                waiting: Waiting::MapRun(p),
                ..
            }) if p.arn == update.map_run_arn => Some(*id),
            _ => None,
        });
        let Some(run) = run else {
            return;
        };
        let Some(p) = self.map_run_mut(run) else {
            return;
        };
        if let Some(m) = update.max_concurrency {
            p.start.max_concurrency = m;
        }
        if let Some(c) = update.tolerated_failure_count {
            p.start.tolerated_count = Some(c);
        }
        if let Some(pct) = update.tolerated_failure_percentage {
            p.start.tolerated_percentage = Some(pct);
        }
        cx.out.map_runs.push(MapRunChange::Updated {
            map_run_arn: p.arn.clone(),
            max_concurrency: p.start.max_concurrency,
            tolerated_failure_count: p.start.tolerated_count.unwrap_or(0),
            tolerated_failure_percentage: p.start.tolerated_percentage.unwrap_or(0.0),
        });
        if p.phase == Phase::Running {
            self.launch_children(run, cx);
        }
    }

    /// The Map Runs running in this execution, by ARN.
    pub fn running_map_runs(&self) -> Vec<String> {
        self.runs
            .values()
            .filter_map(|r| match r.frame.as_ref() {
                Some(Frame {
                    waiting: Waiting::MapRun(p),
                    ..
                }) => Some(p.arn.clone()),
                _ => None,
            })
            .collect()
    }
}

/// Where the ResultWriter puts a file of the run `map_run_arn`:
/// `<Prefix>/<map run id>/<file>`, the prefix taken as a folder.
pub fn result_key(prefix: &str, map_run_arn: &str, file: &str) -> String {
    let id = map_run_arn.rsplit(':').next().unwrap_or_default();
    if prefix.is_empty() {
        format!("{id}/{file}")
    } else if prefix.ends_with('/') {
        format!("{prefix}{id}/{file}")
    } else {
        format!("{prefix}/{id}/{file}")
    }
}
