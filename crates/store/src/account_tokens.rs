//! Single-use links sent by email (a password reset, an address confirmation), the state of an
//! account's address, its language and its unsubscribe secret. Secrets are stored as hashes;
//! what a link may do is decided by `hubring-workspace`.

use hubring_protocol::UserId;
use sqlx::{AnyConnection, Row};

use crate::{Store, StoreError, now_ms};

/// What a single-use link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenPurpose {
    /// Sets a new password (and confirms the address it was sent to).
    Reset,
    /// Confirms the address it was sent to.
    Confirm,
}

impl TokenPurpose {
    fn as_str(self) -> &'static str {
        match self {
            Self::Reset => "reset",
            Self::Confirm => "confirm",
        }
    }
}

/// What using a link found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenUse {
    /// No such link (or one for another purpose).
    Unknown,
    /// Used before, or past its expiry: gone for good.
    Gone,
    /// Used now: whose it is and the address it was sent to.
    Used { user_id: UserId, email: String },
}

/// Marks `user_id`'s address confirmed, if it is still `email` and was not confirmed before:
/// opening a link sent to the address (a confirmation, a reset, an invitation) proves it.
pub(crate) async fn confirm_address(
    conn: &mut AnyConnection,
    user_id: &UserId,
    email: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE users SET email_confirmed_at = $1 \
         WHERE id = $2 AND email = $3 AND email_confirmed_at IS NULL",
    )
    .bind(now_ms())
    .bind(user_id.as_str())
    .bind(email)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

impl Store {
    /// Records a link; earlier unused links of the same account and purpose stop working, so
    /// only the newest email's link does.
    pub async fn create_account_token(
        &self,
        user_id: &UserId,
        purpose: TokenPurpose,
        email: String,
        secret_hash: Vec<u8>,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        let user_id = user_id.clone();
        self.write(move |conn| {
            Box::pin(async move {
                let now = now_ms();
                sqlx::query(
                    "UPDATE account_tokens SET used_at = $1 \
                     WHERE user_id = $2 AND purpose = $3 AND used_at IS NULL",
                )
                .bind(now)
                .bind(user_id.as_str())
                .bind(purpose.as_str())
                .execute(&mut *conn)
                .await?;
                sqlx::query(
                    "INSERT INTO account_tokens \
                     (secret_hash, user_id, purpose, email, created_at, expires_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(secret_hash)
                .bind(user_id.as_str())
                .bind(purpose.as_str())
                .bind(email)
                .bind(now)
                .bind(expires_at)
                .execute(&mut *conn)
                .await?;
                Ok(())
            })
        })
        .await
    }

    /// Uses a link once: marks it used and, as opening it proves the address is theirs, confirms
    /// the address when it is still the account's. A second use finds it [`TokenUse::Gone`].
    pub async fn use_account_token(
        &self,
        purpose: TokenPurpose,
        secret_hash: Vec<u8>,
    ) -> Result<TokenUse, StoreError> {
        self.write(move |conn| {
            Box::pin(async move {
                let now = now_ms();
                let row = sqlx::query(
                    "SELECT user_id, email, expires_at, used_at FROM account_tokens \
                     WHERE secret_hash = $1 AND purpose = $2",
                )
                .bind(secret_hash.as_slice())
                .bind(purpose.as_str())
                .fetch_optional(&mut *conn)
                .await?;
                let Some(row) = row else { return Ok(TokenUse::Unknown) };
                let used_at: Option<i64> = row.try_get("used_at")?;
                let expires_at: i64 = row.try_get("expires_at")?;
                if used_at.is_some() || expires_at <= now {
                    return Ok(TokenUse::Gone);
                }
                let user_id = UserId(row.try_get("user_id")?);
                let email: String = row.try_get("email")?;
                sqlx::query("UPDATE account_tokens SET used_at = $1 WHERE secret_hash = $2")
                    .bind(now)
                    .bind(secret_hash.as_slice())
                    .execute(&mut *conn)
                    .await?;
                confirm_address(conn, &user_id, &email).await?;
                Ok(TokenUse::Used { user_id, email })
            })
        })
        .await
    }

    /// The account's unsubscribe secret, made on first use (`fresh` is stored if there is
    /// none yet): a read, and a write only the first time.
    pub async fn mail_secret(&self, user_id: &UserId, fresh: String) -> Result<String, StoreError> {
        let row = sqlx::query("SELECT mail_secret FROM users WHERE id = $1")
            .bind(user_id.as_str())
            .fetch_optional(self.pool())
            .await?;
        if let Some(secret) = row.and_then(|r| r.try_get::<Option<String>, _>(0).ok().flatten()) {
            return Ok(secret);
        }
        let user_id = user_id.clone();
        self.write(move |conn| {
            Box::pin(async move {
                sqlx::query(
                    "UPDATE users SET mail_secret = $1 WHERE id = $2 AND mail_secret IS NULL",
                )
                .bind(fresh.as_str())
                .bind(user_id.as_str())
                .execute(&mut *conn)
                .await?;
                let row = sqlx::query("SELECT mail_secret FROM users WHERE id = $1")
                    .bind(user_id.as_str())
                    .fetch_one(&mut *conn)
                    .await?;
                Ok(row.try_get::<Option<String>, _>("mail_secret")?.unwrap_or_default())
            })
        })
        .await
    }

    /// Whose unsubscribe secret this is.
    pub async fn user_by_mail_secret(&self, secret: &str) -> Result<Option<UserId>, StoreError> {
        let row = sqlx::query("SELECT id FROM users WHERE mail_secret = $1")
            .bind(secret)
            .fetch_optional(self.pool())
            .await?;
        row.map(|row| Ok(UserId(row.try_get("id")?))).transpose()
    }
}
