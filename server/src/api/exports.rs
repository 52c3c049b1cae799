//! `GET /api/v1/items/{id}/export`: a document as Markdown, HTML, DOCX or PDF, a board as SVG,
//! PNG or PDF, as it is now or (`?version=`) as a version of its history was.
//!
//! The document is read into its tree (`hubring_doc::tree`) and written by `hubring-export`,
//! on the renderer's bounded blocking slots, so a large document never holds up a request.

use std::collections::{HashMap, HashSet};

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use hubring_doc::tree::{self, Document};
use hubring_export::{Asset, docx, html, markdown, pdf};
use hubring_protocol::api::ItemKind;
use hubring_protocol::{ErrorBody, ItemId, VersionId};
use hubring_workspace::ContentAccess;
use hubring_workspace::access::Action;
use serde::Deserialize;

use super::auth::Auth;
use super::boards::{self, disposition, export_headers};
use crate::AppState;
use crate::http::ApiError;

/// The formats an item is exported to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ExportFormat {
    Md,
    Html,
    Docx,
    Pdf,
    Svg,
    Png,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ExportQuery {
    /// Documents: `md`, `html`, `docx` or `pdf`; boards: `svg`, `png` or `pdf`.
    #[param(inline)]
    format: ExportFormat,
    /// A version of the item's history to export instead of the item as it is now.
    version: Option<String>,
    /// The text's language (`en`, `fr`, `es`, `pt`), for PDF hyphenation and HTML's `lang`.
    lang: Option<String>,
}

const DOCX_MIME: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

/// The asset id an image URL of a document points at (`/api/v1/assets/{id}`).
pub(crate) fn asset_id(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("/api/v1/assets/")?;
    Some(rest.split(['?', '#']).next().unwrap_or(rest))
}

/// The images a document shows that are assets of its project, by URL.
async fn document_assets(
    app: &AppState,
    access: &ContentAccess,
    doc: &Document,
) -> Result<HashMap<String, Asset>, ApiError> {
    let urls: Vec<String> = doc.images().into_iter().map(str::to_owned).collect();
    let ids: HashSet<String> = urls.iter().filter_map(|u| asset_id(u)).map(str::to_owned).collect();
    let found = app.workspace.project_assets(&access.project_id, &ids).await?;
    Ok(urls
        .into_iter()
        .filter_map(|u| {
            let (mime, bytes) = found.get(asset_id(&u)?)?.clone();
            Some((u, Asset { mime, bytes }))
        })
        .collect())
}

#[utoipa::path(get, path = "/items/{id}/export", tag = "exports", summary = "A document as Markdown, HTML, DOCX or PDF; a board as SVG, PNG or PDF (readers of the item)", params(("id" = String, Path), ExportQuery), responses((status = 200, description = "The file, named after the item", content_type = "application/octet-stream"), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
pub(crate) async fn export_item(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    query: Result<Query<ExportQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|err| ApiError::bad_query(&err))?;
    let access =
        app.workspace.content_access(&caller, &ItemId(id.clone()), Action::OpenDocument).await?;
    let state = match &query.version {
        Some(v) => super::versions::stored(&app, &access.doc_id, &VersionId(v.clone())).await?.1,
        None => app.registry.read(&access.doc_id).await.map_err(|err| {
            tracing::error!(%err, item = %access.item_id, "document unavailable for export");
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "try again")
        })?,
    };
    let unsupported = |what: &str| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            format!(
                "format: a {what} is exported as {}",
                if what == "board" { "svg, png or pdf" } else { "md, html, docx or pdf" }
            ),
        )
    };
    if access.kind == ItemKind::Board {
        let format = match query.format {
            ExportFormat::Svg => boards::BoardFormat::Svg,
            ExportFormat::Png => boards::BoardFormat::Png,
            ExportFormat::Pdf => boards::BoardFormat::Pdf,
            _ => return Err(unsupported("board")),
        };
        return boards::export_state(&app, &caller, ItemId(id), state, format).await;
    }
    if matches!(query.format, ExportFormat::Svg | ExportFormat::Png) {
        return Err(unsupported("document"));
    }
    let doc = app
        .renderer
        .run(move || tree::read_state(&state))
        .await
        .map_err(|_| ApiError::internal())?
        .map_err(|err| {
            tracing::error!(%err, "stored document does not decode");
            ApiError::internal()
        })?;
    let assets = document_assets(&app, &access, &doc).await?;
    let title = access.title.clone();
    let lang = query.lang.filter(|l| l.len() <= 8).unwrap_or_else(|| "en".to_owned());
    let format = query.format;
    let name = title.clone();
    let job = move || -> Result<(&'static str, &'static str, Vec<u8>), ApiError> {
        let find = move |url: &str| assets.get(url).cloned();
        Ok(match format {
            ExportFormat::Md => {
                ("text/markdown; charset=utf-8", "md", markdown::to_markdown(&doc).into_bytes())
            }
            ExportFormat::Html => (
                "text/html; charset=utf-8",
                "html",
                html::to_html(&doc, &title, &lang, &find).into_bytes(),
            ),
            ExportFormat::Docx => (
                DOCX_MIME,
                "docx",
                docx::to_docx(&doc, &title, &find).map_err(|err| {
                    tracing::error!(%err, "DOCX export failed");
                    ApiError::internal()
                })?,
            ),
            ExportFormat::Pdf => (
                "application/pdf",
                "pdf",
                pdf::to_pdf(&doc, &title, &lang, &find).map_err(|err| {
                    tracing::error!(%err, "PDF export failed");
                    ApiError::internal()
                })?,
            ),
            ExportFormat::Svg | ExportFormat::Png => unreachable!("refused above"),
        })
    };
    let (mime, ext, bytes) = app.renderer.run(job).await.map_err(|_| ApiError::internal())??;
    let named = disposition("attachment", &name, ext);
    Ok((export_headers(mime, named), bytes).into_response())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ImportParams {
    /// The new document's title.
    title: String,
    /// The file's name: a `.md` name marks Markdown (as `Content-Type: text/markdown` does).
    filename: Option<String>,
}

/// What a file to import is, from its bytes and what the client says of it.
enum Source {
    Markdown,
    Docx,
}

#[utoipa::path(post, path = "/projects/{id}/import", tag = "exports", summary = "A Markdown or DOCX file as a new document of the project (owners and editors); its images become assets", params(("id" = String, Path), ImportParams), request_body(content = String, content_type = "application/octet-stream", description = "The file: a DOCX (told by its bytes), or Markdown (`Content-Type: text/markdown` or a `.md` filename)"), responses((status = 201, body = hubring_protocol::api::ItemCreated), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
pub(crate) async fn import_document(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    query: Result<Query<ImportParams>, QueryRejection>,
    headers: axum::http::HeaderMap,
    body: axum::body::Body,
) -> Result<Response, ApiError> {
    use axum::http::header;
    let Query(params) = query.map_err(|err| ApiError::bad_query(&err))?;
    let project = hubring_protocol::ProjectId(id);
    // Who may add items, before the body is read.
    app.workspace.check_create_item(&caller, &project).await?;
    let bytes = super::file_body(&headers, body, app.workspace.max_asset_bytes()).await?;
    let content_type =
        headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let md_name = params.filename.as_deref().is_some_and(|n| {
        let n = n.to_lowercase();
        n.ends_with(".md") || n.ends_with(".markdown")
    });
    let source = if hubring_export::import::is_zip(&bytes) {
        Source::Docx
    } else if content_type.starts_with("text/markdown") || md_name {
        Source::Markdown
    } else {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media",
            "import a DOCX file, or Markdown (Content-Type: text/markdown or a .md filename)",
        ));
    };
    let parsed = app
        .renderer
        .run(move || match source {
            Source::Docx => hubring_export::import::from_docx(&bytes),
            Source::Markdown => match std::str::from_utf8(&bytes) {
                Ok(text) => hubring_export::import::from_markdown(text),
                Err(_) => Err(hubring_export::import::ImportError::NotDocx(
                    "Markdown must be UTF-8 text".into(),
                )),
            },
        })
        .await
        .map_err(|_| ApiError::internal())?
        .map_err(|err| {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", err.to_string())
        })?;
    let mut imported = parsed;
    let created = app
        .workspace
        .create_item(
            &caller,
            &project,
            hubring_protocol::api::ItemCreate {
                kind: ItemKind::Document,
                title: params.title,
                template_id: None,
            },
        )
        .await?;
    // The file's images are the project's assets; the document points at them.
    let mut stored = HashMap::new();
    for image in std::mem::take(&mut imported.images) {
        match app.workspace.upload_asset(&caller, &project, image.bytes).await {
            Ok(asset) => {
                stored.insert(image.key, asset.url);
            }
            Err(err) => tracing::info!(%err, "an imported image was not kept"),
        }
    }
    imported.link_images(&|key| stored.get(key).cloned());
    write_content(&app, &created.doc_id, imported.doc).await?;
    Ok((StatusCode::CREATED, axum::Json(created)).into_response())
}

/// Writes a tree as a new document's content, through its actor (committed when this returns).
pub(crate) async fn write_content(
    app: &AppState,
    doc_id: &hubring_protocol::DocId,
    doc: Document,
) -> Result<(), ApiError> {
    let edit = Box::new(move |txn: &mut hubring_doc::TransactionMut<'_>| {
        tree::write(txn, &doc, &mut || hubring_workspace::block_id());
    });
    app.registry.edit(doc_id, edit).await.map_err(|err| {
        tracing::error!(%doc_id, %err, "imported content not written");
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "try again")
    })
}
