//! Sessions on the calendar (issue 20): scheduling, RSVP with a waiting list, each session's
//! iCalendar file and each person's private calendar feed. Who may do what is decided by
//! `hubring-workspace`; these handlers translate.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hubring_protocol::api::{
    CalendarFeed, RsvpUpdate, SessionCreate, SessionDetail, SessionPatch, UpcomingSession,
};
use hubring_protocol::{ErrorBody, MeetingId, ProjectId};

use super::auth::Auth;
use super::json::ApiJson;
use super::templates;
use crate::AppState;
use crate::http::ApiError;

/// The origin links in calendar files start with: the configured public URL, or the host the
/// request was sent to.
fn origin(app: &AppState, headers: &HeaderMap) -> String {
    if let Some(origin) = &app.config.accounts.public_origin {
        return origin.clone();
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("localhost");
    let host: String = host.chars().filter(|c| c.is_ascii_graphic()).collect();
    format!("http://{host}")
}

fn calendar(body: String, name: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, format!("inline; filename=\"{name}.ics\"")),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        body,
    )
        .into_response()
}

#[utoipa::path(post, path = "/projects/{id}/sessions", tag = "sessions", summary = "Schedule a session: invitations go out with its calendar file", params(("id" = String, Path)), request_body = SessionCreate, responses((status = 201, body = SessionDetail), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
pub(crate) async fn create_session(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<SessionCreate>,
) -> Result<Response, ApiError> {
    let (session, notes) = app.workspace.create_session(&caller, &ProjectId(id), req).await?;
    if let Some(notes) = notes {
        templates::apply(&app, &notes.doc_id, notes.content).await?;
    }
    Ok((StatusCode::CREATED, Json(session)).into_response())
}

#[utoipa::path(get, path = "/projects/{id}/sessions", tag = "sessions", summary = "A project's sessions that have not ended, soonest first", params(("id" = String, Path)), responses((status = 200, body = Vec<SessionDetail>), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
pub(crate) async fn project_sessions(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Json<Vec<SessionDetail>>, ApiError> {
    Ok(Json(app.workspace.project_sessions(&caller, &ProjectId(id)).await?))
}

#[utoipa::path(get, path = "/sessions/{id}", tag = "sessions", summary = "One session: its times, who is invited and going, and whether its room is open", params(("id" = String, Path)), responses((status = 200, body = SessionDetail), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
pub(crate) async fn get_session(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Json<SessionDetail>, ApiError> {
    Ok(Json(app.workspace.session(&caller, &MeetingId(id)).await?))
}

#[utoipa::path(patch, path = "/sessions/{id}", tag = "sessions", summary = "Change a session (its organiser or a project owner); those invited are told", params(("id" = String, Path)), request_body = SessionPatch, responses((status = 200, body = SessionDetail), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
pub(crate) async fn update_session(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<SessionPatch>,
) -> Result<Json<SessionDetail>, ApiError> {
    Ok(Json(app.workspace.update_session(&caller, &MeetingId(id), patch).await?))
}

#[utoipa::path(delete, path = "/sessions/{id}", tag = "sessions", summary = "Cancel a session; those invited are told, with a calendar cancellation", params(("id" = String, Path)), responses((status = 204), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
pub(crate) async fn cancel_session(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    app.workspace.cancel_session(&caller, &MeetingId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(put, path = "/sessions/{id}/rsvp", tag = "sessions", summary = "Answer going, maybe or declined; going to a full session joins its waiting list", params(("id" = String, Path)), request_body = RsvpUpdate, responses((status = 200, body = SessionDetail), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
pub(crate) async fn rsvp(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<RsvpUpdate>,
) -> Result<Json<SessionDetail>, ApiError> {
    Ok(Json(app.workspace.rsvp(&caller, &MeetingId(id), req.response).await?))
}

#[utoipa::path(get, path = "/sessions/{id}/ics", tag = "sessions", summary = "The session as an iCalendar file (RFC 5545) with its time zone", params(("id" = String, Path)), responses((status = 200, description = "The calendar file", content_type = "text/calendar"), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
pub(crate) async fn session_ics(
    State(app): State<AppState>,
    Auth(caller): Auth,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let origin = origin(&app, &headers);
    let body = app.workspace.session_ics(&caller, &MeetingId(id), &origin).await?;
    Ok(calendar(body, "session"))
}

#[utoipa::path(get, path = "/me/sessions", tag = "sessions", summary = "The caller's upcoming sessions across projects, soonest first", responses((status = 200, body = Vec<UpcomingSession>), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
pub(crate) async fn my_sessions(
    State(app): State<AppState>,
    Auth(caller): Auth,
) -> Result<Json<Vec<UpcomingSession>>, ApiError> {
    Ok(Json(app.workspace.my_sessions(&caller).await?))
}

#[utoipa::path(get, path = "/me/calendar-feed", tag = "sessions", summary = "The caller's private calendar feed address, for calendar apps to subscribe to", responses((status = 200, body = CalendarFeed), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
pub(crate) async fn calendar_feed(
    State(app): State<AppState>,
    Auth(caller): Auth,
    headers: HeaderMap,
) -> Result<Json<CalendarFeed>, ApiError> {
    let path = app.workspace.calendar_feed(&caller, false).await?;
    Ok(Json(CalendarFeed { url: format!("{}{path}", origin(&app, &headers)) }))
}

#[utoipa::path(post, path = "/me/calendar-feed", tag = "sessions", summary = "A new feed address: the old one stops working", responses((status = 200, body = CalendarFeed), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
pub(crate) async fn renew_calendar_feed(
    State(app): State<AppState>,
    Auth(caller): Auth,
    headers: HeaderMap,
) -> Result<Json<CalendarFeed>, ApiError> {
    let path = app.workspace.calendar_feed(&caller, true).await?;
    Ok(Json(CalendarFeed { url: format!("{}{path}", origin(&app, &headers)) }))
}

#[utoipa::path(get, path = "/calendar/{file}", tag = "sessions", summary = "A private calendar feed (`{secret}.ics`): every session on its owner's calendar, no sign-in needed", params(("file" = String, Path, description = "The feed's secret followed by .ics")), responses((status = 200, description = "The calendar", content_type = "text/calendar"), (status = "4XX", body = ErrorBody, description = "No such feed (404, or it was renewed)")))]
pub(crate) async fn feed(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(file): Path<String>,
) -> Result<Response, ApiError> {
    let secret = file.strip_suffix(".ics").unwrap_or(&file);
    let origin = origin(&app, &headers);
    Ok(calendar(app.workspace.feed(secret, &origin).await?, "hubring"))
}
