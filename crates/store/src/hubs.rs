//! Hubs and who belongs to them.

use hubring_protocol::api::{HubRole, Visibility};
use hubring_protocol::{HubId, ProjectId, UserId};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::codec::{decode, list, to_json};
use crate::sql::{Sql, flag};
use crate::{Store, StoreError, now_ms};

/// A hub as stored.
#[derive(Debug, Clone)]
pub struct HubRecord {
    pub id: HubId,
    pub name: String,
    pub city: String,
    pub country: String,
    pub time_zone: String,
    pub description: String,
    pub disciplines: Vec<String>,
    pub facilities: Vec<String>,
    pub website: String,
    pub created_at: i64,
}

/// The fields of a hub; on update, only those given change.
#[derive(Debug, Clone, Default)]
pub struct HubFields {
    pub name: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub time_zone: Option<String>,
    pub description: Option<String>,
    pub disciplines: Option<Vec<String>>,
    pub facilities: Option<Vec<String>>,
    pub website: Option<String>,
}

/// A hub's partner project, with what decides who may see it.
#[derive(Debug, Clone)]
pub struct HubProject {
    pub id: ProjectId,
    pub title: String,
    pub visibility: Visibility,
    pub archived: bool,
    pub updated_at: i64,
}

fn hub(row: &AnyRow) -> Result<HubRecord, StoreError> {
    Ok(HubRecord {
        id: HubId(row.try_get("id")?),
        name: row.try_get("name")?,
        city: row.try_get("city")?,
        country: row.try_get("country")?,
        time_zone: row.try_get("time_zone")?,
        description: row.try_get("description")?,
        disciplines: list(row.try_get("disciplines")?)?,
        facilities: list(row.try_get("facilities")?)?,
        website: row.try_get("website")?,
        created_at: row.try_get("created_at")?,
    })
}

fn hub_role(raw: &str) -> Result<HubRole, StoreError> {
    decode(raw, HubRole::parse, "hub role")
}

macro_rules! hub_columns {
    () => {
        "h.id, h.name, h.city, h.country, h.time_zone, h.description, h.disciplines, \
         h.facilities, h.website, h.created_at"
    };
}

impl Store {
    /// Creates a hub with `by` as its first manager. Every field must be given.
    pub async fn create_hub(
        &self,
        id: &HubId,
        by: &UserId,
        fields: HubFields,
    ) -> Result<(), StoreError> {
        let (id, by) = (id.clone(), by.clone());
        self.write(move |conn| {
            Box::pin(async move {
                let now = now_ms();
                sqlx::query(
                    "INSERT INTO hubs (id, name, city, country, time_zone, description, \
                     disciplines, facilities, website, created_by, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                )
                .bind(id.as_str())
                .bind(fields.name.unwrap_or_default())
                .bind(fields.city.unwrap_or_default())
                .bind(fields.country.unwrap_or_default())
                .bind(fields.time_zone.unwrap_or_default())
                .bind(fields.description.unwrap_or_default())
                .bind(to_json(&fields.disciplines.unwrap_or_default()))
                .bind(to_json(&fields.facilities.unwrap_or_default()))
                .bind(fields.website.unwrap_or_default())
                .bind(by.as_str())
                .bind(now)
                .execute(&mut *conn)
                .await?;
                sqlx::query(
                    "INSERT INTO hub_members (hub_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)",
                )
                .bind(id.as_str())
                .bind(by.as_str())
                .bind(HubRole::Manager.as_str())
                .bind(now)
                .execute(&mut *conn)
                .await?;
                Ok(())
            })
        })
        .await
    }

    /// Every hub's country, as stored: for reading free text written before codes into codes.
    pub async fn hub_countries(&self) -> Result<Vec<(HubId, String)>, StoreError> {
        let rows =
            sqlx::query("SELECT id, country FROM hubs ORDER BY id").fetch_all(self.pool()).await?;
        rows.iter().map(|row| Ok((HubId(row.try_get("id")?), row.try_get("country")?))).collect()
    }

    pub async fn hub(&self, id: &HubId) -> Result<Option<HubRecord>, StoreError> {
        let sql = concat!("SELECT ", hub_columns!(), " FROM hubs h WHERE h.id = $1");
        let row = sqlx::query(sql).bind(id.as_str()).fetch_optional(self.pool()).await?;
        row.as_ref().map(hub).transpose()
    }

    /// Every hub, by name.
    pub async fn hubs(&self) -> Result<Vec<HubRecord>, StoreError> {
        let sql = concat!("SELECT ", hub_columns!(), " FROM hubs h ORDER BY lower(h.name), h.id");
        let rows = sqlx::query(sql).fetch_all(self.pool()).await?;
        rows.iter().map(hub).collect()
    }

    /// The hubs `user` belongs to (not those they only asked to join).
    pub async fn hubs_of(&self, user: &UserId) -> Result<Vec<HubRecord>, StoreError> {
        let sql = concat!(
            "SELECT ",
            hub_columns!(),
            " FROM hubs h JOIN hub_members m ON m.hub_id = h.id \
             WHERE m.user_id = $1 AND m.role <> 'requested' ORDER BY lower(h.name), h.id"
        );
        let rows = sqlx::query(sql).bind(user.as_str()).fetch_all(self.pool()).await?;
        rows.iter().map(hub).collect()
    }

    /// The hubs of each of `users` (not those they only asked to join), in one query: a page of
    /// the directory shows everyone's hubs.
    pub async fn hubs_of_many(
        &self,
        users: &[UserId],
    ) -> Result<std::collections::HashMap<UserId, Vec<HubRecord>>, StoreError> {
        let mut out: std::collections::HashMap<UserId, Vec<HubRecord>> =
            std::collections::HashMap::new();
        if users.is_empty() {
            return Ok(out);
        }
        let mut sql = Sql::new(concat!(
            "SELECT m.user_id AS member_id, ",
            hub_columns!(),
            " FROM hubs h JOIN hub_members m ON m.hub_id = h.id \
             WHERE m.role <> 'requested' AND m.user_id IN ("
        ));
        sql.bind_list(users.iter().map(|user| user.as_str().to_owned()));
        sql.push(") ORDER BY lower(h.name), h.id");
        for row in sql.build().fetch_all(self.pool()).await? {
            out.entry(UserId(row.try_get("member_id")?)).or_default().push(hub(&row)?);
        }
        Ok(out)
    }

    pub async fn update_hub(&self, id: &HubId, fields: HubFields) -> Result<(), StoreError> {
        let id = id.clone();
        self.write(move |conn| {
            Box::pin(async move {
                sqlx::query(
                    "UPDATE hubs SET name = COALESCE($1, name), city = COALESCE($2, city), \
                     country = COALESCE($3, country), time_zone = COALESCE($4, time_zone), \
                     description = COALESCE($5, description), \
                     disciplines = COALESCE($6, disciplines), \
                     facilities = COALESCE($7, facilities), website = COALESCE($8, website) \
                     WHERE id = $9",
                )
                .bind(fields.name)
                .bind(fields.city)
                .bind(fields.country)
                .bind(fields.time_zone)
                .bind(fields.description)
                .bind(fields.disciplines.as_deref().map(to_json))
                .bind(fields.facilities.as_deref().map(to_json))
                .bind(fields.website)
                .bind(id.as_str())
                .execute(&mut *conn)
                .await?;
                Ok(())
            })
        })
        .await
    }

    pub async fn hub_role(
        &self,
        hub: &HubId,
        user: &UserId,
    ) -> Result<Option<HubRole>, StoreError> {
        let row = sqlx::query("SELECT role FROM hub_members WHERE hub_id = $1 AND user_id = $2")
            .bind(hub.as_str())
            .bind(user.as_str())
            .fetch_optional(self.pool())
            .await?;
        row.map(|row| hub_role(row.try_get(0)?)).transpose()
    }

    /// Members with their names, managers first.
    pub async fn hub_members(
        &self,
        hub: &HubId,
    ) -> Result<Vec<(UserId, String, HubRole)>, StoreError> {
        let rows = sqlx::query(
            "SELECT m.user_id, u.display_name, m.role FROM hub_members m \
             JOIN users u ON u.id = m.user_id WHERE m.hub_id = $1 \
             ORDER BY CASE m.role WHEN 'manager' THEN 0 WHEN 'member' THEN 1 ELSE 2 END, \
             lower(u.display_name), m.user_id",
        )
        .bind(hub.as_str())
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| Ok((UserId(row.try_get(0)?), row.try_get(1)?, hub_role(row.try_get(2)?)?)))
            .collect()
    }

    /// Sets a person's place in a hub, adding them if needed.
    pub async fn set_hub_role(
        &self,
        hub: &HubId,
        user: &UserId,
        role: HubRole,
    ) -> Result<(), StoreError> {
        let (hub, user) = (hub.clone(), user.clone());
        self.write(move |conn| {
            Box::pin(async move {
                sqlx::query(
                    "INSERT INTO hub_members (hub_id, user_id, role, created_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (hub_id, user_id) DO UPDATE SET role = excluded.role",
                )
                .bind(hub.as_str())
                .bind(user.as_str())
                .bind(role.as_str())
                .bind(now_ms())
                .execute(&mut *conn)
                .await?;
                Ok(())
            })
        })
        .await
    }

    /// Removes a person from a hub (or their request); false if they were not in it.
    pub async fn remove_hub_member(&self, hub: &HubId, user: &UserId) -> Result<bool, StoreError> {
        let (hub, user) = (hub.clone(), user.clone());
        self.write(move |conn| {
            Box::pin(async move {
                let n = sqlx::query("DELETE FROM hub_members WHERE hub_id = $1 AND user_id = $2")
                    .bind(hub.as_str())
                    .bind(user.as_str())
                    .execute(&mut *conn)
                    .await?
                    .rows_affected();
                Ok(n == 1)
            })
        })
        .await
    }

    /// The projects a hub partners in.
    pub async fn hub_projects(&self, hub: &HubId) -> Result<Vec<HubProject>, StoreError> {
        let rows = sqlx::query(
            "SELECT p.id, p.title, p.visibility, p.archived, p.updated_at FROM projects p \
             JOIN project_hubs ph ON ph.project_id = p.id WHERE ph.hub_id = $1 \
             ORDER BY p.updated_at DESC, p.id",
        )
        .bind(hub.as_str())
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                let visibility: String = row.try_get("visibility")?;
                Ok(HubProject {
                    id: ProjectId(row.try_get("id")?),
                    title: row.try_get("title")?,
                    visibility: decode(&visibility, Visibility::parse, "visibility")?,
                    archived: flag(row, "archived")?,
                    updated_at: row.try_get("updated_at")?,
                })
            })
            .collect()
    }
}
