//! Boards for the tests and the export bench: a project with a board, and generated content.

use hubring_doc::board::{self, EndInput, NewShape, Op, ShapeKind, zindex};
use reqwest::StatusCode;
use serde_json::json;

use crate::{ApiClient, DocClient, TestServer};

/// A shape of `kind` at grid cell `i`, with text that needs escaping.
pub fn shape(id: String, kind: ShapeKind, i: usize) -> NewShape {
    let (x, y) = ((i % 40) as f64 * 220.0, (i / 40) as f64 * 220.0);
    NewShape {
        id,
        kind,
        z: None,
        xy: [x, y],
        wh: [160.0, 120.0],
        rot: if i.is_multiple_of(7) { 12.0 } else { 0.0 },
        parent: None,
        style: serde_json::Map::new(),
        text: Some(format!("Idea {i} <&> \"quoted\"")),
        points: if kind == ShapeKind::Pen {
            vec![0.0, 0.0, 40.0, 30.0, 80.0, 10.0]
        } else {
            vec![]
        },
        asset: None,
        from: None,
        to: None,
        locked: false,
    }
}

/// `n` shapes cycling through every kind: connectors join the two shapes before them, shapes
/// after a frame sit in it, images show the uploaded PNG.
pub fn generated_board(n: usize, asset: &str) -> Vec<Op> {
    let mut ops = Vec::new();
    let mut last_frame = None;
    let mut z = None;
    for i in 0..n {
        let kind = ShapeKind::ALL[i % ShapeKind::ALL.len()];
        let mut s = shape(format!("s{i:04}"), kind, i);
        let key = zindex::key_between(z.as_deref(), None).expect("keys go on");
        s.z = Some(key.clone());
        z = Some(key);
        match kind {
            ShapeKind::Connector => {
                s.from = Some(EndInput {
                    shape: Some(format!("s{:04}", i - 2)),
                    anchor: None,
                    xy: [0.0, 0.0],
                });
                s.to = Some(EndInput {
                    shape: Some(format!("s{:04}", i - 1)),
                    anchor: None,
                    xy: [0.0, 0.0],
                });
            }
            ShapeKind::Frame => last_frame = Some(s.id.clone()),
            ShapeKind::Image => s.asset = Some(asset.to_owned()),
            _ => {}
        }
        if kind == ShapeKind::Sticky
            && let Some(frame) = &last_frame
        {
            s.parent = Some(frame.clone());
            s.xy = [10.0, 10.0];
        }
        ops.push(Op::Add { shape: Box::new(s) });
    }
    ops
}

/// A real 1×1 PNG.
pub const PNG: [u8; 69] = [
    137, 80, 78, 71, 13, 10, 26, 10, 0, 0, 0, 13, 73, 72, 68, 82, 0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0,
    0, 0, 144, 119, 83, 222, 0, 0, 0, 12, 73, 68, 65, 84, 120, 156, 99, 248, 223, 192, 0, 0, 4, 1,
    1, 128, 197, 42, 24, 93, 0, 0, 0, 0, 73, 69, 78, 68, 174, 66, 96, 130,
];

/// A server with a private project holding one board (or document).
#[derive(Debug)]
pub struct Fixture {
    pub server: TestServer,
    pub owner: ApiClient,
    pub project: String,
    /// The item's id.
    pub board: String,
    pub doc: String,
}

/// The board, its owner (the facilitator) and members signed up with the given roles.
pub async fn board_with(members: &[(&str, &str)]) -> anyhow::Result<(Fixture, Vec<ApiClient>)> {
    item_with("board", "Ideas", members).await
}

/// A project holding one item of `kind` titled `title`, its owner, and members signed up with
/// the given roles.
pub async fn item_with(
    kind: &str,
    title: &str,
    members: &[(&str, &str)],
) -> anyhow::Result<(Fixture, Vec<ApiClient>)> {
    // In memory: the hardening tests time the server on these boards (see `start_on_tmpfs`).
    let server = TestServer::start_on_tmpfs(|args| args.open_docs = Some(false)).await;
    item_in(server, kind, title, members).await
}

/// [`item_with`] on a server already started.
pub async fn item_in(
    server: TestServer,
    kind: &str,
    title: &str,
    members: &[(&str, &str)],
) -> anyhow::Result<(Fixture, Vec<ApiClient>)> {
    let owner = ApiClient::signup(&server, "facilitator@hubs.example").await?;
    let created =
        owner.post("/projects", json!({"title": "Kick-off", "visibility": "private"})).await?;
    let project = created.body["id"].as_str().unwrap_or_default().to_owned();
    let mut clients = Vec::new();
    for (email, role) in members {
        clients.push(ApiClient::signup(&server, email).await?);
        let added = owner
            .post(&format!("/projects/{project}/members"), json!({"email": email, "role": role}))
            .await?;
        assert_eq!(added.status, StatusCode::CREATED, "{added:?}");
        let member = clients.last().expect("just signed up");
        anyhow::ensure!(member.accept_invites().await? == 1, "{email} joins");
    }
    let item = owner
        .post(&format!("/projects/{project}/items"), json!({"kind": kind, "title": title}))
        .await?;
    assert_eq!(item.status, StatusCode::CREATED, "{item:?}");
    let board = item.body["id"].as_str().unwrap_or_default().to_owned();
    let doc = item.body["doc_id"].as_str().unwrap_or_default().to_owned();
    Ok((Fixture { server, owner, project, board, doc }, clients))
}

impl Fixture {
    /// A synced connection to the board's document as `who`.
    pub async fn connect(&self, who: &ApiClient) -> anyhow::Result<DocClient> {
        let token = who.token().await?;
        DocClient::connect_synced(&format!("{}?token={token}", self.server.doc_url(&self.doc)))
            .await
    }

    /// Writes a generated board of `n` shapes (images showing an uploaded PNG) and waits until
    /// it is saved.
    pub async fn fill(&self, n: usize) -> anyhow::Result<()> {
        fill_board(&self.server, &self.owner, &self.project, &self.doc, n).await
    }
}

/// Writes a generated board of `n` shapes into the board document `doc` of `project`, as
/// `owner`, and waits until the server has saved it.
pub async fn fill_board(
    server: &TestServer,
    owner: &ApiClient,
    project: &str,
    doc: &str,
    n: usize,
) -> anyhow::Result<()> {
    let uploaded =
        owner.upload(&format!("/assets?project_id={project}"), PNG.to_vec(), "image/png").await?;
    let asset = uploaded.body["id"].as_str().unwrap_or_default().to_owned();
    let token = owner.token().await?;
    let mut client =
        DocClient::connect_synced(&format!("{}?token={token}", server.doc_url(doc))).await?;
    client.subscribe_saved().await?;
    let ops = generated_board(n, &asset);
    for chunk in ops.chunks(100) {
        client.edit(|txn| chunk.iter().for_each(|op| board::apply(txn, op))).await?;
    }
    client.wait_all_saved().await?;
    client.close().await;
    Ok(())
}
