//! `/api/v1`: JSON over HTTP for accounts, tokens, projects, members and items. Handlers only
//! translate: the workspace decides, and every refusal becomes the one error body here.

mod assets;
mod auth;
mod boards;
mod comments;
mod docs;
mod exports;
pub(crate) use exports::asset_id;
mod json;
mod limit;
mod notifications;
mod sessions;
mod templates;
mod versions;

use std::net::SocketAddr;

use axum::extract::Query;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use hubring_protocol::api::{
    ChangePasswordRequest, CoachingCreate, CoachingCreated, HubCreate, HubMemberUpdate, HubUpdate,
    InviteLinkCreate, ItemCreate, ItemUpdate, LoginRequest, Me, MemberAdd, MemberUpdate, OpenTo,
    OwnershipTransfer, ProfileUpdate, ProjectCreate, ProjectUpdate, SignupRequest, TokenCreate,
};
use hubring_protocol::api::{
    HubCreated, HubJoined, HubSummary, HubView, InviteAccepted, InviteLinkCreated, InviteView,
    ItemCreated, ItemView, MemberAdded, MyInvite, PeoplePage, PersonView, Profile, ProjectCreated,
    ProjectSummary, ProjectView, RecentItem, SessionView, SignupPending, TokenCreated, TokenView,
    TrashedItem,
};
use hubring_protocol::{ErrorBody, HubId, InviteId, ItemId, ProjectId, TokenId, UserId};
use hubring_store::UserRecord;
use hubring_workspace::PeopleSearch;
use hubring_workspace::{MembershipChange, SignupOutcome, WorkspaceError};
use serde::Deserialize;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use auth::{Auth, cleared_cookie, session_cookie};
pub(crate) use auth::{authenticate, check_same_origin};
pub(crate) use docs::page as docs_page;
use json::ApiJson;
pub(crate) use limit::AuthLimiter;

use crate::AppState;
use crate::http::ApiError;

/// Largest JSON body accepted; a larger one is answered 413.
const MAX_BODY_BYTES: usize = 1 << 20;

/// The OpenAPI document's frame; the paths come from the handlers' `#[utoipa::path]`.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Hubring API",
        description = "Accounts, hubs, the people directory, projects, members and items. \
            Sign in with the session cookie (from signup or login; state-changing requests must \
            then come from the server's own origin) or `Authorization: Bearer TOKEN`. Errors are \
            `{\"error\": {\"code\", \"message\", \"fields\"?}}`.",
        license(name = "AGPL-3.0-or-later", identifier = "AGPL-3.0-or-later")
    ),
    servers((url = "/api/v1")),
    // The video rooms' signaling (`/ws/room/{room_id}`) is JSON over a websocket, not a route;
    // its messages are listed so the web client's types come from the same declarations.
    components(schemas(
        hubring_protocol::room::ClientMsg,
        hubring_protocol::room::ServerMsg
    )),
    tags(
        (name = "accounts", description = "Sign-up, sign-in, sessions and API tokens"),
        (name = "people", description = "Profiles and the people directory"),
        (name = "hubs", description = "Creative hubs and their members"),
        (name = "projects", description = "Projects, members, roles and invitations"),
        (name = "items", description = "Documents, boards and rooms inside projects"),
        (name = "assets", description = "Images uploaded into projects"),
        (name = "boards", description = "Board exports, dot votes and the shared timer"),
        (name = "comments", description = "Comment threads on documents and boards (BlockNote's REST thread store)"),
        (name = "versions", description = "Version history of documents and boards"),
        (name = "exports", description = "Documents and boards out (Markdown, HTML, DOCX, PDF, SVG, PNG) and files in (Markdown, DOCX)"),
        (name = "templates", description = "Templates new items start from: built-in, personal, and hubs'"),
        (name = "notifications", description = "The bell: notifications, their live unread count, and how each kind is delivered"),
        (name = "sessions", description = "Scheduled sessions: times in the organiser's zone, recurrence, RSVP and waiting lists, calendar files and feeds")
    )
)]
struct ApiDoc;

/// `/api/v1`'s routes and their OpenAPI document, from the same declarations: a route without
/// its documentation does not compile in here.
pub(crate) fn router() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, api) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(signup))
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(change_password))
        .routes(routes!(notifications::request_reset))
        .routes(routes!(notifications::confirm_reset))
        .routes(routes!(notifications::confirm_email))
        .routes(routes!(notifications::list_notifications))
        .routes(routes!(notifications::read_notifications))
        .routes(routes!(notifications::notification_stream))
        .routes(routes!(notifications::notification_prefs, notifications::set_notification_prefs))
        .routes(routes!(notifications::unsubscribe))
        .routes(routes!(notifications::mail_health))
        .routes(routes!(sessions::create_session, sessions::project_sessions))
        .routes(routes!(sessions::get_session, sessions::update_session, sessions::cancel_session))
        .routes(routes!(sessions::rsvp))
        .routes(routes!(sessions::session_ics))
        .routes(routes!(sessions::my_sessions))
        .routes(routes!(sessions::calendar_feed, sessions::renew_calendar_feed))
        .routes(routes!(sessions::feed))
        .routes(routes!(me))
        .routes(routes!(session))
        .routes(routes!(my_profile, update_profile))
        .routes(routes!(people))
        .routes(routes!(person))
        .routes(routes!(create_hub, hubs))
        .routes(routes!(hub, update_hub))
        .routes(routes!(join_hub))
        .routes(routes!(set_hub_role, remove_hub_member))
        .routes(routes!(create_token, list_tokens))
        .routes(routes!(revoke_token))
        .routes(routes!(create_project, my_projects))
        .routes(routes!(project, update_project, delete_project))
        .routes(routes!(add_member))
        .routes(routes!(set_role, remove_member))
        .routes(routes!(transfer_ownership))
        .routes(routes!(create_invite, invites))
        .routes(routes!(revoke_invite))
        .routes(routes!(accept_invite))
        .routes(routes!(my_invites))
        .routes(routes!(accept_my_invite))
        .routes(routes!(decline_my_invite))
        .routes(routes!(create_item, items))
        .routes(routes!(create_coaching))
        .routes(routes!(item, update_item, delete_item))
        .routes(routes!(recent))
        .routes(routes!(trash, empty_trash))
        .routes(routes!(restore_item))
        .routes(routes!(purge_item))
        .routes(routes!(my_hubs))
        .routes(routes!(assets::upload))
        .routes(routes!(assets::download))
        .routes(routes!(boards::state))
        .routes(routes!(boards::open_vote))
        .routes(routes!(boards::close_vote))
        .routes(routes!(boards::cast_dot))
        .routes(routes!(boards::retract_dot))
        .routes(routes!(boards::start_timer, boards::stop_timer))
        .routes(routes!(boards::export_svg))
        .routes(routes!(boards::version_svg))
        .routes(routes!(exports::export_item))
        .routes(routes!(exports::import_document))
        .routes(routes!(templates::list_templates, templates::create_template))
        .routes(routes!(templates::delete_template))
        .routes(routes!(boards::export_png))
        .routes(routes!(boards::thumbnail))
        .routes(routes!(comments::list_threads, comments::create_thread))
        .routes(routes!(comments::anchor_thread))
        .routes(routes!(comments::reply_to_thread))
        .routes(routes!(comments::edit_comment, comments::delete_comment))
        .routes(routes!(comments::delete_thread))
        .routes(routes!(comments::resolve_thread))
        .routes(routes!(comments::reopen_thread))
        .routes(routes!(comments::add_reaction))
        .routes(routes!(comments::remove_reaction))
        .routes(routes!(versions::list_versions, versions::take_version))
        .routes(routes!(versions::version))
        .routes(routes!(versions::version_diff))
        .routes(routes!(versions::restore_version))
        .split_for_parts();
    let router = router.fallback(not_found).layer(DefaultBodyLimit::max(MAX_BODY_BYTES));
    (router, api)
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route")
}

impl From<WorkspaceError> for ApiError {
    fn from(err: WorkspaceError) -> Self {
        match err {
            WorkspaceError::Invalid(fields) => {
                let messages = fields.messages();
                let message = messages
                    .iter()
                    .map(|(field, why)| format!("{field} {why}"))
                    .collect::<Vec<_>>()
                    .join("; ");
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message)
                    .with_fields(messages)
                    .with_field_codes(fields.problems())
            }
            WorkspaceError::Unauthenticated => {
                ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", "sign in first")
            }
            WorkspaceError::BadCredentials => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "bad_credentials",
                "wrong email or password",
            ),
            WorkspaceError::Forbidden(why) => {
                ApiError::new(StatusCode::FORBIDDEN, "forbidden", why)
            }
            WorkspaceError::NotFound(what) => {
                ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("{what} not found"))
            }
            WorkspaceError::Conflict(code, why) => ApiError::new(StatusCode::CONFLICT, code, why),
            WorkspaceError::Gone(code, why) => ApiError::new(StatusCode::GONE, code, why),
            WorkspaceError::InviteClosed(why) => {
                ApiError::new(StatusCode::GONE, why.code(), why.message())
            }
            WorkspaceError::TooLarge(limit) => too_large(limit),
            err @ WorkspaceError::TooManyPixels { width, height } => {
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "image_too_large", err.to_string())
                    .with_param("width", width)
                    .with_param("height", height)
                    .with_param("max_pixels", hubring_workspace::MAX_IMAGE_PIXELS)
            }
            WorkspaceError::UnsupportedMedia(why) => {
                ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", why)
            }
            WorkspaceError::Unconfirmed => ApiError::new(
                StatusCode::FORBIDDEN,
                "email_unconfirmed",
                "confirm your address first: we sent you a new link",
            ),
            WorkspaceError::MailDisabled => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "email_disabled",
                "this server sends no email: ask its admin",
            ),
            WorkspaceError::SignupClosed => ApiError::new(
                StatusCode::FORBIDDEN,
                "signup_closed",
                "sign-up is by invitation only on this server",
            ),
            WorkspaceError::Store(err) => {
                tracing::error!(%err, "store error");
                ApiError::internal()
            }
        }
    }
}

fn me_view(user: &UserRecord) -> Me {
    Me {
        id: user.id.clone(),
        email: user.email.clone(),
        display_name: user.display_name.clone(),
        is_admin: user.is_admin,
        created_at: user.created_at,
        language: user.language.clone(),
        email_confirmed: user.email_confirmed,
    }
}

#[utoipa::path(post, path = "/auth/signup", tag = "accounts", summary = "Create an account (the first account is the admin): signed in at once, or, when the server sends email, once the emailed link is opened", request_body = SignupRequest, responses((status = 201, body = Me, description = "Created and signed in (a server that sends no email)"), (status = 202, body = SignupPending, description = "Look in the address's inbox: the same answer whether or not it has an account"), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
async fn signup(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<SignupRequest>,
) -> Result<Response, ApiError> {
    check_same_origin(&headers, &app.config.accounts, false)?;
    app.auth_limiter.check_address(peer.ip())?;
    match app.workspace.signup(req).await? {
        SignupOutcome::SignedIn(signup) => {
            let cookie = session_cookie(&signup.session, &app.config.accounts);
            Ok((StatusCode::CREATED, [(header::SET_COOKIE, cookie)], Json(me_view(&signup.user)))
                .into_response())
        }
        SignupOutcome::ConfirmEmail => {
            Ok((StatusCode::ACCEPTED, Json(SignupPending { status: "confirm_email".into() }))
                .into_response())
        }
    }
}

#[utoipa::path(post, path = "/auth/login", tag = "accounts", summary = "Sign in; sets the session cookie", request_body = LoginRequest, responses((status = 200, body = Me), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
async fn login(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<Response, ApiError> {
    check_same_origin(&headers, &app.config.accounts, false)?;
    app.auth_limiter.check_address(peer.ip())?;
    let account = req.email.trim().to_lowercase();
    app.auth_limiter.check_account(&account)?;
    let (user, session) =
        app.workspace.login(&req.email, req.password).await.inspect_err(|_| {
            app.auth_limiter.failed(&account);
        })?;
    let cookie = session_cookie(&session, &app.config.accounts);
    Ok(([(header::SET_COOKIE, cookie)], Json(me_view(&user))).into_response())
}

#[utoipa::path(post, path = "/auth/logout", tag = "accounts", summary = "Sign out this session", responses((status = 204), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
async fn logout(State(app): State<AppState>, Auth(caller): Auth) -> Result<Response, ApiError> {
    if let Some(revocation) = app.workspace.logout(&caller).await? {
        app.live.revoke(&revocation);
    }
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, cleared_cookie(&app.config.accounts))])
        .into_response())
}

#[utoipa::path(post, path = "/auth/password", tag = "accounts", summary = "Change the password; other sessions are signed out", request_body = ChangePasswordRequest, responses((status = 204), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
async fn change_password(
    State(app): State<AppState>,
    Auth(caller): Auth,
    ApiJson(req): ApiJson<ChangePasswordRequest>,
) -> Result<StatusCode, ApiError> {
    // The current password is a guess like a sign-in's: a stolen session must not try many.
    let account = caller.signed_in()?.email.clone();
    app.auth_limiter.check_account(&account)?;
    let revocation = app
        .workspace
        .change_password(&caller, req.current_password, req.new_password)
        .await
        .inspect_err(|err| {
            if matches!(err, WorkspaceError::Invalid(f) if f.0.contains_key("current_password")) {
                app.auth_limiter.failed(&account);
            }
        })?;
    app.live.revoke(&revocation);
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/me", tag = "accounts", summary = "The signed-in account", responses((status = 200, body = Me), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
async fn me(Auth(caller): Auth) -> Result<Json<Me>, ApiError> {
    Ok(Json(me_view(caller.signed_in()?)))
}

/// What the web app asks on every page: a visitor who is not signed in is an answer, not an
/// error (`/me` stays 401 for them, as API clients expect).
#[utoipa::path(get, path = "/session", tag = "accounts", summary = "Who is signed in, if anyone", responses((status = 200, body = SessionView), (status = "4XX", body = ErrorBody, description = "Refused (too many requests, or a malformed credential); the body says why")))]
async fn session(State(app): State<AppState>, Auth(caller): Auth) -> Json<SessionView> {
    Json(SessionView {
        user: caller.user.as_ref().map(me_view),
        max_upload_bytes: app.workspace.max_asset_bytes() as u64,
        email_enabled: app.workspace.mail_enabled(),
    })
}

#[utoipa::path(post, path = "/tokens", tag = "accounts", summary = "Create a personal API token (its secret is shown once)", request_body = TokenCreate, responses((status = 201, body = TokenCreated), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
async fn create_token(
    State(app): State<AppState>,
    Auth(caller): Auth,
    ApiJson(req): ApiJson<TokenCreate>,
) -> Result<Response, ApiError> {
    let created = app.workspace.create_token(&caller, &req.name).await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

#[utoipa::path(get, path = "/tokens", tag = "accounts", summary = "The caller's tokens, without secrets", responses((status = 200, body = Vec<TokenView>), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
async fn list_tokens(
    State(app): State<AppState>,
    Auth(caller): Auth,
) -> Result<Response, ApiError> {
    Ok(Json(app.workspace.list_tokens(&caller).await?).into_response())
}

#[utoipa::path(delete, path = "/tokens/{id}", tag = "accounts", summary = "Revoke a token; its document connections close", params(("id" = String, Path)), responses((status = 204), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
async fn revoke_token(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = TokenId(id);
    let revocation = app.workspace.revoke_token(&caller, &id).await?;
    app.live.revoke(&revocation);
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/projects", tag = "projects", summary = "Create a project; the caller owns it", request_body = ProjectCreate, responses((status = 201, body = ProjectCreated), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
async fn create_project(
    State(app): State<AppState>,
    Auth(caller): Auth,
    ApiJson(req): ApiJson<ProjectCreate>,
) -> Result<Response, ApiError> {
    let created = app.workspace.create_project(&caller, req).await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

#[utoipa::path(get, path = "/projects", tag = "projects", summary = "The caller's projects", responses((status = 200, body = Vec<ProjectSummary>), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
async fn my_projects(
    State(app): State<AppState>,
    Auth(caller): Auth,
) -> Result<Response, ApiError> {
    Ok(Json(app.workspace.my_projects(&caller).await?).into_response())
}

#[utoipa::path(get, path = "/projects/{id}", tag = "projects", summary = "A project page", params(("id" = String, Path)), responses((status = 200, body = ProjectView), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
async fn project(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(Json(app.workspace.project(&caller, &ProjectId(id)).await?).into_response())
}

#[utoipa::path(patch, path = "/projects/{id}", tag = "projects", summary = "Change or archive a project (owner)", params(("id" = String, Path)), request_body = ProjectUpdate, responses((status = 204), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
async fn update_project(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ProjectUpdate>,
) -> Result<StatusCode, ApiError> {
    app.workspace.update_project(&caller, &ProjectId(id), req).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/projects/{id}", tag = "projects", summary = "Delete a project and everything in it (owner)", params(("id" = String, Path)), responses((status = 204), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
async fn delete_project(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let docs = app.workspace.delete_project(&caller, &ProjectId(id)).await?;
    app.live.close_all_on(&docs, "the project was deleted");
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/projects/{id}/members", tag = "projects", summary = "Invite an address (the same answer whether or not it has an account; the person accepts)", params(("id" = String, Path)), request_body = MemberAdd, responses((status = 201, body = MemberAdded), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
async fn add_member(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<MemberAdd>,
) -> Result<Response, ApiError> {
    if let Some(user) = &caller.user {
        app.auth_limiter.check_invites(user.id.as_str())?;
    }
    let added = app.workspace.add_member(&caller, &ProjectId(id), req).await?;
    Ok((StatusCode::CREATED, Json(added)).into_response())
}

/// Closes what a change of membership took away, at once.
fn enforce(app: &AppState, change: &MembershipChange) {
    let reason = match change.role {
        None => "you are no longer a member of this project",
        Some(_) => "your role in this project changed",
    };
    let n = app.live.close_docs(&change.user_id, &change.docs, reason);
    tracing::info!(project = %change.project_id, user = %change.user_id, n_closed = n, "access changed");
}

#[utoipa::path(patch, path = "/projects/{id}/members/{user_id}", tag = "projects", summary = "Change a member's role (owner); their documents reconnect", params(("id" = String, Path), ("user_id" = String, Path)), request_body = MemberUpdate, responses((status = 204), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
async fn set_role(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path((id, user_id)): Path<(String, String)>,
    ApiJson(req): ApiJson<MemberUpdate>,
) -> Result<StatusCode, ApiError> {
    let change =
        app.workspace.set_member_role(&caller, &ProjectId(id), &UserId(user_id), req.role).await?;
    enforce(&app, &change);
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/projects/{id}/members/{user_id}", tag = "projects", summary = "Remove a member (owner), or leave", params(("id" = String, Path), ("user_id" = String, Path)), responses((status = 204), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
async fn remove_member(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path((id, user_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let change = app.workspace.remove_member(&caller, &ProjectId(id), &UserId(user_id)).await?;
    enforce(&app, &change);
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/projects/{id}/owner", tag = "projects", summary = "Hand the project to another member (owner)", params(("id" = String, Path)), request_body = OwnershipTransfer, responses((status = 204), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
async fn transfer_ownership(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<OwnershipTransfer>,
) -> Result<StatusCode, ApiError> {
    let change = app.workspace.transfer_ownership(&caller, &ProjectId(id), &req.user_id).await?;
    enforce(&app, &change);
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/projects/{id}/items", tag = "items", summary = "Create a document, board or room", params(("id" = String, Path)), request_body = ItemCreate, responses((status = 201, body = ItemCreated), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
async fn create_item(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ItemCreate>,
) -> Result<Response, ApiError> {
    // A template is checked before anything is created: a wrong one creates nothing.
    let content = match &req.template_id {
        Some(t) => Some(app.workspace.template_content(&caller, t, req.kind).await?),
        None => None,
    };
    let created = app.workspace.create_item(&caller, &ProjectId(id), req).await?;
    if let Some(content) = content {
        templates::apply(&app, &created.doc_id, content).await?;
    }
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

#[utoipa::path(post, path = "/projects/{id}/coaching", tag = "items", summary = "Create a 1:1 coaching room and its notes, private to the caller and one other member", params(("id" = String, Path)), request_body = CoachingCreate, responses((status = 201, body = CoachingCreated), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
async fn create_coaching(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<CoachingCreate>,
) -> Result<Response, ApiError> {
    let created = app.workspace.create_coaching(&caller, &ProjectId(id), req).await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

#[utoipa::path(get, path = "/projects/{id}/items", tag = "items", summary = "A project's items, with who changed them last", params(("id" = String, Path)), responses((status = 200, body = Vec<ItemView>), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
async fn items(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(Json(app.workspace.items(&caller, &ProjectId(id)).await?).into_response())
}

#[utoipa::path(get, path = "/items/{id}", tag = "items", summary = "One item", params(("id" = String, Path)), responses((status = 200, body = ItemView), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
async fn item(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(Json(app.workspace.item(&caller, &ItemId(id)).await?).into_response())
}

#[utoipa::path(patch, path = "/items/{id}", tag = "items", summary = "Rename an item or move it to another project", params(("id" = String, Path)), request_body = ItemUpdate, responses((status = 204), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
async fn update_item(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ItemUpdate>,
) -> Result<StatusCode, ApiError> {
    if let Some(moved) = app.workspace.update_item(&caller, &ItemId(id), req).await? {
        // Who may open it changed with its project: everyone reconnects and is asked again.
        app.live.close_all_on(std::slice::from_ref(&moved), "the item moved to another project");
    }
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/items/{id}", tag = "items", summary = "Move an item to its project's trash (restorable for 30 days); its connections close", params(("id" = String, Path)), responses((status = 204), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
async fn delete_item(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let doc = app.workspace.delete_item(&caller, &ItemId(id)).await?;
    app.live.close_all_on(std::slice::from_ref(&doc), "the item was moved to the trash");
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/projects/{id}/trash", tag = "items", summary = "The project's trash: deleted items, restorable for 30 days", params(("id" = String, Path)), responses((status = 200, body = Vec<TrashedItem>), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
async fn trash(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(Json(app.workspace.trash(&caller, &ProjectId(id)).await?).into_response())
}

#[utoipa::path(delete, path = "/projects/{id}/trash", tag = "items", summary = "Empty the project's trash for good (the owner)", params(("id" = String, Path)), responses((status = 204), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
async fn empty_trash(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    app.workspace.empty_trash(&caller, &ProjectId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/items/{id}/restore", tag = "items", summary = "Take an item out of the trash, as it was", params(("id" = String, Path)), responses((status = 204), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
async fn restore_item(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    app.workspace.restore_item(&caller, &ItemId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/items/{id}/trash", tag = "items", summary = "Purge an item of the trash for good (the owner)", params(("id" = String, Path)), responses((status = 204), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
async fn purge_item(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    app.workspace.purge_item(&caller, &ItemId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/me/recent", tag = "items", summary = "The items the caller opened last and may still open, newest first", responses((status = 200, body = Vec<RecentItem>), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
async fn recent(State(app): State<AppState>, Auth(caller): Auth) -> Result<Response, ApiError> {
    Ok(Json(app.workspace.recent(&caller).await?).into_response())
}

#[utoipa::path(get, path = "/me/hubs", tag = "hubs", summary = "The hubs the caller belongs to", responses((status = 200, body = Vec<HubSummary>), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
async fn my_hubs(State(app): State<AppState>, Auth(caller): Auth) -> Result<Response, ApiError> {
    Ok(Json(app.workspace.my_hubs(&caller).await?).into_response())
}

/// 413 for an upload above `limit` bytes.
/// A file sent as a request body, up to `limit` bytes: refused before reading when the client
/// says it sends more, and while reading when it sends more than it said.
async fn file_body(
    headers: &axum::http::HeaderMap,
    body: axum::body::Body,
    limit: usize,
) -> Result<bytes::Bytes, ApiError> {
    let declared = headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large(limit));
    }
    axum::body::to_bytes(body, limit).await.map_err(|_| too_large(limit))
}

fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        format!("the file is larger than the limit of {limit} bytes"),
    )
    .with_param("limit", limit as u64)
}

#[utoipa::path(get, path = "/me/profile", tag = "people", summary = "The caller's profile and its settings", responses((status = 200, body = Profile), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
async fn my_profile(State(app): State<AppState>, Auth(caller): Auth) -> Result<Response, ApiError> {
    Ok(Json(app.workspace.my_profile(&caller).await?).into_response())
}

#[utoipa::path(patch, path = "/me/profile", tag = "people", summary = "Change the caller's profile", request_body = ProfileUpdate, responses((status = 200, body = Profile), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
async fn update_profile(
    State(app): State<AppState>,
    Auth(caller): Auth,
    ApiJson(req): ApiJson<ProfileUpdate>,
) -> Result<Response, ApiError> {
    Ok(Json(app.workspace.update_profile(&caller, req).await?).into_response())
}

/// `GET /people` query parameters; unknown ones are refused, like unknown body fields.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct PeopleParams {
    q: Option<String>,
    skill: Option<String>,
    city: Option<String>,
    country: Option<String>,
    hub: Option<String>,
    language: Option<String>,
    open_to: Option<OpenTo>,
    page: Option<u32>,
    per_page: Option<u32>,
}

#[utoipa::path(get, path = "/people", tag = "people", summary = "Search the people directory (partner finder)", params(PeopleParams), responses((status = 200, body = PeoplePage), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
async fn people(
    State(app): State<AppState>,
    Auth(caller): Auth,
    query: Result<Query<PeopleParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(p) = query.map_err(|err| {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", err.body_text())
    })?;
    let search = PeopleSearch {
        q: p.q,
        skill: p.skill,
        city: p.city,
        country: p.country,
        hub: p.hub.map(HubId),
        language: p.language,
        open_to: p.open_to,
        page: p.page,
        per_page: p.per_page,
    };
    Ok(Json(app.workspace.search_people(&caller, search).await?).into_response())
}

#[utoipa::path(get, path = "/people/{id}", tag = "people", summary = "One person's profile", params(("id" = String, Path)), responses((status = 200, body = PersonView), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
async fn person(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(Json(app.workspace.person(&caller, &UserId(id)).await?).into_response())
}

#[utoipa::path(post, path = "/hubs", tag = "hubs", summary = "Create a hub; the caller manages it", request_body = HubCreate, responses((status = 201, body = HubCreated), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
async fn create_hub(
    State(app): State<AppState>,
    Auth(caller): Auth,
    ApiJson(req): ApiJson<HubCreate>,
) -> Result<Response, ApiError> {
    let created = app.workspace.create_hub(&caller, req).await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

#[utoipa::path(get, path = "/hubs", tag = "hubs", summary = "Every hub", responses((status = 200, body = Vec<HubSummary>), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
async fn hubs(State(app): State<AppState>, Auth(caller): Auth) -> Result<Response, ApiError> {
    Ok(Json(app.workspace.hubs(&caller).await?).into_response())
}

#[utoipa::path(get, path = "/hubs/{id}", tag = "hubs", summary = "A hub page: members and partner projects", params(("id" = String, Path)), responses((status = 200, body = HubView), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
async fn hub(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(Json(app.workspace.hub(&caller, &HubId(id)).await?).into_response())
}

#[utoipa::path(patch, path = "/hubs/{id}", tag = "hubs", summary = "Change a hub (managers)", params(("id" = String, Path)), request_body = HubUpdate, responses((status = 204), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
async fn update_hub(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<HubUpdate>,
) -> Result<StatusCode, ApiError> {
    app.workspace.update_hub(&caller, &HubId(id), req).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/hubs/{id}/join", tag = "hubs", summary = "Ask to join a hub", params(("id" = String, Path)), responses((status = 202, body = HubJoined), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
async fn join_hub(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let role = app.workspace.request_to_join(&caller, &HubId(id)).await?;
    Ok((StatusCode::ACCEPTED, Json(HubJoined { role })).into_response())
}

#[utoipa::path(patch, path = "/hubs/{id}/members/{user_id}", tag = "hubs", summary = "Approve a request or change a member's place (managers)", params(("id" = String, Path), ("user_id" = String, Path)), request_body = HubMemberUpdate, responses((status = 204), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
async fn set_hub_role(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path((id, user_id)): Path<(String, String)>,
    ApiJson(req): ApiJson<HubMemberUpdate>,
) -> Result<StatusCode, ApiError> {
    app.workspace.set_hub_role(&caller, &HubId(id), &UserId(user_id), req.role).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/hubs/{id}/members/{user_id}", tag = "hubs", summary = "Remove a member, decline a request, or leave", params(("id" = String, Path), ("user_id" = String, Path)), responses((status = 204), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
async fn remove_hub_member(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path((id, user_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    app.workspace.remove_hub_member(&caller, &HubId(id), &UserId(user_id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/projects/{id}/invites", tag = "projects", summary = "Create an invitation link", params(("id" = String, Path)), request_body = InviteLinkCreate, responses((status = 201, body = InviteLinkCreated), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
async fn create_invite(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<InviteLinkCreate>,
) -> Result<Response, ApiError> {
    let created = app.workspace.create_invite_link(&caller, &ProjectId(id), req).await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

#[utoipa::path(get, path = "/projects/{id}/invites", tag = "projects", summary = "Pending invitations, without secrets", params(("id" = String, Path)), responses((status = 200, body = Vec<InviteView>), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
async fn invites(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(Json(app.workspace.invites(&caller, &ProjectId(id)).await?).into_response())
}

#[utoipa::path(delete, path = "/projects/{id}/invites/{invite_id}", tag = "projects", summary = "Revoke an invitation", params(("id" = String, Path), ("invite_id" = String, Path)), responses((status = 204), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
async fn revoke_invite(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path((id, invite_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    app.workspace.revoke_invite(&caller, &ProjectId(id), &InviteId(invite_id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/me/invites", tag = "projects", summary = "My pending invitations by email", responses((status = 200, body = Vec<MyInvite>), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
async fn my_invites(
    State(app): State<AppState>,
    Auth(caller): Auth,
) -> Result<Json<Vec<MyInvite>>, ApiError> {
    Ok(Json(app.workspace.my_invites(&caller).await?))
}

#[utoipa::path(post, path = "/me/invites/{id}/accept", tag = "projects", summary = "Accept one of my invitations: join its project", params(("id" = String, Path)), responses((status = 200, body = InviteAccepted), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
async fn accept_my_invite(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Json<InviteAccepted>, ApiError> {
    Ok(Json(app.workspace.accept_email_invite(&caller, &InviteId(id)).await?))
}

#[utoipa::path(delete, path = "/me/invites/{id}", tag = "projects", summary = "Decline one of my invitations", params(("id" = String, Path)), responses((status = 204), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
async fn decline_my_invite(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    app.workspace.decline_email_invite(&caller, &InviteId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/invites/{token}/accept", tag = "projects", summary = "Join the project of an invitation link", params(("token" = String, Path)), responses((status = 200, body = InviteAccepted), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
async fn accept_invite(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    Ok(Json(app.workspace.accept_invite(&caller, &token).await?).into_response())
}
