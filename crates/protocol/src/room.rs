//! Signaling on `GET /ws/room/{room_id}`: JSON text frames, one message each, tagged by `type`.
//!
//! A client sends [`ClientMsg`]s and receives [`ServerMsg`]s. The media travel on one WebRTC
//! peer connection per participant, negotiated in both directions: the client offers when it
//! starts or stops publishing, the server offers when what the client receives changes. The
//! server never gives way in a collision (it is the "impolite" peer of the W3C's perfect
//! negotiation pattern); the client rolls its own offer back and offers again afterwards.

use serde::{Deserialize, Serialize};

use crate::UserId;

/// A participant of a room: one connection of one person (the same person in two tabs is two).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String))]
pub struct ParticipantId(pub String);

impl std::fmt::Display for ParticipantId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a track carries. Each participant publishes at most one track of each source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Microphone,
    Camera,
    Screen,
}

impl Source {
    pub const ALL: [Source; 3] = [Self::Microphone, Self::Camera, Self::Screen];

    pub fn is_audio(self) -> bool {
        self == Self::Microphone
    }
}

/// A published track, as others see it. `track_id` is the id of the track in the SDP (`msid`)
/// of the connection that carries it to a subscriber; its stream id is the publisher's id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrackInfo {
    pub track_id: String,
    pub source: Source,
    pub muted: bool,
    /// Layers the publisher sends (simulcast), 1 when it does not.
    pub layers: u8,
}

/// One person in the room, as everyone sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ParticipantInfo {
    pub id: ParticipantId,
    pub user_id: Option<UserId>,
    pub name: String,
    /// May publish audio and video: project owners and editors, and anyone a moderator let speak.
    pub can_publish: bool,
    /// May mute, remove, admit, lock and run breakouts.
    pub moderator: bool,
    pub tracks: Vec<TrackInfo>,
    /// Milliseconds since the Unix epoch when the hand went up; the room orders hands by it.
    pub hand_raised_at: Option<u64>,
    /// The breakout room the participant is in, if any.
    pub breakout: Option<u32>,
}

/// Someone waiting in the lobby of a locked room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LobbyEntry {
    pub id: ParticipantId,
    pub name: String,
}

/// A breakout room while breakouts are open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BreakoutRoom {
    pub index: u32,
    pub name: String,
}

/// Breakouts in progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Breakouts {
    pub rooms: Vec<BreakoutRoom>,
    /// When they close on their own (ms since the Unix epoch), if a timer was set.
    pub ends_at: Option<u64>,
}

/// The whole room, sent on admission and after which events keep it current.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoomSnapshot {
    pub participants: Vec<ParticipantInfo>,
    pub locked: bool,
    /// People waiting to be admitted; empty unless the receiver is a moderator.
    pub lobby: Vec<LobbyEntry>,
    pub breakouts: Option<Breakouts>,
    pub active_speaker: Option<ParticipantId>,
}

/// A STUN or TURN server for the browser's `RTCPeerConnection`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IceServer {
    pub urls: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

/// An ICE candidate, as `RTCIceCandidate.toJSON()` gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Candidate {
    pub candidate: String,
    #[serde(default)]
    pub sdp_mid: Option<String>,
    #[serde(default)]
    pub sdp_m_line_index: Option<u16>,
    #[serde(default)]
    pub username_fragment: Option<String>,
}

/// How a moderator splits the room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum BreakoutPlan {
    /// Everyone except moderators, shuffled into `rooms` rooms of near-equal size.
    Random { rooms: u32 },
    /// Named rooms, each with the participants the moderator put in it.
    Manual { rooms: Vec<ManualRoom> },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ManualRoom {
    pub name: String,
    pub participants: Vec<ParticipantId>,
}

/// Client to server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMsg {
    /// The first message: enter the room (or its lobby, when it is locked).
    Join {
        /// Shown to others; the account's name when empty.
        #[serde(default)]
        name: Option<String>,
    },
    /// An SDP offer: the client starts or stops publishing.
    Offer {
        sdp: String,
    },
    /// The answer to the server's offer.
    Answer {
        sdp: String,
    },
    /// A trickled ICE candidate of the client.
    Candidate {
        candidate: Candidate,
    },
    /// Before offering a new track: which source the track with this id is.
    Publish {
        track_id: String,
        source: Source,
    },
    /// The client stopped sending a source (its transceiver goes inactive in the next offer).
    Unpublish {
        source: Source,
    },
    /// The client muted or unmuted one of its own sources.
    Mute {
        source: Source,
        muted: bool,
    },
    /// How large a received video is shown (CSS pixels × device pixel ratio); 0 × 0 when it
    /// is not shown at all. The server picks the simulcast layer from it.
    View {
        track_id: String,
        width: u32,
        height: u32,
    },
    /// Raise or lower one's own hand.
    Hand {
        raised: bool,
    },
    Chat {
        text: String,
    },
    // Moderator actions.
    /// Ask a participant's source to stop (the server stops forwarding it at once).
    MuteParticipant {
        participant: ParticipantId,
        source: Source,
    },
    /// Mute every microphone but the moderator's own.
    MuteAll,
    /// Let a listen-only participant publish, or take it back.
    AllowPublish {
        participant: ParticipantId,
        allowed: bool,
    },
    /// Lower someone's hand.
    LowerHand {
        participant: ParticipantId,
    },
    Remove {
        participant: ParticipantId,
    },
    Lock {
        locked: bool,
    },
    Admit {
        participant: ParticipantId,
    },
    Deny {
        participant: ParticipantId,
    },
    OpenBreakouts {
        plan: BreakoutPlan,
        /// Minutes until they close on their own.
        #[serde(default)]
        minutes: Option<u32>,
    },
    CloseBreakouts,
}

/// Why the server ended someone's place in the room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LeaveReason {
    Left,
    Removed,
    Denied,
    /// Their access to the project changed, or the server is shutting down.
    Closed,
}

/// A chat line, as the room kept it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChatLine {
    pub id: String,
    pub from: ParticipantId,
    pub user_id: Option<UserId>,
    pub name: String,
    pub text: String,
    /// Milliseconds since the Unix epoch.
    pub at: u64,
    /// The breakout room it was said in, if any.
    pub breakout: Option<u32>,
}

/// Server to client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMsg {
    /// The room is locked: wait for a moderator.
    Lobby,
    /// Admitted: who you are, the room, and the ICE servers to use.
    Welcome {
        you: ParticipantId,
        room: RoomSnapshot,
        ice_servers: Vec<IceServer>,
        /// The room's own document.
        doc_id: String,
    },
    Offer {
        sdp: String,
    },
    Answer {
        sdp: String,
    },
    Candidate {
        candidate: Candidate,
    },
    Joined {
        participant: ParticipantInfo,
    },
    Left {
        participant: ParticipantId,
        reason: LeaveReason,
    },
    /// A participant changed: tracks, mute, hand, permissions or breakout room.
    Updated {
        participant: ParticipantInfo,
    },
    ActiveSpeaker {
        participant: Option<ParticipantId>,
    },
    /// Raised hands, first raised first.
    Hands {
        order: Vec<ParticipantId>,
    },
    Chat {
        line: ChatLine,
    },
    /// The last lines said in your room before you came in, oldest first: sent once after
    /// `welcome`, even when empty. A line may arrive both here and as `chat`: merge by `id`.
    ChatHistory {
        lines: Vec<ChatLine>,
    },
    Locked {
        locked: bool,
    },
    /// Moderators only: the lobby changed.
    LobbyChanged {
        lobby: Vec<LobbyEntry>,
    },
    BreakoutsChanged {
        breakouts: Option<Breakouts>,
    },
    /// A moderator muted one of your sources: stop sending it.
    MutedBy {
        source: Source,
        by: ParticipantId,
    },
    /// You are out of the room; the server closes the socket after this.
    Closed {
        reason: LeaveReason,
    },
    /// A message was refused; the connection stays open.
    Error {
        code: String,
        message: String,
    },
}
