//! Interop with the official Yjs clients: two npm `y-websocket` providers (Node) and one Rust
//! client edit one document on the real server and converge. The npm packages are installed
//! from `tests/interop/package-lock.json` when missing; Node.js 20+ is required.

use std::process::Stdio;

use hubring_tests::{DocClient, TestServer, interop_dir, npm_ci};
use serde_json::json;
use yrs::{GetString, Text, Transact, WriteTxn};

fn has_user(client: &DocClient, name: &str) -> bool {
    client.awareness.iter().any(|(_, state)| {
        state
            .data
            .as_deref()
            .and_then(|json| serde_json::from_str::<serde_json::Value>(json).ok())
            .is_some_and(|v| v["user"]["name"] == name)
    })
}

#[tokio::test]
async fn official_providers_and_rust_client_converge() -> anyhow::Result<()> {
    npm_ci("y-websocket").await?;
    let dir = interop_dir();
    let server = TestServer::start().await;
    let doc = "interop";
    let node = tokio::process::Command::new("node")
        .arg("two_providers.mjs")
        .arg(format!("ws://{}/ws/doc", server.addr))
        .arg(doc)
        .arg("[rust]")
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .map_err(|err| anyhow::anyhow!("node is required for the interop tests: {err}"))?;

    let mut rust = DocClient::connect_synced(&server.doc_url(doc)).await?;
    rust.set_presence(json!({"user": {"name": "rust"}})).await?;
    rust.edit(|txn| txn.get_or_insert_text("t").insert(txn, 0, "[rust]")).await?;
    let (mut saw_a, mut saw_b) = (false, false);
    rust.wait_until(|c| {
        saw_a |= has_user(c, "node-a");
        saw_b |= has_user(c, "node-b");
        let text = c.doc().get_or_insert_text("t").get_string(&c.doc().transact());
        saw_a && saw_b && text.contains("[node-a]") && text.contains("[node-b]")
    })
    .await?;

    let output = tokio::time::timeout(hubring_tests::WAIT, node.wait_with_output()).await??;
    anyhow::ensure!(output.status.success(), "node client failed: {:?}", output.status);
    let result: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    let rust_text = rust.doc().get_or_insert_text("t").get_string(&rust.doc().transact());
    assert_eq!(result["a"], rust_text.as_str());
    assert_eq!(result["b"], rust_text.as_str());
    assert_eq!(rust_text.len(), "[rust][node-a][node-b]".len());
    server.stop().await;
    Ok(())
}

/// The history scenario with the official provider: text A, a named version, text B,
/// a restore that both providers see live, the restore listed as a version, a diff naming what
/// B added and removed; then, after compaction and a restart, every version still opens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_providers_see_a_restored_version_live() -> anyhow::Result<()> {
    npm_ci("y-websocket").await?;
    let dir = tempfile::tempdir()?;
    let server = TestServer::start_in(dir.path(), |a| {
        (a.open_docs, a.compact_after) = (Some(false), Some(2))
    })
    .await;
    let owner = hubring_tests::ApiClient::signup(&server, "ana@hubs.example").await?;
    let project =
        owner.post("/projects", json!({"title": "Proposal", "visibility": "private"})).await?;
    let project = project.body["id"].as_str().unwrap_or_default().to_owned();
    let item = owner
        .post(&format!("/projects/{project}/items"), json!({"kind": "document", "title": "Budget"}))
        .await?;
    let (item, doc) = (
        item.body["id"].as_str().unwrap().to_owned(),
        item.body["doc_id"].as_str().unwrap().to_owned(),
    );
    let token = owner.token().await?;
    let output = tokio::process::Command::new("node")
        .arg("history.mjs")
        .arg(format!("http://{}", server.addr))
        .arg(format!("ws://{}/ws/doc", server.addr))
        .arg(&item)
        .arg(&doc)
        .arg(&token)
        .current_dir(interop_dir())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(hubring_tests::WAIT * 2, output).await??;
    anyhow::ensure!(output.status.success(), "node client failed: {:?}", output.status);
    let seen: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    let text_a = "Text A: the Lisbon residency";
    assert_eq!(seen["a"], text_a);
    assert_eq!(seen["b"], text_a);
    assert_eq!(seen["newest"]["kind"], "restore");
    assert_eq!(seen["newest"]["id"], seen["restored"]["id"]);
    let (added, removed) = (seen["added"].to_string(), seen["removed"].to_string());
    assert!(added.contains("B:") && added.contains("Nantes workshop instead"), "{added}");
    assert!(removed.contains("A:") && removed.contains("Lisbon residency"), "{removed}");

    server.stop().await;
    let server = TestServer::start_in(dir.path(), |a| a.open_docs = Some(false)).await;
    let owner = hubring_tests::ApiClient::signin(&server, "ana@hubs.example").await?;
    for id in seen["versions"].as_array().unwrap() {
        let version =
            owner.get(&format!("/items/{item}/versions/{}", id.as_str().unwrap())).await?;
        assert_eq!(version.status, reqwest::StatusCode::OK, "{id}: {version:?}");
        assert!(!version.body["content"]["blocks"].as_array().unwrap().is_empty());
    }
    Ok(())
}
