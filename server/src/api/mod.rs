//! `/api/v1`: JSON over HTTP for accounts, tokens, projects, members and items. Handlers only
//! translate: the workspace decides, and every refusal becomes the one error body here.

mod auth;
mod json;
mod limit;

use std::net::SocketAddr;

use axum::extract::Query;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use hubring_protocol::api::{
    ChangePasswordRequest, HubCreate, HubMemberUpdate, HubUpdate, InviteLinkCreate, ItemCreate,
    ItemUpdate, LoginRequest, Me, MemberAdd, MemberUpdate, OpenTo, OwnershipTransfer,
    ProfileUpdate, ProjectCreate, ProjectUpdate, SignupRequest, TokenCreate,
};
use hubring_protocol::{HubId, InviteId, ItemId, ProjectId, TokenId, UserId};
use hubring_store::{Credential, UserRecord};
use hubring_workspace::PeopleSearch;
use hubring_workspace::{MembershipChange, WorkspaceError};
use serde::Deserialize;

use auth::{Auth, cleared_cookie, session_cookie};
pub(crate) use auth::{authenticate, check_same_origin};
use json::ApiJson;
pub(crate) use limit::AuthLimiter;

use crate::AppState;
use crate::http::ApiError;

/// Largest JSON body accepted; a larger one is answered 413.
const MAX_BODY_BYTES: usize = 1 << 20;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/signup", post(signup))
        .route("/auth/login", post(login))
        .route("/auth/logout", post(logout))
        .route("/auth/password", post(change_password))
        .route("/me", get(me))
        .route("/me/profile", get(my_profile).patch(update_profile))
        .route("/people", get(people))
        .route("/people/{id}", get(person))
        .route("/hubs", post(create_hub).get(hubs))
        .route("/hubs/{id}", get(hub).patch(update_hub))
        .route("/hubs/{id}/join", post(join_hub))
        .route(
            "/hubs/{id}/members/{user_id}",
            axum::routing::patch(set_hub_role).delete(remove_hub_member),
        )
        .route("/tokens", post(create_token).get(list_tokens))
        .route("/tokens/{id}", axum::routing::delete(revoke_token))
        .route("/projects", post(create_project).get(my_projects))
        .route("/projects/{id}", get(project).patch(update_project).delete(delete_project))
        .route("/projects/{id}/members", post(add_member))
        .route(
            "/projects/{id}/members/{user_id}",
            axum::routing::patch(set_role).delete(remove_member),
        )
        .route("/projects/{id}/owner", post(transfer_ownership))
        .route("/projects/{id}/invites", post(create_invite).get(invites))
        .route("/projects/{id}/invites/{invite_id}", axum::routing::delete(revoke_invite))
        .route("/invites/{token}/accept", post(accept_invite))
        .route("/projects/{id}/items", post(create_item).get(items))
        .route("/items/{id}", get(item).patch(update_item).delete(delete_item))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route")
}

impl From<WorkspaceError> for ApiError {
    fn from(err: WorkspaceError) -> Self {
        match err {
            WorkspaceError::Invalid(fields) => {
                let message = fields
                    .0
                    .iter()
                    .map(|(field, why)| format!("{field} {why}"))
                    .collect::<Vec<_>>()
                    .join("; ");
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message)
                    .with_fields(fields.0)
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
            WorkspaceError::Conflict(why) => ApiError::new(StatusCode::CONFLICT, "conflict", why),
            WorkspaceError::Gone(why) => ApiError::new(StatusCode::GONE, "gone", why),
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
    }
}

async fn signup(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<SignupRequest>,
) -> Result<Response, ApiError> {
    check_same_origin(&headers, &app.config.accounts, false)?;
    app.auth_limiter.check(peer.ip())?;
    let signup = app.workspace.signup(req).await?;
    let cookie = session_cookie(&signup.session, &app.config.accounts);
    Ok((StatusCode::CREATED, [(header::SET_COOKIE, cookie)], Json(me_view(&signup.user)))
        .into_response())
}

async fn login(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<Response, ApiError> {
    check_same_origin(&headers, &app.config.accounts, false)?;
    app.auth_limiter.check(peer.ip())?;
    let (user, session) = app.workspace.login(&req.email, req.password).await?;
    let cookie = session_cookie(&session, &app.config.accounts);
    Ok(([(header::SET_COOKIE, cookie)], Json(me_view(&user))).into_response())
}

async fn logout(State(app): State<AppState>, Auth(caller): Auth) -> Result<Response, ApiError> {
    app.workspace.logout(&caller).await?;
    if let (Some(user), Some(credential)) = (caller.user_id(), &caller.credential) {
        app.live.close_credential(user, credential, "signed out");
    }
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, cleared_cookie(&app.config.accounts))])
        .into_response())
}

async fn change_password(
    State(app): State<AppState>,
    Auth(caller): Auth,
    ApiJson(req): ApiJson<ChangePasswordRequest>,
) -> Result<StatusCode, ApiError> {
    app.workspace.change_password(&caller, req.current_password, req.new_password).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn me(Auth(caller): Auth) -> Result<Json<Me>, ApiError> {
    Ok(Json(me_view(caller.signed_in()?)))
}

async fn create_token(
    State(app): State<AppState>,
    Auth(caller): Auth,
    ApiJson(req): ApiJson<TokenCreate>,
) -> Result<Response, ApiError> {
    let created = app.workspace.create_token(&caller, &req.name).await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

async fn list_tokens(
    State(app): State<AppState>,
    Auth(caller): Auth,
) -> Result<Response, ApiError> {
    Ok(Json(app.workspace.list_tokens(&caller).await?).into_response())
}

async fn revoke_token(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = TokenId(id);
    app.workspace.revoke_token(&caller, &id).await?;
    if let Some(user) = caller.user_id() {
        app.live.close_credential(user, &Credential::Token(id), "token revoked");
    }
    Ok(StatusCode::NO_CONTENT)
}

async fn create_project(
    State(app): State<AppState>,
    Auth(caller): Auth,
    ApiJson(req): ApiJson<ProjectCreate>,
) -> Result<Response, ApiError> {
    let created = app.workspace.create_project(&caller, req).await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

async fn my_projects(
    State(app): State<AppState>,
    Auth(caller): Auth,
) -> Result<Response, ApiError> {
    Ok(Json(app.workspace.my_projects(&caller).await?).into_response())
}

async fn project(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(Json(app.workspace.project(&caller, &ProjectId(id)).await?).into_response())
}

async fn update_project(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ProjectUpdate>,
) -> Result<StatusCode, ApiError> {
    app.workspace.update_project(&caller, &ProjectId(id), req).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn delete_project(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let docs = app.workspace.delete_project(&caller, &ProjectId(id)).await?;
    app.live.close_all_on(&docs, "the project was deleted");
    Ok(StatusCode::NO_CONTENT)
}

async fn add_member(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<MemberAdd>,
) -> Result<Response, ApiError> {
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

async fn remove_member(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path((id, user_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let change = app.workspace.remove_member(&caller, &ProjectId(id), &UserId(user_id)).await?;
    enforce(&app, &change);
    Ok(StatusCode::NO_CONTENT)
}

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

async fn create_item(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ItemCreate>,
) -> Result<Response, ApiError> {
    let created = app.workspace.create_item(&caller, &ProjectId(id), req).await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

async fn items(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(Json(app.workspace.items(&caller, &ProjectId(id)).await?).into_response())
}

async fn item(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(Json(app.workspace.item(&caller, &ItemId(id)).await?).into_response())
}

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

async fn delete_item(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let doc = app.workspace.delete_item(&caller, &ItemId(id)).await?;
    app.live.close_all_on(std::slice::from_ref(&doc), "the item was deleted");
    Ok(StatusCode::NO_CONTENT)
}

async fn my_profile(State(app): State<AppState>, Auth(caller): Auth) -> Result<Response, ApiError> {
    Ok(Json(app.workspace.my_profile(&caller).await?).into_response())
}

async fn update_profile(
    State(app): State<AppState>,
    Auth(caller): Auth,
    ApiJson(req): ApiJson<ProfileUpdate>,
) -> Result<Response, ApiError> {
    Ok(Json(app.workspace.update_profile(&caller, req).await?).into_response())
}

/// `GET /people` query parameters; unknown ones are refused, like unknown body fields.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
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

async fn person(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(Json(app.workspace.person(&caller, &UserId(id)).await?).into_response())
}

async fn create_hub(
    State(app): State<AppState>,
    Auth(caller): Auth,
    ApiJson(req): ApiJson<HubCreate>,
) -> Result<Response, ApiError> {
    let created = app.workspace.create_hub(&caller, req).await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

async fn hubs(State(app): State<AppState>, Auth(caller): Auth) -> Result<Response, ApiError> {
    Ok(Json(app.workspace.hubs(&caller).await?).into_response())
}

async fn hub(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(Json(app.workspace.hub(&caller, &HubId(id)).await?).into_response())
}

async fn update_hub(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<HubUpdate>,
) -> Result<StatusCode, ApiError> {
    app.workspace.update_hub(&caller, &HubId(id), req).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn join_hub(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let role = app.workspace.request_to_join(&caller, &HubId(id)).await?;
    Ok((StatusCode::ACCEPTED, Json(serde_json::json!({ "role": role }))).into_response())
}

async fn set_hub_role(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path((id, user_id)): Path<(String, String)>,
    ApiJson(req): ApiJson<HubMemberUpdate>,
) -> Result<StatusCode, ApiError> {
    app.workspace.set_hub_role(&caller, &HubId(id), &UserId(user_id), req.role).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn remove_hub_member(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path((id, user_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    app.workspace.remove_hub_member(&caller, &HubId(id), &UserId(user_id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn create_invite(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<InviteLinkCreate>,
) -> Result<Response, ApiError> {
    let created = app.workspace.create_invite_link(&caller, &ProjectId(id), req).await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

async fn invites(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(Json(app.workspace.invites(&caller, &ProjectId(id)).await?).into_response())
}

async fn revoke_invite(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path((id, invite_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    app.workspace.revoke_invite(&caller, &ProjectId(id), &InviteId(invite_id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn accept_invite(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    Ok(Json(app.workspace.accept_invite(&caller, &token).await?).into_response())
}
