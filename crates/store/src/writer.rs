//! The single writer: every write of the store passes through here, so SQLite never sees two
//! writers, and whatever queues up while a commit runs becomes the next commit (group commit).
//! On PostgreSQL each node has its own writer; what keeps nodes apart is in the SQL (a unique
//! sequence per document, an advisory lock around workspace jobs).

use futures_util::future::BoxFuture;
use hubring_protocol::DocId;
use sqlx::{AnyConnection, AnyPool, Connection};
use tokio::sync::{mpsc, oneshot};

use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::{Counters, Engine, StoreError, now_ms};

pub(crate) type Done = oneshot::Sender<Result<(), StoreError>>;

/// A write of the workspace's records: runs on the writer's connection, inside a transaction the
/// job itself opens through [`crate::Store::write`], and reports through its own channel.
pub(crate) type Job =
    Box<dyn for<'c> FnOnce(&'c mut AnyConnection) -> BoxFuture<'c, ()> + Send + Sync>;

pub(crate) enum WriteReq {
    Append { doc: DocId, first_seq: i64, updates: Vec<Vec<u8>>, done: Done },
    Compact { doc: DocId, up_to_seq: i64, snapshot: Vec<u8>, done: Done },
    Job(Job),
}

impl std::fmt::Debug for WriteReq {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Append { doc, first_seq, updates, .. } => f
                .debug_struct("Append")
                .field("doc", doc)
                .field("first_seq", first_seq)
                .field("n_updates", &updates.len())
                .finish(),
            Self::Compact { doc, up_to_seq, .. } => {
                f.debug_struct("Compact").field("doc", doc).field("up_to_seq", up_to_seq).finish()
            }
            Self::Job(_) => f.write_str("Job"),
        }
    }
}

/// Runs until every [`crate::Store`] handle is dropped. Each batch takes a connection from the
/// pool, so a connection the database dropped (a PostgreSQL restart) is replaced, not reused.
pub(crate) async fn run(
    pool: AnyPool,
    _engine: Engine,
    mut rx: mpsc::Receiver<WriteReq>,
    max_batch: usize,
    counters: Arc<Counters>,
) {
    let mut batch = Vec::with_capacity(max_batch);
    while rx.recv_many(&mut batch, max_batch).await > 0 {
        let mut conn = match pool.acquire().await {
            Ok(conn) => conn,
            Err(err) => {
                tracing::warn!(%err, "no database connection for the writer");
                for req in batch.drain(..) {
                    fail(req, &err);
                }
                continue;
            }
        };
        let (appends, others): (Vec<_>, Vec<_>) =
            batch.drain(..).partition(|req| matches!(req, WriteReq::Append { .. }));
        commit_appends(&mut conn, appends, &counters).await;
        for req in others {
            match req {
                WriteReq::Compact { doc, up_to_seq, snapshot, done } => {
                    let result = compact(&mut conn, &doc, up_to_seq, &snapshot).await;
                    let _ = done.send(result);
                }
                WriteReq::Job(job) => job(&mut conn).await,
                WriteReq::Append { .. } => unreachable!("partitioned out"),
            }
        }
    }
    pool.close().await;
}

/// Answers a request that could not run: appends and compactions get the error; a job's own
/// channel closes unanswered, which its caller reads as [`StoreError::Closed`].
fn fail(req: WriteReq, err: &sqlx::Error) {
    match req {
        WriteReq::Append { done, .. } | WriteReq::Compact { done, .. } => {
            let _ = done.send(Err(StoreError::Unavailable(err.to_string())));
        }
        WriteReq::Job(_) => {}
    }
}

/// Commits every append in one transaction; if that fails, each is retried alone so one bad
/// request (a sequence conflict) cannot fail the documents it happened to share a batch with.
async fn commit_appends(conn: &mut AnyConnection, appends: Vec<WriteReq>, counters: &Counters) {
    if appends.is_empty() {
        return;
    }
    let together = append_all(conn, &appends, counters).await;
    match together {
        Ok(()) => {
            for req in appends {
                if let WriteReq::Append { done, .. } = req {
                    let _ = done.send(Ok(()));
                }
            }
        }
        Err(err) if appends.len() == 1 => {
            if let Some(WriteReq::Append { done, .. }) = appends.into_iter().next() {
                let _ = done.send(Err(err));
            }
        }
        Err(err) => {
            tracing::warn!(%err, n_requests = appends.len(), "group commit failed, retrying each");
            for req in appends {
                let result = append_all(conn, std::slice::from_ref(&req), counters).await;
                if let WriteReq::Append { done, .. } = req {
                    let _ = done.send(result);
                }
            }
        }
    }
}

async fn append_all(
    conn: &mut AnyConnection,
    appends: &[WriteReq],
    counters: &Counters,
) -> Result<(), StoreError> {
    let at = now_ms();
    let mut n_updates = 0;
    let mut txn = conn.begin().await?;
    for req in appends {
        let WriteReq::Append { doc, first_seq, updates, .. } = req else { continue };
        for (seq, bytes) in (*first_seq..).zip(updates) {
            sqlx::query(
                "INSERT INTO doc_updates (doc_id, seq, bytes, at_ms) VALUES ($1, $2, $3, $4)",
            )
            .bind(doc.as_str())
            .bind(seq)
            .bind(bytes.as_slice())
            .bind(at)
            .execute(&mut *txn)
            .await
            .map_err(|err| conflict_or(err, doc))?;
            n_updates += 1;
        }
    }
    txn.commit().await?;
    counters.commits.fetch_add(1, Ordering::Relaxed);
    counters.updates.fetch_add(n_updates, Ordering::Relaxed);
    Ok(())
}

async fn compact(
    conn: &mut AnyConnection,
    doc: &DocId,
    up_to_seq: i64,
    snapshot: &[u8],
) -> Result<(), StoreError> {
    let mut txn = conn.begin().await?;
    sqlx::query(
        "INSERT INTO doc_snapshots (doc_id, up_to_seq, bytes, at_ms) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (doc_id) DO UPDATE SET up_to_seq = excluded.up_to_seq, \
         bytes = excluded.bytes, at_ms = excluded.at_ms",
    )
    .bind(doc.as_str())
    .bind(up_to_seq)
    .bind(snapshot)
    .bind(now_ms())
    .execute(&mut *txn)
    .await?;
    sqlx::query("DELETE FROM doc_updates WHERE doc_id = $1 AND seq <= $2")
        .bind(doc.as_str())
        .bind(up_to_seq)
        .execute(&mut *txn)
        .await?;
    txn.commit().await?;
    Ok(())
}

fn conflict_or(err: sqlx::Error, doc: &DocId) -> StoreError {
    match err.as_database_error() {
        Some(db) if db.is_unique_violation() => StoreError::SeqConflict(doc.clone()),
        _ => StoreError::Sql(err),
    }
}
