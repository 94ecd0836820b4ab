//! Purging recordings past their retention (`zoomvault purge`, the
//! `purge-recordings` function, run on a schedule): the policy that says
//! how long recordings are kept, the walk that finds the recordings it
//! makes due, and the disposal of each one, recorded first in a log that is
//! never purged.
//!
//! **Policy.** A [`RetentionPolicy`] has a default rule and rules for
//! single hosts, each keeping recordings some days after they started, or
//! forever; a host's own rule wins over the default (hosts are matched by
//! email, ignoring ASCII case), and without a default rule recordings are
//! kept forever, so an empty policy purges nothing and reads nothing. A
//! policy is checked as it is built or read, every problem named by its
//! JSON pointer (a rule of 0 days, a host named twice). A recording is due
//! when it started more than its rule's days of 24 hours before `now`,
//! which the caller passes in ([`PurgeOptions::now`]), so a dry run and the
//! real run after it judge alike.
//!
//! **Legal hold.** A document's `legal_hold` wins over every rule: a held
//! recording is never purged, only named in the report. An operator places
//! or lifts a hold by editing the document (`operations::reindex`).
//!
//! **The walk.** The index is walked newest first from the latest cut-off
//! of any rule (the shortest retention), a page at a time. Each entry is
//! judged first by the index's own summary, so a recording not yet due
//! costs no read; a due one has its document read, since the document is
//! the truth (its hold, its host, its files), and is judged again on it. A
//! document the index does not know is not seen, so run `rebuild` first if
//! the index is in doubt.
//!
//! **A disposal**, in this order: the disposition record is written (the
//! commit point); the files the document names are deleted, then every
//! other object under the recording's own prefix (the Zoom event and
//! metadata an ingest keeps beside the files), then `recording.json`, and
//! last the index entry. Nothing outside the recording's prefix is ever
//! deleted; the disposition records live under `dispositions/`, which no
//! recording's prefix reaches.
//!
//! **Crashes.** The record's key depends only on the recording and the
//! ingest that archived it ([`RecordingKeys::disposition`]), never on when
//! the purge ran, so an archived copy has at most one record (a recording
//! archived again after its purge is a new copy, with a record of its
//! own). A run that finds the record of a purge it did not finish (the
//! index entry is deleted last, so the walk finds it again) completes the
//! deletes under the rule the record names and leaves the record as it
//! was. The one thing that stops a begun purge is a legal hold placed
//! since: nothing more is deleted, and the recording is reported as
//! failed, for a person to settle. Runs are not meant to overlap; if two
//! do, a recording still has one record (the later writer's).
//!
//! **Refusals.** Nothing is deleted blindly: a recording whose document is
//! missing (and no record says a purge deleted it), unreadable, not where
//! its index entry says, or from another ingest than the entry, is
//! reported as failed and left alone, since only its document can say
//! whether it is held and what it holds. An index entry without a document
//! is `rebuild`'s to remove.
//!
//! A dry run reads and judges exactly as a real run, and writes and
//! deletes nothing. A real run that purged anything asks once for a site
//! rebuild ([`RebuildReason::RecordingPurged`]). A run stops between pages
//! once its deadline has passed; the next run goes on, since what was
//! purged is gone from the index and the rest is judged again.

use std::collections::hash_map::{Entry, HashMap};
use std::fmt;
use std::time::Instant;

use bytes::Bytes;
use futures_util::StreamExt;
use serde::{Deserialize, Deserializer, Serialize};
use time::{Duration, OffsetDateTime};

use crate::checksum::Crc64Nvme;
use crate::document::{LegalHold, RecordingDocument};
use crate::keys::RecordingKeys;
use crate::ports::{
    events, index, object_store, ArchiveEvent, EventSink, IndexEntry, ListFilter, ListQuery,
    ObjectMeta, ObjectStore, RebuildReason, RecordingIndex,
};

/// How many recordings of each kind (purged, held, failed) a report names;
/// the rest are only counted.
pub const MAX_NAMED: usize = 1_000;

/// The version of [`DispositionRecord`] this crate writes.
pub const DISPOSITION_VERSION: u32 = 1;

/// Index entries judged per page; the deadline is checked between pages.
const PAGE: usize = 100;

/// Recordings judged and disposed of at once within a page.
const CONCURRENCY: usize = 8;

/// How long a rule keeps recordings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Keep {
    /// This many days of 24 hours after the recording started; at least 1.
    /// In JSON, `{"days": 2555}`.
    Days(u32),
    /// Never purged by age. In JSON, `"forever"`.
    Forever,
}

/// The rule for one host's recordings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostRule {
    /// The host's email, as the document's `host.email`, compared ignoring
    /// ASCII case.
    pub host_email: String,
    pub keep: Keep,
}

/// How long recordings are kept: checked whenever it is built or read, so
/// a value of this type is always valid. In JSON:
///
/// ```json
/// {"default": {"days": 2555},
///  "hosts": [{"host_email": "dean@example.edu", "keep": "forever"},
///            {"host_email": "ta@example.edu", "keep": {"days": 365}}]}
/// ```
///
/// `default` may be left out (kept forever), and so may `hosts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RetentionPolicy {
    default: Keep,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    hosts: Vec<HostRule>,
}

/// A policy's fields as read, before they are checked.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFields {
    #[serde(default = "keep_forever")]
    default: Keep,
    #[serde(default)]
    hosts: Vec<HostRule>,
}

fn keep_forever() -> Keep {
    Keep::Forever
}

/// Why a retention policy was refused.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("retention policy is not JSON of a policy's shape: {0}")]
    Json(#[source] serde_json::Error),
    #[error("retention policy is invalid:{}", ProblemList(.0))]
    Invalid(Vec<PolicyProblem>),
}

/// One problem with a policy, located by a JSON pointer into it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyProblem {
    pub pointer: String,
    pub message: String,
}

impl fmt::Display for PolicyProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.pointer, self.message)
    }
}

struct ProblemList<'a>(&'a [PolicyProblem]);

impl fmt::Display for ProblemList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for problem in self.0 {
            write!(f, "\n  {problem}")?;
        }
        Ok(())
    }
}

impl RetentionPolicy {
    /// A policy from its rules, checked: every rule keeps at least a day,
    /// and each host is named once, by an email address.
    pub fn new(default: Keep, hosts: Vec<HostRule>) -> Result<RetentionPolicy, PolicyError> {
        let mut problems = Vec::new();
        let mut problem = |pointer: String, message: String| {
            problems.push(PolicyProblem { pointer, message });
        };
        if default == Keep::Days(0) {
            problem("/default/days".into(), DAYS_ZERO.into());
        }
        let mut first_rule: HashMap<String, usize> = HashMap::new();
        for (at, rule) in hosts.iter().enumerate() {
            let email = &rule.host_email;
            let pointer = format!("/hosts/{at}/host_email");
            if email.is_empty() {
                problem(pointer, "is empty".into());
            } else if email.trim() != email {
                problem(pointer, format!("{email:?} has white space around it"));
            } else if !email.contains('@') {
                problem(pointer, format!("{email:?} is not an email address"));
            } else {
                match first_rule.entry(email.to_ascii_lowercase()) {
                    Entry::Occupied(first) => problem(
                        pointer,
                        format!(
                            "{email:?} is the host of /hosts/{}/host_email already \
                             (emails are compared ignoring case); a host has one rule",
                            first.get()
                        ),
                    ),
                    Entry::Vacant(slot) => {
                        slot.insert(at);
                    }
                }
            }
            if rule.keep == Keep::Days(0) {
                problem(format!("/hosts/{at}/keep/days"), DAYS_ZERO.into());
            }
        }
        if problems.is_empty() {
            Ok(RetentionPolicy { default, hosts })
        } else {
            Err(PolicyError::Invalid(problems))
        }
    }

    /// A policy from its settings as text, as flags, environment variables
    /// and the config file give them: the default rule (`2555` days, or
    /// `forever`; none: forever) and host rules as `EMAIL=DAYS` or
    /// `EMAIL=forever`. Errors name the setting and the rule.
    pub fn from_settings(
        default: Option<&str>,
        hosts: &[String],
    ) -> Result<RetentionPolicy, String> {
        fn keep(text: &str) -> Result<Keep, String> {
            let text = text.trim();
            if text == "forever" {
                return Ok(Keep::Forever);
            }
            text.strip_suffix('d')
                .unwrap_or(text)
                .parse()
                .map(Keep::Days)
                .map_err(|_| format!("{text:?} is neither a number of days nor forever"))
        }
        let default = match default {
            Some(text) => keep(text).map_err(|e| format!("retention_days: {e}"))?,
            None => Keep::Forever,
        };
        let hosts = hosts
            .iter()
            .map(|rule| {
                let (email, days) = rule.rsplit_once('=').ok_or_else(|| {
                    format!("retention_hosts: {rule:?} is not EMAIL=DAYS or EMAIL=forever")
                })?;
                Ok(HostRule {
                    host_email: email.to_owned(),
                    keep: keep(days).map_err(|e| format!("retention_hosts: {rule:?}: {e}"))?,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        RetentionPolicy::new(default, hosts).map_err(|e| e.to_string())
    }

    /// Whether it can purge anything (some rule is not `forever`).
    pub fn purges(&self) -> bool {
        self.default != Keep::Forever || self.hosts.iter().any(|h| h.keep != Keep::Forever)
    }

    /// Reads and checks a policy's JSON.
    pub fn from_json(bytes: &[u8]) -> Result<RetentionPolicy, PolicyError> {
        let fields: PolicyFields = serde_json::from_slice(bytes).map_err(PolicyError::Json)?;
        RetentionPolicy::new(fields.default, fields.hosts)
    }

    /// The rule for recordings of hosts without their own.
    pub fn default_keep(&self) -> Keep {
        self.default
    }

    pub fn hosts(&self) -> &[HostRule] {
        &self.hosts
    }

    /// The rule that decides for a recording hosted by `host_email`: the
    /// host's own if it has one, else the default.
    fn rule_for(&self, host_email: Option<&str>) -> Rule<'_> {
        host_email
            .and_then(|email| {
                self.hosts
                    .iter()
                    .find(|rule| rule.host_email.eq_ignore_ascii_case(email))
            })
            .map_or(
                Rule {
                    host_email: None,
                    keep: self.default,
                },
                |rule| Rule {
                    host_email: Some(&rule.host_email),
                    keep: rule.keep,
                },
            )
    }

    /// The latest cut-off of any rule at `now`: only recordings that
    /// started before it can be due. `None` when every rule keeps forever.
    fn walk_cutoff(&self, now: OffsetDateTime) -> Option<OffsetDateTime> {
        std::iter::once(self.default)
            .chain(self.hosts.iter().map(|rule| rule.keep))
            .filter_map(|keep| cutoff(keep, now))
            .max()
    }
}

impl<'de> Deserialize<'de> for RetentionPolicy {
    /// Reads a policy and checks it, so no unchecked policy exists.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<RetentionPolicy, D::Error> {
        let fields = PolicyFields::deserialize(deserializer)?;
        RetentionPolicy::new(fields.default, fields.hosts).map_err(serde::de::Error::custom)
    }
}

const DAYS_ZERO: &str = "must be at least 1 (to keep recordings, say \"forever\")";

/// `now` less `keep`'s days: recordings that started before it are due.
/// `None` for [`Keep::Forever`], and for an age reaching before the
/// earliest time there is (nothing is that old).
fn cutoff(keep: Keep, now: OffsetDateTime) -> Option<OffsetDateTime> {
    match keep {
        Keep::Days(days) => now.checked_sub(Duration::days(i64::from(days))),
        Keep::Forever => None,
    }
}

/// The rule that applies to one recording.
#[derive(Debug, Clone, Copy)]
struct Rule<'a> {
    host_email: Option<&'a str>,
    keep: Keep,
}

impl Rule<'_> {
    /// The rule as reports and records name it, if it makes a recording
    /// that started at `start_time` due at `now`.
    fn due(&self, start_time: OffsetDateTime, now: OffsetDateTime) -> Option<AppliedRule> {
        let Keep::Days(days) = self.keep else {
            return None;
        };
        let cutoff = cutoff(self.keep, now)?;
        (start_time < cutoff).then(|| AppliedRule {
            host_email: self.host_email.map(str::to_owned),
            days,
            cutoff,
        })
    }
}

/// The rule that made a recording due, as a report and a disposition
/// record name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppliedRule {
    /// The host rule's email as the policy writes it; absent for the
    /// default rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_email: Option<String>,
    /// The days the rule keeps a recording.
    pub days: u32,
    /// The run's `now` less those days: the recording started before it.
    #[serde(with = "time::serde::rfc3339")]
    pub cutoff: OffsetDateTime,
}

/// A purge as the `purge-recordings` function takes it: `{}`, or
/// `{"dry_run": true}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PurgeRequest {
    #[serde(default)]
    pub dry_run: bool,
}

impl PurgeRequest {
    /// Reads a request, naming what is wrong.
    pub fn parse(payload: &serde_json::Value) -> Result<PurgeRequest, String> {
        if !payload.is_object() {
            return Err(format!(
                "a purge takes {{}} or {{\"dry_run\": true}}, not {payload}"
            ));
        }
        serde_json::from_value(payload.clone())
            .map_err(|e| format!("a purge takes {{}} or {{\"dry_run\": true}}: {e}"))
    }
}

/// What a purge run is told.
#[derive(Debug, Clone)]
pub struct PurgeOptions {
    /// The instant ages are measured to, and the time each disposition
    /// record gives its purge.
    pub now: OffsetDateTime,
    /// Judge and report only: write and delete nothing.
    pub dry_run: bool,
    /// Who runs the purge, written in each disposition record (the
    /// command and host, a function's request id).
    pub purged_by: String,
    /// Stop between pages once this instant has passed (a Lambda's 15
    /// minutes); the report then says the run is not complete.
    pub deadline: Option<Instant>,
}

/// One entry of the disposition log, at [`RecordingKeys::disposition`]:
/// what was purged, when, by whom and under which rule. Written before
/// anything of the recording is deleted and never changed or deleted
/// afterwards. It names the recording and its objects, not its
/// participants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DispositionRecord {
    /// [`DISPOSITION_VERSION`].
    pub disposition_version: u32,
    pub recording_uuid: String,
    pub meeting_id: u64,
    pub topic: String,
    #[serde(with = "time::serde::rfc3339")]
    pub start_time: OffsetDateTime,
    pub host_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_email: Option<String>,
    pub document_key: String,
    /// The archived files, as the document described them.
    pub files: Vec<DisposedFile>,
    /// Every other object under the recording's prefix when the purge
    /// began (the Zoom event, metadata), beside the files and the document.
    pub other_objects: Vec<DisposedObject>,
    pub rule: AppliedRule,
    /// The purge run's `now`; the deletes follow within the run (or, after
    /// a crash, in the next run that reaches the recording).
    #[serde(with = "time::serde::rfc3339")]
    pub purged_at: OffsetDateTime,
    pub purged_by: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisposedFile {
    pub storage_key: String,
    pub file_type: String,
    pub size_bytes: u64,
    pub crc64nvme: Crc64Nvme,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisposedObject {
    pub key: String,
    pub size_bytes: u64,
}

/// What a purge run found and did (a dry run: would do).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurgeReport {
    pub dry_run: bool,
    /// Index entries walked: the recordings that started before the
    /// latest cut-off of any rule.
    pub examined: u64,
    /// Recordings purged; the first [`MAX_NAMED`] are named.
    pub purged_count: u64,
    pub purged: Vec<PurgedRecording>,
    /// Bytes of the purged recordings' files.
    pub purged_bytes: u64,
    /// Recordings due but under a legal hold, kept.
    pub held_count: u64,
    pub held: Vec<HeldRecording>,
    /// Recordings walked but not due under their own rule.
    pub not_due: u64,
    /// Recordings that could not be judged or purged, left as they were
    /// (see the module's documentation).
    pub failed_count: u64,
    pub failed: Vec<FailedRecording>,
    /// Whether the walk reached its end; `false` when the deadline stopped
    /// it (run again to go on).
    pub complete: bool,
}

impl PurgeReport {
    /// One line: what was walked and what came of it.
    pub fn summary(&self) -> String {
        format!(
            "purge{}{}: {} recordings examined, {} {} ({:.1} MiB), {} held, {} not due, {} could not be judged or purged",
            if self.dry_run { " (dry run)" } else { "" },
            if self.complete { "" } else { " stopped (run again to go on)" },
            self.examined,
            self.purged_count,
            if self.dry_run { "would be purged" } else { "purged" },
            self.purged_bytes as f64 / (1024.0 * 1024.0),
            self.held_count,
            self.not_due,
            self.failed_count,
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurgedRecording {
    pub recording_uuid: String,
    pub document_key: String,
    pub disposition_key: String,
    pub rule: AppliedRule,
    pub files: u64,
    pub bytes: u64,
    /// The purge completes one an earlier run began: the disposition
    /// record was already there, and was left as it was.
    pub resumed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldRecording {
    pub recording_uuid: String,
    pub document_key: String,
    /// The rule that would have purged it.
    pub rule: AppliedRule,
    pub hold: LegalHold,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedRecording {
    pub recording_uuid: String,
    pub document_key: String,
    pub reason: String,
}

/// Progress, after each page of the index.
#[derive(Debug, Clone, Copy)]
pub struct PurgeProgress<'a> {
    pub report: &'a PurgeReport,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("object store: {0}")]
    Store(#[from] object_store::Error),
    #[error("index: {0}")]
    Index(#[from] index::Error),
    #[error("events: {0}")]
    Events(#[from] events::Error),
}

impl Error {
    /// Whether running again may succeed as it is.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Store(e) => e.is_transient(),
            Error::Index(e) => e.is_transient(),
            Error::Events(e) => e.is_transient(),
        }
    }
}

/// Purges from `store` and `index` the recordings `policy` makes due (see
/// the module's documentation) and, if any were purged, asks for a site
/// rebuild on `events`; `progress` is called after each page.
pub async fn purge_recordings(
    store: &dyn ObjectStore,
    index: &dyn RecordingIndex,
    events: &dyn EventSink,
    policy: &RetentionPolicy,
    options: &PurgeOptions,
    progress: &(dyn Fn(PurgeProgress<'_>) + Sync),
) -> Result<PurgeReport, Error> {
    let run = Run {
        store,
        index,
        policy,
        options,
    };
    let mut report = PurgeReport {
        dry_run: options.dry_run,
        ..PurgeReport::default()
    };
    let walked = run.walk(&mut report, progress).await;
    if !options.dry_run && report.purged_count > 0 {
        // Asked even when the walk failed part-way: what was purged is gone
        // from the store, and the site must follow.
        let emitted = events
            .emit(ArchiveEvent::SiteRebuildRequested {
                reason: RebuildReason::RecordingPurged,
                recording_uuid: None,
            })
            .await;
        if let Err(e) = emitted {
            if walked.is_ok() {
                return Err(e.into());
            }
            tracing::warn!(error = %e, "the site rebuild after a failed purge was not requested");
        }
    }
    walked?;
    tracing::info!(
        dry_run = options.dry_run,
        examined = report.examined,
        purged = report.purged_count,
        held = report.held_count,
        failed = report.failed_count,
        complete = report.complete,
        "purge"
    );
    Ok(report)
}

/// One purge run's ports and rules.
struct Run<'a> {
    store: &'a dyn ObjectStore,
    index: &'a dyn RecordingIndex,
    policy: &'a RetentionPolicy,
    options: &'a PurgeOptions,
}

/// What one index entry came to.
enum Outcome {
    NotDue,
    Held(HeldRecording),
    Purged(PurgedRecording),
    Failed(FailedRecording),
}

/// What is to happen to one due recording.
enum Decision {
    Judged(Outcome),
    /// Purge it: `actions`, in order; the report's line once done.
    Purge {
        actions: Vec<Action>,
        purged: PurgedRecording,
    },
}

/// One step of a disposal.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Action {
    /// Write the disposition record.
    Record {
        key: String,
        body: Bytes,
    },
    Delete(String),
    /// Remove the recording's index entry.
    Unindex(String),
}

impl Run<'_> {
    async fn walk(
        &self,
        report: &mut PurgeReport,
        progress: &(dyn Fn(PurgeProgress<'_>) + Sync),
    ) -> Result<(), Error> {
        let Some(before) = self.policy.walk_cutoff(self.options.now) else {
            report.complete = true;
            return Ok(());
        };
        let mut after = None;
        loop {
            if self.options.deadline.is_some_and(|at| Instant::now() >= at) {
                return Ok(());
            }
            let page = self
                .index
                .list(ListQuery {
                    limit: PAGE,
                    after: after.take(),
                    started_before: Some(before),
                    filter: ListFilter::All,
                })
                .await?;
            // Every entry's outcome is counted before an error ends the
            // run, so what was purged is reported (and the site told).
            let results: Vec<Result<Outcome, Error>> = futures_util::stream::iter(page.entries)
                .map(|entry| self.judge(entry))
                .buffered(CONCURRENCY)
                .collect()
                .await;
            let mut first_error = None;
            for result in results {
                match result {
                    Ok(outcome) => report.add(outcome),
                    Err(e) => {
                        first_error.get_or_insert(e);
                    }
                }
            }
            progress(PurgeProgress { report });
            if let Some(e) = first_error {
                return Err(e);
            }
            match page.next {
                Some(next) => after = Some(next),
                None => {
                    report.complete = true;
                    return Ok(());
                }
            }
        }
    }

    /// Judges one index entry and, unless this is a dry run, carries out
    /// what was decided.
    async fn judge(&self, entry: IndexEntry) -> Result<Outcome, Error> {
        match self.decide(&entry).await? {
            Decision::Judged(outcome) => {
                if let Outcome::Failed(failed) = &outcome {
                    tracing::warn!(
                        recording = %failed.recording_uuid,
                        reason = %failed.reason,
                        "not purged"
                    );
                }
                Ok(outcome)
            }
            Decision::Purge { actions, purged } => {
                if !self.options.dry_run {
                    for action in &actions {
                        self.perform(action).await?;
                    }
                    tracing::info!(
                        recording = %purged.recording_uuid,
                        rule = ?purged.rule,
                        resumed = purged.resumed,
                        "purged"
                    );
                }
                Ok(Outcome::Purged(purged))
            }
        }
    }

    /// Decides what happens to the recording of one index entry, reading
    /// only what the decision needs and writing nothing.
    async fn decide(&self, entry: &IndexEntry) -> Result<Decision, Error> {
        let now = self.options.now;
        let failed = |reason: String| {
            Ok(Decision::Judged(Outcome::Failed(FailedRecording {
                recording_uuid: entry.recording_uuid.clone(),
                document_key: entry.document_key.clone(),
                reason,
            })))
        };
        // The index's summary first: a recording it says is not due is not
        // read at all.
        let by_entry = self.policy.rule_for(entry.host_email.as_deref());
        if by_entry.due(entry.start_time, now).is_none() {
            return Ok(Decision::Judged(Outcome::NotDue));
        }
        let keys =
            match RecordingKeys::new(entry.start_time, entry.meeting_id, &entry.recording_uuid) {
                Ok(keys) => keys,
                Err(e) => return failed(format!("the index entry places it nowhere: {e}")),
            };
        if keys.document() != entry.document_key {
            return failed(format!(
                "the index entry's document key is not {}, where its meeting id, start time and \
                 UUID put the document; `zoomvault rebuild` makes the index again from the store",
                keys.document()
            ));
        }
        let document = match self.store.get(&entry.document_key).await {
            Ok(bytes) => match RecordingDocument::from_json(&bytes) {
                Ok(document) => Some(document),
                Err(e) => {
                    return failed(format!(
                        "its document is invalid, so whether it is held and what it holds are \
                         unknown; nothing was deleted: {e}"
                    ))
                }
            },
            Err(object_store::Error::NotFound { .. }) => None,
            Err(e) => return Err(e.into()),
        };
        let disposition_key = keys.disposition(entry.ingested_at);
        if let Some(document) = &document {
            if document.meeting.uuid != entry.recording_uuid {
                return failed(format!(
                    "the document at its key is recording {:?}; nothing was deleted",
                    document.meeting.uuid
                ));
            }
            if keys.disposition(document.ingest.finished_at) != disposition_key {
                return failed(format!(
                    "its document is from another ingest (finished at {}) than its index entry \
                     ({}); nothing was deleted (`zoomvault rebuild` makes the index again from \
                     the store)",
                    document.ingest.finished_at, entry.ingested_at
                ));
            }
        }
        let record = match self.store.get(&disposition_key).await {
            Ok(bytes) => match serde_json::from_slice::<DispositionRecord>(&bytes) {
                Ok(record) => Some(record),
                Err(e) => {
                    return failed(format!(
                        "its disposition record at {disposition_key} is unreadable ({e}); \
                         nothing was deleted"
                    ))
                }
            },
            Err(object_store::Error::NotFound { .. }) => None,
            Err(e) => return Err(e.into()),
        };
        let Some(document) = document else {
            return match record {
                // A purge deleted the document and stopped before the index
                // entry: finish it.
                Some(record) => {
                    let listing = self.store.list(keys.recording_prefix()).await?;
                    Ok(self.purge(&keys, entry, None, &listing, record, true))
                }
                None => failed(
                    "there is no document at its key and no disposition record: whether it is \
                     held is unknown, so nothing was deleted (`zoomvault rebuild` removes index \
                     entries whose document is gone)"
                        .into(),
                ),
            };
        };
        match (&document.legal_hold, record) {
            (Some(_), Some(record)) => failed(format!(
                "it is under a legal hold placed after a purge of it began (the disposition \
                 record at {disposition_key}, purged at {}): nothing more was deleted, and the \
                 record stands; someone must settle whether the recording was disposed of",
                record.purged_at
            )),
            // Begun under the rule the record names: finish it.
            (None, Some(record)) => {
                let listing = self.store.list(keys.recording_prefix()).await?;
                Ok(self.purge(&keys, entry, Some(&document), &listing, record, true))
            }
            (hold, None) => {
                let rule = self.policy.rule_for(document.host.email.as_deref());
                let Some(rule) = rule.due(document.meeting.start_time, now) else {
                    return Ok(Decision::Judged(Outcome::NotDue));
                };
                if let Some(hold) = hold {
                    return Ok(Decision::Judged(Outcome::Held(HeldRecording {
                        recording_uuid: entry.recording_uuid.clone(),
                        document_key: entry.document_key.clone(),
                        rule,
                        hold: hold.clone(),
                    })));
                }
                let listing = self.store.list(keys.recording_prefix()).await?;
                let record = self.new_record(&keys, &document, &listing, rule);
                Ok(self.purge(&keys, entry, Some(&document), &listing, record, false))
            }
        }
    }

    /// The disposition record of a purge beginning now: the document's
    /// facts and every object `listing` found under the recording's prefix.
    fn new_record(
        &self,
        keys: &RecordingKeys,
        document: &RecordingDocument,
        listing: &[ObjectMeta],
        rule: AppliedRule,
    ) -> DispositionRecord {
        let document_key = keys.document();
        let other_objects = listing
            .iter()
            .filter(|object| {
                object.key != document_key
                    && !document
                        .files
                        .iter()
                        .any(|file| file.storage_key == object.key)
            })
            .map(|object| DisposedObject {
                key: object.key.clone(),
                size_bytes: object.size,
            })
            .collect();
        DispositionRecord {
            disposition_version: DISPOSITION_VERSION,
            recording_uuid: document.meeting.uuid.clone(),
            meeting_id: document.meeting.id,
            topic: document.meeting.topic.clone(),
            start_time: document.meeting.start_time,
            host_id: document.host.id.clone(),
            host_email: document.host.email.clone(),
            document_key,
            files: document
                .files
                .iter()
                .map(|file| DisposedFile {
                    storage_key: file.storage_key.clone(),
                    file_type: file.file_type.clone(),
                    size_bytes: file.size_bytes,
                    crc64nvme: file.crc64nvme,
                    sha256: file.sha256.clone(),
                })
                .collect(),
            other_objects,
            rule,
            purged_at: self.options.now,
            purged_by: self.options.purged_by.clone(),
        }
    }

    /// The actions that purge a recording, in their order: the record
    /// (unless it was written before), the document's files, the other
    /// objects `listing` found under its prefix, the document, the index
    /// entry.
    fn purge(
        &self,
        keys: &RecordingKeys,
        entry: &IndexEntry,
        document: Option<&RecordingDocument>,
        listing: &[ObjectMeta],
        record: DispositionRecord,
        resumed: bool,
    ) -> Decision {
        let prefix = keys.recording_prefix();
        let document_key = keys.document();
        let mut doomed: Vec<String> = document
            .map(|document| {
                document
                    .files
                    .iter()
                    .map(|file| file.storage_key.clone())
                    .collect()
            })
            .unwrap_or_default();
        for object in listing {
            if object.key != document_key && !doomed.contains(&object.key) {
                doomed.push(object.key.clone());
            }
        }
        // The document was validated, so its files lie under its prefix;
        // checked again here because this is where things get deleted.
        if let Some(stray) = doomed.iter().find(|key| !key.starts_with(prefix)) {
            return Decision::Judged(Outcome::Failed(FailedRecording {
                recording_uuid: entry.recording_uuid.clone(),
                document_key: entry.document_key.clone(),
                reason: format!(
                    "{stray:?} is not under the recording's prefix {prefix:?}; nothing was deleted"
                ),
            }));
        }
        let disposition_key = keys.disposition(entry.ingested_at);
        let mut actions = Vec::with_capacity(doomed.len() + 3);
        if !resumed {
            let body = serde_json::to_vec_pretty(&record).expect("a disposition record serialises");
            actions.push(Action::Record {
                key: disposition_key.clone(),
                body: Bytes::from(body),
            });
        }
        actions.extend(doomed.into_iter().map(Action::Delete));
        actions.push(Action::Delete(document_key));
        actions.push(Action::Unindex(entry.recording_uuid.clone()));
        Decision::Purge {
            actions,
            purged: PurgedRecording {
                recording_uuid: entry.recording_uuid.clone(),
                document_key: entry.document_key.clone(),
                disposition_key,
                files: record.files.len() as u64,
                bytes: record.files.iter().map(|file| file.size_bytes).sum(),
                rule: record.rule,
                resumed,
            },
        }
    }

    async fn perform(&self, action: &Action) -> Result<(), Error> {
        match action {
            Action::Record { key, body } => {
                self.store
                    .put(key, body.clone(), "application/json")
                    .await?;
            }
            Action::Delete(key) => self.store.delete(key).await?,
            Action::Unindex(uuid) => {
                self.index.delete(uuid).await?;
            }
        }
        Ok(())
    }
}

impl PurgeReport {
    fn add(&mut self, outcome: Outcome) {
        fn name<T>(list: &mut Vec<T>, item: T) {
            if list.len() < MAX_NAMED {
                list.push(item);
            }
        }
        self.examined += 1;
        match outcome {
            Outcome::NotDue => self.not_due += 1,
            Outcome::Held(held) => {
                self.held_count += 1;
                name(&mut self.held, held);
            }
            Outcome::Purged(purged) => {
                self.purged_count += 1;
                self.purged_bytes += purged.bytes;
                name(&mut self.purged, purged);
            }
            Outcome::Failed(failed) => {
                self.failed_count += 1;
                name(&mut self.failed, failed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;
    use crate::local::{DirObjectStore, LocalEventSink, SqliteIndex};
    use crate::operations::reindex::reindex;
    use crate::ports::index::MAX_LIST_LIMIT;
    use expect_test::{expect, Expect};
    use serde_json::{json, Value};
    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicU64, Ordering};
    use time::macros::datetime;

    /// The tests' `now`. Recording `n` of an archive started at 00:00 on
    /// 2024-01-(n+1), so 7 days reach back to 2024-01-06T12:00: recordings
    /// 0 to 5 are older, 6 and later are not.
    const NOW: OffsetDateTime = datetime!(2024-01-13 12:00 UTC);

    /// A scratch directory that removes itself.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(name: &str) -> Scratch {
            static COUNTER: AtomicU64 = AtomicU64::new(0);
            let path = std::env::temp_dir().join(format!(
                "zoomvault-purge-{name}-{}-{}",
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::Relaxed)
            ));
            let _ = std::fs::remove_dir_all(&path);
            std::fs::create_dir_all(&path).expect("create scratch dir");
            Scratch(path)
        }

        fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    struct Archive {
        _dir: Scratch,
        store: DirObjectStore,
        index: SqliteIndex,
        events: LocalEventSink,
        count: u64,
    }

    /// Everything a purge could change: every object with its bytes, every
    /// index entry, the queued events.
    #[derive(Debug, PartialEq)]
    struct Snapshot {
        objects: Vec<(String, Bytes)>,
        entries: Vec<IndexEntry>,
        events: Vec<ArchiveEvent>,
    }

    /// Recordings 0 to `count - 1`, one a day from 2024-01-01, whole in the
    /// store (files, metadata, document) and indexed; their hosts cycle
    /// through `host0@example.edu` to `host6@example.edu`.
    async fn archive(name: &str, count: u64) -> Archive {
        let dir = Scratch::new(name);
        let store = DirObjectStore::open(dir.path().join("store")).expect("open store");
        let index = SqliteIndex::open(dir.path().join("index.db")).expect("open index");
        let events = LocalEventSink::open(dir.path().join("events.db")).expect("open events");
        for n in 0..count {
            let entry = fixtures::store_archived(&store, n, count)
                .await
                .expect("store recording");
            index.upsert(entry).await.expect("index recording");
        }
        Archive {
            _dir: dir,
            store,
            index,
            events,
            count,
        }
    }

    fn policy(value: Value) -> RetentionPolicy {
        RetentionPolicy::from_json(value.to_string().as_bytes()).expect("valid policy")
    }

    fn week() -> RetentionPolicy {
        policy(json!({"default": {"days": 7}}))
    }

    fn options(dry_run: bool) -> PurgeOptions {
        PurgeOptions {
            now: NOW,
            dry_run,
            purged_by: "test".into(),
            deadline: None,
        }
    }

    impl Archive {
        async fn purge(&self, policy: &RetentionPolicy, options: &PurgeOptions) -> PurgeReport {
            purge_recordings(
                &self.store,
                &self.index,
                &self.events,
                policy,
                options,
                &|_| {},
            )
            .await
            .expect("purge runs")
        }

        fn entry(&self, n: u64) -> IndexEntry {
            IndexEntry::from_document(&fixtures::archived_document(n, self.count)).expect("indexes")
        }

        fn keys(&self, n: u64) -> RecordingKeys {
            RecordingKeys::for_document(&fixtures::archived_document(n, self.count))
                .expect("valid keys")
        }

        fn disposition_key(&self, n: u64) -> String {
            self.keys(n).disposition(self.entry(n).ingested_at)
        }

        /// The recordings' numbers whose UUIDs `uuids` are.
        fn numbers<'a>(&self, uuids: impl IntoIterator<Item = &'a String>) -> Vec<u64> {
            let mut numbers: Vec<u64> = uuids
                .into_iter()
                .map(|uuid| {
                    (0..self.count)
                        .find(|&n| &self.entry(n).recording_uuid == uuid)
                        .expect("a recording of the archive")
                })
                .collect();
            numbers.sort_unstable();
            numbers
        }

        fn purged(&self, report: &PurgeReport) -> Vec<u64> {
            self.numbers(report.purged.iter().map(|p| &p.recording_uuid))
        }

        fn held(&self, report: &PurgeReport) -> Vec<u64> {
            self.numbers(report.held.iter().map(|h| &h.recording_uuid))
        }

        fn failed(&self, report: &PurgeReport) -> Vec<u64> {
            self.numbers(report.failed.iter().map(|f| &f.recording_uuid))
        }

        /// Keys of the objects under `prefix`.
        async fn keys_under(&self, prefix: &str) -> Vec<String> {
            let objects = self.store.list(prefix).await.expect("list");
            objects.into_iter().map(|object| object.key).collect()
        }

        /// Whether recording `n` is whole: its index entry, document and
        /// every object the fixture stored.
        async fn is_whole(&self, n: u64) -> bool {
            let keys = self.keys(n);
            let indexed = self
                .index
                .get(&self.entry(n).recording_uuid)
                .await
                .expect("get")
                .is_some();
            // Two files, their two metadata objects, the event, the
            // meeting's metadata and the document.
            indexed && self.keys_under(keys.recording_prefix()).await.len() == 7
        }

        /// Whether nothing of recording `n` is left but its disposition
        /// record.
        async fn is_gone(&self, n: u64) -> bool {
            let keys = self.keys(n);
            let indexed = self
                .index
                .get(&self.entry(n).recording_uuid)
                .await
                .expect("get")
                .is_some();
            !indexed && self.keys_under(keys.recording_prefix()).await.is_empty()
        }

        async fn record(&self, n: u64) -> DispositionRecord {
            let bytes = self
                .store
                .get(&self.disposition_key(n))
                .await
                .expect("a disposition record");
            serde_json::from_slice(&bytes).expect("a readable record")
        }

        async fn snapshot(&self) -> Snapshot {
            let mut objects = Vec::new();
            for object in self.store.list("").await.expect("list") {
                let bytes = self.store.get(&object.key).await.expect("get");
                objects.push((object.key, bytes));
            }
            let mut entries = Vec::new();
            let mut after = None;
            loop {
                let page = self
                    .index
                    .list(ListQuery {
                        limit: MAX_LIST_LIMIT,
                        after,
                        ..ListQuery::default()
                    })
                    .await
                    .expect("list index");
                entries.extend(page.entries);
                match page.next {
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
            let events = self.events.pending(100).await.expect("events");
            Snapshot {
                objects,
                entries,
                events: events.into_iter().map(|queued| queued.event).collect(),
            }
        }

        /// Places or lifts recording `n`'s legal hold through reindex, as
        /// an operator does.
        async fn set_hold(&self, n: u64, hold: Option<Value>) {
            let key = self.keys(n).document();
            let mut document: Value =
                serde_json::from_slice(&self.store.get(&key).await.expect("get")).expect("JSON");
            match hold {
                Some(hold) => document["legal_hold"] = hold,
                None => {
                    document
                        .as_object_mut()
                        .expect("an object")
                        .remove("legal_hold");
                }
            }
            let bytes = serde_json::to_vec(&document).expect("serialises");
            let report = reindex(&self.store, &self.index, &self.events, &bytes, false)
                .await
                .expect("reindex accepts a hold");
            assert_eq!(report.fields, ["/legal_hold"]);
        }

        fn run<'a>(&'a self, policy: &'a RetentionPolicy, options: &'a PurgeOptions) -> Run<'a> {
            Run {
                store: &self.store,
                index: &self.index,
                policy,
                options,
            }
        }
    }

    #[tokio::test]
    async fn a_dry_run_changes_nothing_and_names_what_a_real_run_purges() {
        let a = archive("dry-run", 10).await;
        a.set_hold(2, Some(json!({"reason": "Records request"})))
            .await;
        let before = a.snapshot().await;

        let dry = a.purge(&week(), &options(true)).await;
        assert_eq!(a.snapshot().await, before, "a dry run changes nothing");
        assert!(dry.dry_run && dry.complete);
        assert_eq!(a.purged(&dry), [0, 1, 3, 4, 5]);
        assert_eq!(a.held(&dry), [2]);

        let real = a.purge(&week(), &options(false)).await;
        assert!(!real.dry_run);
        assert_eq!(a.purged(&real), a.purged(&dry));
        assert_eq!(a.held(&real), a.held(&dry));
        assert_eq!(
            (
                real.examined,
                real.purged_count,
                real.held_count,
                real.not_due
            ),
            (dry.examined, dry.purged_count, dry.held_count, dry.not_due)
        );
        assert_eq!(real.purged_bytes, dry.purged_bytes);
        assert_eq!(real.purged, dry.purged);
        for n in [0, 1, 3, 4, 5] {
            assert!(a.is_gone(n).await, "recording {n} is purged");
        }
    }

    #[tokio::test]
    async fn a_held_recording_survives_a_real_run_and_goes_once_the_hold_is_lifted() {
        let a = archive("held", 10).await;
        a.set_hold(
            3,
            Some(json!({
                "reason": "Litigation hold, matter 2024-117",
                "placed_by": "counsel@example.edu",
                "since": "2024-01-10T09:00:00Z"
            })),
        )
        .await;

        let report = a.purge(&week(), &options(false)).await;
        assert_eq!(a.held(&report), [3]);
        assert_eq!(
            report.held[0].hold.reason,
            "Litigation hold, matter 2024-117"
        );
        assert_eq!(report.held[0].rule.days, 7);
        assert!(!a.purged(&report).contains(&3));
        assert!(a.is_whole(3).await, "the held recording is untouched");
        assert!(a
            .store
            .head(&a.disposition_key(3))
            .await
            .expect("head")
            .is_none());

        // Lifted: the next run purges it.
        a.set_hold(3, None).await;
        let report = a.purge(&week(), &options(false)).await;
        assert_eq!(a.purged(&report), [3]);
        assert!(a.is_gone(3).await);
    }

    #[tokio::test]
    async fn every_purged_recording_has_exactly_one_disposition_record_and_nothing_else_left() {
        let a = archive("records", 10).await;
        let report = a.purge(&week(), &options(false)).await;
        let purged = a.purged(&report);
        assert_eq!(purged, [0, 1, 2, 3, 4, 5]);
        assert_eq!(
            (report.examined, report.not_due, report.failed_count),
            (6, 0, 0)
        );

        let mut records = a.keys_under(crate::keys::DISPOSITIONS_PREFIX).await;
        records.sort();
        let mut expected: Vec<String> = purged.iter().map(|&n| a.disposition_key(n)).collect();
        expected.sort();
        assert_eq!(records, expected, "one record per purged recording");
        for &n in &purged {
            assert!(a.is_gone(n).await, "recording {n} is gone");
            let record = a.record(n).await;
            let document = fixtures::archived_document(n, a.count);
            assert_eq!(record.recording_uuid, document.meeting.uuid);
            assert_eq!(record.rule.host_email, None, "the default rule");
            assert_eq!(record.rule.days, 7);
            assert_eq!(record.rule.cutoff, datetime!(2024-01-06 12:00 UTC));
            let files: Vec<&str> = record
                .files
                .iter()
                .map(|f| f.storage_key.as_str())
                .collect();
            let named: Vec<&str> = document
                .files
                .iter()
                .map(|f| f.storage_key.as_str())
                .collect();
            assert_eq!(files, named);
            assert_eq!(
                record.other_objects.len(),
                4,
                "event, meeting, two file metadata"
            );
        }
        for n in 6..10 {
            assert!(a.is_whole(n).await, "recent recording {n} is kept");
        }
        // One request for a site rebuild.
        assert_eq!(
            a.snapshot().await.events,
            [ArchiveEvent::SiteRebuildRequested {
                reason: RebuildReason::RecordingPurged,
                recording_uuid: None,
            }]
        );
    }

    #[tokio::test]
    async fn the_disposition_record_names_what_when_and_which_rule() {
        let a = archive("record-format", 2).await;
        let host0 =
            policy(json!({"hosts": [{"host_email": "HOST0@example.edu", "keep": {"days": 10}}]}));
        let report = a.purge(&host0, &options(false)).await;
        assert_eq!(a.purged(&report), [0]);
        let bytes = a.store.get(&a.disposition_key(0)).await.expect("a record");
        expect![[r#"
            {
              "disposition_version": 1,
              "recording_uuid": "AAAAAAAAAABaWlpaWlpaWg==",
              "meeting_id": 80000000000,
              "topic": "Lecture 0",
              "start_time": "2024-01-01T00:00:00Z",
              "host_id": "host-0",
              "host_email": "host0@example.edu",
              "document_key": "recordings/2024/01/01/80000000000/AAAAAAAAAABaWlpaWlpaWg==/recording.json",
              "files": [
                {
                  "storage_key": "recordings/2024/01/01/80000000000/AAAAAAAAAABaWlpaWlpaWg==/files/shared_screen_with_speaker_view-file-0.mp4",
                  "file_type": "MP4",
                  "size_bytes": 23,
                  "crc64nvme": "YYSHu2P6BhE=",
                  "sha256": "9f6ddbf1f127b433a656c782a31f8cadf71ca49b3550a27297c3ac582bc5eebf"
                },
                {
                  "storage_key": "recordings/2024/01/01/80000000000/AAAAAAAAAABaWlpaWlpaWg==/files/timeline=1.json",
                  "file_type": "TIMELINE",
                  "size_bytes": 23,
                  "crc64nvme": "nurJpC26Pq8=",
                  "sha256": "05d6009d392fd3a198195eec580458567cc7ab046dc6e9c034f90b9f836f27fd"
                }
              ],
              "other_objects": [
                {
                  "key": "recordings/2024/01/01/80000000000/AAAAAAAAAABaWlpaWlpaWg==/meta/files/shared_screen_with_speaker_view-file-0.json",
                  "size_bytes": 22
                },
                {
                  "key": "recordings/2024/01/01/80000000000/AAAAAAAAAABaWlpaWlpaWg==/meta/files/timeline=1.json",
                  "size_bytes": 22
                },
                {
                  "key": "recordings/2024/01/01/80000000000/AAAAAAAAAABaWlpaWlpaWg==/meta/zoom-event.json",
                  "size_bytes": 13
                },
                {
                  "key": "recordings/2024/01/01/80000000000/AAAAAAAAAABaWlpaWlpaWg==/meta/zoom-meeting.json",
                  "size_bytes": 13
                }
              ],
              "rule": {
                "host_email": "HOST0@example.edu",
                "days": 10,
                "cutoff": "2024-01-03T12:00:00Z"
              },
              "purged_at": "2024-01-13T12:00:00Z",
              "purged_by": "test"
            }"#]]
        .assert_eq(std::str::from_utf8(&bytes).expect("UTF-8"));
    }

    #[tokio::test]
    async fn a_host_rule_wins_over_the_default() {
        let a = archive("host-rules", 10).await;
        let rules = policy(json!({
            "default": {"days": 7},
            "hosts": [
                // Recordings 0 and 7: shorter than the default.
                {"host_email": "host0@example.edu", "keep": {"days": 3}},
                // Recordings 1 and 8: forever.
                {"host_email": "Host1@Example.edu", "keep": "forever"},
                // Recordings 2 and 9: longer than the default.
                {"host_email": "host2@example.edu", "keep": {"days": 30}}
            ]
        }));
        let report = a.purge(&rules, &options(false)).await;
        assert_eq!(a.purged(&report), [0, 3, 4, 5, 7]);
        // Walked back from the shortest rule's cut-off (2024-01-10T12:00).
        assert_eq!((report.examined, report.not_due), (10, 5));
        let rule = |n: u64| {
            let uuid = a.entry(n).recording_uuid;
            let purged = report.purged.iter().find(|p| p.recording_uuid == uuid);
            purged.map(|p| (p.rule.host_email.clone(), p.rule.days))
        };
        assert_eq!(rule(0), Some((Some("host0@example.edu".into()), 3)));
        assert_eq!(rule(7), Some((Some("host0@example.edu".into()), 3)));
        assert_eq!(rule(3), Some((None, 7)));
        for n in [1, 2, 6, 8, 9] {
            assert!(a.is_whole(n).await, "recording {n} is kept");
        }
    }

    #[tokio::test]
    async fn a_second_run_purges_nothing_and_writes_nothing() {
        let a = archive("twice", 10).await;
        a.set_hold(1, Some(json!({"reason": "Records request"})))
            .await;
        let first = a.purge(&week(), &options(false)).await;
        assert_eq!(first.purged_count, 5);
        let after_first = a.snapshot().await;

        // Another runner, an hour later: any rewritten record would differ.
        let later = PurgeOptions {
            now: NOW + Duration::hours(1),
            purged_by: "second".into(),
            ..options(false)
        };
        let second = a.purge(&week(), &later).await;
        assert_eq!(second.purged_count, 0);
        assert_eq!(a.held(&second), [1]);
        assert_eq!(
            a.snapshot().await,
            after_first,
            "the second run changed nothing"
        );
    }

    #[tokio::test]
    async fn recent_recordings_are_kept() {
        let a = archive("recent", 10).await;
        let report = a
            .purge(&policy(json!({"default": {"days": 365}})), &options(false))
            .await;
        assert_eq!((report.examined, report.purged_count), (0, 0));
        for n in 0..10 {
            assert!(a.is_whole(n).await);
        }
    }

    #[tokio::test]
    async fn a_policy_that_keeps_forever_reads_and_purges_nothing() {
        let a = archive("forever", 4).await;
        let before = a.snapshot().await;
        for rules in [
            json!({}),
            json!({"default": "forever", "hosts": [{"host_email": "host0@example.edu", "keep": "forever"}]}),
        ] {
            let report = a.purge(&policy(rules), &options(false)).await;
            assert_eq!(report.examined, 0);
            assert!(report.complete);
        }
        assert_eq!(a.snapshot().await, before);
    }

    /// Crashes a purge of recording 0 after each of its actions in turn
    /// (and before the first), then runs again: every time the recording
    /// ends up gone, with the one record the first run wrote.
    #[tokio::test]
    async fn a_purge_interrupted_after_any_action_is_completed_with_one_record() {
        let total = {
            let a = archive("crash-count", 2).await;
            let options = options(false);
            let rules = week();
            match a.run(&rules, &options).decide(&a.entry(0)).await {
                Ok(Decision::Purge { actions, .. }) => actions.len(),
                _ => panic!("recording 0 is due"),
            }
        };
        // The record, two files, four other objects, the document, the index entry.
        assert_eq!(total, 9);
        for done in 0..=total {
            let a = archive("crash", 2).await;
            let rules = week();
            let first = PurgeOptions {
                purged_by: "first".into(),
                ..options(false)
            };
            let run = a.run(&rules, &first);
            let Ok(Decision::Purge { actions, .. }) = run.decide(&a.entry(0)).await else {
                panic!("recording 0 is due");
            };
            for action in &actions[..done] {
                run.perform(action).await.expect("perform");
            }

            let second = PurgeOptions {
                purged_by: "second".into(),
                ..options(false)
            };
            let report = a.purge(&rules, &second).await;
            assert!(
                a.is_gone(0).await,
                "after {done} actions, recording 0 is gone"
            );
            assert_eq!(
                a.keys_under(crate::keys::DISPOSITIONS_PREFIX).await.len(),
                2,
                "one record each for recordings 0 and 1"
            );
            let by = a.record(0).await.purged_by;
            match done {
                0 => {
                    assert_eq!(by, "second");
                    assert_eq!(a.purged(&report), [0, 1]);
                }
                // The index entry went last, so nothing was left to find.
                _ if done == total => {
                    assert_eq!(by, "first");
                    assert_eq!(a.purged(&report), [1]);
                }
                _ => {
                    assert_eq!(by, "first", "after {done} actions, the first record stands");
                    assert_eq!(a.purged(&report), [0, 1]);
                    let resumed: Vec<bool> = report.purged.iter().map(|p| p.resumed).collect();
                    assert!(resumed.contains(&true), "after {done} actions: {report:?}");
                }
            }
        }
    }

    #[tokio::test]
    async fn a_hold_placed_after_a_purge_began_stops_it_and_is_reported() {
        let a = archive("late-hold", 1).await;
        let rules = week();
        let options = options(false);
        let run = a.run(&rules, &options);
        let Ok(Decision::Purge { actions, .. }) = run.decide(&a.entry(0)).await else {
            panic!("recording 0 is due");
        };
        // The record and the first file.
        for action in &actions[..2] {
            run.perform(action).await.expect("perform");
        }
        a.set_hold(0, Some(json!({"reason": "Records request"})))
            .await;
        let before = a.snapshot().await;

        let report = a.purge(&rules, &options).await;
        assert_eq!(a.failed(&report), [0]);
        assert!(
            report.failed[0]
                .reason
                .contains("legal hold placed after a purge of it began"),
            "{}",
            report.failed[0].reason
        );
        assert_eq!(a.snapshot().await, before, "nothing more was deleted");
    }

    #[tokio::test]
    async fn a_recording_whose_document_is_missing_invalid_or_not_its_entrys_is_left_alone() {
        let a = archive("no-document", 10).await;
        // Recording 1's document is gone (its files are not); recording 2's
        // is not a document; recording 3's index entry is from a later
        // ingest than its document.
        a.store.delete(&a.keys(1).document()).await.expect("delete");
        a.store
            .put(
                &a.keys(2).document(),
                Bytes::from_static(b"{}"),
                "application/json",
            )
            .await
            .expect("put");
        let later = IndexEntry {
            ingested_at: a.entry(3).ingested_at + Duration::days(1),
            ..a.entry(3)
        };
        a.index.upsert(later).await.expect("upsert");
        let before = a.snapshot().await;

        let report = a.purge(&week(), &options(false)).await;
        assert_eq!(a.purged(&report), [0, 4, 5]);
        assert_eq!(a.failed(&report), [1, 2, 3]);
        let reason = |n: u64| {
            let uuid = a.entry(n).recording_uuid;
            let failed = report.failed.iter().find(|f| f.recording_uuid == uuid);
            failed.map(|f| f.reason.clone()).unwrap_or_default()
        };
        assert!(reason(1).contains("no document at its key and no disposition record"));
        assert!(reason(2).contains("its document is invalid"));
        assert!(reason(3).contains("from another ingest"));
        for reason in report.failed.iter().map(|f| &f.reason) {
            assert!(reason.contains("nothing was deleted"), "{reason}");
        }
        // Nothing of them changed: the snapshot differs only by the
        // purged recordings, their records and the site's event.
        let untouched = |snapshot: &Snapshot, n: u64| {
            let prefix = a.keys(n).recording_prefix().to_owned();
            let objects: Vec<(String, Bytes)> = snapshot
                .objects
                .iter()
                .filter(|(key, _)| key.starts_with(&prefix))
                .cloned()
                .collect();
            let entry = snapshot
                .entries
                .iter()
                .find(|entry| entry.recording_uuid == a.entry(n).recording_uuid)
                .cloned();
            (objects, entry)
        };
        let after = a.snapshot().await;
        for n in [1, 2, 3] {
            assert_eq!(untouched(&after, n), untouched(&before, n), "recording {n}");
        }
        let records = a.keys_under(crate::keys::DISPOSITIONS_PREFIX).await;
        assert_eq!(records.len(), 3, "records of 0, 4 and 5 only: {records:?}");
    }

    #[tokio::test]
    async fn a_recording_archived_again_after_its_purge_is_purged_with_a_record_of_its_own() {
        let a = archive("again", 1).await;
        let first = a.purge(&week(), &options(false)).await;
        assert_eq!(a.purged(&first), [0]);
        let first_record = a.store.get(&a.disposition_key(0)).await.expect("record");

        // Archived again (recovered from Zoom's trash), by a later ingest.
        fixtures::store_archived(&a.store, 0, 1)
            .await
            .expect("store again");
        let mut document: Value =
            serde_json::from_slice(&a.store.get(&a.keys(0).document()).await.expect("get"))
                .expect("JSON");
        document["ingest"]["finished_at"] = json!("2024-01-12T08:00:00Z");
        let document =
            RecordingDocument::from_json(document.to_string().as_bytes()).expect("valid document");
        a.store
            .put(
                &a.keys(0).document(),
                Bytes::from(document.to_json().expect("valid")),
                "application/json",
            )
            .await
            .expect("put");
        a.index
            .upsert(IndexEntry::from_document(&document).expect("indexes"))
            .await
            .expect("upsert");

        let second = a.purge(&week(), &options(false)).await;
        assert_eq!(a.purged(&second), [0]);
        assert!(
            !second.purged[0].resumed,
            "a new copy, not an unfinished purge"
        );
        assert!(a.is_gone(0).await);
        let records = a.keys_under(crate::keys::DISPOSITIONS_PREFIX).await;
        assert_eq!(records.len(), 2, "{records:?}");
        assert_eq!(
            a.store.get(&a.disposition_key(0)).await.expect("record"),
            first_record,
            "the first record stands as it was"
        );
    }

    #[tokio::test]
    async fn a_run_past_its_deadline_stops_and_the_next_goes_on() {
        let a = archive("deadline", 10).await;
        let stopped = PurgeOptions {
            deadline: Some(Instant::now()),
            ..options(false)
        };
        let report = a.purge(&week(), &stopped).await;
        assert!(!report.complete);
        assert_eq!(report.examined, 0);
        let report = a.purge(&week(), &options(false)).await;
        assert!(report.complete);
        assert_eq!(a.purged(&report), [0, 1, 2, 3, 4, 5]);
    }

    #[tokio::test]
    async fn progress_is_reported_after_each_page() {
        let a = archive("progress", 3).await;
        let seen = std::sync::Mutex::new(Vec::new());
        purge_recordings(
            &a.store,
            &a.index,
            &a.events,
            &week(),
            &options(true),
            &|progress| seen.lock().expect("lock").push(progress.report.examined),
        )
        .await
        .expect("purge runs");
        assert_eq!(*seen.lock().expect("lock"), [3]);
    }

    fn check_policy(value: Value, expect: Expect) {
        let actual = match RetentionPolicy::from_json(value.to_string().as_bytes()) {
            Ok(policy) => serde_json::to_string(&policy).expect("serialises"),
            Err(error) => error.to_string(),
        };
        expect.assert_eq(&actual);
    }

    #[test]
    fn policies_read_back_as_written() {
        check_policy(json!({}), expect![[r#"{"default":"forever"}"#]]);
        check_policy(
            json!({
                "default": {"days": 2555},
                "hosts": [
                    {"host_email": "dean@example.edu", "keep": "forever"},
                    {"host_email": "ta@example.edu", "keep": {"days": 365}}
                ]
            }),
            expect![[
                r#"{"default":{"days":2555},"hosts":[{"host_email":"dean@example.edu","keep":"forever"},{"host_email":"ta@example.edu","keep":{"days":365}}]}"#
            ]],
        );
    }

    #[test]
    fn invalid_policies_name_every_field() {
        check_policy(
            json!({
                "default": {"days": 0},
                "hosts": [
                    {"host_email": "", "keep": {"days": 0}},
                    {"host_email": "A@example.edu", "keep": "forever"},
                    {"host_email": "a@EXAMPLE.edu", "keep": {"days": 3}},
                    {"host_email": " b@example.edu", "keep": "forever"},
                    {"host_email": "nobody", "keep": "forever"}
                ]
            }),
            expect![[r#"
                retention policy is invalid:
                  /default/days: must be at least 1 (to keep recordings, say "forever")
                  /hosts/0/host_email: is empty
                  /hosts/0/keep/days: must be at least 1 (to keep recordings, say "forever")
                  /hosts/2/host_email: "a@EXAMPLE.edu" is the host of /hosts/1/host_email already (emails are compared ignoring case); a host has one rule
                  /hosts/3/host_email: " b@example.edu" has white space around it
                  /hosts/4/host_email: "nobody" is not an email address"#]],
        );
        check_policy(json!({"defualt": "forever"}), expect!["retention policy is not JSON of a policy's shape: unknown field `defualt`, expected `default` or `hosts` at line 1 column 10"]);
        check_policy(json!({"default": {"days": -1}}), expect!["retention policy is not JSON of a policy's shape: invalid value: integer `-1`, expected u32 at line 1 column 21"]);
        check_policy(json!({"default": {"weeks": 1}}), expect!["retention policy is not JSON of a policy's shape: unknown variant `weeks`, expected `days` or `forever` at line 1 column 19"]);
        check_policy(
            json!({"hosts": [{"host_email": "a@example.edu", "keep": {"days": 1}, "why": "x"}]}),
            expect!["retention policy is not JSON of a policy's shape: unknown field `why`, expected `host_email` or `keep` at line 1 column 63"],
        );
        // Read as part of something else, a policy is checked all the same.
        let embedded = serde_json::from_value::<RetentionPolicy>(json!({"default": {"days": 0}}));
        expect![[r#"
            retention policy is invalid:
              /default/days: must be at least 1 (to keep recordings, say "forever")"#]]
        .assert_eq(&embedded.expect_err("refused").to_string());
    }

    #[test]
    fn a_host_rule_matches_its_host_ignoring_case_and_others_fall_to_the_default() {
        let rules = policy(json!({
            "default": {"days": 7},
            "hosts": [{"host_email": "Dean@Example.edu", "keep": "forever"}]
        }));
        assert_eq!(rules.rule_for(Some("dean@example.EDU")).keep, Keep::Forever);
        assert_eq!(
            rules.rule_for(Some("other@example.edu")).keep,
            Keep::Days(7)
        );
        assert_eq!(rules.rule_for(None).keep, Keep::Days(7));
        assert_eq!(
            rules.walk_cutoff(NOW),
            Some(datetime!(2024-01-06 12:00 UTC))
        );
        // An age beyond the earliest time there is makes nothing due.
        let ancient = policy(json!({"default": {"days": u32::MAX}}));
        assert_eq!(ancient.walk_cutoff(NOW), None);
    }

    #[test]
    fn a_policy_reads_from_its_settings_text() {
        let policy = RetentionPolicy::from_settings(
            Some("2555"),
            &[
                "dean@example.edu=forever".into(),
                "ta@example.edu=365d".into(),
            ],
        )
        .unwrap();
        assert_eq!(policy.default_keep(), Keep::Days(2555));
        assert_eq!(policy.hosts()[0].keep, Keep::Forever);
        assert_eq!(policy.hosts()[1].keep, Keep::Days(365));
        assert!(policy.purges());
        let forever = RetentionPolicy::from_settings(None, &[]).unwrap();
        assert!(!forever.purges(), "no settings keep everything");
        assert!(
            !RetentionPolicy::from_settings(Some("forever"), &["a@b.edu=forever".into()])
                .unwrap()
                .purges()
        );
        for (default, hosts, expected) in [
            (
                Some("seven years"),
                vec![],
                "retention_days: \"seven years\" is neither",
            ),
            (
                None,
                vec!["dean@example.edu".to_string()],
                "is not EMAIL=DAYS or EMAIL=forever",
            ),
            (
                None,
                vec!["dean@example.edu=soon".to_string()],
                "\"soon\" is neither",
            ),
            (Some("0"), vec![], "/default/days"),
            (
                None,
                vec!["a@b.edu=3".to_string(), "A@b.edu=4".to_string()],
                "/hosts/1/host_email",
            ),
        ] {
            let e = RetentionPolicy::from_settings(default, &hosts).unwrap_err();
            assert!(e.contains(expected), "{default:?} {hosts:?}: {e}");
        }
    }
}
