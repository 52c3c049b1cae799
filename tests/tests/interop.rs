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
