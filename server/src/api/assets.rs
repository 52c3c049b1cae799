//! `/api/v1/assets`: images uploaded into projects, as raw request bodies (no multipart: one
//! file per request, its type read from its bytes), and served back by content id.

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hubring_protocol::api::AssetCreated;
use hubring_protocol::{ErrorBody, ProjectId};
use serde::Deserialize;

use super::auth::Auth;
use super::too_large;
use crate::AppState;
use crate::http::ApiError;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct UploadParams {
    /// The project the image is uploaded into; its readers may fetch it.
    project_id: String,
}

#[utoipa::path(post, path = "/assets", tag = "assets", summary = "Upload an image into a project (the body is the file)", params(UploadParams), request_body(content = String, content_type = "application/octet-stream", description = "The image's bytes: PNG, JPEG, GIF, WebP or AVIF"), responses((status = 201, body = AssetCreated), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
pub(crate) async fn upload(
    State(app): State<AppState>,
    Auth(caller): Auth,
    query: Result<Query<UploadParams>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let Query(params) = query.map_err(|err| {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", err.body_text())
    })?;
    let limit = app.workspace.max_asset_bytes();
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    // Refused before reading when the client says how much it sends.
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large(limit));
    }
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|_| too_large(limit))?;
    let created =
        app.workspace.upload_asset(&caller, &ProjectId(params.project_id), bytes.to_vec()).await?;
    Ok((StatusCode::CREATED, axum::Json(created)).into_response())
}

#[utoipa::path(get, path = "/assets/{id}", tag = "assets", summary = "An uploaded image, to the readers of a project it is in", params(("id" = String, Path, description = "The SHA-256 of the content, in hex")), responses((status = 200, description = "The image, with its type", content_type = "application/octet-stream"), (status = 304, description = "The copy the client holds is current"), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
pub(crate) async fn download(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let asset = app.workspace.asset(&caller, &id).await?;
    let etag = format!("\"{}\"", asset.sha256);
    let mut out = HeaderMap::new();
    // The content never changes under its id; `private` because access depends on who asks.
    out.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=31536000, immutable"),
    );
    out.insert(header::ETAG, HeaderValue::from_str(&etag).map_err(|_| ApiError::internal())?);
    out.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    out.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'"));
    if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
        return Ok((StatusCode::NOT_MODIFIED, out).into_response());
    }
    out.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&asset.mime).map_err(|_| ApiError::internal())?,
    );
    Ok((out, asset.bytes).into_response())
}
