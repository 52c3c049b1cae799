//! Numbers Hubring uses on `/ws/doc/{doc_id}` beyond the y-websocket protocol.
//!
//! The y-websocket protocol (y-protocols, lib0 v1 encoding) defines message types 0 (sync),
//! 1 (awareness), 2 (auth) and 3 (query awareness). Hubring's own messages use types the official
//! client never receives unless it opts in, because `y-websocket` logs an error on an unknown type.
//! Each is framed like a y-protocols custom message: `varUint(type) · varUint8Array(payload)`.

/// Client to server, payload empty: "tell me which of my updates are saved".
///
/// After it, the server answers every commit that contained updates of this connection with
/// [`MSG_SAVED`]. Updates are counted from the start of the connection, including the one-shot
/// sync step 2 a client sends after connecting.
pub const MSG_SUBSCRIBE_SAVED: u8 = 100;

/// Server to client, payload `varUint(n)`: the first `n` document updates this connection sent
/// (sync step 2 and update messages, in order) are committed to the store.
pub const MSG_SAVED: u8 = 101;

/// Close codes the server uses on document websockets (RFC 6455 §7.4 and the IANA registry).
pub mod close {
    /// The server is shutting down.
    pub const GOING_AWAY: u16 = 1001;
    /// A frame did not decode, or yrs rejected its update.
    pub const INVALID_PAYLOAD: u16 = 1007;
    /// A client was silent past the idle limit.
    pub const POLICY: u16 = 1008;
    /// A frame was larger than `--max-frame-bytes`.
    pub const TOO_BIG: u16 = 1009;
    /// The server failed to serve the document.
    pub const INTERNAL: u16 = 1011;
    /// Try again later: the store failed, or this client fell too far behind to be kept.
    pub const TRY_AGAIN: u16 = 1013;
}
