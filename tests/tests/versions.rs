//! Version history: a named version, a restore that every connected client receives live and
//! that becomes a version itself, a diff that names what was added and removed, versions that
//! still open after compaction and a restart, automatic versions when the last editor leaves,
//! and who may do what.

use hubring_tests::board::{Fixture, item_in, item_with};
use hubring_tests::document::{paragraphs, set_paragraphs};
use hubring_tests::{ApiClient, DocClient, TestServer};
use reqwest::StatusCode;
use serde_json::{Value, json};
use yrs::Transact;

async fn write(client: &mut DocClient, texts: &[&str]) -> anyhow::Result<()> {
    client.edit(|txn| set_paragraphs(txn, texts)).await?;
    client.wait_all_saved().await
}

async fn name_version(who: &ApiClient, item: &str, name: &str) -> anyhow::Result<Value> {
    let taken = who.post(&format!("/items/{item}/versions"), json!({"name": name})).await?;
    anyhow::ensure!(taken.status == StatusCode::CREATED, "{taken:?}");
    Ok(taken.body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restored_version_reaches_everyone_live_and_survives_compaction_and_restart()
-> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = TestServer::start_in(dir.path(), |a| {
        (a.open_docs, a.compact_after) = (Some(false), Some(5))
    })
    .await;
    let (f, mut members) =
        item_in(server, "document", "Proposal", &[("ben@hubs.example", "editor")]).await?;
    let ben = members.remove(0);
    let mut ana = f.connect(&f.owner).await?;
    ana.subscribe_saved().await?;
    let mut bens = f.connect(&ben).await?;
    write(&mut ana, &["Text A: the Lisbon residency"]).await?;
    let a = name_version(&f.owner, &f.board, "Submitted to Creative Europe").await?;
    assert_eq!(a["kind"], "named");
    assert_eq!(a["editors"][0]["id"], f.owner.id(), "who changed it since the last version");
    // Enough edits to compact the log several times over.
    for i in 0..12 {
        write(&mut ana, &[&format!("Text B {i}: the Nantes workshop replaces it")]).await?;
    }
    let b = name_version(&f.owner, &f.board, "Draft B").await?;
    bens.wait_until(|c| {
        paragraphs(&c.doc().transact()).first().is_some_and(|p| p.starts_with("Text B 11"))
    })
    .await?;

    let restored = f
        .owner
        .post(
            &format!("/items/{}/versions/{}/restore", f.board, a["id"].as_str().unwrap()),
            json!({}),
        )
        .await?;
    assert_eq!(restored.status, StatusCode::CREATED, "{restored:?}");
    assert_eq!(restored.body["kind"], "restore");
    assert_eq!(restored.body["restored_from"], a["id"]);
    for client in [&mut ana, &mut bens] {
        client
            .wait_until(|c| paragraphs(&c.doc().transact()) == ["Text A: the Lisbon residency"])
            .await?;
    }
    let list = f.owner.get(&format!("/items/{}/versions", f.board)).await?;
    let kinds: Vec<&str> =
        list.body.as_array().unwrap().iter().map(|v| v["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds.first(), Some(&"restore"), "the restore is the newest version: {kinds:?}");
    assert!(kinds.contains(&"named"));

    let diff = f
        .owner
        .get(&format!(
            "/items/{}/versions/{}/diff/{}",
            f.board,
            a["id"].as_str().unwrap(),
            b["id"].as_str().unwrap()
        ))
        .await?;
    assert_eq!(diff.status, StatusCode::OK);
    let added = diff.body["added"].to_string();
    let removed = diff.body["removed"].to_string();
    assert!(added.contains("B 11") && added.contains("Nantes workshop replaces"), "{added}");
    assert!(["A:", "Lisbon", "residency"].iter().all(|w| removed.contains(w)), "{removed}");

    // After compaction and a restart, every version still opens.
    ana.close().await;
    bens.close().await;
    let ids: Vec<String> = list
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_owned())
        .collect();
    let Fixture { server, board, .. } = f;
    server.stop().await;
    let server = TestServer::start_in(dir.path(), |a| a.open_docs = Some(false)).await;
    let owner = ApiClient::signin(&server, "facilitator@hubs.example").await?;
    for id in &ids {
        let version = owner.get(&format!("/items/{board}/versions/{id}")).await?;
        assert_eq!(version.status, StatusCode::OK, "{id}: {version:?}");
        assert!(version.body["content"]["blocks"].as_array().is_some_and(|b| !b.is_empty()));
    }
    let opened =
        owner.get(&format!("/items/{board}/versions/{}", a["id"].as_str().unwrap())).await?;
    assert_eq!(opened.body["content"]["blocks"], json!(["Text A: the Lisbon residency"]));
    assert_eq!(opened.body["version"]["name"], "Submitted to Creative Europe");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_list_and_open_versions_editors_name_and_restore_them() -> anyhow::Result<()> {
    let (f, members) = item_with(
        "document",
        "Notes",
        &[
            ("ed@hubs.example", "editor"),
            ("co@hubs.example", "commenter"),
            ("vi@hubs.example", "viewer"),
        ],
    )
    .await?;
    let v = name_version(&f.owner, &f.board, "Start").await?;
    let v = v["id"].as_str().unwrap();
    let outsider = ApiClient::signup(&f.server, "out@hubs.example").await?;
    let who: Vec<(&str, &ApiClient)> = ["editor", "commenter", "viewer", "outsider"]
        .into_iter()
        .zip(members.iter().chain([&outsider]))
        .collect();
    // editor, commenter, viewer, outsider
    let table: &[(&str, &str, [u16; 4])] = &[
        ("GET", "", [200, 200, 200, 404]),
        ("GET", "/v", [200, 200, 200, 404]),
        ("POST", "", [201, 403, 403, 404]),
        ("POST", "/v/restore", [201, 403, 403, 404]),
    ];
    for (method, path, want) in table {
        for ((name, client), want) in who.iter().zip(want) {
            let path =
                format!("/items/{}/versions{}", f.board, path.replace("/v", &format!("/{v}")));
            let reply = if *method == "GET" {
                client.get(&path).await?
            } else {
                client.post(&path, json!({"name": "Mine"})).await?
            };
            assert_eq!(reply.status.as_u16(), *want, "{method} {path} as {name}: {:?}", reply.body);
        }
    }
    let empty =
        f.owner.post(&format!("/items/{}/versions", f.board), json!({"name": "  "})).await?;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_is_taken_when_the_last_editor_leaves_naming_who_edited() -> anyhow::Result<()> {
    let (f, mut members) =
        item_with("document", "Notes", &[("ben@hubs.example", "editor")]).await?;
    let ben = members.remove(0);
    let mut bens = f.connect(&ben).await?;
    bens.subscribe_saved().await?;
    write(&mut bens, &["Ben's paragraph"]).await?;
    bens.close().await;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let list = f.owner.get(&format!("/items/{}/versions", f.board)).await?;
        if let Some(auto) =
            list.body.as_array().and_then(|l| l.iter().find(|v| v["kind"] == "auto"))
        {
            assert_eq!(auto["editors"], json!([{"id": ben.id(), "display_name": "ben"}]));
            break;
        }
        anyhow::ensure!(tokio::time::Instant::now() < deadline, "no automatic version: {list:?}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_board_version_is_drawn_and_compared_shape_by_shape() -> anyhow::Result<()> {
    let (f, mut members) = item_with("board", "Ideas", &[("vi@hubs.example", "viewer")]).await?;
    let viewer = members.remove(0);
    f.fill(4).await?;
    let a = name_version(&f.owner, &f.board, "Workshop start").await?;
    let a = a["id"].as_str().unwrap().to_owned();
    // One shape moves, one is removed, one is added.
    let mut client = f.connect(&f.owner).await?;
    client.subscribe_saved().await?;
    client
        .edit(|txn| {
            use hubring_doc::board::{Op, ShapeKind, apply};
            apply(txn, &Op::Move { ids: vec!["s0000".into()], by: [500.0, 0.0] });
            apply(txn, &Op::Delete { ids: vec!["s0001".into()] });
            let mut added = hubring_tests::board::shape("late".into(), ShapeKind::Sticky, 30);
            added.text = Some("Afterthought".into());
            apply(txn, &Op::Add { shape: Box::new(added) });
        })
        .await?;
    client.wait_all_saved().await?;
    let b = name_version(&f.owner, &f.board, "Workshop end").await?;
    let b = b["id"].as_str().unwrap().to_owned();

    let diff = viewer.get(&format!("/items/{}/versions/{a}/diff/{b}", f.board)).await?;
    assert_eq!(diff.status, StatusCode::OK, "{diff:?}");
    assert_eq!(diff.body["shapes_added"], json!(["late"]), "{:?}", diff.body);
    let has = |key: &str, id: &str| {
        diff.body[key].as_array().is_some_and(|ids| ids.iter().any(|v| v == id))
    };
    assert!(has("shapes_removed", "s0001") && has("shapes_moved", "s0000"), "{:?}", diff.body);

    // A reader sees each version drawn as it was: the added note only in the later one.
    let drawn = |v: String| {
        let viewer = &viewer;
        let path = format!("/boards/{}/versions/{v}/export.svg", f.board);
        async move {
            let reply = viewer.get_raw(&path, &[]).await?;
            anyhow::ensure!(reply.status() == StatusCode::OK, "{path}: {}", reply.status());
            anyhow::Ok(reply.text().await?)
        }
    };
    let (before, after) = (drawn(a.clone()).await?, drawn(b).await?);
    assert!(before.starts_with("<svg") || before.contains("<svg"), "{before:.200}");
    assert!(!before.contains("Afterthought") && after.contains("Afterthought"));
    // A version of another board is not found through this one, and this board's versions are
    // not found by someone outside the project.
    let other = f
        .owner
        .post(&format!("/projects/{}/items", f.project), json!({"kind": "board", "title": "Other"}))
        .await?;
    let other = other.body["id"].as_str().unwrap();
    let elsewhere =
        f.owner.get_raw(&format!("/boards/{other}/versions/{a}/export.svg"), &[]).await?;
    assert_eq!(elsewhere.status(), StatusCode::NOT_FOUND);
    let outsider = ApiClient::signup(&f.server, "out@hubs.example").await?;
    let hidden =
        outsider.get_raw(&format!("/boards/{}/versions/{a}/export.svg", f.board), &[]).await?;
    assert_eq!(hidden.status(), StatusCode::NOT_FOUND);
    Ok(())
}
