//! How the workspace's tables hold values SQLite has no type for: enums as their lowercase
//! names, lists as JSON arrays of strings. A stored value this build cannot read is
//! [`StoreError::Corrupt`], never a panic.

use crate::StoreError;

/// An enum stored as its name.
pub(crate) fn decode<T>(
    raw: &str,
    parse: fn(&str) -> Option<T>,
    what: &'static str,
) -> Result<T, StoreError> {
    parse(raw).ok_or_else(|| StoreError::Corrupt(format!("unknown {what} {raw:?}")))
}

/// A list stored as a JSON array of strings.
pub(crate) fn list(raw: &str) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(raw).map_err(|err| StoreError::Corrupt(format!("list: {err}")))
}

/// The stored form of a list.
pub(crate) fn to_json(items: &[String]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".to_owned())
}
