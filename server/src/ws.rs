//! `GET /ws/doc/{doc_id}`: the y-websocket protocol on one connection.
//!
//! A connection is one task, a hand-written [`Connection`] future that reads the socket, feeds
//! the document, drains the bounded outbox into the socket and pings. Idle connections are most
//! of what a busy server holds, so each costs one small future: no second task, split lock or
//! channel block, and none of the copies nested `async fn`s make of their arguments (they made
//! the same logic 7.6 KB; by hand it is 224 bytes). Frames are decoded by the connection's
//! `Session` before anything reaches the document; every way a connection ends goes through its
//! `CloseSignal`, so it is closed once with one code.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use hubring_doc::{Inbound, Permission, Session, UpdateBudget};
use hubring_protocol::ws::close;
use hubring_protocol::{DocId, ItemId, UserId};
use hubring_sync::{CloseSignal, Conn, Outbox, SyncError, TrySendError};
use hubring_workspace::Workspace;
use serde::Deserialize;
use tokio::time::{Instant, Sleep};
use tokio_tungstenite::tungstenite;
use tracing::Span;

use crate::AppState;
use crate::api::authenticate;
use crate::config::DocsConfig;
use crate::http::ApiError;
use crate::live::{Registration, Watch};
use crate::presence::{Paced, PresencePace};

/// How long a connection keeps trying to deliver its close frame (after whatever was already
/// buffered) to a client that is not reading, before dropping the socket.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// Bytes read from the socket at a time. tungstenite zero-fills this much of its read buffer on
/// every read, so it is resident memory per connection: its default (128 KiB) made an idle
/// connection cost 141 KB, 4 KiB 12.8 KB, and 1 KiB → 512 B took 5.1 KB to 4.7 KB (10,000
/// connections). Document frames are mostly a few dozen bytes; tungstenite reserves a larger
/// frame's whole length once it has the header, so such a frame only takes more reads.
const READ_BUFFER_BYTES: usize = 512;

/// Most frames queued into the socket before they are flushed and the client is read again.
const MAX_FRAMES_PER_FLUSH: usize = 64;

/// How long held presence states wait again when a frame is still waiting for the document.
const PRESENCE_RETRY: Duration = Duration::from_millis(10);

/// `?token=`: an API token, for clients that cannot set headers (the official provider).
#[derive(Debug, Deserialize)]
pub(crate) struct WsQuery {
    token: Option<String>,
}

impl WsQuery {
    pub(crate) fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }
}

/// Upgrades to the document websocket. The id, the caller and their access are checked before
/// the upgrade: a document the caller may not open is 404, whether or not it exists.
pub(crate) async fn doc(
    State(app): State<AppState>,
    Path(raw): Path<String>,
    Query(query): Query<WsQuery>,
    headers: HeaderMap,
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
    let caller = match authenticate(&app, &headers, query.token.as_deref(), true).await {
        Ok(caller) => caller,
        Err(err) => return err.into_response(),
    };
    // Signed-in connections are indexed, before their access is checked, so that a change of
    // access from here on closes them (see `LiveConns::register`).
    let close = Arc::new(CloseSignal::default());
    let registration = caller.user.as_ref().map(|user| {
        app.live.register(user.id.clone(), Some(doc.clone()), &caller, Watch::Document, &close)
    });
    let permission = match app.workspace.doc_access(&caller, &doc).await {
        Ok(Some(access)) => {
            if let Some(user) = &caller.user {
                record_opened(&app, user.id.clone(), access.item_id);
            }
            if let Some(registration) = &registration {
                registration.grant(access.write);
            }
            if access.write { Permission::Write } else { Permission::Read }
        }
        // A document of no project: open to anyone only where the configuration says so.
        Ok(None) if app.config.docs.open => {
            if app.config.docs.read_only.covers(&doc) {
                Permission::Read
            } else {
                Permission::Write
            }
        }
        Ok(None) => {
            return ApiError::new(StatusCode::NOT_FOUND, "not_found", "document not found")
                .into_response();
        }
        Err(err) => return ApiError::from(err).into_response(),
    };
    let user_id = caller.user.as_ref().map(|user| user.id.clone());
    let identity = caller.user.map(|user| {
        Box::new(Identity { workspace: app.workspace.clone(), user: user.id, registration })
    });
    let limits = Limits::new(&app.config.docs);
    let tracker = app.tracker.clone();
    // Joining runs once, after the upgrade; boxed, its state is freed when it is done instead of
    // taking room in the connection's future for as long as the connection lives.
    let joining: Joining = Box::pin({
        let registry = app.registry.clone();
        let doc = doc.clone();
        async move { registry.join_with(&doc, close, user_id).await }
    });
    upgrade
        .read_buffer_size(READ_BUFFER_BYTES)
        .max_frame_size(limits.max_frame_bytes)
        .max_message_size(limits.max_frame_bytes)
        .on_upgrade(move |socket| {
            // A task of its own rather than axum's upgrade task, which would keep its own state
            // (the closure, the handshake's future) alongside ours for the connection's life.
            let socket = Box::new(socket);
            tracker.spawn(Lifecycle::new(socket, joining, doc, permission, limits, identity));
            std::future::ready(())
        })
}

/// Puts the item on the person's recently opened list, off the request's path.
fn record_opened(app: &AppState, user: UserId, item: ItemId) {
    let workspace = app.workspace.clone();
    app.tracker.spawn(async move {
        if let Err(err) = workspace.opened(&user, &item).await {
            tracing::warn!(%user, %item, %err, "recording an opened item failed");
        }
    });
}

/// The per-connection settings, copied out of the configuration.
#[derive(Debug, Clone, Copy)]
struct Limits {
    max_frame_bytes: usize,
    update_budget: UpdateBudget,
    ping_interval: Duration,
    client_timeout: Duration,
}

impl Limits {
    fn new(docs: &DocsConfig) -> Self {
        Self {
            max_frame_bytes: docs.max_frame_bytes,
            update_budget: docs.update_budget,
            ping_interval: docs.ping_interval,
            client_timeout: docs.client_timeout,
        }
    }
}

type Joining = Pin<Box<dyn Future<Output = Result<(Conn, Outbox), SyncError>> + Send>>;

/// A signed-in caller and their entry in [`crate::live::LiveConns`].
#[derive(Debug)]
struct Identity {
    workspace: Workspace,
    user: UserId,
    registration: Option<Registration>,
}

/// How often a writer's edits are recorded as the item's last change, at most.
const TOUCH_EVERY: Duration = Duration::from_secs(10);

/// A signed-in writer: their edits mark the item as last changed by them ("who changed what
/// last"), at most every [`TOUCH_EVERY`], off the connection's task.
#[derive(Debug)]
struct Author {
    workspace: Workspace,
    user: UserId,
    doc: DocId,
    last: Option<Instant>,
}

impl Author {
    fn edited(&mut self) {
        let now = Instant::now();
        if self.last.is_some_and(|last| now < last + TOUCH_EVERY) {
            return;
        }
        self.last = Some(now);
        let (workspace, user, doc) = (self.workspace.clone(), self.user.clone(), self.doc.clone());
        tokio::spawn(async move {
            if let Err(err) = workspace.touch_doc(&doc, &user).await {
                tracing::warn!(%doc, %err, "recording the last change failed");
            }
        });
    }
}

/// A connection's whole life as one future, sized by its largest phase rather than by the sum
/// an `async fn` would keep: joining, then open, then sending the close frame.
enum Lifecycle {
    Joining {
        joining: Joining,
        socket: Box<WebSocket>,
        doc: DocId,
        permission: Permission,
        limits: Limits,
        identity: Option<Box<Identity>>,
    },
    Open {
        connection: Connection,
        span: Span,
        /// Leaves the index of signed-in connections when dropped.
        _registration: Option<Registration>,
    },
    Closing {
        closing: Pin<Box<dyn Future<Output = ()> + Send>>,
        span: Span,
    },
    Done,
}

impl Lifecycle {
    fn new(
        socket: Box<WebSocket>,
        joining: Joining,
        doc: DocId,
        permission: Permission,
        limits: Limits,
        identity: Option<Box<Identity>>,
    ) -> Self {
        Self::Joining { joining, socket, doc, permission, limits, identity }
    }

    /// The close frame with `code` and `reason`, after whatever the socket has buffered.
    fn closing(socket: Box<WebSocket>, code: u16, reason: String, span: Span) -> Self {
        Self::Closing { closing: Box::pin(send_close(socket, code, reason)), span }
    }
}

impl Future for Lifecycle {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        loop {
            match this {
                Lifecycle::Joining { joining, .. } => {
                    let joined = std::task::ready!(joining.as_mut().poll(cx));
                    let Lifecycle::Joining { socket, doc, permission, limits, identity, .. } =
                        std::mem::replace(this, Lifecycle::Done)
                    else {
                        unreachable!("matched above")
                    };
                    *this = match joined {
                        Ok((conn, outbox)) => {
                            let span =
                                tracing::info_span!("doc_conn", conn = %conn.id, %doc, ?permission);
                            span.in_scope(|| tracing::debug!("connected"));
                            let mut author = None;
                            let registration = identity.and_then(|id| {
                                let Identity { workspace, user, registration } = *id;
                                if permission == Permission::Write {
                                    let doc = doc.clone();
                                    author =
                                        Some(Box::new(Author { workspace, user, doc, last: None }));
                                }
                                registration
                            });
                            let session =
                                Session::new(permission).with_budget(limits.update_budget);
                            let mut connection =
                                Connection::new(socket, conn, outbox, session, limits);
                            connection.author = author;
                            Lifecycle::Open { connection, span, _registration: registration }
                        }
                        Err(err) => {
                            let code = match err {
                                SyncError::ShuttingDown => close::GOING_AWAY,
                                SyncError::Load(_) | SyncError::Gone | SyncError::Store(_) => {
                                    close::INTERNAL
                                }
                            };
                            tracing::warn!(%doc, %err, "join failed");
                            Lifecycle::closing(socket, code, err.to_string(), Span::none())
                        }
                    };
                }
                Lifecycle::Open { connection, span, .. } => {
                    let ended = std::task::ready!(span.in_scope(|| Pin::new(connection).poll(cx)));
                    let Lifecycle::Open { connection, span, .. } =
                        std::mem::replace(this, Lifecycle::Done)
                    else {
                        unreachable!("matched above")
                    };
                    // The document forgets the connection now, not after the close frame.
                    let Connection { socket, conn, .. } = connection;
                    let reason = conn.close.reason().cloned();
                    drop(conn);
                    span.in_scope(|| tracing::debug!(?reason, "disconnected"));
                    if ended == Ended::SendClose {
                        let (code, reason) = reason
                            .map_or((close::GOING_AWAY, String::new()), |r| (r.code, r.reason));
                        *this = Lifecycle::closing(socket, code, reason, span);
                    }
                }
                Lifecycle::Closing { closing, span } => {
                    std::task::ready!(span.in_scope(|| closing.as_mut().poll(cx)));
                    *this = Lifecycle::Done;
                }
                Lifecycle::Done => return Poll::Ready(()),
            }
        }
    }
}

/// A frame on its way into a full document queue.
type Sending = Pin<Box<dyn Future<Output = Result<(), SyncError>> + Send>>;

/// How a [`Connection`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ended {
    /// The close signal was raised: the client gets a close frame with its code.
    SendClose,
    /// The socket failed; there is no one to send a close frame to.
    SocketGone,
}

/// One joined connection: reads the client and hands its frames to the document, writes the
/// outbox and pings, and ends when the close signal is raised (by either side) or the socket
/// fails. The close frame is sent by the caller.
struct Connection {
    socket: Box<WebSocket>,
    conn: Conn,
    outbox: Outbox,
    session: Session,
    limits: Limits,
    /// One timer for both the pings and the client timeout.
    timer: Pin<Box<Sleep>>,
    last_heard: Instant,
    next_ping: Instant,
    ping_due: bool,
    /// Frames handed to the socket and not flushed yet.
    unflushed: bool,
    /// A frame waiting for room in the document's queue; the client is not read meanwhile, so a
    /// busy document slows its writers down instead of buffering for them.
    sending: Option<Sending>,
    /// A signed-in writer, whose edits are recorded on the item.
    author: Option<Box<Author>>,
    /// The pace of this client's presence updates, from its first one (boxed: a connection's
    /// size is what an idle server holds).
    presence: Option<Box<PresencePace>>,
}

impl Connection {
    fn new(
        socket: Box<WebSocket>,
        conn: Conn,
        outbox: Outbox,
        session: Session,
        limits: Limits,
    ) -> Self {
        let now = Instant::now();
        let next_ping = now + limits.ping_interval;
        let timer = Box::pin(tokio::time::sleep_until(next_ping.min(now + limits.client_timeout)));
        Self {
            socket,
            conn,
            outbox,
            session,
            limits,
            timer,
            last_heard: now,
            next_ping,
            ping_due: false,
            unflushed: false,
            sending: None,
            author: None,
            presence: None,
        }
    }

    /// Moves queued frames (and a due ping) into the socket while it takes them, then flushes:
    /// a burst goes out in one write. Ready only when the connection is to end.
    fn poll_write(&mut self, cx: &mut Context<'_>) -> Poll<Ended> {
        let mut fed = 0;
        loop {
            if fed == MAX_FRAMES_PER_FLUSH {
                // More may be queued: come back for it after the flush and a look at the client.
                cx.waker().wake_by_ref();
                break;
            }
            match self.socket.poll_ready_unpin(cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(_)) => return Poll::Ready(self.socket_gone()),
                Poll::Pending => break,
            }
            let msg = if std::mem::take(&mut self.ping_due) {
                Message::Ping(Bytes::new())
            } else {
                match self.outbox.poll_recv(cx) {
                    Poll::Ready(Some(frame)) => Message::Binary(frame),
                    // The document let go of this connection (it closes with a reason first).
                    Poll::Ready(None) => return Poll::Ready(Ended::SendClose),
                    Poll::Pending => break,
                }
            };
            if self.socket.start_send_unpin(msg).is_err() {
                return Poll::Ready(self.socket_gone());
            }
            self.unflushed = true;
            fed += 1;
        }
        if self.unflushed {
            match self.socket.poll_flush_unpin(cx) {
                Poll::Ready(Ok(())) => self.unflushed = false,
                Poll::Ready(Err(_)) => return Poll::Ready(self.socket_gone()),
                Poll::Pending => {}
            }
        }
        Poll::Pending
    }

    /// The next read from the client, unless a frame is still waiting for the document.
    fn poll_client(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Message, axum::Error>>> {
        if self.sending.is_some() {
            // The pending send wakes the task when it is through.
            return Poll::Pending;
        }
        self.socket.poll_next_unpin(cx)
    }

    fn socket_gone(&self) -> Ended {
        self.conn.close.departed("client gone");
        Ended::SocketGone
    }

    /// Handles one read from the client; raises the close signal if the connection is to end.
    fn receive(&mut self, msg: Option<Result<Message, axum::Error>>) {
        let close = &self.conn.close;
        let frame = match msg {
            Some(Ok(Message::Binary(frame))) => frame,
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => return,
            Some(Ok(Message::Text(_))) => {
                tracing::warn!("text frame, closing");
                close.close(close::INVALID_PAYLOAD, "text frames are not part of the protocol");
                return;
            }
            Some(Ok(Message::Close(_))) | None => {
                close.departed("client left");
                return;
            }
            Some(Err(err)) => {
                if is_too_big(err) {
                    let max = self.limits.max_frame_bytes;
                    tracing::warn!(max_frame_bytes = max, "frame too large, closing");
                    close.close(close::TOO_BIG, format!("frame larger than {max} bytes"));
                } else {
                    close.departed("connection error");
                }
                return;
            }
        };
        match self.session.receive(&frame) {
            Ok(Some(Inbound::Awareness(update))) => {
                let now = Instant::now();
                let pace = self.presence.get_or_insert_with(|| Box::new(PresencePace::new(now)));
                match pace.arrived(update, now) {
                    Paced::Forward(update) => self.send(Inbound::Awareness(update)),
                    Paced::Held => self.rearm(now),
                    Paced::Flood => {
                        tracing::warn!("presence flood, closing");
                        close.close(close::POLICY, "too many presence updates");
                    }
                }
            }
            Ok(Some(inbound)) => {
                if let (Inbound::Update { .. }, Some(author)) = (&inbound, &mut self.author) {
                    author.edited();
                }
                self.send(inbound);
            }
            Ok(None) => {}
            Err(err) => {
                tracing::warn!(%err, n_bytes = frame.len(), "bad frame, closing");
                let code =
                    if err.is_over_budget() { close::TOO_BIG } else { close::INVALID_PAYLOAD };
                close.close(code, short(&err.to_string()));
            }
        }
    }

    /// Hands a frame's message to the document, or waits for room in its queue.
    fn send(&mut self, inbound: Inbound) {
        match self.conn.try_send(inbound) {
            Ok(()) => {}
            Err(TrySendError::Full(inbound)) => {
                self.sending = Some(Box::pin(self.conn.send_owned(inbound)));
            }
            Err(TrySendError::Gone) => {
                self.conn.close.close(close::GOING_AWAY, "document closed");
            }
        }
    }

    /// Sets the timer for what comes first: a ping, the client timeout, held presence states.
    fn rearm(&mut self, now: Instant) {
        let mut at = self.next_ping.min(self.last_heard + self.limits.client_timeout);
        if let Some(due) = self.presence.as_ref().and_then(|p| p.due()) {
            // While a frame waits for the document, held states wait too (not a busy loop).
            let due = if self.sending.is_some() { due.max(now + PRESENCE_RETRY) } else { due };
            at = at.min(due);
        }
        self.timer.as_mut().reset(at);
    }

    /// A ping is due, or the client may have been silent too long, or held presence states
    /// may go.
    fn on_timer(&mut self) {
        let now = Instant::now();
        if self.sending.is_some() {
            // Not reading the client is our doing, not its silence.
            self.last_heard = now;
        }
        let silent_at = self.last_heard + self.limits.client_timeout;
        if now >= silent_at {
            tracing::info!("client silent, closing");
            self.conn.close.close(close::POLICY, "no frame or pong within the client timeout");
            return;
        }
        if now >= self.next_ping {
            self.ping_due = true;
            self.next_ping = now + self.limits.ping_interval;
        }
        if self.sending.is_none()
            && let Some(update) = self.presence.as_mut().and_then(|p| p.release(now))
        {
            self.send(Inbound::Awareness(update));
        }
        self.rearm(now);
    }
}

impl Future for Connection {
    type Output = Ended;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Ended> {
        let this = self.get_mut();
        loop {
            // First, so nothing more is written or read once it is raised.
            if this.conn.close.poll_closed(cx).is_ready() {
                return Poll::Ready(Ended::SendClose);
            }
            if let Poll::Ready(ended) = this.poll_write(cx) {
                return Poll::Ready(ended);
            }
            if let Some(sending) = &mut this.sending {
                match sending.as_mut().poll(cx) {
                    Poll::Ready(Ok(())) => this.sending = None,
                    Poll::Ready(Err(_)) => {
                        this.conn.close.close(close::GOING_AWAY, "document closed");
                        continue;
                    }
                    Poll::Pending => {}
                }
            }
            if let Poll::Ready(msg) = this.poll_client(cx) {
                this.last_heard = Instant::now();
                this.receive(msg);
                continue;
            }
            if this.timer.as_mut().poll(cx).is_ready() {
                this.on_timer();
                continue;
            }
            return Poll::Pending;
        }
    }
}

/// Sends the close frame after whatever is buffered, giving up after [`CLOSE_TIMEOUT`], then
/// reads what the client still sends until its own close (for at most [`CLOSE_DRAIN`]).
/// Dropping a socket with unread input makes the kernel answer with a reset, which can destroy
/// the close frame before the client reads it: a client closed while it was typing saw 1006
/// instead of the code it was closed with.
async fn send_close(mut socket: Box<WebSocket>, code: u16, reason: String) {
    let frame = CloseFrame { code, reason: reason.into() };
    let sent = tokio::time::timeout(CLOSE_TIMEOUT, async {
        socket.send(Message::Close(Some(frame))).await.is_ok()
    })
    .await;
    if sent == Ok(true) {
        drain_until_close(&mut socket).await;
    }
}

/// How long a closed socket is read for the client's close answer.
const CLOSE_DRAIN: Duration = Duration::from_secs(1);

/// Reads and drops frames until the client answers the close, the socket fails, or
/// [`CLOSE_DRAIN`] passes.
pub(crate) async fn drain_until_close(socket: &mut WebSocket) {
    let _ = tokio::time::timeout(CLOSE_DRAIN, async {
        while let Some(Ok(msg)) = socket.next().await {
            if matches!(msg, Message::Close(_)) {
                break;
            }
        }
    })
    .await;
}

pub(crate) fn is_too_big(err: axum::Error) -> bool {
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
