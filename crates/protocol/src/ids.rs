//! Identifiers of the workspace's records. Each is an opaque string made by the server; the
//! newtypes keep a project id from being passed where a user id is expected.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String))]
        pub struct $name(pub String);

        impl $name {
            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<String> for $name {
            fn from(raw: String) -> Self {
                Self(raw)
            }
        }
    };
}

id_type!(
    /// A person's account.
    UserId
);
id_type!(
    /// A creative hub.
    HubId
);
id_type!(
    /// A project, which may span several hubs.
    ProjectId
);
id_type!(
    /// A document, board or room inside a project.
    ItemId
);
id_type!(
    /// A dot vote on a board.
    VoteId
);
id_type!(
    /// A personal API token (not its secret).
    TokenId
);
id_type!(
    /// An invitation to a project (not its secret).
    InviteId
);
id_type!(
    /// A comment thread on a document or a board.
    ThreadId
);
id_type!(
    /// One comment in a thread.
    CommentId
);
id_type!(
    /// A version of a document or a board.
    VersionId
);
id_type!(
    /// A scheduled session (a peer-learning session, a coaching call, a workshop, a meeting).
    MeetingId
);
