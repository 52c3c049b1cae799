//! The domain: accounts and their sign-ins, profiles and the people directory, hubs, projects,
//! members and invites, items, and what each role may do ([`access`]). Pure rules over `hubring-store`: no HTTP, no sockets. The server
//! turns requests into calls on [`Workspace`] and its errors into status codes.

pub mod access;
mod accounts;
mod assets;
mod boards;
pub mod codes;
pub mod comments;
mod doc_index;
pub mod ics;
pub mod mail;
mod notify;
mod people;
mod projects;
mod rooms;
mod secret;
pub mod sessions;
mod templates;
mod validate;
pub mod versions;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, OnceCell, broadcast};

use hubring_protocol::UserId;
use hubring_store::{Credential, Store, StoreError, UserRecord};

pub use accounts::{Revocation, SessionCookie, Signup, SignupOutcome};
pub use assets::{MAX_IMAGE_PIXELS, document_extension, image_size, sniff_document, sniff_image};
pub use boards::{BoardAccess, MAX_DOTS};
pub use comments::{ContentAccess, ThreadRequest};
pub use notify::MailSetting;
pub use people::{MAX_PER_PAGE, PeopleSearch};
pub use projects::{DocAccess, MembershipChange, TRASH_KEPT_MS};
pub use rooms::RoomAccess;
pub use secret::block_id;
pub use templates::TemplateContent;
pub use validate::FieldErrors;

/// Who may create an account.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SignupPolicy {
    /// Anyone.
    #[default]
    Open,
    /// Only an address with a pending invitation (and the instance's first account).
    InviteOnly,
}

/// Settings of the workspace.
#[derive(Debug, Clone)]
pub struct WorkspaceConfig {
    pub signup: SignupPolicy,
    /// How long a sign-in lasts.
    pub session_ttl: Duration,
    /// Password hashing cost (argon2id memory in KiB and passes).
    pub hash_cost: HashCost,
    /// Largest uploaded file, in bytes.
    pub max_asset_bytes: usize,
    /// Other nodes write to the same store: nothing read from it is kept in memory.
    pub shared_store: bool,
    /// Whether emails are sent (and so addresses can be confirmed).
    pub mail: MailSetting,
    /// How long before a session starts those invited are reminded.
    pub remind_before: Duration,
}

/// argon2id parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashCost {
    pub memory_kib: u32,
    pub passes: u32,
}

impl HashCost {
    /// OWASP's recommended argon2id setting (19 MiB, 2 passes, 1 lane).
    pub const RECOMMENDED: HashCost = HashCost { memory_kib: 19 * 1024, passes: 2 };
}

impl Default for WorkspaceConfig {
    fn default() -> Self {
        Self {
            signup: SignupPolicy::Open,
            session_ttl: Duration::from_secs(30 * 24 * 3600),
            hash_cost: HashCost::RECOMMENDED,
            max_asset_bytes: 10 << 20,
            shared_store: false,
            mail: MailSetting::Off,
            remind_before: Duration::from_secs(3600),
        }
    }
}

/// Why the workspace refused a request. Each variant is an expected outcome with its own
/// status; only [`WorkspaceError::Store`] is a failure.
#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    #[error("invalid input")]
    Invalid(FieldErrors),
    #[error("sign in first")]
    Unauthenticated,
    #[error("wrong email or password")]
    BadCredentials,
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A request that clashes with the state of things: a stable code, and a message.
    #[error("{1}")]
    Conflict(&'static str, &'static str),
    #[error("sign-up is by invitation only")]
    SignupClosed,
    /// The account's address is not confirmed yet (a new link was emailed).
    #[error("confirm your address first: we sent you a new link")]
    Unconfirmed,
    /// The request needs email, and this server sends none.
    #[error("this server sends no email")]
    MailDisabled,
    /// Something that existed and no longer works (a closed vote): a code, and a message.
    #[error("{1}")]
    Gone(&'static str, &'static str),
    /// An invitation link that worked once and no longer does, and why: the person who opens
    /// it is told which, to ask for a new one.
    #[error("{}", .0.message())]
    InviteClosed(InviteClosed),
    /// An upload larger than the limit (in bytes).
    #[error("the file is larger than {0} bytes")]
    TooLarge(usize),
    /// An upload of a kind that is not accepted.
    #[error("{0}")]
    UnsupportedMedia(&'static str),
    /// An image with more pixels than may be drawn (`assets::MAX_IMAGE_PIXELS`).
    #[error("the image is {width} x {height} pixels; at most {max} million are accepted", max = assets::MAX_IMAGE_PIXELS / 1_000_000)]
    TooManyPixels { width: u64, height: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why an invitation link no longer works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InviteClosed {
    Revoked,
    Expired,
    UsedUp,
}

impl InviteClosed {
    /// The API's error code, which the client words in the person's language.
    pub fn code(self) -> &'static str {
        match self {
            Self::Revoked => "invite_revoked",
            Self::Expired => "invite_expired",
            Self::UsedUp => "invite_used_up",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            Self::Revoked => "this invitation has been revoked",
            Self::Expired => "this invitation has expired",
            Self::UsedUp => "this invitation has been used up",
        }
    }
}

impl WorkspaceError {
    /// One invalid field: `code` for a client to word it, `message` in English.
    pub fn invalid(field: &str, code: &str, message: impl Into<String>) -> Self {
        Self::Invalid(FieldErrors::one(field, hubring_protocol::Problem::new(code), message))
    }
}

/// Who is making a request: a signed-in account and how it proved itself, or nobody.
#[derive(Debug, Clone, Default)]
pub struct Caller {
    pub user: Option<UserRecord>,
    pub credential: Option<Credential>,
}

impl Caller {
    pub fn anonymous() -> Self {
        Self::default()
    }

    /// The signed-in account, or [`WorkspaceError::Unauthenticated`].
    pub fn signed_in(&self) -> Result<&UserRecord, WorkspaceError> {
        self.user.as_ref().ok_or(WorkspaceError::Unauthenticated)
    }

    pub fn user_id(&self) -> Option<&UserId> {
        self.user.as_ref().map(|u| &u.id)
    }

    pub fn is_admin(&self) -> bool {
        self.user.as_ref().is_some_and(|u| u.is_admin)
    }
}

/// The workspace service; cheap to clone.
#[derive(Debug, Clone)]
pub struct Workspace {
    store: Store,
    config: WorkspaceConfig,
    /// The hash unknown addresses' sign-ins are checked against (see `accounts`).
    decoy: Arc<OnceCell<String>>,
    docs: Arc<doc_index::DocIndex>,
    /// Whose notifications changed (a new one, some read): the server pushes the new unread
    /// count to their open pages. Bounded; a receiver that lags re-reads everyone's count.
    bell: broadcast::Sender<UserId>,
    /// Rung when an email is queued, so the mail worker sends it now rather than at its next
    /// poll.
    mail_queued: Arc<Notify>,
    /// Rung when a session is scheduled or moved, so its reminder is not late.
    sessions_changed: Arc<Notify>,
}

/// Notification signals buffered for a slow receiver before it must catch up.
const BELL_BUFFER: usize = 1024;

impl Workspace {
    pub fn new(store: Store, config: WorkspaceConfig) -> Self {
        let docs = Arc::new(doc_index::DocIndex::new(config.shared_store));
        let (bell, _) = broadcast::channel(BELL_BUFFER);
        Self {
            store,
            config,
            decoy: Arc::default(),
            docs,
            bell,
            mail_queued: Arc::default(),
            sessions_changed: Arc::default(),
        }
    }

    /// Whose notifications change from now on.
    pub fn bell(&self) -> broadcast::Receiver<UserId> {
        self.bell.subscribe()
    }

    /// Rung when a session is scheduled or moved (the reminder worker waits on it).
    pub fn sessions_changed(&self) -> Arc<Notify> {
        self.sessions_changed.clone()
    }

    /// Rung when an email is queued (the mail worker waits on it).
    pub fn mail_queued(&self) -> Arc<Notify> {
        self.mail_queued.clone()
    }

    /// Loads what the workspace keeps in memory (which project each document is in), so the
    /// first connections do not wait for it. Lookups load it themselves otherwise.
    pub async fn warm_up(&self) -> Result<(), WorkspaceError> {
        self.docs.load(&self.store).await
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn config(&self) -> &WorkspaceConfig {
        &self.config
    }
}
