//! The identifier of a live document, as it appears in `/ws/doc/{doc_id}` and in the store.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A document id: 1 to [`DocId::MAX_LEN`] characters of `[A-Za-z0-9_.-]`.
///
/// The alphabet is small on purpose: ids travel in URLs, log lines and file names unescaped.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String))]
pub struct DocId(String);

/// Why a string is not a [`DocId`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocIdError {
    #[error("a document id may not be empty")]
    Empty,
    #[error("a document id is at most {max} characters, this one has {len}", max = DocId::MAX_LEN)]
    TooLong { len: usize },
    #[error("a document id may only contain A-Z, a-z, 0-9, '_', '.' and '-'")]
    BadCharacter,
}

impl DocId {
    /// The longest id accepted.
    pub const MAX_LEN: usize = 128;

    /// Checks `raw` and wraps it.
    pub fn parse(raw: &str) -> Result<Self, DocIdError> {
        raw.parse()
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for DocId {
    type Err = DocIdError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        if raw.is_empty() {
            return Err(DocIdError::Empty);
        }
        if raw.len() > Self::MAX_LEN {
            return Err(DocIdError::TooLong { len: raw.len() });
        }
        let allowed = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-');
        if !raw.bytes().all(allowed) {
            return Err(DocIdError::BadCharacter);
        }
        Ok(Self(raw.to_owned()))
    }
}

impl TryFrom<String> for DocId {
    type Error = DocIdError;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        raw.parse()
    }
}

impl From<DocId> for String {
    fn from(id: DocId) -> Self {
        id.0
    }
}

impl fmt::Display for DocId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doc_id_rules() {
        let long_ok = "a".repeat(128);
        let too_long = "a".repeat(129);
        let cases: &[(&str, Result<(), DocIdError>)] = &[
            ("proposal-2026", Ok(())),
            ("A.b_c-9", Ok(())),
            (&long_ok, Ok(())),
            ("", Err(DocIdError::Empty)),
            (&too_long, Err(DocIdError::TooLong { len: 129 })),
            ("has space", Err(DocIdError::BadCharacter)),
            ("slash/inside", Err(DocIdError::BadCharacter)),
            ("é", Err(DocIdError::BadCharacter)),
            ("percent%20", Err(DocIdError::BadCharacter)),
        ];
        for (raw, want) in cases {
            assert_eq!(DocId::parse(raw).map(|_| ()), *want, "{raw:?}");
        }
    }

    #[test]
    fn doc_id_is_checked_when_deserialized() {
        assert!(serde_json::from_str::<DocId>("\"ok-id\"").is_ok());
        assert!(serde_json::from_str::<DocId>("\"not ok\"").is_err());
    }
}
