//! Who is calling: a bearer token (`Authorization: Bearer`, or `?token=` on websockets), the
//! session cookie, or nobody; and the cross-site checks that make the cookie safe to use.
//!
//! A browser sends the cookie with any request to this host, including one a hostile page
//! makes, so a cookie counts only when the request also proves it comes from our own pages: for
//! anything that changes state, and for websocket upgrades, the `Origin` (or, without one, the
//! `Referer`) must be this server's origin. Tokens are not sent by browsers on their own and
//! need no such check.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use cookie::{Cookie, SameSite};
use hubring_workspace::{Caller, SessionCookie};

use crate::AppState;
use crate::config::AccountsConfig;
use crate::http::ApiError;

/// The session cookie's name.
pub(crate) const SESSION_COOKIE: &str = "hubring_session";

/// The caller of an `/api/v1` route.
#[derive(Debug)]
pub(crate) struct Auth(pub(crate) Caller);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, ApiError> {
        let changes_state = !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        authenticate(app, &parts.headers, None, changes_state).await.map(Auth)
    }
}

/// Resolves the caller from a bearer token (header, or `query_token` on websockets) or the
/// session cookie. `needs_origin`: the request changes state or opens a websocket, so a cookie
/// only counts from this server's own origin. A token that is unknown or revoked is refused,
/// not ignored: a script should learn its token stopped working.
pub(crate) async fn authenticate(
    app: &AppState,
    headers: &HeaderMap,
    query_token: Option<&str>,
    needs_origin: bool,
) -> Result<Caller, ApiError> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    if let Some(secret) = bearer.or(query_token) {
        return match app.workspace.token_caller(secret).await? {
            Some(caller) => Ok(caller),
            None => Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "the token is unknown or was revoked",
            )),
        };
    }
    let Some(secret) = session_secret(headers) else { return Ok(Caller::anonymous()) };
    let caller = app.workspace.session_caller(&secret).await?;
    if caller.user.is_some() && needs_origin {
        check_same_origin(headers, &app.config.accounts, true)?;
    }
    Ok(caller)
}

/// The session secret from the `Cookie` header, if any.
pub(crate) fn session_secret(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == SESSION_COOKIE)
        .map(|c| c.value().to_owned())
}

/// Refuses a request whose `Origin` (or `Referer`) is another site's. With `required`, a request
/// carrying neither is refused too (browsers send `Origin` on every state-changing request).
pub(crate) fn check_same_origin(
    headers: &HeaderMap,
    accounts: &AccountsConfig,
    required: bool,
) -> Result<(), ApiError> {
    let sent = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .filter(|o| *o != "null")
        .map(str::to_owned)
        .or_else(|| {
            let referer = headers.get(header::REFERER)?.to_str().ok()?;
            let (scheme, rest) = referer.split_once("://")?;
            Some(format!("{scheme}://{}", rest.split('/').next()?))
        });
    let Some(sent) = sent else {
        return if required { Err(cross_site("the request names no origin")) } else { Ok(()) };
    };
    let sent = sent.to_ascii_lowercase();
    let ours = match &accounts.public_origin {
        Some(origin) => sent == *origin,
        None => {
            // Without a configured public URL, the origin must name the host the request was
            // sent to (the scheme is not known behind a proxy).
            let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
            let sent_host = sent.split_once("://").map(|(_, h)| h);
            host.is_some_and(|h| Some(h.to_ascii_lowercase().as_str()) == sent_host)
        }
    };
    if ours { Ok(()) } else { Err(cross_site("the request comes from another site")) }
}

fn cross_site(why: &str) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "cross_site", format!("refused: {why}"))
}

/// The `Set-Cookie` value that signs a browser in.
pub(crate) fn session_cookie(session: &SessionCookie, accounts: &AccountsConfig) -> String {
    let max_age = (session.expires_at - hubring_store::now_ms()) / 1000;
    Cookie::build((SESSION_COOKIE, session.secret.clone()))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(accounts.secure_cookies)
        .max_age(cookie::time::Duration::seconds(max_age.max(0)))
        .build()
        .to_string()
}

/// The `Set-Cookie` value that signs a browser out.
pub(crate) fn cleared_cookie(accounts: &AccountsConfig) -> String {
    Cookie::build((SESSION_COOKIE, ""))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(accounts.secure_cookies)
        .max_age(cookie::time::Duration::ZERO)
        .build()
        .to_string()
}
