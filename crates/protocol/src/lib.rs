//! Wire types shared by the server and its clients: identifiers, the `/api/v1` bodies, error
//! bodies and the numbers Hubring adds to the y-websocket protocol.
//!
//! This crate is serde only: it never touches a socket, a database or a CRDT, so the web client's
//! TypeScript types can be generated from it and every other crate can depend on it.

pub mod api;
mod doc_id;
mod error;
mod ids;
pub mod room;
pub mod ws;

pub use doc_id::{DocId, DocIdError};
pub use error::{ErrorBody, ErrorDetail, Problem};
pub use ids::{
    CommentId, HubId, InviteId, ItemId, MeetingId, ProjectId, ThreadId, TokenId, UserId, VersionId,
    VoteId,
};
