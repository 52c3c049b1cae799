//! `/api/v1/boards/{id}`: what the server does with a board besides syncing it: exports (SVG,
//! PNG, the project page's thumbnail), dot votes and the shared timer.
//!
//! Votes are decided by the workspace (in SQL); the server then writes a copy of the tally, and
//! the timer, into the board's document through its actor, so every participant sees them live.

use std::collections::HashSet;
use std::hash::{Hash, Hasher};

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hubring_doc::board::{self, AssetImage, Board, Detail, MetaKey, ShapeKind, SvgOptions};
use hubring_protocol::api::{BoardState, BoardVote, DotCast, TimerSet, VoteCreate};
use hubring_protocol::{DocId, ErrorBody, ItemId, VersionId, VoteId};
use hubring_store::now_ms;
use hubring_sync::SyncError;
use hubring_workspace::BoardAccess;
use hubring_workspace::access::Action;
use serde::Deserialize;
use serde_json::json;

use super::auth::Auth;
use super::json::ApiJson;
use crate::AppState;
use crate::http::ApiError;
use crate::render;

/// Longest shared timer.
const MAX_TIMER_SECONDS: u32 = 2 * 3600;
/// The project page's thumbnail box, in pixels.
const THUMBNAIL: (u32, u32) = (480, 300);

fn sync_error(err: SyncError) -> ApiError {
    match err {
        SyncError::ShuttingDown => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the server is shutting down",
        ),
        err => {
            tracing::error!(%err, "board document unavailable");
            ApiError::internal()
        }
    }
}

/// CPU work on a blocking thread: hashing or decoding a large board takes tens of milliseconds.
async fn off_runtime<T: Send + 'static>(
    job: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(job).await.map_err(|_| ApiError::internal())
}

/// The board's document as it is now (committed), and a hash of it that changes with it.
async fn snapshot(app: &AppState, doc: &DocId) -> Result<(Vec<u8>, u64), ApiError> {
    let state = app.registry.read(doc).await.map_err(sync_error)?;
    off_runtime(move || {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        state.hash(&mut hasher);
        let version = hasher.finish();
        (state, version)
    })
    .await
}

async fn decode(doc: &DocId, state: Vec<u8>) -> Result<Board, ApiError> {
    off_runtime(move || Board::decode(&state)).await?.map_err(|err| {
        tracing::error!(%doc, %err, "stored board does not decode");
        ApiError::internal()
    })
}

/// The board as it is now (committed).
async fn read(app: &AppState, doc: &DocId) -> Result<Board, ApiError> {
    let (state, _) = snapshot(app, doc).await?;
    decode(doc, state).await
}

/// Writes a copy of the vote into the board's document for everyone to see. The vote itself
/// is already committed; if this fails, the next change to the vote writes it again.
async fn show_vote(app: &AppState, board: &BoardAccess, vote: &BoardVote) {
    let results = vote.results.as_ref().map(|results| {
        results.iter().map(|r| (r.shape.clone(), json!(r.dots))).collect::<serde_json::Map<_, _>>()
    });
    let value = json!({
        "id": vote.id,
        "open": vote.open,
        "dots_per_person": vote.dots_per_person,
        "n_cast": vote.n_cast,
        "n_voters": vote.n_voters,
        "results": results,
    });
    let edit = Box::new(move |txn: &mut hubring_doc::TransactionMut<'_>| {
        board::set_meta(txn, MetaKey::Vote, Some(&value));
    });
    if let Err(err) = app.registry.edit(&board.doc_id, edit).await {
        tracing::warn!(board = %board.item_id, %err, "vote not shown on the board");
    }
}

#[utoipa::path(get, path = "/boards/{id}", tag = "boards", summary = "A board's vote, the server's clock and what the caller may do", params(("id" = String, Path)), responses((status = 200, body = BoardState), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
pub(crate) async fn state(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Json<BoardState>, ApiError> {
    let board = app.workspace.board(&caller, &ItemId(id), Action::OpenDocument).await?;
    Ok(Json(app.workspace.board_state(&caller, &board).await?))
}

#[utoipa::path(post, path = "/boards/{id}/votes", tag = "boards", summary = "Open a dot vote (editors and owners)", params(("id" = String, Path)), request_body = VoteCreate, responses((status = 201, body = BoardVote), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
pub(crate) async fn open_vote(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<VoteCreate>,
) -> Result<Response, ApiError> {
    let board = app.workspace.board(&caller, &ItemId(id), Action::OpenDocument).await?;
    let vote = app.workspace.open_vote(&caller, &board, req).await?;
    show_vote(&app, &board, &vote).await;
    Ok((StatusCode::CREATED, Json(vote)).into_response())
}

#[utoipa::path(post, path = "/boards/{id}/votes/{vote}/close", tag = "boards", summary = "Close the vote and publish its results (editors and owners)", params(("id" = String, Path), ("vote" = String, Path)), responses((status = 200, body = BoardVote), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
pub(crate) async fn close_vote(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path((id, vote)): Path<(String, String)>,
) -> Result<Json<BoardVote>, ApiError> {
    let board = app.workspace.board(&caller, &ItemId(id), Action::OpenDocument).await?;
    let vote = app.workspace.close_vote(&caller, &board, &VoteId(vote)).await?;
    show_vote(&app, &board, &vote).await;
    Ok(Json(vote))
}

#[utoipa::path(post, path = "/boards/{id}/votes/{vote}/dots", tag = "boards", summary = "Place one of the caller's dots on a shape", params(("id" = String, Path), ("vote" = String, Path)), request_body = DotCast, responses((status = 200, body = BoardVote), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
pub(crate) async fn cast_dot(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path((id, vote)): Path<(String, String)>,
    ApiJson(req): ApiJson<DotCast>,
) -> Result<Json<BoardVote>, ApiError> {
    let board = app.workspace.board(&caller, &ItemId(id), Action::OpenDocument).await?;
    let drawn = read(&app, &board.doc_id).await?;
    let votable = drawn.shapes.get(&req.shape).is_some_and(|s| {
        !matches!(s.kind, ShapeKind::Connector | ShapeKind::Frame | ShapeKind::Pen)
    });
    if !votable {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            "shape: no such shape on this board to vote for",
        )
        .with_fields([("shape".to_owned(), "no such shape on this board".to_owned())].into()));
    }
    let vote = app.workspace.change_dot(&caller, &board, &VoteId(vote), &req.shape, 1).await?;
    show_vote(&app, &board, &vote).await;
    Ok(Json(vote))
}

#[utoipa::path(delete, path = "/boards/{id}/votes/{vote}/dots/{shape}", tag = "boards", summary = "Take back one of the caller's dots from a shape", params(("id" = String, Path), ("vote" = String, Path), ("shape" = String, Path)), responses((status = 200, body = BoardVote), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
pub(crate) async fn retract_dot(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path((id, vote, shape)): Path<(String, String, String)>,
) -> Result<Json<BoardVote>, ApiError> {
    let board = app.workspace.board(&caller, &ItemId(id), Action::OpenDocument).await?;
    let vote = app.workspace.change_dot(&caller, &board, &VoteId(vote), &shape, -1).await?;
    show_vote(&app, &board, &vote).await;
    Ok(Json(vote))
}

async fn set_timer(
    app: &AppState,
    board: &BoardAccess,
    value: Option<serde_json::Value>,
) -> Result<(), ApiError> {
    let edit = Box::new(move |txn: &mut hubring_doc::TransactionMut<'_>| {
        board::set_meta(txn, MetaKey::Timer, value.as_ref());
    });
    app.registry.edit(&board.doc_id, edit).await.map_err(sync_error)
}

#[utoipa::path(put, path = "/boards/{id}/timer", tag = "boards", summary = "Start the board's shared timer (editors and owners)", params(("id" = String, Path)), request_body = TimerSet, responses((status = 204), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
pub(crate) async fn start_timer(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<TimerSet>,
) -> Result<StatusCode, ApiError> {
    caller.signed_in()?;
    let board = app.workspace.board(&caller, &ItemId(id), Action::Facilitate).await?;
    if !(1..=MAX_TIMER_SECONDS).contains(&req.seconds) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            format!("seconds: between 1 and {MAX_TIMER_SECONDS}"),
        )
        .with_fields(
            [("seconds".to_owned(), format!("between 1 and {MAX_TIMER_SECONDS}"))].into(),
        ));
    }
    let ends_at = now_ms() + i64::from(req.seconds) * 1000;
    set_timer(&app, &board, Some(json!({ "ends_at": ends_at, "seconds": req.seconds }))).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/boards/{id}/timer", tag = "boards", summary = "Stop the board's shared timer (editors and owners)", params(("id" = String, Path)), responses((status = 204), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
pub(crate) async fn stop_timer(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.signed_in()?;
    let board = app.workspace.board(&caller, &ItemId(id), Action::Facilitate).await?;
    set_timer(&app, &board, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ExportParams {
    /// Export only this frame's area (a frame's shape id).
    frame: Option<String>,
    /// PNG pixels per board unit, 0.25 to 4 (default 1); the image is kept within 4096 pixels.
    scale: Option<f32>,
}

/// The board the caller may read, as it is now.
async fn load(
    app: &AppState,
    caller: &hubring_workspace::Caller,
    id: String,
) -> Result<(BoardAccess, Board), ApiError> {
    let access = app.workspace.board(caller, &ItemId(id), Action::OpenDocument).await?;
    let drawn = read(app, &access.doc_id).await?;
    Ok((access, drawn))
}

/// How a drawing is to be delivered.
enum Output {
    Svg,
    /// A one-page vector PDF of the drawing's size, titled.
    Pdf(String),
    /// Rasterised at no more than this many pixels per unit, within this box.
    Png {
        scale: f32,
        max: (u32, u32),
    },
}

/// The board drawn (as SVG, or rasterised), with the images of its project embedded. Drawing and
/// rasterising run together on one of the renderer's bounded blocking slots.
async fn draw(
    app: &AppState,
    access: &BoardAccess,
    drawn: Board,
    options: SvgOptions,
    output: Output,
) -> Result<Vec<u8>, ApiError> {
    let ids: HashSet<String> = drawn.shapes.values().filter_map(|s| s.asset.clone()).collect();
    let assets = app.workspace.board_assets(access, &ids).await?;
    let job = move || -> Result<Vec<u8>, ApiError> {
        // An image whose size cannot be read or that has more pixels than an upload may (one
        // stored before the limit) is drawn as a placeholder: decoding it could take gigabytes.
        let asset = |sha: &str| {
            let (mime, bytes) = assets.get(sha)?;
            let (width, height) = hubring_workspace::image_size(bytes)
                .filter(|(w, h)| w.saturating_mul(*h) <= hubring_workspace::MAX_IMAGE_PIXELS)?;
            Some(AssetImage { mime: mime.clone(), bytes: bytes.clone(), width, height })
        };
        let svg = board::to_svg(&drawn, &options, &asset)
            .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not_found", "frame not found"))?;
        match output {
            Output::Svg => Ok(svg.text.into_bytes()),
            Output::Pdf(title) => hubring_export::pdf::svg_to_pdf(
                &svg.text, svg.width, svg.height, &title,
            )
            .map_err(|err| {
                tracing::error!(%err, "board PDF not made");
                ApiError::internal()
            }),
            Output::Png { scale, max } => {
                render::png(&svg.text, scale, max.0, max.1).map_err(|err| {
                    tracing::error!(%err, "board did not render");
                    ApiError::internal()
                })
            }
        }
    };
    app.renderer.run(job).await.map_err(|err| {
        tracing::error!(%err, "board drawing did not finish");
        ApiError::internal()
    })?
}

fn params(query: Result<Query<ExportParams>, QueryRejection>) -> Result<ExportParams, ApiError> {
    let Query(params) = query.map_err(|err| ApiError::bad_query(&err))?;
    if params.scale.is_some_and(|s| !(0.25..=4.0).contains(&s)) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            "scale: between 0.25 and 4",
        ));
    }
    Ok(params)
}

/// How a browser is to take a file: `inline` or `attachment`, named `stem.ext`. The name is given
/// twice (RFC 6266): in ASCII, with anything else, quotes and path separators replaced, for old
/// clients, and exactly, percent-encoded as UTF-8, for the rest ("Atelier café.png").
pub(crate) fn disposition(kind: &str, stem: &str, ext: &str) -> Option<HeaderValue> {
    let stem = stem.trim();
    let stem = if stem.is_empty() { "board" } else { stem };
    let ascii: String = stem
        .chars()
        .map(|c| {
            let plain = c == ' ' || (c.is_ascii_graphic() && !matches!(c, '"' | '\\' | '/'));
            if plain { c } else { '_' }
        })
        .collect();
    // RFC 5987's attr-char, unescaped; everything else percent-encoded.
    const ESCAPED: &percent_encoding::AsciiSet =
        &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');
    let name = format!("{stem}.{ext}");
    let exact = percent_encoding::utf8_percent_encode(&name, ESCAPED);
    HeaderValue::from_str(&format!("{kind}; filename=\"{ascii}.{ext}\"; filename*=UTF-8''{exact}"))
        .ok()
}

/// Headers of an exported file: it is ours and holds no script, but it is still locked down.
pub(crate) fn export_headers(mime: &'static str, disposition: Option<HeaderValue>) -> HeaderMap {
    let mut out = HeaderMap::new();
    out.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    out.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    out.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; img-src data:; style-src 'unsafe-inline'"),
    );
    if let Some(value) = disposition {
        out.insert(header::CONTENT_DISPOSITION, value);
    }
    out
}

#[utoipa::path(get, path = "/boards/{id}/export.svg", tag = "boards", summary = "The board (or one frame) as a standalone SVG", params(("id" = String, Path), ExportParams), responses((status = 200, description = "The drawing", content_type = "image/svg+xml"), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
pub(crate) async fn export_svg(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    query: Result<Query<ExportParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let params = params(query)?;
    let (access, drawn) = load(&app, &caller, id).await?;
    let options = SvgOptions { frame: params.frame, ..SvgOptions::default() };
    let svg = draw(&app, &access, drawn, options, Output::Svg).await?;
    let named = disposition("attachment", &access.title, "svg");
    Ok((export_headers("image/svg+xml", named), svg).into_response())
}

#[utoipa::path(get, path = "/boards/{id}/versions/{version}/export.svg", tag = "boards", summary = "A version of the board as SVG (what the history panel shows)", params(("id" = String, Path), ("version" = String, Path)), responses((status = 200, description = "The drawing", content_type = "image/svg+xml"), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
pub(crate) async fn version_svg(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path((id, version)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let access = app.workspace.board(&caller, &ItemId(id), Action::OpenDocument).await?;
    let (_, state) = super::versions::stored(&app, &access.doc_id, &VersionId(version)).await?;
    let drawn = decode(&access.doc_id, state).await?;
    let svg = draw(&app, &access, drawn, SvgOptions::default(), Output::Svg).await?;
    let named = disposition("inline", &access.title, "svg");
    Ok((export_headers("image/svg+xml", named), svg).into_response())
}

/// The formats a board is exported to through `/items/{id}/export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BoardFormat {
    Svg,
    Png,
    Pdf,
}

/// A board's state (as it is, or a version) exported, for `/items/{id}/export`.
pub(crate) async fn export_state(
    app: &AppState,
    caller: &hubring_workspace::Caller,
    id: ItemId,
    state: Vec<u8>,
    format: BoardFormat,
) -> Result<Response, ApiError> {
    let access = app.workspace.board(caller, &id, Action::OpenDocument).await?;
    let drawn = decode(&access.doc_id, state).await?;
    let (output, mime, ext) = match format {
        BoardFormat::Svg => (Output::Svg, "image/svg+xml", "svg"),
        BoardFormat::Png => (
            Output::Png { scale: 1.0, max: (render::MAX_SIDE, render::MAX_SIDE) },
            "image/png",
            "png",
        ),
        BoardFormat::Pdf => (Output::Pdf(access.title.clone()), "application/pdf", "pdf"),
    };
    let bytes = draw(app, &access, drawn, SvgOptions::default(), output).await?;
    let named = disposition("attachment", &access.title, ext);
    Ok((export_headers(mime, named), bytes).into_response())
}

#[utoipa::path(get, path = "/boards/{id}/export.png", tag = "boards", summary = "The board (or one frame) as a PNG", params(("id" = String, Path), ExportParams), responses((status = 200, description = "The image", content_type = "image/png"), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
pub(crate) async fn export_png(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    query: Result<Query<ExportParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let params = params(query)?;
    let (access, drawn) = load(&app, &caller, id).await?;
    let options = SvgOptions { frame: params.frame, ..SvgOptions::default() };
    let output = Output::Png {
        scale: params.scale.unwrap_or(1.0),
        max: (render::MAX_SIDE, render::MAX_SIDE),
    };
    let png = draw(&app, &access, drawn, options, output).await?;
    let named = disposition("attachment", &access.title, "png");
    Ok((export_headers("image/png", named), png).into_response())
}

#[utoipa::path(get, path = "/boards/{id}/thumbnail.png", tag = "boards", summary = "A small picture of the board, for the project page", params(("id" = String, Path)), responses((status = 200, description = "The image", content_type = "image/png"), (status = 304, description = "The copy the client holds is current"), (status = "4XX", body = ErrorBody, description = "Refused; the body says why")))]
pub(crate) async fn thumbnail(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let access = app.workspace.board(&caller, &ItemId(id), Action::OpenDocument).await?;
    let (state, version) = snapshot(&app, &access.doc_id).await?;
    let etag = format!("\"{version:016x}\"");
    let mut out = export_headers("image/png", disposition("inline", "thumbnail", "png"));
    out.insert(header::ETAG, HeaderValue::from_str(&etag).map_err(|_| ApiError::internal())?);
    if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
        return Ok((StatusCode::NOT_MODIFIED, out).into_response());
    }
    // Drawn once per state of the board: the project page asks on every visit.
    if let Some(png) = app.renderer.thumbnail(&access.doc_id, version) {
        return Ok((out, png).into_response());
    }
    let drawn = decode(&access.doc_id, state).await?;
    let doc = access.doc_id.clone();
    let options = SvgOptions { frame: None, detail: Detail::Shapes };
    let png =
        draw(&app, &access, drawn, options, Output::Png { scale: 1.0, max: THUMBNAIL }).await?;
    let png = bytes::Bytes::from(png);
    app.renderer.keep_thumbnail(doc, version, png.clone());
    Ok((out, png).into_response())
}
