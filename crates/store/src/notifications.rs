//! In-app notifications (the bell) and how each person wants each kind delivered.

use hubring_protocol::UserId;
use sqlx::Row;

use crate::{Store, StoreError, now_ms};

/// A notification as stored; `payload` is JSON the workspace reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationRecord {
    pub id: String,
    pub kind: String,
    pub payload: String,
    pub created_at: i64,
    pub read_at: Option<i64>,
}

/// Notifications kept per person: the oldest beyond it are deleted as new ones come.
const KEEP: i64 = 500;

impl Store {
    pub async fn add_notification(
        &self,
        user_id: &UserId,
        id: String,
        kind: &'static str,
        payload: String,
    ) -> Result<(), StoreError> {
        let user_id = user_id.clone();
        self.write(move |conn| {
            Box::pin(async move {
                sqlx::query(
                    "INSERT INTO notifications (id, user_id, kind, payload, created_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(id)
                .bind(user_id.as_str())
                .bind(kind)
                .bind(payload)
                .bind(now_ms())
                .execute(&mut *conn)
                .await?;
                sqlx::query(
                    "DELETE FROM notifications WHERE user_id = $1 AND id NOT IN \
                     (SELECT id FROM notifications WHERE user_id = $2 \
                      ORDER BY created_at DESC, id DESC LIMIT $3)",
                )
                .bind(user_id.as_str())
                .bind(user_id.as_str())
                .bind(KEEP)
                .execute(&mut *conn)
                .await?;
                Ok(())
            })
        })
        .await
    }

    /// A person's notifications, newest first, and how many are unread.
    pub async fn notifications(
        &self,
        user_id: &UserId,
        limit: i64,
    ) -> Result<(Vec<NotificationRecord>, i64), StoreError> {
        let rows = sqlx::query(
            "SELECT id, kind, payload, created_at, read_at FROM notifications \
             WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
        )
        .bind(user_id.as_str())
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        let list = rows
            .iter()
            .map(|row| {
                Ok(NotificationRecord {
                    id: row.try_get("id")?,
                    kind: row.try_get("kind")?,
                    payload: row.try_get("payload")?,
                    created_at: row.try_get("created_at")?,
                    read_at: row.try_get("read_at")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok((list, self.unread_notifications(user_id).await?))
    }

    pub async fn unread_notifications(&self, user_id: &UserId) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL",
        )
        .bind(user_id.as_str())
        .fetch_one(self.pool())
        .await?;
        Ok(row.try_get(0)?)
    }

    /// Marks notifications read: the given ones, or every one with `None`. Returns how many
    /// changed.
    pub async fn read_notifications(
        &self,
        user_id: &UserId,
        ids: Option<Vec<String>>,
    ) -> Result<u64, StoreError> {
        let user_id = user_id.clone();
        self.write(move |conn| {
            Box::pin(async move {
                let now = now_ms();
                let mut n = 0;
                match ids {
                    None => {
                        n = sqlx::query(
                            "UPDATE notifications SET read_at = $1 \
                             WHERE user_id = $2 AND read_at IS NULL",
                        )
                        .bind(now)
                        .bind(user_id.as_str())
                        .execute(&mut *conn)
                        .await?
                        .rows_affected();
                    }
                    Some(ids) => {
                        for id in ids {
                            n += sqlx::query(
                                "UPDATE notifications SET read_at = $1 \
                                 WHERE user_id = $2 AND id = $3 AND read_at IS NULL",
                            )
                            .bind(now)
                            .bind(user_id.as_str())
                            .bind(id)
                            .execute(&mut *conn)
                            .await?
                            .rows_affected();
                        }
                    }
                }
                Ok(n)
            })
        })
        .await
    }

    /// A person's chosen channel per kind (kinds without a row keep their default).
    pub async fn notification_prefs(
        &self,
        user_id: &UserId,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let rows = sqlx::query("SELECT kind, channel FROM notification_prefs WHERE user_id = $1")
            .bind(user_id.as_str())
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(|row| Ok((row.try_get("kind")?, row.try_get("channel")?))).collect()
    }

    pub async fn set_notification_pref(
        &self,
        user_id: &UserId,
        kind: &'static str,
        channel: &'static str,
    ) -> Result<(), StoreError> {
        let user_id = user_id.clone();
        self.write(move |conn| {
            Box::pin(async move {
                sqlx::query(
                    "INSERT INTO notification_prefs (user_id, kind, channel) VALUES ($1, $2, $3) \
                     ON CONFLICT (user_id, kind) DO UPDATE SET channel = excluded.channel",
                )
                .bind(user_id.as_str())
                .bind(kind)
                .bind(channel)
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
    use crate::account_tokens::{TokenPurpose, TokenUse};
    use crate::testing::store_tests;

    async fn user(store: &Store, name: &str) -> UserId {
        let new = crate::NewUser {
            id: UserId(format!("u-{name}")),
            email: format!("{name}@example.org"),
            display_name: name.into(),
            password_hash: "x".into(),
            is_admin: false,
            language: "en".into(),
        };
        store.create_user(new, false).await.unwrap().id
    }

    store_tests! {
        async fn notifications_are_listed_newest_first_and_read_once(store: Store) {
            let ana = user(&store, "ana").await;
            let ben = user(&store, "ben").await;
            for i in 0..3 {
                store.add_notification(&ana, format!("n{i}"), "mention", "{}".into()).await.unwrap();
            }
            store.add_notification(&ben, "b0".into(), "mention", "{}".into()).await.unwrap();
            let (list, unread) = store.notifications(&ana, 10).await.unwrap();
            assert_eq!(unread, 3);
            assert_eq!(list.len(), 3);
            assert_eq!(store.read_notifications(&ana, Some(vec!["n1".into(), "b0".into()])).await.unwrap(), 1);
            assert_eq!(store.unread_notifications(&ana).await.unwrap(), 2);
            assert_eq!(store.unread_notifications(&ben).await.unwrap(), 1, "not someone else's");
            assert_eq!(store.read_notifications(&ana, None).await.unwrap(), 2);
            assert_eq!(store.unread_notifications(&ana).await.unwrap(), 0);
            store.set_notification_pref(&ana, "mention", "app").await.unwrap();
            store.set_notification_pref(&ana, "mention", "none").await.unwrap();
            assert_eq!(store.notification_prefs(&ana).await.unwrap(), [("mention".into(), "none".into())]);
        }

        async fn an_account_link_works_once_and_confirms_the_address(store: Store) {
            let ana = user(&store, "ana").await;
            assert!(!store.user_by_id(&ana).await.unwrap().unwrap().email_confirmed);
            let far = now_ms() + 60_000;
            store.create_account_token(&ana, TokenPurpose::Reset, "ana@example.org".into(), vec![1], far).await.unwrap();
            // A newer link replaces the older one.
            store.create_account_token(&ana, TokenPurpose::Reset, "ana@example.org".into(), vec![2], far).await.unwrap();
            assert_eq!(store.use_account_token(TokenPurpose::Reset, vec![1]).await.unwrap(), TokenUse::Gone);
            assert_eq!(store.use_account_token(TokenPurpose::Confirm, vec![2]).await.unwrap(), TokenUse::Unknown);
            assert_eq!(
                store.use_account_token(TokenPurpose::Reset, vec![2]).await.unwrap(),
                TokenUse::Used { user_id: ana.clone(), email: "ana@example.org".into() }
            );
            assert_eq!(store.use_account_token(TokenPurpose::Reset, vec![2]).await.unwrap(), TokenUse::Gone);
            assert!(store.user_by_id(&ana).await.unwrap().unwrap().email_confirmed);
            store.create_account_token(&ana, TokenPurpose::Confirm, "ana@example.org".into(), vec![3], now_ms() - 1).await.unwrap();
            assert_eq!(store.use_account_token(TokenPurpose::Confirm, vec![3]).await.unwrap(), TokenUse::Gone, "expired");
        }

        async fn queued_mail_is_claimed_once_and_retried_until_sent(store: Store) {
            store.queue_mail("m1".into(), "a@example.org".into(), "reset", "{}".into()).await.unwrap();
            store.queue_mail("m2".into(), "b@example.org".into(), "reset", "{}".into()).await.unwrap();
            let first = store.claim_mail(10, 60_000).await.unwrap();
            assert_eq!(first.len(), 2);
            assert!(store.claim_mail(10, 60_000).await.unwrap().is_empty(), "leased");
            store.mail_sent("m1").await.unwrap();
            store.mail_failed("m2", "refused".into(), Some(0)).await.unwrap();
            let again = store.claim_mail(10, 60_000).await.unwrap();
            assert_eq!(again.iter().map(|m| (m.id.as_str(), m.attempts)).collect::<Vec<_>>(), [("m2", 1)]);
            store.mail_failed("m2", "refused".into(), None).await.unwrap();
            assert_eq!(store.outbox_counts().await.unwrap(), crate::OutboxCounts { waiting: 0, sent: 1, failed: 1, failed_attempts: 0 });
            assert_eq!(store.next_mail_due().await.unwrap(), None);
        }
    }
}
