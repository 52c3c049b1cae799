//! Uploaded files, kept by content (SHA-256): one row per distinct file, and a link to every
//! project it was uploaded into. The store checks nothing about the bytes; the workspace does.

use hubring_protocol::{ProjectId, UserId};
use sqlx::Row;

use crate::{Store, StoreError, now_ms};

/// A stored file.
#[derive(Debug, Clone)]
pub struct AssetRecord {
    pub sha256: String,
    pub mime: String,
    pub bytes: Vec<u8>,
}

impl Store {
    /// Stores a file (once per content) and links it to `project_id`.
    pub async fn put_asset(
        &self,
        project_id: &ProjectId,
        by: &UserId,
        asset: AssetRecord,
    ) -> Result<(), StoreError> {
        let (project_id, by) = (project_id.clone(), by.clone());
        self.write(move |conn| {
            Box::pin(async move {
                let now = now_ms();
                let size = i64::try_from(asset.bytes.len()).unwrap_or(i64::MAX);
                sqlx::query(
                    "INSERT INTO assets (sha256, mime, size, bytes, created_at) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (sha256) DO NOTHING",
                )
                .bind(&asset.sha256)
                .bind(&asset.mime)
                .bind(size)
                .bind(&asset.bytes)
                .bind(now)
                .execute(&mut *conn)
                .await?;
                sqlx::query(
                    "INSERT INTO project_assets (project_id, sha256, uploaded_by, uploaded_at) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (project_id, sha256) DO NOTHING",
                )
                .bind(project_id.as_str())
                .bind(&asset.sha256)
                .bind(by.as_str())
                .bind(now)
                .execute(&mut *conn)
                .await?;
                Ok(())
            })
        })
        .await
    }

    pub async fn asset(&self, sha256: &str) -> Result<Option<AssetRecord>, StoreError> {
        let row = sqlx::query("SELECT sha256, mime, bytes FROM assets WHERE sha256 = $1")
            .bind(sha256)
            .fetch_optional(self.pool())
            .await?;
        row.map(|row| {
            Ok(AssetRecord {
                sha256: row.try_get("sha256")?,
                mime: row.try_get("mime")?,
                bytes: row.try_get("bytes")?,
            })
        })
        .transpose()
    }

    /// The projects a file was uploaded into.
    pub async fn asset_projects(&self, sha256: &str) -> Result<Vec<ProjectId>, StoreError> {
        let rows = sqlx::query("SELECT project_id FROM project_assets WHERE sha256 = $1")
            .bind(sha256)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(|row| Ok(ProjectId(row.try_get(0)?))).collect()
    }
}
