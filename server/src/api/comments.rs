//! `/api/v1/items/{id}/threads`: comment threads on documents and boards, shaped like
//! BlockNote's REST thread store (`RESTYjsThreadStore`), so its client code works unchanged.
//!
//! The workspace decides and stores; this module then copies the thread into the document's
//! `threads` map (and places or updates its mark in the text) through the document's actor,
//! and answers only once that is committed, so whoever made the change, and everyone else in
//! the document, sees it live.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use hubring_doc::comments::{self, AnchorError, CommentView, MarkState, ThreadView};
use hubring_protocol::api::{
    CommentDeleteQuery, CommentWrite, ReactionAdd, Thread, ThreadAnchor, ThreadCreate, ThreadQuery,
};
use hubring_protocol::{CommentId, ErrorBody, ItemId, ThreadId};
use hubring_store::{Softness, ThreadRecord};
use hubring_workspace::access::Action;
use hubring_workspace::comments::thread_view;
use hubring_workspace::{ContentAccess, ThreadRequest};
use serde_json::json;

use super::auth::Auth;
use super::json::ApiJson;
use crate::AppState;
use crate::http::ApiError;

/// How a change moves the thread's marks in the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marks {
    Leave,
    Set(MarkState),
}

/// The document's copy of a stored thread.
fn doc_view(t: &ThreadRecord) -> ThreadView {
    ThreadView {
        id: t.id.0.clone(),
        created_at: t.created_at,
        updated_at: t.updated_at,
        resolved: t.resolved.as_ref().map(|(at, by)| (*at, by.as_ref().map(|b| b.0.clone()))),
        metadata: json!({
            "quote": t.quote,
            "pin": t.pin.as_deref().and_then(|p| serde_json::from_str::<serde_json::Value>(p).ok()),
        }),
        comments: t
            .comments
            .iter()
            .map(|c| CommentView {
                id: c.id.0.clone(),
                user_id: c.author.as_ref().map(|a| a.0.clone()).unwrap_or_default(),
                created_at: c.created_at,
                updated_at: c.updated_at,
                deleted_at: c.deleted_at,
                body: c.body.as_deref().and_then(|b| serde_json::from_str(b).ok()),
                metadata: json!({ "mentions": c.mentions }),
                reactions: c
                    .reactions
                    .iter()
                    .map(|(u, e, at)| (u.0.clone(), e.clone(), *at))
                    .collect(),
            })
            .collect(),
    }
}

/// Copies the thread into the item's document (or removes it, once deleted), committed and
/// sent to everyone there before this returns.
async fn mirror(
    app: &AppState,
    access: &ContentAccess,
    thread: &ThreadRecord,
    marks: Marks,
) -> Result<(), ApiError> {
    let view = doc_view(thread);
    let deleted = thread.deleted_at.is_some();
    let edit = Box::new(move |txn: &mut hubring_doc::TransactionMut<'_>| {
        if deleted {
            comments::remove_thread(txn, &view.id);
        } else {
            comments::write_thread(txn, &view);
        }
        if let Marks::Set(state) = marks {
            comments::set_mark_state(txn, &view.id, state);
        }
    });
    app.registry.edit(&access.doc_id, edit).await.map_err(|err| {
        tracing::error!(item = %access.item_id, %err, "thread not copied into the document");
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "try again")
    })
}

#[utoipa::path(get, path = "/items/{id}/threads", tag = "comments", summary = "The comment threads of a document or board", params(("id" = String, Path), ThreadQuery), responses((status = 200, body = Vec<Thread>), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
pub(crate) async fn list_threads(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    query: Result<Query<ThreadQuery>, QueryRejection>,
) -> Result<Json<Vec<Thread>>, ApiError> {
    let Query(query) = query.map_err(|err| ApiError::bad_query(&err))?;
    let access = app.workspace.content_access(&caller, &ItemId(id), Action::OpenDocument).await?;
    let me = match query.mentions_me {
        Some(true) => Some(&caller.signed_in()?.id),
        _ => None,
    };
    Ok(Json(app.workspace.threads(&access, me).await?))
}

#[utoipa::path(post, path = "/items/{id}/threads", tag = "comments", summary = "Start a thread (owners, editors and commenters)", params(("id" = String, Path)), request_body = ThreadCreate, responses((status = 201, body = Thread), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
pub(crate) async fn create_thread(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ThreadCreate>,
) -> Result<Response, ApiError> {
    let access = app.workspace.content_access(&caller, &ItemId(id), Action::OpenDocument).await?;
    let thread = app.workspace.create_thread(&caller, &access, req).await?;
    mirror(&app, &access, &thread, Marks::Leave).await?;
    Ok((StatusCode::CREATED, Json(thread_view(thread))).into_response())
}

#[utoipa::path(post, path = "/items/{id}/threads/{thread}/addToDocument", tag = "comments", summary = "Anchor a thread to the text selected (its author, editors and owners); the server applies the mark", params(("id" = String, Path), ("thread" = String, Path)), request_body = ThreadAnchor, responses((status = 200, body = Thread), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
pub(crate) async fn anchor_thread(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path((id, thread)): Path<(String, String)>,
    ApiJson(req): ApiJson<ThreadAnchor>,
) -> Result<Json<Thread>, ApiError> {
    let access = app.workspace.content_access(&caller, &ItemId(id), Action::OpenDocument).await?;
    let thread_id = ThreadId(thread);
    let record = app.workspace.thread_record(&access, &thread_id).await?;
    app.workspace.may_anchor(&caller, &access, &record)?;
    let Some((from, to)) = req.selection.positions() else {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            "selection: anchor and head are required",
        ));
    };
    let (tx, rx) = tokio::sync::oneshot::channel();
    let id = thread_id.0.clone();
    let edit = Box::new(move |txn: &mut hubring_doc::TransactionMut<'_>| {
        let _ = tx.send(comments::anchor(txn, &id, from, to));
    });
    app.registry.edit(&access.doc_id, edit).await.map_err(|err| {
        tracing::error!(item = %access.item_id, %err, "thread not anchored");
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "try again")
    })?;
    let quote = rx.await.map_err(|_| ApiError::internal())?.map_err(|err| {
        let code = match err {
            AnchorError::Empty => "empty_selection",
            AnchorError::OutOfRange(_) => "out_of_range",
            AnchorError::NoText => "no_text",
        };
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, err.to_string())
    })?;
    app.workspace.set_quote(&thread_id, quote).await?;
    let record = app.workspace.thread_record(&access, &thread_id).await?;
    mirror(&app, &access, &record, Marks::Leave).await?;
    Ok(Json(thread_view(record)))
}

/// Applies a change and copies the thread into the document.
async fn change(
    app: &AppState,
    caller: &hubring_workspace::Caller,
    item: String,
    thread: String,
    req: ThreadRequest,
) -> Result<Json<Thread>, ApiError> {
    let marks = match req {
        ThreadRequest::Resolve | ThreadRequest::Delete => Marks::Set(MarkState::Orphan),
        ThreadRequest::Reopen => Marks::Set(MarkState::Active),
        _ => Marks::Leave,
    };
    let access = app.workspace.content_access(caller, &ItemId(item), Action::OpenDocument).await?;
    let record = app.workspace.change_thread(caller, &access, &ThreadId(thread), req).await?;
    // A thread left without comments is deleted with them: its marks become orphans too.
    let marks = if record.deleted_at.is_some() { Marks::Set(MarkState::Orphan) } else { marks };
    mirror(app, &access, &record, marks).await?;
    Ok(Json(thread_view(record)))
}

#[utoipa::path(post, path = "/items/{id}/threads/{thread}/comments", tag = "comments", summary = "Reply in a thread", params(("id" = String, Path), ("thread" = String, Path)), request_body = CommentWrite, responses((status = 200, body = Thread), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
pub(crate) async fn reply_to_thread(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path((id, thread)): Path<(String, String)>,
    ApiJson(req): ApiJson<CommentWrite>,
) -> Result<Json<Thread>, ApiError> {
    change(&app, &caller, id, thread, ThreadRequest::Reply(req.comment)).await
}

#[utoipa::path(put, path = "/items/{id}/threads/{thread}/comments/{comment}", tag = "comments", summary = "Edit one's own comment", params(("id" = String, Path), ("thread" = String, Path), ("comment" = String, Path)), request_body = CommentWrite, responses((status = 200, body = Thread), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
pub(crate) async fn edit_comment(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path((id, thread, comment)): Path<(String, String, String)>,
    ApiJson(req): ApiJson<CommentWrite>,
) -> Result<Json<Thread>, ApiError> {
    let req = ThreadRequest::Edit { comment: CommentId(comment), input: req.comment };
    change(&app, &caller, id, thread, req).await
}

#[utoipa::path(delete, path = "/items/{id}/threads/{thread}/comments/{comment}", tag = "comments", summary = "Delete one's own comment", params(("id" = String, Path), ("thread" = String, Path), ("comment" = String, Path), CommentDeleteQuery), responses((status = 200, body = Thread), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
pub(crate) async fn delete_comment(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path((id, thread, comment)): Path<(String, String, String)>,
    query: Result<Query<CommentDeleteQuery>, QueryRejection>,
) -> Result<Json<Thread>, ApiError> {
    let Query(query) = query.map_err(|err| ApiError::bad_query(&err))?;
    let soft = if query.soft == Some(true) { Softness::Soft } else { Softness::Hard };
    let req = ThreadRequest::DeleteComment { comment: CommentId(comment), soft };
    change(&app, &caller, id, thread, req).await
}

#[utoipa::path(delete, path = "/items/{id}/threads/{thread}", tag = "comments", summary = "Delete a thread (its author, editors and owners)", params(("id" = String, Path), ("thread" = String, Path)), responses((status = 200, body = Thread), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
pub(crate) async fn delete_thread(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path((id, thread)): Path<(String, String)>,
) -> Result<Json<Thread>, ApiError> {
    change(&app, &caller, id, thread, ThreadRequest::Delete).await
}

#[utoipa::path(post, path = "/items/{id}/threads/{thread}/resolve", tag = "comments", summary = "Resolve a thread (its author, editors and owners)", params(("id" = String, Path), ("thread" = String, Path)), responses((status = 200, body = Thread), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
pub(crate) async fn resolve_thread(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path((id, thread)): Path<(String, String)>,
) -> Result<Json<Thread>, ApiError> {
    change(&app, &caller, id, thread, ThreadRequest::Resolve).await
}

#[utoipa::path(post, path = "/items/{id}/threads/{thread}/unresolve", tag = "comments", summary = "Reopen a resolved thread (its author, editors and owners)", params(("id" = String, Path), ("thread" = String, Path)), responses((status = 200, body = Thread), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
pub(crate) async fn reopen_thread(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path((id, thread)): Path<(String, String)>,
) -> Result<Json<Thread>, ApiError> {
    change(&app, &caller, id, thread, ThreadRequest::Reopen).await
}

#[utoipa::path(post, path = "/items/{id}/threads/{thread}/comments/{comment}/reactions", tag = "comments", summary = "React to a comment with an emoji", params(("id" = String, Path), ("thread" = String, Path), ("comment" = String, Path)), request_body = ReactionAdd, responses((status = 200, body = Thread), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
pub(crate) async fn add_reaction(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path((id, thread, comment)): Path<(String, String, String)>,
    ApiJson(req): ApiJson<ReactionAdd>,
) -> Result<Json<Thread>, ApiError> {
    let req = ThreadRequest::React { comment: CommentId(comment), emoji: req.emoji };
    change(&app, &caller, id, thread, req).await
}

#[utoipa::path(delete, path = "/items/{id}/threads/{thread}/comments/{comment}/reactions/{emoji}", tag = "comments", summary = "Take back one's reaction", params(("id" = String, Path), ("thread" = String, Path), ("comment" = String, Path), ("emoji" = String, Path)), responses((status = 200, body = Thread), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
pub(crate) async fn remove_reaction(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path((id, thread, comment, emoji)): Path<(String, String, String, String)>,
) -> Result<Json<Thread>, ApiError> {
    let req = ThreadRequest::Unreact { comment: CommentId(comment), emoji };
    change(&app, &caller, id, thread, req).await
}
