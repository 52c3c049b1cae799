//! The SFU: one task per room, owning the room's state, its participants' connections and the
//! forwarders of every published track.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hubring_protocol::room::{ChatLine, ClientMsg, LeaveReason, ParticipantId, ServerMsg, Source};
use rtc::media_stream::MediaStreamTrack;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind,
};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};

use crate::config::{PortCursor, RtcConfig};
use crate::forward::{DownTrack, Forwarder, Link};
use crate::layers::layer_of_rid;
use crate::media::audio_level;
use crate::outbound::Outbound;
use crate::peer::{Negotiator, PeerCmd, PeerEvent, connect};
use crate::speaker::SpeakerDetector;
use crate::state::{Effect, MAX_CHAT_CHARS, Member, RoomState};

/// How often the active speaker is reconsidered.
const SPEAKER_EVERY: Duration = Duration::from_millis(300);

/// Where rooms keep their chat: the server's store, which only the room writes. A line is shown
/// to the room only once `keep` says it is kept, and its author is told if it could not be;
/// whoever is admitted gets the last [`CHAT_HISTORY`] lines of their room from `recent`.
#[async_trait::async_trait]
pub trait ChatLog: Send + Sync {
    /// Keeps a line said in the room whose document is `doc_id`.
    async fn keep(&self, doc_id: &str, line: &ChatLine) -> Result<(), String>;
    /// The last `limit` lines said in `breakout` (or the main room), oldest first.
    async fn recent(
        &self,
        doc_id: &str,
        breakout: Option<u32>,
        limit: u32,
    ) -> Result<Vec<ChatLine>, String>;
}

/// Lines of history sent to whoever is admitted.
pub const CHAT_HISTORY: u32 = 200;

/// A chat log in memory, per room document (tests and benchmarks).
#[derive(Debug, Default)]
pub struct MemoryChatLog {
    lines: Mutex<HashMap<String, Vec<ChatLine>>>,
}

#[async_trait::async_trait]
impl ChatLog for MemoryChatLog {
    async fn keep(&self, doc_id: &str, line: &ChatLine) -> Result<(), String> {
        let mut lines = self.lines.lock().map_err(|_| "poisoned".to_owned())?;
        lines.entry(doc_id.to_owned()).or_default().push(line.clone());
        Ok(())
    }

    async fn recent(
        &self,
        doc_id: &str,
        breakout: Option<u32>,
        limit: u32,
    ) -> Result<Vec<ChatLine>, String> {
        let lines = self.lines.lock().map_err(|_| "poisoned".to_owned())?;
        let mut said: Vec<ChatLine> = lines
            .get(doc_id)
            .into_iter()
            .flatten()
            .rev()
            .filter(|line| line.breakout == breakout)
            .take(limit as usize)
            .cloned()
            .collect();
        said.reverse();
        Ok(said)
    }
}

/// Chat messages one participant may send at once, and then per second.
const CHAT_BURST: f32 = 10.0;
const CHAT_PER_SEC: f32 = 1.0;
/// Chat characters one participant may send at once, and then per second: a flood of full
/// lines grows the room's document by at most 200 characters a second per participant (a
/// viewer once grew it by 190 MB in 8 s).
const CHAT_CHARS_BURST: f32 = 4000.0;
const CHAT_CHARS_PER_SEC: f32 = 200.0;

/// One participant's chat allowance: messages and characters, each a token bucket. Hand-written
/// (a few bytes per participant, refilled from the elapsed time) rather than a limiter crate.
#[derive(Debug)]
struct ChatPace {
    messages: f32,
    chars: f32,
    at: Instant,
}

impl ChatPace {
    fn new(now: Instant) -> Self {
        Self { messages: CHAT_BURST, chars: CHAT_CHARS_BURST, at: now }
    }

    /// Takes one message of `chars` characters, if both allowances have it.
    fn take(&mut self, chars: usize, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f32();
        self.at = now;
        self.messages = (self.messages + elapsed * CHAT_PER_SEC).min(CHAT_BURST);
        self.chars = (self.chars + elapsed * CHAT_CHARS_PER_SEC).min(CHAT_CHARS_BURST);
        let chars = chars as f32;
        if self.messages >= 1.0 && self.chars >= chars {
            self.messages -= 1.0;
            self.chars -= chars;
            true
        } else {
            false
        }
    }
}

/// What a caller needs to enter a room.
#[derive(Debug, Clone)]
pub struct JoinRequest {
    /// The room's key (its item id).
    pub room: String,
    /// The room's own document, told to the client.
    pub doc_id: String,
    pub member: Member,
}

/// Counts for tests, the soak and `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SfuStats {
    pub rooms: usize,
    /// Tasks the SFU runs: rooms, connections, forwarders and feedback readers.
    pub tasks: usize,
    /// RTP packets forwarded to subscribers since start.
    pub forwarded: u64,
    /// Peer connections open now.
    pub connections: usize,
}

/// The video rooms of one server.
#[derive(Clone)]
pub struct Sfu {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Sfu {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sfu").field("config", &self.inner.config).finish_non_exhaustive()
    }
}

struct Inner {
    config: RtcConfig,
    ports: PortCursor,
    rooms: Mutex<HashMap<String, mpsc::UnboundedSender<RoomCmd>>>,
    tracker: TaskTracker,
    shutdown: CancellationToken,
    next_id: AtomicU64,
    forwarded: Arc<AtomicU64>,
    connections: AtomicUsize,
    chat: Arc<dyn ChatLog>,
}

enum RoomCmd {
    Join {
        id: ParticipantId,
        member: Member,
        out: Outbound,
        doc_id: String,
    },
    Client {
        id: ParticipantId,
        msg: ClientMsg,
    },
    Leave {
        id: ParticipantId,
    },
    TrackEnded {
        publisher: ParticipantId,
        source: Source,
        forwarder: Arc<Forwarder>,
    },
    /// A chat line's save finished: show it, or tell its author it was not kept.
    ChatKept {
        line: ChatLine,
        kept: Result<(), String>,
    },
}

/// A participant's side of a room: send it what the client says; read what to tell the client
/// from `inbox`. Dropping the handle leaves the room.
#[derive(Debug)]
pub struct Session {
    pub handle: SessionHandle,
    pub inbox: mpsc::Receiver<ServerMsg>,
    /// Fires when the client fell too far behind reading: close its socket.
    pub cut: CancellationToken,
}

#[derive(Debug)]
pub struct SessionHandle {
    id: ParticipantId,
    room: mpsc::UnboundedSender<RoomCmd>,
}

impl std::fmt::Debug for RoomCmd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RoomCmd")
    }
}

impl SessionHandle {
    pub fn id(&self) -> &ParticipantId {
        &self.id
    }

    /// Leaves the room now (dropping the handle does the same).
    pub fn leave(&self) {
        let _ = self.room.send(RoomCmd::Leave { id: self.id.clone() });
    }

    /// Passes a client message to the room.
    pub fn send(&self, msg: ClientMsg) {
        let _ = self.room.send(RoomCmd::Client { id: self.id.clone(), msg });
    }
}

impl Drop for SessionHandle {
    fn drop(&mut self) {
        let _ = self.room.send(RoomCmd::Leave { id: self.id.clone() });
    }
}

impl Sfu {
    pub fn new(config: RtcConfig, shutdown: CancellationToken, chat: Arc<dyn ChatLog>) -> Self {
        Self {
            inner: Arc::new(Inner {
                config,
                ports: PortCursor::default(),
                rooms: Mutex::new(HashMap::new()),
                tracker: TaskTracker::new(),
                shutdown,
                next_id: AtomicU64::new(1),
                forwarded: Arc::new(AtomicU64::new(0)),
                connections: AtomicUsize::new(0),
                chat,
            }),
        }
    }

    pub fn config(&self) -> &RtcConfig {
        &self.inner.config
    }

    /// Enters a room (or its lobby): the room answers on the session's inbox.
    pub fn join(&self, request: JoinRequest) -> Session {
        let n = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let id = ParticipantId(format!("p{n}-{}", random_hex(4)));
        let (out, inbox) = Outbound::new();
        let cut = out.cut.clone();
        let room = {
            let mut rooms = self.inner.rooms.lock().expect("not poisoned");
            let tx = rooms.entry(request.room.clone()).or_insert_with(|| {
                let (tx, rx) = mpsc::unbounded_channel();
                let room = Room::new(request.room.clone(), self.inner.clone(), tx.clone());
                self.inner.tracker.spawn(room.run(rx));
                tx
            });
            let _ = tx.send(RoomCmd::Join {
                id: id.clone(),
                member: request.member,
                out,
                doc_id: request.doc_id,
            });
            tx.clone()
        };
        Session { handle: SessionHandle { id, room }, inbox, cut }
    }

    pub fn stats(&self) -> SfuStats {
        SfuStats {
            rooms: self.inner.rooms.lock().expect("not poisoned").len(),
            tasks: self.inner.tracker.len(),
            forwarded: self.inner.forwarded.load(Ordering::Relaxed),
            connections: self.inner.connections.load(Ordering::Relaxed),
        }
    }

    /// Waits until every room has ended (after shutdown fired and everyone was closed).
    pub async fn closed(&self) {
        self.inner.tracker.close();
        self.inner.tracker.wait().await;
    }
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("the OS has randomness");
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

struct Peer {
    cmds: mpsc::UnboundedSender<PeerCmd>,
    link: Arc<Link>,
    audio_level_id: Arc<AtomicU8>,
}

struct Room {
    key: String,
    doc_id: String,
    sfu: Arc<Inner>,
    me: mpsc::UnboundedSender<RoomCmd>,
    state: RoomState,
    outs: HashMap<ParticipantId, Outbound>,
    peers: HashMap<ParticipantId, Peer>,
    forwarders: HashMap<(ParticipantId, Source), Arc<Forwarder>>,
    speaker: Arc<Mutex<SpeakerDetector<ParticipantId>>>,
    events_tx: mpsc::UnboundedSender<PeerEvent>,
    events_rx: mpsc::UnboundedReceiver<PeerEvent>,
    /// Each participant's chat allowance, from their first message.
    chat_paces: HashMap<ParticipantId, ChatPace>,
}

impl Room {
    fn new(key: String, sfu: Arc<Inner>, me: mpsc::UnboundedSender<RoomCmd>) -> Self {
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        Self {
            key,
            doc_id: String::new(),
            sfu,
            me,
            state: RoomState::default(),
            outs: HashMap::new(),
            peers: HashMap::new(),
            forwarders: HashMap::new(),
            speaker: Arc::new(Mutex::new(SpeakerDetector::default())),
            events_tx,
            events_rx,
            chat_paces: HashMap::new(),
        }
    }

    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<RoomCmd>) {
        let mut speaker_tick = tokio::time::interval(SPEAKER_EVERY);
        let shutdown = self.sfu.shutdown.clone();
        loop {
            let breakouts_end = self.state.breakouts_end();
            let until_breakouts_end = breakouts_end
                .map(|end| Duration::from_millis(end.saturating_sub(now_ms())))
                .unwrap_or(Duration::from_secs(3600));
            tokio::select! {
                cmd = rx.recv() => match cmd {
                    Some(cmd) => self.command(cmd).await,
                    None => break,
                },
                Some(event) = self.events_rx.recv() => self.peer_event(event).await,
                _ = speaker_tick.tick() => {
                    let change = self.speaker.lock().expect("not poisoned").tick(Instant::now());
                    if let Some(who) = change {
                        let effects = self.state.set_active_speaker(who);
                        self.apply(effects).await;
                    }
                }
                () = tokio::time::sleep(until_breakouts_end), if breakouts_end.is_some() => {
                    let effects = self.state.close_breakouts();
                    self.apply(effects).await;
                }
                () = shutdown.cancelled() => {
                    let everyone: Vec<ParticipantId> = self.outs.keys().cloned().collect();
                    for id in everyone {
                        self.close(&id, LeaveReason::Closed);
                    }
                    break;
                }
            }
            if self.state.is_empty() && self.outs.is_empty() {
                // Leave the map only if nobody is on the way in (joins send under this lock).
                let mut rooms = self.sfu.rooms.lock().expect("not poisoned");
                if rx.is_empty() {
                    rooms.remove(&self.key);
                    break;
                }
            }
        }
        for (_, peer) in self.peers.drain() {
            let _ = peer.cmds.send(PeerCmd::Close);
        }
    }

    async fn command(&mut self, cmd: RoomCmd) {
        match cmd {
            RoomCmd::Join { id, member, out, doc_id } => {
                self.doc_id = doc_id;
                self.outs.insert(id.clone(), out);
                let effects = self.state.request_join(id, member);
                self.apply(effects).await;
            }
            RoomCmd::Client { id, msg } => self.client(id, msg).await,
            RoomCmd::Leave { id } => {
                if self.outs.remove(&id).is_some() {
                    self.left(&id, LeaveReason::Left).await;
                }
            }
            RoomCmd::ChatKept { line, kept } => self.chat_kept(&line, kept),
            RoomCmd::TrackEnded { publisher, source, forwarder } => {
                let key = (publisher, source);
                if self.forwarders.get(&key).is_some_and(|f| Arc::ptr_eq(f, &forwarder)) {
                    self.forwarders.remove(&key);
                    self.unsubscribe_all(&forwarder);
                }
            }
        }
    }

    async fn client(&mut self, id: ParticipantId, msg: ClientMsg) {
        match msg {
            ClientMsg::Join { .. } => {}
            ClientMsg::Offer { sdp } => {
                if !self.state.can_publish(&id) && crate::peer::offer_sends_media(&sdp) {
                    self.send(
                        &id,
                        ServerMsg::Error {
                            code: "listen_only".into(),
                            message: "you are listening only until a moderator lets you speak"
                                .into(),
                        },
                    );
                    return;
                }
                self.to_peer(&id, PeerCmd::Offer(sdp));
            }
            ClientMsg::Answer { sdp } => self.to_peer(&id, PeerCmd::Answer(sdp)),
            ClientMsg::Candidate { candidate } => self.to_peer(&id, PeerCmd::Candidate(candidate)),
            ClientMsg::View { track_id, height, .. } => {
                let Some(forwarder) = self.forwarder_of_track(&track_id) else { return };
                if let Some(down) = forwarder.downs().iter().find(|d| d.subscriber == id) {
                    down.set_view(height.min(10_000));
                }
            }
            ClientMsg::Chat { text } => self.chat(&id, &text),
            other => match self.state.handle(&id, &other, now_ms()) {
                Ok(effects) => self.apply(effects).await,
                Err(refusal) => self.send(
                    &id,
                    ServerMsg::Error { code: refusal.code.into(), message: refusal.message },
                ),
            },
        }
    }

    fn forwarder_of_track(&self, track_id: &str) -> Option<Arc<Forwarder>> {
        self.forwarders.iter().find_map(|((publisher, source), f)| {
            (self
                .state
                .tracks(publisher)
                .iter()
                .any(|t| t.track_id == track_id && t.source == *source))
            .then(|| f.clone())
        })
    }

    fn chat(&mut self, id: &ParticipantId, text: &str) {
        let Some(member) = self.state.member(id) else { return };
        let text = text.trim();
        if text.is_empty() || text.chars().count() > MAX_CHAT_CHARS {
            self.send(
                id,
                ServerMsg::Error {
                    code: "bad_chat".into(),
                    message: format!("a chat message is 1 to {MAX_CHAT_CHARS} characters"),
                },
            );
            return;
        }
        let now = Instant::now();
        let pace = self.chat_paces.entry(id.clone()).or_insert_with(|| ChatPace::new(now));
        if !pace.take(text.chars().count(), now) {
            self.send(
                id,
                ServerMsg::Error {
                    code: "chat_too_fast".into(),
                    message: "you are sending messages too fast; wait a moment".into(),
                },
            );
            return;
        }
        let breakout = self.state.breakout_of(id);
        let line = ChatLine {
            id: random_hex(8),
            from: id.clone(),
            user_id: member.user_id.clone(),
            name: member.name.clone(),
            text: text.to_owned(),
            at: now_ms(),
            breakout,
        };
        // Kept first, shown after: the room hears of a line only once the store has it.
        let (log, doc_id) = (self.sfu.chat.clone(), self.doc_id.clone());
        let me = self.me.clone();
        self.sfu.tracker.spawn(async move {
            let kept = log.keep(&doc_id, &line).await;
            let _ = me.send(RoomCmd::ChatKept { line, kept });
        });
    }

    /// Shows a kept line to everyone in its author's room (or breakout), or tells the author it
    /// was not kept.
    fn chat_kept(&mut self, line: &ChatLine, kept: Result<(), String>) {
        if let Err(err) = kept {
            tracing::warn!(room = %self.key, %err, "chat line not kept");
            self.send(
                &line.from,
                ServerMsg::Error {
                    code: "chat_not_kept".into(),
                    message: "your message could not be saved; send it again".into(),
                },
            );
            return;
        }
        let same_room: Vec<ParticipantId> = self
            .state
            .participant_ids()
            .filter(|p| self.state.breakout_of(p) == line.breakout)
            .cloned()
            .collect();
        for p in same_room {
            self.send(&p, ServerMsg::Chat { line: line.clone() });
        }
    }

    fn send(&self, id: &ParticipantId, msg: ServerMsg) {
        if let Some(out) = self.outs.get(id) {
            out.send(msg);
        }
    }

    fn to_peer(&self, id: &ParticipantId, cmd: PeerCmd) {
        if let Some(peer) = self.peers.get(id) {
            let _ = peer.cmds.send(cmd);
        }
    }

    /// Tells someone they are out and lets go of their connection.
    fn close(&mut self, id: &ParticipantId, reason: LeaveReason) {
        if let Some(out) = self.outs.remove(id) {
            out.send(ServerMsg::Closed { reason });
        }
        if let Some(peer) = self.peers.remove(id) {
            let _ = peer.cmds.send(PeerCmd::Close);
        }
    }

    async fn left(&mut self, id: &ParticipantId, reason: LeaveReason) {
        self.chat_paces.remove(id);
        if let Some(peer) = self.peers.remove(id) {
            let _ = peer.cmds.send(PeerCmd::Close);
        }
        self.drop_media_of(id);
        let effects = self.state.leave(id, reason);
        self.apply(effects).await;
    }

    /// Stops everything `id` published and everything forwarded to them.
    fn drop_media_of(&mut self, id: &ParticipantId) {
        let theirs: Vec<(ParticipantId, Source)> =
            self.forwarders.keys().filter(|(p, _)| p == id).cloned().collect();
        for key in theirs {
            if let Some(forwarder) = self.forwarders.remove(&key) {
                self.unsubscribe_all(&forwarder);
            }
        }
        for forwarder in self.forwarders.values() {
            if let Some(down) = forwarder.remove(id)
                && forwarder.video.is_some()
            {
                down.uncount_video();
            }
        }
        // The room's state clears its own record of the speaker in `leave`.
        self.speaker.lock().expect("not poisoned").forget(id);
    }

    fn unsubscribe_all(&self, forwarder: &Arc<Forwarder>) {
        for down in forwarder.downs().iter() {
            forwarder.remove(&down.subscriber);
            if forwarder.video.is_some() {
                down.uncount_video();
            }
            self.to_peer(&down.subscriber, PeerCmd::Unsubscribe(down.clone()));
        }
    }

    async fn apply(&mut self, effects: Vec<Effect>) {
        for effect in effects {
            match effect {
                Effect::Send(id, msg) => self.send(&id, msg),
                Effect::Broadcast { msg, except } => {
                    for id in self.state.participant_ids() {
                        if except.as_ref() != Some(id)
                            && let Some(out) = self.outs.get(id)
                        {
                            out.send(msg.clone());
                        }
                    }
                }
                Effect::Moderators(msg) => {
                    for id in self.state.moderators() {
                        if let Some(out) = self.outs.get(id) {
                            out.send(msg.clone());
                        }
                    }
                }
                Effect::Admit(id) => self.admit(&id),
                Effect::Close(id, reason) => {
                    self.close(&id, reason);
                    self.drop_media_of(&id);
                }
                Effect::Regroup => self.regroup(),
                Effect::Unpublished { participant, source } => {
                    if let Some(forwarder) = self.forwarders.remove(&(participant, source)) {
                        forwarder.set_on(false);
                        self.unsubscribe_all(&forwarder);
                    }
                }
                Effect::Forwarding { participant, source, on } => {
                    if let Some(forwarder) = self.forwarders.get(&(participant, source)) {
                        forwarder.set_on(on);
                        if on {
                            for down in forwarder.downs().iter() {
                                down.restart();
                            }
                        }
                    }
                }
            }
        }
    }

    /// Welcomes someone into the room and sets up their connection and subscriptions.
    fn admit(&mut self, id: &ParticipantId) {
        let Some(out) = self.outs.get(id).cloned() else { return };
        out.send(ServerMsg::Welcome {
            you: id.clone(),
            room: self.state.snapshot(id),
            ice_servers: self.sfu.config.ice_servers.clone(),
            doc_id: self.doc_id.clone(),
        });
        // The room's history follows the welcome, empty or not, so a client knows it has it. A
        // line kept while it is read may also arrive live: clients merge by line id.
        let (log, doc_id, breakout) =
            (self.sfu.chat.clone(), self.doc_id.clone(), self.state.breakout_of(id));
        let history_out = out.clone();
        self.sfu.tracker.spawn(async move {
            match log.recent(&doc_id, breakout, CHAT_HISTORY).await {
                Ok(lines) => history_out.send(ServerMsg::ChatHistory { lines }),
                Err(err) => tracing::warn!(%doc_id, %err, "chat history not read"),
            }
        });
        let (cmds, mut cmd_rx) = mpsc::unbounded_channel();
        let audio_level_id = Arc::new(AtomicU8::new(0));
        let link = Arc::new(Link::new());
        let peer = Peer { cmds, link: link.clone(), audio_level_id: audio_level_id.clone() };
        let sfu = self.sfu.clone();
        let events = self.events_tx.clone();
        let participant = id.clone();
        let tracker = self.sfu.tracker.clone();
        self.sfu.tracker.spawn(async move {
            let pc = match Box::pin(connect(
                &sfu.config,
                &sfu.ports,
                participant.clone(),
                out.clone(),
                events.clone(),
                link,
            ))
            .await
            {
                Ok(pc) => pc,
                Err(err) => {
                    tracing::warn!(%err, "could not open a media connection");
                    out.send(ServerMsg::Error { code: "media".into(), message: err });
                    let _ = events.send(PeerEvent::Down { participant });
                    return;
                }
            };
            sfu.connections.fetch_add(1, Ordering::Relaxed);
            let mut negotiator =
                Negotiator::new(pc.clone(), participant, out, audio_level_id, tracker);
            while let Some(cmd) = cmd_rx.recv().await {
                if !negotiator.handle(cmd).await {
                    break;
                }
            }
            let _ = pc.close().await;
            sfu.connections.fetch_sub(1, Ordering::Relaxed);
        });
        self.peers.insert(id.clone(), peer);
        let publishers: Vec<Arc<Forwarder>> = self.forwarders.values().cloned().collect();
        for forwarder in publishers {
            if self.state.sees(&forwarder.publisher, id) {
                self.subscribe(&forwarder, id);
            }
        }
    }

    /// Starts forwarding `forwarder`'s track to `subscriber`.
    fn subscribe(&self, forwarder: &Arc<Forwarder>, subscriber: &ParticipantId) {
        let Some(peer) = self.peers.get(subscriber) else { return };
        if forwarder.downs().iter().any(|d| &d.subscriber == subscriber) {
            return;
        }
        let track_id = self
            .state
            .tracks(&forwarder.publisher)
            .into_iter()
            .find(|t| t.source == forwarder.source)
            .map(|t| t.track_id)
            .unwrap_or_else(|| format!("{:?}", forwarder.source).to_lowercase());
        let stream_id = stream_id(&forwarder.publisher, forwarder.source);
        let mut ssrc_bytes = [0u8; 4];
        getrandom::fill(&mut ssrc_bytes).expect("the OS has randomness");
        let ssrc = u32::from_le_bytes(ssrc_bytes) | 1;
        let kind =
            if forwarder.video.is_some() { RtpCodecKind::Video } else { RtpCodecKind::Audio };
        let track = MediaStreamTrack::new(
            stream_id,
            track_id.clone(),
            track_id,
            kind,
            vec![RTCRtpEncodingParameters {
                rtp_coding_parameters: RTCRtpCodingParameters {
                    ssrc: Some(ssrc),
                    ..Default::default()
                },
                codec: forwarder.codec.clone(),
                ..Default::default()
            }],
        );
        let down = Arc::new(DownTrack::new(
            subscriber.clone(),
            Arc::new(TrackLocalStaticRTP::new(track)),
            ssrc,
            forwarder.codec.mime_type.clone(),
            peer.link.clone(),
        ));
        if forwarder.video.is_some() {
            down.count_video();
        }
        forwarder.add(down.clone());
        let _ = peer.cmds.send(PeerCmd::Subscribe(down, forwarder.clone()));
    }

    /// After breakouts opened or closed: everyone receives exactly the people in their room.
    fn regroup(&mut self) {
        let forwarders: Vec<Arc<Forwarder>> = self.forwarders.values().cloned().collect();
        let people: Vec<ParticipantId> = self.state.participant_ids().cloned().collect();
        for forwarder in forwarders {
            for person in &people {
                let should = self.state.sees(&forwarder.publisher, person);
                let has = forwarder.downs().iter().any(|d| &d.subscriber == person);
                if should && !has {
                    self.subscribe(&forwarder, person);
                } else if !should
                    && has
                    && let Some(down) = forwarder.remove(person)
                {
                    if forwarder.video.is_some() {
                        down.uncount_video();
                    }
                    self.to_peer(person, PeerCmd::Unsubscribe(down));
                }
            }
        }
    }

    async fn peer_event(&mut self, event: PeerEvent) {
        match event {
            PeerEvent::Down { participant } => {
                if self.outs.contains_key(&participant) && self.peers.contains_key(&participant) {
                    self.close(&participant, LeaveReason::Closed);
                    self.left(&participant, LeaveReason::Closed).await;
                }
            }
            PeerEvent::Track { participant, track } => self.published(participant, track).await,
        }
    }

    /// A participant's track started arriving: forward it to everyone who sees them.
    async fn published(&mut self, publisher: ParticipantId, track: Arc<dyn TrackRemote>) {
        if !self.state.contains(&publisher) {
            return;
        }
        let track_id = track.track_id().await;
        let is_audio = track.kind().await == RtpCodecKind::Audio;
        // Not announced: the microphone or camera, by kind.
        let source = self.state.source_of(&publisher, &track_id).unwrap_or(if is_audio {
            Source::Microphone
        } else {
            Source::Camera
        });
        if !self.state.can_publish(&publisher) {
            // A listen-only participant's media is never forwarded.
            return;
        }
        // A second track for a source already forwarded: a simulcast layer that started late (a
        // browser sends its full layer once its bandwidth estimate allows, seconds in) comes
        // as a track of its own, not always under the first one's id. Its packets join the
        // forwarder already there; replacing that would cut every subscriber's video of this
        // person for good. (A source published anew after ending has no forwarder left: an
        // unpublish or the track's end removes it.)
        if let Some(existing) = self.forwarders.get(&(publisher.clone(), source))
            && existing.video.is_some() != is_audio
        {
            tracing::debug!(%publisher, ?source, "a late layer, forwarded with the others");
            existing.add_later(track.clone());
            let audio_level_id = self.peers.get(&publisher).map(|p| p.audio_level_id.clone());
            self.sfu.tracker.spawn(forward_loop(
                existing.clone(),
                track,
                false,
                self.me.clone(),
                self.speaker.clone(),
                audio_level_id,
            ));
            return;
        }
        let ssrcs = track.ssrcs().await;
        let Some(&first) = ssrcs.first() else { return };
        let Some(codec) = track.codec(first).await else { return };
        let muted = self
            .state
            .tracks(&publisher)
            .iter()
            .find(|t| t.source == source)
            .is_some_and(|t| t.muted);
        let forwarder = Arc::new(Forwarder::new(
            publisher.clone(),
            source,
            track.clone(),
            codec,
            !muted,
            self.sfu.forwarded.clone(),
        ));
        if let Some(old) = self.forwarders.insert((publisher.clone(), source), forwarder.clone()) {
            self.unsubscribe_all(&old);
        }
        let audio_level_id = self.peers.get(&publisher).map(|p| p.audio_level_id.clone());
        self.sfu.tracker.spawn(forward_loop(
            forwarder.clone(),
            track.clone(),
            true,
            self.me.clone(),
            self.speaker.clone(),
            audio_level_id,
        ));
        let people: Vec<ParticipantId> = self.state.participant_ids().cloned().collect();
        for person in people {
            if self.state.sees(&publisher, &person) {
                self.subscribe(&forwarder, &person);
            }
        }
    }
}

/// The stream a subscriber's browser groups a track in: the microphone and camera together (so
/// they play in sync), the screen on its own.
pub(crate) fn stream_id(publisher: &ParticipantId, source: Source) -> String {
    match source {
        Source::Screen => format!("{publisher}~screen"),
        Source::Microphone | Source::Camera => publisher.0.clone(),
    }
}

/// Reads a published track until it ends, forwarding every packet.
///
/// `remote` is the forwarder's own track (`primary`), or a late layer of it announced as a track
/// of its own, whose packets join the others'; only the primary's end ends the forwarder.
async fn forward_loop(
    forwarder: Arc<Forwarder>,
    remote: Arc<dyn TrackRemote>,
    primary: bool,
    room: mpsc::UnboundedSender<RoomCmd>,
    speaker: Arc<Mutex<SpeakerDetector<ParticipantId>>>,
    audio_level_id: Option<Arc<AtomicU8>>,
) {
    let mut next_unnamed_layer = 0u8;
    while let Some(event) = remote.poll().await {
        match event {
            TrackRemoteEvent::OnOpen(init) => {
                let mut layers = forwarder.layers.lock().expect("not poisoned");
                if layers.layer_of(init.ssrc).is_none() {
                    let layer = init.rid.as_deref().and_then(layer_of_rid).unwrap_or_else(|| {
                        let l = next_unnamed_layer;
                        next_unnamed_layer = (next_unnamed_layer + 1).min(2);
                        l
                    });
                    layers.add_ssrc(layer, init.ssrc);
                }
            }
            TrackRemoteEvent::OnRtpPacket(packet) => {
                {
                    let mut layers = forwarder.layers.lock().expect("not poisoned");
                    if layers.count() == 0 {
                        layers.add_ssrc(0, packet.header.ssrc);
                    }
                }
                if forwarder.video.is_none()
                    && forwarder.is_on()
                    && let Some(id) = audio_level_id.as_ref().map(|id| id.load(Ordering::Relaxed))
                    && id != 0
                    && let Some(level) =
                        packet.header.get_extension(id).as_deref().and_then(audio_level)
                {
                    speaker.lock().expect("not poisoned").observe(
                        &forwarder.publisher,
                        level,
                        Instant::now(),
                    );
                }
                forwarder.forward(&packet).await;
            }
            TrackRemoteEvent::OnEnded => break,
            _ => {}
        }
    }
    if !primary {
        return;
    }
    let _ = room.send(RoomCmd::TrackEnded {
        publisher: forwarder.publisher.clone(),
        source: forwarder.source,
        forwarder: forwarder.clone(),
    });
}
