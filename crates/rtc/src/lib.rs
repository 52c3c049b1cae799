//! Video rooms: an SFU (selective forwarding unit) on the webrtc crate, and each room's state.
//!
//! Every participant has one peer connection to the server, publishing and subscribing on it;
//! the server forwards each published track to the others without decoding it. Simulcast
//! publishers send three layers and each subscriber gets the one its tile needs and its
//! bandwidth allows. The room's rules (who may publish, hands, mutes, the lock and lobby,
//! breakouts) live in `state`, apart from the media, so they are tested without a network.
//!
//! The webrtc crate's types stay inside this crate: the server talks to it in the signaling
//! messages of `hubring_protocol::room`, so the media engine could be replaced behind it.

mod config;
mod forward;
mod layers;
mod media;
mod outbound;
mod peer;
mod sfu;
mod speaker;
mod state;

pub use config::RtcConfig;
pub use outbound::OUTBOUND_QUEUE;
pub use sfu::{
    CHAT_HISTORY, ChatLog, JoinRequest, MemoryChatLog, Session, SessionHandle, Sfu, SfuStats,
};
pub use state::{MAX_BREAKOUTS, MAX_CHAT_CHARS, Member};
