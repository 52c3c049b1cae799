//! The mail outbox: emails waiting to leave, claimed and sent by the server's mail worker.
//! A claim moves a row's `next_attempt_at` forward by a lease, so two workers (two nodes) never
//! send the same email at once, and a worker that dies mid-send leaves the row to be tried again
//! when the lease ends: delivery is at least once, never lost.

use sqlx::Row;

use crate::{Store, StoreError, now_ms};

/// An email as queued. `body` is the message as JSON (the workspace's `MailBody`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMail {
    pub id: String,
    pub to_addr: String,
    pub kind: String,
    pub body: String,
    pub attempts: i64,
}

/// How the outbox stands, for the admin's view and `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxCounts {
    pub waiting: i64,
    pub sent: i64,
    /// Given up on.
    pub failed: i64,
    /// Failed attempts of the emails still waiting (how hard the SMTP server is refusing).
    pub failed_attempts: i64,
}

impl Store {
    /// Queues an email, to be sent from now on.
    pub async fn queue_mail(
        &self,
        id: String,
        to_addr: String,
        kind: &'static str,
        body: String,
    ) -> Result<(), StoreError> {
        self.write(move |conn| {
            Box::pin(async move {
                let now = now_ms();
                sqlx::query(
                    "INSERT INTO mail_outbox (id, to_addr, kind, body, created_at, next_attempt_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(id)
                .bind(to_addr)
                .bind(kind)
                .bind(body)
                .bind(now)
                .bind(now)
                .execute(&mut *conn)
                .await?;
                Ok(())
            })
        })
        .await
    }

    /// Claims up to `limit` emails that are due, oldest first, for `lease_ms`: nobody else
    /// claims them until then.
    pub async fn claim_mail(
        &self,
        limit: i64,
        lease_ms: i64,
    ) -> Result<Vec<OutboxMail>, StoreError> {
        self.write(move |conn| {
            Box::pin(async move {
                let now = now_ms();
                let rows = sqlx::query(
                    "SELECT id, to_addr, kind, body, attempts FROM mail_outbox \
                     WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $1 \
                     ORDER BY next_attempt_at, id LIMIT $2",
                )
                .bind(now)
                .bind(limit)
                .fetch_all(&mut *conn)
                .await?;
                let mut claimed = Vec::with_capacity(rows.len());
                for row in &rows {
                    let id: String = row.try_get("id")?;
                    // The writer is single per store; on PostgreSQL two nodes' writers race,
                    // and the `next_attempt_at <= now` guard lets only one of them win a row.
                    let done = sqlx::query(
                        "UPDATE mail_outbox SET next_attempt_at = $1 \
                         WHERE id = $2 AND sent_at IS NULL AND next_attempt_at <= $3",
                    )
                    .bind(now + lease_ms)
                    .bind(id.as_str())
                    .bind(now)
                    .execute(&mut *conn)
                    .await?;
                    if done.rows_affected() == 1 {
                        claimed.push(OutboxMail {
                            id,
                            to_addr: row.try_get("to_addr")?,
                            kind: row.try_get("kind")?,
                            body: row.try_get("body")?,
                            attempts: row.try_get::<i64, _>("attempts")?,
                        });
                    }
                }
                Ok(claimed)
            })
        })
        .await
    }

    pub async fn mail_sent(&self, id: &str) -> Result<(), StoreError> {
        let id = id.to_owned();
        self.write(move |conn| {
            Box::pin(async move {
                sqlx::query(
                    "UPDATE mail_outbox SET sent_at = $1, attempts = attempts + 1, \
                     last_error = NULL WHERE id = $2",
                )
                .bind(now_ms())
                .bind(id.as_str())
                .execute(&mut *conn)
                .await?;
                Ok(())
            })
        })
        .await
    }

    /// Records a failed attempt: tried again at `retry_at`, or given up on with `None`.
    pub async fn mail_failed(
        &self,
        id: &str,
        error: String,
        retry_at: Option<i64>,
    ) -> Result<(), StoreError> {
        let id = id.to_owned();
        self.write(move |conn| {
            Box::pin(async move {
                let now = now_ms();
                sqlx::query(
                    "UPDATE mail_outbox SET attempts = attempts + 1, last_error = $1, \
                     next_attempt_at = $2, failed_at = $3 WHERE id = $4",
                )
                .bind(error)
                .bind(retry_at.unwrap_or(now))
                .bind(if retry_at.is_none() { Some(now) } else { None })
                .bind(id.as_str())
                .execute(&mut *conn)
                .await?;
                Ok(())
            })
        })
        .await
    }

    /// When the next waiting email is due, if any is waiting.
    pub async fn next_mail_due(&self) -> Result<Option<i64>, StoreError> {
        let row = sqlx::query(
            "SELECT MIN(next_attempt_at) FROM mail_outbox WHERE sent_at IS NULL AND failed_at IS NULL",
        )
        .fetch_one(self.pool())
        .await?;
        Ok(row.try_get::<Option<i64>, _>(0)?)
    }

    pub async fn outbox_counts(&self) -> Result<OutboxCounts, StoreError> {
        let row = sqlx::query(
            "SELECT \
             COALESCE(SUM(CASE WHEN sent_at IS NULL AND failed_at IS NULL THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN sent_at IS NOT NULL THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN failed_at IS NOT NULL THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN sent_at IS NULL AND failed_at IS NULL THEN attempts ELSE 0 END), 0) \
             FROM mail_outbox",
        )
        .fetch_one(self.pool())
        .await?;
        Ok(OutboxCounts {
            waiting: row.try_get(0)?,
            sent: row.try_get(1)?,
            failed: row.try_get(2)?,
            failed_attempts: row.try_get(3)?,
        })
    }
}
