//! `GET /ws/room/{room_id}`: a video room's signaling, JSON text frames of
//! `hubring_protocol::room`. The caller's access is checked before the upgrade (a room they may
//! not enter is 404); after it, the socket is a thin pipe between the client and the room in
//! `hubring-rtc`, which decides everything else.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use hubring_protocol::ItemId;
use hubring_protocol::room::{ChatLine, ClientMsg, ServerMsg};
use hubring_protocol::ws::close;
use hubring_rtc::{ChatLog, JoinRequest, Member, Session};
use hubring_store::Store;
use hubring_sync::CloseSignal;

use crate::AppState;
use crate::api::authenticate;
use crate::http::ApiError;
use crate::live::Watch;
use crate::presence::Bucket;
use crate::ws::{WsQuery, is_too_big};

/// Largest signaling frame: an SDP offer of a browser with a few transceivers is ~10 KB.
const MAX_FRAME_BYTES: usize = 256 << 10;
/// How long a client has to send `join` after the upgrade.
const JOIN_TIMEOUT: Duration = Duration::from_secs(10);
const PING_EVERY: Duration = Duration::from_secs(20);
/// Messages a room socket may send per second (a second's worth at once): signaling sends a
/// few dozen ICE candidates at a time, people a few actions a second. Past it the socket is
/// closed, so no client can fill the room's queue faster than the room empties it.
const MESSAGES_PER_SEC: f32 = 100.0;

/// Keeps rooms' chat in the store, which only rooms write: a line is shown once it is there.
pub(crate) struct StoreChatLog(pub(crate) Store);

#[async_trait::async_trait]
impl ChatLog for StoreChatLog {
    async fn keep(&self, doc_id: &str, line: &ChatLine) -> Result<(), String> {
        self.0.keep_chat_line(doc_id, line.clone()).await.map_err(|err| err.to_string())
    }

    async fn recent(
        &self,
        doc_id: &str,
        breakout: Option<u32>,
        limit: u32,
    ) -> Result<Vec<ChatLine>, String> {
        self.0.recent_chat(doc_id, breakout, limit).await.map_err(|err| err.to_string())
    }
}

pub(crate) async fn room(
    State(app): State<AppState>,
    Path(raw): Path<String>,
    Query(query): Query<WsQuery>,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let upgrade = match upgrade {
        Ok(upgrade) => upgrade,
        Err(rejection) => return rejection.into_response(),
    };
    let caller = match authenticate(&app, &headers, query.token(), true).await {
        Ok(caller) => caller,
        Err(err) => return err.into_response(),
    };
    let Some(user) = caller.user.clone() else {
        return ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "sign in to join a room",
        )
        .into_response();
    };
    // Indexed under the room's document, so that a change of access (removed from the
    // project, a role changed, the room deleted, signed out) closes the socket like a
    // document's. The document is known only once the room is found, so access is checked
    // again after registering: a change between the two checks is seen by the second.
    let room = ItemId(raw);
    let found = match app.workspace.room(&caller, &room).await {
        Ok(found) => found,
        Err(err) => return ApiError::from(err).into_response(),
    };
    let revoked = Arc::new(CloseSignal::default());
    let registration = app.live.register(
        user.id.clone(),
        found.doc_id,
        &caller,
        Watch::Room(room.clone()),
        &revoked,
    );
    let access = match app.workspace.room(&caller, &room).await {
        Ok(access) => access,
        Err(err) => return ApiError::from(err).into_response(),
    };
    let member = Member {
        user_id: Some(user.id),
        name: user.display_name,
        may_publish: access.may_publish(),
        moderator: access.may_moderate(),
    };
    let request = JoinRequest { room: access.item_id.0, doc_id: access.doc_id.to_string(), member };
    upgrade.max_message_size(MAX_FRAME_BYTES).max_frame_size(MAX_FRAME_BYTES).on_upgrade(
        move |socket| async move {
            serve(app, socket, request, &revoked).await;
            drop(registration);
        },
    )
}

fn text(msg: &ServerMsg) -> Message {
    Message::Text(serde_json::to_string(msg).expect("server messages serialize").into())
}

fn error(code: &str, message: impl Into<String>) -> Message {
    text(&ServerMsg::Error { code: code.into(), message: message.into() })
}

async fn close_with(socket: &mut WebSocket, code: u16, reason: &str) {
    let frame = CloseFrame { code, reason: reason.into() };
    if socket.send(Message::Close(Some(frame))).await.is_ok() {
        crate::ws::drain_until_close(socket).await;
    }
}

/// Reads one client message; `Err` carries the reply for a frame that is not one.
fn parse(msg: &Message) -> Option<Result<ClientMsg, Message>> {
    match msg {
        Message::Text(t) => Some(
            serde_json::from_str::<ClientMsg>(t)
                .map_err(|err| error("bad_message", format!("not a room message: {err}"))),
        ),
        Message::Binary(_) => Some(Err(error("bad_message", "room messages are JSON text"))),
        _ => None,
    }
}

async fn serve(
    app: AppState,
    mut socket: WebSocket,
    mut request: JoinRequest,
    revoked: &CloseSignal,
) {
    // The first message must be `join`; access taken away meanwhile closes the socket too.
    let joining = tokio::time::timeout(JOIN_TIMEOUT, async {
        while let Some(Ok(msg)) = socket.next().await {
            match parse(&msg) {
                Some(Ok(ClientMsg::Join { name })) => return Some(name),
                Some(Ok(_)) => {
                    let _ = socket.send(error("join_first", "send `join` first")).await;
                }
                Some(Err(reply)) => {
                    let _ = socket.send(reply).await;
                }
                None if matches!(msg, Message::Close(_)) => return None,
                None => {}
            }
        }
        None
    });
    let joined = tokio::select! {
        joined = joining => joined,
        () = revoked.closed() => {
            let reason = revoked.reason().map_or_else(String::new, |r| r.reason.clone());
            return close_with(&mut socket, close::POLICY, &reason).await;
        }
    };
    let name = match joined {
        Ok(Some(name)) => name,
        Ok(None) => return,
        Err(_) => return close_with(&mut socket, close::POLICY, "no join").await,
    };
    if let Some(name) = name.map(|n| n.trim().chars().take(80).collect::<String>())
        && !name.is_empty()
    {
        request.member.name = name;
    }
    let Session { handle, mut inbox, cut } = app.sfu.join(request);
    // Pings at most every 20 s, and often enough to notice a client silent for the client
    // timeout (as document sockets do) within a fraction of it.
    let client_timeout = app.config.docs.client_timeout;
    let mut ping = tokio::time::interval(PING_EVERY.min(client_timeout / 3));
    ping.reset();
    let mut last_heard = Instant::now();
    let mut pace = Bucket::full(MESSAGES_PER_SEC, last_heard);
    loop {
        tokio::select! {
            incoming = socket.next() => match incoming {
                Some(Ok(msg)) => {
                    last_heard = Instant::now();
                    if !pace.take(MESSAGES_PER_SEC, last_heard) {
                        tracing::warn!("room socket over its message rate, closing");
                        close_with(&mut socket, close::POLICY, "too many messages").await;
                        break;
                    }
                    match parse(&msg) {
                        Some(Ok(msg)) => handle.send(msg),
                        Some(Err(reply)) => {
                            // A refused frame gets its error; a socket that cannot take it is
                            // gone.
                            let sent = socket.send(reply).await;
                            if sent.is_err() {
                                break;
                            }
                        }
                        None if matches!(msg, Message::Close(_)) => break,
                        None => {}
                    }
                }
                Some(Err(err)) => {
                    // Oversize frames end here: tell the client why.
                    if is_too_big(err) {
                        close_with(&mut socket, close::TOO_BIG, "frame too large").await;
                    }
                    break;
                }
                None => break,
            },
            outgoing = inbox.recv() => match outgoing {
                Some(msg) => {
                    let last = matches!(msg, ServerMsg::Closed { .. });
                    if socket.send(text(&msg)).await.is_err() {
                        break;
                    }
                    if last {
                        close_with(&mut socket, 1000, "closed").await;
                        break;
                    }
                }
                None => break,
            },
            () = revoked.closed() => {
                let reason = revoked.reason().map(|r| (r.code, r.reason.clone()));
                let (code, reason) = reason.unwrap_or((close::POLICY, String::new()));
                close_with(&mut socket, code, &reason).await;
                break;
            }
            () = cut.cancelled() => {
                close_with(&mut socket, close::TRY_AGAIN, "too slow").await;
                break;
            }
            _ = ping.tick() => {
                if last_heard.elapsed() >= client_timeout {
                    tracing::info!("room client silent, closing");
                    let reason = "no frame or pong within the client timeout";
                    close_with(&mut socket, close::POLICY, reason).await;
                    break;
                }
                if socket.send(Message::Ping(Default::default())).await.is_err() {
                    break;
                }
            }
        }
    }
    handle.leave();
}
