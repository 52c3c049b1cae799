//! The document websocket end to end: the real server on 127.0.0.1:0, real websocket clients.

use std::time::Duration;

use hubring_protocol::ws::close;
use hubring_tests::{DocClient, Event, TestServer};
use serde_json::json;
use yrs::updates::encoder::Encode;
use yrs::{Array, ArrayPrelim, GetString, Map, MapPrelim, Text, Transact, WriteTxn};

fn text_of(client: &DocClient, name: &str) -> String {
    let text = client.doc().get_or_insert_text(name);
    text.get_string(&client.doc().transact())
}

#[tokio::test]
async fn concurrent_edits_converge() -> anyhow::Result<()> {
    let server = TestServer::start().await;
    let url = server.doc_url("converge");
    let mut a = DocClient::connect_synced(&url).await?;
    let mut b = DocClient::connect_synced(&url).await?;
    for client in [&a, &b] {
        client.doc().get_or_insert_text("t");
        client.doc().get_or_insert_map("m");
        client.doc().get_or_insert_array("a");
    }
    // Both edit every type before either hears of the other.
    a.edit(|txn| {
        txn.get_or_insert_text("t").insert(txn, 0, "alpha ");
        txn.get_or_insert_map("m").insert(txn, "shared", "from a");
        txn.get_or_insert_map("m").insert(txn, "a_only", 1);
        txn.get_or_insert_array("a").push_back(txn, "a1");
    })
    .await?;
    b.edit(|txn| {
        txn.get_or_insert_text("t").insert(txn, 0, "beta ");
        txn.get_or_insert_map("m").insert(txn, "shared", "from b");
        txn.get_or_insert_array("a").push_back(txn, "b1");
    })
    .await?;
    a.edit(|txn| {
        txn.get_or_insert_array("a").insert(txn, 0, "a0");
    })
    .await?;
    b.wait_until(|c| c.json()["a"].as_array().is_some_and(|a| a.len() == 3)).await?;
    a.wait_until(|c| c.json()["a"].as_array().is_some_and(|a| a.len() == 3)).await?;
    assert_eq!(a.json(), b.json());
    let t = text_of(&a, "t");
    assert!(t == "alpha beta " || t == "beta alpha ", "{t:?}");
    assert_eq!(a.json()["m"]["a_only"], json!(1));
    server.stop().await;
    Ok(())
}

#[tokio::test]
async fn save_acknowledgements_follow_commits() -> anyhow::Result<()> {
    let server = TestServer::start().await;
    let url = server.doc_url("acks");
    let mut writer = DocClient::connect_synced(&url).await?;
    writer.subscribe_saved().await?;
    for i in 0..5 {
        writer.edit(|txn| txn.get_or_insert_text("t").push(txn, &i.to_string())).await?;
    }
    writer.wait_all_saved().await?;
    assert_eq!(writer.n_saved, 5);
    // Saved means stored: a fresh client on a restarted server sees all of it.
    let dir = server.stop().await.expect("dir");
    let server = TestServer::start_in(dir.path(), |_| {}).await;
    let reader = DocClient::connect_synced(&server.doc_url("acks")).await?;
    assert_eq!(text_of(&reader, "t"), "01234");
    server.stop().await;
    Ok(())
}

#[tokio::test]
async fn awareness_reaches_peer_and_leaves_with_it() -> anyhow::Result<()> {
    let server = TestServer::start().await;
    let url = server.doc_url("presence");
    let mut a = DocClient::connect_synced(&url).await?;
    let mut b = DocClient::connect_synced(&url).await?;
    a.set_presence(json!({"user": {"name": "Ada", "color": "#f00"}})).await?;
    let a_id = a.awareness.client_id();
    b.wait_until(|c| c.awareness.state::<serde_json::Value>(a_id).is_some()).await?;
    let seen: serde_json::Value = b.awareness.state(a_id).expect("state");
    assert_eq!(seen["user"]["name"], "Ada");
    // A newcomer gets the present states on join.
    let mut c = DocClient::connect(&url).await?;
    c.wait_until(|c| c.awareness.state::<serde_json::Value>(a_id).is_some()).await?;
    a.close().await;
    b.wait_until(|c| c.awareness.state::<serde_json::Value>(a_id).is_none()).await?;
    c.wait_until(|c| c.awareness.state::<serde_json::Value>(a_id).is_none()).await?;
    server.stop().await;
    Ok(())
}

#[tokio::test]
async fn document_survives_restart() -> anyhow::Result<()> {
    let server = TestServer::start().await;
    let mut a = DocClient::connect_synced(&server.doc_url("keep")).await?;
    a.subscribe_saved().await?;
    a.edit(|txn| {
        txn.get_or_insert_text("t").push(txn, "kept");
        let list = txn.get_or_insert_array("a");
        list.push_back(txn, MapPrelim::from([("k", 1)]));
        list.push_back(txn, ArrayPrelim::default());
    })
    .await?;
    a.wait_all_saved().await?;
    let before = a.json();
    let dir = server.stop().await.expect("dir");
    let server = TestServer::start_in(dir.path(), |_| {}).await;
    let b = DocClient::connect_synced(&server.doc_url("keep")).await?;
    b.doc().get_or_insert_text("t");
    b.doc().get_or_insert_array("a");
    assert_eq!(b.json(), before);
    server.stop().await;
    Ok(())
}

#[tokio::test]
async fn viewer_update_is_refused_and_never_stored() -> anyhow::Result<()> {
    let server = TestServer::start().await;
    let mut w = DocClient::connect_synced(&server.doc_url("ro")).await?;
    w.subscribe_saved().await?;
    w.edit(|txn| txn.get_or_insert_text("t").push(txn, "hello")).await?;
    w.wait_all_saved().await?;
    let dir = server.stop().await.expect("dir");

    let read_only = |args: &mut hubring::config::ServeArgs| {
        args.read_only_doc_ids = Some(vec![hubring_protocol::DocId::parse("ro").unwrap()]);
    };
    let server = TestServer::start_in(dir.path(), read_only).await;
    let mut viewer = DocClient::connect_synced(&server.doc_url("ro")).await?;
    let mut other = DocClient::connect_synced(&server.doc_url("ro")).await?;
    assert_eq!(text_of(&viewer, "t"), "hello");
    viewer.edit(|txn| txn.get_or_insert_text("t").push(txn, " world")).await?;
    let refused = viewer.wait_for(|e| matches!(e, Event::Auth(_))).await?;
    assert!(matches!(refused, Event::Auth(Some(reason)) if reason.contains("read-only")));
    // The connection stays open and keeps receiving; presence still works for viewers.
    viewer.set_presence(json!({"user": {"name": "viewer"}})).await?;
    let viewer_id = viewer.awareness.client_id();
    other.wait_until(|c| c.awareness.state::<serde_json::Value>(viewer_id).is_some()).await?;
    server.stop().await;

    let server = TestServer::start_in(dir.path(), |_| {}).await;
    let fresh = DocClient::connect_synced(&server.doc_url("ro")).await?;
    assert_eq!(text_of(&fresh, "t"), "hello");
    server.stop().await;
    Ok(())
}

/// Opens a writer and keeps it editing while `bad` misbehaves; returns the bad client's close code.
async fn bad_input_case(
    server: &TestServer,
    doc: &str,
    bad_frame: tokio_tungstenite::tungstenite::Message,
) -> anyhow::Result<u16> {
    use futures_util::SinkExt;
    let url = server.doc_url(doc);
    let mut good = DocClient::connect_synced(&url).await?;
    good.subscribe_saved().await?;
    let mut watcher = DocClient::connect_synced(&url).await?;
    let (mut bad, _) = tokio_tungstenite::connect_async(&url).await?;
    good.edit(|txn| txn.get_or_insert_text("t").push(txn, "before ")).await?;
    good.wait_all_saved().await?;
    bad.send(bad_frame).await?;
    let code = wait_close_code(&mut bad).await?;
    good.edit(|txn| txn.get_or_insert_text("t").push(txn, "after")).await?;
    good.wait_all_saved().await?;
    watcher.wait_until(|c| text_of(c, "t") == "before after").await?;
    Ok(code)
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn wait_close_code(ws: &mut Ws) -> anyhow::Result<u16> {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    tokio::time::timeout(hubring_tests::WAIT, async {
        while let Some(msg) = ws.next().await {
            match msg {
                Ok(Message::Close(Some(frame))) => return Ok(u16::from(frame.code)),
                Ok(Message::Close(None)) => return Ok(1005),
                Ok(_) => {}
                Err(err) => anyhow::bail!("connection failed before a close frame: {err}"),
            }
        }
        anyhow::bail!("stream ended without a close frame")
    })
    .await?
}

#[tokio::test]
async fn bad_input_gets_its_close_code_and_others_carry_on() -> anyhow::Result<()> {
    use tokio_tungstenite::tungstenite::Message;
    let server = TestServer::start_with(|a| a.max_frame_bytes = Some(64 * 1024)).await;
    let oversize = Message::Binary(vec![0u8; 64 * 1024 + 1].into());
    assert_eq!(bad_input_case(&server, "big", oversize).await?, close::TOO_BIG);
    let garbage = Message::Binary(vec![0, 2, 0xff, 0xff, 0xff].into());
    assert_eq!(bad_input_case(&server, "garbage", garbage).await?, close::INVALID_PAYLOAD);
    let unknown = Message::Binary(vec![42, 0].into());
    assert_eq!(bad_input_case(&server, "unknown", unknown).await?, close::INVALID_PAYLOAD);
    let text = Message::Text("hello".into());
    assert_eq!(bad_input_case(&server, "text", text).await?, close::INVALID_PAYLOAD);
    server.stop().await;
    Ok(())
}

#[tokio::test]
async fn update_yrs_rejects_is_closed_and_not_applied() -> anyhow::Result<()> {
    // Two histories for the same client id: in one, (client, 0) is a nested map; in the other, a
    // string. The map's child update, sent to a document holding the string, names a parent
    // that is not a type, which yrs refuses.
    let client_id = 4242u64;
    let as_map = yrs::Doc::with_client_id(client_id);
    let list = as_map.get_or_insert_array("a");
    let nested = list.push_back(&mut as_map.transact_mut(), MapPrelim::default());
    let child_update = {
        let mut txn = as_map.transact_mut();
        nested.insert(&mut txn, "k", "v");
        txn.encode_update_v1()
    };
    let as_text = yrs::Doc::with_client_id(client_id);
    let text_update = {
        let mut txn = as_text.transact_mut();
        txn.get_or_insert_array("a").push_back(&mut txn, "s");
        txn.encode_update_v1()
    };
    let server = TestServer::start().await;
    let url = server.doc_url("reject");
    let mut good = DocClient::connect_synced(&url).await?;
    good.subscribe_saved().await?;
    good.send_raw(
        yrs::sync::Message::Sync(yrs::sync::SyncMessage::Update(text_update)).encode_v1(),
    )
    .await?;
    good.n_sent += 1;
    good.wait_all_saved().await?;
    let mut bad = DocClient::connect_synced(&url).await?;
    bad.send_raw(
        yrs::sync::Message::Sync(yrs::sync::SyncMessage::Update(child_update)).encode_v1(),
    )
    .await?;
    assert_eq!(bad.wait_closed().await?, close::INVALID_PAYLOAD);
    good.edit(|txn| txn.get_or_insert_array("a").push_back(txn, "after")).await?;
    good.wait_all_saved().await?;
    let dir = server.stop().await.expect("dir");
    let server = TestServer::start_in(dir.path(), |_| {}).await;
    let fresh = DocClient::connect_synced(&server.doc_url("reject")).await?;
    fresh.doc().get_or_insert_array("a");
    assert_eq!(fresh.json()["a"], json!(["s", "after"]));
    server.stop().await;
    Ok(())
}

/// Connects a client that announces its presence once and then never reads again; returns its
/// raw socket and awareness client id. Others see it leave when the server drops it.
async fn connect_then_stall(url: &str) -> anyhow::Result<(Ws, u64)> {
    use futures_util::SinkExt;
    let mut awareness = yrs::sync::Awareness::new(yrs::Doc::new());
    awareness.set_local_state(json!({"user": {"name": "stalled"}}))?;
    let frame = yrs::sync::Message::Awareness(awareness.update()?).encode_v1();
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await?;
    ws.send(tokio_tungstenite::tungstenite::Message::Binary(frame.into())).await?;
    Ok((ws, awareness.client_id().get()))
}

/// Reads a socket that never answered anything down to the bytes and finds the close frame.
/// A websocket client would try to answer the queued pings first and fail on the closed socket.
async fn raw_close_code(ws: Ws) -> anyhow::Result<u16> {
    use tokio::io::AsyncReadExt;
    let tokio_tungstenite::MaybeTlsStream::Plain(mut tcp) = ws.into_inner() else {
        anyhow::bail!("expected a plain TCP stream")
    };
    let mut bytes = Vec::new();
    tokio::time::timeout(hubring_tests::WAIT, tcp.read_to_end(&mut bytes)).await??;
    let mut at = 0;
    // Server frames are unmasked (RFC 6455 §5.2): opcode, length, extended length, payload.
    while at + 2 <= bytes.len() {
        let opcode = bytes[at] & 0x0f;
        let (len, header) = match bytes[at + 1] & 0x7f {
            126 => (usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]])), 4),
            127 => (usize::try_from(u64::from_be_bytes(bytes[at + 2..at + 10].try_into()?))?, 10),
            n => (usize::from(n), 2),
        };
        let payload = at + header;
        if opcode == 0x8 {
            return Ok(u16::from_be_bytes([bytes[payload], bytes[payload + 1]]));
        }
        at = payload + len;
    }
    anyhow::bail!("no close frame in {} bytes", bytes.len())
}

fn present(client: &DocClient, id: u64) -> bool {
    client.awareness.state::<serde_json::Value>(yrs::ClientID::new(id)).is_some()
}

#[tokio::test]
async fn slow_client_is_closed_not_dropped() -> anyhow::Result<()> {
    let server = TestServer::start_with(|a| a.outbox_frames = Some(8)).await;
    let url = server.doc_url("slow");
    let mut writer = DocClient::connect_synced(&url).await?;
    writer.subscribe_saved().await?;
    let mut reader = DocClient::connect_synced(&url).await?;
    let (mut slow, slow_id) = connect_then_stall(&url).await?;
    reader.wait_until(|c| present(c, slow_id)).await?;
    // Large updates fill the stalled socket's kernel buffers, then its outbox.
    let chunk = "x".repeat(256 * 1024);
    let mut n_written: u32 = 0;
    while present(&reader, slow_id) {
        assert!(n_written < 1000, "the stalled client was never closed");
        writer
            .edit(|txn| txn.get_or_insert_array("a").push_back(txn, format!("{n_written}{chunk}")))
            .await?;
        n_written += 1;
        writer.wait_all_saved().await?;
        // The reader keeps up, and sees the stalled client leave once the server drops it.
        reader
            .wait_until(|c| c.doc().get_or_insert_array("a").len(&c.doc().transact()) >= n_written)
            .await?;
    }
    // Reading again, the stalled client finds what was buffered, then the close frame: 1013.
    assert_eq!(wait_close_code(&mut slow).await?, close::TRY_AGAIN);
    // Everyone else received every update, in full.
    for _ in 0..3 {
        writer.edit(|txn| txn.get_or_insert_array("a").push_back(txn, "after")).await?;
        n_written += 1;
    }
    writer.wait_all_saved().await?;
    reader
        .wait_until(|c| c.doc().get_or_insert_array("a").len(&c.doc().transact()) == n_written)
        .await?;
    server.stop().await;
    Ok(())
}

#[tokio::test]
async fn silent_client_is_closed() -> anyhow::Result<()> {
    let server = TestServer::start_with(|a| {
        a.ping_interval_ms = Some(50);
        // Longer than the second the server reads a closed socket for the client's close answer
        // (which the silent client never sends), while the live client reads nothing.
        a.client_timeout_ms = Some(2_000);
    })
    .await;
    let url = server.doc_url("silent");
    let mut live = DocClient::connect_synced(&url).await?;
    // Never reads, so never answers the server's pings.
    let (silent, silent_id) = connect_then_stall(&url).await?;
    // The live client reads (answering pings) and sees the silent one come and go.
    live.wait_until(|c| present(c, silent_id)).await?;
    live.wait_until(|c| !present(c, silent_id)).await?;
    assert_eq!(raw_close_code(silent).await?, close::POLICY);
    live.subscribe_saved().await?;
    live.edit(|txn| txn.get_or_insert_text("t").push(txn, "still here")).await?;
    live.wait_all_saved().await?;
    assert!(live.closed.is_none());
    server.stop().await;
    Ok(())
}

#[tokio::test]
async fn shutdown_closes_websockets_with_going_away() -> anyhow::Result<()> {
    let server = TestServer::start().await;
    let mut a = DocClient::connect_synced(&server.doc_url("bye")).await?;
    let stopping = tokio::spawn(server.stop());
    assert_eq!(a.wait_closed().await?, close::GOING_AWAY);
    stopping.await?;
    Ok(())
}

#[tokio::test]
async fn commit_failure_closes_with_try_again_and_broadcasts_nothing() -> anyhow::Result<()> {
    let server = TestServer::start_with(|a| a.store_busy_timeout_ms = Some(100)).await;
    let url = server.doc_url("fail");
    let mut writer = DocClient::connect_synced(&url).await?;
    writer.subscribe_saved().await?;
    let mut observer = DocClient::connect_synced(&url).await?;
    writer.edit(|txn| txn.get_or_insert_text("t").push(txn, "saved ")).await?;
    writer.wait_all_saved().await?;
    observer.wait_until(|c| text_of(c, "t") == "saved ").await?;

    // Another process holds SQLite's write lock, so the next commit fails.
    let lock = server.open_store().await?;
    let guard = lock.hold_write_lock().await?;
    writer.edit(|txn| txn.get_or_insert_text("t").push(txn, "lost")).await?;
    assert_eq!(writer.wait_closed().await?, close::TRY_AGAIN);
    assert_eq!(observer.wait_closed().await?, close::TRY_AGAIN);
    assert_eq!(text_of(&observer, "t"), "saved ", "nothing uncommitted was broadcast");
    drop(guard);

    // The document reloaded from the store and works again.
    let mut again = DocClient::connect_synced(&url).await?;
    assert_eq!(text_of(&again, "t"), "saved ");
    again.subscribe_saved().await?;
    again.edit(|txn| txn.get_or_insert_text("t").push(txn, "again")).await?;
    again.wait_all_saved().await?;
    server.stop().await;
    Ok(())
}

#[tokio::test]
async fn compaction_keeps_every_update() -> anyhow::Result<()> {
    let server = TestServer::start_with(|a| a.compact_after = Some(10)).await;
    let url = server.doc_url("compact");
    let mut w = DocClient::connect_synced(&url).await?;
    w.subscribe_saved().await?;
    for i in 0..35 {
        w.edit(|txn| txn.get_or_insert_array("a").push_back(txn, i)).await?;
        w.wait_all_saved().await?;
    }
    let store = server.open_store().await?;
    let doc = hubring_protocol::DocId::parse("compact")?;
    let stored = store.load(&doc).await?;
    assert!(stored.snapshot.is_some(), "the log was merged into a snapshot");
    assert!(stored.updates.len() < 10, "log after snapshot: {}", stored.updates.len());
    let dir = server.stop().await.expect("dir");
    let server = TestServer::start_in(dir.path(), |_| {}).await;
    let r = DocClient::connect_synced(&server.doc_url("compact")).await?;
    let list = r.doc().get_or_insert_array("a");
    assert_eq!(list.len(&r.doc().transact()), 35);
    server.stop().await;
    Ok(())
}

#[tokio::test]
async fn idle_document_is_evicted_and_reloads() -> anyhow::Result<()> {
    let server = TestServer::start_with(|a| a.doc_idle_secs = Some(0)).await;
    let url = server.doc_url("evict");
    for round in 0..3 {
        let mut w = DocClient::connect_synced(&url).await?;
        assert_eq!(text_of(&w, "t").len(), round);
        w.subscribe_saved().await?;
        w.edit(|txn| txn.get_or_insert_text("t").push(txn, "x")).await?;
        w.wait_all_saved().await?;
        w.close().await;
    }
    server.stop().await;
    Ok(())
}

#[tokio::test]
async fn bad_doc_id_is_400_before_upgrade() -> anyhow::Result<()> {
    use tokio_tungstenite::tungstenite::Error;
    let server = TestServer::start().await;
    let long = "a".repeat(129);
    for bad in ["has%20space", "a%2Fb", long.as_str(), "x/y", "%C3%A9"] {
        match tokio_tungstenite::connect_async(server.doc_url(bad)).await {
            Err(Error::Http(response)) => assert_eq!(response.status(), 400, "{bad}"),
            other => panic!("{bad}: expected HTTP 400, got {other:?}"),
        }
    }
    assert!(tokio_tungstenite::connect_async(server.doc_url(&"a".repeat(128))).await.is_ok());
    server.stop().await;
    Ok(())
}

#[tokio::test]
async fn health_and_readiness() -> anyhow::Result<()> {
    let server = TestServer::start().await;
    for (path, body) in [("/healthz", "ok"), ("/readyz", "ready")] {
        let response = http_get(server.addr, path).await?;
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        assert!(response.ends_with(body), "{response}");
    }
    server.stop().await;
    Ok(())
}

async fn http_get(addr: std::net::SocketAddr, path: &str) -> anyhow::Result<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await?;
    let mut response = String::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_string(&mut response)).await??;
    Ok(response)
}

/// Three clients write at once into one document, as the interop test's two npm providers and
/// its Rust client do, in many orders and timings, and each leaves as soon as it holds every
/// edit: every client ends with every edit. This found that an edit sent just before its
/// client left was dropped when the client's departure reached the document first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_each_receive_every_other_edit() -> anyhow::Result<()> {
    let server = TestServer::start().await;
    for round in 0..60 {
        let url = server.doc_url(&format!("three-{round}"));
        let mut clients = Vec::new();
        for _ in 0..3 {
            clients.push(DocClient::connect_synced(&url).await?);
        }
        // Stagger the writes by a little more each round, so their turns fall differently.
        let pause = std::time::Duration::from_micros((round % 6) * 150);
        let mut tasks = Vec::new();
        for (i, mut client) in clients.into_iter().enumerate() {
            tasks.push(tokio::spawn(async move {
                tokio::time::sleep(pause * u32::try_from(i).unwrap_or(0)).await;
                let marker = format!("[{i}]");
                client.edit(|txn| txn.get_or_insert_text("t").insert(txn, 0, &marker)).await?;
                let all = client
                    .wait_until(|c| {
                        let text = text_of(c, "t");
                        (0..3).all(|j| text.contains(&format!("[{j}]")))
                    })
                    .await;
                if let Err(err) = all {
                    anyhow::bail!(
                        "round {round}, client {i}: {err}; it holds {:?}",
                        text_of(&client, "t")
                    );
                }
                anyhow::Ok(())
            }));
        }
        for task in tasks {
            task.await??;
        }
    }
    server.stop().await;
    Ok(())
}

/// A client that sends an edit and goes away at once (a tab closed right after typing) still
/// has its edit kept and sent to everyone, whichever reaches the document first: the edit or
/// the news that the socket is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_sent_just_before_leaving_is_kept() -> anyhow::Result<()> {
    let server = TestServer::start().await;
    let url = server.doc_url("leaving");
    let mut watcher = DocClient::connect_synced(&url).await?;
    for i in 0..40 {
        let mut leaver = DocClient::connect_synced(&url).await?;
        let marker = format!("<{i}>");
        leaver.edit(|txn| txn.get_or_insert_text("t").push(txn, &marker)).await?;
        drop(leaver);
        watcher.wait_until(|c| text_of(c, "t").contains(&marker)).await?;
    }
    server.stop().await;
    Ok(())
}
