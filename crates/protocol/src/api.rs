//! Request and response bodies of `/api/v1`. JSON, ids as strings, times as milliseconds since
//! the epoch. Enums are lowercase strings; an unknown value is refused, not guessed.

use serde::{Deserialize, Serialize};

use crate::DocId;
use crate::ids::{HubId, InviteId, ItemId, ProjectId, TokenId, UserId};

/// A member's role in a project, from most to least powerful.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
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
#[serde(deny_unknown_fields)]
pub struct SignupRequest {
    pub email: String,
    pub password: String,
    pub display_name: String,
}

/// `POST /api/v1/auth/login`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

/// `POST /api/v1/auth/password`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    pub current_password: String,
    pub new_password: String,
}

/// `GET /api/v1/me`: the signed-in person, with what only they (and admins) see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub id: UserId,
    pub email: String,
    pub display_name: String,
    pub is_admin: bool,
    pub created_at: i64,
}

/// A person as others see them in lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonRef {
    pub id: UserId,
    pub display_name: String,
}

/// `POST /api/v1/tokens`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenCreate {
    pub name: String,
}

/// The answer to [`TokenCreate`]: the only time the secret is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenCreated {
    pub id: TokenId,
    pub name: String,
    pub token: String,
    pub created_at: i64,
}

/// A token in `GET /api/v1/tokens`, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenView {
    pub id: TokenId,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// `POST /api/v1/projects`.
#[derive(Debug, Clone, Serialize, Deserialize)]
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
pub struct ProjectCreated {
    pub id: ProjectId,
}

/// `GET /api/v1/projects/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
pub struct MemberView {
    pub user_id: UserId,
    pub display_name: String,
    pub role: ProjectRole,
    pub added_at: i64,
}

/// `POST /api/v1/projects/{id}/members`: an existing account joins at once; any other address
/// gets an invite, accepted when it signs up or in.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberAdd {
    pub email: String,
    pub role: ProjectRole,
}

/// The answer to [`MemberAdd`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum MemberAdded {
    Added { user_id: UserId },
    Invited { invite_id: InviteId },
}

/// `PATCH /api/v1/projects/{id}/members/{user_id}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberUpdate {
    pub role: ProjectRole,
}

/// `POST /api/v1/projects/{id}/owner`: the owner hands the project to a member, and becomes an
/// editor.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OwnershipTransfer {
    pub user_id: UserId,
}

/// `POST /api/v1/projects/{id}/items`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemCreate {
    pub kind: ItemKind,
    pub title: String,
}

/// The answer to [`ItemCreate`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemCreated {
    pub id: ItemId,
    pub doc_id: DocId,
}

/// `PATCH /api/v1/items/{id}`: rename, or move to another project the caller may edit.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemUpdate {
    pub title: Option<String>,
    pub project_id: Option<ProjectId>,
}

/// An item in `GET /api/v1/projects/{id}/items`, with who changed it last.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
}
