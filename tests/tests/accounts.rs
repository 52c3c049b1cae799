//! Accounts from outside: sessions and their revocation, tokens, cross-site requests, rate
//! limits, bad input, and secrets that never leave the server.

use hubring_tests::{ApiClient, DocClient, PASSWORD, TestServer};
use reqwest::StatusCode;
use serde_json::{Value, json};
use yrs::{Text, WriteTxn};

fn accounts_server() -> impl FnOnce(&mut hubring::config::ServeArgs) {
    |args| args.open_docs = Some(false)
}

/// Every string anywhere in a JSON value.
fn strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        Value::Object(map) => {
            for (k, v) in map {
                out.push(k.clone());
                strings(v, out);
            }
        }
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_sign_in_out_and_the_first_account_is_admin() -> anyhow::Result<()> {
    let server = TestServer::start_with(accounts_server()).await;
    let first = ApiClient::signup(&server, "first@hubs.example").await?;
    let second = ApiClient::signup(&server, "second@hubs.example").await?;
    assert_eq!(first.get("/me").await?.body["is_admin"], true);
    assert_eq!(second.get("/me").await?.body["is_admin"], false);

    let taken = ApiClient::anonymous(&server)
        .post(
            "/auth/signup",
            json!({"email": "FIRST@hubs.example", "password": PASSWORD, "display_name": "x"}),
        )
        .await?;
    assert_eq!(taken.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(taken.body["error"]["fields"]["email"].is_string());

    let browser = ApiClient::anonymous(&server);
    let wrong = browser
        .post("/auth/login", json!({"email": "second@hubs.example", "password": "not it at all"}))
        .await?;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let unknown = browser
        .post("/auth/login", json!({"email": "nobody@hubs.example", "password": PASSWORD}))
        .await?;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        unknown.body["error"]["code"], wrong.body["error"]["code"],
        "no account enumeration"
    );
    let ok = browser
        .post("/auth/login", json!({"email": "Second@Hubs.example", "password": PASSWORD}))
        .await?;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(browser.get("/me").await?.status, StatusCode::OK);
    let session = browser.get("/session").await?;
    assert_eq!(session.body["user"]["email"], "second@hubs.example");
    assert_eq!(browser.post("/auth/logout", json!({})).await?.status, StatusCode::NO_CONTENT);
    assert_eq!(browser.get("/me").await?.status, StatusCode::UNAUTHORIZED);
    // Asking who is signed in is never an error: the web app asks on every page.
    let session = browser.get("/session").await?;
    assert_eq!((session.status, &session.body["user"]), (StatusCode::OK, &Value::Null));
    let visitor = ApiClient::anonymous(&server).get("/session").await?;
    assert_eq!((visitor.status, &visitor.body["user"]), (StatusCode::OK, &Value::Null));
    // The upload limit, for a client to check a file before sending it.
    assert!(visitor.body["max_upload_bytes"].as_u64().is_some_and(|n| n > 1_000_000));
    server.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_change_signs_out_other_sessions_but_not_this_one() -> anyhow::Result<()> {
    let server = TestServer::start_with(accounts_server()).await;
    let here = ApiClient::signup(&server, "ana@hubs.example").await?;
    let elsewhere = ApiClient::anonymous(&server);
    elsewhere
        .post("/auth/login", json!({"email": "ana@hubs.example", "password": PASSWORD}))
        .await?;
    assert_eq!(elsewhere.get("/me").await?.status, StatusCode::OK);
    let bad = here
        .post("/auth/password", json!({"current_password": "wrong guess!!", "new_password": "x"}))
        .await?;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let changed = here
        .post(
            "/auth/password",
            json!({"current_password": PASSWORD, "new_password": "a brand new passphrase"}),
        )
        .await?;
    assert_eq!(changed.status, StatusCode::NO_CONTENT, "{changed:?}");
    assert_eq!(here.get("/me").await?.status, StatusCode::OK);
    assert_eq!(elsewhere.get("/me").await?.status, StatusCode::UNAUTHORIZED);
    // A revoked session is a signed-out visitor there, not an error.
    let session = elsewhere.get("/session").await?;
    assert_eq!((session.status, &session.body["user"]), (StatusCode::OK, &Value::Null));
    server.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_token_stops_working_and_closes_its_documents() -> anyhow::Result<()> {
    let server = TestServer::start_with(accounts_server()).await;
    let ana = ApiClient::signup(&server, "ana@hubs.example").await?;
    let created = ana.post("/tokens", json!({"name": "sync script"})).await?;
    assert_eq!(created.status, StatusCode::CREATED);
    let token = created.body["token"].as_str().unwrap_or_default().to_owned();
    let token_id = created.body["id"].as_str().unwrap_or_default().to_owned();
    let listed = ana.get("/tokens").await?;
    assert_eq!(listed.body[0]["name"], "sync script");
    assert!(listed.body[0].get("token").is_none(), "the secret is shown once");

    let http = reqwest::Client::new();
    let me = |token: String| {
        let http = http.clone();
        let url = server.http_url("/api/v1/me");
        async move { http.get(url).bearer_auth(token).send().await.map(|r| r.status()) }
    };
    assert_eq!(me(token.clone()).await?, StatusCode::OK);

    let project = ana.post("/projects", json!({"title": "P", "visibility": "private"})).await?;
    let pid = project.body["id"].as_str().unwrap_or_default().to_owned();
    let item = ana
        .post(&format!("/projects/{pid}/items"), json!({"kind": "document", "title": "D"}))
        .await?;
    let doc = item.body["doc_id"].as_str().unwrap_or_default().to_owned();
    let mut conn =
        DocClient::connect_synced(&format!("{}?token={token}", server.doc_url(&doc))).await?;

    assert_eq!(ana.delete(&format!("/tokens/{token_id}")).await?.status, StatusCode::NO_CONTENT);
    assert_eq!(conn.wait_closed().await?, 1008);
    assert_eq!(me(token.clone()).await?, StatusCode::UNAUTHORIZED);
    assert!(DocClient::connect(&format!("{}?token={token}", server.doc_url(&doc))).await.is_err());
    assert_eq!(ana.delete(&format!("/tokens/{token_id}")).await?.status, StatusCode::NOT_FOUND);
    server.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cookies_count_only_from_our_own_origin() -> anyhow::Result<()> {
    let server = TestServer::start_with(accounts_server()).await;
    let ana = ApiClient::signup(&server, "ana@hubs.example").await?;
    // The same cookie jar, from a page on another site and from nowhere.
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let login_url = server.http_url("/api/v1/auth/login").parse()?;
    let http = reqwest::Client::builder().cookie_provider(jar.clone()).build()?;
    let origin = format!("http://{}", server.addr);
    let signed = http
        .post(server.http_url("/api/v1/auth/login"))
        .header("origin", &origin)
        .json(&json!({"email": "ana@hubs.example", "password": PASSWORD}))
        .send()
        .await?;
    assert_eq!(signed.status(), StatusCode::OK);
    assert!(reqwest::cookie::CookieStore::cookies(&*jar, &login_url).is_some());
    let create = |origin: Option<&str>| {
        let mut req = http
            .post(server.http_url("/api/v1/projects"))
            .json(&json!({"title": "P", "visibility": "private"}));
        if let Some(origin) = origin {
            req = req.header("origin", origin);
        }
        req.send()
    };
    assert_eq!(create(Some("http://evil.example")).await?.status(), StatusCode::FORBIDDEN);
    assert_eq!(create(None).await?.status(), StatusCode::FORBIDDEN);
    assert_eq!(create(Some(&origin)).await?.status(), StatusCode::CREATED);
    // Reads need no origin: a cross-site page cannot read the answer anyway.
    let projects = http.get(server.http_url("/api/v1/projects")).send().await?;
    assert_eq!(projects.status(), StatusCode::OK);
    // A login from another site is refused too (login CSRF).
    let forged = reqwest::Client::new()
        .post(server.http_url("/api/v1/auth/login"))
        .header("origin", "http://evil.example")
        .json(&json!({"email": "ana@hubs.example", "password": PASSWORD}))
        .send()
        .await?;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    drop(ana);
    server.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_attempts_are_rate_limited_per_address() -> anyhow::Result<()> {
    let server = TestServer::start_with(|args| {
        args.open_docs = Some(false);
        args.auth_per_minute = Some(3);
    })
    .await;
    let browser = ApiClient::anonymous(&server);
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let reply = browser
            .post("/auth/login", json!({"email": "nobody@hubs.example", "password": PASSWORD}))
            .await?;
        statuses.push(reply.status.as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 429, 429]);
    server.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_clear_4xx_and_changes_nothing() -> anyhow::Result<()> {
    let server = TestServer::start_with(accounts_server()).await;
    let ana = ApiClient::signup(&server, "ana@hubs.example").await?;
    let long = "x".repeat(201);
    let cases: Vec<(Value, u16, &str)> = vec![
        (json!({"visibility": "private"}), 422, "title"),
        (json!({"title": "P", "visibility": "secret"}), 422, "visibility"),
        (json!({"title": long, "visibility": "private"}), 422, "title"),
        (json!({"title": "   ", "visibility": "private"}), 422, "title"),
        (json!({"title": 5, "visibility": "private"}), 422, "title"),
        (json!({"title": "P", "visibility": "private", "owner": "me"}), 422, "owner"),
        (json!({"title": "P", "visibility": "private", "hub_ids": ["nope"]}), 422, "hub_ids"),
    ];
    for (body, status, field) in cases {
        let reply = ana.post("/projects", body.clone()).await?;
        assert_eq!(reply.status.as_u16(), status, "{body}: {reply:?}");
        assert!(reply.body["error"]["fields"][field].is_string(), "{body}: {reply:?}");
        assert!(reply.body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
        // A code beside each English message, for a client to word it in its language.
        let code = &reply.body["error"]["field_codes"][field]["code"];
        assert!(code.as_str().is_some_and(|c| !c.is_empty()), "{body}: {reply:?}");
    }
    // The codes and their numbers, as a client words them.
    let codes = |reply: &hubring_tests::Reply| reply.body["error"]["field_codes"].clone();
    let empty = ana.post("/projects", json!({"title": "  ", "visibility": "private"})).await?;
    assert_eq!(codes(&empty)["title"], json!({"code": "required"}));
    let long_title = ana.post("/projects", json!({"title": long, "visibility": "private"})).await?;
    assert_eq!(codes(&long_title)["title"], json!({"code": "too_long", "params": {"max": 200}}));
    let no_hub = ana
        .post("/projects", json!({"title": "P", "visibility": "private", "hub_ids": ["nope"]}))
        .await?;
    assert_eq!(codes(&no_hub)["hub_ids"], json!({"code": "unknown_hub"}));
    let untyped = ana.post("/projects", json!({"visibility": "private"})).await?;
    assert_eq!(codes(&untyped)["title"], json!({"code": "required"}));
    // Malformed, not JSON, too large.
    let http = reqwest::Client::new();
    let url = server.http_url("/api/v1/auth/signup");
    let malformed = http
        .post(&url)
        .header("content-type", "application/json")
        .body("{\"email\":")
        .send()
        .await?;
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    let body: Value = malformed.json().await?;
    assert_eq!(body["error"]["code"], "malformed_json");
    let text = http.post(&url).header("content-type", "text/plain").body("hi").send().await?;
    assert_eq!(text.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let huge =
        json!({"email": "x@y.example", "password": "y".repeat(2 << 20), "display_name": "z"});
    let too_large = http.post(&url).json(&huge).send().await?;
    assert_eq!(too_large.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // Nothing was created by any of it.
    assert_eq!(ana.get("/projects").await?.body, json!([]));
    server.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_route_ever_returns_a_password_hash_or_a_stored_secret() -> anyhow::Result<()> {
    let server = TestServer::start_with(accounts_server()).await;
    let ana = ApiClient::signup(&server, "ana@hubs.example").await?;
    let bo = ApiClient::signup(&server, "bo@hubs.example").await?;
    ana.token().await?;
    let project = ana.post("/projects", json!({"title": "P", "visibility": "network"})).await?;
    let pid = project.body["id"].as_str().unwrap_or_default().to_owned();
    ana.post(
        &format!("/projects/{pid}/members"),
        json!({"email": "bo@hubs.example", "role": "editor"}),
    )
    .await?;
    bo.accept_invites().await?;
    ana.post(&format!("/projects/{pid}/items"), json!({"kind": "board", "title": "B"})).await?;
    let mut seen = Vec::new();
    for client in [&ana, &bo] {
        for path in [
            "/me",
            "/tokens",
            "/projects",
            &format!("/projects/{pid}"),
            &format!("/projects/{pid}/items"),
        ] {
            strings(&client.get(path).await?.body, &mut seen);
        }
    }
    assert!(!seen.is_empty());
    for s in &seen {
        assert!(!s.starts_with("$argon2"), "a password hash was returned: {s}");
        assert!(!s.contains("password"), "a password field was returned: {s}");
        assert!(!s.starts_with("hrs_"), "a session secret was returned");
    }
    server.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invite_only_sign_up_admits_the_first_account_and_invited_addresses() -> anyhow::Result<()>
{
    let server = TestServer::start_with(|args| {
        args.open_docs = Some(false);
        args.signup = Some(hubring::config::SignupMode::InviteOnly);
    })
    .await;
    let first = ApiClient::signup(&server, "first@hubs.example").await?;
    let stranger = ApiClient::anonymous(&server)
        .post(
            "/auth/signup",
            json!({"email": "stranger@hubs.example", "password": PASSWORD, "display_name": "S"}),
        )
        .await?;
    assert_eq!(stranger.status, StatusCode::FORBIDDEN);
    assert_eq!(stranger.body["error"]["code"], "signup_closed");
    let project = first.post("/projects", json!({"title": "P", "visibility": "private"})).await?;
    let pid = project.body["id"].as_str().unwrap_or_default().to_owned();
    first
        .post(
            &format!("/projects/{pid}/members"),
            json!({"email": "guest@hubs.example", "role": "viewer"}),
        )
        .await?;
    let guest = ApiClient::signup(&server, "guest@hubs.example").await?;
    assert_eq!(guest.get(&format!("/projects/{pid}")).await?.body["my_role"], "viewer");
    server.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_https_the_session_cookie_is_secure_and_only_that_origin_counts()
-> anyhow::Result<()> {
    let server = TestServer::start_with(|args| {
        args.open_docs = Some(false);
        args.public_url = Some("https://hubring.example.org/".to_owned());
    })
    .await;
    let http = reqwest::Client::new();
    let signup = http
        .post(server.http_url("/api/v1/auth/signup"))
        .header("origin", "https://hubring.example.org")
        .json(&json!({"email": "ana@hubs.example", "password": PASSWORD, "display_name": "Ana"}))
        .send()
        .await?;
    assert_eq!(signup.status(), StatusCode::CREATED);
    let cookie = signup
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    for attribute in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/", "Max-Age="] {
        assert!(cookie.contains(attribute), "{attribute} missing from {cookie}");
    }
    let session = cookie.split(';').next().unwrap_or_default().to_owned();
    let create = |origin: &'static str| {
        http.post(server.http_url("/api/v1/projects"))
            .header("cookie", session.clone())
            .header("origin", origin)
            .json(&json!({"title": "P", "visibility": "private"}))
            .send()
    };
    // The Host the request reached is not what counts behind a proxy: the public origin is.
    let local = format!("http://{}", server.addr);
    let local: &'static str = Box::leak(local.into_boxed_str());
    assert_eq!(create(local).await?.status(), StatusCode::FORBIDDEN);
    assert_eq!(create("https://hubring.example.org").await?.status(), StatusCode::CREATED);
    server.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ownership_moves_members_leave_and_a_downgrade_closes_write_connections()
-> anyhow::Result<()> {
    let server = TestServer::start_with(|args| args.open_docs = Some(false)).await;
    // The first account is the admin, who acts as an owner everywhere: keep them out of it.
    ApiClient::signup(&server, "admin@hubs.example").await?;
    let owner = ApiClient::signup(&server, "owner@hubs.example").await?;
    let editor = ApiClient::signup(&server, "editor@hubs.example").await?;
    let project = owner.post("/projects", json!({"title": "P", "visibility": "private"})).await?;
    let pid = project.body["id"].as_str().unwrap_or_default().to_owned();
    owner
        .post(
            &format!("/projects/{pid}/members"),
            json!({"email": "editor@hubs.example", "role": "editor"}),
        )
        .await?;
    assert_eq!(editor.accept_invites().await?, 1);
    let item = owner
        .post(&format!("/projects/{pid}/items"), json!({"kind": "document", "title": "D"}))
        .await?;
    let doc = item.body["doc_id"].as_str().unwrap_or_default().to_owned();
    let url = format!("{}?token={}", server.doc_url(&doc), editor.token().await?);
    let mut conn = DocClient::connect_synced(&url).await?;
    let downgraded = owner
        .patch(&format!("/projects/{pid}/members/{}", editor.id()), json!({"role": "viewer"}))
        .await?;
    assert_eq!(downgraded.status, StatusCode::NO_CONTENT);
    assert_eq!(conn.wait_closed().await?, 1008, "a downgraded writer is closed at once");
    // Reconnecting works, read-only.
    let mut again = DocClient::connect_synced(&url).await?;
    again.edit(|txn| txn.get_or_insert_text("t").push(txn, "nope")).await?;
    again.wait_for(|e| matches!(e, hubring_tests::Event::Auth(_))).await?;
    again.close().await;

    // The owner hands over and becomes an editor; the new owner may now delete.
    let refused = owner.delete(&format!("/projects/{pid}/members/{}", owner.id())).await?;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "the owner cannot leave");
    let moved =
        owner.post(&format!("/projects/{pid}/owner"), json!({"user_id": editor.id()})).await?;
    assert_eq!(moved.status, StatusCode::NO_CONTENT);
    let view = editor.get(&format!("/projects/{pid}")).await?;
    assert_eq!(view.body["my_role"], "owner");
    assert_eq!(owner.get(&format!("/projects/{pid}")).await?.body["my_role"], "editor");
    // The old owner leaves; the project is gone for them.
    let left = owner.delete(&format!("/projects/{pid}/members/{}", owner.id())).await?;
    assert_eq!(left.status, StatusCode::NO_CONTENT);
    assert_eq!(owner.get(&format!("/projects/{pid}")).await?.status, StatusCode::NOT_FOUND);
    // Archive, then delete.
    let archived = editor.patch(&format!("/projects/{pid}"), json!({"archived": true})).await?;
    assert_eq!(archived.status, StatusCode::NO_CONTENT);
    assert_eq!(editor.get(&format!("/projects/{pid}")).await?.body["archived"], true);
    assert_eq!(editor.delete(&format!("/projects/{pid}")).await?.status, StatusCode::NO_CONTENT);
    assert_eq!(editor.get(&format!("/projects/{pid}")).await?.status, StatusCode::NOT_FOUND);
    server.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_guesses_are_limited_per_account_whatever_the_address() -> anyhow::Result<()> {
    let server = TestServer::start_with(|args| {
        args.open_docs = Some(false);
        // The address limit out of the way: each guess below comes from a fresh address anyway.
        args.auth_per_minute = Some(1000);
    })
    .await;
    ApiClient::signup(&server, "ana@hubs.example").await?;
    let from = |n: u8| ApiClient::anonymous_from(&server, Some([127, 0, 0, n].into()));
    let login = |client: ApiClient, email: &'static str, password: &'static str| async move {
        let reply =
            client.post("/auth/login", json!({"email": email, "password": password})).await?;
        anyhow::Ok(reply.status.as_u16())
    };
    // Ten wrong guesses from ten addresses, then even the right password waits; an address
    // nobody has meets the same limit at the same point, so the limit tells no one who exists.
    for email in ["ana@hubs.example", "nobody@hubs.example"] {
        let mut statuses = Vec::new();
        for n in 0..10 {
            statuses.push(login(from(10 + n), email, "a wrong guess").await?);
        }
        assert_eq!(statuses, [401; 10], "{email}");
        assert_eq!(login(from(40), email, PASSWORD).await?, 429, "{email}: the 11th attempt");
    }
    assert_eq!(login(from(41), " ANA@hubs.example ", PASSWORD).await?, 429, "case and spaces");
    // Another account is not held up.
    ApiClient::signup(&server, "rui@hubs.example").await?;
    assert_eq!(login(from(42), "rui@hubs.example", PASSWORD).await?, 200);

    // The current password of a password change is a guess too: a stolen session gets ten.
    let eva = ApiClient::signup(&server, "eva@hubs.example").await?;
    let change = |current: &'static str| {
        let eva = eva.clone();
        async move {
            let body =
                json!({"current_password": current, "new_password": "a brand new passphrase"});
            anyhow::Ok(eva.post("/auth/password", body).await?.status.as_u16())
        }
    };
    for n in 0..10 {
        assert_ne!(change("a wrong guess").await?, 429, "guess {n}");
    }
    assert_eq!(change(PASSWORD).await?, 429, "the 11th change");
    assert_eq!(eva.get("/me").await?.status, StatusCode::OK, "the session itself still works");
    server.stop().await;
    Ok(())
}
