//! The OpenAPI document: served at `/api/v1/openapi.json`, valid by a standard validator
//! (`@apidevtools/swagger-parser`, from `tests/interop/package-lock.json`), covering every
//! `/api/v1` route the server answers, and readable at `/api/docs`.

use hubring_tests::{ApiClient, TestServer, interop_dir, npm_ci};
use reqwest::{Method, StatusCode};
use serde_json::Value;

/// Every route of `/api/v1`, as the issue names them and as the server serves them.
const ROUTES: &[(&str, &str)] = &[
    ("POST", "/auth/signup"),
    ("POST", "/auth/login"),
    ("POST", "/auth/logout"),
    ("POST", "/auth/password"),
    ("GET", "/me"),
    ("GET", "/me/profile"),
    ("PATCH", "/me/profile"),
    ("POST", "/tokens"),
    ("GET", "/tokens"),
    ("DELETE", "/tokens/{id}"),
    ("POST", "/hubs"),
    ("GET", "/hubs"),
    ("GET", "/hubs/{id}"),
    ("PATCH", "/hubs/{id}"),
    ("POST", "/hubs/{id}/join"),
    ("PATCH", "/hubs/{id}/members/{user_id}"),
    ("DELETE", "/hubs/{id}/members/{user_id}"),
    ("GET", "/people"),
    ("GET", "/people/{id}"),
    ("POST", "/projects"),
    ("GET", "/projects"),
    ("GET", "/projects/{id}"),
    ("PATCH", "/projects/{id}"),
    ("DELETE", "/projects/{id}"),
    ("POST", "/projects/{id}/members"),
    ("PATCH", "/projects/{id}/members/{user_id}"),
    ("DELETE", "/projects/{id}/members/{user_id}"),
    ("POST", "/projects/{id}/owner"),
    ("POST", "/projects/{id}/invites"),
    ("GET", "/projects/{id}/invites"),
    ("DELETE", "/projects/{id}/invites/{invite_id}"),
    ("POST", "/invites/{token}/accept"),
    ("POST", "/projects/{id}/items"),
    ("GET", "/projects/{id}/items"),
    ("GET", "/items/{id}"),
    ("PATCH", "/items/{id}"),
    ("DELETE", "/items/{id}"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_is_valid_and_covers_every_route() -> anyhow::Result<()> {
    npm_ci("@apidevtools/swagger-parser").await?;
    let dir = interop_dir();
    let server = TestServer::start_with(|args| args.open_docs = Some(false)).await;
    let http = reqwest::Client::new();
    let doc: Value = http.get(server.http_url("/api/v1/openapi.json")).send().await?.json().await?;

    // A standard validator accepts it.
    let file = tempfile::NamedTempFile::new()?;
    std::fs::write(file.path(), serde_json::to_vec(&doc)?)?;
    let out = tokio::process::Command::new("node")
        .arg("validate_openapi.mjs")
        .arg(file.path())
        .current_dir(&dir)
        .output()
        .await
        .map_err(|err| anyhow::anyhow!("node is required for the OpenAPI validator: {err}"))?;
    assert!(
        out.status.success(),
        "the validator refused the document: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    // Every route is documented, and nothing documented is missing from the server.
    let mut documented = Vec::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for method in ["get", "post", "put", "patch", "delete"] {
            if !item[method].is_null() {
                documented.push((method.to_uppercase(), path.clone()));
            }
        }
    }
    let mut expected: Vec<(String, String)> =
        ROUTES.iter().map(|(m, p)| ((*m).to_owned(), (*p).to_owned())).collect();
    documented.sort();
    expected.sort();
    assert_eq!(documented, expected);
    let anonymous = ApiClient::anonymous(&server);
    for (method, path) in ROUTES {
        let concrete = path.replace('{', "x").replace('}', "");
        let method = Method::from_bytes(method.as_bytes())?;
        let reply = anonymous.send(method.clone(), &concrete, Some(serde_json::json!({}))).await?;
        assert_ne!(
            reply.body["error"]["message"], "no such route",
            "{method} {path} is not served"
        );
    }
    for (_, item) in doc["paths"].as_object().into_iter().flatten() {
        for (_, op) in item.as_object().into_iter().flatten() {
            assert!(op["summary"].as_str().is_some_and(|s| !s.is_empty()), "{op}");
            assert!(op["responses"]["4XX"]["content"]["application/json"].is_object());
        }
    }

    // The browsable page lists every operation.
    let page = http.get(server.http_url("/api/docs")).send().await?;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await?;
    assert_eq!(html.matches("class=\"op\"").count(), ROUTES.len());
    assert!(html.contains("id=\"schema-ProjectCreate\""));
    server.stop().await;
    Ok(())
}
