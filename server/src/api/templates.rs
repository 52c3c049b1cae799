//! `/api/v1/templates`: the templates a new item may start from (built-in, the caller's own,
//! their hubs'), saving a document or board as one, and deleting one. An item starts from a
//! template with `template_id` on creation (`create_item` in `api/mod.rs`, through
//! [`apply`]).

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use hubring_protocol::api::{TemplateCreate, TemplateQuery, TemplateView};
use hubring_protocol::{DocId, ErrorBody};
use hubring_workspace::TemplateContent;

use super::auth::Auth;
use super::json::ApiJson;
use crate::AppState;
use crate::http::ApiError;

#[utoipa::path(get, path = "/templates", tag = "templates", summary = "The templates the caller may start an item from", params(TemplateQuery), responses((status = 200, body = Vec<TemplateView>), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
pub(crate) async fn list_templates(
    State(app): State<AppState>,
    Auth(caller): Auth,
    query: Result<Query<TemplateQuery>, QueryRejection>,
) -> Result<Json<Vec<TemplateView>>, ApiError> {
    let Query(query) = query.map_err(|err| ApiError::bad_query(&err))?;
    let lang = query.lang.unwrap_or_else(|| "en".to_owned());
    Ok(Json(app.workspace.templates(&caller, query.kind, &lang).await?))
}

#[utoipa::path(post, path = "/templates", tag = "templates", summary = "Save a document or board as a template (its editors; for a hub, its managers)", request_body = TemplateCreate, responses((status = 201, body = TemplateView), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
pub(crate) async fn create_template(
    State(app): State<AppState>,
    Auth(caller): Auth,
    ApiJson(req): ApiJson<TemplateCreate>,
) -> Result<Response, ApiError> {
    let kind = app.workspace.check_template(&caller, &req).await?;
    let access = app
        .workspace
        .content_access(&caller, &req.item_id, hubring_workspace::access::Action::WriteDocument)
        .await?;
    let state = app.registry.read(&access.doc_id).await.map_err(|err| {
        tracing::error!(%err, "document unavailable for a template");
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "try again")
    })?;
    let saved = app.workspace.save_template(&caller, kind, req, state).await?;
    Ok((StatusCode::CREATED, Json(saved)).into_response())
}

#[utoipa::path(delete, path = "/templates/{id}", tag = "templates", summary = "Delete a template (its owner, or a manager of its hub)", params(("id" = String, Path)), responses((status = 204), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
pub(crate) async fn delete_template(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    app.workspace.delete_template(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Writes a template's content into a new item's document, through its actor.
pub(crate) async fn apply(
    app: &AppState,
    doc_id: &DocId,
    content: TemplateContent,
) -> Result<(), ApiError> {
    match content {
        TemplateContent::Tree(doc) => super::exports::write_content(app, doc_id, doc).await,
        TemplateContent::State(state) => {
            let edit = Box::new(move |txn: &mut hubring_doc::TransactionMut<'_>| {
                if let Err(err) = hubring_doc::versions::restore(txn, &state) {
                    tracing::error!(%err, "a template's content does not decode");
                }
                // The text comes without the comment marks of the item it was saved from:
                // their threads are that item's.
                hubring_doc::tree::strip_comment_marks(txn);
            });
            app.registry.edit(doc_id, edit).await.map_err(|err| {
                tracing::error!(%doc_id, %err, "template content not written");
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "try again")
            })
        }
    }
}
