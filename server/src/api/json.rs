//! The JSON body extractor of `/api/v1`: every way a body can be wrong gets the one error body.
//! Malformed JSON is 400, a wrong or missing field 422 naming the field, a body over the limit
//! 413, a body that is not JSON 415.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

use crate::http::ApiError;

/// A JSON request body of type `T`.
#[derive(Debug)]
pub(crate) struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"));
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", "the body is too large")
            } else {
                ApiError::new(StatusCode::BAD_REQUEST, "bad_body", "the body could not be read")
            }
        })?;
        parse(&bytes).map(ApiJson)
    }
}

/// Deserializes `bytes`, naming the field at fault when the JSON is well-formed but wrong.
pub(crate) fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let inner = err.inner();
        if inner.is_syntax() || inner.is_eof() || inner.is_io() {
            return ApiError::new(
                StatusCode::BAD_REQUEST,
                "malformed_json",
                format!("the body is not valid JSON: {inner}"),
            );
        }
        let message = inner.to_string();
        // serde names a missing or unknown field in its message and reports the path of its
        // parent.
        let named =
            message.strip_prefix("missing field `").or(message.strip_prefix("unknown field `"));
        let field = match named {
            Some(rest) => rest.split('`').next().unwrap_or_default().to_owned(),
            None => err.path().to_string(),
        };
        let text = message.split(" at line ").next().unwrap_or(&message).to_owned();
        // What serde says of a missing field, a wrong type or an unknown value, as a code.
        let code = if message.starts_with("missing field") {
            "required"
        } else if message.starts_with("unknown field") {
            "unknown_field"
        } else {
            "wrong_value"
        };
        let mut fields = BTreeMap::new();
        fields.insert(field.clone(), text.clone());
        let mut codes = BTreeMap::new();
        codes.insert(field.clone(), hubring_protocol::Problem::new(code));
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", format!("{field}: {text}"))
            .with_fields(fields)
            .with_field_codes(codes)
    })?;
    de.end().map_err(|err| {
        ApiError::new(StatusCode::BAD_REQUEST, "malformed_json", format!("trailing data: {err}"))
    })?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use hubring_protocol::api::ProjectCreate;

    use super::*;

    #[test]
    fn each_kind_of_bad_body_is_named() {
        let cases: &[(&str, StatusCode, Option<&str>)] = &[
            (r#"{"title":"A","visibility":"private"}"#, StatusCode::OK, None),
            (r#"{"title":"A","visibility":"#, StatusCode::BAD_REQUEST, None),
            (r#"{"visibility":"private"}"#, StatusCode::UNPROCESSABLE_ENTITY, Some("title")),
            (
                r#"{"title":"A","visibility":"secret"}"#,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some("visibility"),
            ),
            (
                r#"{"title":7,"visibility":"public"}"#,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some("title"),
            ),
            (
                r#"{"title":"A","visibility":"public","owner":"me"}"#,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some("owner"),
            ),
            (r#"{"title":"A","visibility":"public"} x"#, StatusCode::BAD_REQUEST, None),
        ];
        for (body, status, field) in cases {
            match parse::<ProjectCreate>(body.as_bytes()) {
                Ok(_) => assert_eq!(*status, StatusCode::OK, "{body}"),
                Err(err) => {
                    assert_eq!(err.status(), *status, "{body}");
                    if let Some(field) = field {
                        assert!(err.fields().contains_key(*field), "{body}: {:?}", err.fields());
                    }
                }
            }
        }
    }
}
