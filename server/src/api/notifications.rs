//! The routes of issue 20's first part: password reset and address confirmation by emailed
//! link, the bell (notifications, marking them read, the live unread count as server-sent
//! events), each person's delivery choices, and one-click unsubscribing from an email.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Json;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::Stream;
use hubring_protocol::ErrorBody;
use hubring_protocol::api::{
    ConfirmRequest, MailHealth, Me, NotificationList, NotificationPrefs, NotificationsRead,
    ResetConfirm, ResetRequest,
};
use hubring_sync::CloseSignal;

use super::auth::{Auth, check_same_origin, session_cookie};
use super::json::ApiJson;
use super::me_view;
use crate::AppState;
use crate::http::ApiError;
use crate::live::Watch;

#[utoipa::path(get, path = "/admin/mail", tag = "notifications", summary = "Instance admins: whether email is sent and how the outbox stands", responses((status = 200, body = MailHealth), (status = "4XX", body = ErrorBody, description = "Refused (403 for anyone but an instance admin); the body says why")))]
pub(crate) async fn mail_health(
    State(app): State<AppState>,
    Auth(caller): Auth,
) -> Result<Json<MailHealth>, ApiError> {
    Ok(Json(app.workspace.mail_health(&caller).await?))
}

#[utoipa::path(post, path = "/auth/reset", tag = "accounts", summary = "Email a password reset link (the same answer whether or not the address has an account)", request_body = ResetRequest, responses((status = 202, description = "If an account has the address, a link is on its way"), (status = "4XX", body = ErrorBody, description = "Refused (503 when this server sends no email); the body says why")))]
pub(crate) async fn request_reset(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<ResetRequest>,
) -> Result<StatusCode, ApiError> {
    check_same_origin(&headers, &app.config.accounts, false)?;
    app.auth_limiter.check_address(peer.ip())?;
    app.workspace.request_reset(&req.email).await?;
    Ok(StatusCode::ACCEPTED)
}

#[utoipa::path(post, path = "/auth/reset/confirm", tag = "accounts", summary = "Set a new password with an emailed link; every session ends", request_body = ResetConfirm, responses((status = 204), (status = 410, body = ErrorBody, description = "The link was used already or expired"), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
pub(crate) async fn confirm_reset(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<ResetConfirm>,
) -> Result<StatusCode, ApiError> {
    check_same_origin(&headers, &app.config.accounts, false)?;
    app.auth_limiter.check_address(peer.ip())?;
    let revocation = app.workspace.confirm_reset(&req.token, req.password).await?;
    app.live.revoke(&revocation);
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/auth/confirm", tag = "accounts", summary = "Confirm an address with an emailed link, and sign in", request_body = ConfirmRequest, responses((status = 200, body = Me), (status = 410, body = ErrorBody, description = "The link was used already or expired"), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
pub(crate) async fn confirm_email(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<ConfirmRequest>,
) -> Result<Response, ApiError> {
    check_same_origin(&headers, &app.config.accounts, false)?;
    app.auth_limiter.check_address(peer.ip())?;
    let signup = app.workspace.confirm_email(&req.token).await?;
    let cookie = session_cookie(&signup.session, &app.config.accounts);
    let mut me = me_view(&signup.user);
    me.email_confirmed = true;
    Ok(([(header::SET_COOKIE, cookie)], Json(me)).into_response())
}

#[utoipa::path(get, path = "/me/notifications", tag = "notifications", summary = "The caller's newest notifications and how many are unread", responses((status = 200, body = NotificationList), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
pub(crate) async fn list_notifications(
    State(app): State<AppState>,
    Auth(caller): Auth,
) -> Result<Json<NotificationList>, ApiError> {
    Ok(Json(app.workspace.notifications(&caller).await?))
}

#[utoipa::path(post, path = "/me/notifications/read", tag = "notifications", summary = "Mark notifications read: the ids given, or all", request_body = NotificationsRead, responses((status = 204), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
pub(crate) async fn read_notifications(
    State(app): State<AppState>,
    Auth(caller): Auth,
    ApiJson(req): ApiJson<NotificationsRead>,
) -> Result<StatusCode, ApiError> {
    app.workspace.read_notifications(&caller, req).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/me/notifications/stream", tag = "notifications", summary = "Server-sent events: `unread` with the unread count, now and whenever it changes; ends when the sign-in does", responses((status = 200, content_type = "text/event-stream", description = "`event: unread`, `data: {\"unread\": N}`"), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
pub(crate) async fn notification_stream(
    State(app): State<AppState>,
    Auth(caller): Auth,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let user = caller.signed_in()?.id.clone();
    let close = Arc::new(CloseSignal::default());
    // Registered like a document socket: signing out, a password change or a disabled account
    // ends the stream on every node.
    let registration = app.live.register(user.clone(), None, &caller, Watch::Bell, &close);
    let bell = app.live.bell(&user);
    let state = (app, user, bell, close, registration, true);
    let stream = futures_util::stream::unfold(state, |state| async move {
        let (app, user, mut bell, close, registration, first) = state;
        if !first {
            tokio::select! {
                changed = bell.changed() => changed.ok()?,
                () = close.closed() => return None,
                () = app.shutdown.cancelled() => return None,
            }
        }
        bell.borrow_and_update();
        let unread = app.workspace.unread_notifications(&user).await.ok()?;
        let event = Event::default()
            .event("unread")
            .data(serde_json::json!({ "unread": unread }).to_string());
        Some((Ok(event), (app, user, bell, close, registration, false)))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

#[utoipa::path(get, path = "/me/notification-prefs", tag = "notifications", summary = "How each kind of notification reaches the caller", responses((status = 200, body = NotificationPrefs), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
pub(crate) async fn notification_prefs(
    State(app): State<AppState>,
    Auth(caller): Auth,
) -> Result<Json<NotificationPrefs>, ApiError> {
    Ok(Json(app.workspace.notification_prefs(&caller).await?))
}

#[utoipa::path(put, path = "/me/notification-prefs", tag = "notifications", summary = "Choose how kinds of notification reach the caller (in the app, by email, both, none)", request_body = NotificationPrefs, responses((status = 200, body = NotificationPrefs), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
pub(crate) async fn set_notification_prefs(
    State(app): State<AppState>,
    Auth(caller): Auth,
    ApiJson(req): ApiJson<NotificationPrefs>,
) -> Result<Json<NotificationPrefs>, ApiError> {
    Ok(Json(app.workspace.set_notification_prefs(&caller, req).await?))
}

#[utoipa::path(post, path = "/unsubscribe/{secret}/{kind}", tag = "notifications", summary = "One click from an email (RFC 8058): stop emails of this kind; no sign-in needed", params(("secret" = String, Path, description = "The secret in the email's link"), ("kind" = String, Path, description = "invitation, mention, reply or join_request")), responses((status = 204), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
pub(crate) async fn unsubscribe(
    State(app): State<AppState>,
    Path((secret, kind)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    app.workspace.unsubscribe(&secret, &kind).await?;
    Ok(StatusCode::NO_CONTENT)
}
