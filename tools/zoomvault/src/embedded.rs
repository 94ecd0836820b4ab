//! The embedded deployment wired together: the engine with the ingest steps
//! registered under their Lambda names and `state-machine/ingest.asl.json`
//! installed, the directory object store, the SQLite index and event queue,
//! and two loops for the caller to spawn (`serve`'s runner does): the site
//! builder that consumes rebuild events and the sweeper of the store's
//! abandoned staging. Executions are started through the engine's Step
//! Functions endpoint (see `serve`), not from here. The engine also runs
//! Step Functions' service integrations (`zoomvault-integrations`):
//! `events:putEvents` to the event queue (or EventBridge), `aws-sdk:s3` on
//! the archive's store, `dynamodb:*` on a configured endpoint, and nested
//! executions on this engine. Glue only: each piece's logic lives in its
//! crate.

use anyhow::Context;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Arc;
use zoomvault_archive::local::{DirObjectStore, LocalEventSink, SqliteIndex};
use zoomvault_archive::ports::{ArchiveEvent, ObjectStore};
use zoomvault_archive::steps::{self, IngestConfig, StepContext, StepError};
use zoomvault_asl::Failure;
use zoomvault_engine::{Engine, EngineConfig, Handlers, TaskRequest};
use zoomvault_integrations::dynamodb::{LocalTable, TableTarget};
use zoomvault_integrations::events::EventTarget;
use zoomvault_integrations::s3::Buckets;
use zoomvault_integrations::states::NestedExecutions;
use zoomvault_integrations::Services;
use zoomvault_site::{SiteConfig, SiteRecording};
use zoomvault_zoom::{ZoomClient, ZoomConfig};

/// The ingest state machine, compiled into the binary so the embedded
/// default runs exactly the file AWS deploys.
pub const INGEST_DEFINITION: &str = include_str!("../../../state-machine/ingest.asl.json");
pub const INGEST_STATE_MACHINE: &str = "zoomvault-ingest";

#[derive(Debug, Clone)]
pub struct EmbeddedConfig {
    pub data_dir: PathBuf,
    /// Where recordings are archived: `None` for the directory store under
    /// `data_dir/store`, or another store (an S3 bucket; see
    /// `serve::store`).
    pub store: Option<Arc<dyn ObjectStore>>,
    pub zoom: ZoomConfig,
    pub ingest: IngestConfig,
    pub site_title: String,
    pub max_concurrent_tasks: usize,
    /// How long closed executions stay in the journal (`None`: forever).
    pub journal_retention: Option<std::time::Duration>,
    /// Whether a commit is on disk before it returns (the default).
    pub journal_sync: zoomvault_engine::Durability,
    /// The buckets of distributed Maps (ItemReader, ResultWriter): `None`
    /// for a directory per bucket under `data_dir/buckets` (see
    /// `map_buckets`).
    pub map_buckets: Option<Arc<dyn zoomvault_engine::ObjectStore>>,
    /// Where the service integrations go beyond the local adapters.
    pub integrations: IntegrationEndpoints,
}

/// The bucket name `aws-sdk:s3` tasks reach the archive's directory
/// store by (an S3 archive answers to its own bucket's name).
pub const LOCAL_ARCHIVE_BUCKET: &str = "zoomvault-archive";

/// The table name `dynamodb:*` tasks reach the recording index by when no
/// DynamoDB endpoint is configured.
pub const LOCAL_INDEX_TABLE: &str = "zoomvault-recordings";

/// The AWS endpoints the service integrations use instead of the local
/// adapters; each `None` by default.
#[derive(Debug, Clone, Default)]
pub struct IntegrationEndpoints {
    /// `events:putEvents` goes to EventBridge here instead of the local
    /// event queue.
    pub eventbridge: Option<aws_sdk_eventbridge::Client>,
    /// `dynamodb:*` tasks call DynamoDB here; without it they reach the
    /// recording index as the table [`LOCAL_INDEX_TABLE`]
    /// (`zoomvault_integrations::dynamodb`).
    pub dynamodb: Option<aws_sdk_dynamodb::Client>,
    /// The bucket name `aws-sdk:s3` tasks reach the archive's store by
    /// (`None`: [`LOCAL_ARCHIVE_BUCKET`]).
    pub archive_bucket: Option<String>,
}

/// Everything `zoomvault serve` runs, opened on one data directory:
/// `engine.db`, `store/` (the objects under `store/objects/`, unless the
/// archive is configured elsewhere), `index.db`, `events.db`, `site/` (the
/// live build behind the `site/current` link).
#[derive(Debug, Clone)]
pub struct Embedded {
    pub engine: Engine,
    pub state_machine_arn: String,
    /// Where recordings are archived.
    pub store: Arc<dyn ObjectStore>,
    /// The directory store, when that is the archive.
    pub dir_store: Option<Arc<DirObjectStore>>,
    pub index: Arc<SqliteIndex>,
    pub events: Arc<LocalEventSink>,
    pub site: SiteConfig,
}

/// A data directory's archive storage, opened the one way every process
/// on it opens it (`serve`, and the operators' commands beside it): the
/// object store (`store/`, unless another is given), `index.db` and the
/// event queue `events.db`.
#[derive(Debug, Clone)]
pub struct Storage {
    pub store: Arc<dyn ObjectStore>,
    /// The directory store, when that is the archive.
    pub dir_store: Option<Arc<DirObjectStore>>,
    pub index: Arc<SqliteIndex>,
    pub events: Arc<LocalEventSink>,
}

impl Storage {
    /// Opens the storage in the existing directory `dir`; `store`, when
    /// given, is the archive instead of `dir/store`.
    pub fn open(
        dir: &std::path::Path,
        store: Option<Arc<dyn ObjectStore>>,
    ) -> anyhow::Result<Storage> {
        let (store, dir_store): (Arc<dyn ObjectStore>, _) = match store {
            Some(store) => (store, None),
            None => {
                let dir_store =
                    Arc::new(DirObjectStore::open(dir.join("store")).with_context(|| {
                        format!("opening the object store in {}", dir.display())
                    })?);
                (dir_store.clone(), Some(dir_store))
            }
        };
        let index = Arc::new(SqliteIndex::open(dir.join("index.db")).context("opening index.db")?);
        let events =
            Arc::new(LocalEventSink::open(dir.join("events.db")).context("opening events.db")?);
        Ok(Storage {
            store,
            dir_store,
            index,
            events,
        })
    }
}

impl Embedded {
    /// Opens (or creates) the data directory and recovers any executions a
    /// crash interrupted. Must run inside a tokio runtime.
    pub fn open(config: EmbeddedConfig) -> anyhow::Result<Embedded> {
        let dir = &config.data_dir;
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let Storage {
            store,
            dir_store,
            index,
            events,
        } = Storage::open(dir, config.store.clone())?;
        let zoom = ZoomClient::new(config.zoom.clone()).context("configuring the Zoom client")?;
        let context = Arc::new(StepContext {
            zoom,
            store: store.clone(),
            index: index.clone(),
            events: events.clone(),
            config: config.ingest.clone(),
        });
        let mut engine_config = EngineConfig::new(dir.join("engine.db"));
        engine_config.max_concurrent_tasks = config.max_concurrent_tasks;
        engine_config.retention = config.journal_retention;
        engine_config.durability = config.journal_sync;
        engine_config.objects = config.map_buckets.clone().unwrap_or_else(|| {
            Arc::new(crate::map_buckets::MapBuckets::directory(
                dir.join("buckets"),
            ))
        });
        let mut handlers = step_handlers(context);
        let executions = NestedExecutions::new();
        zoomvault_integrations::register(
            &mut handlers,
            &integration_services(&config.integrations, &store, &index, &events, &executions),
        );
        let engine = Engine::open(engine_config, handlers)
            .context("opening the engine journal (engine.db)")?;
        executions.attach(&engine);
        let machine = engine
            .upsert_state_machine(INGEST_STATE_MACHINE, INGEST_DEFINITION)
            .context("installing state-machine/ingest.asl.json")?;
        Ok(Embedded {
            engine,
            state_machine_arn: machine.arn,
            store,
            dir_store,
            index,
            events,
            site: SiteConfig {
                root: dir.join("site"),
                title: config.site_title,
            },
        })
    }

    /// Where the directory store keeps an object's bytes; `None` when the
    /// archive is elsewhere.
    pub fn object_path(&self, key: &str) -> Option<PathBuf> {
        let dir = self.dir_store.as_ref()?;
        Some(dir.root().join("objects").join(key))
    }

    /// The live site directory.
    pub fn site_dir(&self) -> PathBuf {
        self.site.root.join("current")
    }

    /// Rebuilds the site from the index and the documents it points at.
    pub async fn rebuild_site(&self) -> anyhow::Result<usize> {
        let documents = zoomvault_archive::listing::archived_documents(
            self.index.as_ref(),
            self.store.as_ref(),
        )
        .await?;
        let recordings = documents
            .iter()
            .map(|d| SiteRecording::from_document(d, &|key| format!("/files/{key}")))
            .collect::<Result<Vec<_>, _>>()?;
        let site = self.site.clone();
        let built = tokio::task::spawn_blocking(move || zoomvault_site::build(&site, &recordings))
            .await
            .context("site builder panicked")??;
        Ok(built.recordings)
    }

    /// Removes what crashed writers left in the object store's staging
    /// (temp files of processes that are gone, so a restart after a crash
    /// clears the crashed process's at once; other temp files and uploads
    /// untouched for a day, where a live ingest touches its upload with
    /// every part), at start and then hourly, for as long as the process
    /// runs.
    pub async fn run_store_sweeper(self) {
        let Some(dir_store) = self.dir_store.clone() else {
            // Another store cleans up after itself (S3: the bucket's
            // lifecycle rule aborts stray uploads).
            return;
        };
        const ABANDONED_AFTER: std::time::Duration = std::time::Duration::from_secs(24 * 3600);
        let mut every_hour = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            every_hour.tick().await;
            match dir_store.sweep_abandoned(ABANDONED_AFTER).await {
                Ok(report) if report.temp_entries + report.uploads > 0 => tracing::info!(
                    temp_entries = report.temp_entries,
                    uploads = report.uploads,
                    "removed abandoned staging from the object store"
                ),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "sweeping the object store's staging failed"),
            }
        }
    }

    /// Consumes site-rebuild events for as long as the process runs: one
    /// rebuild per batch of events, acknowledged only after it succeeded,
    /// so a crash mid-build rebuilds again on restart.
    pub async fn run_site_builder(self) {
        loop {
            let batch = match self.events.next_batch(1000).await {
                Ok(batch) => batch,
                Err(e) => {
                    tracing::error!(error = %e, "reading site events failed");
                    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
                    continue;
                }
            };
            let Some(last) = batch.last().map(|e| e.seq) else {
                continue;
            };
            let wanted = batch
                .iter()
                .any(|e| matches!(e.event, ArchiveEvent::SiteRebuildRequested { .. }));
            if wanted {
                match self.rebuild_site().await {
                    Ok(n) => tracing::info!(recordings = n, "site rebuilt"),
                    Err(e) => {
                        tracing::error!(error = %e, "site rebuild failed; will retry");
                        tokio::time::sleep(std::time::Duration::from_secs(5)).await;
                        continue;
                    }
                }
            }
            if let Err(e) = self.events.ack(last).await {
                tracing::error!(error = %e, "acknowledging site events failed");
            }
        }
    }
}

/// The service integrations' targets: the local adapters, unless an
/// endpoint is configured.
fn integration_services(
    endpoints: &IntegrationEndpoints,
    store: &Arc<dyn ObjectStore>,
    index: &Arc<SqliteIndex>,
    events: &Arc<LocalEventSink>,
    executions: &NestedExecutions,
) -> Services {
    let events = match &endpoints.eventbridge {
        Some(client) => EventTarget::EventBridge(client.clone()),
        None => EventTarget::Local(events.clone()),
    };
    let bucket = endpoints
        .archive_bucket
        .clone()
        .unwrap_or_else(|| LOCAL_ARCHIVE_BUCKET.to_owned());
    Services {
        events,
        dynamodb: match &endpoints.dynamodb {
            Some(client) => TableTarget::Endpoint(client.clone()),
            None => TableTarget::Local(LocalTable {
                table: LOCAL_INDEX_TABLE.to_owned(),
                index: index.clone(),
            }),
        },
        buckets: Buckets::new([(bucket, store.clone())]),
        executions: executions.clone(),
    }
}

/// The ingest steps as engine task handlers, under the Lambda function
/// names the state machine calls.
fn step_handlers(context: Arc<StepContext>) -> Handlers {
    let mut handlers = Handlers::new();
    register(
        &mut handlers,
        steps::INGEST_METADATA,
        &context,
        |c, input| Box::pin(async move { steps::ingest_metadata(&c, input).await }),
    );
    register(&mut handlers, steps::RETRIEVE_FILE, &context, |c, input| {
        Box::pin(async move { steps::retrieve_file(&c, input).await })
    });
    register(&mut handlers, steps::BEGIN_FILE, &context, |c, input| {
        Box::pin(async move { steps::begin_file(&c, input).await })
    });
    register(
        &mut handlers,
        steps::RETRIEVE_PARTS,
        &context,
        |c, input| Box::pin(async move { steps::retrieve_parts(&c, input).await }),
    );
    register(&mut handlers, steps::COMPLETE_FILE, &context, |c, input| {
        Box::pin(async move { steps::complete_file(&c, input).await })
    });
    register(&mut handlers, steps::FINALIZE, &context, |c, input| {
        Box::pin(async move { steps::finalize(&c, input).await })
    });
    register(
        &mut handlers,
        steps::RECORD_FAILURE,
        &context,
        |c, input| Box::pin(async move { steps::record_failure(&c, input).await }),
    );
    handlers
}

type StepFuture =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<Value, StepError>> + Send>>;

fn register(
    handlers: &mut Handlers,
    name: &str,
    context: &Arc<StepContext>,
    step: fn(Arc<StepContext>, Value) -> StepFuture,
) {
    let context = context.clone();
    handlers.register(name, move |request: TaskRequest| {
        let future = step(context.clone(), request.input);
        async move { future.await.map_err(|e| Failure::new(e.name, e.cause)) }
    });
}
