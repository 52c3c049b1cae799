//! The web app, built into the binary by `build.rs`: its files with their gzip and ETag, and
//! `index.html` for every other page path so the client's router can answer it (single-page
//! routing). Owns nothing else: `/api`, `/ws` and the probes never fall through to here.

use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

use crate::http::ApiError;

/// One built file of the web app.
#[derive(Debug)]
struct WebFile {
    route: &'static str,
    mime: &'static str,
    etag: &'static str,
    body: &'static [u8],
    gzip: Option<&'static [u8]>,
}

/// Sorted by route.
static FILES: &[WebFile] = include!(concat!(env!("OUT_DIR"), "/web_assets.rs"));

/// What the app may load: its own scripts, styles (the editor sets inline styles), images from
/// the asset store, data and blob URLs for pasted images, and websockets to this origin only.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; object-src 'none'; \
    base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

fn find(route: &str) -> Option<&'static WebFile> {
    FILES.binary_search_by(|file| file.route.cmp(route)).ok().map(|idx| &FILES[idx])
}

/// The fallback of the whole router: a file of the app, or the app itself for a page path.
pub(crate) async fn serve(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path();
    if path == "/api" || path.starts_with("/api/") || path.starts_with("/ws/") {
        return ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint")
            .into_response();
    }
    if method != Method::GET && method != Method::HEAD {
        return ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "use GET")
            .into_response();
    }
    let (file, page) = match find(path) {
        Some(file) if path != "/index.html" => (file, false),
        // A hashed asset that is gone (an old tab after an upgrade) must not be answered with
        // HTML, which the browser would try to run as a script.
        None if path.starts_with("/assets/") => {
            return ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such file")
                .into_response();
        }
        _ => (find("/index.html").expect("build.rs checks index.html is there"), true),
    };
    respond(file, page, &headers)
}

fn respond(file: &WebFile, page: bool, headers: &HeaderMap) -> Response {
    // Vite names everything under /assets/ by its content hash: it never changes.
    let cache = if file.route.starts_with("/assets/") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let mut out = HeaderMap::new();
    out.insert(header::CONTENT_TYPE, HeaderValue::from_static(file.mime));
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    out.insert(header::ETAG, HeaderValue::from_static(file.etag));
    out.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    out.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if page {
        out.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
        out.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    }
    let fresh =
        headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|tags| {
            tags.split(',').any(|tag| tag.trim() == file.etag || tag.trim() == "*")
        });
    if fresh {
        return (StatusCode::NOT_MODIFIED, out).into_response();
    }
    match file.gzip {
        Some(gzip) if accepts_gzip(headers) => {
            out.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            (out, gzip).into_response()
        }
        _ => (out, file.body).into_response(),
    }
}

fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers.get_all(header::ACCEPT_ENCODING).iter().filter_map(|v| v.to_str().ok()).any(|v| {
        v.split(',').any(|coding| {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| matches!(p.trim(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000"));
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(name: header::HeaderName, value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(name, HeaderValue::from_static(value));
        headers
    }

    #[test]
    fn files_are_sorted_for_lookup() {
        assert!(FILES.windows(2).all(|w| w[0].route < w[1].route));
        assert!(find("/index.html").is_some());
    }

    #[test]
    fn gzip_is_negotiated() {
        assert!(accepts_gzip(&with(header::ACCEPT_ENCODING, "gzip, deflate, br")));
        assert!(accepts_gzip(&with(header::ACCEPT_ENCODING, "br;q=1.0, gzip;q=0.8")));
        assert!(!accepts_gzip(&with(header::ACCEPT_ENCODING, "gzip;q=0, br")));
        assert!(!accepts_gzip(&with(header::ACCEPT_ENCODING, "identity")));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[tokio::test]
    async fn page_paths_get_the_app_and_api_paths_do_not() {
        for path in ["/", "/projects/p1/documents/i1", "/signin?next=%2Fpeople"] {
            let res = serve(Method::GET, path.parse().unwrap(), HeaderMap::new()).await;
            assert_eq!(res.status(), StatusCode::OK, "{path}");
            assert_eq!(res.headers()[header::CONTENT_TYPE], "text/html; charset=utf-8");
            assert!(res.headers().contains_key(header::CONTENT_SECURITY_POLICY));
        }
        for path in ["/api/v2/x", "/ws/elsewhere", "/assets/gone-1234.js"] {
            let res = serve(Method::GET, path.parse().unwrap(), HeaderMap::new()).await;
            assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
        }
        let res = serve(Method::POST, "/people".parse().unwrap(), HeaderMap::new()).await;
        assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    }

    #[tokio::test]
    async fn an_unchanged_file_is_not_sent_again() {
        let index = find("/index.html").unwrap();
        let res =
            serve(Method::GET, "/".parse().unwrap(), with(header::IF_NONE_MATCH, index.etag)).await;
        assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    }
}
