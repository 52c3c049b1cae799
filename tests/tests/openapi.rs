//! The OpenAPI document: served at `/api/v1/openapi.json`, valid by a standard validator
//! (`@apidevtools/swagger-parser`, from `tests/interop/package-lock.json`), covering every
//! `/api/v1` route the server answers, and readable at `/api/docs`.

use hubring_tests::{ApiClient, TestServer, interop_dir, npm_ci, npm_ci_in, web_dir};
use reqwest::{Method, StatusCode};
use serde_json::Value;

/// Every route of `/api/v1`, as the issue names them and as the server serves them.
const ROUTES: &[(&str, &str)] = &[
    ("POST", "/auth/signup"),
    ("POST", "/auth/login"),
    ("POST", "/auth/logout"),
    ("POST", "/auth/password"),
    ("POST", "/auth/reset"),
    ("POST", "/auth/reset/confirm"),
    ("POST", "/auth/confirm"),
    ("GET", "/me/notifications"),
    ("POST", "/me/notifications/read"),
    ("GET", "/me/notifications/stream"),
    ("GET", "/me/notification-prefs"),
    ("PUT", "/me/notification-prefs"),
    ("POST", "/unsubscribe/{secret}/{kind}"),
    ("GET", "/admin/mail"),
    ("POST", "/projects/{id}/sessions"),
    ("GET", "/projects/{id}/sessions"),
    ("GET", "/sessions/{id}"),
    ("PATCH", "/sessions/{id}"),
    ("DELETE", "/sessions/{id}"),
    ("PUT", "/sessions/{id}/rsvp"),
    ("GET", "/sessions/{id}/ics"),
    ("GET", "/me/sessions"),
    ("GET", "/me/calendar-feed"),
    ("POST", "/me/calendar-feed"),
    ("GET", "/calendar/{file}"),
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
    ("GET", "/me/invites"),
    ("POST", "/me/invites/{id}/accept"),
    ("DELETE", "/me/invites/{id}"),
    ("POST", "/projects/{id}/items"),
    ("POST", "/projects/{id}/coaching"),
    ("GET", "/projects/{id}/items"),
    ("GET", "/session"),
    ("GET", "/items/{id}"),
    ("PATCH", "/items/{id}"),
    ("DELETE", "/items/{id}"),
    ("GET", "/projects/{id}/trash"),
    ("DELETE", "/projects/{id}/trash"),
    ("POST", "/items/{id}/restore"),
    ("DELETE", "/items/{id}/trash"),
    ("GET", "/me/recent"),
    ("GET", "/me/hubs"),
    ("POST", "/assets"),
    ("GET", "/assets/{id}"),
    ("GET", "/boards/{id}"),
    ("POST", "/boards/{id}/votes"),
    ("POST", "/boards/{id}/votes/{vote}/close"),
    ("POST", "/boards/{id}/votes/{vote}/dots"),
    ("DELETE", "/boards/{id}/votes/{vote}/dots/{shape}"),
    ("PUT", "/boards/{id}/timer"),
    ("GET", "/items/{id}/threads"),
    ("POST", "/items/{id}/threads"),
    ("POST", "/items/{id}/threads/{thread}/addToDocument"),
    ("POST", "/items/{id}/threads/{thread}/comments"),
    ("PUT", "/items/{id}/threads/{thread}/comments/{comment}"),
    ("DELETE", "/items/{id}/threads/{thread}/comments/{comment}"),
    ("DELETE", "/items/{id}/threads/{thread}"),
    ("POST", "/items/{id}/threads/{thread}/resolve"),
    ("POST", "/items/{id}/threads/{thread}/unresolve"),
    ("POST", "/items/{id}/threads/{thread}/comments/{comment}/reactions"),
    ("DELETE", "/items/{id}/threads/{thread}/comments/{comment}/reactions/{emoji}"),
    ("GET", "/items/{id}/versions"),
    ("POST", "/items/{id}/versions"),
    ("GET", "/items/{id}/versions/{version}"),
    ("GET", "/items/{id}/versions/{from}/diff/{to}"),
    ("POST", "/items/{id}/versions/{version}/restore"),
    ("DELETE", "/boards/{id}/timer"),
    ("GET", "/boards/{id}/export.svg"),
    ("GET", "/boards/{id}/versions/{version}/export.svg"),
    ("GET", "/items/{id}/export"),
    ("POST", "/projects/{id}/import"),
    ("GET", "/templates"),
    ("POST", "/templates"),
    ("DELETE", "/templates/{id}"),
    ("GET", "/boards/{id}/export.png"),
    ("GET", "/boards/{id}/thumbnail.png"),
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
    // Operation ids name the generated client's types: two routes sharing one (two handlers
    // with one name) would give one of them the other's answer type.
    let mut ids = std::collections::HashSet::new();
    for (_, item) in doc["paths"].as_object().into_iter().flatten() {
        for (_, op) in item.as_object().into_iter().flatten() {
            let id = op["operationId"].as_str().unwrap_or_default();
            assert!(ids.insert(id.to_owned()), "operationId {id} is used twice");
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

/// The web client's TypeScript types are generated from this document (`npm run gen:api` in
/// `web/`), never written by hand: the checked-in file must be what the generator makes of the
/// document the server serves now.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_web_clients_api_types_match_the_server() -> anyhow::Result<()> {
    let web = web_dir();
    npm_ci_in(&web, "openapi-typescript").await?;
    let server = TestServer::start_with(|args| args.open_docs = Some(false)).await;
    let doc = reqwest::get(server.http_url("/api/v1/openapi.json")).await?.bytes().await?;
    server.stop().await;
    let dir = tempfile::tempdir()?;
    let (json, generated) = (dir.path().join("openapi.json"), dir.path().join("schema.ts"));
    std::fs::write(&json, &doc)?;
    let out = tokio::process::Command::new("node")
        .arg(web.join("node_modules/openapi-typescript/bin/cli.js"))
        .arg(&json)
        .arg("-o")
        .arg(&generated)
        .output()
        .await?;
    assert!(out.status.success(), "openapi-typescript: {}", String::from_utf8_lossy(&out.stderr));
    let checked_in = std::fs::read_to_string(web.join("src/api/schema.ts"))?;
    assert!(
        std::fs::read_to_string(&generated)? == checked_in,
        "web/src/api/schema.ts is stale: run `npm run gen:api` in web/"
    );
    Ok(())
}
