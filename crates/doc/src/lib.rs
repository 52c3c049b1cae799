//! Sans-IO document logic: bytes in, bytes and decisions out.
//!
//! - [`Session`] is the protocol state of one websocket connection: it decodes a frame (y-protocols,
//!   lib0 v1), checks the connection's [`Permission`] and says what the frame asks for.
//! - [`DocState`] is one document (a `yrs::Doc` and its `Awareness`): it applies updates, answers
//!   sync requests and encodes snapshots.
//! - [`scan`] walks what a client sends before yrs decodes it: nesting depth, declared counts and
//!   what applying an update costs are bounded there.
//! - [`message`] encodes the outgoing frames.
//! - [`tree`] reads a document into the typed tree every export is made from, and writes one back.
//! - [`board`] is the board model: reading a board document, the rules every client follows to
//!   change it, and drawing it as SVG.
//!
//! This crate has no tokio, no sockets, no clock of its own and no database: it is tested with
//! plain function calls, and the async layers (`hubring-sync`, the server) own all waiting.

pub mod board;
pub mod comments;
mod error;
pub mod message;
pub mod scan;
mod session;
mod state;
pub mod tree;
pub mod versions;

pub use error::{DocError, ProtocolError};
pub use scan::{UpdateBudget, UpdateCost};
pub use session::{Inbound, Permission, READ_ONLY_REASON, Session};
pub use state::{Applied, DocState, MAX_PENDING_DELETE_RANGES};
pub use yrs::sync::AwarenessUpdate;
pub use yrs::{ClientID, StateVector, TransactionMut, Update};
