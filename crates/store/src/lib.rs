//! All of Hubring's SQL, through sqlx: document update logs and snapshots, and the migrations
//! that create them.
//!
//! The store keeps bytes it does not interpret: it knows nothing of yrs. Every write goes through
//! one writer task ([`writer`]) that gathers whatever arrives while a commit is in flight into the
//! next transaction (group commit), so many documents' edits share one fsync. SQL is kept
//! portable (no engine-specific syntax outside migrations) so a PostgreSQL backend can follow
//! behind the same [`Store`] API.

mod assets;
mod boards;
mod chat;
mod codec;
mod directory;
mod hubs;
mod workspace;
mod writer;

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use futures_util::future::BoxFuture;
use hubring_protocol::DocId;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqliteConnection, SqlitePool};
use tokio::sync::{mpsc, oneshot};

use writer::WriteReq;

pub use assets::AssetRecord;
pub use boards::{DotOutcome, VoteRecord};
pub use chat::ChatError;
pub use directory::{PeopleQuery, ProfileChanges, ProfileRecord};
pub use hubs::{HubFields, HubProject, HubRecord};
pub use workspace::{
    CoachingRecord, Credential, InviteRecord, ItemDoc, ItemRecord, MemberRecord, NewUser,
    ProjectChanges, ProjectRecord, Redeemed, TokenRecord, TrashedRecord, UserRecord,
};

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database URL {0:?}: this build stores in SQLite (sqlite:PATH)")]
    UnsupportedUrl(String),
    #[error("sequence conflict on document {0}: another writer appended to its log")]
    SeqConflict(DocId),
    #[error("the store is shut down")]
    Closed,
    /// A write broke a uniqueness rule: `0` names what is taken (e.g. `email`).
    #[error("{0} already exists")]
    Conflict(&'static str),
    /// A stored value this build does not understand.
    #[error("corrupt record: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// How to open the store.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// How long a statement waits for a lock held by another connection before failing.
    pub busy_timeout: Duration,
    /// Most write requests merged into one transaction.
    pub max_batch: usize,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self { busy_timeout: Duration::from_secs(5), max_batch: 1024 }
    }
}

/// A document as stored: the latest snapshot (if any), then every update logged after it.
#[derive(Debug, Default)]
pub struct StoredDoc {
    pub snapshot: Option<Vec<u8>>,
    pub updates: Vec<Vec<u8>>,
    /// The sequence number of the last update folded into the snapshot or logged; 0 for none.
    pub last_seq: i64,
}

impl StoredDoc {
    /// The snapshot then the log, in the order they must be applied.
    pub fn parts(&self) -> impl Iterator<Item = &[u8]> {
        self.snapshot.iter().chain(self.updates.iter()).map(Vec::as_slice)
    }
}

/// The store handle; cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
    writer: mpsc::Sender<WriteReq>,
    counters: Arc<Counters>,
}

/// Running totals of the writer, for `/metrics`.
#[derive(Debug, Default)]
pub struct Counters {
    /// Transactions committed.
    pub commits: AtomicU64,
    /// Updates appended to document logs.
    pub updates: AtomicU64,
}

impl Store {
    /// Opens (creating if needed) the SQLite database at `path` in WAL mode and migrates it.
    pub async fn open_path(path: &Path, options: StoreOptions) -> Result<Self, StoreError> {
        let connect = SqliteConnectOptions::new().filename(path);
        Self::open_with(connect, options).await
    }

    /// Opens a database URL (`sqlite:PATH` or `sqlite://PATH`) and migrates it.
    pub async fn open_url(url: &str, options: StoreOptions) -> Result<Self, StoreError> {
        if !url.starts_with("sqlite:") {
            return Err(StoreError::UnsupportedUrl(url.to_owned()));
        }
        let connect = SqliteConnectOptions::from_str(url)?;
        Self::open_with(connect, options).await
    }

    async fn open_with(
        connect: SqliteConnectOptions,
        options: StoreOptions,
    ) -> Result<Self, StoreError> {
        // synchronous=FULL: a commit is on disk before it returns, so an acknowledged edit
        // survives power loss, not only a process crash. Group commit pays for the fsync.
        let connect = connect
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(options.busy_timeout);
        let pool = SqlitePoolOptions::new().max_connections(4).connect_with(connect).await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        let conn = pool.acquire().await?.detach();
        let (tx, rx) = mpsc::channel(options.max_batch);
        let counters = Arc::new(Counters::default());
        tokio::spawn(writer::run(conn, rx, options.max_batch, Arc::clone(&counters)));
        Ok(Self { pool, writer: tx, counters })
    }

    /// Succeeds when the database answers a query.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Reads a document: its latest snapshot and the log after it. An unknown document is empty.
    pub async fn load(&self, doc: &DocId) -> Result<StoredDoc, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let snapshot = sqlx::query("SELECT up_to_seq, bytes FROM doc_snapshots WHERE doc_id = ?")
            .bind(doc.as_str())
            .fetch_optional(&mut *conn)
            .await?;
        let (up_to, snapshot) = match snapshot {
            Some(row) => (row.try_get::<i64, _>(0)?, Some(row.try_get::<Vec<u8>, _>(1)?)),
            None => (0, None),
        };
        let rows = sqlx::query(
            "SELECT seq, bytes FROM doc_updates WHERE doc_id = ? AND seq > ? ORDER BY seq",
        )
        .bind(doc.as_str())
        .bind(up_to)
        .fetch_all(&mut *conn)
        .await?;
        let mut stored =
            StoredDoc { snapshot, updates: Vec::with_capacity(rows.len()), last_seq: up_to };
        for row in rows {
            stored.last_seq = row.try_get(0)?;
            stored.updates.push(row.try_get(1)?);
        }
        Ok(stored)
    }

    /// Appends `updates` to a document's log as `first_seq, first_seq + 1, ...` and returns once
    /// they are committed. Requests arriving while a commit is in flight share the next one.
    pub async fn append(
        &self,
        doc: &DocId,
        first_seq: i64,
        updates: Vec<Vec<u8>>,
    ) -> Result<(), StoreError> {
        self.request(|done| WriteReq::Append { doc: doc.clone(), first_seq, updates, done }).await
    }

    /// Replaces a document's snapshot with `snapshot` (the merge of everything up to `up_to_seq`)
    /// and drops the log it covers, in one transaction.
    pub async fn compact(
        &self,
        doc: &DocId,
        up_to_seq: i64,
        snapshot: Vec<u8>,
    ) -> Result<(), StoreError> {
        self.request(|done| WriteReq::Compact { doc: doc.clone(), up_to_seq, snapshot, done }).await
    }

    /// Runs `job` in one transaction on the writer's connection, after whatever is queued: the
    /// workspace's writes share the single writer with document logs, so SQLite never sees two.
    /// An error from `job` rolls the transaction back.
    pub async fn write<T, F>(&self, job: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Result<T, StoreError>>
            + Send
            + Sync
            + 'static,
    {
        let (done, wait) = oneshot::channel();
        let job: writer::Job = Box::new(move |conn| {
            Box::pin(async move {
                let _ = done.send(in_transaction(conn, job).await);
            })
        });
        self.writer.send(WriteReq::Job(job)).await.map_err(|_| StoreError::Closed)?;
        wait.await.map_err(|_| StoreError::Closed)?
    }

    /// The pool, for reads.
    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    async fn request(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<(), StoreError>>) -> WriteReq,
    ) -> Result<(), StoreError> {
        let (done, wait) = oneshot::channel();
        self.writer.send(make(done)).await.map_err(|_| StoreError::Closed)?;
        wait.await.map_err(|_| StoreError::Closed)?
    }

    /// Number of updates logged for a document after its snapshot.
    pub async fn log_len(&self, doc: &DocId) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(*) FROM doc_updates u WHERE u.doc_id = ? AND u.seq > \
             COALESCE((SELECT s.up_to_seq FROM doc_snapshots s WHERE s.doc_id = u.doc_id), 0)",
        )
        .bind(doc.as_str())
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get(0)?)
    }

    /// Takes SQLite's write lock from another connection and holds it until the guard drops, as
    /// a second process would. Commits fail meanwhile (after the busy timeout); used to test that
    /// a failing store loses and leaks nothing.
    pub async fn hold_write_lock(&self) -> Result<WriteLock, StoreError> {
        let mut conn = self.pool.acquire().await?.detach();
        sqlx::query("BEGIN IMMEDIATE").execute(&mut conn).await?;
        Ok(WriteLock { _conn: conn })
    }

    /// Commits and updates written so far.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Closes the pool once pending writes are done.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Holds the database's write lock; dropping it closes the connection, which releases the lock.
#[derive(Debug)]
pub struct WriteLock {
    _conn: sqlx::SqliteConnection,
}

async fn in_transaction<T, F>(conn: &mut SqliteConnection, job: F) -> Result<T, StoreError>
where
    F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Result<T, StoreError>>,
{
    // IMMEDIATE: take the write lock now, so a job never fails half-way on an upgrade.
    sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
    let result = match job(conn).await {
        Ok(value) => {
            sqlx::query("COMMIT").execute(&mut *conn).await.map(|_| value).map_err(Into::into)
        }
        Err(err) => Err(err),
    };
    if result.is_err() {
        // A failed job, or a failed commit (which leaves the transaction open).
        if let Err(rollback) = sqlx::query("ROLLBACK").execute(&mut *conn).await {
            tracing::warn!(%rollback, "rollback failed");
        }
    }
    result
}

pub fn now_ms() -> i64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    since.map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn open() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store =
            Store::open_path(&dir.path().join("db.sqlite"), StoreOptions::default()).await.unwrap();
        (dir, store)
    }

    fn id(s: &str) -> DocId {
        DocId::parse(s).unwrap()
    }

    #[tokio::test]
    async fn append_then_load() {
        let (_dir, store) = open().await;
        let doc = id("d");
        assert_eq!(store.load(&doc).await.unwrap().last_seq, 0);
        store.append(&doc, 1, vec![vec![1], vec![2]]).await.unwrap();
        store.append(&doc, 3, vec![vec![3]]).await.unwrap();
        let stored = store.load(&doc).await.unwrap();
        assert_eq!(stored.updates, vec![vec![1], vec![2], vec![3]]);
        assert_eq!(stored.last_seq, 3);
        assert!(store.load(&id("other")).await.unwrap().updates.is_empty());
    }

    #[tokio::test]
    async fn compaction_replaces_the_covered_log() {
        let (_dir, store) = open().await;
        let doc = id("d");
        store.append(&doc, 1, vec![vec![1], vec![2], vec![3]]).await.unwrap();
        store.compact(&doc, 2, vec![12]).await.unwrap();
        let stored = store.load(&doc).await.unwrap();
        assert_eq!(stored.snapshot, Some(vec![12]));
        assert_eq!(stored.updates, vec![vec![3]]);
        assert_eq!(stored.last_seq, 3);
        assert_eq!(store.log_len(&doc).await.unwrap(), 1);
        store.compact(&doc, 3, vec![123]).await.unwrap();
        let stored = store.load(&doc).await.unwrap();
        assert_eq!(
            (stored.snapshot, stored.updates.len(), stored.last_seq),
            (Some(vec![123]), 0, 3)
        );
    }

    #[tokio::test]
    async fn a_conflicting_append_fails_alone() {
        let (_dir, store) = open().await;
        let (a, b) = (id("a"), id("b"));
        store.append(&a, 1, vec![vec![1]]).await.unwrap();
        // Two requests in flight together: the conflicting one fails, the other commits.
        let (bad, good) =
            tokio::join!(store.append(&a, 1, vec![vec![9]]), store.append(&b, 1, vec![vec![7]]));
        assert!(matches!(bad, Err(StoreError::SeqConflict(_))));
        good.unwrap();
        assert_eq!(store.load(&a).await.unwrap().updates, vec![vec![1]]);
        assert_eq!(store.load(&b).await.unwrap().updates, vec![vec![7]]);
    }

    #[tokio::test]
    async fn reopen_keeps_everything() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite");
        {
            let store = Store::open_path(&path, StoreOptions::default()).await.unwrap();
            store.append(&id("d"), 1, vec![vec![5]]).await.unwrap();
            store.close().await;
        }
        let store = Store::open_url(&format!("sqlite:{}", path.display()), StoreOptions::default())
            .await
            .unwrap();
        assert_eq!(store.load(&id("d")).await.unwrap().updates, vec![vec![5]]);
        assert!(matches!(
            Store::open_url("postgres://x", StoreOptions::default()).await,
            Err(StoreError::UnsupportedUrl(_))
        ));
    }
}
