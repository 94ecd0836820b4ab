//! The simulated Zoom REST API (`/v2/...`) and its Server-to-Server OAuth
//! token endpoint (`/oauth/token`): the JSON shapes, status codes and error
//! bodies a Zoom client sees. Recording downloads live in `download`; this
//! module never serves file bytes.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use percent_encoding::percent_decode_str;
use serde_json::{json, Value};
use time::macros::format_description;
use time::{Date, OffsetDateTime};

use crate::error::Error;
use crate::ids::{decode_meeting_segment, MeetingRef};
use crate::model::UrlForm;
use crate::state::{MeetingEntry, Page, RecordingState, Shared, State as SimState};

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/oauth/token", post(oauth_token))
        .route("/v2/users", get(list_users))
        .route("/v2/users/{user}/recordings", get(list_user_recordings))
        .route(
            "/v2/meetings/{meeting}/recordings",
            get(meeting_recordings).delete(delete_meeting_recordings),
        )
        .route(
            "/v2/meetings/{meeting}/recordings/status",
            put(recover_meeting_recordings),
        )
        .route("/v2/past_meetings/{meeting}", get(past_meeting))
        .route(
            "/v2/past_meetings/{meeting}/instances",
            get(past_meeting_instances),
        )
        .route(
            "/v2/past_meetings/{meeting}/participants",
            get(past_meeting_participants),
        )
}

type Params = Query<HashMap<String, String>>;

// ---- OAuth -----------------------------------------------------------------

/// `POST /oauth/token?grant_type=account_credentials&account_id=...` with
/// HTTP Basic client credentials. Parameters may also come as a form body.
async fn oauth_token(
    State(shared): State<Arc<Shared>>,
    Query(mut params): Params,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, Error> {
    if let Ok(form) = std::str::from_utf8(&body) {
        for (key, value) in parse_form(form) {
            params.entry(key).or_insert(value);
        }
    }
    let config = &shared.config;
    let (client_id, client_secret) = basic_credentials(&headers).ok_or_else(|| {
        Error::oauth(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client ID or client secret is missing.",
        )
    })?;
    if client_id != config.client_id || client_secret != config.client_secret {
        return Err(Error::oauth(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Invalid client_id or client_secret",
        ));
    }
    match params.get("grant_type").map(String::as_str) {
        Some("account_credentials") => {}
        None => {
            return Err(Error::oauth(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "Missing grant type.",
            ))
        }
        Some(_) => {
            return Err(Error::oauth(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "unsupported grant type",
            ))
        }
    }
    match params.get("account_id") {
        Some(account) if *account == config.account_id => {}
        Some(_) => {
            return Err(Error::oauth(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "Invalid account_id.",
            ))
        }
        None => {
            return Err(Error::oauth(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "Missing account_id.",
            ))
        }
    }
    let (token, expires_in) = shared.lock().issue_access_token(config.token_ttl);
    Ok(Json(json!({
        "access_token": token,
        "token_type": "bearer",
        "expires_in": expires_in,
        "scope": config.scope,
        "api_url": shared.base_url,
    })))
}

fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

/// `application/x-www-form-urlencoded` pairs; malformed pairs are skipped.
fn parse_form(body: &str) -> Vec<(String, String)> {
    body.split('&')
        .filter(|pair| !pair.is_empty())
        .filter_map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |s: &str| {
                percent_decode_str(&s.replace('+', " "))
                    .decode_utf8()
                    .ok()
                    .map(|c| c.into_owned())
            };
            Some((decode(key)?, decode(value)?))
        })
        .collect()
}

/// The bearer token of a request, if it has one.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Every REST call needs a valid, unexpired OAuth access token.
fn authorize(shared: &Shared, headers: &HeaderMap) -> Result<(), Error> {
    let token = bearer(headers).ok_or_else(Error::invalid_access_token)?;
    shared.lock().check_access_token(token)
}

// ---- meetings --------------------------------------------------------------

/// Which meeting instances a lookup may return.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Lookup {
    /// Past-meeting endpoints: any instance, whatever became of its recording.
    AnyInstance,
    /// Recording endpoints: only a recording that is listed (not trashed).
    ListedRecording,
}

fn resolve<'a>(state: &'a SimState, segment: &str, lookup: Lookup) -> Option<&'a MeetingEntry> {
    let listed =
        |e: &&MeetingEntry| lookup == Lookup::AnyInstance || e.state == RecordingState::Active;
    match decode_meeting_segment(segment) {
        MeetingRef::Uuid(uuid) => state.meeting_entry(&uuid).filter(listed),
        MeetingRef::Number(id) => match lookup {
            Lookup::ListedRecording => state.latest_instance(id),
            Lookup::AnyInstance => state
                .meetings()
                .filter(|e| e.meeting.id == id)
                .max_by_key(|e| e.meeting.start_time),
        },
        MeetingRef::Unresolvable => None,
    }
}

/// `GET /v2/meetings/{meetingId or UUID}/recordings`.
async fn meeting_recordings(
    State(shared): State<Arc<Shared>>,
    Path(segment): Path<String>,
    Query(params): Params,
    headers: HeaderMap,
) -> Result<Json<Value>, Error> {
    authorize(&shared, &headers)?;
    let mut state = shared.lock();
    let (uuid, mut body) = {
        let entry = resolve(&state, &segment, Lookup::ListedRecording)
            .ok_or_else(Error::recording_not_found)?;
        (
            entry.meeting.uuid.clone(),
            entry
                .meeting
                .recording_json(&shared.config.account_id, UrlForm::Api),
        )
    };
    let wants_token = params.get("include_fields").is_some_and(|fields| {
        fields
            .split(',')
            .any(|f| f.trim() == "download_access_token")
    });
    if wants_token {
        // Zoom lets the caller choose the token's lifetime, 1 s to 7 days.
        let ttl = match params.get("ttl") {
            Some(ttl) => match ttl.parse::<u64>() {
                Ok(secs) if (1..=604_800).contains(&secs) => Duration::from_secs(secs),
                _ => return Err(Error::bad_request("Invalid field: ttl.")),
            },
            None => shared.config.download_token_ttl,
        };
        let token = state.issue_download_token(&uuid, ttl);
        if let Value::Object(map) = &mut body {
            map.insert("download_access_token".into(), json!(token));
        }
    }
    Ok(Json(body))
}

/// `DELETE /v2/meetings/{meetingUUID}/recordings?action=trash|delete`:
/// moves the recording to the trash (the default) or deletes it for good.
async fn delete_meeting_recordings(
    State(shared): State<Arc<Shared>>,
    Path(segment): Path<String>,
    Query(params): Params,
    headers: HeaderMap,
) -> Result<StatusCode, Error> {
    authorize(&shared, &headers)?;
    let target = match params.get("action").map(String::as_str) {
        None | Some("trash") => RecordingState::Trashed,
        Some("delete") => RecordingState::Deleted,
        Some(_) => return Err(Error::bad_request("Invalid field: action.")),
    };
    let mut state = shared.lock();
    let uuid = resolve(&state, &segment, Lookup::ListedRecording)
        .map(|e| e.meeting.uuid.clone())
        .ok_or_else(Error::recording_not_found)?;
    state.set_state(&uuid, target);
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /v2/meetings/{meetingUUID}/recordings/status` with
/// `{"action":"recover"}`: takes a recording back out of the trash.
async fn recover_meeting_recordings(
    State(shared): State<Arc<Shared>>,
    Path(segment): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, Error> {
    authorize(&shared, &headers)?;
    let action: Value = serde_json::from_slice(&body)
        .map_err(|_| Error::bad_request("Request Body should be a valid JSON object."))?;
    if action.get("action").and_then(Value::as_str) != Some("recover") {
        return Err(Error::bad_request("Invalid field: action."));
    }
    let mut state = shared.lock();
    let uuid = resolve(&state, &segment, Lookup::AnyInstance)
        .filter(|e| e.state == RecordingState::Trashed)
        .map(|e| e.meeting.uuid.clone())
        .ok_or_else(Error::recording_not_found)?;
    state.set_state(&uuid, RecordingState::Active);
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v2/past_meetings/{meetingUUID}`.
async fn past_meeting(
    State(shared): State<Arc<Shared>>,
    Path(segment): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, Error> {
    authorize(&shared, &headers)?;
    let state = shared.lock();
    let entry = resolve(&state, &segment, Lookup::AnyInstance)
        .ok_or_else(|| Error::meeting_not_found(&segment))?;
    Ok(Json(entry.meeting.past_meeting_json()))
}

/// `GET /v2/past_meetings/{meetingId}/instances`: every ended instance of
/// a meeting number, `{"meetings": [{"uuid", "start_time"}]}`, oldest
/// first, whatever became of their recordings. Not paged, as Zoom's is
/// not. An unknown number answers 404 as Zoom's does.
async fn past_meeting_instances(
    State(shared): State<Arc<Shared>>,
    Path(segment): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, Error> {
    authorize(&shared, &headers)?;
    let state = shared.lock();
    let MeetingRef::Number(id) = decode_meeting_segment(&segment) else {
        return Err(Error::meeting_not_found(&segment));
    };
    let mut instances: Vec<&MeetingEntry> =
        state.meetings().filter(|e| e.meeting.id == id).collect();
    if instances.is_empty() {
        return Err(Error::meeting_not_found(&segment));
    }
    instances.sort_by_key(|e| e.meeting.start_time);
    let meetings: Vec<Value> = instances
        .iter()
        .map(|e| {
            serde_json::json!({
                "uuid": e.meeting.uuid,
                "start_time": crate::model::format_time(e.meeting.start_time),
            })
        })
        .collect();
    Ok(Json(serde_json::json!({ "meetings": meetings })))
}

/// `GET /v2/past_meetings/{meetingUUID}/participants`, paged.
async fn past_meeting_participants(
    State(shared): State<Arc<Shared>>,
    Path(segment): Path<String>,
    Query(params): Params,
    headers: HeaderMap,
) -> Result<Json<Value>, Error> {
    authorize(&shared, &headers)?;
    let page_size = page_size(&params, 300)?;
    let mut state = shared.lock();
    let (uuid, participants) = {
        let entry = resolve(&state, &segment, Lookup::AnyInstance)
            .ok_or_else(|| Error::meeting_not_found(&segment))?;
        (
            entry.meeting.uuid.clone(),
            entry
                .meeting
                .participants
                .iter()
                .map(|p| p.to_json())
                .collect::<Vec<_>>(),
        )
    };
    let Page {
        items: page,
        total,
        next_page_token: next,
    } = state.page(
        &format!("participants:{uuid}"),
        participants,
        page_size,
        params.get("next_page_token").map(String::as_str),
    )?;
    Ok(Json(json!({
        "page_count": total.div_ceil(page_size),
        "page_size": page_size,
        "total_records": total,
        "next_page_token": next,
        "participants": page,
    })))
}

// ---- users -----------------------------------------------------------------

/// `page_size` as Zoom reads it: 30 by default, clamped to the endpoint's
/// maximum, and a 300 error when it is not a number.
fn page_size(params: &HashMap<String, String>, max: usize) -> Result<usize, Error> {
    match params.get("page_size") {
        None => Ok(30),
        Some(text) => text
            .parse::<usize>()
            .map(|n| n.clamp(1, max))
            .map_err(|_| Error::bad_request("Invalid field: page_size.")),
    }
}

/// `GET /v2/users?status=active&page_size=&next_page_token=`.
async fn list_users(
    State(shared): State<Arc<Shared>>,
    Query(params): Params,
    headers: HeaderMap,
) -> Result<Json<Value>, Error> {
    authorize(&shared, &headers)?;
    let status = params.get("status").map(String::as_str).unwrap_or("active");
    if !matches!(status, "active" | "inactive" | "pending") {
        return Err(Error::bad_request("Invalid field: status."));
    }
    let page_size = page_size(&params, 2000)?;
    let mut state = shared.lock();
    let users: Vec<Value> = state
        .users()
        .iter()
        .filter(|u| u.status == status)
        .map(|u| u.to_json())
        .collect();
    let Page {
        items: page,
        total,
        next_page_token: next,
    } = state.page(
        &format!("users:{status}"),
        users,
        page_size,
        params.get("next_page_token").map(String::as_str),
    )?;
    Ok(Json(json!({
        "page_count": total.div_ceil(page_size),
        "page_number": 1,
        "page_size": page_size,
        "total_records": total,
        "next_page_token": next,
        "users": page,
    })))
}

/// `GET /v2/users/{userId}/recordings?from=&to=&page_size=&next_page_token=&trash=`.
/// Meetings whose start date (UTC) lies in `[from, to]`, newest first. Zoom
/// serves at most one month per request; a wider range is refused here so
/// that a client which forgets to split its scan finds out in tests.
async fn list_user_recordings(
    State(shared): State<Arc<Shared>>,
    Path(user): Path<String>,
    Query(params): Params,
    headers: HeaderMap,
) -> Result<Json<Value>, Error> {
    authorize(&shared, &headers)?;
    let page_size = page_size(&params, 300)?;
    let trash = match params.get("trash").map(String::as_str) {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(Error::bad_request("Invalid field: trash.")),
    };
    let mut state = shared.lock();
    let today = OffsetDateTime::from(state.now()).date();
    let to = params
        .get("to")
        .map(|t| parse_date(t, "to"))
        .transpose()?
        .unwrap_or(today);
    let from = params
        .get("from")
        .map(|f| parse_date(f, "from"))
        .transpose()?
        .unwrap_or(today);
    if to < from {
        return Err(Error::bad_request(
            "The value of 'to' can not be earlier than 'from'.",
        ));
    }
    if to > one_month_after(from) {
        return Err(Error::bad_request("The maximum range can be a month."));
    }
    let host_id = state
        .find_user(&user)
        .map(|u| u.id.clone())
        .ok_or_else(|| Error::user_not_found(&user))?;
    let wanted = if trash {
        RecordingState::Trashed
    } else {
        RecordingState::Active
    };
    let mut entries: Vec<&MeetingEntry> = state
        .meetings()
        .filter(|e| e.meeting.host_id == host_id && e.state == wanted)
        .filter(|e| {
            let day = e.meeting.start_time.to_offset(time::UtcOffset::UTC).date();
            from <= day && day <= to
        })
        .collect();
    entries.sort_by_key(|e| std::cmp::Reverse(e.meeting.start_time));
    let meetings: Vec<Value> = entries
        .iter()
        .map(|e| {
            e.meeting
                .recording_json(&shared.config.account_id, UrlForm::Api)
        })
        .collect();
    let Page {
        items: page,
        total,
        next_page_token: next,
    } = state.page(
        &format!("recordings:{host_id}:{from}:{to}:{trash}"),
        meetings,
        page_size,
        params.get("next_page_token").map(String::as_str),
    )?;
    let date = format_description!("[year]-[month]-[day]");
    Ok(Json(json!({
        "from": from.format(&date).unwrap_or_default(),
        "to": to.format(&date).unwrap_or_default(),
        "page_count": total.div_ceil(page_size),
        "page_size": page_size,
        "total_records": total,
        "next_page_token": next,
        "meetings": page,
    })))
}

fn parse_date(text: &str, field: &str) -> Result<Date, Error> {
    Date::parse(text, format_description!("[year]-[month]-[day]"))
        .map_err(|_| Error::bad_request(format!("Invalid field: {field}.")))
}

/// The same day of the next month, or that month's last day if it is shorter.
pub(crate) fn one_month_after(date: Date) -> Date {
    let (year, month) = match date.month() {
        time::Month::December => (date.year() + 1, time::Month::January),
        month => (date.year(), month.next()),
    };
    let day = date.day().min(month.length(year));
    Date::from_calendar_date(year, month, day).unwrap_or(date)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn one_month_after_clamps_to_the_shorter_month() {
        assert_eq!(
            one_month_after(date!(2024 - 01 - 31)),
            date!(2024 - 02 - 29)
        );
        assert_eq!(
            one_month_after(date!(2024 - 12 - 15)),
            date!(2025 - 01 - 15)
        );
        assert_eq!(
            one_month_after(date!(2024 - 03 - 01)),
            date!(2024 - 04 - 01)
        );
    }

    #[test]
    fn form_bodies_decode_plus_and_escapes() {
        assert_eq!(
            parse_form("grant_type=account_credentials&account_id=a%2Bb+c"),
            vec![
                ("grant_type".to_owned(), "account_credentials".to_owned()),
                ("account_id".to_owned(), "a+b c".to_owned()),
            ]
        );
    }
}
