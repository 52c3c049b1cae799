//! Comment threads on documents and boards: threads, their comments, who each comment
//! mentions and the reactions to it. Only the server writes here, after the caller's role
//! allowed the change; what the document shows of a thread is copied from these rows.

use std::collections::HashMap;

use hubring_protocol::{CommentId, ItemId, ThreadId, UserId};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Store, StoreError};

/// A thread as stored, with its comments oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadRecord {
    pub id: ThreadId,
    pub item_id: ItemId,
    pub created_by: Option<UserId>,
    pub created_at: i64,
    pub updated_at: i64,
    /// When and by whom it was resolved; `None` while open.
    pub resolved: Option<(i64, Option<UserId>)>,
    pub deleted_at: Option<i64>,
    /// The text it was anchored on, as it read then.
    pub quote: Option<String>,
    /// A board pin, as JSON.
    pub pin: Option<String>,
    pub comments: Vec<CommentRecord>,
}

/// One comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommentRecord {
    pub id: CommentId,
    pub author: Option<UserId>,
    /// BlockNote blocks as JSON; `None` once deleted.
    pub body: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted_at: Option<i64>,
    pub mentions: Vec<UserId>,
    /// `(who, emoji, when)`, oldest first.
    pub reactions: Vec<(UserId, String, i64)>,
}

/// A new thread and its first comment.
#[derive(Debug, Clone)]
pub struct NewThread {
    pub id: ThreadId,
    pub item_id: ItemId,
    pub pin: Option<String>,
    pub first: NewComment,
}

/// A new comment (or a comment's new text).
#[derive(Debug, Clone)]
pub struct NewComment {
    pub id: CommentId,
    pub author: UserId,
    pub body: String,
    pub mentions: Vec<UserId>,
    pub at: i64,
}

/// A change to a thread or a comment, each applied in one transaction that bumps the thread's
/// `updated_at`.
#[derive(Debug, Clone)]
pub enum ThreadChange {
    Reply(NewComment),
    Edit {
        comment: CommentId,
        body: String,
        mentions: Vec<UserId>,
    },
    /// Deletes a comment: kept as "deleted" (`soft`) or removed. A thread whose every comment
    /// is deleted is deleted with it.
    DeleteComment {
        comment: CommentId,
        soft: Softness,
    },
    Resolve {
        by: UserId,
    },
    Reopen,
    Delete,
    React {
        comment: CommentId,
        user: UserId,
        emoji: String,
    },
    Unreact {
        comment: CommentId,
        user: UserId,
        emoji: String,
    },
    Quote(String),
}

/// Whether a deleted comment leaves a "deleted" mark behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Softness {
    Soft,
    Hard,
}

// Spliced into queries with `AssertSqlSafe`: constants only, every value is bound.
const THREAD_COLUMNS: &str = "t.id, t.item_id, t.created_by, t.created_at, t.updated_at, \
     t.resolved_at, t.resolved_by, t.deleted_at, t.quote, t.pin";

impl Store {
    /// Creates a thread with its first comment.
    pub async fn create_thread(&self, thread: NewThread) -> Result<(), StoreError> {
        self.write(move |conn| {
            Box::pin(async move {
                let first = &thread.first;
                sqlx::query(
                    "INSERT INTO comment_threads (id, item_id, created_by, created_at, updated_at, pin) \
                     VALUES ($1, $2, $3, $4, $4, $5)",
                )
                .bind(thread.id.as_str())
                .bind(thread.item_id.as_str())
                .bind(first.author.as_str())
                .bind(first.at)
                .bind(thread.pin.as_deref())
                .execute(&mut *conn)
                .await
                .map_err(crate::workspace::conflict("thread"))?;
                insert_comment(conn, &thread.id, first).await
            })
        })
        .await
    }

    /// Applies `change` to the thread; `false` when the thread (or the comment it names) is not
    /// there or, except for `Delete`, was deleted.
    pub async fn change_thread(
        &self,
        thread: &ThreadId,
        change: ThreadChange,
        now: i64,
    ) -> Result<bool, StoreError> {
        let thread = thread.clone();
        self.write(move |conn| {
            Box::pin(async move {
                let live = sqlx::query(
                    "SELECT deleted_at FROM comment_threads WHERE id = $1",
                )
                .bind(thread.as_str())
                .fetch_optional(&mut *conn)
                .await?;
                let Some(live) = live else { return Ok(false) };
                if live.try_get::<Option<i64>, _>("deleted_at")?.is_some() {
                    return Ok(false);
                }
                let t = thread.as_str();
                let done = match &change {
                    ThreadChange::Reply(comment) => {
                        insert_comment(conn, &thread, comment).await?;
                        1
                    }
                    ThreadChange::Edit { comment, body, mentions } => {
                        let n = sqlx::query(
                            "UPDATE comments SET body = $1, updated_at = $2 \
                             WHERE id = $3 AND thread_id = $4 AND deleted_at IS NULL",
                        )
                        .bind(body)
                        .bind(now)
                        .bind(comment.as_str())
                        .bind(t)
                        .execute(&mut *conn)
                        .await?
                        .rows_affected();
                        if n == 1 {
                            sqlx::query("DELETE FROM comment_mentions WHERE comment_id = $1")
                                .bind(comment.as_str())
                                .execute(&mut *conn)
                                .await?;
                            insert_mentions(conn, comment, mentions).await?;
                        }
                        n
                    }
                    ThreadChange::DeleteComment { comment, soft } => {
                        let n = match soft {
                            Softness::Soft => sqlx::query(
                                "UPDATE comments SET body = NULL, deleted_at = $1, updated_at = $1 \
                                 WHERE id = $2 AND thread_id = $3 AND deleted_at IS NULL",
                            )
                            .bind(now)
                            .bind(comment.as_str())
                            .bind(t)
                            .execute(&mut *conn)
                            .await?
                            .rows_affected(),
                            Softness::Hard => sqlx::query(
                                "DELETE FROM comments WHERE id = $1 AND thread_id = $2",
                            )
                            .bind(comment.as_str())
                            .bind(t)
                            .execute(&mut *conn)
                            .await?
                            .rows_affected(),
                        };
                        let left: i64 = sqlx::query(
                            "SELECT COUNT(*) FROM comments WHERE thread_id = $1 AND deleted_at IS NULL",
                        )
                        .bind(t)
                        .fetch_one(&mut *conn)
                        .await?
                        .try_get(0)?;
                        if n == 1 && left == 0 {
                            sqlx::query("UPDATE comment_threads SET deleted_at = $1 WHERE id = $2")
                                .bind(now)
                                .bind(t)
                                .execute(&mut *conn)
                                .await?;
                        }
                        n
                    }
                    ThreadChange::Resolve { by } => sqlx::query(
                        "UPDATE comment_threads SET resolved_at = $1, resolved_by = $2 WHERE id = $3",
                    )
                    .bind(now)
                    .bind(by.as_str())
                    .bind(t)
                    .execute(&mut *conn)
                    .await?
                    .rows_affected(),
                    ThreadChange::Reopen => sqlx::query(
                        "UPDATE comment_threads SET resolved_at = NULL, resolved_by = NULL WHERE id = $1",
                    )
                    .bind(t)
                    .execute(&mut *conn)
                    .await?
                    .rows_affected(),
                    ThreadChange::Delete => sqlx::query(
                        "UPDATE comment_threads SET deleted_at = $1 WHERE id = $2",
                    )
                    .bind(now)
                    .bind(t)
                    .execute(&mut *conn)
                    .await?
                    .rows_affected(),
                    ThreadChange::React { comment, user, emoji } => sqlx::query(
                        "INSERT INTO comment_reactions (comment_id, user_id, emoji, created_at) \
                         SELECT id, $1, $2, $3 FROM comments \
                         WHERE id = $4 AND thread_id = $5 AND deleted_at IS NULL \
                         ON CONFLICT (comment_id, user_id, emoji) DO NOTHING",
                    )
                    .bind(user.as_str())
                    .bind(emoji)
                    .bind(now)
                    .bind(comment.as_str())
                    .bind(t)
                    .execute(&mut *conn)
                    .await
                    .map(|_| 1)?,
                    ThreadChange::Unreact { comment, user, emoji } => sqlx::query(
                        "DELETE FROM comment_reactions WHERE comment_id = $1 AND user_id = $2 \
                         AND emoji = $3 AND comment_id IN (SELECT id FROM comments WHERE thread_id = $4)",
                    )
                    .bind(comment.as_str())
                    .bind(user.as_str())
                    .bind(emoji)
                    .bind(t)
                    .execute(&mut *conn)
                    .await
                    .map(|_| 1)?,
                    ThreadChange::Quote(quote) => sqlx::query(
                        "UPDATE comment_threads SET quote = $1 WHERE id = $2",
                    )
                    .bind(quote)
                    .bind(t)
                    .execute(&mut *conn)
                    .await?
                    .rows_affected(),
                };
                if done == 0 {
                    return Ok(false);
                }
                sqlx::query("UPDATE comment_threads SET updated_at = $1 WHERE id = $2")
                    .bind(now)
                    .bind(t)
                    .execute(&mut *conn)
                    .await?;
                Ok(true)
            })
        })
        .await
    }

    /// One thread with its comments, deleted or not.
    pub async fn thread(&self, thread: &ThreadId) -> Result<Option<ThreadRecord>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {THREAD_COLUMNS} FROM comment_threads t WHERE t.id = $1"
        )))
        .bind(thread.as_str())
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let mut threads = vec![thread_from(&row)?];
        self.fill_comments(&mut threads, "c.thread_id = $1", thread.as_str()).await?;
        Ok(threads.pop())
    }

    /// Every thread of an item (deleted ones included, for the document's copy to drop them),
    /// oldest first.
    pub async fn threads(&self, item: &ItemId) -> Result<Vec<ThreadRecord>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {THREAD_COLUMNS} FROM comment_threads t WHERE t.item_id = $1 \
             ORDER BY t.created_at, t.id"
        )))
        .bind(item.as_str())
        .fetch_all(self.pool())
        .await?;
        let mut threads = rows.iter().map(thread_from).collect::<Result<Vec<_>, _>>()?;
        self.fill_comments(
            &mut threads,
            "c.thread_id IN (SELECT id FROM comment_threads WHERE item_id = $1)",
            item.as_str(),
        )
        .await?;
        Ok(threads)
    }

    /// Reads the comments, mentions and reactions of `threads` (selected by `filter` on
    /// `comments c` with `$1 = key`) into them.
    async fn fill_comments(
        &self,
        threads: &mut [ThreadRecord],
        filter: &str,
        key: &str,
    ) -> Result<(), StoreError> {
        let comments = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT c.id, c.thread_id, c.author, c.body, c.created_at, c.updated_at, c.deleted_at \
             FROM comments c WHERE {filter} ORDER BY c.seq"
        )))
        .bind(key)
        .fetch_all(self.pool())
        .await?;
        let mentions = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT m.comment_id, m.user_id FROM comment_mentions m JOIN comments c ON c.id = m.comment_id \
             WHERE {filter} ORDER BY m.user_id"
        )))
        .bind(key)
        .fetch_all(self.pool())
        .await?;
        let reactions = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT r.comment_id, r.user_id, r.emoji, r.created_at FROM comment_reactions r \
             JOIN comments c ON c.id = r.comment_id WHERE {filter} ORDER BY r.created_at, r.user_id"
        )))
        .bind(key)
        .fetch_all(self.pool())
        .await?;
        let mut by_comment: HashMap<String, CommentRecord> = HashMap::new();
        let mut order: Vec<(String, String)> = Vec::new();
        for row in &comments {
            let id: String = row.try_get("id")?;
            order.push((row.try_get("thread_id")?, id.clone()));
            by_comment.insert(
                id.clone(),
                CommentRecord {
                    id: CommentId(id),
                    author: row.try_get::<Option<String>, _>("author")?.map(UserId),
                    body: row.try_get("body")?,
                    created_at: row.try_get("created_at")?,
                    updated_at: row.try_get("updated_at")?,
                    deleted_at: row.try_get("deleted_at")?,
                    mentions: Vec::new(),
                    reactions: Vec::new(),
                },
            );
        }
        for row in &mentions {
            let id: String = row.try_get("comment_id")?;
            if let Some(c) = by_comment.get_mut(&id) {
                c.mentions.push(UserId(row.try_get("user_id")?));
            }
        }
        for row in &reactions {
            let id: String = row.try_get("comment_id")?;
            if let Some(c) = by_comment.get_mut(&id) {
                c.reactions.push((
                    UserId(row.try_get("user_id")?),
                    row.try_get("emoji")?,
                    row.try_get("created_at")?,
                ));
            }
        }
        let index: HashMap<String, usize> =
            threads.iter().enumerate().map(|(i, t)| (t.id.0.clone(), i)).collect();
        for (thread, comment) in order {
            if let (Some(&i), Some(c)) = (index.get(&thread), by_comment.remove(&comment)) {
                threads[i].comments.push(c);
            }
        }
        Ok(())
    }
}

async fn insert_comment(
    conn: &mut sqlx::AnyConnection,
    thread: &ThreadId,
    comment: &NewComment,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO comments (id, thread_id, author, body, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $5)",
    )
    .bind(comment.id.as_str())
    .bind(thread.as_str())
    .bind(comment.author.as_str())
    .bind(&comment.body)
    .bind(comment.at)
    .execute(&mut *conn)
    .await
    .map_err(crate::workspace::conflict("comment"))?;
    insert_mentions(conn, &comment.id, &comment.mentions).await
}

async fn insert_mentions(
    conn: &mut sqlx::AnyConnection,
    comment: &CommentId,
    mentions: &[UserId],
) -> Result<(), StoreError> {
    for user in mentions {
        sqlx::query(
            "INSERT INTO comment_mentions (comment_id, user_id) VALUES ($1, $2) \
             ON CONFLICT (comment_id, user_id) DO NOTHING",
        )
        .bind(comment.as_str())
        .bind(user.as_str())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

fn thread_from(row: &AnyRow) -> Result<ThreadRecord, StoreError> {
    let resolved_at: Option<i64> = row.try_get("resolved_at")?;
    let resolved_by = row.try_get::<Option<String>, _>("resolved_by")?.map(UserId);
    Ok(ThreadRecord {
        id: ThreadId(row.try_get("id")?),
        item_id: ItemId(row.try_get("item_id")?),
        created_by: row.try_get::<Option<String>, _>("created_by")?.map(UserId),
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        resolved: resolved_at.map(|at| (at, resolved_by)),
        deleted_at: row.try_get("deleted_at")?,
        quote: row.try_get("quote")?,
        pin: row.try_get("pin")?,
        comments: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::store_tests;
    use crate::{NewUser, now_ms};
    use hubring_protocol::api::{ItemKind, Visibility};
    use hubring_protocol::{DocId, ProjectId};

    async fn item_with_users(store: &Store) -> (ItemId, UserId, UserId) {
        let mut users = Vec::new();
        for name in ["ana", "ben"] {
            let new = NewUser {
                id: UserId(format!("u-{name}")),
                email: format!("{name}@example.org"),
                display_name: name.into(),
                password_hash: "x".into(),
                is_admin: false,
                language: "en".into(),
            };
            users.push(store.create_user(new, false).await.unwrap().id);
        }
        let project = ProjectId("p1".into());
        store
            .create_project(
                &project,
                &users[0],
                "P".into(),
                String::new(),
                Visibility::Private,
                vec![],
            )
            .await
            .unwrap();
        let item = ItemId("i1".into());
        let doc = DocId::parse("doc-i1").unwrap();
        store
            .create_item(&item, &project, ItemKind::Document, "D".into(), &doc, &users[0])
            .await
            .unwrap();
        let ben = users.pop().unwrap();
        (item, users.pop().unwrap(), ben)
    }

    store_tests! {
        async fn a_thread_keeps_its_comments_mentions_and_reactions(store: Store) {
            let (item, ana, ben) = item_with_users(&store).await;
            let t = ThreadId("t1".into());
            store.create_thread(NewThread {
                id: t.clone(),
                item_id: item.clone(),
                pin: None,
                first: NewComment { id: CommentId("c1".into()), author: ana.clone(), body: "[1]".into(), mentions: vec![ben.clone()], at: 10 },
            }).await.unwrap();
            let reply = NewComment { id: CommentId("c2".into()), author: ben.clone(), body: "[2]".into(), mentions: vec![], at: 20 };
            assert!(store.change_thread(&t, ThreadChange::Reply(reply), 20).await.unwrap());
            let react = ThreadChange::React { comment: CommentId("c1".into()), user: ben.clone(), emoji: "👍".into() };
            assert!(store.change_thread(&t, react.clone(), 30).await.unwrap());
            assert!(store.change_thread(&t, react, 31).await.unwrap(), "reacting twice is one reaction");
            assert!(store.change_thread(&t, ThreadChange::Resolve { by: ana.clone() }, 40).await.unwrap());
            let thread = store.thread(&t).await.unwrap().unwrap();
            assert_eq!(thread.comments.len(), 2);
            assert_eq!(thread.comments[0].mentions, vec![ben.clone()]);
            assert_eq!(thread.comments[0].reactions, vec![(ben.clone(), "👍".to_owned(), 30)]);
            assert_eq!(thread.resolved, Some((40, Some(ana.clone()))));
            assert_eq!(thread.updated_at, 40);
            assert!(store.change_thread(&t, ThreadChange::Reopen, 50).await.unwrap());
            // Deleting both comments deletes the thread; a deleted thread takes no change.
            for c in ["c1", "c2"] {
                let del = ThreadChange::DeleteComment { comment: CommentId(c.into()), soft: Softness::Soft };
                assert!(store.change_thread(&t, del, now_ms()).await.unwrap());
            }
            let thread = store.thread(&t).await.unwrap().unwrap();
            assert!(thread.deleted_at.is_some());
            assert_eq!(thread.comments[0].body, None);
            assert!(!store.change_thread(&t, ThreadChange::Reopen, 60).await.unwrap());
            assert_eq!(store.threads(&item).await.unwrap().len(), 1);
            assert!(!store.change_thread(&ThreadId("nope".into()), ThreadChange::Delete, 1).await.unwrap());
        }
    }
}
