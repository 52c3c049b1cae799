//! Profiles and the people directory: full-text search (SQLite FTS5, BM25) with filters,
//! paginated. The query is built here and only here, so a PostgreSQL backend can answer the
//! same [`PeopleQuery`] with its own full-text search.

use hubring_protocol::api::{OpenTo, ProfileVisibility};
use hubring_protocol::{HubId, UserId};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::codec::{decode, list, to_json};
use crate::sql::{Engine, Sql, flag};
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
    /// The language emails are written in.
    pub language: Option<String>,
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

fn profile(row: &AnyRow) -> Result<ProfileRecord, StoreError> {
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
        show_email: flag(row, "show_email")?,
    })
}

macro_rules! profile_columns {
    () => {
        "u.id, u.email, u.display_name, u.city, u.country, u.languages, u.skills, \
         u.disciplines, u.bio, u.open_to, u.profile_visibility, u.show_email"
    };
}

/// Rewrites a person's row of the full-text index from their profile (none when hidden).
///
/// SQLite: an FTS5 table, ranked by BM25 with a weight per column. PostgreSQL: a `tsvector`
/// per person, accents removed (`unaccent`), with the same order of weights in its four
/// classes: skills and disciplines (A), the name (B), the place and languages (C), the bio (D).
pub(crate) async fn reindex(conn: &mut AnyConnection, id: &UserId) -> Result<(), StoreError> {
    let (delete, insert) = match Engine::of(conn) {
        Engine::Sqlite => (
            "DELETE FROM people_fts WHERE user_id = $1",
            "INSERT INTO people_fts (user_id, display_name, skills, disciplines, city, country, \
             languages, bio) SELECT id, display_name, skills, disciplines, city, country, \
             languages, bio FROM users WHERE id = $1 AND profile_visibility = 'network'",
        ),
        Engine::Postgres => (
            "DELETE FROM people_search WHERE user_id = $1",
            "INSERT INTO people_search (user_id, doc) SELECT id, \
             setweight(to_tsvector('simple', unaccent(skills || ' ' || disciplines)), 'A') || \
             setweight(to_tsvector('simple', unaccent(display_name)), 'B') || \
             setweight(to_tsvector('simple', unaccent(city || ' ' || country || ' ' || \
             languages)), 'C') || setweight(to_tsvector('simple', unaccent(bio)), 'D') \
             FROM users WHERE id = $1 AND profile_visibility = 'network'",
        ),
    };
    sqlx::query(delete).bind(id.as_str()).execute(&mut *conn).await?;
    sqlx::query(insert).bind(id.as_str()).execute(&mut *conn).await?;
    Ok(())
}

/// The words of free text, at most 16: the search matches each as a prefix, all required.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(16)
        .map(str::to_lowercase)
        .collect()
}

/// A full-text query from free text: each word a quoted prefix term, all required. Quoting
/// (FTS5) and keeping only letters and digits (PostgreSQL) keep each engine's own query syntax
/// (`AND`, `NEAR`, `*`, `:`, `!`, `|`) out of what people type.
fn fts_query(engine: Engine, text: &str) -> Option<String> {
    let words = words(text);
    if words.is_empty() {
        return None;
    }
    Some(match engine {
        Engine::Sqlite => words.iter().map(|w| format!("\"{w}\"*")).collect::<Vec<_>>().join(" "),
        Engine::Postgres => words.iter().map(|w| format!("{w}:*")).collect::<Vec<_>>().join(" & "),
    })
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

fn push_skill_filter(sql: &mut Sql, engine: Engine, patterns: &[String]) {
    sql.push(" AND EXISTS (");
    for (i, column) in ["skills", "disciplines"].into_iter().enumerate() {
        if i > 0 {
            sql.push(" UNION ALL ");
        }
        sql.push(format_args!(
            "SELECT 1 FROM {} WHERE ",
            engine.json_strings(&format!("u.{column}"))
        ));
        for (k, pattern) in patterns.iter().enumerate() {
            if k > 0 {
                sql.push(" OR ");
            }
            sql.push("(' ' || lower(j.value)) LIKE ");
            sql.bind(pattern.clone());
            sql.push(" ESCAPE '\\'");
        }
    }
    sql.push(")");
}

/// The `WHERE` conditions of a query, after `WHERE u.profile_visibility = 'network'`.
fn push_filters(sql: &mut Sql, engine: Engine, query: &PeopleQuery) {
    let json_has = |sql: &mut Sql, column: &str, value: &str| {
        sql.push(format_args!(
            " AND EXISTS (SELECT 1 FROM {} WHERE lower(j.value) = lower(",
            engine.json_strings(&format!("u.{column}"))
        ));
        sql.bind(value.to_owned());
        sql.push("))");
    };
    if let Some(skill) = &query.skill {
        // A skill filter matches skills and disciplines alike (people file the same word under
        // either), by the start of any of their words, singular or plural: "ceramic" finds
        // "Ceramics", "ceramics" finds "ceramic", "print" finds "3D printing".
        let patterns = skill_patterns(skill);
        if !patterns.is_empty() {
            push_skill_filter(sql, engine, &patterns);
        }
    }
    if let Some(language) = &query.language {
        json_has(sql, "languages", language);
    }
    if let Some(open_to) = query.open_to {
        json_has(sql, "open_to", open_to.as_str());
    }
    if let Some(city) = &query.city {
        sql.push(" AND lower(u.city) = lower(").bind(city.clone()).push(")");
    }
    if let Some(country) = &query.country {
        sql.push(" AND lower(u.country) = lower(").bind(country.clone()).push(")");
    }
    if let Some(hub) = &query.hub {
        sql.push(
            " AND EXISTS (SELECT 1 FROM hub_members hm WHERE hm.user_id = u.id AND \
             hm.role <> 'requested' AND hm.hub_id = ",
        );
        sql.bind(hub.as_str().to_owned()).push(")");
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
        let sql = concat!("SELECT ", profile_columns!(), " FROM users u WHERE u.id = $1");
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
                    "UPDATE users SET display_name = COALESCE($1, display_name), \
                     city = COALESCE($2, city), country = COALESCE($3, country), \
                     languages = COALESCE($4, languages), skills = COALESCE($5, skills), \
                     disciplines = COALESCE($6, disciplines), bio = COALESCE($7, bio), \
                     open_to = COALESCE($8, open_to), \
                     profile_visibility = COALESCE($9, profile_visibility), \
                     show_email = COALESCE($10, show_email), \
                     language = COALESCE($11, language) WHERE id = $12",
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
                .bind(changes.language.as_deref())
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
        let engine = self.engine();
        let text = query.text.as_deref().and_then(|text| fts_query(engine, text));
        let from = |sql: &mut Sql| match (&text, engine) {
            (Some(text), Engine::Sqlite) => {
                sql.push(
                    " FROM people_fts f JOIN users u ON u.id = f.user_id WHERE people_fts MATCH ",
                );
                sql.bind(text.clone());
            }
            (Some(text), Engine::Postgres) => {
                sql.push(
                    " FROM people_search f JOIN users u ON u.id = f.user_id \
                     WHERE f.doc @@ to_tsquery('simple', unaccent(",
                );
                sql.bind(text.clone()).push("))");
            }
            (None, _) => {
                sql.push(" FROM users u WHERE 1 = 1");
            }
        };

        let mut count = Sql::new("SELECT COUNT(*)");
        from(&mut count);
        count.push(" AND u.profile_visibility = 'network'");
        push_filters(&mut count, engine, query);
        let total: i64 = count.build().fetch_one(self.pool()).await?.try_get(0)?;

        let mut page = Sql::new(concat!("SELECT ", profile_columns!()));
        from(&mut page);
        page.push(" AND u.profile_visibility = 'network'");
        push_filters(&mut page, engine, query);
        match (&text, engine) {
            // Columns: user_id, display_name, skills, disciplines, city, country, languages, bio.
            (Some(_), Engine::Sqlite) => page.push(
                " ORDER BY bm25(people_fts, 0, 4, 10, 10, 3, 2, 2, 1), u.display_name, u.id",
            ),
            // Weights of the classes D, C, B, A.
            (Some(text), Engine::Postgres) => page
                .push(" ORDER BY ts_rank('{0.1, 0.3, 0.4, 1.0}', f.doc, to_tsquery('simple', unaccent(")
                .bind(text.clone())
                .push("))) DESC, u.display_name, u.id"),
            (None, _) => page.push(" ORDER BY lower(u.display_name), u.id"),
        };
        page.push(" LIMIT ").bind(i64::from(query.limit));
        page.push(" OFFSET ").bind(i64::from(query.offset));
        let rows = page.build().fetch_all(self.pool()).await?;
        let people = rows.iter().map(profile).collect::<Result<_, _>>()?;
        Ok((people, u64::try_from(total).unwrap_or(0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_text_never_reaches_the_engines_as_syntax() {
        let sqlite = |text| fts_query(Engine::Sqlite, text);
        assert_eq!(sqlite("ceramics Lisbon").as_deref(), Some("\"ceramics\"* \"lisbon\"*"));
        assert_eq!(
            sqlite("a AND b* NEAR(c)").as_deref(),
            Some("\"a\"* \"and\"* \"b\"* \"near\"* \"c\"*")
        );
        assert_eq!(
            sqlite("\"; DROP TABLE users; --").as_deref(),
            Some("\"drop\"* \"table\"* \"users\"*")
        );
        assert_eq!(sqlite("  -- ").as_deref(), None);
        let postgres = |text| fts_query(Engine::Postgres, text);
        assert_eq!(postgres("Céramique Lisbon").as_deref(), Some("céramique:* & lisbon:*"));
        assert_eq!(postgres("a | !b & c:*").as_deref(), Some("a:* & b:* & c:*"));
        assert_eq!(postgres("'); --").as_deref(), None);
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
