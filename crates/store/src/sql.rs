//! What the two engines share and where they differ.
//!
//! Every query is written once, run through sqlx's `Any` driver, with numbered placeholders
//! (`$1`, `$2`...), which PostgreSQL takes natively and sqlx's SQLite driver maps to the same
//! arguments. The few places where the engines' SQL differs ask [`Engine`] for their fragment
//! (a JSON array's elements, string aggregation, full-text search), so each difference is one
//! `match` beside the query that needs it.
//!
//! [`Sql`] is a query built at run time. sqlx's own `QueryBuilder` cannot serve here: under the
//! `Any` driver it writes `?` placeholders, which PostgreSQL rejects.

use std::fmt::Write;

use sqlx::any::{Any, AnyArguments, AnyRow};
use sqlx::{Arguments, AssertSqlSafe, Encode, Row, Type};

use crate::StoreError;

/// The database engine behind a [`crate::Store`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// The embedded default: one file, one writer.
    Sqlite,
    /// Several nodes on one database.
    Postgres,
}

impl Engine {
    /// The engine a connection talks to.
    pub(crate) fn of(conn: &sqlx::AnyConnection) -> Self {
        if conn.backend_name().eq_ignore_ascii_case("sqlite") {
            Self::Sqlite
        } else {
            Self::Postgres
        }
    }

    /// The elements of a JSON array of strings held in `column` (stored as text on both
    /// engines), as a `FROM` item `j` with one column `value`.
    pub(crate) fn json_strings(self, column: &str) -> String {
        match self {
            Self::Sqlite => format!("json_each({column}) AS j"),
            Self::Postgres => format!("jsonb_array_elements_text(({column})::jsonb) AS j(value)"),
        }
    }

    /// Concatenates `expr` over a group, separated by `sep` (a literal).
    pub(crate) fn string_agg(self, expr: &str, sep: &str) -> String {
        match self {
            Self::Sqlite => format!("group_concat({expr}, '{sep}')"),
            Self::Postgres => format!("string_agg({expr}, '{sep}')"),
        }
    }
}

/// A boolean column: PostgreSQL's `BOOLEAN`, or SQLite's 0 or 1.
pub(crate) fn flag<I>(row: &AnyRow, column: I) -> Result<bool, StoreError>
where
    I: sqlx::ColumnIndex<AnyRow> + Copy,
{
    match row.try_get::<bool, _>(column) {
        Ok(value) => Ok(value),
        Err(_) => Ok(row.try_get::<i64, _>(column)? != 0),
    }
}

/// A query put together at run time, its placeholders numbered as arguments are bound.
pub(crate) struct Sql {
    text: String,
    args: AnyArguments,
    n: usize,
}

impl Sql {
    pub(crate) fn new(start: &str) -> Self {
        Self { text: start.to_owned(), args: AnyArguments::default(), n: 0 }
    }

    /// Appends SQL text (never a value: values go through [`Self::bind`]).
    pub(crate) fn push(&mut self, sql: impl std::fmt::Display) -> &mut Self {
        let _ = write!(self.text, "{sql}");
        self
    }

    /// Appends a placeholder for `value`.
    pub(crate) fn bind<T>(&mut self, value: T) -> &mut Self
    where
        T: for<'q> Encode<'q, Any> + Type<Any> + Send + 'static,
    {
        self.n += 1;
        let _ = write!(self.text, "${}", self.n);
        // Encoding into `Any` arguments only copies the value: it cannot fail.
        let _ = self.args.add(value);
        self
    }

    /// Binds each of `values`, separated by commas (for `IN (...)`).
    pub(crate) fn bind_list<T>(&mut self, values: impl IntoIterator<Item = T>) -> &mut Self
    where
        T: for<'q> Encode<'q, Any> + Type<Any> + Send + 'static,
    {
        for (i, value) in values.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.bind(value);
        }
        self
    }

    pub(crate) fn build(self) -> sqlx::query::Query<'static, Any, AnyArguments> {
        sqlx::query_with(AssertSqlSafe(self.text), self.args)
    }
}
