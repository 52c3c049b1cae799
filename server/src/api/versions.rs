//! `/api/v1/items/{id}/versions`: the version history of documents and boards. Readers list,
//! open and compare versions; editors and owners take a named version and restore one.
//!
//! Versions are taken by the document's actor (`Registry::take_version`), so a version is
//! always a committed state; a restore is a change the server makes through the actor like
//! any other edit (everyone connected receives it live), then kept as a version of its own.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use hubring_doc::versions;
use hubring_protocol::api::{Version, VersionContent, VersionCreate, VersionDiff, VersionKind};
use hubring_protocol::{ErrorBody, ItemId, VersionId};
use hubring_sync::{SyncError, TakeVersion};
use hubring_workspace::ContentAccess;
use hubring_workspace::access::Action;
use hubring_workspace::versions::version_name;

use super::auth::Auth;
use super::json::ApiJson;
use crate::AppState;
use crate::http::ApiError;

fn unavailable(access: &ContentAccess, err: &SyncError) -> ApiError {
    tracing::error!(item = %access.item_id, %err, "version not taken");
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "try again")
}

/// One version's metadata and state, if it is the document's (404 otherwise).
pub(crate) async fn stored(
    app: &AppState,
    doc: &hubring_protocol::DocId,
    id: &VersionId,
) -> Result<(hubring_store::VersionMeta, Vec<u8>), ApiError> {
    app.workspace
        .store()
        .version(doc, id)
        .await
        .map_err(hubring_workspace::WorkspaceError::from)?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not_found", "version not found"))
}

/// Takes a version through the document's actor and answers it, 201.
async fn taken(
    app: &AppState,
    access: &ContentAccess,
    take: TakeVersion,
) -> Result<Response, ApiError> {
    let meta = app
        .registry
        .take_version(&access.doc_id, take)
        .await
        .map_err(|e| unavailable(access, &e))?;
    let view = app.workspace.version_views(vec![meta]).await?.remove(0);
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

/// Decoding and comparing states is CPU work: off the runtime's workers.
async fn off_runtime<T: Send + 'static>(
    job: impl FnOnce() -> Result<T, hubring_doc::DocError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(job).await.map_err(|_| ApiError::internal())?.map_err(|err| {
        tracing::error!(%err, "stored version does not decode");
        ApiError::internal()
    })
}

#[utoipa::path(get, path = "/items/{id}/versions", tag = "versions", summary = "A document's or board's versions, newest first", params(("id" = String, Path)), responses((status = 200, body = Vec<Version>), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
pub(crate) async fn list_versions(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Json<Vec<Version>>, ApiError> {
    let access = app.workspace.content_access(&caller, &ItemId(id), Action::OpenDocument).await?;
    let metas = app
        .workspace
        .store()
        .versions(&access.doc_id)
        .await
        .map_err(hubring_workspace::WorkspaceError::from)?;
    Ok(Json(app.workspace.version_views(metas).await?))
}

#[utoipa::path(post, path = "/items/{id}/versions", tag = "versions", summary = "Take a named version now (editors and owners)", params(("id" = String, Path)), request_body = VersionCreate, responses((status = 201, body = Version), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
pub(crate) async fn take_version(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<VersionCreate>,
) -> Result<Response, ApiError> {
    let access = app.workspace.content_access(&caller, &ItemId(id), Action::WriteDocument).await?;
    let name = version_name(&req.name)?;
    let by = caller.signed_in()?.id.clone();
    let take = TakeVersion {
        kind: VersionKind::Named,
        name: Some(name),
        by: Some(by),
        restored_from: None,
    };
    taken(&app, &access, take).await
}

#[utoipa::path(get, path = "/items/{id}/versions/{version}", tag = "versions", summary = "A version and what it holds", params(("id" = String, Path), ("version" = String, Path)), responses((status = 200, body = VersionContent), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
pub(crate) async fn version(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path((id, version)): Path<(String, String)>,
) -> Result<Json<VersionContent>, ApiError> {
    let access = app.workspace.content_access(&caller, &ItemId(id), Action::OpenDocument).await?;
    let (meta, state) = stored(&app, &access.doc_id, &VersionId(version)).await?;
    let content = off_runtime(move || versions::content(&state)).await?;
    let version = app.workspace.version_views(vec![meta]).await?.remove(0);
    Ok(Json(VersionContent { version, content }))
}

#[utoipa::path(get, path = "/items/{id}/versions/{from}/diff/{to}", tag = "versions", summary = "What changed from one version to another", params(("id" = String, Path), ("from" = String, Path), ("to" = String, Path)), responses((status = 200, body = VersionDiff), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
pub(crate) async fn version_diff(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path((id, from, to)): Path<(String, String, String)>,
) -> Result<Json<VersionDiff>, ApiError> {
    let access = app.workspace.content_access(&caller, &ItemId(id), Action::OpenDocument).await?;
    let (from, to) = (VersionId(from), VersionId(to));
    let (_, a) = stored(&app, &access.doc_id, &from).await?;
    let (_, b) = stored(&app, &access.doc_id, &to).await?;
    let changes = off_runtime(move || versions::diff(&a, &b)).await?;
    Ok(Json(VersionDiff { from, to, changes }))
}

#[utoipa::path(post, path = "/items/{id}/versions/{version}/restore", tag = "versions", summary = "Restore a version as a change everyone sees live, kept as a new version (editors and owners)", params(("id" = String, Path), ("version" = String, Path)), responses((status = 201, body = Version), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
pub(crate) async fn restore_version(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path((id, version)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let access = app.workspace.content_access(&caller, &ItemId(id), Action::WriteDocument).await?;
    let by = caller.signed_in()?.id.clone();
    let (meta, state) = stored(&app, &access.doc_id, &VersionId(version)).await?;
    // Decoded here first, so the actor never runs a restore that cannot apply.
    let checked = state.clone();
    off_runtime(move || versions::content(&checked).map(|_| ())).await?;
    let (tx, rx) = tokio::sync::oneshot::channel();
    let edit = Box::new(move |txn: &mut hubring_doc::TransactionMut<'_>| {
        let _ = tx.send(versions::restore(txn, &state));
    });
    app.registry.edit(&access.doc_id, edit).await.map_err(|e| unavailable(&access, &e))?;
    rx.await.map_err(|_| ApiError::internal())?.map_err(|err| {
        tracing::error!(item = %access.item_id, %err, "restore failed");
        ApiError::internal()
    })?;
    let take = TakeVersion {
        kind: VersionKind::Restore,
        name: meta.name.clone(),
        by: Some(by),
        restored_from: Some(meta.id),
    };
    taken(&app, &access, take).await
}
