//! The HTTP router: health probes, `/api/v1`, the document websocket, and mapping errors to the
//! one error body, once.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::header::{AUTHORIZATION, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use hubring_protocol::ErrorBody;

use crate::{AppState, api, web, ws};

pub(crate) fn router(state: AppState) -> Router {
    let (api, doc) = api::router();
    let doc = serde_json::to_value(&doc).expect("the OpenAPI document serializes");
    let page = Html(api::docs_page(&doc));
    let json = Json(doc);
    Router::new()
        .route("/api/v1/openapi.json", get(move || std::future::ready(json.clone())))
        .route("/api/docs", get(move || std::future::ready(page.clone())))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_with_token))
        // A catch-all segment, so an id with a '/' in it is answered 400 like any other bad id.
        .route("/ws/doc/{*doc_id}", get(ws::doc))
        .route("/ws/room/{room_id}", get(crate::room::room))
        .nest("/api/v1", api)
        .fallback(web::serve)
        .with_state(state)
}

/// What a connection past the cap is served (`crate::serve`): the health probes, and 503 for
/// everything else.
pub(crate) fn spare_router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .fallback(|| async {
            let mut response = ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "the server has as many connections as it can hold; try again shortly",
            )
            .into_response();
            response.headers_mut().insert(RETRY_AFTER, HeaderValue::from_static("5"));
            response
        })
        .with_state(state)
}

/// The metrics address's router (`--metrics-listen`): `/metrics` only.
pub(crate) fn metrics_router(state: AppState) -> Router {
    Router::new().route("/metrics", get(metrics)).with_state(state)
}

/// An error answered over HTTP: a status, a stable code, a message fit for a user and, for
/// refused input, a message per field.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    fields: BTreeMap<String, String>,
    field_codes: BTreeMap<String, hubring_protocol::Problem>,
    params: BTreeMap<String, u64>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            fields: BTreeMap::new(),
            field_codes: BTreeMap::new(),
            params: BTreeMap::new(),
        }
    }

    /// A failure of ours; its detail is logged where it happened, never sent.
    pub(crate) fn internal() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "something went wrong on our side")
    }

    /// A query string that does not read as the route's parameters.
    pub(crate) fn bad_query(err: &axum::extract::rejection::QueryRejection) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", err.body_text())
    }

    pub(crate) fn with_fields(mut self, fields: BTreeMap<String, String>) -> Self {
        self.fields = fields;
        self
    }

    /// Each refused field's code and numbers, for a client to word in its language.
    pub(crate) fn with_field_codes(
        mut self,
        codes: BTreeMap<String, hubring_protocol::Problem>,
    ) -> Self {
        self.field_codes = codes;
        self
    }

    /// A number the message quotes, for a client to word the error in its language.
    pub(crate) fn with_param(mut self, name: &str, value: u64) -> Self {
        self.params.insert(name.to_owned(), value);
        self
    }

    #[cfg(test)]
    pub(crate) fn status(&self) -> StatusCode {
        self.status
    }

    #[cfg(test)]
    pub(crate) fn fields(&self) -> &BTreeMap<String, String> {
        &self.fields
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody::new(self.code, self.message)
            .with_fields(self.fields)
            .with_field_codes(self.field_codes)
            .with_params(self.params);
        (self.status, Json(body)).into_response()
    }
}

/// The process is up.
async fn healthz() -> &'static str {
    "ok"
}

/// The store answers, and Redis when there are other nodes.
async fn readyz(State(app): State<AppState>) -> Result<&'static str, ApiError> {
    app.store.ping().await.map_err(|err| {
        tracing::warn!(%err, "readiness check failed");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "store_unavailable",
            "the store does not answer",
        )
    })?;
    if let Some(redis) = &app.cluster {
        redis.ready().await.map_err(|err| {
            tracing::warn!(%err, "readiness check failed");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "redis_unavailable",
                "redis does not answer",
            )
        })?;
    }
    Ok("ready")
}

/// `/metrics` on the main address: only with `--metrics-token`, and only to a request that
/// bears it; otherwise 404, as if there were none.
async fn metrics_with_token(
    State(app): State<AppState>,
    headers: HeaderMap,
) -> Result<String, ApiError> {
    let bearer = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match (&app.config.metrics.token, bearer) {
        (Some(token), Some(given)) if same_secret(token, given) => Ok(metrics(State(app)).await),
        _ => Err(ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such page")),
    }
}

/// Whether two secrets are equal, compared as SHA-256 digests so the time taken tells nothing
/// about how much of a guess was right.
fn same_secret(expected: &str, given: &str) -> bool {
    use sha2::{Digest, Sha256};
    Sha256::digest(expected.as_bytes()) == Sha256::digest(given.as_bytes())
}

/// Prometheus text format.
async fn metrics(State(app): State<AppState>) -> String {
    use std::sync::atomic::Ordering::Relaxed;
    let mut out = String::new();
    let store = app.store.counters();
    series(&mut out, "counter", "hubring_store_commits_total", store.commits.load(Relaxed));
    series(&mut out, "counter", "hubring_store_updates_total", store.updates.load(Relaxed));
    series(&mut out, "gauge", "hubring_live_docs", app.registry.n_live());
    series(&mut out, "gauge", "hubring_connections_open", app.gate.open());
    series(
        &mut out,
        "counter",
        "hubring_connections_refused_total",
        app.gate.refused.load(Relaxed),
    );
    series(&mut out, "counter", "hubring_connections_spared_total", app.gate.spared.load(Relaxed));
    let sync = app.registry.counters();
    series(&mut out, "counter", "hubring_peer_updates_total", sync.peer_updates.load(Relaxed));
    series(&mut out, "counter", "hubring_peer_dropped_total", sync.peer_dropped.load(Relaxed));
    series(&mut out, "counter", "hubring_gap_repairs_total", sync.gap_repairs.load(Relaxed));
    if let Some(redis) = &app.cluster {
        let c = redis.counters();
        series(&mut out, "counter", "hubring_redis_published_total", c.published.load(Relaxed));
        let failed = c.publish_failed.load(Relaxed);
        series(&mut out, "counter", "hubring_redis_publish_failed_total", failed);
        series(&mut out, "counter", "hubring_redis_received_total", c.received.load(Relaxed));
        series(&mut out, "counter", "hubring_redis_reconnects_total", c.reconnects.load(Relaxed));
    }
    out
}

/// One series: its type line and its value.
fn series(out: &mut String, kind: &str, name: &str, value: impl std::fmt::Display) {
    use std::fmt::Write;
    let _ = writeln!(out, "# TYPE {name} {kind}\n{name} {value}");
}
