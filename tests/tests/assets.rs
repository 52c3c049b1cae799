//! Images uploaded into projects (`/api/v1/assets`): stored once per content, told by their
//! bytes, bounded in size, served with their type and cache headers to the project's readers
//! only. Also the home page's lists: recently opened documents and my hubs.

use hubring_tests::board::PNG;
use hubring_tests::{ApiClient, DocClient, TestServer, WAIT};
use reqwest::StatusCode;
use serde_json::json;

/// A private project of `owner` that each of `members` (a client and its role) was invited to
/// and joined.
async fn project_with(owner: &ApiClient, members: &[(&ApiClient, &str)]) -> anyhow::Result<String> {
    let created =
        owner.post("/projects", json!({"title": "Residencies", "visibility": "private"})).await?;
    assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
    let id = created.body["id"].as_str().unwrap_or_default().to_owned();
    for (member, role) in members {
        let email = member.get("/me").await?.body["email"].clone();
        let added = owner
            .post(&format!("/projects/{id}/members"), json!({"email": email, "role": role}))
            .await?;
        assert_eq!(added.status, StatusCode::CREATED, "{added:?}");
        assert_eq!(member.accept_invites().await?, 1);
    }
    Ok(id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn images_are_stored_once_and_served_to_readers_only() -> anyhow::Result<()> {
    let server = TestServer::start_with(|args| {
        args.open_docs = Some(false);
        args.max_asset_bytes = Some(4096);
    })
    .await;
    let owner = ApiClient::signup(&server, "owner@hubs.example").await?;
    let viewer = ApiClient::signup(&server, "viewer@hubs.example").await?;
    let outsider = ApiClient::signup(&server, "outsider@hubs.example").await?;
    let project = project_with(&owner, &[(&viewer, "viewer")]).await?;
    let upload = format!("/assets?project_id={project}");

    let first = owner.upload(&upload, PNG.to_vec(), "image/png").await?;
    assert_eq!(first.status, StatusCode::CREATED, "{first:?}");
    assert_eq!(first.body["mime"], "image/png");
    assert_eq!(first.body["size"], PNG.len());
    let id = first.body["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(id.len(), 64);
    assert_eq!(first.body["url"], format!("/api/v1/assets/{id}"));
    // The type comes from the bytes, not from what the client claims; the same file is the
    // same asset.
    let again = owner.upload(&upload, PNG.to_vec(), "application/octet-stream").await?;
    assert_eq!((again.status, &again.body["id"]), (StatusCode::CREATED, &first.body["id"]));

    // Served to a reader, with its type and for good in caches (the id is its content).
    let served = viewer.get_raw(&format!("/assets/{id}"), &[]).await?;
    assert_eq!(served.status(), StatusCode::OK);
    assert_eq!(served.headers()["content-type"], "image/png");
    assert_eq!(served.headers()["x-content-type-options"], "nosniff");
    assert!(served.headers()["cache-control"].to_str()?.contains("immutable"));
    let etag = served.headers()["etag"].to_str()?.to_owned();
    assert_eq!(served.bytes().await?.as_ref(), PNG.as_slice());
    let cached = viewer.get_raw(&format!("/assets/{id}"), &[("if-none-match", &etag)]).await?;
    assert_eq!(cached.status(), StatusCode::NOT_MODIFIED);

    // Not to anyone else, who cannot tell it exists.
    let hidden = outsider.get_raw(&format!("/assets/{id}"), &[]).await?;
    assert_eq!(hidden.status(), StatusCode::NOT_FOUND);
    let anonymous = ApiClient::anonymous(&server).get_raw(&format!("/assets/{id}"), &[]).await?;
    assert_eq!(anonymous.status(), StatusCode::NOT_FOUND);
    let bogus = viewer.get_raw("/assets/..%2f..%2fetc%2fpasswd", &[]).await?;
    assert_eq!(bogus.status(), StatusCode::NOT_FOUND);

    // Once uploaded into the outsider's own project too, they may fetch it.
    let theirs = project_with(&outsider, &[]).await?;
    let linked =
        outsider.upload(&format!("/assets?project_id={theirs}"), PNG.to_vec(), "image/png").await?;
    assert_eq!(linked.status, StatusCode::CREATED);
    let now_visible = outsider.get_raw(&format!("/assets/{id}"), &[]).await?;
    assert_eq!(now_visible.status(), StatusCode::OK);

    // Refusals: where, who, what, how big.
    let nowhere = owner.upload("/assets", PNG.to_vec(), "image/png").await?;
    assert_eq!(nowhere.status, StatusCode::UNPROCESSABLE_ENTITY, "{nowhere:?}");
    assert_eq!(nowhere.body["error"]["code"], "invalid");
    let refused = viewer.upload(&upload, PNG.to_vec(), "image/png").await?;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "a viewer may not upload: {refused:?}");
    let elsewhere = outsider.upload(&upload, PNG.to_vec(), "image/png").await?;
    assert_eq!(elsewhere.status, StatusCode::NOT_FOUND);
    let svg = b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>".to_vec();
    let not_image = owner.upload(&upload, svg, "image/svg+xml").await?;
    assert_eq!(not_image.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{not_image:?}");
    assert_eq!(not_image.body["error"]["code"], "unsupported_media_type");
    let zip = b"PK\x03\x04\x14\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x08\0\0\0notes.md".to_vec();
    let not_office = owner.upload(&upload, zip, "application/zip").await?;
    assert_eq!(not_office.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{not_office:?}");
    let mut big = PNG.to_vec();
    big.resize(5000, 0);
    let too_big = owner.upload(&upload, big, "image/png").await?;
    assert_eq!(too_big.status, StatusCode::PAYLOAD_TOO_LARGE, "{too_big:?}");
    assert_eq!(too_big.body["error"]["code"], "too_large");
    server.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn home_lists_recently_opened_documents_and_my_hubs() -> anyhow::Result<()> {
    let server = TestServer::start_with(|args| args.open_docs = Some(false)).await;
    let owner = ApiClient::signup(&server, "owner@hubs.example").await?;
    let editor = ApiClient::signup(&server, "editor@hubs.example").await?;
    let project = project_with(&owner, &[(&editor, "editor")]).await?;
    let mut docs = Vec::new();
    for title in ["Proposal", "Budget"] {
        let item = owner
            .post(
                &format!("/projects/{project}/items"),
                json!({"kind": "document", "title": title}),
            )
            .await?;
        docs.push((
            item.body["id"].clone(),
            item.body["doc_id"].as_str().unwrap_or_default().to_owned(),
        ));
    }
    let token = editor.token().await?;
    for (_, doc) in &docs {
        let client =
            DocClient::connect_synced(&format!("{}?token={token}", server.doc_url(doc))).await?;
        client.close().await;
    }
    // Recording an open happens off the connection's path: poll until it lands.
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut recent = editor.get("/me/recent").await?;
    while recent.body.as_array().map_or(0, Vec::len) < 2 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        recent = editor.get("/me/recent").await?;
    }
    let ids: Vec<_> =
        recent.body.as_array().into_iter().flatten().map(|r| r["item"]["id"].clone()).collect();
    assert_eq!(ids, vec![docs[1].0.clone(), docs[0].0.clone()], "newest first: {recent:?}");
    assert_eq!(recent.body[0]["project_title"], "Residencies");

    // Removed from the project, they no longer see its documents there.
    let removed = owner.delete(&format!("/projects/{project}/members/{}", editor.id())).await?;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    assert_eq!(editor.get("/me/recent").await?.body, json!([]));
    assert_eq!(
        ApiClient::anonymous(&server).get("/me/recent").await?.status,
        StatusCode::UNAUTHORIZED
    );

    let hub = owner
        .post("/hubs", json!({"name": "Lx Factory", "city": "Lisbon", "country": "Portugal", "time_zone": "Europe/Lisbon"}))
        .await?;
    assert_eq!(hub.status, StatusCode::CREATED, "{hub:?}");
    let mine = owner.get("/me/hubs").await?;
    assert_eq!(mine.body.as_array().map(Vec::len), Some(1));
    assert_eq!(mine.body[0]["name"], "Lx Factory");
    assert_eq!(editor.get("/me/hubs").await?.body, json!([]));
    server.stop().await;
    Ok(())
}

/// A ZIP's first local file header naming `name`: enough for a DOCX (`word/...`) or an XLSX
/// (`xl/...`) to be told by its content.
fn office_file(name: &str) -> Vec<u8> {
    let mut bytes = b"PK\x03\x04".to_vec();
    bytes.extend_from_slice(&[0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    bytes.extend_from_slice(&u16::try_from(name.len()).unwrap_or(0).to_le_bytes());
    bytes.extend_from_slice(&[0, 0]);
    bytes.extend_from_slice(name.as_bytes());
    bytes.extend_from_slice(&[0; 64]);
    bytes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn annexes_are_told_by_content_and_downloaded_under_their_name() -> anyhow::Result<()> {
    let server = TestServer::start_with(|args| args.open_docs = Some(false)).await;
    let owner = ApiClient::signup(&server, "owner@hubs.example").await?;
    let viewer = ApiClient::signup(&server, "viewer@hubs.example").await?;
    let outsider = ApiClient::signup(&server, "outsider@hubs.example").await?;
    let project = project_with(&owner, &[(&viewer, "viewer")]).await?;
    let pdf = b"%PDF-1.7\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n".to_vec();
    let cases = [
        (pdf, "Budget annex 2027.pdf", "application/pdf", "Budget%20annex%202027.pdf"),
        (
            office_file("word/document.xml"),
            "Lettre d'appui.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "Lettre%20d%27appui.docx",
        ),
        // The extension follows the content, whatever the name said.
        (
            office_file("xl/workbook.xml"),
            "budget.pdf",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "budget.xlsx",
        ),
    ];
    for (bytes, name, mime, download) in cases {
        let path = format!(
            "/assets?project_id={project}&name={}",
            percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC)
        );
        let up = owner.upload(&path, bytes.clone(), "application/octet-stream").await?;
        assert_eq!(up.status, StatusCode::CREATED, "{name}: {up:?}");
        assert_eq!(up.body["mime"], mime, "{name}");
        let url = up.body["url"].as_str().unwrap_or_default().to_owned();
        assert!(url.ends_with(&format!("?name={download}")), "{name}: {url}");
        let served = viewer.get_raw(url.trim_start_matches("/api/v1"), &[]).await?;
        assert_eq!(served.status(), StatusCode::OK, "{name}");
        assert_eq!(served.headers()["content-type"], mime);
        let disposition = served.headers()["content-disposition"].to_str()?.to_owned();
        assert!(disposition.starts_with("attachment;"), "{disposition}");
        assert!(disposition.ends_with(&format!("filename*=UTF-8''{download}")), "{disposition}");
        assert_eq!(served.bytes().await?.as_ref(), bytes.as_slice());
        let id = up.body["id"].as_str().unwrap_or_default();
        let hidden = outsider.get_raw(&format!("/assets/{id}"), &[]).await?;
        assert_eq!(hidden.status(), StatusCode::NOT_FOUND, "{name}");
    }
    // Without a name, a document still downloads, never shows in the app's origin.
    let plain = owner
        .upload(&format!("/assets?project_id={project}"), office_file("word/x.xml"), "x/y")
        .await?;
    let id = plain.body["id"].as_str().unwrap_or_default();
    let served = viewer.get_raw(&format!("/assets/{id}"), &[]).await?;
    let disposition = served.headers()["content-disposition"].to_str()?.to_owned();
    assert!(disposition.starts_with("attachment;") && disposition.contains("annex.docx"));
    // An image is shown, not downloaded.
    let image = owner
        .upload(&format!("/assets?project_id={project}&name=a.png"), PNG.to_vec(), "image/png")
        .await?;
    let id = image.body["id"].as_str().unwrap_or_default();
    assert_eq!(image.body["url"], format!("/api/v1/assets/{id}"));
    let served = viewer.get_raw(&format!("/assets/{id}"), &[]).await?;
    assert!(served.headers().get("content-disposition").is_none());
    server.stop().await;
    Ok(())
}
