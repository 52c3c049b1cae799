//! `/api/v1/assets`: images and annexes (PDF, Word, Excel, OpenDocument...) uploaded into
//! projects, as raw request bodies (no multipart: one file per request, its type read from its
//! bytes), and served back by content id: images shown, documents downloaded under their name.

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hubring_protocol::api::AssetCreated;
use hubring_protocol::{ErrorBody, ProjectId};
use serde::Deserialize;

use super::auth::Auth;
use crate::AppState;
use crate::http::ApiError;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct UploadParams {
    /// The project the file is uploaded into; its readers may fetch it.
    project_id: String,
    /// The file's name, for a document: it is downloaded under it (with the extension its
    /// content calls for), through the URL the answer gives.
    name: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct DownloadParams {
    /// The name to download a document under (as the upload's answer put it in its URL).
    name: Option<String>,
}

/// A file name's stem, as a download may carry it: no directory, no extension (the content's
/// own is used), at most 120 characters.
fn stem_of(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let stem = base.rsplit_once('.').map_or(base, |(stem, _)| stem);
    stem.chars().filter(|c| !c.is_control()).take(120).collect::<String>().trim().to_owned()
}

#[utoipa::path(post, path = "/assets", tag = "assets", summary = "Upload an image or a document into a project (the body is the file)", params(UploadParams), request_body(content = String, content_type = "application/octet-stream", description = "The file's bytes: a PNG, JPEG, GIF, WebP or AVIF image, or a PDF, DOCX, XLSX, PPTX, ODT, ODS or ODP document"), responses((status = 201, body = AssetCreated), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
pub(crate) async fn upload(
    State(app): State<AppState>,
    Auth(caller): Auth,
    query: Result<Query<UploadParams>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let Query(params) = query.map_err(|err| ApiError::bad_query(&err))?;
    let bytes = super::file_body(&headers, body, app.workspace.max_asset_bytes()).await?;
    let mut created =
        app.workspace.upload_asset(&caller, &ProjectId(params.project_id), bytes.to_vec()).await?;
    // A document is downloaded under its name: the URL carries it (the content is stored once,
    // whatever it is called in each document that links it).
    if hubring_workspace::document_extension(&created.mime).is_some()
        && let Some(stem) = params.name.as_deref().map(stem_of).filter(|s| !s.is_empty())
    {
        const ESCAPED: &percent_encoding::AsciiSet =
            &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_');
        let ext = hubring_workspace::document_extension(&created.mime).unwrap_or("bin");
        let name = format!("{stem}.{ext}");
        let encoded = percent_encoding::utf8_percent_encode(&name, ESCAPED);
        created.url = format!("{}?name={encoded}", created.url);
    }
    Ok((StatusCode::CREATED, axum::Json(created)).into_response())
}

#[utoipa::path(get, path = "/assets/{id}", tag = "assets", summary = "An uploaded file, to the readers of a project it is in: an image to show, a document to download", params(("id" = String, Path, description = "The SHA-256 of the content, in hex"), DownloadParams), responses((status = 200, description = "The image, with its type", content_type = "application/octet-stream"), (status = 304, description = "The copy the client holds is current"), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
pub(crate) async fn download(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    Query(params): Query<DownloadParams>,
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
    // A document is never opened in the app's origin: it is downloaded, under its name.
    if let Some(ext) = hubring_workspace::document_extension(&asset.mime) {
        let stem = params.name.as_deref().map(stem_of).filter(|s| !s.is_empty());
        let stem = stem.unwrap_or_else(|| "annex".to_owned());
        if let Some(value) = super::boards::disposition("attachment", &stem, ext) {
            out.insert(header::CONTENT_DISPOSITION, value);
        }
    }
    Ok((out, asset.bytes).into_response())
}
