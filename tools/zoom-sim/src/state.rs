//! The simulated account's mutable state behind one mutex: users, meetings
//! and their trash state, issued OAuth and download tokens, page cursors,
//! fault knobs and the request log. Handlers take the lock, copy out what
//! they need and release it before any I/O; nothing here awaits.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use serde::Serialize;
use serde_json::{json, Value};
use sha2::Sha256;
use time::OffsetDateTime;

use crate::config::{DownloadErrorBody, SimConfig, UserSpec};
use crate::content::FileBody;
use crate::error::Error;
use crate::faults::{Faults, FileFault, LoggedRequest};
use crate::ids::IdSource;
use crate::model::{
    format_time, FileContent, FileRef, MeetingSpec, SimFile, SimMeeting, SimParticipant,
};
use crate::text;

/// Where a meeting's cloud recording is: listed, in the trash, or gone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordingState {
    Active,
    Trashed,
    Deleted,
}

/// A user of the simulated account.
#[derive(Clone, Debug, Serialize)]
pub struct SimUser {
    pub id: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub status: String,
    pub pmi: u64,
}

impl SimUser {
    pub(crate) fn display_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }

    /// An entry of `GET /v2/users`.
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "display_name": self.display_name(),
            "email": self.email,
            "type": 2,
            "pmi": self.pmi,
            "timezone": "UTC",
            "verified": 1,
            "dept": "",
            "created_at": "2021-03-01T09:00:00Z",
            "user_created_at": "2021-03-01T09:00:00Z",
            "last_login_time": "2024-05-01T08:00:00Z",
            "language": "en-US",
            "status": self.status,
            "role_id": "2",
        })
    }
}

pub(crate) struct MeetingEntry {
    pub meeting: SimMeeting,
    pub state: RecordingState,
    pub file_faults: Vec<FileFault>,
}

struct DownloadGrant {
    meeting_uuid: String,
    expires: SystemTime,
}

struct PageCursor {
    scope: String,
    offset: usize,
    expires: SystemTime,
}

/// What the CDN needs to serve one file, copied out of the lock.
pub(crate) struct ServedFile {
    pub body: FileBody,
    pub fault: FileFault,
    pub file_type: String,
    pub file_extension: String,
    pub file_name: String,
}

/// How many requests the log keeps; a long-running demo server would
/// otherwise grow without bound. Tests see far fewer.
const REQUEST_LOG_LIMIT: usize = 100_000;

/// How long Zoom's `next_page_token`s stay valid.
const PAGE_TOKEN_TTL: Duration = Duration::from_secs(15 * 60);

/// Configuration plus the locked state; shared by every handler.
pub(crate) struct Shared {
    pub config: SimConfig,
    pub base_url: String,
    cdn_secret: Vec<u8>,
    state: Mutex<State>,
}

impl std::fmt::Debug for Shared {
    // Written by hand to keep the CDN signing key out of debug output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("base_url", &self.base_url)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Shared {
    pub(crate) fn new(config: SimConfig, base_url: String) -> Shared {
        // Tokens must not repeat across simulator runs with the same seed, or
        // a client caching a token across restarts would wrongly succeed.
        let salt = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0)
            ^ u64::from(std::process::id()).rotate_left(32);
        let mut secrets = IdSource::new(config.seed ^ salt);
        let cdn_secret = secrets.opaque(32).into_bytes();
        let mut state = State {
            ids: IdSource::new(config.seed),
            secrets,
            meetings: Vec::new(),
            by_uuid: HashMap::new(),
            by_handle: HashMap::new(),
            by_cdn_handle: HashMap::new(),
            users: Vec::new(),
            access_tokens: HashMap::new(),
            download_tokens: HashMap::new(),
            page_tokens: HashMap::new(),
            range_support: config.range_support,
            download_error_body: config.download_error_body,
            clock_offset: Duration::ZERO,
            faults: Faults::default(),
            log: Vec::new(),
        };
        for user in &config.users {
            state.add_user(user.clone());
        }
        Shared {
            config,
            base_url,
            cdn_secret,
            state: Mutex::new(state),
        }
    }

    /// The state, even if a panicking test thread poisoned the lock: the
    /// simulator's state stays consistent because no method panics midway.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn cdn_signature(&self, cdn_handle: &str, expires: u64) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.cdn_secret)
            .expect("HMAC accepts keys of any length");
        mac.update(format!("{cdn_handle}:{expires}").as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// The signed CDN URL a download redirects to.
    pub(crate) fn signed_cdn_url(&self, cdn_handle: &str, now: SystemTime) -> String {
        let expires = unix_secs(now + self.config.cdn_url_ttl);
        let sig = self.cdn_signature(cdn_handle, expires);
        format!(
            "{}/cdn/{cdn_handle}?expires={expires}&sig={sig}",
            self.base_url
        )
    }

    /// Whether a CDN URL's signature is genuine and unexpired at `now`.
    pub(crate) fn cdn_url_valid(
        &self,
        cdn_handle: &str,
        expires: u64,
        sig: &str,
        now: SystemTime,
    ) -> bool {
        let Ok(sig) = hex::decode(sig) else {
            return false;
        };
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.cdn_secret)
            .expect("HMAC accepts keys of any length");
        mac.update(format!("{cdn_handle}:{expires}").as_bytes());
        mac.verify_slice(&sig).is_ok() && unix_secs(now) <= expires
    }
}

pub(crate) fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

pub(crate) struct State {
    ids: IdSource,
    secrets: IdSource,
    meetings: Vec<MeetingEntry>,
    by_uuid: HashMap<String, usize>,
    by_handle: HashMap<String, (usize, usize)>,
    by_cdn_handle: HashMap<String, (usize, usize)>,
    users: Vec<SimUser>,
    access_tokens: HashMap<String, SystemTime>,
    download_tokens: HashMap<String, DownloadGrant>,
    page_tokens: HashMap<String, PageCursor>,
    pub range_support: bool,
    pub download_error_body: DownloadErrorBody,
    clock_offset: Duration,
    pub faults: Faults,
    pub log: Vec<LoggedRequest>,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("meetings", &self.meetings.len())
            .field("users", &self.users.len())
            .finish_non_exhaustive()
    }
}

impl State {
    /// The simulator's clock: wall time plus whatever a test advanced it by,
    /// so expiry can be tested without sleeping.
    pub(crate) fn now(&self) -> SystemTime {
        SystemTime::now() + self.clock_offset
    }

    pub(crate) fn advance_clock(&mut self, by: Duration) {
        self.clock_offset += by;
    }

    // ---- users -------------------------------------------------------------

    pub(crate) fn add_user(&mut self, spec: UserSpec) -> SimUser {
        let user = SimUser {
            id: self.ids.short_id(),
            first_name: spec.first_name,
            last_name: spec.last_name,
            email: spec.email,
            status: spec.status,
            pmi: 1_000_000_000 + self.ids.next_u64() % 8_999_999_999,
        };
        self.users.push(user.clone());
        user
    }

    pub(crate) fn users(&self) -> &[SimUser] {
        &self.users
    }

    /// A user by id, email, or `me` (the account owner, the first user).
    pub(crate) fn find_user(&self, user: &str) -> Option<&SimUser> {
        if user == "me" {
            return self.users.first();
        }
        self.users
            .iter()
            .find(|u| u.id == user || u.email.eq_ignore_ascii_case(user))
    }

    fn host_for(&mut self, email: Option<&str>) -> SimUser {
        if let Some(email) = email {
            if let Some(user) = self.find_user(email) {
                return user.clone();
            }
            let local = email.split('@').next().unwrap_or(email);
            return self.add_user(UserSpec::active(local, "Host", email));
        }
        match self.users.first() {
            Some(owner) => owner.clone(),
            None => self.add_user(UserSpec::active("Account", "Owner", "owner@example.com")),
        }
    }

    // ---- meetings ----------------------------------------------------------

    pub(crate) fn add_meeting(
        &mut self,
        config: &SimConfig,
        base_url: &str,
        spec: MeetingSpec,
    ) -> SimMeeting {
        let uuid = spec
            .uuid
            .clone()
            .unwrap_or_else(|| self.ids.meeting_uuid(spec.uuid_shape));
        let id = spec.id.unwrap_or_else(|| self.ids.meeting_number());
        let host = self.host_for(spec.host_email.as_deref());
        let now = OffsetDateTime::from(self.now());
        let start_time = spec
            .start_time
            .unwrap_or(now - time::Duration::hours(2))
            .replace_nanosecond(0)
            .unwrap_or(now);
        let meeting_secs = u64::from(spec.duration_minutes) * 60;

        let mut names = vec![host.display_name()];
        names.extend(spec.participants.iter().cloned());
        let people: Vec<(String, String)> = names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let email = if i == 0 {
                    host.email.clone()
                } else {
                    format!("{}@example.com", name.to_lowercase().replace(' ', "."))
                };
                (name.clone(), email)
            })
            .collect();
        let participants = people
            .iter()
            .enumerate()
            .map(|(i, (name, email))| {
                let join = 60 * i as u64;
                let leave = meeting_secs.saturating_sub(30 * i as u64).max(join);
                SimParticipant {
                    id: self.ids.short_id(),
                    user_id: (16_778_240 + 1024 * i as u64).to_string(),
                    name: name.clone(),
                    user_email: email.clone(),
                    join_time: format_time(start_time + secs(join)),
                    leave_time: format_time(start_time + secs(leave)),
                    duration: leave - join,
                }
            })
            .collect();

        let files = spec
            .files
            .iter()
            .enumerate()
            .map(|(index, file)| {
                let file_id = self.ids.file_id();
                let duration = file
                    .duration_secs
                    .unwrap_or_else(|| meeting_secs.saturating_sub(file.start_offset_secs));
                let text_name = format!("{uuid}/{file_id}");
                let body = match &file.content {
                    FileContent::Generated { size } => {
                        FileBody::generated(config.seed, &file_id, *size)
                    }
                    FileContent::Text { text } => FileBody::fixed(text.clone().into_bytes()),
                    FileContent::Transcript => FileBody::fixed(
                        text::transcript(config.seed, &text_name, &names, duration).into_bytes(),
                    ),
                    FileContent::Chat => FileBody::fixed(
                        text::chat(config.seed, &text_name, &names, duration).into_bytes(),
                    ),
                    FileContent::Timeline => FileBody::fixed(
                        text::timeline(config.seed, &text_name, &people, duration).into_bytes(),
                    ),
                };
                let handle = self.ids.opaque(48);
                let recording_start = start_time + secs(file.start_offset_secs);
                SimFile {
                    index,
                    id: file.listed_with_id.then(|| file_id.clone()),
                    content_key: file_id,
                    generated: matches!(file.content, FileContent::Generated { .. }),
                    file_type: file.file_type.clone(),
                    file_extension: file.file_extension.clone(),
                    recording_type: file.recording_type.clone(),
                    size: body.len(),
                    listed_size: file.listed_with_size.then(|| body.len()),
                    recording_start: format_time(recording_start),
                    recording_end: format_time(recording_start + secs(duration)),
                    download_url: format!("{base_url}/rec/download/{handle}"),
                    webhook_download_url: format!("{base_url}/rec/webhook_download/{handle}"),
                    play_url: file
                        .listed_with_id
                        .then(|| format!("{base_url}/rec/play/{handle}")),
                    processing: file.processing,
                    cdn_handle: self.ids.opaque(32),
                    handle,
                    body,
                }
            })
            .collect::<Vec<_>>();

        let meeting = SimMeeting {
            uuid: uuid.clone(),
            id,
            host_id: host.id.clone(),
            host_email: host.email.clone(),
            host_name: host.display_name(),
            topic: spec.topic.clone(),
            start_time,
            duration_minutes: spec.duration_minutes,
            timezone: spec.timezone.clone(),
            share_url: format!("{base_url}/rec/share/{}", self.ids.opaque(40)),
            recording_play_passcode: self.ids.opaque(24),
            participants,
            files,
        };
        let entry = MeetingEntry {
            meeting: meeting.clone(),
            state: RecordingState::Active,
            file_faults: vec![FileFault::default(); meeting.files.len()],
        };
        let position = match self.by_uuid.get(&uuid) {
            // Adding a UUID again replaces the recording; its old download
            // handles stop resolving.
            Some(&position) => {
                for file in &self.meetings[position].meeting.files {
                    self.by_handle.remove(&file.handle);
                    self.by_cdn_handle.remove(&file.cdn_handle);
                }
                self.meetings[position] = entry;
                position
            }
            None => {
                self.meetings.push(entry);
                self.meetings.len() - 1
            }
        };
        self.by_uuid.insert(uuid, position);
        for (index, file) in meeting.files.iter().enumerate() {
            self.by_handle
                .insert(file.handle.clone(), (position, index));
            self.by_cdn_handle
                .insert(file.cdn_handle.clone(), (position, index));
        }
        meeting
    }

    pub(crate) fn meeting_entry(&self, uuid: &str) -> Option<&MeetingEntry> {
        self.by_uuid.get(uuid).map(|&i| &self.meetings[i])
    }

    fn meeting_entry_mut(&mut self, uuid: &str) -> Option<&mut MeetingEntry> {
        match self.by_uuid.get(uuid) {
            Some(&i) => Some(&mut self.meetings[i]),
            None => None,
        }
    }

    pub(crate) fn meetings(&self) -> impl Iterator<Item = &MeetingEntry> {
        self.meetings.iter()
    }

    /// The latest instance of meeting number `id` whose recording is listed.
    pub(crate) fn latest_instance(&self, id: u64) -> Option<&MeetingEntry> {
        self.meetings
            .iter()
            .filter(|e| e.meeting.id == id && e.state == RecordingState::Active)
            .max_by_key(|e| e.meeting.start_time)
    }

    pub(crate) fn set_state(&mut self, uuid: &str, state: RecordingState) -> bool {
        match self.meeting_entry_mut(uuid) {
            Some(entry) => {
                entry.state = state;
                true
            }
            None => false,
        }
    }

    pub(crate) fn file_position(&self, uuid: &str, file: &FileRef) -> Option<(usize, usize)> {
        let &position = self.by_uuid.get(uuid)?;
        let files = &self.meetings[position].meeting.files;
        let index = match file {
            FileRef::Index(index) => (*index < files.len()).then_some(*index)?,
            FileRef::Id(id) => files.iter().position(|f| f.id.as_deref() == Some(id))?,
        };
        Some((position, index))
    }

    pub(crate) fn sim_file(&self, uuid: &str, file: &FileRef) -> Option<&SimFile> {
        let (position, index) = self.file_position(uuid, file)?;
        Some(&self.meetings[position].meeting.files[index])
    }

    pub(crate) fn set_file_fault(&mut self, uuid: &str, file: &FileRef, fault: FileFault) -> bool {
        match self.file_position(uuid, file) {
            Some((position, index)) => {
                self.meetings[position].file_faults[index] = fault;
                true
            }
            None => false,
        }
    }

    pub(crate) fn clear_file_faults(&mut self) {
        for entry in &mut self.meetings {
            entry.file_faults.fill(FileFault::default());
        }
    }

    /// The meeting UUID and listed state of the file behind a download handle.
    pub(crate) fn download_target(&self, handle: &str) -> Option<(&MeetingEntry, &SimFile)> {
        let &(position, index) = self.by_handle.get(handle)?;
        let entry = &self.meetings[position];
        Some((entry, &entry.meeting.files[index]))
    }

    /// The fault the download URL behind `handle` applies to this response
    /// (a sign-in page or a foreign redirect), counted against its `times`.
    pub(crate) fn take_download_url_fault(&mut self, handle: &str) -> FileFault {
        match self.by_handle.get(handle) {
            Some(&(position, index)) => {
                self.take_file_fault(position, index, FileFault::spoils_download_url)
            }
            None => FileFault::default(),
        }
    }

    /// File `index` of meeting `position`'s fault, if `spoils` says it
    /// changes this response; a fault with `times` left counts it, and one
    /// with none left is cleared.
    fn take_file_fault(
        &mut self,
        position: usize,
        index: usize,
        spoils: fn(&FileFault) -> bool,
    ) -> FileFault {
        let slot = &mut self.meetings[position].file_faults[index];
        if !spoils(slot) || slot.times == Some(0) {
            return FileFault::default();
        }
        let taken = slot.clone();
        if let Some(left) = slot.times {
            slot.times = Some(left - 1);
            if left == 1 {
                *slot = FileFault::default();
            }
        }
        taken
    }

    /// What the CDN serves for a CDN handle, if its recording is still
    /// listed; the file's byte fault is counted as applied.
    pub(crate) fn cdn_target(&mut self, cdn_handle: &str) -> Option<ServedFile> {
        let &(position, index) = self.by_cdn_handle.get(cdn_handle)?;
        if self.meetings[position].state != RecordingState::Active {
            return None;
        }
        let fault = self.take_file_fault(position, index, FileFault::spoils_bytes);
        let entry = &self.meetings[position];
        let file = &entry.meeting.files[index];
        let stamp = entry
            .meeting
            .start_time
            .format(time::macros::format_description!(
                "[year][month][day]-[hour][minute][second]"
            ))
            .unwrap_or_default();
        Some(ServedFile {
            body: file.body.clone(),
            fault,
            file_type: file.file_type.clone(),
            file_extension: file.file_extension.clone(),
            file_name: format!(
                "GMT{stamp}_Recording_{}.{}",
                file.index,
                file.file_extension.to_lowercase()
            ),
        })
    }

    // ---- tokens ------------------------------------------------------------

    /// A fresh URL-safe string of `bytes` bytes, from the stream that is
    /// salted per run, so a restarted simulator does not repeat it.
    pub(crate) fn fresh_secret(&mut self, bytes: usize) -> String {
        self.secrets.opaque(bytes)
    }

    /// Issues an OAuth access token; returns it with its lifetime in seconds
    /// as Zoom reports it (one second short, as Zoom's 3599 for an hour).
    pub(crate) fn issue_access_token(&mut self, ttl: Duration) -> (String, u64) {
        let token = format!("zvsim_at_{}", self.secrets.opaque(36));
        let expires = self.now() + ttl;
        self.access_tokens.insert(token.clone(), expires);
        (token, ttl.as_secs().saturating_sub(1))
    }

    pub(crate) fn check_access_token(&self, token: &str) -> Result<(), Error> {
        match self.access_tokens.get(token) {
            None => Err(Error::invalid_access_token()),
            Some(&expires) if expires <= self.now() => Err(Error::expired_access_token()),
            Some(_) => Ok(()),
        }
    }

    pub(crate) fn access_token_valid(&self, token: &str) -> bool {
        self.check_access_token(token).is_ok()
    }

    pub(crate) fn issued_tokens(&self) -> Vec<String> {
        self.access_tokens
            .keys()
            .chain(self.download_tokens.keys())
            .cloned()
            .collect()
    }

    pub(crate) fn expire_access_tokens(&mut self) {
        for expires in self.access_tokens.values_mut() {
            *expires = UNIX_EPOCH;
        }
    }

    /// Issues a download token for one meeting's recording files, as the
    /// `recording.completed` webhook and `include_fields=download_access_token` do.
    pub(crate) fn issue_download_token(&mut self, meeting_uuid: &str, ttl: Duration) -> String {
        let token = format!("zvsim_dl_{}", self.secrets.opaque(48));
        let expires = self.now() + ttl;
        self.download_tokens.insert(
            token.clone(),
            DownloadGrant {
                meeting_uuid: meeting_uuid.to_owned(),
                expires,
            },
        );
        token
    }

    pub(crate) fn download_token_valid_for(&self, token: &str, meeting_uuid: &str) -> bool {
        self.download_tokens
            .get(token)
            .is_some_and(|grant| grant.meeting_uuid == meeting_uuid && grant.expires > self.now())
    }

    pub(crate) fn expire_download_tokens(&mut self) {
        for grant in self.download_tokens.values_mut() {
            grant.expires = UNIX_EPOCH;
        }
    }

    // ---- request log -------------------------------------------------------

    /// Records a request, keeping at most `REQUEST_LOG_LIMIT` of the latest.
    pub(crate) fn log_request(&mut self, request: LoggedRequest) {
        if self.log.len() >= REQUEST_LOG_LIMIT {
            self.log.drain(..REQUEST_LOG_LIMIT / 2);
        }
        self.log.push(request);
    }

    // ---- paging ------------------------------------------------------------

    /// One page of `items`, a listing identified by `scope`, with the
    /// `next_page_token` to return ("" on the last page). A token from
    /// another listing, or an expired one, is refused as Zoom refuses it.
    pub(crate) fn page<T>(
        &mut self,
        scope: &str,
        items: Vec<T>,
        page_size: usize,
        token: Option<&str>,
    ) -> Result<Page<T>, Error> {
        let total = items.len();
        let (offset, next_page_token) = self.page_cursor(scope, total, page_size, token)?;
        Ok(Page {
            items: items.into_iter().skip(offset).take(page_size).collect(),
            total,
            next_page_token,
        })
    }

    /// Where a page starts, and the token of the page after it.
    fn page_cursor(
        &mut self,
        scope: &str,
        total: usize,
        page_size: usize,
        token: Option<&str>,
    ) -> Result<(usize, String), Error> {
        let offset = match token.filter(|t| !t.is_empty()) {
            None => 0,
            Some(token) => match self.page_tokens.get(token) {
                Some(cursor) if cursor.scope == scope && cursor.expires > self.now() => {
                    cursor.offset
                }
                _ => {
                    return Err(Error::bad_request(
                        "The next page token is invalid or expired.",
                    ))
                }
            },
        };
        let next = offset + page_size;
        if next >= total {
            return Ok((offset, String::new()));
        }
        let now = self.now();
        // Forget cursors nobody can use any more, so a long-running demo
        // does not accumulate them.
        self.page_tokens.retain(|_, cursor| cursor.expires > now);
        let token = self.secrets.opaque(27);
        let expires = now + PAGE_TOKEN_TTL;
        self.page_tokens.insert(
            token.clone(),
            PageCursor {
                scope: scope.to_owned(),
                offset: next,
                expires,
            },
        );
        Ok((offset, token))
    }
}

/// One page of a listing.
pub(crate) struct Page<T> {
    pub(crate) items: Vec<T>,
    /// Items in the whole listing.
    pub(crate) total: usize,
    /// "" on the last page.
    pub(crate) next_page_token: String,
}

fn secs(n: u64) -> time::Duration {
    time::Duration::seconds(i64::try_from(n).unwrap_or(i64::MAX))
}
