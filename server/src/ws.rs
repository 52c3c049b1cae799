//! `GET /ws/doc/{doc_id}`: the y-websocket protocol on one connection.
//!
//! A connection is a reader loop (this task) plus a writer task draining a bounded outbox.
//! Frames are decoded by the connection's `Session` before anything reaches the document; every
//! way a connection ends goes through its `CloseSignal`, so it is closed once with one code.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use hubring_doc::{Permission, Session};
use hubring_protocol::DocId;
use hubring_protocol::ws::close;
use hubring_sync::{CloseSignal, Conn, SyncError};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite;
use tracing::Instrument;

use crate::AppState;
use crate::http::ApiError;

/// How long the writer keeps trying to deliver its close frame (after whatever was already
/// buffered) to a client that is not reading, before dropping the socket.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// Bytes read from the socket at a time. tungstenite zero-fills this much of its read buffer on
/// every read, so it is resident memory per connection: its default (128 KiB) made an idle
/// connection cost 141 KB, 4 KiB 12.8 KB (measured at 10,000 connections); document frames are
/// mostly a few dozen bytes, and larger ones are simply read in several steps.
const READ_BUFFER_BYTES: usize = 1024;

/// Most frames the writer queues before flushing them to the socket.
const MAX_FRAMES_PER_FLUSH: usize = 64;

/// Upgrades to the document websocket. The id is checked before the upgrade.
pub(crate) async fn doc(
    State(app): State<AppState>,
    Path(raw): Path<String>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let doc = match DocId::parse(&raw) {
        Ok(doc) => doc,
        Err(err) => {
            return ApiError::new(StatusCode::BAD_REQUEST, "bad_doc_id", err.to_string())
                .into_response();
        }
    };
    let upgrade = match upgrade {
        Ok(upgrade) => upgrade,
        Err(rejection) => return rejection.into_response(),
    };
    let permission =
        if app.config.docs.read_only.covers(&doc) { Permission::Read } else { Permission::Write };
    let max = app.config.docs.max_frame_bytes;
    let tracker = app.tracker.clone();
    upgrade
        .read_buffer_size(READ_BUFFER_BYTES)
        .max_frame_size(max)
        .max_message_size(max)
        .on_upgrade(move |socket| tracker.track_future(serve(app, socket, doc, permission)))
}

async fn serve(app: AppState, mut socket: WebSocket, doc: DocId, permission: Permission) {
    let (conn, outbox) = match app.registry.join(&doc).await {
        Ok(joined) => joined,
        Err(err) => {
            let code = match err {
                SyncError::ShuttingDown => close::GOING_AWAY,
                SyncError::Load(_) | SyncError::Gone => close::INTERNAL,
            };
            tracing::warn!(%doc, %err, "join failed");
            let frame = CloseFrame { code, reason: err.to_string().into() };
            let _ =
                tokio::time::timeout(CLOSE_TIMEOUT, socket.send(Message::Close(Some(frame)))).await;
            return;
        }
    };
    let span = tracing::info_span!("doc_conn", conn = %conn.id, %doc, ?permission);
    async move {
        tracing::debug!("connected");
        let (sink, stream) = socket.split();
        let docs = &app.config.docs;
        let writer = tokio::spawn(
            write_worker(sink, outbox, Arc::clone(&conn.close), docs.ping_interval)
                .in_current_span(),
        );
        read_loop(
            stream,
            &conn,
            Session::new(permission),
            docs.client_timeout,
            docs.max_frame_bytes,
        )
        .await;
        let _ = writer.await;
        let reason = conn.close.reason().map(|r| (r.code, r.reason.clone()));
        tracing::debug!(?reason, "disconnected");
    }
    .instrument(span)
    .await;
}

async fn read_loop(
    mut stream: SplitStream<WebSocket>,
    conn: &Conn,
    mut session: Session,
    client_timeout: Duration,
    max_frame_bytes: usize,
) {
    let mut last_heard = Instant::now();
    loop {
        let msg = tokio::select! {
            () = conn.close.closed() => return,
            () = tokio::time::sleep_until(last_heard + client_timeout) => {
                tracing::info!("client silent, closing");
                conn.close.close(close::POLICY, "no frame or pong within the client timeout");
                return;
            }
            msg = stream.next() => msg,
        };
        let frame = match msg {
            Some(Ok(Message::Binary(frame))) => frame,
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {
                last_heard = Instant::now();
                continue;
            }
            Some(Ok(Message::Text(_))) => {
                tracing::warn!("text frame, closing");
                conn.close
                    .close(close::INVALID_PAYLOAD, "text frames are not part of the protocol");
                return;
            }
            Some(Ok(Message::Close(_))) | None => {
                conn.close.close(close::GOING_AWAY, "client left");
                return;
            }
            Some(Err(err)) => {
                if is_too_big(err) {
                    tracing::warn!(max_frame_bytes, "frame too large, closing");
                    conn.close.close(
                        close::TOO_BIG,
                        format!("frame larger than {max_frame_bytes} bytes"),
                    );
                } else {
                    conn.close.close(close::GOING_AWAY, "connection error");
                }
                return;
            }
        };
        last_heard = Instant::now();
        match session.receive(&frame) {
            Ok(Some(inbound)) => {
                if conn.send(inbound).await.is_err() {
                    conn.close.close(close::GOING_AWAY, "document closed");
                    return;
                }
            }
            Ok(None) => {}
            Err(err) => {
                tracing::warn!(%err, n_bytes = frame.len(), "bad frame, closing");
                conn.close.close(close::INVALID_PAYLOAD, short(&err.to_string()));
                return;
            }
        }
    }
}

fn is_too_big(err: axum::Error) -> bool {
    matches!(
        err.into_inner().downcast_ref::<tungstenite::Error>(),
        Some(tungstenite::Error::Capacity(_))
    )
}

/// A close reason must fit a control frame (123 bytes).
fn short(reason: &str) -> String {
    let mut end = reason.len().min(120);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    reason[..end].to_owned()
}

/// Drains the outbox into the socket and pings; on the close signal, sends the close frame.
async fn write_worker(
    mut sink: SplitSink<WebSocket, Message>,
    mut outbox: mpsc::Receiver<Bytes>,
    signal: Arc<CloseSignal>,
    ping_interval: Duration,
) {
    let mut ping = tokio::time::interval_at(Instant::now() + ping_interval, ping_interval);
    loop {
        let msg = tokio::select! {
            biased;
            () = signal.closed() => break,
            frame = outbox.recv() => match frame {
                Some(frame) => Message::Binary(frame),
                None => break,
            },
            _ = ping.tick() => Message::Ping(Bytes::new()),
        };
        // Whatever else is already queued goes out with it, in one flush (one write syscall
        // for a burst rather than one per frame).
        let sent = tokio::select! {
            sent = async {
                sink.feed(msg).await?;
                for _ in 1..MAX_FRAMES_PER_FLUSH {
                    let Ok(frame) = outbox.try_recv() else { break };
                    sink.feed(Message::Binary(frame)).await?;
                }
                sink.flush().await
            } => sent,
            () = signal.closed() => break,
        };
        if sent.is_err() {
            signal.close(close::GOING_AWAY, "client gone");
            return;
        }
    }
    let (code, reason) =
        signal.reason().map_or((close::GOING_AWAY, String::new()), |r| (r.code, r.reason.clone()));
    let frame = CloseFrame { code, reason: reason.into() };
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, async {
        let _ = sink.send(Message::Close(Some(frame))).await;
        let _ = sink.close().await;
    })
    .await;
}
