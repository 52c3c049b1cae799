//! The HTTP router: health probes, the document websocket, and mapping errors to the one error
//! body, once.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use hubring_protocol::ErrorBody;

use crate::{AppState, ws};

pub(crate) fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        // A catch-all segment, so an id with a '/' in it is answered 400 like any other bad id.
        .route("/ws/doc/{*doc_id}", get(ws::doc))
        .with_state(state)
}

/// An error answered over HTTP: a status, a stable code and a message fit for a user.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into() }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(ErrorBody::new(self.code, self.message))).into_response()
    }
}

/// The process is up.
async fn healthz() -> &'static str {
    "ok"
}

/// The store answers.
async fn readyz(State(app): State<AppState>) -> Result<&'static str, ApiError> {
    app.store.ping().await.map_err(|err| {
        tracing::warn!(%err, "readiness check failed");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "store_unavailable",
            "the store does not answer",
        )
    })?;
    Ok("ready")
}

/// Prometheus text format.
async fn metrics(State(app): State<AppState>) -> String {
    use std::sync::atomic::Ordering::Relaxed;
    let counters = app.store.counters();
    format!(
        "# TYPE hubring_store_commits_total counter\nhubring_store_commits_total {}\n\
         # TYPE hubring_store_updates_total counter\nhubring_store_updates_total {}\n\
         # TYPE hubring_live_docs gauge\nhubring_live_docs {}\n",
        counters.commits.load(Relaxed),
        counters.updates.load(Relaxed),
        app.registry.n_live(),
    )
}
