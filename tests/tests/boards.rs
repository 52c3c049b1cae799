//! Boards on the server: exports drawn in Rust (every shape of a 1,000-shape board is in the
//! SVG; the PNG and the thumbnail are real images), dot votes decided by the server (nobody
//! places more dots than allowed, for another person, or on a shape that is not there; the
//! results appear when the vote closes), and the shared timer, each shown live in the board's
//! document.

use std::collections::{BTreeMap, HashSet};

use hubring_doc::board::{self, Board, Op, ShapeKind};
use hubring_tests::board::{board_with, shape};
use hubring_tests::{ApiClient, DocClient};
use reqwest::StatusCode;
use serde_json::{Value, json};
use yrs::{Map, ReadTxn, Transact};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_shape_board_exports_every_shape() -> anyhow::Result<()> {
    let (f, mut members) = board_with(&[("viewer@hubs.example", "viewer")]).await?;
    let viewer = members.remove(0);
    f.fill(1000).await?;

    let svg = viewer.get_raw(&format!("/boards/{}/export.svg", f.board), &[]).await?;
    assert_eq!(svg.status(), StatusCode::OK);
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
    let svg_disposition = svg.headers()["content-disposition"].to_str()?.to_owned();
    let text = svg.text().await?;
    let parsed = roxmltree::Document::parse(&text)?;
    let drawn: Vec<(&str, &str)> = parsed
        .descendants()
        .filter_map(|n| Some((n.attribute("data-id")?, n.attribute("data-type")?)))
        .collect();
    assert_eq!(drawn.len(), 1000, "one group per shape");
    let ids: HashSet<&str> = drawn.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids.len(), 1000);
    let mut per_kind: BTreeMap<&str, usize> = BTreeMap::new();
    for (_, kind) in &drawn {
        *per_kind.entry(kind).or_default() += 1;
    }
    assert_eq!(per_kind.len(), ShapeKind::ALL.len(), "{per_kind:?}");
    // Images are embedded, so the file stands alone; text is escaped, never markup.
    assert!(text.contains("href=\"data:image/png;base64,"));
    assert!(text.contains(">Idea 0 &lt;&amp;&gt;</tspan>"), "wrapped, escaped text");
    assert!(text.contains(">&quot;quoted&quot;</tspan>"));
    // Frames are drawn beneath everything else.
    let first_other = drawn.iter().position(|(_, k)| *k != "frame").unwrap();
    assert!(drawn[first_other..].iter().all(|(_, k)| *k != "frame"));

    assert_eq!(
        svg_disposition, "attachment; filename=\"Ideas.svg\"; filename*=UTF-8''Ideas.svg",
        "saved under the board's title"
    );
    // A title of any language names the file exactly; old clients get an ASCII stand-in.
    let renamed = f
        .owner
        .send(
            reqwest::Method::PATCH,
            &format!("/items/{}", f.board),
            Some(json!({"title": "Atelier café / plan \"B\""})),
        )
        .await?;
    assert_eq!(renamed.status, StatusCode::NO_CONTENT, "{:?}", renamed.body);
    let png = viewer.get_raw(&format!("/boards/{}/export.png", f.board), &[]).await?;
    assert_eq!(png.status(), StatusCode::OK);
    assert_eq!(png.headers()["content-type"], "image/png");
    assert_eq!(
        png.headers()["content-disposition"],
        "attachment; filename=\"Atelier caf_ _ plan _B_.png\"; \
         filename*=UTF-8''Atelier%20caf%C3%A9%20%2F%20plan%20%22B%22.png"
    );
    let bytes = png.bytes().await?;
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let (w, h) = png_size(&bytes);
    assert!(w == 4096 || h == 4096, "a large board is kept within 4096 pixels: {w}x{h}");

    // One frame's area only.
    let frame = "s0007";
    let framed =
        viewer.get_raw(&format!("/boards/{}/export.svg?frame={frame}", f.board), &[]).await?;
    assert_eq!(framed.status(), StatusCode::OK);
    let framed = framed.text().await?;
    assert!(framed.contains("viewBox=\"1540 0 160 120\""), "{}", &framed[..200]);
    let missing =
        viewer.get_raw(&format!("/boards/{}/export.svg?frame=nope", f.board), &[]).await?;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let bad_scale =
        viewer.get_raw(&format!("/boards/{}/export.png?scale=100", f.board), &[]).await?;
    assert_eq!(bad_scale.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // The thumbnail fits the project page and is revalidated by its ETag.
    let thumb = viewer.get_raw(&format!("/boards/{}/thumbnail.png", f.board), &[]).await?;
    assert_eq!(thumb.status(), StatusCode::OK);
    let etag = thumb.headers()["etag"].to_str()?.to_owned();
    let (w, h) = png_size(&thumb.bytes().await?);
    assert!(w <= 480 && h <= 300 && (w == 480 || h == 300), "{w}x{h}");
    let again = viewer
        .get_raw(&format!("/boards/{}/thumbnail.png", f.board), &[("if-none-match", etag.as_str())])
        .await?;
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);

    // Someone outside the project learns nothing.
    let outsider = ApiClient::signup(&f.server, "outsider@hubs.example").await?;
    let refused = outsider.get_raw(&format!("/boards/{}/export.svg", f.board), &[]).await?;
    assert_eq!(refused.status(), StatusCode::NOT_FOUND);
    // A document is not a board.
    let doc = f
        .owner
        .post(
            &format!("/projects/{}/items", f.project),
            json!({"kind": "document", "title": "Notes"}),
        )
        .await?;
    let not_board = f
        .owner
        .get_raw(
            &format!("/boards/{}/export.svg", doc.body["id"].as_str().unwrap_or_default()),
            &[],
        )
        .await?;
    assert_eq!(not_board.status(), StatusCode::NOT_FOUND);
    Ok(())
}

fn png_size(bytes: &[u8]) -> (u32, u32) {
    let be = |i: usize| u32::from_be_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    (be(16), be(20))
}

fn meta(client: &DocClient, key: &str) -> Value {
    let txn = client.doc().transact();
    match txn.get_map(board::META).and_then(|m| m.get(&txn, key)) {
        Some(yrs::Out::Any(any)) => {
            let mut text = String::new();
            any.to_json(&mut text);
            serde_json::from_str(&text).unwrap_or(Value::Null)
        }
        _ => Value::Null,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dot_votes_are_decided_by_the_server() -> anyhow::Result<()> {
    let (f, mut members) = board_with(&[
        ("editor@hubs.example", "editor"),
        ("commenter@hubs.example", "commenter"),
        ("viewer@hubs.example", "viewer"),
    ])
    .await?;
    let viewer = members.pop().unwrap();
    let commenter = members.pop().unwrap();
    let editor = members.pop().unwrap();
    let mut watcher = f.connect(&viewer).await?;
    let mut author = f.connect(&editor).await?;
    author.subscribe_saved().await?;
    author
        .edit(|txn| {
            for (i, id) in ["a", "b", "c"].into_iter().enumerate() {
                let s = shape(id.to_owned(), ShapeKind::Sticky, i);
                board::apply(txn, &Op::Add { shape: Box::new(s) });
            }
        })
        .await?;
    author.wait_all_saved().await?;
    let base = format!("/boards/{}", f.board);

    // Only facilitators (editors and owners) open votes; one at a time.
    let refused = commenter.post(&format!("{base}/votes"), json!({"dots_per_person": 2})).await?;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{refused:?}");
    let bad = f.owner.post(&format!("{base}/votes"), json!({"dots_per_person": 0})).await?;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}");
    let opened = f.owner.post(&format!("{base}/votes"), json!({"dots_per_person": 2})).await?;
    assert_eq!(opened.status, StatusCode::CREATED, "{opened:?}");
    let vote = opened.body["id"].as_str().unwrap_or_default().to_owned();
    let twice = editor.post(&format!("{base}/votes"), json!({"dots_per_person": 3})).await?;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    watcher.wait_until(|c| meta(c, "vote")["open"] == json!(true)).await?;

    let dots = format!("{base}/votes/{vote}/dots");
    // Commenters vote; viewers do not; there is no voting for a shape that is not there.
    for (who, shape) in [(&commenter, "a"), (&commenter, "a"), (&editor, "b"), (&f.owner, "a")] {
        let cast = who.post(&dots, json!({"shape": shape})).await?;
        assert_eq!(cast.status, StatusCode::OK, "{cast:?}");
    }
    let third = commenter.post(&dots, json!({"shape": "c"})).await?;
    assert_eq!(third.status, StatusCode::CONFLICT, "no third dot: {third:?}");
    let viewer_vote = viewer.post(&dots, json!({"shape": "c"})).await?;
    assert_eq!(viewer_vote.status, StatusCode::FORBIDDEN);
    let ghost = editor.post(&dots, json!({"shape": "nowhere"})).await?;
    assert_eq!(ghost.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Someone else's dots are not one's own to take back.
    let not_mine = editor.delete(&format!("{dots}/a")).await?;
    assert_eq!(not_mine.status, StatusCode::CONFLICT);
    let back = editor.delete(&format!("{dots}/b")).await?;
    assert_eq!(back.status, StatusCode::OK);
    assert_eq!(back.body["my_remaining"], 2);
    let recast = editor.post(&dots, json!({"shape": "c"})).await?;
    assert_eq!(recast.body["my_dots"], json!([{"shape": "c", "dots": 1}]));
    // While the vote is open nobody sees the others' dots.
    assert_eq!(recast.body["results"], Value::Null);
    assert_eq!(recast.body["n_cast"], 4);
    watcher.wait_until(|c| meta(c, "vote")["n_cast"] == json!(4)).await?;

    let early = commenter.post(&format!("{base}/votes/{vote}/close"), json!({})).await?;
    assert_eq!(early.status, StatusCode::FORBIDDEN);
    let closed = f.owner.post(&format!("{base}/votes/{vote}/close"), json!({})).await?;
    assert_eq!(closed.status, StatusCode::OK, "{closed:?}");
    let results = json!([{"shape": "a", "dots": 3}, {"shape": "c", "dots": 1}]);
    assert_eq!(closed.body["results"], results);
    assert_eq!(closed.body["n_voters"], 3);
    let late = commenter.post(&dots, json!({"shape": "b"})).await?;
    assert_eq!(late.status, StatusCode::GONE);
    // Everyone on the board sees the results; the state endpoint shows them too.
    watcher.wait_until(|c| meta(c, "vote")["results"] == json!({"a": 3, "c": 1})).await?;
    let state = viewer.get(&base).await?;
    assert_eq!(state.body["vote"]["results"], results);
    assert_eq!(
        (state.body["can_vote"].clone(), state.body["can_facilitate"].clone()),
        (json!(false), json!(false))
    );
    let state = commenter.get(&base).await?;
    assert_eq!(
        (state.body["can_vote"].clone(), state.body["can_facilitate"].clone()),
        (json!(true), json!(false))
    );

    // The timer is written by the server, in its clock.
    let before = state.body["now"].as_i64().unwrap_or_default();
    assert_eq!(
        commenter
            .send(reqwest::Method::PUT, &format!("{base}/timer"), Some(json!({"seconds": 300})))
            .await?
            .status,
        StatusCode::FORBIDDEN
    );
    let started = editor
        .send(reqwest::Method::PUT, &format!("{base}/timer"), Some(json!({"seconds": 300})))
        .await?;
    assert_eq!(started.status, StatusCode::NO_CONTENT, "{started:?}");
    watcher.wait_until(|c| meta(c, "timer")["seconds"] == json!(300)).await?;
    let ends_at = meta(&watcher, "timer")["ends_at"].as_i64().unwrap_or_default();
    assert!(ends_at >= before + 300_000, "{ends_at} {before}");
    assert_eq!(editor.delete(&format!("{base}/timer")).await?.status, StatusCode::NO_CONTENT);
    watcher.wait_until(|c| meta(c, "timer").is_null()).await?;
    // The document still reads as a board with its three shapes.
    let drawn = Board::read(&watcher.doc().transact());
    assert_eq!((drawn.version, drawn.shapes.len()), (1, 3));
    Ok(())
}
