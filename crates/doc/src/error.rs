//! Errors of the sans-IO layer, each of which the caller maps to a websocket close code.

/// A frame that is not a valid y-websocket message. The connection that sent it is closed with
/// 1007 and nothing from the frame is applied.
#[derive(Debug, thiserror::Error)]
pub enum ProtocolError {
    #[error("frame does not decode: {0}")]
    Decode(#[from] yrs::encoding::read::Error),
    #[error("{0} trailing bytes after the message")]
    TrailingBytes(usize),
    #[error("unsupported message type {0}")]
    UnsupportedType(u8),
    /// Refused by the walk made before decoding (`scan`): too deep, too costly or malformed.
    #[error(transparent)]
    Refused(#[from] crate::scan::ScanError),
    /// A presence update that is not what y-protocols clients send (`Session::receive`).
    #[error("presence update refused: {0}")]
    Presence(&'static str),
    /// A presence update larger than the server forwards.
    #[error("presence update refused: {0}")]
    PresenceTooBig(&'static str),
}

impl ProtocolError {
    /// Well formed, but beyond what the server accepts to apply (closed with 1009, not 1007).
    pub fn is_over_budget(&self) -> bool {
        matches!(self, Self::Refused(err) if err.is_over_budget())
            || matches!(self, Self::PresenceTooBig(_))
    }
}

/// A document-level failure: yrs refused an update, or stored bytes do not load.
#[derive(Debug, thiserror::Error)]
pub enum DocError {
    #[error("update rejected: {0}")]
    Rejected(#[from] yrs::error::UpdateError),
    #[error("stored update does not decode: {0}")]
    Corrupt(#[from] yrs::encoding::read::Error),
    /// A client's update yrs does not decode (bytes the walk leaves to yrs: UTF-8, JSON).
    #[error("update does not decode: {0}")]
    Undecodable(yrs::encoding::read::Error),
    #[error("awareness update rejected: {0}")]
    Awareness(#[from] yrs::sync::awareness::Error),
    #[error("{0} deletions of unknown items could be pending")]
    TooManyPendingDeletes(usize),
    /// A client's update changed what only the server writes (the `threads` map).
    #[error("update changes {0}, which only the server writes")]
    ServerOwned(&'static str),
}

impl DocError {
    /// Refused for what it would cost rather than for bad bytes (closed with 1009, not 1007).
    pub fn is_over_budget(&self) -> bool {
        matches!(self, Self::TooManyPendingDeletes(_))
    }

    /// Refused before anything of the update was applied: the document needs no rebuild.
    pub fn left_intact(&self) -> bool {
        matches!(self, Self::Undecodable(_) | Self::TooManyPendingDeletes(_))
    }
}
