//! Several nodes on one PostgreSQL and one Redis, with the real binary, behind Debian's nginx
//! running the repository's `deploy/nginx/hubring.conf`: documents converge across nodes (the
//! official y-websocket providers too), presence crosses, access changes close sockets on every
//! node, a node killed with SIGKILL loses nothing anyone saw or was told was saved, and Redis
//! restarted or losing messages only delays edits.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hubring_testkit::{Nginx, Redis};
use hubring_tests::DocClient;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use yrs::{Array, GetString, Map, Text, Transact, WriteTxn};

const METRICS_TOKEN: &str = "cluster-test-metrics";

/// One `hubring serve` node.
struct Node {
    child: Child,
    addr: SocketAddr,
}

impl Node {
    fn start(database: &str, redis: &str, extra: &[&str]) -> Self {
        let (child, addr) = hubring_tests::spawn_listening(
            Command::new(env!("CARGO_BIN_EXE_hubring"))
                .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json", "--open-docs"])
                .args(["--database-url", database, "--redis-url", redis])
                .args(["--metrics-token", METRICS_TOKEN])
                .args(extra)
                .env("HUBRING_LOG", "info"),
            std::env::var_os("CLUSTER_VERBOSE").is_some(),
        );
        Self { child, addr }
    }

    fn url(&self, doc: &str) -> String {
        format!("ws://{}/ws/doc/{doc}", self.addr)
    }

    async fn metric(&self, name: &str) -> u64 {
        let text = reqwest::Client::new()
            .get(format!("http://{}/metrics", self.addr))
            .bearer_auth(METRICS_TOKEN)
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("metrics body");
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in /metrics:\n{text}"))
    }

    fn kill_9(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reap");
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A database, a Redis and two nodes behind nginx.
struct Cluster {
    database: String,
    redis: Redis,
    a: Node,
    b: Node,
    nginx: Nginx,
}

impl Cluster {
    fn start(extra: &[&str]) -> Self {
        let database = hubring_testkit::postgres().fresh_database();
        let redis = Redis::start();
        let a = Node::start(&database, &redis.url(), extra);
        let b = Node::start(&database, &redis.url(), extra);
        let nginx = Nginx::start(SITE, &[a.addr, b.addr]);
        Self { database, redis, a, b, nginx }
    }

    fn via_nginx(&self, doc: &str) -> String {
        format!("ws://{}/ws/doc/{doc}", self.nginx.addr())
    }
}

const SITE: &str = include_str!("../../deploy/nginx/hubring.conf");

fn items(client: &DocClient) -> Vec<String> {
    let list = client.doc().get_or_insert_array("items");
    let txn = client.doc().transact();
    list.iter(&txn).map(|v| v.to_string(&txn)).collect()
}

async fn push(client: &mut DocClient, item: String) -> anyhow::Result<()> {
    client.edit(|txn| txn.get_or_insert_array("items").push_back(txn, item)).await
}

/// Reads `client`'s frames until it holds `n` items, at most `within`.
async fn until_items(client: &mut DocClient, n: usize, within: Duration) -> anyhow::Result<()> {
    tokio::time::timeout(within, client.wait_until(|c| items(c).len() >= n))
        .await
        .map_err(|_| anyhow::anyhow!("{} of {n} items after {within:?}", items(client).len()))?
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_providers_on_two_nodes_converge_and_see_each_other() -> anyhow::Result<()> {
    hubring_tests::npm_ci("y-websocket").await?;
    let cluster = Cluster::start(&[]);
    let output = tokio::process::Command::new("node")
        .arg("cluster_providers.mjs")
        .arg(format!("ws://{}/ws/doc", cluster.a.addr))
        .arg(format!("ws://{}/ws/doc", cluster.b.addr))
        .arg("shared")
        .current_dir(hubring_tests::interop_dir())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(hubring_tests::WAIT, output).await??;
    anyhow::ensure!(output.status.success(), "node client failed: {:?}", output.status);
    let result: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    assert_eq!(result["a"], result["b"], "both providers hold the same document");
    assert_eq!(result["a"]["a"].as_array().map(Vec::len), Some(2), "{result}");
    // A third client, through nginx, reads the same from whichever node it lands on.
    let mut late = DocClient::connect_synced(&cluster.via_nginx("shared")).await?;
    let map = late.doc().get_or_insert_map("m");
    let text = late.doc().get_or_insert_text("t");
    late.wait_until(|c| map.len(&c.doc().transact()) == 2).await?;
    assert_eq!(Some(text.get_string(&late.doc().transact()).as_str()), result["a"]["t"].as_str());
    Ok(())
}

/// A writer on each node writes `n` items to `doc`, interleaved (each seeing the other's edits as
/// they come), until both hold all `2n`.
async fn write_on_both(
    cluster: &Cluster,
    doc: &str,
    n: usize,
) -> anyhow::Result<(DocClient, DocClient)> {
    let mut on_a = DocClient::connect_synced(&cluster.a.url(doc)).await?;
    let mut on_b = DocClient::connect_synced(&cluster.b.url(doc)).await?;
    for i in 0..n {
        push(&mut on_a, format!("a{i}")).await?;
        push(&mut on_b, format!("b{i}")).await?;
    }
    until_items(&mut on_a, 2 * n, Duration::from_secs(10)).await?;
    until_items(&mut on_b, 2 * n, Duration::from_secs(10)).await?;
    Ok((on_a, on_b))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_cross_nodes_within_moments_and_arrive_once() -> anyhow::Result<()> {
    let cluster = Cluster::start(&[]);
    let n = 200;
    let (on_a, on_b) = write_on_both(&cluster, "burst", n).await?;
    assert_eq!(items(&on_a), items(&on_b));
    let mut seen = items(&on_a);
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 2 * n, "no edit twice, none lost");
    Ok(())
}

/// A writer on node A, an observer on node B; A is killed mid-stream; the writer comes back
/// through nginx (to B, the only node left). Every update the observer saw, and every update A
/// acknowledged as saved, is in the document; the writer's unsaved ones are resent and kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_mid_stream_loses_nothing_seen_or_saved() -> anyhow::Result<()> {
    const ROUNDS: usize = 20;
    const N: usize = 300;
    let mut cluster = Cluster::start(&[]);
    let (mut mid_stream, mut with_saved) = (0, 0);
    for round in 0..ROUNDS {
        let doc = format!("death-{round}");
        let mut observer = DocClient::connect_synced(&cluster.b.url(&doc)).await?;
        let mut writer = DocClient::connect_synced(&cluster.a.url(&doc)).await?;
        writer.subscribe_saved().await?;
        let kill_after = 10 + round * (N - 60) / ROUNDS;
        let writing = tokio::spawn(async move {
            for i in 0..N {
                if push(&mut writer, format!("{i}")).await.is_err() {
                    break;
                }
                // Read what is there (save acknowledgements) without waiting.
                while let Ok(Ok(Some(_))) =
                    tokio::time::timeout(Duration::ZERO, writer.next_event()).await
                {
                }
                if writer.closed.is_some() {
                    break;
                }
            }
            writer
        });
        until_items(&mut observer, kill_after, Duration::from_secs(20)).await?;
        cluster.a.kill_9();
        let mut writer = writing.await?;
        // Whatever A acknowledged before it died.
        while writer.next_event().await?.is_some() {}
        let saved = writer.n_saved as usize;
        let sent = writer.n_sent as usize;
        let seen = items(&observer);
        mid_stream += usize::from(sent < N || seen.len() < sent);
        with_saved += usize::from(saved > 0);
        // Back through the load balancer, with everything it holds (as a provider does).
        let doc_state = writer.doc().clone();
        let mut back = DocClient::connect_with(&cluster.via_nginx(&doc), doc_state).await?;
        // The server's sync step 1, answered with everything the writer holds.
        back.wait_for(|e| *e == hubring_tests::Event::SyncStep1).await?;
        until_items(&mut observer, sent, Duration::from_secs(10)).await?;
        let fresh = DocClient::connect_synced(&cluster.b.url(&doc)).await?;
        let stored = items(&fresh);
        for item in &seen {
            assert!(stored.contains(item), "round {round}: {item} was seen, then lost");
        }
        for i in 0..saved {
            assert!(stored.contains(&i.to_string()), "round {round}: {i} was saved, then lost");
        }
        assert_eq!(stored.len(), sent, "round {round}: every edit sent is kept once");
        cluster.a = Node::start(&cluster.database, &cluster.redis.url(), &[]);
    }
    // The kill must land mid-stream, after acknowledgements, or the test shows nothing.
    assert!(mid_stream >= ROUNDS / 2, "only {mid_stream} rounds were cut mid-stream");
    assert!(with_saved >= ROUNDS / 2, "only {with_saved} rounds had saved updates");
    Ok(())
}

/// Redis killed and started again mid-stream: the nodes resubscribe and read what they missed
/// from the store; everyone converges within 2 s of the last edit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_restarted_mid_stream_delays_edits_and_loses_none() -> anyhow::Result<()> {
    let mut cluster = Cluster::start(&[]);
    let mut writer = DocClient::connect_synced(&cluster.a.url("restart")).await?;
    let mut observer = DocClient::connect_synced(&cluster.b.url("restart")).await?;
    let n = 300;
    for i in 0..n {
        push(&mut writer, format!("{i}")).await?;
        if i == n / 3 {
            cluster.redis.restart();
        }
        if i % 20 == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    // Within 2 s of the last edit (`until_items` fails past it).
    until_items(&mut observer, n, Duration::from_secs(2)).await?;
    assert_eq!(items(&observer), items(&writer));
    // The restart really cut both nodes' subscriptions, and they came back.
    for node in [&cluster.a, &cluster.b] {
        let deadline = Instant::now() + Duration::from_secs(10);
        while node.metric("hubring_redis_reconnects_total").await == 0 {
            anyhow::ensure!(Instant::now() < deadline, "no resubscription after the restart");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    Ok(())
}

/// Node B's subscription goes through a proxy that drops one Redis message in three: every
/// gap is read from the store, and counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_redis_messages_are_repaired_from_the_store() -> anyhow::Result<()> {
    let database = hubring_testkit::postgres().fresh_database();
    let redis = Redis::start();
    let lossy = LossyProxy::start(&redis.url(), 3).await?;
    let a = Node::start(&database, &redis.url(), &[]);
    let b = Node::start(&database, &lossy.url(), &[]);
    let mut writer = DocClient::connect_synced(&a.url("lossy")).await?;
    let mut observer = DocClient::connect_synced(&b.url("lossy")).await?;
    let n = 200;
    for i in 0..n {
        push(&mut writer, format!("{i}")).await?;
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    until_items(&mut observer, n, Duration::from_secs(2)).await?;
    assert_eq!(items(&observer), items(&writer));
    let mut sorted = items(&observer);
    sorted.dedup();
    assert_eq!(sorted.len(), n, "nothing twice");
    assert!(lossy.dropped() > 0, "the proxy dropped messages");
    assert!(b.metric("hubring_gap_repairs_total").await > 0, "repairs are counted");
    Ok(())
}

/// Both nodes compact the same document over and over while both write to it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_compacting_one_document_at_once_lose_nothing() -> anyhow::Result<()> {
    let cluster = Cluster::start(&["--compact-after", "3"]);
    let n = 150;
    write_on_both(&cluster, "compact", n).await?;
    // A reader that loads the document from the store (a node where it was not live).
    let c = Node::start(&cluster.database, &cluster.redis.url(), &[]);
    let fresh = DocClient::connect_synced(&c.url("compact")).await?;
    let mut stored = items(&fresh);
    stored.sort();
    stored.dedup();
    assert_eq!(stored.len(), 2 * n);
    Ok(())
}

/// A viewer is read-only whichever node it is on; an editor removed through node A is closed
/// on node B within 1 s and cannot come back through either node.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_is_the_same_on_every_node_and_its_loss_closes_sockets_everywhere()
-> anyhow::Result<()> {
    use hubring_tests::{ApiClient, Event};
    use serde_json::json;
    let cluster = Cluster::start(&[]);
    let owner = ApiClient::signup_at(cluster.a.addr, "owner@hubs.example").await?;
    let project = owner.post("/projects", json!({"title": "Two nodes", "visibility": "private"}));
    let project = project.await?.body["id"].as_str().unwrap_or_default().to_owned();
    for (email, role) in [("editor@hubs.example", "editor"), ("viewer@hubs.example", "viewer")] {
        let members = format!("/projects/{project}/members");
        let added = owner.post(&members, json!({"email": email, "role": role})).await?;
        anyhow::ensure!(added.status.is_success(), "{added:?}");
    }
    // Signed up on node B: signing up with the invited address accepts the invitation.
    let editor = ApiClient::signup_at(cluster.b.addr, "editor@hubs.example").await?;
    let viewer = ApiClient::signup_at(cluster.b.addr, "viewer@hubs.example").await?;
    let items = format!("/projects/{project}/items");
    let item = owner.post(&items, json!({"kind": "document", "title": "Proposal"})).await?;
    let doc = item.body["doc_id"].as_str().unwrap_or_default().to_owned();
    let (editor_token, viewer_token) = (editor.token().await?, viewer.token().await?);
    let url = |node: &Node, token: &str| format!("{}?token={token}", node.url(&doc));

    for node in [&cluster.a, &cluster.b] {
        let mut conn = DocClient::connect_synced(&url(node, &viewer_token)).await?;
        conn.subscribe_saved().await?;
        conn.edit(|txn| txn.get_or_insert_text("t").push(txn, "viewer")).await?;
        let refused = conn.wait_for(|e| matches!(e, Event::Auth(_) | Event::Saved(_))).await?;
        assert!(matches!(refused, Event::Auth(Some(_))), "a viewer is read-only: {refused:?}");
    }
    let mut on_b = DocClient::connect_synced(&url(&cluster.b, &editor_token)).await?;
    on_b.subscribe_saved().await?;
    push(&mut on_b, "kept".to_owned()).await?;
    on_b.wait_all_saved().await?;
    let removed_at = Instant::now();
    let editor_id = editor.id().to_owned();
    let removed = owner.delete(&format!("/projects/{project}/members/{editor_id}")).await?;
    assert_eq!(removed.status.as_u16(), 204);
    let code = on_b.wait_closed().await?;
    let cut_off = removed_at.elapsed();
    assert_eq!(code, 1008, "closed for a change of access");
    assert!(cut_off < Duration::from_secs(1), "closed on the other node after {cut_off:?}");
    for node in [&cluster.a, &cluster.b] {
        assert!(DocClient::connect(&url(node, &editor_token)).await.is_err(), "no way back");
    }
    Ok(())
}

/// A document nobody on node B uses any more leaves B's memory even while node A keeps
/// editing it (other nodes' traffic does not count as use).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_idle_on_one_node_is_evicted_there_while_another_edits_it() -> anyhow::Result<()>
{
    let cluster = Cluster::start(&["--doc-idle-secs", "1"]);
    let mut writer = DocClient::connect_synced(&cluster.a.url("idle")).await?;
    let reader = DocClient::connect_synced(&cluster.b.url("idle")).await?;
    reader.close().await;
    let deadline = Instant::now() + Duration::from_secs(8);
    let mut i = 0;
    loop {
        push(&mut writer, format!("{i}")).await?;
        i += 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
        if cluster.b.metric("hubring_live_docs").await == 0 {
            break;
        }
        anyhow::ensure!(Instant::now() < deadline, "node B kept the document in memory");
    }
    assert_eq!(cluster.a.metric("hubring_live_docs").await, 1, "node A, in use, keeps it");
    Ok(())
}

/// `/readyz` answers 503 while Redis is away and 200 once it is back (the subscription
/// restored), and documents keep working meanwhile on each node.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_follows_redis() -> anyhow::Result<()> {
    let mut cluster = Cluster::start(&[]);
    let ready = |node: &Node| {
        let url = format!("http://{}/readyz", node.addr);
        async move { reqwest::get(url).await.map(|r| r.status().as_u16()).unwrap_or(0) }
    };
    assert_eq!(ready(&cluster.a).await, 200);
    cluster.redis.kill();
    let deadline = Instant::now() + Duration::from_secs(10);
    while ready(&cluster.a).await != 503 {
        anyhow::ensure!(Instant::now() < deadline, "/readyz still ready without redis");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut alone = DocClient::connect_synced(&cluster.a.url("alone")).await?;
    alone.subscribe_saved().await?;
    push(&mut alone, "saved without redis".to_owned()).await?;
    alone.wait_all_saved().await?;
    cluster.redis.run();
    let deadline = Instant::now() + Duration::from_secs(10);
    while ready(&cluster.a).await != 200 || ready(&cluster.b).await != 200 {
        anyhow::ensure!(Instant::now() < deadline, "/readyz not ready after redis came back");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // What was written while Redis was away reaches the other node.
    let mut other = DocClient::connect_synced(&cluster.b.url("alone")).await?;
    until_items(&mut other, 1, Duration::from_secs(2)).await?;
    Ok(())
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A participant's room socket.
struct RoomClient(Ws);

impl RoomClient {
    async fn join(addr: SocketAddr, room: &str, token: &str) -> anyhow::Result<(Self, String)> {
        use futures_util::SinkExt;
        use hubring_protocol::room::ClientMsg;
        let url = format!("ws://{addr}/ws/room/{room}?token={token}");
        let (ws, _) = tokio_tungstenite::connect_async(url).await?;
        let mut client = Self(ws);
        let join = serde_json::to_string(&ClientMsg::Join { name: None })?;
        client.0.send(tokio_tungstenite::tungstenite::Message::Text(join.into())).await?;
        let me = client
            .expect(|m| match m {
                hubring_protocol::room::ServerMsg::Welcome { you, .. } => Some(you.to_string()),
                _ => None,
            })
            .await?;
        Ok((client, me))
    }

    async fn expect<T>(
        &mut self,
        mut pick: impl FnMut(&hubring_protocol::room::ServerMsg) -> Option<T>,
    ) -> anyhow::Result<T> {
        use futures_util::StreamExt;
        loop {
            let msg = tokio::time::timeout(Duration::from_secs(10), self.0.next())
                .await?
                .ok_or_else(|| anyhow::anyhow!("closed"))??;
            if let tokio_tungstenite::tungstenite::Message::Text(text) = msg
                && let Some(found) = pick(&serde_json::from_str(&text)?)
            {
                return Ok(found);
            }
        }
    }

    /// Reads until the socket ends; its close code.
    async fn closed(&mut self) -> u16 {
        use futures_util::StreamExt;
        loop {
            match tokio::time::timeout(Duration::from_secs(10), self.0.next()).await {
                Ok(Some(Ok(tokio_tungstenite::tungstenite::Message::Close(frame)))) => {
                    return frame.map_or(1005, |f| u16::from(f.code));
                }
                Ok(Some(Ok(_))) => {}
                Ok(Some(Err(_)) | None) => return 1006,
                Err(_) => return 0,
            }
        }
    }
}

/// A room is hosted by one node: a participant who lands on the other is forwarded there and
/// meets the first. When the hosting node dies, the room restarts on the node left, and both
/// come back to it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_lives_on_one_node_and_moves_when_that_node_dies() -> anyhow::Result<()> {
    use hubring_protocol::room::ServerMsg;
    use hubring_tests::ApiClient;
    use serde_json::json;
    let mut cluster = Cluster::start(&[]);
    let owner = ApiClient::signup_at(cluster.a.addr, "host@hubs.example").await?;
    let project = owner.post("/projects", json!({"title": "Rooms", "visibility": "private"}));
    let project = project.await?.body["id"].as_str().unwrap_or_default().to_owned();
    let members = format!("/projects/{project}/members");
    let added = owner.post(&members, json!({"email": "guest@hubs.example", "role": "editor"}));
    anyhow::ensure!(added.await?.status.is_success());
    let guest = ApiClient::signup_at(cluster.b.addr, "guest@hubs.example").await?;
    let items = format!("/projects/{project}/items");
    let room = owner.post(&items, json!({"kind": "room", "title": "Peer learning"})).await?;
    let room = room.body["id"].as_str().unwrap_or_default().to_owned();
    let (owner_token, guest_token) = (owner.token().await?, guest.token().await?);

    let (mut on_a, owner_id) = RoomClient::join(cluster.a.addr, &room, &owner_token).await?;
    let (mut on_b, guest_id) = RoomClient::join(cluster.b.addr, &room, &guest_token).await?;
    let joined = on_a
        .expect(|m| match m {
            ServerMsg::Joined { participant } => Some(participant.id.to_string()),
            _ => None,
        })
        .await?;
    assert_eq!(joined, guest_id, "the guest, on node B, is in node A's room");
    assert_ne!(owner_id, guest_id);

    cluster.a.kill_9();
    assert_ne!(on_b.closed().await, 0, "the guest's forwarded socket ends with its host");
    drop(on_a);
    // Both come back through nginx (node B is all there is), in either order.
    let via = cluster.nginx.addr();
    let (mut guest_back, guest_again) = RoomClient::join(via, &room, &guest_token).await?;
    let (_owner_back, owner_again) = RoomClient::join(via, &room, &owner_token).await?;
    let joined = guest_back
        .expect(|m| match m {
            ServerMsg::Joined { participant } => Some(participant.id.to_string()),
            _ => None,
        })
        .await?;
    assert_eq!(joined, owner_again, "they meet again on the node left");
    assert_ne!(guest_again, owner_again);
    Ok(())
}

/// A TCP proxy in front of Redis that drops every `nth` pub/sub message it carries to the
/// client (a whole RESP frame, so the connection stays well-formed).
struct LossyProxy {
    port: u16,
    dropped: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl LossyProxy {
    async fn start(upstream: &str, nth: u64) -> anyhow::Result<Self> {
        let upstream = upstream.trim_start_matches("redis://").to_owned();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let dropped = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let counter = std::sync::Arc::clone(&dropped);
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = tokio::net::TcpStream::connect(&upstream).await else { continue };
                let counter = std::sync::Arc::clone(&counter);
                tokio::spawn(async move {
                    let (mut client_read, client_write) = client.into_split();
                    let (server_read, mut server_write) = server.into_split();
                    tokio::spawn(async move {
                        let _ = tokio::io::copy(&mut client_read, &mut server_write).await;
                    });
                    let _ = filter(server_read, client_write, nth, &counter).await;
                });
            }
        });
        Ok(Self { port, dropped })
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn dropped(&self) -> u64 {
        self.dropped.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// Copies RESP frames from `from` to `to`, dropping every `nth` `message` frame.
async fn filter(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    nth: u64,
    dropped: &std::sync::atomic::AtomicU64,
) -> anyhow::Result<()> {
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 16 * 1024];
    let mut n_messages = 0u64;
    loop {
        let n = from.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
        let mut at = 0;
        while let Some(end) = resp_frame_end(&buf, at) {
            let frame = &buf[at..end];
            let is_message = frame.starts_with(b"*3\r\n$7\r\nmessage\r\n")
                || frame.starts_with(b">3\r\n$7\r\nmessage\r\n");
            let drop_it = is_message && {
                n_messages += 1;
                n_messages.is_multiple_of(nth)
            };
            if drop_it {
                dropped.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            } else {
                to.write_all(frame).await?;
            }
            at = end;
        }
        buf.drain(..at);
    }
}

/// The end of the RESP value starting at `at`, if it is complete.
fn resp_frame_end(buf: &[u8], at: usize) -> Option<usize> {
    let line_end = at + buf.get(at..)?.windows(2).position(|w| w == b"\r\n")?;
    let head = *buf.get(at)?;
    let number = || std::str::from_utf8(&buf[at + 1..line_end]).ok()?.parse::<i64>().ok();
    match head {
        b'+' | b'-' | b':' | b'_' | b',' | b'#' | b'(' => Some(line_end + 2),
        b'$' | b'=' | b'!' => {
            let len = number()?;
            if len < 0 {
                return Some(line_end + 2);
            }
            let end = line_end + 2 + usize::try_from(len).ok()? + 2;
            (end <= buf.len()).then_some(end)
        }
        b'*' | b'>' | b'~' | b'%' | b'|' => {
            let mut n = number()?;
            if matches!(head, b'%' | b'|') {
                n *= 2;
            }
            let mut end = line_end + 2;
            for _ in 0..n.max(0) {
                end = resp_frame_end(buf, end)?;
            }
            Some(end)
        }
        _ => None,
    }
}
