//! Request and response bodies of `/api/v1`. JSON, ids as strings, times as milliseconds since
//! the epoch. Enums are lowercase strings; an unknown value is refused, not guessed.

use serde::{Deserialize, Serialize};

use crate::DocId;
use crate::ids::{
    CommentId, HubId, InviteId, ItemId, MeetingId, ProjectId, ThreadId, TokenId, UserId, VersionId,
    VoteId,
};

/// A member's role in a project, from most to least powerful.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ProjectRole {
    Owner,
    Editor,
    Commenter,
    Viewer,
}

impl ProjectRole {
    pub const ALL: [ProjectRole; 4] = [Self::Owner, Self::Editor, Self::Commenter, Self::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Editor => "editor",
            Self::Commenter => "commenter",
            Self::Viewer => "viewer",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == raw)
    }
}

/// Who can see a project besides its members.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Members only; anyone else is told it does not exist.
    Private,
    /// Every signed-in person may see it, as a viewer.
    Network,
    /// Anyone, signed in or not, may see it, as a viewer.
    Public,
}

impl Visibility {
    pub const ALL: [Visibility; 3] = [Self::Private, Self::Network, Self::Public];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Private => "private",
            Self::Network => "network",
            Self::Public => "public",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == raw)
    }
}

/// What an item of a project is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    Document,
    Board,
    Room,
}

impl ItemKind {
    pub const ALL: [ItemKind; 3] = [Self::Document, Self::Board, Self::Room];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Document => "document",
            Self::Board => "board",
            Self::Room => "room",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == raw)
    }
}

/// `POST /api/v1/auth/signup`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SignupRequest {
    pub email: String,
    pub password: String,
    pub display_name: String,
    /// The language emails to them are written in (`en`, `fr`, `es`, `pt`); English if absent.
    #[serde(default)]
    pub language: Option<String>,
}

/// `POST /api/v1/auth/signup` when the server sends email: the account (new, or the address's
/// existing one) hears from us by email, and the answer is the same either way, so sign-up
/// never tells who has an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignupPending {
    /// Always `confirm_email`: open the link we sent to the address.
    pub status: String,
}

/// `POST /api/v1/auth/reset`: send a password reset link to an address. The answer is the
/// same whether or not an account has the address.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ResetRequest {
    pub email: String,
}

/// `POST /api/v1/auth/reset/confirm`: the emailed link's token and the new password. The link
/// works once: afterwards it answers 410.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ResetConfirm {
    pub token: String,
    pub password: String,
}

/// `POST /api/v1/auth/confirm`: the token of an emailed address confirmation link.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ConfirmRequest {
    pub token: String,
}

/// `POST /api/v1/auth/login`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

/// `POST /api/v1/auth/password`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    pub current_password: String,
    pub new_password: String,
}

/// `GET /api/v1/session`: who is signed in, if anyone (asking is never an error).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionView {
    /// `null` for a visitor who is not signed in.
    pub user: Option<Me>,
    /// The largest file this server accepts (`POST /assets`), in bytes: a client says so
    /// before uploading more, rather than after.
    pub max_upload_bytes: u64,
    /// Whether this server sends email. Without it, invitations are links to pass on by hand.
    pub email_enabled: bool,
}

/// `GET /api/v1/me`: the signed-in person, with what only they (and admins) see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Me {
    pub id: UserId,
    pub email: String,
    pub display_name: String,
    pub is_admin: bool,
    pub created_at: i64,
    /// The language emails to them are written in.
    pub language: String,
    /// Whether they confirmed their address by opening a link sent to it.
    pub email_confirmed: bool,
}

/// A person as others see them in lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PersonRef {
    pub id: UserId,
    pub display_name: String,
}

/// `POST /api/v1/tokens`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TokenCreate {
    pub name: String,
}

/// The answer to [`TokenCreate`]: the only time the secret is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenCreated {
    pub id: TokenId,
    pub name: String,
    pub token: String,
    pub created_at: i64,
}

/// A token in `GET /api/v1/tokens`, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenView {
    pub id: TokenId,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// `POST /api/v1/projects`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProjectCreate {
    pub title: String,
    #[serde(default)]
    pub summary: String,
    pub visibility: Visibility,
    #[serde(default)]
    pub hub_ids: Vec<HubId>,
}

/// `PATCH /api/v1/projects/{id}`: only the fields given change.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProjectUpdate {
    pub title: Option<String>,
    pub summary: Option<String>,
    pub visibility: Option<Visibility>,
    pub hub_ids: Option<Vec<HubId>>,
    pub archived: Option<bool>,
}

/// The answer to a create: the new record's id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProjectCreated {
    pub id: ProjectId,
}

/// `GET /api/v1/projects/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProjectView {
    pub id: ProjectId,
    pub title: String,
    pub summary: String,
    pub visibility: Visibility,
    pub archived: bool,
    pub hub_ids: Vec<HubId>,
    pub members: Vec<MemberView>,
    /// The caller's role: a member's own, or `viewer` where visibility lets them look.
    pub my_role: ProjectRole,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A project in a list (`GET /api/v1/projects`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProjectSummary {
    pub id: ProjectId,
    pub title: String,
    pub visibility: Visibility,
    pub archived: bool,
    pub my_role: ProjectRole,
    pub updated_at: i64,
}

/// A member of a project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MemberView {
    pub user_id: UserId,
    pub display_name: String,
    pub role: ProjectRole,
    pub added_at: i64,
}

/// `POST /api/v1/projects/{id}/members`: an existing account joins at once; any other address
/// gets an invite, accepted when it signs up or in.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MemberAdd {
    /// The address to invite; or
    #[serde(default)]
    pub email: Option<String>,
    /// someone from the people directory, whose address the inviter never sees.
    #[serde(default)]
    pub user_id: Option<UserId>,
    pub role: ProjectRole,
}

/// The answer to [`MemberAdd`]: an invitation, whether or not the address has an account (the
/// answer never tells), which the person accepts (`POST /api/v1/me/invites/{id}/accept`) or
/// which signing up with the address accepts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum MemberAdded {
    Invited {
        invite_id: InviteId,
        /// The invitation's own link token (`/invite/{token}`), which only an account with the
        /// invited address can use: emailed when the server sends email, and shown to the
        /// inviter to pass on either way. Inviting again makes a new one.
        token: String,
        /// Whether an email with the link was queued.
        emailed: bool,
    },
}

/// One of the caller's pending invitations by email, in `GET /api/v1/me/invites`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MyInvite {
    pub id: InviteId,
    pub project_id: ProjectId,
    pub project_title: String,
    pub role: ProjectRole,
    /// The display name of who invited them.
    pub invited_by: String,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
}

/// `PATCH /api/v1/projects/{id}/members/{user_id}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MemberUpdate {
    pub role: ProjectRole,
}

/// `POST /api/v1/projects/{id}/owner`: the owner hands the project to a member, and becomes an
/// editor.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OwnershipTransfer {
    pub user_id: UserId,
}

/// `POST /api/v1/projects/{id}/items`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ItemCreate {
    pub kind: ItemKind,
    pub title: String,
    /// Start from this template (`GET /api/v1/templates`): its content is copied in.
    #[serde(default)]
    pub template_id: Option<String>,
}

/// The answer to [`ItemCreate`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ItemCreated {
    pub id: ItemId,
    pub doc_id: DocId,
}

/// `POST /api/v1/projects/{id}/coaching`: a 1:1 coaching room with the caller and `with`, and
/// its notes document. Both are private to the two of them: nobody else in the project sees
/// them, owners included. Both are titled by the client, in its language.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CoachingCreate {
    /// The other person: a member of the project.
    pub with: UserId,
    pub title: String,
    pub notes_title: String,
}

/// The answer to [`CoachingCreate`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CoachingCreated {
    pub room: ItemCreated,
    pub notes: ItemCreated,
}

/// `PATCH /api/v1/items/{id}`: rename, or move to another project the caller may edit.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ItemUpdate {
    pub title: Option<String>,
    pub project_id: Option<ProjectId>,
}

/// `GET /api/v1/projects/{id}/trash`: an item deleted from the project, restorable until
/// `purge_at` (30 days after its deletion), when it goes for good.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrashedItem {
    pub item: ItemView,
    pub deleted_at: i64,
    /// `null` if that account no longer exists.
    pub deleted_by: Option<PersonRef>,
    pub purge_at: i64,
}

/// An item in `GET /api/v1/projects/{id}/items`, with who changed it last.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ItemView {
    pub id: ItemId,
    pub project_id: ProjectId,
    pub kind: ItemKind,
    pub title: String,
    pub doc_id: DocId,
    pub created_at: i64,
    pub created_by: PersonRef,
    pub updated_at: i64,
    pub updated_by: PersonRef,
    /// Set for a private item (a coaching room and its notes): the only people who see it. They
    /// edit, speak and moderate in it whatever their role in the project.
    pub audience: Option<Vec<PersonRef>>,
    /// A room's shared notes document, shown beside the meeting.
    pub notes_id: Option<ItemId>,
}

/// An item the caller opened, on their home page (`GET /api/v1/me/recent`), newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecentItem {
    pub item: ItemView,
    pub project_title: String,
}

/// The answer to `POST /api/v1/assets?project_id=…`: where the uploaded file is served.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AssetCreated {
    /// The SHA-256 of the content, in hex: the same file always gets the same id.
    pub id: String,
    /// `/api/v1/assets/{id}`, to put in a document or on a board.
    pub url: String,
    /// The type read from the content (`image/png`, `image/jpeg`, `image/gif`, `image/webp`,
    /// `image/avif`).
    pub mime: String,
    pub size: u64,
}

/// A person's place in a hub.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum HubRole {
    /// Runs the hub: edits it, approves who joins.
    Manager,
    Member,
    /// Asked to join; a manager has not answered yet.
    Requested,
}

impl HubRole {
    pub const ALL: [HubRole; 3] = [Self::Manager, Self::Member, Self::Requested];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Manager => "manager",
            Self::Member => "member",
            Self::Requested => "requested",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == raw)
    }
}

/// `POST /api/v1/hubs`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct HubCreate {
    pub name: String,
    pub city: String,
    pub country: String,
    /// An IANA time zone, e.g. `Europe/Lisbon`.
    pub time_zone: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub disciplines: Vec<String>,
    #[serde(default)]
    pub facilities: Vec<String>,
    #[serde(default)]
    pub website: String,
}

/// `PATCH /api/v1/hubs/{id}`: only the fields given change.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct HubUpdate {
    pub name: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub time_zone: Option<String>,
    pub description: Option<String>,
    pub disciplines: Option<Vec<String>>,
    pub facilities: Option<Vec<String>>,
    pub website: Option<String>,
}

/// The answer to [`HubCreate`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HubCreated {
    pub id: HubId,
}

/// A hub in lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HubSummary {
    pub id: HubId,
    pub name: String,
    pub city: String,
    pub country: String,
}

/// `GET /api/v1/hubs/{id}`: the hub, its members (requests only to managers) and the projects
/// it partners in that the caller may see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HubView {
    pub id: HubId,
    pub name: String,
    pub city: String,
    pub country: String,
    pub time_zone: String,
    pub description: String,
    pub disciplines: Vec<String>,
    pub facilities: Vec<String>,
    pub website: String,
    pub members: Vec<HubMemberView>,
    pub projects: Vec<ProjectSummary>,
    /// The caller's place in the hub, if any.
    pub my_role: Option<HubRole>,
    pub created_at: i64,
}

/// A member of a hub.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HubMemberView {
    pub user_id: UserId,
    pub display_name: String,
    pub role: HubRole,
}

/// `PATCH /api/v1/hubs/{id}/members/{user_id}`: approve a request (`member`), or make or unmake
/// a manager.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct HubMemberUpdate {
    pub role: HubRole,
}

/// What a person is open to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OpenTo {
    Collaborating,
    Mentoring,
    HostingVisitors,
}

impl OpenTo {
    pub const ALL: [OpenTo; 3] = [Self::Collaborating, Self::Mentoring, Self::HostingVisitors];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Collaborating => "collaborating",
            Self::Mentoring => "mentoring",
            Self::HostingVisitors => "hosting_visitors",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == raw)
    }
}

/// Who finds a profile in the directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ProfileVisibility {
    /// Every signed-in person.
    Network,
    /// Nobody: the profile is not listed, and only its owner and admins can open it.
    Hidden,
}

impl ProfileVisibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Network => "network",
            Self::Hidden => "hidden",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Network, Self::Hidden].into_iter().find(|v| v.as_str() == raw)
    }
}

/// `GET /api/v1/me/profile`: the caller's whole profile, with its settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Profile {
    pub display_name: String,
    pub city: String,
    pub country: String,
    pub languages: Vec<String>,
    pub skills: Vec<String>,
    pub disciplines: Vec<String>,
    pub bio: String,
    pub open_to: Vec<OpenTo>,
    pub profile_visibility: ProfileVisibility,
    pub show_email: bool,
}

/// `PATCH /api/v1/me/profile`: only the fields given change.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProfileUpdate {
    pub display_name: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub languages: Option<Vec<String>>,
    pub skills: Option<Vec<String>>,
    pub disciplines: Option<Vec<String>>,
    pub bio: Option<String>,
    pub open_to: Option<Vec<OpenTo>>,
    pub profile_visibility: Option<ProfileVisibility>,
    pub show_email: Option<bool>,
    /// The language emails are written in: `en`, `fr`, `es` or `pt`.
    pub language: Option<String>,
}

/// A person as the directory shows them. `email` only when they chose to show it (or to
/// themselves and admins).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PersonView {
    pub id: UserId,
    pub display_name: String,
    pub email: Option<String>,
    pub city: String,
    pub country: String,
    pub languages: Vec<String>,
    pub skills: Vec<String>,
    pub disciplines: Vec<String>,
    pub bio: String,
    pub open_to: Vec<OpenTo>,
    pub hubs: Vec<HubSummary>,
}

/// `GET /api/v1/people`: one page of the directory, best match first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PeoplePage {
    pub items: Vec<PersonView>,
    /// Matches on every page.
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
}

/// `POST /api/v1/projects/{id}/invites`: an invitation link. Whoever opens it signed in joins
/// with `role`, until it expires or has been used `max_uses` times.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct InviteLinkCreate {
    pub role: ProjectRole,
    /// Hours until the link stops working; none: it does not expire.
    pub expires_in_hours: Option<u32>,
    /// How many people may join through it; none: no limit.
    pub max_uses: Option<u32>,
}

/// The answer to [`InviteLinkCreate`]: the only time the link's secret is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InviteLinkCreated {
    pub id: InviteId,
    pub token: String,
}

/// A pending invitation (`GET /api/v1/projects/{id}/invites`), without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InviteView {
    pub id: InviteId,
    pub role: ProjectRole,
    /// For an email invitation, the address.
    pub email: Option<String>,
    pub expires_at: Option<i64>,
    pub max_uses: Option<u32>,
    pub uses: u32,
    pub created_at: i64,
}

/// The answer to `POST /api/v1/invites/{token}/accept`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InviteAccepted {
    pub project_id: ProjectId,
    /// The caller's role now (a member keeps a stronger role they already had).
    pub role: ProjectRole,
}

/// The answer to `POST /api/v1/hubs/{id}/join`: the caller's place in the hub now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HubJoined {
    pub role: HubRole,
}

/// `GET /api/v1/boards/{id}`: what the server keeps of a board beside its document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BoardState {
    /// The server's clock (milliseconds since the epoch), so a client can show the timer in
    /// the server's time.
    pub now: i64,
    /// The board's open vote, or the last closed one.
    pub vote: Option<BoardVote>,
    /// Whether the caller may open votes, run the timer and lock shapes.
    pub can_facilitate: bool,
    /// Whether the caller may cast dots.
    pub can_vote: bool,
}

/// `POST /api/v1/boards/{id}/votes`: a facilitator opens a dot vote.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct VoteCreate {
    /// Dots each person may place, 1 to 20.
    pub dots_per_person: u32,
}

/// `POST /api/v1/boards/{id}/votes/{vote}/dots`: one dot on one shape, by the caller.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DotCast {
    /// The id of a shape on the board.
    pub shape: String,
}

/// Dots on one shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ShapeDots {
    pub shape: String,
    pub dots: u32,
}

/// A dot vote, as the caller may see it: their own dots while it is open, everyone's once it
/// is closed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BoardVote {
    pub id: VoteId,
    pub dots_per_person: u32,
    pub open: bool,
    pub opened_by: PersonRef,
    pub opened_at: i64,
    pub closed_at: Option<i64>,
    /// The caller's dots, per shape.
    pub my_dots: Vec<ShapeDots>,
    /// Dots the caller may still place.
    pub my_remaining: u32,
    /// Dots cast by everyone so far.
    pub n_cast: u32,
    /// People who cast at least one dot.
    pub n_voters: u32,
    /// Everyone's dots per shape, most first; only once the vote is closed.
    pub results: Option<Vec<ShapeDots>>,
}

/// `PUT /api/v1/boards/{id}/timer`: a facilitator starts the board's shared timer.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TimerSet {
    /// 1 second to 2 hours.
    pub seconds: u32,
}

/// A comment thread on a document or a board. The same threads are in the document's
/// `threads` map, shaped as BlockNote reads them; this is the API's view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Thread {
    pub id: ThreadId,
    pub item_id: ItemId,
    pub created_by: Option<UserId>,
    pub created_at: i64,
    pub updated_at: i64,
    pub resolved: bool,
    pub resolved_at: Option<i64>,
    pub resolved_by: Option<UserId>,
    pub deleted: bool,
    /// The text it was anchored on, as it read then.
    pub quote: Option<String>,
    /// Where a board's thread is pinned.
    pub pin: Option<Pin>,
    pub comments: Vec<Comment>,
}

/// One comment of a thread.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Comment {
    pub id: CommentId,
    pub author: Option<UserId>,
    /// BlockNote blocks; absent once deleted.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Vec<Object>>))]
    pub body: Option<serde_json::Value>,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted_at: Option<i64>,
    /// The project members it mentions (read from its `mention` inline content).
    pub mentions: Vec<UserId>,
    pub reactions: Vec<Reaction>,
}

/// Everyone who reacted to a comment with one emoji.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Reaction {
    pub emoji: String,
    pub user_ids: Vec<UserId>,
    pub created_at: i64,
}

/// A board thread's place: on a shape (then `x`, `y` are relative to it) or on the canvas.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Pin {
    pub shape: Option<String>,
    pub x: f64,
    pub y: f64,
}

/// A comment's content as BlockNote's thread store sends it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CommentInput {
    /// BlockNote blocks.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub body: serde_json::Value,
    /// Ignored: what the server records about a comment is its own.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    #[serde(default)]
    pub metadata: Option<serde_json::Value>,
}

/// `POST /api/v1/items/{id}/threads`: a new thread with its first comment (BlockNote's
/// `createThread`, camelCase as it sends it).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ThreadCreate {
    pub initial_comment: CommentInput,
    /// BlockNote's thread metadata: ignored.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    #[serde(default)]
    pub metadata: Option<serde_json::Value>,
    /// For a board: where the thread is pinned.
    #[serde(default)]
    pub pin: Option<Pin>,
}

/// `POST .../threads/{thread}/comments` and `PUT .../comments/{comment}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CommentWrite {
    pub comment: CommentInput,
}

/// `POST .../threads/{thread}/addToDocument`: anchor the thread to the text selected, in
/// ProseMirror positions (BlockNote sends its editor's selection).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ThreadAnchor {
    pub selection: Selection,
}

/// The text selected, in ProseMirror positions: `anchor` and `head` directly, or as BlockNote's
/// Yjs thread store sends them, under `prosemirror` (with Yjs relative positions under `yjs`,
/// which the server does not read).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Selection {
    #[serde(default)]
    pub anchor: Option<u32>,
    #[serde(default)]
    pub head: Option<u32>,
    #[serde(default)]
    pub prosemirror: Option<PositionPair>,
}

/// A ProseMirror selection's two ends (other fields are ignored).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PositionPair {
    pub anchor: u32,
    pub head: u32,
}

impl Selection {
    /// `(anchor, head)`, wherever the client put them.
    pub fn positions(&self) -> Option<(u32, u32)> {
        match (&self.prosemirror, self.anchor, self.head) {
            (Some(pm), _, _) => Some((pm.anchor, pm.head)),
            (None, Some(anchor), Some(head)) => Some((anchor, head)),
            _ => None,
        }
    }
}

/// `POST .../comments/{comment}/reactions`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReactionAdd {
    pub emoji: String,
}

/// `GET /api/v1/items/{id}/threads` filters.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct ThreadQuery {
    /// Only threads with a comment mentioning the caller.
    #[serde(default)]
    pub mentions_me: Option<bool>,
}

/// `DELETE .../comments/{comment}?soft=`: keep a "deleted" mark in the thread (BlockNote's
/// soft delete) or remove the comment.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct CommentDeleteQuery {
    #[serde(default)]
    pub soft: Option<bool>,
}

/// Why a version was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum VersionKind {
    /// Taken while people edited, or when the last of them left.
    Auto,
    /// Taken by hand, with a name.
    Named,
    /// The state after an earlier version was restored.
    Restore,
}

/// A version of a document or a board.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Version {
    pub id: VersionId,
    pub kind: VersionKind,
    pub name: Option<String>,
    pub created_at: i64,
    pub created_by: Option<PersonRef>,
    /// Who changed the document since the version before.
    pub editors: Vec<PersonRef>,
    pub restored_from: Option<VersionId>,
    /// Size of the stored state.
    pub n_bytes: i64,
}

/// `GET /api/v1/items/{id}/versions/{version}`: a version and what it holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VersionContent {
    pub version: Version,
    /// A document's `blocks` (the text of each block) and `xml` (the BlockNote fragment), or a
    /// board's `shapes`.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub content: serde_json::Value,
}

/// `POST /api/v1/items/{id}/versions`: take a named version now.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct VersionCreate {
    /// 1 to 200 characters.
    pub name: String,
}

/// One run of a text comparison.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DiffRun {
    /// `equal`, `insert` (in the later version only) or `delete` (in the earlier only).
    pub op: String,
    pub text: String,
}

/// What changed from one version to a later one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VersionChanges {
    /// The text as runs kept, added and removed (blocks separated by new lines).
    pub text: Vec<DiffRun>,
    /// Each stretch of text the later version added, and each it removed.
    pub added: Vec<String>,
    pub removed: Vec<String>,
    /// Board shapes by id.
    pub shapes_added: Vec<String>,
    pub shapes_removed: Vec<String>,
    pub shapes_moved: Vec<String>,
    pub shapes_changed: Vec<String>,
}

/// `GET /api/v1/items/{id}/versions/{a}/diff/{b}`: what changed from `a` to `b`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VersionDiff {
    pub from: VersionId,
    pub to: VersionId,
    #[serde(flatten)]
    pub changes: VersionChanges,
}

/// Where a template comes from, and so who sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TemplateScope {
    /// Hubring's own, in the language asked for.
    Builtin,
    /// Saved by the caller for themselves.
    Personal,
    /// Saved for a hub by one of its managers; its members see it.
    Hub,
}

/// `GET /api/v1/templates`: a template a new item may start from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TemplateView {
    /// Give it as `template_id` when creating an item.
    pub id: String,
    pub kind: ItemKind,
    pub title: String,
    pub description: String,
    pub scope: TemplateScope,
    pub hub_id: Option<HubId>,
    /// When it was saved (none for a built-in template).
    pub created_at: Option<i64>,
}

/// `POST /api/v1/templates`: save a document or board as a template, for oneself or (a hub's
/// managers) for a hub.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TemplateCreate {
    pub item_id: ItemId,
    /// 1 to 200 characters.
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    /// For a hub the caller manages; otherwise the template is the caller's own.
    #[serde(default)]
    pub hub_id: Option<HubId>,
}

/// `GET /api/v1/templates` query.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct TemplateQuery {
    /// Only templates making this kind of item.
    pub kind: Option<ItemKind>,
    /// The language of the built-in templates (`en`, `fr`, `es`, `pt`; default `en`).
    pub lang: Option<String>,
}

/// What a notification is about; also the kinds whose delivery a person chooses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    /// Invited into a project.
    Invitation,
    /// Mentioned in a comment.
    Mention,
    /// A reply in a thread one started or took part in.
    Reply,
    /// Someone asks to join a hub one manages.
    JoinRequest,
    /// A session: invited to it, changed, cancelled, or a place freed on its waiting list.
    Session,
}

impl NotificationKind {
    pub const ALL: [NotificationKind; 5] =
        [Self::Invitation, Self::Mention, Self::Reply, Self::JoinRequest, Self::Session];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invitation => "invitation",
            Self::Mention => "mention",
            Self::Reply => "reply",
            Self::JoinRequest => "join_request",
            Self::Session => "session",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == raw)
    }
}

/// How a person wants a kind of notification delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum NotifyChannel {
    /// In the app only (the bell).
    App,
    /// By email only.
    Email,
    /// In the app and by email.
    Both,
    /// Not at all.
    None,
}

impl NotifyChannel {
    pub const ALL: [NotifyChannel; 4] = [Self::App, Self::Email, Self::Both, Self::None];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::App => "app",
            Self::Email => "email",
            Self::Both => "both",
            Self::None => "none",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == raw)
    }

    pub fn in_app(self) -> bool {
        matches!(self, Self::App | Self::Both)
    }

    pub fn by_email(self) -> bool {
        matches!(self, Self::Email | Self::Both)
    }
}

/// What a notification points at. Every field is optional: each kind fills what it needs, and
/// the client words it in the reader's language.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotificationSubject {
    /// Who did it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<PersonRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<ProjectId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_id: Option<ItemId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_kind: Option<ItemKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_id: Option<ThreadId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hub_id: Option<HubId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hub_name: Option<String>,
    /// The start of the comment, for mentions and replies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub excerpt: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<MeetingId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_title: Option<String>,
    /// What happened to the session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_change: Option<SessionChange>,
    /// When the (next) session starts, ms since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts_at: Option<i64>,
    /// The session's time zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
}

/// One notification in `GET /api/v1/me/notifications`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotificationView {
    pub id: String,
    pub kind: NotificationKind,
    pub created_at: i64,
    pub read: bool,
    pub subject: NotificationSubject,
}

/// `GET /api/v1/me/notifications`: the newest notifications and how many are unread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotificationList {
    pub unread: u32,
    pub items: Vec<NotificationView>,
}

/// `POST /api/v1/me/notifications/read`: mark these read, or every one when `ids` is absent.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NotificationsRead {
    #[serde(default)]
    pub ids: Option<Vec<String>>,
}

/// One kind's delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NotificationPref {
    pub kind: NotificationKind,
    pub channel: NotifyChannel,
}

/// `GET`/`PUT /api/v1/me/notification-prefs`: how each kind is delivered (a `PUT` may name
/// only some kinds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NotificationPrefs {
    pub prefs: Vec<NotificationPref>,
}

/// What happened to a session one is invited to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SessionChange {
    Invited,
    Updated,
    Cancelled,
    /// A place freed up: one moved from the waiting list to going.
    Promoted,
    /// It starts soon.
    Reminder,
}

/// What a session is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SessionKind {
    PeerLearning,
    /// A coaching call: private to the coach and the person coached, like a coaching room.
    Coaching,
    Workshop,
    Meeting,
}

impl SessionKind {
    pub const ALL: [SessionKind; 4] =
        [Self::PeerLearning, Self::Coaching, Self::Workshop, Self::Meeting];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::PeerLearning => "peer_learning",
            Self::Coaching => "coaching",
            Self::Workshop => "workshop",
            Self::Meeting => "meeting",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == raw)
    }
}

/// How a session repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Frequency {
    /// Every week on the same weekday, at the same local time.
    Weekly,
    /// Every month on the same day of the month (the last day in shorter months).
    Monthly,
}

impl Frequency {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Weekly => "weekly",
            Self::Monthly => "monthly",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "weekly" => Some(Self::Weekly),
            "monthly" => Some(Self::Monthly),
            _ => None,
        }
    }
}

/// A repeating session: `count` occurrences (the first included), minus `exceptions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Recurrence {
    pub frequency: Frequency,
    /// How many times it happens, 2 to 260, as the calendar's `COUNT` (skipped dates count).
    pub count: u32,
    /// Local dates (`YYYY-MM-DD`, in the session's zone) it does not happen on.
    #[serde(default)]
    pub exceptions: Vec<String>,
}

/// `POST /api/v1/projects/{id}/sessions`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SessionCreate {
    pub title: String,
    pub kind: SessionKind,
    #[serde(default)]
    pub agenda: String,
    /// The local start in `time_zone`, `YYYY-MM-DDTHH:MM` (as on a wall clock there).
    pub starts: String,
    /// The organiser's IANA time zone, such as `Europe/Lisbon`.
    pub time_zone: String,
    /// 5 minutes to 12 hours; or give `ends`.
    #[serde(default)]
    pub duration_minutes: Option<u32>,
    /// The local end, `YYYY-MM-DDTHH:MM`, instead of a duration.
    #[serde(default)]
    pub ends: Option<String>,
    #[serde(default)]
    pub recurrence: Option<Recurrence>,
    /// At most this many going; more join a waiting list. None: no limit.
    #[serde(default)]
    pub capacity: Option<u32>,
    /// An existing room of the project; none: a new room is made for the session.
    #[serde(default)]
    pub room_id: Option<ItemId>,
    /// Who is invited: these members of the project. None: every member (for a coaching
    /// session, exactly one other member, the person coached).
    #[serde(default)]
    pub invite: Option<Vec<UserId>>,
    /// The title of the session's notes document (in the client's language); its content
    /// comes from the built-in template of the session's kind where one exists.
    pub notes_title: String,
    /// The language of the notes template: en, fr, es or pt.
    #[serde(default)]
    pub language: Option<String>,
}

/// `PATCH /api/v1/sessions/{id}`: what changes. Every change raises the calendar `SEQUENCE`
/// and tells those invited.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SessionPatch {
    pub title: Option<String>,
    pub agenda: Option<String>,
    pub starts: Option<String>,
    pub time_zone: Option<String>,
    pub duration_minutes: Option<u32>,
    /// The local end of the first occurrence, instead of a duration.
    pub ends: Option<String>,
    /// `null` clears the limit.
    #[serde(default, with = "double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<u32>))]
    pub capacity: Option<Option<u32>>,
    /// `null` makes it happen once.
    #[serde(default, with = "double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Recurrence>))]
    pub recurrence: Option<Option<Recurrence>>,
    /// More members to invite.
    #[serde(default)]
    pub invite: Option<Vec<UserId>>,
}

/// Tells a field that is absent (`None`) from one that is `null` (`Some(None)`).
mod double_option {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub(super) fn serialize<T: Serialize, S: Serializer>(
        value: &Option<Option<T>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(inner) => inner.serialize(s),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(d).map(Some)
    }
}

/// An answer to a session invitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RsvpResponse {
    Going,
    Maybe,
    Declined,
}

/// Where someone stands for a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Attendance {
    /// Invited, not answered yet.
    Invited,
    Going,
    Maybe,
    Declined,
    /// Answered going when the session was full: moves up by itself when a place frees.
    Waiting,
}

impl Attendance {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invited => "invited",
            Self::Going => "going",
            Self::Maybe => "maybe",
            Self::Declined => "declined",
            Self::Waiting => "waiting",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Invited, Self::Going, Self::Maybe, Self::Declined, Self::Waiting]
            .into_iter()
            .find(|a| a.as_str() == raw)
    }
}

/// `PUT /api/v1/sessions/{id}/rsvp`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RsvpUpdate {
    pub response: RsvpResponse,
}

/// Someone invited to a session and their answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionAttendee {
    pub user: PersonRef,
    pub status: Attendance,
    /// Place on the waiting list, from 1, for those waiting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting_position: Option<u32>,
}

/// One occurrence of a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionOccurrence {
    /// Start and end, ms since the epoch.
    pub starts_at: i64,
    pub ends_at: i64,
    /// The start on the organiser's wall clock, `YYYY-MM-DDTHH:MM`.
    pub local_start: String,
}

/// A session as its invitees and the project's members see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionDetail {
    pub id: MeetingId,
    pub project_id: ProjectId,
    pub project_title: String,
    pub title: String,
    pub kind: SessionKind,
    pub agenda: String,
    pub starts: String,
    pub time_zone: String,
    pub duration_minutes: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recurrence: Option<Recurrence>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<u32>,
    pub room_id: ItemId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes_id: Option<ItemId>,
    pub organiser: PersonRef,
    /// The calendar `SEQUENCE`: raised on every change.
    pub sequence: u32,
    /// The next occurrence that has not ended (or the last one, once all are over).
    pub next: SessionOccurrence,
    /// Occurrences still to come (at most 52).
    pub upcoming: Vec<SessionOccurrence>,
    pub attendees: Vec<SessionAttendee>,
    /// The caller's own standing, if invited or answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub my_status: Option<Attendance>,
    /// Whether the room is open for the next occurrence now (from a few minutes before it
    /// starts until it ends).
    pub room_open: bool,
    /// When the room opens for the next occurrence, ms since the epoch.
    pub room_opens_at: i64,
    /// Whether the caller may change or cancel it.
    pub can_edit: bool,
}

/// `GET /api/v1/me/sessions`: a session's next occurrence on the caller's calendar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpcomingSession {
    pub id: MeetingId,
    pub project_id: ProjectId,
    pub project_title: String,
    pub title: String,
    pub kind: SessionKind,
    pub time_zone: String,
    pub next: SessionOccurrence,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub my_status: Option<Attendance>,
    pub room_id: ItemId,
}

/// `GET|POST /api/v1/me/calendar-feed`: the private address calendar apps subscribe to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CalendarFeed {
    /// Absolute when the server knows its public URL, otherwise a path.
    pub url: String,
}

/// `GET /api/v1/admin/mail` (instance admins): whether the server sends email, and how its
/// outbox stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MailHealth {
    /// False when no SMTP server is configured: nothing is emailed, invitations are links.
    pub enabled: bool,
    /// Emails waiting to leave (new, or being retried).
    pub waiting: i64,
    pub sent: i64,
    /// Given up on after days of failures, or refused for good.
    pub failed: i64,
    /// Failed attempts of the emails still waiting: above zero, the SMTP server is refusing.
    pub failed_attempts: i64,
}
