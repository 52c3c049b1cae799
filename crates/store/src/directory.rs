//! Profiles and the people directory: full-text search (SQLite FTS5, BM25) with filters,
//! paginated. The query is built here and only here, so a PostgreSQL backend can answer the
//! same [`PeopleQuery`] with its own full-text search.

use hubring_protocol::api::{OpenTo, ProfileVisibility};
use hubring_protocol::{HubId, UserId};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};

use crate::codec::{decode, list, to_json};
use crate::{Store, StoreError};

/// A profile as stored.
#[derive(Debug, Clone)]
pub struct ProfileRecord {
    pub id: UserId,
    pub email: String,
    pub display_name: String,
    pub city: String,
    pub country: String,
    pub languages: Vec<String>,
    pub skills: Vec<String>,
    pub disciplines: Vec<String>,
    pub bio: String,
    pub open_to: Vec<OpenTo>,
    pub profile_visibility: ProfileVisibility,
    pub show_email: bool,
}

/// The fields of a profile a write may change.
#[derive(Debug, Clone, Default)]
pub struct ProfileChanges {
    pub display_name: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub languages: Option<Vec<String>>,
    pub skills: Option<Vec<String>>,
    pub disciplines: Option<Vec<String>>,
    pub bio: Option<String>,
    pub open_to: Option<Vec<OpenTo>>,
    pub profile_visibility: Option<ProfileVisibility>,
    pub show_email: Option<bool>,
}

/// A directory search: free text plus exact filters (case-insensitive), one page.
#[derive(Debug, Clone, Default)]
pub struct PeopleQuery {
    pub text: Option<String>,
    pub skill: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub hub: Option<HubId>,
    pub language: Option<String>,
    pub open_to: Option<OpenTo>,
    pub offset: u32,
    pub limit: u32,
}

fn profile(row: &SqliteRow) -> Result<ProfileRecord, StoreError> {
    let open_to = list(row.try_get("open_to")?)?
        .iter()
        .map(|o| decode(o, OpenTo::parse, "open to"))
        .collect::<Result<_, _>>()?;
    let visibility: String = row.try_get("profile_visibility")?;
    Ok(ProfileRecord {
        id: UserId(row.try_get("id")?),
        email: row.try_get("email")?,
        display_name: row.try_get("display_name")?,
        city: row.try_get("city")?,
        country: row.try_get("country")?,
        languages: list(row.try_get("languages")?)?,
        skills: list(row.try_get("skills")?)?,
        disciplines: list(row.try_get("disciplines")?)?,
        bio: row.try_get("bio")?,
        open_to,
        profile_visibility: decode(&visibility, ProfileVisibility::parse, "profile visibility")?,
        show_email: row.try_get("show_email")?,
    })
}

macro_rules! profile_columns {
    () => {
        "u.id, u.email, u.display_name, u.city, u.country, u.languages, u.skills, \
         u.disciplines, u.bio, u.open_to, u.profile_visibility, u.show_email"
    };
}

/// Rewrites a person's row of the full-text index from their profile (none when hidden).
pub(crate) async fn reindex(conn: &mut SqliteConnection, id: &UserId) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM people_fts WHERE user_id = ?")
        .bind(id.as_str())
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO people_fts (user_id, display_name, skills, disciplines, city, country, \
         languages, bio) SELECT id, display_name, skills, disciplines, city, country, languages, \
         bio FROM users WHERE id = ? AND profile_visibility = 'network'",
    )
    .bind(id.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// An FTS5 query from free text: each word a quoted prefix term, all required. Quoting keeps
/// FTS5's own syntax (`AND`, `NEAR`, `*`, `:`) out of what people type.
fn fts_query(text: &str) -> Option<String> {
    let terms: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(16)
        .map(|w| format!("\"{w}\"*"))
        .collect();
    if terms.is_empty() { None } else { Some(terms.join(" ")) }
}

/// `LIKE` patterns for a skill filter, matched against `' ' || lower(skill)`: the filter's
/// words, each at the start of a word, the last as a prefix, in its singular as well
/// ("galleries" also as "galler", "classes" as "class"), so a plural finds a singular and the
/// other way round. `%`, `_` and `\` typed by people match themselves.
fn skill_patterns(skill: &str) -> Vec<String> {
    let term = skill.trim().to_lowercase();
    if term.is_empty() {
        return Vec::new();
    }
    let mut stems = vec![term.clone()];
    let singular = if let Some(stem) = term.strip_suffix("ies") {
        Some(format!("{stem}y"))
    } else if let Some(stem) = term.strip_suffix("es") {
        // "classes" -> "class", "sculptures" -> "sculptur(e)": the shorter stem covers both.
        Some(stem.to_owned())
    } else {
        term.strip_suffix('s').map(str::to_owned)
    };
    if let Some(singular) = singular.filter(|s| s.chars().count() >= 3) {
        stems.push(singular);
    }
    stems
        .into_iter()
        .map(|stem| {
            let escaped = stem.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
            format!("% {escaped}%")
        })
        .collect()
}

fn push_skill_filter(qb: &mut QueryBuilder<Sqlite>, patterns: &[String]) {
    qb.push(" AND EXISTS (");
    for (i, column) in ["skills", "disciplines"].into_iter().enumerate() {
        if i > 0 {
            qb.push(" UNION ALL ");
        }
        qb.push(format_args!("SELECT 1 FROM json_each(u.{column}) j WHERE "));
        for (k, pattern) in patterns.iter().enumerate() {
            if k > 0 {
                qb.push(" OR ");
            }
            qb.push("(' ' || lower(j.value)) LIKE ");
            qb.push_bind(pattern.clone());
            qb.push(" ESCAPE '\\'");
        }
    }
    qb.push(")");
}

/// The `WHERE` conditions of a query, after `WHERE u.profile_visibility = 'network'`.
fn push_filters(qb: &mut QueryBuilder<Sqlite>, query: &PeopleQuery) {
    let json_has = |qb: &mut QueryBuilder<Sqlite>, column: &str, value: &str| {
        qb.push(format_args!(
            " AND EXISTS (SELECT 1 FROM json_each(u.{column}) j WHERE lower(j.value) = lower("
        ));
        qb.push_bind(value.to_owned());
        qb.push("))");
    };
    if let Some(skill) = &query.skill {
        // A skill filter matches skills and disciplines alike (people file the same word under
        // either), by the start of any of their words, singular or plural: "ceramic" finds
        // "Ceramics", "ceramics" finds "ceramic", "print" finds "3D printing".
        let patterns = skill_patterns(skill);
        if !patterns.is_empty() {
            push_skill_filter(qb, &patterns);
        }
    }
    if let Some(language) = &query.language {
        json_has(qb, "languages", language);
    }
    if let Some(open_to) = query.open_to {
        json_has(qb, "open_to", open_to.as_str());
    }
    if let Some(city) = &query.city {
        qb.push(" AND lower(u.city) = lower(").push_bind(city.clone()).push(")");
    }
    if let Some(country) = &query.country {
        qb.push(" AND lower(u.country) = lower(").push_bind(country.clone()).push(")");
    }
    if let Some(hub) = &query.hub {
        qb.push(
            " AND EXISTS (SELECT 1 FROM hub_members hm WHERE hm.user_id = u.id AND \
             hm.role <> 'requested' AND hm.hub_id = ",
        );
        qb.push_bind(hub.as_str().to_owned()).push(")");
    }
}

impl Store {
    /// Every account's languages and country, as stored: for reading free text written before
    /// codes into codes.
    pub async fn places_of_people(&self) -> Result<Vec<(UserId, Vec<String>, String)>, StoreError> {
        let rows = sqlx::query("SELECT id, languages, country FROM users ORDER BY id")
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    UserId(row.try_get("id")?),
                    list(row.try_get("languages")?)?,
                    row.try_get("country")?,
                ))
            })
            .collect()
    }

    pub async fn profile(&self, id: &UserId) -> Result<Option<ProfileRecord>, StoreError> {
        let sql = concat!("SELECT ", profile_columns!(), " FROM users u WHERE u.id = ?");
        let row = sqlx::query(sql).bind(id.as_str()).fetch_optional(self.pool()).await?;
        row.as_ref().map(profile).transpose()
    }

    /// Changes a profile and its row of the directory index, in one transaction.
    pub async fn update_profile(
        &self,
        id: &UserId,
        changes: ProfileChanges,
    ) -> Result<(), StoreError> {
        let id = id.clone();
        self.write(move |conn| {
            Box::pin(async move {
                let json = |v: &Option<Vec<String>>| v.as_deref().map(to_json);
                let open_to = changes
                    .open_to
                    .as_ref()
                    .map(|o| to_json(&o.iter().map(|o| o.as_str().to_owned()).collect::<Vec<_>>()));
                sqlx::query(
                    "UPDATE users SET display_name = COALESCE(?, display_name), \
                     city = COALESCE(?, city), country = COALESCE(?, country), \
                     languages = COALESCE(?, languages), skills = COALESCE(?, skills), \
                     disciplines = COALESCE(?, disciplines), bio = COALESCE(?, bio), \
                     open_to = COALESCE(?, open_to), \
                     profile_visibility = COALESCE(?, profile_visibility), \
                     show_email = COALESCE(?, show_email) WHERE id = ?",
                )
                .bind(changes.display_name.as_deref())
                .bind(changes.city.as_deref())
                .bind(changes.country.as_deref())
                .bind(json(&changes.languages))
                .bind(json(&changes.skills))
                .bind(json(&changes.disciplines))
                .bind(changes.bio.as_deref())
                .bind(open_to)
                .bind(changes.profile_visibility.map(ProfileVisibility::as_str))
                .bind(changes.show_email)
                .bind(id.as_str())
                .execute(&mut *conn)
                .await?;
                reindex(conn, &id).await
            })
        })
        .await
    }

    /// One page of listed profiles matching `query`, best match first, and the number of
    /// matches on every page. With free text, BM25 ranks (skills and disciplines weigh most,
    /// then the name, the place, languages and the bio); without, names in order.
    pub async fn search_people(
        &self,
        query: &PeopleQuery,
    ) -> Result<(Vec<ProfileRecord>, u64), StoreError> {
        let text = query.text.as_deref().and_then(fts_query);
        let from = |qb: &mut QueryBuilder<Sqlite>| match &text {
            Some(_) => {
                qb.push(
                    " FROM people_fts f JOIN users u ON u.id = f.user_id WHERE people_fts MATCH ",
                );
            }
            None => {
                qb.push(" FROM users u WHERE 1 = 1");
            }
        };

        let mut count = QueryBuilder::<Sqlite>::new("SELECT COUNT(*)");
        from(&mut count);
        if let Some(text) = &text {
            count.push_bind(text.clone());
        }
        count.push(" AND u.profile_visibility = 'network'");
        push_filters(&mut count, query);
        let total: i64 = count.build().fetch_one(self.pool()).await?.try_get(0)?;

        let mut page = QueryBuilder::<Sqlite>::new(concat!("SELECT ", profile_columns!()));
        from(&mut page);
        if let Some(text) = &text {
            page.push_bind(text.clone());
        }
        page.push(" AND u.profile_visibility = 'network'");
        push_filters(&mut page, query);
        if text.is_some() {
            // Columns: user_id, display_name, skills, disciplines, city, country, languages, bio.
            page.push(" ORDER BY bm25(people_fts, 0, 4, 10, 10, 3, 2, 2, 1), u.display_name, u.id");
        } else {
            page.push(" ORDER BY lower(u.display_name), u.id");
        }
        page.push(" LIMIT ").push_bind(i64::from(query.limit));
        page.push(" OFFSET ").push_bind(i64::from(query.offset));
        let rows = page.build().fetch_all(self.pool()).await?;
        let people = rows.iter().map(profile).collect::<Result<_, _>>()?;
        Ok((people, u64::try_from(total).unwrap_or(0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_text_never_reaches_fts5_as_syntax() {
        assert_eq!(fts_query("ceramics Lisbon").as_deref(), Some("\"ceramics\"* \"Lisbon\"*"));
        assert_eq!(
            fts_query("a AND b* NEAR(c)").as_deref(),
            Some("\"a\"* \"AND\"* \"b\"* \"NEAR\"* \"c\"*")
        );
        assert_eq!(
            fts_query("\"; DROP TABLE users; --").as_deref(),
            Some("\"DROP\"* \"TABLE\"* \"users\"*")
        );
        assert_eq!(fts_query("  -- ").as_deref(), None);
    }

    #[test]
    fn a_skill_is_matched_by_the_start_of_a_word_in_either_number() {
        assert_eq!(skill_patterns(" Ceramic "), ["% ceramic%"]);
        assert_eq!(skill_patterns("ceramics"), ["% ceramics%", "% ceramic%"]);
        assert_eq!(skill_patterns("galleries"), ["% galleries%", "% gallery%"]);
        assert_eq!(skill_patterns("classes"), ["% classes%", "% class%"]);
        assert_eq!(skill_patterns("as"), ["% as%"], "no stem shorter than three letters");
        assert_eq!(skill_patterns("50%_off\\"), ["% 50\\%\\_off\\\\%"]);
        assert!(skill_patterns("   ").is_empty());
    }
}
