//! Proposals out and in, against the real server: exports in every format to the item's readers
//! only (and of a version), a board's PDF, Markdown and DOCX imports (round trips; pandoc makes
//! the DOCX), files that must be refused without creating anything, and templates (built-in in
//! four languages, saved for oneself or a hub).

use hubring_doc::tree::{self, Align, Block, Document, ListItem, ListKind, Span, Style};
use hubring_tests::board::{PNG, item_with};
use hubring_tests::{ApiClient, DocClient};
use reqwest::StatusCode;
use serde_json::json;

fn para(text: &str) -> Block {
    Block::Paragraph { align: Align::Left, content: vec![Span::plain(text)] }
}

/// A short proposal with an image of the project.
fn proposal(image_url: &str) -> Document {
    Document {
        blocks: vec![
            Block::Heading {
                level: 1,
                align: Align::Left,
                content: vec![Span::plain("Résidences atlânticas")],
            },
            Block::Paragraph {
                align: Align::Left,
                content: vec![
                    Span::plain("Partners: "),
                    Span { text: "Lisboa".into(), style: Style { bold: true, ..Style::default() } },
                    Span::plain(" and Nantes."),
                ],
            },
            Block::List {
                kind: ListKind::Numbered,
                items: vec![ListItem {
                    checked: false,
                    content: vec![Span::plain("Kick-off")],
                    children: vec![],
                }],
            },
            Block::Image {
                url: image_url.into(),
                caption: "The Porto hub".into(),
                name: "porto.png".into(),
            },
        ],
    }
}

async fn write(client: &mut DocClient, doc: &Document) -> anyhow::Result<()> {
    let doc = doc.clone();
    client
        .edit(move |txn| {
            let mut n = 0;
            tree::write(txn, &doc, &mut || {
                n += 1;
                format!("b{n}")
            });
        })
        .await?;
    client.wait_all_saved().await
}

async fn export(
    who: &ApiClient,
    item: &str,
    query: &str,
) -> anyhow::Result<(StatusCode, String, String, Vec<u8>)> {
    let resp = who.get_raw(&format!("/items/{item}/export?{query}"), &[]).await?;
    let status = resp.status();
    let header = |name: &str| {
        resp.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
    };
    let (mime, disposition) = (header("content-type"), header("content-disposition"));
    Ok((status, mime, disposition, resp.bytes().await?.to_vec()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_exports_in_every_format_to_its_readers_only() -> anyhow::Result<()> {
    let (f, mut members) =
        item_with("document", "Proposta Atlântica", &[("vi@hubs.example", "viewer")]).await?;
    let viewer = members.remove(0);
    let uploaded = f
        .owner
        .upload(&format!("/assets?project_id={}", f.project), PNG.to_vec(), "image/png")
        .await?;
    let image = uploaded.body["url"].as_str().unwrap().to_owned();
    let mut client = f.connect(&f.owner).await?;
    client.subscribe_saved().await?;
    write(&mut client, &proposal(&image)).await?;

    let (status, mime, named, md) = export(&viewer, &f.board, "format=md").await?;
    assert_eq!(status, StatusCode::OK);
    assert!(mime.starts_with("text/markdown"), "{mime}");
    assert!(named.contains("Proposta") && named.contains(".md"), "{named}");
    let md = String::from_utf8(md)?;
    assert!(md.starts_with("# Résidences atlânticas\n"), "{md}");
    assert!(md.contains("**Lisboa**") && md.contains("1. Kick-off"), "{md}");
    assert!(md.contains(&format!("![The Porto hub]({image})")), "{md}");

    let (_, mime, _, html) = export(&viewer, &f.board, "format=html&lang=pt").await?;
    let html = String::from_utf8(html)?;
    assert!(mime.starts_with("text/html"));
    assert!(html.contains("<html lang=\"pt\">") && html.contains("<strong>Lisboa</strong>"));
    assert!(html.contains("src=\"data:image/png;base64,"), "the image is embedded");

    let (_, mime, named, docx) = export(&viewer, &f.board, "format=docx").await?;
    assert!(mime.contains("wordprocessingml") && named.contains(".docx"));
    assert!(docx.starts_with(b"PK"));
    let (_, mime, _, pdf) = export(&viewer, &f.board, "format=pdf").await?;
    assert_eq!(mime, "application/pdf");
    assert!(pdf.starts_with(b"%PDF-"));

    // Outsiders do not learn the item exists; a board's formats are not a document's.
    let outsider = ApiClient::signup(&f.server, "out@hubs.example").await?;
    assert_eq!(export(&outsider, &f.board, "format=md").await?.0, StatusCode::NOT_FOUND);
    assert_eq!(export(&viewer, &f.board, "format=png").await?.0, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(export(&viewer, &f.board, "format=odt").await?.0, StatusCode::UNPROCESSABLE_ENTITY);

    // A version exports as it was.
    let taken =
        f.owner.post(&format!("/items/{}/versions", f.board), json!({"name": "Submitted"})).await?;
    let version = taken.body["id"].as_str().unwrap().to_owned();
    write(&mut client, &Document { blocks: vec![para("Rewritten overnight")] }).await?;
    let (_, _, _, now) = export(&viewer, &f.board, "format=md").await?;
    assert_eq!(String::from_utf8(now)?, "Rewritten overnight\n");
    let (status, _, _, then) =
        export(&viewer, &f.board, &format!("format=md&version={version}")).await?;
    assert_eq!(status, StatusCode::OK);
    assert!(String::from_utf8(then)?.starts_with("# Résidences atlânticas"));
    assert_eq!(export(&viewer, &f.board, "format=md&version=nope").await?.0, StatusCode::NOT_FOUND);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_board_exports_as_a_vector_pdf() -> anyhow::Result<()> {
    let (f, _) = item_with("board", "Ideas", &[]).await?;
    f.fill(6).await?;
    let (status, mime, named, pdf) = export(&f.owner, &f.board, "format=pdf").await?;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&pdf));
    assert_eq!(mime, "application/pdf");
    assert!(named.contains("Ideas.pdf"), "{named}");
    assert!(pdf.starts_with(b"%PDF-"));
    assert_eq!(export(&f.owner, &f.board, "format=svg").await?.0, StatusCode::OK);
    assert_eq!(
        export(&f.owner, &f.board, "format=docx").await?.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    Ok(())
}

/// Markdown in the subset the import and the export share.
const ROUND_TRIP: &str = "# Atlantic residencies

A proposal by **Lisboa**, *Nantes* and ~~Bilbao~~ [Cork](https://cork.example/hub).

## Work plan

- Shadowing
  - Five days
- Residencies

1. Kick-off
2. Peer learning

- [x] Partners confirmed
- [ ] Budget signed

| Work package | Lead |
| --- | --- |
| WP1 | Lisboa |

> Hubs are the labs of their cities.

```rust
fn main() {}
```
";

async fn import(
    who: &ApiClient,
    project: &str,
    name: &str,
    bytes: Vec<u8>,
    mime: &str,
) -> anyhow::Result<hubring_tests::Reply> {
    who.upload(&format!("/projects/{project}/import?title=Imported&filename={name}"), bytes, mime)
        .await
}

async fn item_count(who: &ApiClient, project: &str) -> anyhow::Result<usize> {
    Ok(who.get(&format!("/projects/{project}/items")).await?.body.as_array().map_or(0, Vec::len))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn markdown_and_docx_import_round_trip() -> anyhow::Result<()> {
    let (f, _) = item_with("document", "Notes", &[]).await?;
    let made = import(
        &f.owner,
        &f.project,
        "plan.md",
        ROUND_TRIP.as_bytes().to_vec(),
        "application/octet-stream",
    )
    .await?;
    assert_eq!(made.status, StatusCode::CREATED, "{made:?}");
    let id = made.body["id"].as_str().unwrap().to_owned();
    let (_, _, _, md) = export(&f.owner, &id, "format=md").await?;
    assert_eq!(String::from_utf8(md)?, ROUND_TRIP, "Markdown imported then exported");

    // A DOCX made by pandoc from the same Markdown imports to the same tree.
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("imports");
    std::fs::create_dir_all(&dir)?;
    let (src, docx) = (dir.join("plan.md"), dir.join("plan.docx"));
    std::fs::write(&src, ROUND_TRIP)?;
    let out = std::process::Command::new("pandoc")
        .args(["-f", "gfm", "-t", "docx", "-o"])
        .arg(&docx)
        .arg(&src)
        .output()
        .map_err(|e| anyhow::anyhow!("pandoc is required (apt-get install pandoc): {e}"))?;
    anyhow::ensure!(out.status.success(), "pandoc: {}", String::from_utf8_lossy(&out.stderr));
    let made = import(
        &f.owner,
        &f.project,
        "plan.docx",
        std::fs::read(&docx)?,
        "application/octet-stream",
    )
    .await?;
    assert_eq!(made.status, StatusCode::CREATED, "{made:?}");
    let from_docx = made.body["id"].as_str().unwrap().to_owned();
    let md_doc = hubring_export::import::from_markdown(ROUND_TRIP)?.doc;
    let doc_id = made.body["doc_id"].as_str().unwrap();
    let token = f.owner.token().await?;
    let reader =
        DocClient::connect_synced(&format!("{}?token={token}", f.server.doc_url(doc_id))).await?;
    let docx_doc = {
        use yrs::Transact;
        tree::read(&reader.doc().transact())
    };
    assert_eq!(kinds(&docx_doc), kinds(&md_doc), "{docx_doc:#?}");
    // The same tree, but for what a DOCX does not carry: a code block's language.
    let mut expected = md_doc.clone();
    for block in &mut expected.blocks {
        if let Block::Code { language, .. } = block {
            *language = None;
        }
    }
    assert_eq!(docx_doc, expected, "the DOCX's tree");
    let (_, _, _, docx_md) = export(&f.owner, &from_docx, "format=md").await?;
    let docx_md = String::from_utf8(docx_md)?;
    for line in [
        "# Atlantic residencies",
        "## Work plan",
        "- Shadowing",
        "  - Five days",
        "1. Kick-off",
        "| WP1 | Lisboa |",
        "**Lisboa**",
        "[Cork](https://cork.example/hub)",
    ] {
        assert!(docx_md.contains(line), "{line:?} not in the DOCX's import:\n{docx_md}");
    }
    Ok(())
}

fn kinds(doc: &Document) -> Vec<&'static str> {
    doc.blocks
        .iter()
        .map(|b| match b {
            Block::Heading { .. } => "heading",
            Block::Paragraph { .. } => "paragraph",
            Block::List { kind: ListKind::Check, .. } => "checks",
            Block::List { .. } => "list",
            Block::Table { .. } => "table",
            Block::Quote { .. } => "quote",
            Block::Code { .. } => "code",
            Block::Image { .. } => "image",
            Block::Other { .. } => "other",
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_files_are_refused_and_create_nothing() -> anyhow::Result<()> {
    let (f, mut members) = item_with("document", "Notes", &[("vi@hubs.example", "viewer")]).await?;
    let viewer = members.remove(0);
    let before = item_count(&f.owner, &f.project).await?;
    // A corrupt DOCX: a zip header and nothing after.
    let mut corrupt = b"PK\x03\x04".to_vec();
    corrupt.extend(std::iter::repeat_n(7u8, 4000));
    let r = import(&f.owner, &f.project, "x.docx", corrupt, "application/octet-stream").await?;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    // A zip bomb dressed as a DOCX: a part that unpacks to a gigabyte of zeros.
    let bomb = zip_bomb()?;
    assert!(bomb.len() < 4 * 1024 * 1024, "{} bytes", bomb.len());
    let r = import(&f.owner, &f.project, "bomb.docx", bomb, "application/octet-stream").await?;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    assert!(r.body["error"]["message"].as_str().unwrap_or_default().contains("MB"), "{r:?}");
    // 100,000 nested list levels.
    let deep = "- ".repeat(100_000) + "x\n";
    let r = import(&f.owner, &f.project, "deep.md", deep.into_bytes(), "text/markdown").await?;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    // Not Markdown or DOCX; a viewer may not import.
    let r = import(&f.owner, &f.project, "notes.txt", b"plain".to_vec(), "text/plain").await?;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let r = import(&viewer, &f.project, "a.md", b"# Hi".to_vec(), "text/markdown").await?;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{r:?}");
    assert_eq!(item_count(&f.owner, &f.project).await?, before, "nothing was created");
    // The server is still there for everyone.
    let ok = import(&f.owner, &f.project, "a.md", b"# Hi".to_vec(), "text/markdown").await?;
    assert_eq!(ok.status, StatusCode::CREATED);
    Ok(())
}

/// A DOCX-looking zip whose `word/document.xml` unpacks to 1 GiB.
fn zip_bomb() -> anyhow::Result<Vec<u8>> {
    use std::io::Write;
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    zip.start_file("[Content_Types].xml", options)?;
    zip.write_all(b"<Types/>")?;
    zip.start_file("word/document.xml", options)?;
    let zeros = vec![b' '; 1 << 20];
    for _ in 0..1024 {
        zip.write_all(&zeros)?;
    }
    zip.finish()?;
    Ok(out.into_inner())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn items_start_from_builtin_and_saved_templates() -> anyhow::Result<()> {
    let (f, mut members) = item_with("document", "Notes", &[("ed@hubs.example", "editor")]).await?;
    let editor = members.remove(0);
    let list = f.owner.get("/templates?kind=document&lang=fr").await?;
    assert_eq!(list.status, StatusCode::OK);
    let builtins: Vec<&str> = list
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["scope"] == "builtin")
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(builtins.len(), 4, "{list:?}");
    assert!(builtins.contains(&"builtin:proposal:fr"));

    let made = f.owner.post(&format!("/projects/{}/items", f.project), json!({"kind": "document", "title": "Candidature", "template_id": "builtin:proposal:fr"})).await?;
    assert_eq!(made.status, StatusCode::CREATED, "{made:?}");
    let (_, _, _, md) = export(&f.owner, made.body["id"].as_str().unwrap(), "format=md").await?;
    let md = String::from_utf8(md)?;
    for section in [
        "# Proposition de projet de coopération",
        "## 2. Pertinence",
        "## 6. Impact et pérennité",
        "| Lot de travail |",
        "| Montant (€) |",
    ] {
        assert!(md.contains(section), "{section:?} not in:\n{md}");
    }

    // A document saved as the owner's template: theirs to use, nobody else's.
    let mut client = f.connect(&f.owner).await?;
    client.subscribe_saved().await?;
    write(&mut client, &Document { blocks: vec![para("Our own structure")] }).await?;
    let saved =
        f.owner.post("/templates", json!({"item_id": f.board, "title": "Our proposal"})).await?;
    assert_eq!(saved.status, StatusCode::CREATED, "{saved:?}");
    let template = saved.body["id"].as_str().unwrap().to_owned();
    assert_eq!(saved.body["scope"], "personal");
    let mine = f
        .owner
        .post(
            &format!("/projects/{}/items", f.project),
            json!({"kind": "document", "title": "Copy", "template_id": template}),
        )
        .await?;
    assert_eq!(mine.status, StatusCode::CREATED);
    let (_, _, _, md) = export(&f.owner, mine.body["id"].as_str().unwrap(), "format=md").await?;
    assert_eq!(String::from_utf8(md)?, "Our own structure\n");
    let theirs = editor
        .post(
            &format!("/projects/{}/items", f.project),
            json!({"kind": "document", "title": "Copy", "template_id": template}),
        )
        .await?;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND, "another's template is not found");
    let as_board = f
        .owner
        .post(
            &format!("/projects/{}/items", f.project),
            json!({"kind": "board", "title": "B", "template_id": template}),
        )
        .await?;
    assert_eq!(as_board.status, StatusCode::UNPROCESSABLE_ENTITY);
    // A hub's template needs its manager.
    let hub = editor.post("/hubs", json!({"name": "Porto hub", "city": "Porto", "country": "PT", "time_zone": "Europe/Lisbon"})).await?;
    assert_eq!(hub.status, StatusCode::CREATED, "{hub:?}");
    let hub_id = hub.body["id"].as_str().unwrap();
    let refused = f
        .owner
        .post("/templates", json!({"item_id": f.board, "title": "Hub's", "hub_id": hub_id}))
        .await?;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let ok = editor
        .post("/templates", json!({"item_id": f.board, "title": "Hub's", "hub_id": hub_id}))
        .await?;
    assert_eq!(ok.status, StatusCode::CREATED, "{ok:?}");
    assert_eq!(ok.body["scope"], "hub");
    // Deleting: the owner only.
    assert_eq!(
        editor.delete(&format!("/templates/{template}")).await?.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        f.owner.delete(&format!("/templates/{template}")).await?.status,
        StatusCode::NO_CONTENT
    );
    Ok(())
}
