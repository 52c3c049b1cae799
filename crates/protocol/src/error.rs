//! The error body every HTTP endpoint answers with: `{"error": {"code", "message"}}`, plus
//! `fields` (a message per invalid field) when the input was refused.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The JSON body of every error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// A stable machine-readable `code` and a message meant for people. Never an internal detail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
    /// What is wrong with each refused field, by field name (422 only).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, String>,
}

impl ErrorBody {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            error: ErrorDetail {
                code: code.into(),
                message: message.into(),
                fields: BTreeMap::new(),
            },
        }
    }

    /// An error naming what is wrong with each field.
    pub fn with_fields(mut self, fields: BTreeMap<String, String>) -> Self {
        self.error.fields = fields;
        self
    }
}
