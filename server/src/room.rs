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
use axum::http::{HeaderMap, StatusCode, header};
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
        Some(found.doc_id),
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
    let host =
        if headers.contains_key(FORWARDED) { Host::Here } else { host_of(&app, &room).await };
    let forwarded = Forwarded { headers, token: query.token().map(str::to_owned) };
    upgrade.max_message_size(MAX_FRAME_BYTES).max_frame_size(MAX_FRAME_BYTES).on_upgrade(
        move |socket| async move {
            match host {
                Host::Here => serve(app, socket, request, &revoked).await,
                Host::At(url) => {
                    forward(app, socket, url, &room, &forwarded, request, &revoked).await;
                }
            }
            drop(registration);
        },
    )
}

/// Marks a room socket one node opened to another on a participant's behalf: it is served where
/// it arrives, never forwarded again.
const FORWARDED: &str = "x-hubring-forwarded";

/// Which node serves a room. With other nodes, one at a time: the one holding its lease in
/// Redis, taken by the first node a participant reaches and renewed while anyone is in it.
enum Host {
    Here,
    At(String),
}

async fn host_of(app: &AppState, room: &ItemId) -> Host {
    let (Some(redis), Some(me)) = (&app.cluster, &app.config.store.node_url) else {
        return Host::Here;
    };
    match redis.room_host(room.as_str(), me).await {
        Ok(host) if host == *me => Host::Here,
        Ok(host) => Host::At(host),
        // Redis away: a room served here, perhaps split from another node's copy, is better
        // than no room; the participants rejoin one host once it is back.
        Err(err) => {
            tracing::warn!(%err, room = %room.as_str(), "no room lease, serving it here");
            Host::Here
        }
    }
}

/// What the participant's request carried, for the node the socket is forwarded to, which
/// checks the caller again itself.
struct Forwarded {
    headers: HeaderMap,
    token: Option<String>,
}

/// Serves a room hosted by another node: the socket is piped to that node's own
/// `/ws/room/{id}`, opened with the participant's credentials. A host that does not answer is
/// taken for dead: this node takes the room over (unless a third already has) and serves it.
async fn forward(
    app: AppState,
    mut socket: WebSocket,
    mut host: String,
    room: &ItemId,
    forwarded: &Forwarded,
    request: JoinRequest,
    revoked: &CloseSignal,
) {
    let (Some(redis), Some(me)) = (app.cluster.clone(), app.config.store.node_url.clone()) else {
        return serve(app, socket, request, revoked).await;
    };
    for _ in 0..3 {
        match connect_to(&host, room, forwarded).await {
            Ok(upstream) => return pipe(socket, upstream, revoked).await,
            Err(err) => {
                tracing::warn!(%err, %host, room = %room.as_str(), "room host unreachable");
                match redis.take_room_over(room.as_str(), &host, &me).await {
                    Ok(next) if next == me => return serve(app, socket, request, revoked).await,
                    Ok(next) => host = next,
                    Err(err) => {
                        tracing::warn!(%err, "taking the room over failed");
                        break;
                    }
                }
            }
        }
    }
    close_with(&mut socket, close::TRY_AGAIN, "the room's node is unreachable, reconnect").await;
}

type Upstream =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect_to(host: &str, room: &ItemId, fwd: &Forwarded) -> anyhow::Result<Upstream> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let base = host.replacen("https://", "wss://", 1).replacen("http://", "ws://", 1);
    let mut url = format!("{}/ws/room/{}", base.trim_end_matches('/'), room.as_str());
    if let Some(token) = &fwd.token {
        url.push_str("?token=");
        url.push_str(
            &percent_encoding::utf8_percent_encode(token, percent_encoding::NON_ALPHANUMERIC)
                .to_string(),
        );
    }
    let mut request = url.into_client_request()?;
    for name in [header::COOKIE, header::ORIGIN, header::HOST, header::AUTHORIZATION] {
        if let Some(value) = fwd.headers.get(&name) {
            request.headers_mut().insert(name, value.clone());
        }
    }
    request.headers_mut().insert(FORWARDED, header::HeaderValue::from_static("1"));
    let connect = tokio_tungstenite::connect_async(request);
    let (upstream, _) = tokio::time::timeout(Duration::from_secs(2), connect).await??;
    Ok(upstream)
}

/// Carries frames both ways until either side closes (or access is revoked here).
async fn pipe(mut socket: WebSocket, mut upstream: Upstream, revoked: &CloseSignal) {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message as Up;
    loop {
        tokio::select! {
            from_client = socket.next() => {
                let msg = match from_client {
                    Some(Ok(Message::Text(t))) => Up::text(t.as_str()),
                    Some(Ok(Message::Binary(b))) => Up::binary(b),
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    Some(Ok(Message::Close(_)) | Err(_)) | None => break,
                };
                if upstream.send(msg).await.is_err() {
                    break;
                }
            }
            from_host = upstream.next() => {
                let msg = match from_host {
                    Some(Ok(Up::Text(t))) => Message::Text(t.as_str().into()),
                    Some(Ok(Up::Binary(b))) => Message::Binary(b),
                    Some(Ok(Up::Close(frame))) => {
                        let (code, reason) = frame.map_or((1000, String::new()), |f| {
                            (u16::from(f.code), f.reason.to_string())
                        });
                        return close_with(&mut socket, code, &reason).await;
                    }
                    Some(Ok(_)) => continue,
                    // The host went away mid-call: the client reconnects, and finds a new host.
                    Some(Err(_)) | None => {
                        let reason = "the room's node went away";
                        return close_with(&mut socket, close::TRY_AGAIN, reason).await;
                    }
                };
                if socket.send(msg).await.is_err() {
                    break;
                }
            }
            () = revoked.closed() => {
                let _ = upstream.close(None).await;
                return close_revoked(&mut socket, revoked).await;
            }
        }
    }
    let _ = upstream.close(None).await;
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

/// Closes a socket whose access was taken away, with the code and reason it was given.
async fn close_revoked(socket: &mut WebSocket, revoked: &CloseSignal) {
    let reason = revoked.reason().map(|r| (r.code, r.reason.clone()));
    let (code, reason) = reason.unwrap_or((close::POLICY, String::new()));
    close_with(socket, code, &reason).await;
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
    let _hosting = Hosting::start(&app, &request.room);
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
                close_revoked(&mut socket, revoked).await;
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

/// Counts this node's participants of a room it hosts, to renew its lease while anyone is in it
/// ([`renew_room_leases`]) and give it up when the last one leaves.
struct Hosting {
    app: AppState,
    room: String,
}

impl Hosting {
    fn start(app: &AppState, room: &str) -> Option<Self> {
        app.cluster.as_ref()?;
        *app.hosted.entry(room.to_owned()).or_insert(0) += 1;
        Some(Self { app: app.clone(), room: room.to_owned() })
    }
}

impl Drop for Hosting {
    fn drop(&mut self) {
        let last = self
            .app
            .hosted
            .remove_if_mut(&self.room, |_, n| {
                *n -= 1;
                *n == 0
            })
            .is_some();
        if last
            && let (Some(redis), Some(me)) = (&self.app.cluster, &self.app.config.store.node_url)
        {
            let (redis, me, room) = (Arc::clone(redis), me.clone(), self.room.clone());
            tokio::spawn(async move {
                if let Err(err) = redis.release_room(&room, &me).await {
                    tracing::warn!(%err, "releasing a room lease failed; it expires by itself");
                }
            });
        }
    }
}

/// Renews this node's leases on the rooms it hosts, every third of a lease, until `shutdown`.
pub(crate) async fn renew_room_leases(
    app: AppState,
    shutdown: tokio_util::sync::CancellationToken,
) {
    let (Some(redis), Some(me)) = (app.cluster.clone(), app.config.store.node_url.clone()) else {
        return;
    };
    let mut tick = tokio::time::interval(hubring_cluster::ROOM_LEASE / 3);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        let rooms: Vec<String> = app.hosted.iter().map(|e| e.key().clone()).collect();
        if !rooms.is_empty()
            && let Err(err) = redis.renew_rooms(&rooms, &me).await
        {
            tracing::warn!(%err, "renewing room leases failed");
        }
    }
}
