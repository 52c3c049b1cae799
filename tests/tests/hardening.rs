//! Hostile input against the real server: each attack from the hardening review, built by the
//! test, must be refused with its close code while an honest client on another document keeps
//! its p99 round trip under 100 ms and `/healthz` answers.
//!
//! Multi-threaded runtimes, as the server runs: what is measured is whether one connection's
//! work can hold up the others. The servers store in memory (`TestServer::start_on_tmpfs`), so
//! the disk's own pauses are not taken for the server's. The tests take turns (`one_attack_at_a_time`), so each probe
//! measures its own attack, not another test's.

use std::time::Instant;

use hubring_doc::board;
use hubring_protocol::ws::close;
use hubring_tests::board::{board_with, shape};
use hubring_tests::{DocClient, HonestProbe, TestServer};
use reqwest::StatusCode;
use yrs::sync::{Message, SyncMessage};
use yrs::updates::encoder::Encode;
use yrs::{Text, WriteTxn};

fn var(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn update_frame(update: Vec<u8>) -> Vec<u8> {
    Message::Sync(SyncMessage::Update(update)).encode_v1()
}

/// The report's frame: an `Any` array nested `depth` deep, under root "arr" (13 KB at 6,500).
fn nested_update(depth: usize) -> Vec<u8> {
    let mut u = vec![1, 1];
    var(&mut u, 987_654);
    u.extend([0, 8, 1, 3]);
    u.extend(b"arr");
    u.push(1);
    for _ in 0..depth {
        u.extend([117, 1]);
    }
    u.extend([126, 0]);
    u
}

/// An update that only deletes `n` one-character ranges of `client`'s items: every other clock
/// from `from` on.
fn delete_ranges(client: u64, n: u64, from: u64) -> Vec<u8> {
    let mut u = vec![0, 1];
    var(&mut u, client);
    var(&mut u, n);
    for i in 0..n {
        var(&mut u, from + 2 * i);
        u.push(1);
    }
    u
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deeply_nested_update_is_refused_and_the_server_stays_up() -> anyhow::Result<()> {
    let _alone = hubring_tests::one_attack_at_a_time().await;
    // Even a read-only connection's frames reach the decoder, so the attacker is a viewer.
    let server = TestServer::start_on_tmpfs(|a| {
        a.read_only_doc_ids = Some(vec!["public-doc".parse().expect("doc id")]);
    })
    .await;
    let probe = HonestProbe::start(&server, "honest").await?;
    for depth in [6_500, 10_000, 100_000] {
        let mut attacker = DocClient::connect_synced(&server.doc_url("public-doc")).await?;
        attacker.send_raw(update_frame(nested_update(depth))).await?;
        assert_eq!(attacker.wait_closed().await?, close::INVALID_PAYLOAD, "depth {depth}");
    }
    // A writer gets the same answer, and nothing of it is stored.
    let mut writer = DocClient::connect_synced(&server.doc_url("writable")).await?;
    writer.send_raw(update_frame(nested_update(6_500))).await?;
    assert_eq!(writer.wait_closed().await?, close::INVALID_PAYLOAD);
    let reader = DocClient::connect_synced(&server.doc_url("writable")).await?;
    assert_eq!(reader.json(), serde_json::json!({}));
    // Within the limit, nesting is an ordinary value.
    let mut fine = DocClient::connect_synced(&server.doc_url("writable")).await?;
    fine.subscribe_saved().await?;
    fine.send_raw(update_frame(nested_update(100))).await?;
    fine.n_sent += 1;
    fine.wait_all_saved().await?;
    probe.finish().await?.assert_unharmed("nested updates");
    server.stop().await;
    Ok(())
}

/// The client id of the text the delete attacks cut up.
const TEXT_CLIENT: u64 = 7;

/// One worker thread, so that an update applied on it would stall everyone: the probe fails if
/// the heavy update is not moved off it.
#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn delete_heavy_updates_are_refused_past_the_budget_and_never_stall_others()
-> anyhow::Result<()> {
    let _alone = hubring_tests::one_attack_at_a_time().await;
    let server = TestServer::start_on_tmpfs(|_| {}).await;
    // A 300,000-character text, as one struct of one client.
    let url = server.doc_url("victim");
    let mut writer = DocClient::connect_with(&url, yrs::Doc::with_client_id(TEXT_CLIENT)).await?;
    writer.subscribe_saved().await?;
    writer.edit(|txn| txn.get_or_insert_text("t").push(txn, &"a".repeat(300_000))).await?;
    writer.wait_all_saved().await?;
    // The attacks are built before the probe starts: building them is the test's work, which
    // shares the server's one worker here.
    let over_budget = update_frame(delete_ranges(TEXT_CLIENT, 300_000, 0));
    let under_budget: Vec<Vec<u8>> =
        (0..3).map(|k| update_frame(delete_ranges(TEXT_CLIENT, 49_000, k * 100_000))).collect();
    let probe = HonestProbe::start(&server, "honest").await?;
    // The report's attack: every other character deleted, 300,000 ranges (1.2 MB). Over the
    // default budget: 1009, nothing applied.
    let mut attacker = DocClient::connect_synced(&url).await?;
    attacker.send_raw(over_budget).await?;
    assert_eq!(attacker.wait_closed().await?, close::TOO_BIG);
    // Just under the budget, each range splits the text: applied off the worker, each takes its
    // document's time, not everyone's. Three of them, so a stall would be seen by more than
    // one probe in a hundred.
    let mut heavy = DocClient::connect_synced(&url).await?;
    heavy.subscribe_saved().await?;
    for frame in under_budget {
        let t0 = Instant::now();
        heavy.send_raw(frame).await?;
        heavy.n_sent += 1;
        heavy.wait_all_saved().await?;
        eprintln!(
            "49,000 ranges of a 300,000-character text deleted and saved in {:?}",
            t0.elapsed()
        );
    }
    let reader = DocClient::connect_synced(&url).await?;
    let text = yrs::GetString::get_string(
        &reader.doc().get_or_insert_text("t"),
        &yrs::Transact::transact(reader.doc()),
    );
    assert_eq!(text.len(), 300_000 - 3 * 49_000);
    probe.finish().await?.assert_unharmed("delete-heavy updates");
    server.stop().await;
    // A tighter budget is the operator's to set.
    let server = TestServer::start_on_tmpfs(|a| a.max_update_deletes = Some(10)).await;
    let mut small = DocClient::connect_synced(&server.doc_url("d")).await?;
    small.send_raw(update_frame(delete_ranges(TEXT_CLIENT, 11, 0))).await?;
    assert_eq!(small.wait_closed().await?, close::TOO_BIG);
    server.stop().await;
    Ok(())
}

/// Deletions of items a document has never seen stay pending in it and slow each later edit:
/// past `MAX_PENDING_DELETE_RANGES` an update that could add more is refused before it is
/// applied, and the document carries on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletions_of_unknown_items_are_bounded() -> anyhow::Result<()> {
    let _alone = hubring_tests::one_attack_at_a_time().await;
    const UNKNOWN: u64 = 424_242;
    let server = TestServer::start_on_tmpfs(|_| {}).await;
    let url = server.doc_url("victim");
    let mut attacker = DocClient::connect_synced(&url).await?;
    attacker.subscribe_saved().await?;
    for round in 0..2 {
        attacker.send_raw(update_frame(delete_ranges(UNKNOWN, 49_000, round * 100_000))).await?;
        attacker.n_sent += 1;
        attacker.wait_all_saved().await?;
    }
    // 98,000 pending; 49,000 more could pass 100,000.
    attacker.send_raw(update_frame(delete_ranges(UNKNOWN, 49_000, 200_000))).await?;
    assert_eq!(attacker.wait_closed().await?, close::TOO_BIG);
    let mut after = DocClient::connect_synced(&url).await?;
    after.subscribe_saved().await?;
    let t0 = Instant::now();
    after.edit(|txn| txn.get_or_insert_text("t").push(txn, "still fine")).await?;
    after.wait_all_saved().await?;
    eprintln!("an edit beside 98,000 pending ranges was saved in {:?}", t0.elapsed());
    // A small update that deletes something is still fine: only a large one could pass.
    after.edit(|txn| txn.get_or_insert_text("t").remove_range(txn, 0, 5)).await?;
    after.wait_all_saved().await?;
    assert!(after.closed.is_none());
    server.stop().await;
    Ok(())
}

/// An honest probe on a document of the fixture's project, as its owner.
async fn honest_probe_in(f: &hubring_tests::board::Fixture) -> anyhow::Result<HonestProbe> {
    let item = f
        .owner
        .post(
            &format!("/projects/{}/items", f.project),
            serde_json::json!({"kind": "document", "title": "Notes"}),
        )
        .await?;
    assert_eq!(item.status, StatusCode::CREATED, "{item:?}");
    let doc = item.body["doc_id"].as_str().unwrap_or_default().to_owned();
    let token = f.owner.token().await?;
    HonestProbe::start_at(&f.server, &format!("{}?token={token}", f.server.doc_url(&doc))).await
}

/// Writes `shapes` into the fixture's board as its owner and waits until they are saved.
async fn write_shapes(
    f: &hubring_tests::board::Fixture,
    shapes: Vec<hubring_doc::board::NewShape>,
) -> anyhow::Result<()> {
    let mut owner = f.connect(&f.owner).await?;
    owner.subscribe_saved().await?;
    owner
        .edit(|txn| {
            for s in &shapes {
                board::apply(txn, &board::Op::Add { shape: Box::new(s.clone()) });
            }
        })
        .await?;
    owner.wait_all_saved().await?;
    owner.close().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_600000_character_word_exports_quickly_and_stalls_no_one() -> anyhow::Result<()> {
    let _alone = hubring_tests::one_attack_at_a_time().await;
    let (f, _) = board_with(&[]).await?;
    let mut sticky = shape("huge".to_owned(), board::ShapeKind::Sticky, 0);
    sticky.wh = [0.0, 0.0];
    sticky.text = Some("w".repeat(600_000));
    let mut frame = shape("titled".to_owned(), board::ShapeKind::Frame, 1);
    frame.text = Some("t".repeat(600_000));
    write_shapes(&f, vec![sticky, frame]).await?;
    let probe = honest_probe_in(&f).await?;
    let t0 = Instant::now();
    let exports = ["export.png", "export.png", "export.svg", "thumbnail.png"].map(|what| {
        let url = format!("/boards/{}/{what}", f.board);
        let owner = &f.owner;
        async move { owner.get_raw(&url, &[]).await }
    });
    for reply in futures_util::future::join_all(exports).await {
        assert_eq!(reply?.status(), StatusCode::OK);
    }
    eprintln!("four exports of a 600,000-character word: {:?}", t0.elapsed());
    probe.finish().await?.assert_unharmed("long-word exports");
    f.server.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn characters_xml_forbids_never_break_an_export() -> anyhow::Result<()> {
    let _alone = hubring_tests::one_attack_at_a_time().await;
    let (f, _) = board_with(&[]).await?;
    let mut sticky = shape("odd\u{FFFF}id".to_owned(), board::ShapeKind::Sticky, 0);
    sticky.text = Some("before\u{FFFF} \u{FFFE} \u{1} after".to_owned());
    write_shapes(&f, vec![sticky]).await?;
    let svg = f.owner.get_raw(&format!("/boards/{}/export.svg", f.board), &[]).await?;
    assert_eq!(svg.status(), StatusCode::OK);
    let text = svg.text().await?;
    let parsed = roxmltree::Document::parse(&text)?;
    assert!(parsed.descendants().any(|n| n.attribute("data-id") == Some("oddid")));
    assert!(text.contains("before") && text.contains("after"));
    assert!(!text.contains('\u{FFFF}') && !text.contains('\u{FFFE}') && !text.contains('\u{1}'));
    for what in ["export.png", "thumbnail.png"] {
        let png = f.owner.get_raw(&format!("/boards/{}/{what}", f.board), &[]).await?;
        assert_eq!(png.status(), StatusCode::OK, "{what}");
        assert_eq!(&png.bytes().await?[..8], b"\x89PNG\r\n\x1a\n");
    }
    f.server.stop().await;
    Ok(())
}

/// Reads a websocket until the server closes it; the close code (1006 when none came).
async fn close_code_of(
    ws: &mut tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
) -> anyhow::Result<u16> {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    tokio::time::timeout(hubring_tests::WAIT, async {
        while let Some(msg) = ws.next().await {
            match msg {
                Ok(Message::Close(Some(frame))) => return Ok(u16::from(frame.code)),
                Ok(_) => {}
                Err(_) => break,
            }
        }
        Ok(1006)
    })
    .await
    .map_err(|_| anyhow::anyhow!("timed out waiting for the close"))?
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_change_closes_every_other_session_and_token_within_a_second()
-> anyhow::Result<()> {
    let _alone = hubring_tests::one_attack_at_a_time().await;
    use hubring_tests::{ApiClient, PASSWORD};
    use serde_json::json;
    let server = TestServer::start_on_tmpfs(|a| a.open_docs = Some(false)).await;
    let ana = ApiClient::signup(&server, "ana@porto.example").await?;
    let project =
        ana.post("/projects", json!({"title": "Residencies", "visibility": "private"})).await?;
    let project = project.body["id"].as_str().unwrap_or_default().to_owned();
    let doc = ana
        .post(
            &format!("/projects/{project}/items"),
            json!({"kind": "document", "title": "Proposal"}),
        )
        .await?;
    let doc_id = doc.body["doc_id"].as_str().unwrap_or_default().to_owned();
    let room = ana
        .post(&format!("/projects/{project}/items"), json!({"kind": "room", "title": "Weekly"}))
        .await?;
    let room_id = room.body["id"].as_str().unwrap_or_default().to_owned();
    // A second session (another browser) and a script's token.
    let laptop = ApiClient::anonymous(&server);
    let signed_in = laptop
        .post("/auth/login", json!({"email": "ana@porto.example", "password": PASSWORD}))
        .await?;
    assert_eq!(signed_in.status, StatusCode::OK);
    let token = laptop.token().await?;
    let mut doc_socket =
        DocClient::connect_synced(&format!("{}?token={token}", server.doc_url(&doc_id))).await?;
    let room_url = format!("ws://{}/ws/room/{room_id}?token={token}", server.addr);
    let (mut room_socket, _) = tokio_tungstenite::connect_async(room_url).await?;

    assert_eq!(hubring_tests::token_status(&server, &token).await?, StatusCode::OK);
    let changed_at = Instant::now();
    let changed = ana
        .post(
            "/auth/password",
            json!({"current_password": PASSWORD, "new_password": "a brand new passphrase"}),
        )
        .await?;
    assert_eq!(changed.status, StatusCode::NO_CONTENT, "{changed:?}");
    assert_eq!(doc_socket.wait_closed().await?, 1008);
    assert_eq!(close_code_of(&mut room_socket).await?, 1008);
    let cut_off = changed_at.elapsed();
    assert!(cut_off < std::time::Duration::from_secs(1), "cut off after {cut_off:?}");
    // The token and the other session are gone; the session that changed it stays.
    assert_eq!(hubring_tests::token_status(&server, &token).await?, StatusCode::UNAUTHORIZED);
    assert_eq!(laptop.get("/me").await?.status, StatusCode::UNAUTHORIZED);
    assert_eq!(ana.get("/me").await?.status, StatusCode::OK);
    server.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_served_only_on_their_address_or_with_their_token() -> anyhow::Result<()> {
    let _alone = hubring_tests::one_attack_at_a_time().await;
    let http = reqwest::Client::new();
    let get = |url: String, token: Option<&'static str>| {
        let mut request = http.get(url);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        async move { anyhow::Ok(request.send().await?) }
    };

    // By default nowhere: the public address answers 404, with or without a token.
    let server = TestServer::start_on_tmpfs(|_| {}).await;
    for token in [None, Some("guess")] {
        let reply = get(server.http_url("/metrics"), token).await?;
        assert_eq!(reply.status(), StatusCode::NOT_FOUND, "default, token {token:?}");
    }
    server.stop().await;

    // With a token, only to a request bearing it.
    let server =
        TestServer::start_on_tmpfs(|args| args.metrics_token = Some("s3cret-metrics".into())).await;
    for token in [None, Some("guess"), Some("s3cret-metric")] {
        let reply = get(server.http_url("/metrics"), token).await?;
        assert_eq!(reply.status(), StatusCode::NOT_FOUND, "token {token:?}");
    }
    let reply = get(server.http_url("/metrics"), Some("s3cret-metrics")).await?;
    assert_eq!(reply.status(), StatusCode::OK);
    let body = reply.text().await?;
    assert!(body.contains("hubring_live_docs ") && body.contains("hubring_connections_open "));
    server.stop().await;

    // On its own address: served there, not on the public one.
    let metrics_addr = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
    let server = TestServer::start_on_tmpfs(|args| args.metrics_listen = Some(metrics_addr)).await;
    // The server binds it as it starts, after the test has its handle.
    let deadline = Instant::now() + std::time::Duration::from_secs(10);
    let reply = loop {
        match get(format!("http://{metrics_addr}/metrics"), None).await {
            Ok(reply) => break reply,
            Err(err) if Instant::now() > deadline => return Err(err),
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
        }
    };
    assert_eq!(reply.status(), StatusCode::OK);
    assert!(reply.text().await?.contains("hubring_store_commits_total "));
    let reply = get(server.http_url("/metrics"), None).await?;
    assert_eq!(reply.status(), StatusCode::NOT_FOUND);
    server.stop().await;
    Ok(())
}

/// A presence (awareness) frame setting client `client`'s state to `json` at `clock`.
fn presence_frame(client: u64, clock: u32, json: &str) -> Vec<u8> {
    use yrs::sync::awareness::{AwarenessUpdate, AwarenessUpdateEntry};
    let entry = AwarenessUpdateEntry { clock, json: json.into() };
    let update = AwarenessUpdate {
        clients: std::collections::HashMap::from([(yrs::block::ClientID::new(client), entry)]),
    };
    Message::Awareness(update).encode_v1()
}

/// Sends `frames` as fast as the socket takes them while reading; stops sending once the
/// server's close frame arrives, so the close is read rather than lost to a reset. Returns the
/// close code (1006 if the socket ended without one) and how many frames were sent.
async fn flood(url: &str, frames: impl Iterator<Item = Vec<u8>> + Send + 'static) -> (u16, usize) {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message as Ws;
    let (ws, _) = tokio_tungstenite::connect_async(url).await.expect("connect");
    let (mut tx, mut rx) = ws.split();
    let stop = tokio_util::sync::CancellationToken::new();
    let writer = tokio::spawn({
        let stop = stop.clone();
        async move {
            let mut sent = 0;
            for frame in frames {
                tokio::select! {
                    () = stop.cancelled() => break,
                    result = tx.send(Ws::Binary(frame.into())) => if result.is_err() { break },
                }
                sent += 1;
            }
            sent
        }
    });
    let code = tokio::time::timeout(hubring_tests::WAIT, async {
        while let Some(msg) = rx.next().await {
            match msg {
                Ok(Ws::Close(frame)) => return frame.map_or(1005, |f| u16::from(f.code)),
                Ok(_) => {}
                Err(_) => break,
            }
        }
        1006
    })
    .await
    .unwrap_or(0);
    stop.cancel();
    (code, writer.await.unwrap_or(0))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_presence_flood_closes_the_flooder_and_no_one_else() -> anyhow::Result<()> {
    let _alone = hubring_tests::one_attack_at_a_time().await;
    let server = TestServer::start_on_tmpfs(|_| {}).await;
    let probe = HonestProbe::start(&server, "honest").await?;
    let url = server.doc_url("shared");
    let mut others = Vec::new();
    for _ in 0..3 {
        others.push(DocClient::connect_synced(&url).await?);
    }
    // 10,000 presence states of 2 KB, as fast as the socket takes them.
    let state = format!("{{\"user\":{{\"name\":\"{}\"}}}}", "x".repeat(2000));
    let frames = (0..10_000u32).map(move |clock| presence_frame(999, clock, &state));
    let (code, sent) = flood(&url, frames).await;
    assert_eq!(code, close::POLICY, "the flooder is closed for it ({sent} frames sent)");

    // Everyone else is still there and in step: an edit reaches all of them.
    others[0].edit(|txn| txn.get_or_insert_text("t").push(txn, "still here")).await?;
    for (i, other) in others.iter_mut().enumerate() {
        other
            .wait_until(|c| {
                let text = c.doc().get_or_insert_text("t");
                yrs::GetString::get_string(&text, &yrs::Transact::transact(c.doc())) == "still here"
            })
            .await
            .map_err(|err| anyhow::anyhow!("client {i}: {err}"))?;
        assert!(other.closed.is_none(), "client {i} was closed: {:?}", other.closed);
    }
    probe.finish().await?.assert_unharmed("presence flood");
    server.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_that_is_not_json_is_refused_and_a_burst_is_merged() -> anyhow::Result<()> {
    let _alone = hubring_tests::one_attack_at_a_time().await;
    let server = TestServer::start_on_tmpfs(|_| {}).await;
    let url = server.doc_url("presence");
    let mut watcher = DocClient::connect_synced(&url).await?;

    let mut bad = DocClient::connect_synced(&url).await?;
    bad.send_raw(presence_frame(666, 1, "{\"user\": not json")).await?;
    assert_eq!(bad.wait_closed().await?, close::INVALID_PAYLOAD);

    // 200 states at once, under the flood rate: the first are forwarded as they come, the rest
    // merged, and the last state is what the watcher ends with.
    let mut sender = DocClient::connect_synced(&url).await?;
    for clock in 1..=200u32 {
        sender.send_raw(presence_frame(777, clock, &format!("{{\"n\":{clock}}}"))).await?;
    }
    let mut received = 0;
    while watcher.awareness.meta(yrs::block::ClientID::new(777)).map(|m| m.0) != Some(200) {
        watcher.wait_for(|e| *e == hubring_tests::Event::Awareness).await?;
        received += 1;
    }
    assert!(received < 100, "{received} presence frames forwarded for 200 sent");
    assert!(
        watcher.awareness.meta(yrs::block::ClientID::new(666)).is_none(),
        "the state that was not JSON was forwarded"
    );
    assert!(sender.closed.is_none() && watcher.closed.is_none());
    server.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn images_are_refused_past_the_pixel_limit_and_embedded_once_per_drawing()
-> anyhow::Result<()> {
    let _alone = hubring_tests::one_attack_at_a_time().await;
    use hubring_tests::board::PNG;
    let (f, _) = board_with(&[]).await?;
    let upload = format!("/assets?project_id={}", f.project);
    // A PNG whose header says 20,000 x 20,000 pixels (what a 389 KB file can hold): refused
    // from its header, before anything is decoded.
    let mut huge = PNG.to_vec();
    huge[16..20].copy_from_slice(&20_000u32.to_be_bytes());
    huge[20..24].copy_from_slice(&20_000u32.to_be_bytes());
    let refused = f.owner.upload(&upload, huge, "image/png").await?;
    assert_eq!(refused.status, StatusCode::PAYLOAD_TOO_LARGE, "{refused:?}");
    assert_eq!(refused.body["error"]["code"], "image_too_large");
    assert!(refused.body["error"]["message"].as_str().unwrap_or("").contains("20000 x 20000"));

    // 200 image shapes showing one photo: the photo is in the file once.
    let photo = f.owner.upload(&upload, PNG.to_vec(), "image/png").await?;
    let asset = photo.body["id"].as_str().unwrap_or_default().to_owned();
    let shapes = (0..200)
        .map(|i| {
            let mut s = shape(format!("img{i}"), board::ShapeKind::Image, i);
            s.asset = Some(asset.clone());
            s.rot = 0.0;
            s
        })
        .collect();
    write_shapes(&f, shapes).await?;
    let svg = f.owner.get_raw(&format!("/boards/{}/export.svg", f.board), &[]).await?;
    assert_eq!(svg.status(), StatusCode::OK);
    let text = svg.text().await?;
    assert_eq!(text.matches("data:image/png;base64,").count(), 1, "the photo embedded once");
    assert_eq!(text.matches("<use ").count(), 200, "and shown by every image shape");
    roxmltree::Document::parse(&text)?;

    // And it is drawn: the first image's centre has the photo's colour (orange, 255 128 0).
    let png = f.owner.get_raw(&format!("/boards/{}/export.png", f.board), &[]).await?;
    assert_eq!(png.status(), StatusCode::OK);
    let pixmap = resvg::tiny_skia::Pixmap::decode_png(&png.bytes().await?)?;
    // The board's bounds start at the first shape (0, 0) less 32 of padding; shapes are
    // 160 x 120, so the first image's centre is at (32 + 80, 32 + 60) at scale 1.
    let scale = f64::from(pixmap.width()) / (40.0 * 220.0 - 60.0 + 64.0);
    let at = |v: f64| (v * scale).round() as u32;
    let pixel = pixmap.pixel(at(112.0), at(92.0)).expect("inside the drawing");
    let (r, g, b) = (pixel.red(), pixel.green(), pixel.blue());
    assert!(r > 240 && (110..150).contains(&g) && b < 20, "the photo is drawn: ({r}, {g}, {b})");
    f.server.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frames_over_16_mib_are_closed_with_1009_that_the_client_reads() -> anyhow::Result<()> {
    let _alone = hubring_tests::one_attack_at_a_time().await;
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message as Ws;
    // The default limit (16 MiB), and frames just past it and well past it.
    let server = TestServer::start_on_tmpfs(|_| {}).await;
    for size in [(16 << 20) + 1, (33 << 19), 24 << 20] {
        let (mut ws, _) = tokio_tungstenite::connect_async(server.doc_url("big")).await?;
        // The client may still be writing its frame when the server refuses it from its header;
        // a failed write is fine, the close code is what must arrive.
        let _ = ws.send(Ws::Binary(vec![0u8; size].into())).await;
        assert_eq!(close_code_of(&mut ws).await?, close::TOO_BIG, "a frame of {size} bytes");
    }
    server.stop().await;
    Ok(())
}
