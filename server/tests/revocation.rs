//! Every path that shrinks someone's access closes their open document socket and room socket:
//! removal from the project, a downgrade, the item deleted or moved away, signing out, a
//! password change elsewhere, `hubring admin reset-password` (the real binary, beside the
//! server) and a revoked token. One table, one server, a fresh project per row.

use std::path::Path;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use hubring_protocol::room::{ClientMsg, ServerMsg};
use hubring_tests::{ApiClient, DocClient, PASSWORD, TestServer};
use reqwest::StatusCode;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::client::Request;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shrink {
    Removal,
    Downgrade,
    ItemDeleted,
    ItemMoved,
    SignOut,
    PasswordChange,
    AdminReset,
    TokenRevoked,
}

/// How Rui's sockets are opened: a browser session's cookie, or a script's token.
enum Credential {
    Cookie(String),
    Token { secret: String, id: String },
}

/// Signs in as a browser does and returns the session cookie (`name=value`).
async fn session_cookie(
    server: &TestServer,
    email: &str,
    password: &str,
) -> anyhow::Result<String> {
    let reply = reqwest::Client::new()
        .post(server.http_url("/api/v1/auth/login"))
        .header("origin", format!("http://{}", server.addr))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await?;
    anyhow::ensure!(reply.status() == StatusCode::OK, "login: {}", reply.status());
    let cookie = reply.headers().get("set-cookie").and_then(|v| v.to_str().ok()).unwrap_or("");
    Ok(cookie.split(';').next().unwrap_or("").to_owned())
}

/// A websocket request with the credential, as a page of the server (or a script) makes it.
fn request(server: &TestServer, path: &str, credential: &Credential) -> anyhow::Result<Request> {
    let mut url = format!("ws://{}{path}", server.addr);
    if let Credential::Token { secret, .. } = credential {
        url = format!("{url}?token={secret}");
    }
    let mut request = url.into_client_request()?;
    if let Credential::Cookie(cookie) = credential {
        request.headers_mut().insert("cookie", cookie.parse()?);
        request.headers_mut().insert("origin", format!("http://{}", server.addr).parse()?);
    }
    Ok(request)
}

/// Opens a room socket and joins.
async fn join_room(request: Request) -> anyhow::Result<Ws> {
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await?;
    let join = serde_json::to_string(&ClientMsg::Join { name: None })?;
    ws.send(Message::Text(join.into())).await?;
    loop {
        let msg = tokio::time::timeout(hubring_tests::WAIT, ws.next()).await?;
        if let Some(Ok(Message::Text(text))) = msg {
            if matches!(serde_json::from_str(&text)?, ServerMsg::Welcome { .. }) {
                return Ok(ws);
            }
        } else {
            anyhow::bail!("the room socket ended before its welcome: {msg:?}");
        }
    }
}

/// Reads the room socket until the server closes it; the close code.
async fn room_closed(ws: &mut Ws) -> anyhow::Result<u16> {
    loop {
        match tokio::time::timeout(hubring_tests::WAIT, ws.next()).await? {
            Some(Ok(Message::Close(frame))) => return Ok(frame.map_or(1005, |f| u16::from(f.code))),
            Some(Ok(_)) => {}
            other => anyhow::bail!("the room socket ended without a close frame: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_path_that_shrinks_access_closes_document_and_room_sockets() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = TestServer::start_in(dir.path(), |args| {
        args.open_docs = Some(false);
        // Two sign-ins a row from one address: the address limit is not what is tested here.
        args.auth_per_minute = Some(1000);
        args.rtc_bind = Some(std::net::IpAddr::from([127, 0, 0, 1]));
    })
    .await;
    let ana = ApiClient::signup(&server, "ana@porto.example").await?;
    let rui = ApiClient::signup(&server, "rui@nantes.example").await?;
    let rui_id = rui.id().to_owned();
    let mut rui_password = PASSWORD.to_owned();
    let elsewhere = ana.post("/projects", json!({"title": "Elsewhere", "visibility": "private"}));
    let elsewhere = elsewhere.await?.body["id"].as_str().unwrap_or_default().to_owned();

    let paths = [
        Shrink::Removal,
        Shrink::Downgrade,
        Shrink::ItemDeleted,
        Shrink::ItemMoved,
        Shrink::SignOut,
        Shrink::PasswordChange,
        Shrink::AdminReset,
        Shrink::TokenRevoked,
    ];
    let mut report = Vec::new();
    for path in paths {
        // A project Rui edits, with a document and a room.
        let project = ana.post("/projects", json!({"title": "Proposal", "visibility": "private"}));
        let project = project.await?.body["id"].as_str().unwrap_or_default().to_owned();
        let added = ana
            .post(
                &format!("/projects/{project}/members"),
                json!({"email": "rui@nantes.example", "role": "editor"}),
            )
            .await?;
        assert!(added.status.is_success(), "{added:?}");
        // Rui accepts in a browser of theirs (an earlier row's password change signed the
        // others out).
        let joiner = ApiClient::anonymous(&server);
        let login = json!({"email": "rui@nantes.example", "password": rui_password});
        assert_eq!(joiner.post("/auth/login", login).await?.status, StatusCode::OK);
        assert_eq!(joiner.accept_invites().await?, 1);
        let item = |kind: &'static str| {
            let ana = ana.clone();
            let project = project.clone();
            async move {
                let item = ana
                    .post(
                        &format!("/projects/{project}/items"),
                        json!({"kind": kind, "title": kind}),
                    )
                    .await?;
                let id = item.body["id"].as_str().unwrap_or_default().to_owned();
                let doc = item.body["doc_id"].as_str().unwrap_or_default().to_owned();
                anyhow::Ok((id, doc))
            }
        };
        let (doc_item, doc_id) = item("document").await?;
        let (room_item, _) = item("room").await?;

        // Rui's credential for this row, and another session of Rui's to act from.
        let rui_browser = ApiClient::anonymous(&server);
        let login = json!({"email": "rui@nantes.example", "password": rui_password});
        assert_eq!(rui_browser.post("/auth/login", login).await?.status, StatusCode::OK);
        let credential = if path == Shrink::TokenRevoked {
            let created = rui_browser.post("/tokens", json!({"name": "script"})).await?;
            Credential::Token {
                secret: created.body["token"].as_str().unwrap_or_default().to_owned(),
                id: created.body["id"].as_str().unwrap_or_default().to_owned(),
            }
        } else {
            Credential::Cookie(session_cookie(&server, "rui@nantes.example", &rui_password).await?)
        };
        let mut doc = DocClient::connect_request_synced(request(
            &server,
            &format!("/ws/doc/{doc_id}"),
            &credential,
        )?)
        .await?;
        let mut room =
            join_room(request(&server, &format!("/ws/room/{room_item}"), &credential)?).await?;

        let began = Instant::now();
        let members = format!("/projects/{project}/members/{rui_id}");
        let deadline = match path {
            Shrink::Removal => {
                assert!(ana.delete(&members).await?.status.is_success());
                Duration::from_secs(1)
            }
            Shrink::Downgrade => {
                assert!(ana.patch(&members, json!({"role": "viewer"})).await?.status.is_success());
                Duration::from_secs(1)
            }
            Shrink::ItemDeleted => {
                for item in [&doc_item, &room_item] {
                    assert!(ana.delete(&format!("/items/{item}")).await?.status.is_success());
                }
                Duration::from_secs(1)
            }
            Shrink::ItemMoved => {
                for item in [&doc_item, &room_item] {
                    let path = format!("/items/{item}");
                    let moved = ana.patch(&path, json!({"project_id": elsewhere})).await?;
                    assert!(moved.status.is_success(), "{moved:?}");
                }
                Duration::from_secs(1)
            }
            Shrink::SignOut => {
                let Credential::Cookie(cookie) = &credential else { unreachable!() };
                let out = reqwest::Client::new()
                    .post(server.http_url("/api/v1/auth/logout"))
                    .header("cookie", cookie)
                    .header("origin", format!("http://{}", server.addr))
                    .send()
                    .await?;
                assert!(out.status().is_success(), "{}", out.status());
                Duration::from_secs(1)
            }
            Shrink::PasswordChange => {
                let new = "a brand new passphrase".to_owned();
                let body = json!({"current_password": rui_password, "new_password": new});
                let changed = rui_browser.post("/auth/password", body).await?;
                assert_eq!(changed.status, StatusCode::NO_CONTENT, "{changed:?}");
                rui_password = new;
                Duration::from_secs(1)
            }
            Shrink::AdminReset => {
                let new = "reset by the admin";
                let binary = Path::new(env!("CARGO_BIN_EXE_hubring"));
                let args = ["reset-password", "--email", "rui@nantes.example"];
                let (ok, err) = hubring_tests::run_admin(binary, dir.path(), &args, new);
                assert!(ok, "{err}");
                rui_password = new.to_owned();
                Duration::from_secs(5)
            }
            Shrink::TokenRevoked => {
                let Credential::Token { id, .. } = &credential else { unreachable!() };
                assert!(rui_browser.delete(&format!("/tokens/{id}")).await?.status.is_success());
                Duration::from_secs(1)
            }
        };
        let doc_code = doc.wait_closed().await?;
        let doc_took = began.elapsed();
        let room_code = room_closed(&mut room).await?;
        let room_took = began.elapsed();
        report.push(format!(
            "{path:?}: document {doc_code} after {doc_took:?}, room {room_code} after {room_took:?}"
        ));
        assert!(doc_code != 1006 && room_code != 1006, "{path:?}: closed without a close frame");
        assert!(doc_took < deadline, "{path:?}: the document socket closed after {doc_took:?}");
        assert!(room_took < deadline, "{path:?}: the room socket closed after {room_took:?}");
    }
    eprintln!("{}", report.join("\n"));
    server.stop().await;
    Ok(())
}
