//! Rooms' chat: the lines people said, in the order the room kept them. Only the room writes
//! here (the server, once a participant has said a line), so no client can write, alter or
//! remove a line under another person's name.

use hubring_protocol::UserId;
use hubring_protocol::room::{ChatLine, ParticipantId};
use sqlx::Row;

use crate::{Store, StoreError};

/// Why a chat line was not kept.
#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    /// The room's document names no room (it was deleted while someone was speaking).
    #[error("no room has document {0}")]
    NoRoom(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Store {
    /// Keeps a line said in the room whose document is `room_doc`.
    pub async fn keep_chat_line(&self, room_doc: &str, line: ChatLine) -> Result<(), ChatError> {
        let room_doc = room_doc.to_owned();
        let doc = room_doc.clone();
        let kept = self
            .write(move |conn| {
                Box::pin(async move {
                    let done = sqlx::query(
                        "INSERT INTO room_chat (id, item_id, participant_id, user_id, name, body, \
                         said_at, breakout) \
                         SELECT $1, id, $2, $3, $4, $5, $6, $7 FROM items WHERE doc_id = $8 AND kind = 'room'",
                    )
                    .bind(&line.id)
                    .bind(&line.from.0)
                    .bind(line.user_id.as_ref().map(UserId::as_str))
                    .bind(&line.name)
                    .bind(&line.text)
                    .bind(i64::try_from(line.at).unwrap_or(i64::MAX))
                    .bind(line.breakout.map(i64::from))
                    .bind(&doc)
                    .execute(&mut *conn)
                    .await?;
                    Ok(done.rows_affected() == 1)
                })
            })
            .await?;
        if kept { Ok(()) } else { Err(ChatError::NoRoom(room_doc)) }
    }

    /// The last `limit` lines said in the room whose document is `room_doc`, in `breakout` (or
    /// the main room), oldest first.
    pub async fn recent_chat(
        &self,
        room_doc: &str,
        breakout: Option<u32>,
        limit: u32,
    ) -> Result<Vec<ChatLine>, StoreError> {
        // Two statements rather than `breakout IS ?`, which PostgreSQL does not accept.
        let rows = match breakout {
            None => {
                sqlx::query(
                    "SELECT c.id, c.participant_id, c.user_id, c.name, c.body, c.said_at, \
                     c.breakout FROM room_chat c JOIN items i ON i.id = c.item_id \
                     WHERE i.doc_id = $1 AND c.breakout IS NULL ORDER BY c.seq DESC LIMIT $2",
                )
                .bind(room_doc)
                .bind(i64::from(limit))
                .fetch_all(self.pool())
                .await?
            }
            Some(breakout) => {
                sqlx::query(
                    "SELECT c.id, c.participant_id, c.user_id, c.name, c.body, c.said_at, \
                     c.breakout FROM room_chat c JOIN items i ON i.id = c.item_id \
                     WHERE i.doc_id = $1 AND c.breakout = $2 ORDER BY c.seq DESC LIMIT $3",
                )
                .bind(room_doc)
                .bind(i64::from(breakout))
                .bind(i64::from(limit))
                .fetch_all(self.pool())
                .await?
            }
        };
        let mut lines = rows
            .iter()
            .map(|row| {
                let at: i64 = row.try_get("said_at")?;
                let breakout: Option<i64> = row.try_get("breakout")?;
                Ok(ChatLine {
                    id: row.try_get("id")?,
                    from: ParticipantId(row.try_get("participant_id")?),
                    user_id: row.try_get::<Option<String>, _>("user_id")?.map(UserId),
                    name: row.try_get("name")?,
                    text: row.try_get("body")?,
                    at: u64::try_from(at).unwrap_or(0),
                    breakout: breakout.and_then(|b| u32::try_from(b).ok()),
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        lines.reverse();
        Ok(lines)
    }
}
