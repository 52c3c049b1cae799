//! `hubring admin create-user` and `hubring admin reset-password`, run as the real binary on a
//! data directory, then checked by signing in to a server on that directory.

use std::path::Path;

use hubring_tests::{ApiClient, TestServer};
use reqwest::StatusCode;
use serde_json::json;

fn admin(data_dir: &Path, args: &[&str], password: &str) -> (bool, String) {
    hubring_tests::run_admin(Path::new(env!("CARGO_BIN_EXE_hubring")), data_dir, args, password)
}

async fn login(
    server: &TestServer,
    email: &str,
    password: &str,
) -> anyhow::Result<(StatusCode, bool)> {
    let client = ApiClient::anonymous(server);
    let reply = client.post("/auth/login", json!({"email": email, "password": password})).await?;
    Ok((reply.status, reply.body["is_admin"] == true))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_commands_create_accounts_and_reset_passwords() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (ok, err) = admin(
        dir.path(),
        &["create-user", "--email", "Root@Hubs.example", "--name", "Root", "--admin"],
        "an admin passphrase",
    );
    assert!(ok, "{err}");
    assert!(err.contains("created admin root@hubs.example"), "{err}");
    let (ok, err) = admin(
        dir.path(),
        &["create-user", "--email", "root@hubs.example", "--name", "Again"],
        "another passphrase",
    );
    assert!(!ok && err.contains("exists"), "a second account on one address: {err}");
    let (ok, err) =
        admin(dir.path(), &["create-user", "--email", "x@hubs.example", "--name", "X"], "short");
    assert!(!ok && err.contains("password"), "a short password: {err}");

    let server = TestServer::start_in(dir.path(), |args| args.open_docs = Some(false)).await;
    assert_eq!(
        login(&server, "root@hubs.example", "an admin passphrase").await?,
        (StatusCode::OK, true)
    );
    server.stop().await;

    let (ok, err) = admin(
        dir.path(),
        &["reset-password", "--email", "root@hubs.example"],
        "a fresh passphrase",
    );
    assert!(ok, "{err}");
    let server = TestServer::start_in(dir.path(), |args| args.open_docs = Some(false)).await;
    let (old, _) = login(&server, "root@hubs.example", "an admin passphrase").await?;
    assert_eq!(old, StatusCode::UNAUTHORIZED);
    assert_eq!(login(&server, "root@hubs.example", "a fresh passphrase").await?.0, StatusCode::OK);
    server.stop().await;
    Ok(())
}

/// `hubring admin reset-password` runs in its own process beside the server: the server cannot
/// be told, so it notices within its credential check (2 s) and closes what the person had open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_password_beside_a_running_server_closes_live_sockets_and_revokes_tokens()
-> anyhow::Result<()> {
    use hubring_tests::DocClient;
    let dir = tempfile::tempdir()?;
    let server = TestServer::start_in(dir.path(), |args| args.open_docs = Some(false)).await;
    let ana = ApiClient::signup(&server, "ana@porto.example").await?;
    let project =
        ana.post("/projects", json!({"title": "Residencies", "visibility": "private"})).await?;
    let project = project.body["id"].as_str().unwrap_or_default().to_owned();
    let doc = ana
        .post(&format!("/projects/{project}/items"), json!({"kind": "document", "title": "P"}))
        .await?;
    let doc_id = doc.body["doc_id"].as_str().unwrap_or_default().to_owned();
    let token = ana.token().await?;
    let mut socket =
        DocClient::connect_synced(&format!("{}?token={token}", server.doc_url(&doc_id))).await?;
    assert_eq!(hubring_tests::token_status(&server, &token).await?, StatusCode::OK);
    let reset_at = std::time::Instant::now();
    let (ok, err) =
        admin(dir.path(), &["reset-password", "--email", "ana@porto.example"], "reset passphrase");
    assert!(ok, "{err}");
    assert_eq!(socket.wait_closed().await?, 1008);
    let cut_off = reset_at.elapsed();
    assert!(cut_off < std::time::Duration::from_secs(5), "closed after {cut_off:?}");
    assert_eq!(hubring_tests::token_status(&server, &token).await?, StatusCode::UNAUTHORIZED);
    assert_eq!(ana.get("/me").await?.status, StatusCode::UNAUTHORIZED);
    server.stop().await;
    Ok(())
}
