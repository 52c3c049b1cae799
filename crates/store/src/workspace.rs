//! The workspace's records: accounts and their sign-ins, projects, members, invites and items.
//!
//! Plain storage: no rule about who may do what lives here (that is `hubring-workspace`). Reads
//! use the pool; every write is one [`Store::write`] job on the single writer.

use hubring_protocol::api::{ItemKind, MyInvite, ProjectRole, Visibility};
use hubring_protocol::{DocId, HubId, InviteId, ItemId, ProjectId, TokenId, UserId};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::codec::decode;
use crate::sql::{Sql, flag};
use crate::{Store, StoreError, now_ms};

/// An account as stored.
#[derive(Debug, Clone)]
pub struct UserRecord {
    pub id: UserId,
    pub email: String,
    pub display_name: String,
    pub password_hash: String,
    pub is_admin: bool,
    pub created_at: i64,
    /// The language emails to them are written in.
    pub language: String,
    /// Whether they opened a link sent to their address (see `account_tokens`).
    pub email_confirmed: bool,
}

/// A new account. The email is already normalised.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub id: UserId,
    pub email: String,
    pub display_name: String,
    pub password_hash: String,
    pub is_admin: bool,
    /// The language emails to them are written in (`en`, `fr`, `es`, `pt`).
    pub language: String,
}

/// A personal API token, without its secret.
#[derive(Debug, Clone)]
pub struct TokenRecord {
    pub id: TokenId,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// How a request proved who it is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Credential {
    Login(String),
    Token(TokenId),
}

/// A project as stored.
#[derive(Debug, Clone)]
pub struct ProjectRecord {
    pub id: ProjectId,
    pub title: String,
    pub summary: String,
    pub visibility: Visibility,
    pub archived: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A member of a project, with their name.
#[derive(Debug, Clone)]
pub struct MemberRecord {
    pub user_id: UserId,
    pub display_name: String,
    pub role: ProjectRole,
    pub added_at: i64,
}

/// An item of a project, with who made and last changed it.
#[derive(Debug, Clone)]
pub struct ItemRecord {
    pub id: ItemId,
    pub project_id: ProjectId,
    pub kind: ItemKind,
    pub title: String,
    pub doc_id: DocId,
    pub created_at: i64,
    pub created_by: (UserId, String),
    pub updated_at: i64,
    pub updated_by: (UserId, String),
    /// `Some` for a private item: the only people who may see or open it.
    pub audience: Option<Vec<(UserId, String)>>,
    /// A room's shared notes document.
    pub notes_id: Option<ItemId>,
}

/// An item in its project's trash.
#[derive(Debug, Clone)]
pub struct TrashedRecord {
    pub item: ItemRecord,
    pub deleted_at: i64,
    pub deleted_by: Option<(UserId, String)>,
}

/// An item's document, item, project and, for a private item, its audience (the workspace
/// indexes them in memory).
pub type ItemDoc = (DocId, ItemId, ProjectId, Option<Vec<UserId>>);

/// A 1:1 coaching room and its notes document, private to the two people.
#[derive(Debug, Clone)]
pub struct CoachingRecord {
    pub project_id: ProjectId,
    pub room: (ItemId, String, DocId),
    pub notes: (ItemId, String, DocId),
    pub audience: [UserId; 2],
}

/// The fields of a project a write may change.
#[derive(Debug, Clone, Default)]
pub struct ProjectChanges {
    pub title: Option<String>,
    pub summary: Option<String>,
    pub visibility: Option<Visibility>,
    pub hub_ids: Option<Vec<HubId>>,
    pub archived: Option<bool>,
}

fn user(row: &AnyRow) -> Result<UserRecord, StoreError> {
    Ok(UserRecord {
        id: UserId(row.try_get("id")?),
        email: row.try_get("email")?,
        display_name: row.try_get("display_name")?,
        password_hash: row.try_get("password_hash")?,
        is_admin: flag(row, "is_admin")?,
        created_at: row.try_get("created_at")?,
        language: row.try_get("language")?,
        email_confirmed: row.try_get::<Option<i64>, _>("email_confirmed_at")?.is_some(),
    })
}

/// The columns [`user`] reads, for `concat!` (sqlx takes only literal SQL).
macro_rules! user_columns {
    () => {
        "u.id, u.email, u.display_name, u.password_hash, u.is_admin, u.created_at, u.language, \
         u.email_confirmed_at"
    };
}

/// The columns [`item`] reads, for `concat!`.
macro_rules! item_columns {
    () => {
        "i.id, i.project_id, i.kind, i.title, i.doc_id, i.created_at, i.created_by, \
         c.display_name AS created_by_name, i.updated_at, i.updated_by, \
         u.display_name AS updated_by_name, i.private, i.notes_id"
    };
}

/// Where [`item_columns`] come from, for `concat!`.
macro_rules! item_from {
    () => {
        "FROM items i JOIN users c ON c.id = i.created_by JOIN users u ON u.id = i.updated_by"
    };
}

/// The query [`item`] reads, for `concat!`, of items in or out of the trash.
macro_rules! item_select_any {
    () => {
        concat!("SELECT ", item_columns!(), " ", item_from!())
    };
}

/// [`item_select_any`] of the items not in the trash: every query of live items goes through
/// it, so an item in the trash is absent everywhere but the trash.
macro_rules! item_select {
    () => {
        concat!(item_select_any!(), " AND i.deleted_at IS NULL")
    };
}

fn role(raw: &str) -> Result<ProjectRole, StoreError> {
    decode(raw, ProjectRole::parse, "project role")
}

fn project(row: &AnyRow) -> Result<ProjectRecord, StoreError> {
    Ok(ProjectRecord {
        id: ProjectId(row.try_get("id")?),
        title: row.try_get("title")?,
        summary: row.try_get("summary")?,
        visibility: decode(row.try_get("visibility")?, Visibility::parse, "visibility")?,
        archived: flag(row, "archived")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn item(row: &AnyRow) -> Result<ItemRecord, StoreError> {
    let doc_id: String = row.try_get("doc_id")?;
    Ok(ItemRecord {
        id: ItemId(row.try_get("id")?),
        project_id: ProjectId(row.try_get("project_id")?),
        kind: decode(row.try_get("kind")?, ItemKind::parse, "item kind")?,
        title: row.try_get("title")?,
        doc_id: DocId::parse(&doc_id).map_err(|err| StoreError::Corrupt(err.to_string()))?,
        created_at: row.try_get("created_at")?,
        created_by: (UserId(row.try_get("created_by")?), row.try_get("created_by_name")?),
        updated_at: row.try_get("updated_at")?,
        updated_by: (UserId(row.try_get("updated_by")?), row.try_get("updated_by_name")?),
        // Filled by `Store::with_audience`.
        audience: flag(row, "private")?.then(Vec::new),
        notes_id: row.try_get::<Option<String>, _>("notes_id")?.map(ItemId),
    })
}

/// A unique constraint broken by a write is a conflict on `what`, not a failure.
pub(crate) fn conflict(what: &'static str) -> impl Fn(sqlx::Error) -> StoreError {
    move |err| match err.as_database_error() {
        Some(db) if db.is_unique_violation() => StoreError::Conflict(what),
        _ => StoreError::Sql(err),
    }
}

impl Store {
    /// Number of accounts: the first one to sign up on an empty instance is its admin.
    pub async fn count_users(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query("SELECT COUNT(*) FROM users").fetch_one(self.pool()).await?.try_get(0)?)
    }

    /// Creates an account; [`StoreError::Conflict`] if the email is taken. With `first_is_admin`,
    /// the account is made admin when it is the instance's first, decided in the same transaction.
    pub async fn create_user(
        &self,
        new: NewUser,
        first_is_admin: bool,
    ) -> Result<UserRecord, StoreError> {
        self.write(move |conn| {
            Box::pin(async move {
                let n: i64 = sqlx::query("SELECT COUNT(*) FROM users")
                    .fetch_one(&mut *conn)
                    .await?
                    .try_get(0)?;
                let is_admin = new.is_admin || (first_is_admin && n == 0);
                let created_at = now_ms();
                sqlx::query(
                    "INSERT INTO users \
                     (id, email, display_name, password_hash, is_admin, created_at, language) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(new.id.as_str())
                .bind(&new.email)
                .bind(&new.display_name)
                .bind(&new.password_hash)
                .bind(is_admin)
                .bind(created_at)
                .bind(&new.language)
                .execute(&mut *conn)
                .await
                .map_err(conflict("email"))?;
                crate::directory::reindex(conn, &new.id).await?;
                Ok(UserRecord {
                    id: new.id,
                    email: new.email,
                    display_name: new.display_name,
                    password_hash: new.password_hash,
                    is_admin,
                    created_at,
                    language: new.language,
                    email_confirmed: false,
                })
            })
        })
        .await
    }

    pub async fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>, StoreError> {
        let sql = concat!("SELECT ", user_columns!(), " FROM users u WHERE u.email = $1");
        let row = sqlx::query(sql).bind(email).fetch_optional(self.pool()).await?;
        row.as_ref().map(user).transpose()
    }

    pub async fn user_by_id(&self, id: &UserId) -> Result<Option<UserRecord>, StoreError> {
        let sql = concat!("SELECT ", user_columns!(), " FROM users u WHERE u.id = $1");
        let row = sqlx::query(sql).bind(id.as_str()).fetch_optional(self.pool()).await?;
        row.as_ref().map(user).transpose()
    }

    /// Replaces a password hash and ends every session but `keep` (the one that changed it).
    pub async fn set_password(
        &self,
        id: &UserId,
        password_hash: String,
        keep: Option<String>,
    ) -> Result<bool, StoreError> {
        let id = id.clone();
        self.write(move |conn| {
            Box::pin(async move {
                let changed = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
                    .bind(&password_hash)
                    .bind(id.as_str())
                    .execute(&mut *conn)
                    .await?
                    .rows_affected();
                sqlx::query("DELETE FROM logins WHERE user_id = $1 AND id IS DISTINCT FROM $2")
                    .bind(id.as_str())
                    .bind(keep.as_deref())
                    .execute(&mut *conn)
                    .await?;
                // A token is a standing password: whoever knew the old one may have made one.
                sqlx::query("DELETE FROM api_tokens WHERE user_id = $1")
                    .bind(id.as_str())
                    .execute(&mut *conn)
                    .await?;
                Ok(changed == 1)
            })
        })
        .await
    }

    /// Records a cookie session.
    pub async fn create_login(
        &self,
        id: String,
        user_id: &UserId,
        secret_hash: Vec<u8>,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        let user_id = user_id.clone();
        self.write(move |conn| {
            Box::pin(async move {
                sqlx::query(
                    "INSERT INTO logins (id, user_id, secret_hash, created_at, expires_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&id)
                .bind(user_id.as_str())
                .bind(&secret_hash)
                .bind(now_ms())
                .bind(expires_at)
                .execute(&mut *conn)
                .await?;
                Ok(())
            })
        })
        .await
    }

    /// The account behind a session secret's hash, if the session exists and has not expired.
    pub async fn login_user(
        &self,
        secret_hash: &[u8],
    ) -> Result<Option<(String, UserRecord)>, StoreError> {
        let sql = concat!(
            "SELECT l.id AS login_id, ",
            user_columns!(),
            " FROM logins l JOIN users u ON u.id = l.user_id \
             WHERE l.secret_hash = $1 AND l.expires_at > $2"
        );
        let row =
            sqlx::query(sql).bind(secret_hash).bind(now_ms()).fetch_optional(self.pool()).await?;
        row.map(|row| Ok((row.try_get("login_id")?, user(&row)?))).transpose()
    }

    /// Which of `credentials` are still in force: a session neither signed out nor expired, a
    /// token not revoked. Live connections opened with the others are closed, whichever process
    /// revoked them (`hubring admin reset-password` runs beside the server).
    pub async fn credentials_in_force(
        &self,
        credentials: &[Credential],
    ) -> Result<Vec<Credential>, StoreError> {
        /// Ids per statement, well under SQLite's limit on bound parameters.
        const CHUNK: usize = 500;
        let mut logins = Vec::new();
        let mut tokens = Vec::new();
        for credential in credentials {
            match credential {
                Credential::Login(id) => logins.push(id.as_str()),
                Credential::Token(id) => tokens.push(id.as_str()),
            }
        }
        let mut out = Vec::new();
        for chunk in logins.chunks(CHUNK) {
            let mut sql = Sql::new("SELECT id FROM logins WHERE expires_at > ");
            sql.bind(now_ms())
                .push(" AND id IN (")
                .bind_list(chunk.iter().map(|id| id.to_string()));
            sql.push(")");
            for row in sql.build().fetch_all(self.pool()).await? {
                out.push(Credential::Login(row.try_get("id")?));
            }
        }
        for chunk in tokens.chunks(CHUNK) {
            let mut sql = Sql::new("SELECT id FROM api_tokens WHERE id IN (");
            sql.bind_list(chunk.iter().map(|id| id.to_string()));
            sql.push(")");
            for row in sql.build().fetch_all(self.pool()).await? {
                out.push(Credential::Token(TokenId(row.try_get("id")?)));
            }
        }
        Ok(out)
    }

    /// Deletes the sessions that have expired (they are already refused); returns how many.
    pub async fn delete_expired_logins(&self) -> Result<u64, StoreError> {
        self.write(move |conn| {
            Box::pin(async move {
                let n = sqlx::query("DELETE FROM logins WHERE expires_at <= $1")
                    .bind(now_ms())
                    .execute(&mut *conn)
                    .await?
                    .rows_affected();
                Ok(n)
            })
        })
        .await
    }

    /// Ends a session.
    pub async fn delete_login(&self, id: String) -> Result<(), StoreError> {
        self.write(move |conn| {
            Box::pin(async move {
                sqlx::query("DELETE FROM logins WHERE id = $1")
                    .bind(&id)
                    .execute(&mut *conn)
                    .await?;
                Ok(())
            })
        })
        .await
    }

    pub async fn create_token(
        &self,
        id: &TokenId,
        user_id: &UserId,
        name: String,
        secret_hash: Vec<u8>,
    ) -> Result<TokenRecord, StoreError> {
        let (id, user_id) = (id.clone(), user_id.clone());
        self.write(move |conn| {
            Box::pin(async move {
                let created_at = now_ms();
                sqlx::query(
                    "INSERT INTO api_tokens (id, user_id, name, secret_hash, created_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(id.as_str())
                .bind(user_id.as_str())
                .bind(&name)
                .bind(&secret_hash)
                .bind(created_at)
                .execute(&mut *conn)
                .await?;
                Ok(TokenRecord { id, name, created_at, last_used_at: None })
            })
        })
        .await
    }

    /// The account behind a token secret's hash.
    pub async fn token_user(
        &self,
        secret_hash: &[u8],
    ) -> Result<Option<(TokenId, UserRecord)>, StoreError> {
        let sql = concat!(
            "SELECT t.id AS token_id, ",
            user_columns!(),
            " FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.secret_hash = $1"
        );
        let row = sqlx::query(sql).bind(secret_hash).fetch_optional(self.pool()).await?;
        row.map(|row| Ok((TokenId(row.try_get("token_id")?), user(&row)?))).transpose()
    }

    pub async fn list_tokens(&self, user_id: &UserId) -> Result<Vec<TokenRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, name, created_at, last_used_at FROM api_tokens WHERE user_id = $1 \
             ORDER BY created_at, id",
        )
        .bind(user_id.as_str())
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(TokenRecord {
                    id: TokenId(row.try_get("id")?),
                    name: row.try_get("name")?,
                    created_at: row.try_get("created_at")?,
                    last_used_at: row.try_get("last_used_at")?,
                })
            })
            .collect()
    }

    /// Revokes one of `user_id`'s tokens; false if they have no such token.
    pub async fn delete_token(&self, user_id: &UserId, id: &TokenId) -> Result<bool, StoreError> {
        let (user_id, id) = (user_id.clone(), id.clone());
        self.write(move |conn| {
            Box::pin(async move {
                let n = sqlx::query("DELETE FROM api_tokens WHERE id = $1 AND user_id = $2")
                    .bind(id.as_str())
                    .bind(user_id.as_str())
                    .execute(&mut *conn)
                    .await?
                    .rows_affected();
                Ok(n == 1)
            })
        })
        .await
    }

    /// Creates a project with `owner` as its owner.
    pub async fn create_project(
        &self,
        id: &ProjectId,
        owner: &UserId,
        title: String,
        summary: String,
        visibility: Visibility,
        hub_ids: Vec<HubId>,
    ) -> Result<(), StoreError> {
        let (id, owner) = (id.clone(), owner.clone());
        self.write(move |conn| {
            Box::pin(async move {
                let now = now_ms();
                sqlx::query(
                    "INSERT INTO projects (id, title, summary, visibility, created_by, created_at, \
                     updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(id.as_str())
                .bind(&title)
                .bind(&summary)
                .bind(visibility.as_str())
                .bind(owner.as_str())
                .bind(now)
                .bind(now)
                .execute(&mut *conn)
                .await?;
                insert_member(conn, &id, &owner, ProjectRole::Owner).await?;
                set_hubs(conn, &id, &hub_ids).await
            })
        })
        .await
    }

    pub async fn project(&self, id: &ProjectId) -> Result<Option<ProjectRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT id, title, summary, visibility, archived, created_at, updated_at FROM projects \
             WHERE id = $1",
        )
        .bind(id.as_str())
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(project).transpose()
    }

    /// The projects `user_id` is a member of, with their role, most recently changed first.
    pub async fn projects_of(
        &self,
        user_id: &UserId,
    ) -> Result<Vec<(ProjectRecord, ProjectRole)>, StoreError> {
        let rows = sqlx::query(
            "SELECT p.id, p.title, p.summary, p.visibility, p.archived, p.created_at, \
             p.updated_at, m.role FROM projects p JOIN project_members m ON m.project_id = p.id \
             WHERE m.user_id = $1 ORDER BY p.updated_at DESC, p.id",
        )
        .bind(user_id.as_str())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(|row| Ok((project(row)?, role(row.try_get("role")?)?))).collect()
    }

    pub async fn project_role(
        &self,
        project_id: &ProjectId,
        user_id: &UserId,
    ) -> Result<Option<ProjectRole>, StoreError> {
        let row =
            sqlx::query("SELECT role FROM project_members WHERE project_id = $1 AND user_id = $2")
                .bind(project_id.as_str())
                .bind(user_id.as_str())
                .fetch_optional(self.pool())
                .await?;
        row.map(|row| role(row.try_get(0)?)).transpose()
    }

    pub async fn project_members(
        &self,
        project_id: &ProjectId,
    ) -> Result<Vec<MemberRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT m.user_id, u.display_name, m.role, m.added_at FROM project_members m \
             JOIN users u ON u.id = m.user_id WHERE m.project_id = $1 ORDER BY m.added_at, m.user_id",
        )
        .bind(project_id.as_str())
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(MemberRecord {
                    user_id: UserId(row.try_get("user_id")?),
                    display_name: row.try_get("display_name")?,
                    role: role(row.try_get("role")?)?,
                    added_at: row.try_get("added_at")?,
                })
            })
            .collect()
    }

    pub async fn project_hubs(&self, project_id: &ProjectId) -> Result<Vec<HubId>, StoreError> {
        let rows =
            sqlx::query("SELECT hub_id FROM project_hubs WHERE project_id = $1 ORDER BY hub_id")
                .bind(project_id.as_str())
                .fetch_all(self.pool())
                .await?;
        rows.iter().map(|row| Ok(HubId(row.try_get(0)?))).collect()
    }

    /// Hub ids among `ids` that do not exist.
    pub async fn missing_hubs(&self, ids: &[HubId]) -> Result<Vec<HubId>, StoreError> {
        let mut missing = Vec::new();
        for id in ids {
            let found = sqlx::query("SELECT 1 FROM hubs WHERE id = $1")
                .bind(id.as_str())
                .fetch_optional(self.pool())
                .await?;
            if found.is_none() {
                missing.push(id.clone());
            }
        }
        Ok(missing)
    }

    pub async fn update_project(
        &self,
        id: &ProjectId,
        changes: ProjectChanges,
    ) -> Result<(), StoreError> {
        let id = id.clone();
        self.write(move |conn| {
            Box::pin(async move {
                sqlx::query(
                    "UPDATE projects SET title = COALESCE($1, title), \
                     summary = COALESCE($2, summary), visibility = COALESCE($3, visibility), \
                     archived = COALESCE($4, archived), updated_at = $5 WHERE id = $6",
                )
                .bind(changes.title.as_deref())
                .bind(changes.summary.as_deref())
                .bind(changes.visibility.map(Visibility::as_str))
                .bind(changes.archived)
                .bind(now_ms())
                .bind(id.as_str())
                .execute(&mut *conn)
                .await?;
                if let Some(hub_ids) = &changes.hub_ids {
                    set_hubs(conn, &id, hub_ids).await?;
                }
                Ok(())
            })
        })
        .await
    }

    /// Deletes a project with its members, invites and items; returns its items' documents.
    pub async fn delete_project(&self, id: &ProjectId) -> Result<Vec<DocId>, StoreError> {
        let id = id.clone();
        self.write(move |conn| {
            Box::pin(async move {
                let docs = project_docs(conn, &id).await?;
                sqlx::query("DELETE FROM projects WHERE id = $1")
                    .bind(id.as_str())
                    .execute(&mut *conn)
                    .await?;
                Ok(docs)
            })
        })
        .await
    }

    /// The documents of a project's items.
    pub async fn project_docs(&self, id: &ProjectId) -> Result<Vec<DocId>, StoreError> {
        let mut conn = self.pool().acquire().await?;
        project_docs(&mut conn, id).await
    }

    /// Adds a member; [`StoreError::Conflict`] if they already are one.
    pub async fn add_member(
        &self,
        project_id: &ProjectId,
        user_id: &UserId,
        role: ProjectRole,
    ) -> Result<(), StoreError> {
        let (project_id, user_id) = (project_id.clone(), user_id.clone());
        self.write(move |conn| {
            Box::pin(async move { insert_member(conn, &project_id, &user_id, role).await })
        })
        .await
    }

    /// Changes a member's role; false if they are not a member.
    pub async fn set_member_role(
        &self,
        project_id: &ProjectId,
        user_id: &UserId,
        role: ProjectRole,
    ) -> Result<bool, StoreError> {
        let (project_id, user_id) = (project_id.clone(), user_id.clone());
        self.write(move |conn| {
            Box::pin(async move {
                let n = sqlx::query(
                    "UPDATE project_members SET role = $1 WHERE project_id = $2 AND user_id = $3",
                )
                .bind(role.as_str())
                .bind(project_id.as_str())
                .bind(user_id.as_str())
                .execute(&mut *conn)
                .await?
                .rows_affected();
                Ok(n == 1)
            })
        })
        .await
    }

    /// Removes a member, and them from the audience of the project's private items; false if
    /// they were not a member.
    pub async fn remove_member(
        &self,
        project_id: &ProjectId,
        user_id: &UserId,
    ) -> Result<bool, StoreError> {
        let (project_id, user_id) = (project_id.clone(), user_id.clone());
        self.write(move |conn| {
            Box::pin(async move {
                let n = sqlx::query(
                    "DELETE FROM project_members WHERE project_id = $1 AND user_id = $2",
                )
                .bind(project_id.as_str())
                .bind(user_id.as_str())
                .execute(&mut *conn)
                .await?
                .rows_affected();
                // Their private items in the project (coaching) are closed to them too.
                sqlx::query(
                    "DELETE FROM item_audience WHERE user_id = $1 \
                     AND item_id IN (SELECT id FROM items WHERE project_id = $2)",
                )
                .bind(user_id.as_str())
                .bind(project_id.as_str())
                .execute(&mut *conn)
                .await?;
                Ok(n == 1)
            })
        })
        .await
    }

    /// Makes `to` the owner and `from` an editor, in one transaction.
    pub async fn transfer_ownership(
        &self,
        project_id: &ProjectId,
        from: &UserId,
        to: &UserId,
    ) -> Result<(), StoreError> {
        let (project_id, from, to) = (project_id.clone(), from.clone(), to.clone());
        self.write(move |conn| {
            Box::pin(async move {
                for (user, role) in [(&from, ProjectRole::Editor), (&to, ProjectRole::Owner)] {
                    sqlx::query(
                        "UPDATE project_members SET role = $1 WHERE project_id = $2 AND user_id = $3",
                    )
                    .bind(role.as_str())
                    .bind(project_id.as_str())
                    .bind(user.as_str())
                    .execute(&mut *conn)
                    .await?;
                }
                Ok(())
            })
        })
        .await
    }

    /// Records an invitation of `email` to a project.
    pub async fn create_email_invite(
        &self,
        id: &InviteId,
        project_id: &ProjectId,
        email: String,
        role: ProjectRole,
        by: &UserId,
        secret_hash: Vec<u8>,
    ) -> Result<(), StoreError> {
        let (id, project_id, by) = (id.clone(), project_id.clone(), by.clone());
        self.write(move |conn| {
            Box::pin(async move {
                sqlx::query(
                    "INSERT INTO invites \
                     (id, project_id, role, email, created_by, created_at, secret_hash) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(id.as_str())
                .bind(project_id.as_str())
                .bind(role.as_str())
                .bind(&email)
                .bind(by.as_str())
                .bind(now_ms())
                .bind(secret_hash)
                .execute(&mut *conn)
                .await?;
                Ok(())
            })
        })
        .await
    }

    /// Whether some project invited `email`.
    pub async fn has_email_invite(&self, email: &str) -> Result<bool, StoreError> {
        let row =
            sqlx::query("SELECT 1 FROM invites WHERE email = $1 AND revoked_at IS NULL LIMIT 1")
                .bind(email)
                .fetch_optional(self.pool())
                .await?;
        Ok(row.is_some())
    }

    /// Turns the invitations of `email` (every one, or only `only`) into memberships of
    /// `user_id` (keeping a role they already have) and deletes them. Returns the projects
    /// joined.
    pub async fn accept_email_invites(
        &self,
        user_id: &UserId,
        email: String,
        only: Option<&InviteId>,
    ) -> Result<Vec<ProjectId>, StoreError> {
        let user_id = user_id.clone();
        let only = only.map(|id| id.as_str().to_owned());
        self.write(move |conn| {
            Box::pin(async move {
                let rows = sqlx::query(
                    "SELECT id, project_id, role FROM invites \
                     WHERE email = $1 AND revoked_at IS NULL AND ($2 IS NULL OR id = $3)",
                )
                .bind(&email)
                .bind(only.as_deref())
                .bind(only.as_deref())
                .fetch_all(&mut *conn)
                .await?;
                let mut joined = Vec::new();
                for row in &rows {
                    let id: String = row.try_get("id")?;
                    let project_id = ProjectId(row.try_get("project_id")?);
                    let role = role(row.try_get("role")?)?;
                    sqlx::query(
                        "INSERT INTO project_members (project_id, user_id, role, added_at) \
                         VALUES ($1, $2, $3, $4) ON CONFLICT (project_id, user_id) DO NOTHING",
                    )
                    .bind(project_id.as_str())
                    .bind(user_id.as_str())
                    .bind(role.as_str())
                    .bind(now_ms())
                    .execute(&mut *conn)
                    .await?;
                    sqlx::query("DELETE FROM invites WHERE id = $1")
                        .bind(&id)
                        .execute(&mut *conn)
                        .await?;
                    joined.push(project_id);
                }
                Ok(joined)
            })
        })
        .await
    }

    /// The pending invitations of `email`, newest first, with what the invited person is shown:
    /// the project's title and who invited them.
    pub async fn email_invites(&self, email: &str) -> Result<Vec<MyInvite>, StoreError> {
        let rows = sqlx::query(
            "SELECT i.id, i.project_id, p.title, i.role, u.display_name, i.created_at \
             FROM invites i JOIN projects p ON p.id = i.project_id \
             JOIN users u ON u.id = i.created_by \
             WHERE i.email = $1 AND i.revoked_at IS NULL ORDER BY i.created_at DESC, i.id",
        )
        .bind(email)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(MyInvite {
                    id: InviteId(row.try_get("id")?),
                    project_id: ProjectId(row.try_get("project_id")?),
                    project_title: row.try_get("title")?,
                    role: role(row.try_get("role")?)?,
                    invited_by: row.try_get("display_name")?,
                    created_at: row.try_get("created_at")?,
                })
            })
            .collect()
    }

    /// The pending invitation of `email` into `project_id`, if there is one.
    pub async fn email_invite_to(
        &self,
        project_id: &ProjectId,
        email: &str,
    ) -> Result<Option<InviteId>, StoreError> {
        let row = sqlx::query(
            "SELECT id FROM invites WHERE project_id = $1 AND email = $2 \
                 AND revoked_at IS NULL LIMIT 1",
        )
        .bind(project_id.as_str())
        .bind(email)
        .fetch_optional(self.pool())
        .await?;
        row.map(|row| Ok(InviteId(row.try_get("id")?))).transpose()
    }

    /// Gives an invitation by email a new link secret (it is sent again); the old link stops
    /// working.
    pub async fn set_invite_secret(
        &self,
        id: &InviteId,
        secret_hash: Vec<u8>,
    ) -> Result<(), StoreError> {
        let id = id.clone();
        self.write(move |conn| {
            Box::pin(async move {
                sqlx::query("UPDATE invites SET secret_hash = $1 WHERE id = $2")
                    .bind(secret_hash)
                    .bind(id.as_str())
                    .execute(&mut *conn)
                    .await?;
                Ok(())
            })
        })
        .await
    }

    /// Declines (deletes) the invitation `id` of `email`; false if there is no such invitation.
    pub async fn decline_email_invite(
        &self,
        id: &InviteId,
        email: String,
    ) -> Result<bool, StoreError> {
        let id = id.clone();
        self.write(move |conn| {
            Box::pin(async move {
                let n = sqlx::query(
                    "DELETE FROM invites WHERE id = $1 AND email = $2 AND revoked_at IS NULL",
                )
                .bind(id.as_str())
                .bind(&email)
                .execute(&mut *conn)
                .await?
                .rows_affected();
                Ok(n == 1)
            })
        })
        .await
    }

    /// Creates an item of a project and names its live document.
    pub async fn create_item(
        &self,
        id: &ItemId,
        project_id: &ProjectId,
        kind: ItemKind,
        title: String,
        doc_id: &DocId,
        by: &UserId,
    ) -> Result<(), StoreError> {
        let (id, project_id, doc_id, by) =
            (id.clone(), project_id.clone(), doc_id.clone(), by.clone());
        self.write(move |conn| {
            Box::pin(async move {
                let now = now_ms();
                sqlx::query(
                    "INSERT INTO items (id, project_id, kind, title, doc_id, created_by, \
                     created_at, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(id.as_str())
                .bind(project_id.as_str())
                .bind(kind.as_str())
                .bind(&title)
                .bind(doc_id.as_str())
                .bind(by.as_str())
                .bind(now)
                .bind(by.as_str())
                .bind(now)
                .execute(&mut *conn)
                .await
                .map_err(conflict("doc_id"))?;
                touch_project(conn, &project_id, now).await
            })
        })
        .await
    }

    pub async fn items(&self, project_id: &ProjectId) -> Result<Vec<ItemRecord>, StoreError> {
        let sql = concat!(item_select!(), " WHERE i.project_id = $1 ORDER BY i.created_at, i.id");
        let rows = sqlx::query(sql).bind(project_id.as_str()).fetch_all(self.pool()).await?;
        self.with_audience(rows.iter().map(item).collect::<Result<_, _>>()?).await
    }

    pub async fn item(&self, id: &ItemId) -> Result<Option<ItemRecord>, StoreError> {
        let sql = concat!(item_select!(), " WHERE i.id = $1");
        let row = sqlx::query(sql).bind(id.as_str()).fetch_optional(self.pool()).await?;
        let found = row.as_ref().map(item).transpose()?;
        Ok(self.with_audience(found.into_iter().collect()).await?.pop())
    }

    /// Reads the audience of the private items among `items`, in one query.
    async fn with_audience(
        &self,
        mut items: Vec<ItemRecord>,
    ) -> Result<Vec<ItemRecord>, StoreError> {
        let private: Vec<String> =
            items.iter().filter(|i| i.audience.is_some()).map(|i| i.id.0.clone()).collect();
        if private.is_empty() {
            return Ok(items);
        }
        let mut sql = Sql::new(
            "SELECT a.item_id, a.user_id, u.display_name FROM item_audience a \
             JOIN users u ON u.id = a.user_id WHERE a.item_id IN (",
        );
        sql.bind_list(private).push(") ORDER BY u.display_name");
        let rows = sql.build().fetch_all(self.pool()).await?;
        for row in &rows {
            let item_id: String = row.try_get(0)?;
            let person = (UserId(row.try_get(1)?), row.try_get(2)?);
            let audience = items.iter_mut().find(|i| i.id.as_str() == item_id);
            if let Some(audience) = audience.and_then(|i| i.audience.as_mut()) {
                audience.push(person);
            }
        }
        Ok(items)
    }

    /// Every item's document, item, project and audience (the workspace indexes them in memory).
    pub async fn item_docs(&self) -> Result<Vec<ItemDoc>, StoreError> {
        self.item_docs_where(None).await
    }

    /// [`Store::item_docs`] for one document: `None` when no live item holds it.
    pub async fn item_doc(&self, doc: &DocId) -> Result<Option<ItemDoc>, StoreError> {
        Ok(self.item_docs_where(Some(doc)).await?.pop())
    }

    async fn item_docs_where(&self, doc: Option<&DocId>) -> Result<Vec<ItemDoc>, StoreError> {
        let mut sql = Sql::new("SELECT i.doc_id, i.id, i.project_id, i.private, (SELECT ");
        sql.push(self.engine().string_agg("a.user_id", " ")).push(
            " FROM item_audience a WHERE a.item_id = i.id) FROM items i WHERE i.deleted_at IS NULL",
        );
        if let Some(doc) = doc {
            sql.push(" AND i.doc_id = ").bind(doc.as_str().to_owned());
        }
        let rows = sql.build().fetch_all(self.pool()).await?;
        rows.iter()
            .map(|row| {
                let raw: String = row.try_get(0)?;
                let doc = DocId::parse(&raw).map_err(|err| StoreError::Corrupt(err.to_string()))?;
                let ids: Option<String> = row.try_get(4)?;
                let audience = flag(row, 3)?.then(|| {
                    ids.unwrap_or_default()
                        .split(' ')
                        .filter(|id| !id.is_empty())
                        .map(|id| UserId(id.to_owned()))
                        .collect()
                });
                Ok((doc, ItemId(row.try_get(1)?), ProjectId(row.try_get(2)?), audience))
            })
            .collect()
    }

    /// Creates a coaching room and its notes document, both private to the two people, in one
    /// transaction.
    pub async fn create_coaching(
        &self,
        coaching: CoachingRecord,
        by: &UserId,
    ) -> Result<(), StoreError> {
        let by = by.clone();
        self.write(move |conn| {
            Box::pin(async move {
                let now = now_ms();
                let CoachingRecord { project_id, room, notes, audience } = coaching;
                for ((id, title, doc_id), kind, notes_id) in
                    [(&notes, ItemKind::Document, None), (&room, ItemKind::Room, Some(&notes.0))]
                {
                    sqlx::query(
                        "INSERT INTO items (id, project_id, kind, title, doc_id, created_by, \
                         created_at, updated_by, updated_at, private, notes_id) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, TRUE, $10)",
                    )
                    .bind(id.as_str())
                    .bind(project_id.as_str())
                    .bind(kind.as_str())
                    .bind(title)
                    .bind(doc_id.as_str())
                    .bind(by.as_str())
                    .bind(now)
                    .bind(by.as_str())
                    .bind(now)
                    .bind(notes_id.map(ItemId::as_str))
                    .execute(&mut *conn)
                    .await
                    .map_err(conflict("doc_id"))?;
                    for user in &audience {
                        sqlx::query("INSERT INTO item_audience (item_id, user_id) VALUES ($1, $2)")
                            .bind(id.as_str())
                            .bind(user.as_str())
                            .execute(&mut *conn)
                            .await?;
                    }
                }
                touch_project(conn, &project_id, now).await
            })
        })
        .await
    }

    /// Renames an item or moves it to another project, recording who did it.
    pub async fn update_item(
        &self,
        id: &ItemId,
        title: Option<String>,
        project_id: Option<ProjectId>,
        by: &UserId,
    ) -> Result<(), StoreError> {
        let (id, by) = (id.clone(), by.clone());
        self.write(move |conn| {
            Box::pin(async move {
                sqlx::query(
                    "UPDATE items SET title = COALESCE($1, title), \
                     project_id = COALESCE($2, project_id), updated_by = $3, updated_at = $4 \
                     WHERE id = $5",
                )
                .bind(title.as_deref())
                .bind(project_id.as_ref().map(ProjectId::as_str))
                .bind(by.as_str())
                .bind(now_ms())
                .bind(id.as_str())
                .execute(&mut *conn)
                .await?;
                Ok(())
            })
        })
        .await
    }

    /// Records that `by` changed the content of the item whose document is `doc_id`.
    pub async fn touch_item_doc(&self, doc_id: &DocId, by: &UserId) -> Result<(), StoreError> {
        let (doc_id, by) = (doc_id.clone(), by.clone());
        self.write(move |conn| {
            Box::pin(async move {
                sqlx::query("UPDATE items SET updated_by = $1, updated_at = $2 WHERE doc_id = $3")
                    .bind(by.as_str())
                    .bind(now_ms())
                    .bind(doc_id.as_str())
                    .execute(&mut *conn)
                    .await?;
                Ok(())
            })
        })
        .await
    }

    /// Records that `user` opened `item_id` now.
    pub async fn record_opened(&self, user: &UserId, item_id: &ItemId) -> Result<(), StoreError> {
        let (user, item_id) = (user.clone(), item_id.clone());
        self.write(move |conn| {
            Box::pin(async move {
                sqlx::query(
                    "INSERT INTO recent_items (user_id, item_id, opened_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (user_id, item_id) DO UPDATE SET opened_at = excluded.opened_at",
                )
                .bind(user.as_str())
                .bind(item_id.as_str())
                .bind(now_ms())
                .execute(&mut *conn)
                .await?;
                Ok(())
            })
        })
        .await
    }

    /// The items `user` opened, newest first.
    pub async fn recent_items(
        &self,
        user: &UserId,
        limit: i64,
    ) -> Result<Vec<ItemRecord>, StoreError> {
        let sql = concat!(
            item_select!(),
            " JOIN recent_items r ON r.item_id = i.id WHERE r.user_id = $1 \
             ORDER BY r.opened_at DESC, i.id LIMIT $2"
        );
        let rows = sqlx::query(sql).bind(user.as_str()).bind(limit).fetch_all(self.pool()).await?;
        self.with_audience(rows.iter().map(item).collect::<Result<_, _>>()?).await
    }

    /// Moves an item to its project's trash; false if it is not live.
    pub async fn trash_item(&self, id: &ItemId, by: &UserId) -> Result<bool, StoreError> {
        let (id, by) = (id.clone(), by.clone());
        self.write(move |conn| {
            Box::pin(async move {
                let n = sqlx::query(
                    "UPDATE items SET deleted_at = $1, deleted_by = $2 \
                     WHERE id = $3 AND deleted_at IS NULL",
                )
                .bind(now_ms())
                .bind(by.as_str())
                .bind(id.as_str())
                .execute(&mut *conn)
                .await?
                .rows_affected();
                Ok(n == 1)
            })
        })
        .await
    }

    /// An item in the trash, with its audience.
    pub async fn trashed_item(&self, id: &ItemId) -> Result<Option<ItemRecord>, StoreError> {
        let sql = concat!(item_select_any!(), " WHERE i.id = $1 AND i.deleted_at IS NOT NULL");
        let Some(row) = sqlx::query(sql).bind(id.as_str()).fetch_optional(self.pool()).await?
        else {
            return Ok(None);
        };
        Ok(self.with_audience(vec![item(&row)?]).await?.pop())
    }

    /// A project's trash, newest first: each item, when and by whom it was deleted.
    pub async fn trash(&self, project_id: &ProjectId) -> Result<Vec<TrashedRecord>, StoreError> {
        let sql = concat!(
            "SELECT ",
            item_columns!(),
            ", i.deleted_at, i.deleted_by, d.display_name AS deleted_by_name ",
            item_from!(),
            " LEFT JOIN users d ON d.id = i.deleted_by \
             WHERE i.project_id = $1 AND i.deleted_at IS NOT NULL ORDER BY i.deleted_at DESC, i.id"
        );
        let rows = sqlx::query(sql).bind(project_id.as_str()).fetch_all(self.pool()).await?;
        let items = self.with_audience(rows.iter().map(item).collect::<Result<_, _>>()?).await?;
        items
            .into_iter()
            .zip(&rows)
            .map(|(item, row)| {
                let by: Option<String> = row.try_get("deleted_by")?;
                let name: Option<String> = row.try_get("deleted_by_name")?;
                Ok(TrashedRecord {
                    deleted_at: row.try_get("deleted_at")?,
                    deleted_by: by.map(|id| (UserId(id), name.unwrap_or_default())),
                    item,
                })
            })
            .collect()
    }

    /// Takes an item out of the trash; false if it is not there.
    pub async fn restore_item(&self, id: &ItemId) -> Result<bool, StoreError> {
        let id = id.clone();
        self.write(move |conn| {
            Box::pin(async move {
                let n = sqlx::query(
                    "UPDATE items SET deleted_at = NULL, deleted_by = NULL \
                     WHERE id = $1 AND deleted_at IS NOT NULL",
                )
                .bind(id.as_str())
                .execute(&mut *conn)
                .await?
                .rows_affected();
                Ok(n == 1)
            })
        })
        .await
    }

    /// Purges the items of the trash deleted before `before` (in `project`, or everywhere),
    /// and those of `only` if given; returns how many.
    pub async fn purge_trash(
        &self,
        project: Option<&ProjectId>,
        before: i64,
        only: Option<&ItemId>,
    ) -> Result<u64, StoreError> {
        let (project, only) = (project.cloned(), only.cloned());
        self.write(move |conn| {
            Box::pin(async move {
                let n = sqlx::query(
                    "DELETE FROM items WHERE deleted_at IS NOT NULL AND deleted_at < $1 \
                     AND ($2 IS NULL OR project_id = $3) AND ($4 IS NULL OR id = $5)",
                )
                .bind(before)
                .bind(project.as_ref().map(ProjectId::as_str))
                .bind(project.as_ref().map(ProjectId::as_str))
                .bind(only.as_ref().map(ItemId::as_str))
                .bind(only.as_ref().map(ItemId::as_str))
                .execute(&mut *conn)
                .await?
                .rows_affected();
                Ok(n)
            })
        })
        .await
    }

    /// Moves an item's trash date (tests: a 30-day-old deletion without waiting 30 days).
    /// Nothing in the server calls it.
    pub async fn set_trashed_at(&self, id: &ItemId, at_ms: i64) -> Result<(), StoreError> {
        let id = id.clone();
        self.write(move |conn| {
            Box::pin(async move {
                sqlx::query(
                    "UPDATE items SET deleted_at = $1 WHERE id = $2 AND deleted_at IS NOT NULL",
                )
                .bind(at_ms)
                .bind(id.as_str())
                .execute(&mut *conn)
                .await?;
                Ok(())
            })
        })
        .await
    }

    /// Deletes an item. Its document's history stays in the log, unreachable.
    pub async fn delete_item(&self, id: &ItemId) -> Result<(), StoreError> {
        let id = id.clone();
        self.write(move |conn| {
            Box::pin(async move {
                sqlx::query("DELETE FROM items WHERE id = $1")
                    .bind(id.as_str())
                    .execute(&mut *conn)
                    .await?;
                Ok(())
            })
        })
        .await
    }
}

async fn insert_member(
    conn: &mut AnyConnection,
    project_id: &ProjectId,
    user_id: &UserId,
    role: ProjectRole,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO project_members (project_id, user_id, role, added_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(project_id.as_str())
    .bind(user_id.as_str())
    .bind(role.as_str())
    .bind(now_ms())
    .execute(&mut *conn)
    .await
    .map_err(conflict("member"))?;
    Ok(())
}

async fn set_hubs(
    conn: &mut AnyConnection,
    project_id: &ProjectId,
    hub_ids: &[HubId],
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM project_hubs WHERE project_id = $1")
        .bind(project_id.as_str())
        .execute(&mut *conn)
        .await?;
    for hub in hub_ids {
        sqlx::query(
            "INSERT INTO project_hubs (project_id, hub_id) VALUES ($1, $2) \
             ON CONFLICT (project_id, hub_id) DO NOTHING",
        )
        .bind(project_id.as_str())
        .bind(hub.as_str())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

async fn touch_project(
    conn: &mut AnyConnection,
    project_id: &ProjectId,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE projects SET updated_at = $1 WHERE id = $2")
        .bind(now)
        .bind(project_id.as_str())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

async fn project_docs(
    conn: &mut AnyConnection,
    project_id: &ProjectId,
) -> Result<Vec<DocId>, StoreError> {
    let rows = sqlx::query("SELECT doc_id FROM items WHERE project_id = $1")
        .bind(project_id.as_str())
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|row| {
            let raw: String = row.try_get(0)?;
            DocId::parse(&raw).map_err(|err| StoreError::Corrupt(err.to_string()))
        })
        .collect()
}

/// A pending invitation as stored.
#[derive(Debug, Clone)]
pub struct InviteRecord {
    pub id: InviteId,
    pub role: ProjectRole,
    pub email: Option<String>,
    pub expires_at: Option<i64>,
    pub max_uses: Option<i64>,
    pub uses: i64,
    pub created_at: i64,
}

/// What redeeming an invitation link did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redeemed {
    /// No such link.
    Unknown,
    /// An invitation sent to another address than the account's.
    OtherAddress,
    /// Revoked by someone who may invite (whoever was a member already stays one).
    Revoked,
    Expired,
    UsedUp,
    /// The person joined with the link's role.
    Joined(ProjectId, ProjectRole),
    /// The person was a member already and keeps their role; the link was not used up.
    AlreadyMember(ProjectId, ProjectRole),
}

impl Store {
    #[allow(clippy::too_many_arguments)]
    pub async fn create_link_invite(
        &self,
        id: &InviteId,
        project_id: &ProjectId,
        role: ProjectRole,
        secret_hash: Vec<u8>,
        expires_at: Option<i64>,
        max_uses: Option<i64>,
        by: &UserId,
    ) -> Result<(), StoreError> {
        let (id, project_id, by) = (id.clone(), project_id.clone(), by.clone());
        self.write(move |conn| {
            Box::pin(async move {
                sqlx::query(
                    "INSERT INTO invites (id, project_id, role, secret_hash, expires_at, max_uses, \
                     created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(id.as_str())
                .bind(project_id.as_str())
                .bind(role.as_str())
                .bind(&secret_hash)
                .bind(expires_at)
                .bind(max_uses)
                .bind(by.as_str())
                .bind(now_ms())
                .execute(&mut *conn)
                .await?;
                Ok(())
            })
        })
        .await
    }

    pub async fn project_invites(
        &self,
        project_id: &ProjectId,
    ) -> Result<Vec<InviteRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, role, email, expires_at, max_uses, uses, created_at FROM invites \
             WHERE project_id = $1 AND revoked_at IS NULL ORDER BY created_at, id",
        )
        .bind(project_id.as_str())
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(InviteRecord {
                    id: InviteId(row.try_get("id")?),
                    role: role(row.try_get("role")?)?,
                    email: row.try_get("email")?,
                    expires_at: row.try_get("expires_at")?,
                    max_uses: row.try_get("max_uses")?,
                    uses: row.try_get("uses")?,
                    created_at: row.try_get("created_at")?,
                })
            })
            .collect()
    }

    /// Revokes an invitation of a project; false if there is no such invitation.
    pub async fn delete_invite(
        &self,
        project_id: &ProjectId,
        id: &InviteId,
    ) -> Result<bool, StoreError> {
        let (project_id, id) = (project_id.clone(), id.clone());
        self.write(move |conn| {
            Box::pin(async move {
                // A link is kept, marked revoked, to say so to whoever opens it later; an
                // invitation by email goes.
                let marked = sqlx::query(
                    "UPDATE invites SET revoked_at = $1 WHERE id = $2 AND project_id = $3 \
                     AND secret_hash IS NOT NULL AND revoked_at IS NULL",
                )
                .bind(now_ms())
                .bind(id.as_str())
                .bind(project_id.as_str())
                .execute(&mut *conn)
                .await?
                .rows_affected();
                if marked == 1 {
                    return Ok(true);
                }
                let n = sqlx::query(
                    "DELETE FROM invites WHERE id = $1 AND project_id = $2 AND secret_hash IS NULL",
                )
                .bind(id.as_str())
                .bind(project_id.as_str())
                .execute(&mut *conn)
                .await?
                .rows_affected();
                Ok(n == 1)
            })
        })
        .await
    }

    /// Redeems an invitation link for `user_id`, checking its expiry and uses and counting the
    /// use in the same transaction, so two people racing for the last use cannot both get it.
    pub async fn redeem_link(
        &self,
        secret_hash: Vec<u8>,
        user_id: &UserId,
    ) -> Result<Redeemed, StoreError> {
        let user_id = user_id.clone();
        self.write(move |conn| {
            Box::pin(async move {
                let Some(row) = sqlx::query(
                    "SELECT id, project_id, role, email, expires_at, max_uses, uses, revoked_at \
                     FROM invites WHERE secret_hash = $1",
                )
                .bind(&secret_hash)
                .fetch_optional(&mut *conn)
                .await?
                else {
                    return Ok(Redeemed::Unknown);
                };
                let id: String = row.try_get("id")?;
                let project_id = ProjectId(row.try_get("project_id")?);
                let link_role = role(row.try_get("role")?)?;
                let expires_at: Option<i64> = row.try_get("expires_at")?;
                let max_uses: Option<i64> = row.try_get("max_uses")?;
                let uses: i64 = row.try_get("uses")?;
                // An invitation sent to an address is for the account with that address only;
                // opening its link (which only that inbox received) confirms the address.
                let invited: Option<String> = row.try_get("email")?;
                if let Some(invited) = &invited {
                    let mine: String = sqlx::query("SELECT email FROM users WHERE id = $1")
                        .bind(user_id.as_str())
                        .fetch_one(&mut *conn)
                        .await?
                        .try_get(0)?;
                    if mine != *invited {
                        return Ok(Redeemed::OtherAddress);
                    }
                    crate::account_tokens::confirm_address(conn, &user_id, invited).await?;
                }
                let existing = sqlx::query(
                    "SELECT role FROM project_members WHERE project_id = $1 AND user_id = $2",
                )
                .bind(project_id.as_str())
                .bind(user_id.as_str())
                .fetch_optional(&mut *conn)
                .await?;
                if let Some(existing) = existing {
                    return Ok(Redeemed::AlreadyMember(project_id, role(existing.try_get(0)?)?));
                }
                // A member keeps their way in whatever became of the link.
                if row.try_get::<Option<i64>, _>("revoked_at")?.is_some() {
                    return Ok(Redeemed::Revoked);
                }
                if expires_at.is_some_and(|at| at <= now_ms()) {
                    return Ok(Redeemed::Expired);
                }
                if max_uses.is_some_and(|max| uses >= max) {
                    return Ok(Redeemed::UsedUp);
                }
                insert_member(conn, &project_id, &user_id, link_role).await?;
                let done = if invited.is_some() {
                    "DELETE FROM invites WHERE id = $1"
                } else {
                    "UPDATE invites SET uses = uses + 1 WHERE id = $1"
                };
                sqlx::query(done).bind(&id).execute(&mut *conn).await?;
                Ok(Redeemed::Joined(project_id, link_role))
            })
        })
        .await
    }
}

impl Store {
    /// Moves an invitation's expiry to `at_ms`: lets a test see an expired link without waiting
    /// hours. Nothing in the server calls it.
    pub async fn set_invite_expiry(&self, id: &InviteId, at_ms: i64) -> Result<(), StoreError> {
        let id = id.clone();
        self.write(move |conn| {
            Box::pin(async move {
                sqlx::query("UPDATE invites SET expires_at = $1 WHERE id = $2")
                    .bind(at_ms)
                    .bind(id.as_str())
                    .execute(&mut *conn)
                    .await?;
                Ok(())
            })
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::store_tests;

    store_tests! {
        async fn expired_sessions_are_refused_then_swept(store: Store) {
            let user = UserId("u1".into());
            let new = NewUser {
                id: user.clone(),
                email: "a@b.example".into(),
                display_name: "A".into(),
                password_hash: "x".into(),
                is_admin: false,
                language: "en".into(),
            };
            let created = store.create_user(new, true).await.unwrap();
            assert!(created.is_admin, "the first account is the admin");
            store.create_login("old".into(), &user, vec![1], now_ms() - 1).await.unwrap();
            store.create_login("live".into(), &user, vec![2], now_ms() + 60_000).await.unwrap();
            assert!(store.login_user(&[1]).await.unwrap().is_none(), "expired is refused");
            assert_eq!(
                store.login_user(&[2]).await.unwrap().map(|(id, _)| id).as_deref(),
                Some("live")
            );
            assert_eq!(store.delete_expired_logins().await.unwrap(), 1);
            assert!(store.login_user(&[2]).await.unwrap().is_some(), "the live session stays");
        }
    }
}
