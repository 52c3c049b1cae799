//! The error body every HTTP endpoint answers with: `{"error": {"code", "message"}}`, plus
//! `fields` (a message per invalid field) when the input was refused.
//!
//! Messages are English, for API users and logs. A client that speaks the person's language
//! words the error itself from its codes: `code` and `params` for the whole error,
//! `field_codes` for each refused field.

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
    /// The numbers the message quotes (a size limit in bytes, say), by name, for a client to
    /// word the error in its own language.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, u64>,
    /// What is wrong with each refused field as a code and its numbers (422 only).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub field_codes: BTreeMap<String, Problem>,
}

/// What is wrong with one field: a stable code (`required`, `too_short`, `too_long`,
/// `not_email`...) and the numbers it quotes (`min`, `max`...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Problem {
    pub code: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, u64>,
}

impl Problem {
    pub fn new(code: impl Into<String>) -> Self {
        Self { code: code.into(), params: BTreeMap::new() }
    }

    pub fn with(mut self, name: &str, value: u64) -> Self {
        self.params.insert(name.to_owned(), value);
        self
    }
}

impl ErrorBody {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            error: ErrorDetail {
                code: code.into(),
                message: message.into(),
                fields: BTreeMap::new(),
                params: BTreeMap::new(),
                field_codes: BTreeMap::new(),
            },
        }
    }

    /// An error naming what is wrong with each field.
    pub fn with_fields(mut self, fields: BTreeMap<String, String>) -> Self {
        self.error.fields = fields;
        self
    }

    pub fn with_field_codes(mut self, codes: BTreeMap<String, Problem>) -> Self {
        self.error.field_codes = codes;
        self
    }

    pub fn with_params(mut self, params: BTreeMap<String, u64>) -> Self {
        self.error.params = params;
        self
    }
}
