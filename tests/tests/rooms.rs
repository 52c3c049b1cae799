//! Video rooms over the server's websocket: who may enter, speak and moderate follows the
//! project's roles; bad frames get an error and the connection stays; chat is kept in the
//! room's own document.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use hubring_protocol::room::{ClientMsg, ServerMsg, Source};
use hubring_tests::{ApiClient, DocClient, TestServer};
use reqwest::StatusCode;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;
use yrs::{Array, Out, ReadTxn, Transact};

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

struct RoomClient(Ws);

impl RoomClient {
    async fn connect(server: &TestServer, room: &str, who: &ApiClient) -> anyhow::Result<Self> {
        let token = who.token().await?;
        let url = format!(
            "{}?token={token}",
            server.doc_url("x").replace("/ws/doc/x", &format!("/ws/room/{room}"))
        );
        let (ws, _) = tokio_tungstenite::connect_async(url).await?;
        Ok(Self(ws))
    }

    async fn send(&mut self, msg: &ClientMsg) -> anyhow::Result<()> {
        self.0.send(Message::Text(serde_json::to_string(msg)?.into())).await?;
        Ok(())
    }

    async fn next(&mut self) -> anyhow::Result<ServerMsg> {
        loop {
            let msg = tokio::time::timeout(Duration::from_secs(10), self.0.next())
                .await?
                .ok_or_else(|| anyhow::anyhow!("closed"))??;
            if let Message::Text(text) = msg {
                return Ok(serde_json::from_str(&text)?);
            }
        }
    }

    async fn expect<T>(
        &mut self,
        mut pick: impl FnMut(&ServerMsg) -> Option<T>,
    ) -> anyhow::Result<T> {
        loop {
            let msg = self.next().await?;
            if let Some(t) = pick(&msg) {
                return Ok(t);
            }
        }
    }

    async fn error(&mut self) -> anyhow::Result<String> {
        self.expect(|m| match m {
            ServerMsg::Error { code, .. } => Some(code.clone()),
            _ => None,
        })
        .await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_decide_who_enters_speaks_and_moderates_and_chat_is_kept() -> anyhow::Result<()> {
    let server = TestServer::start_with(|args| {
        args.open_docs = Some(false);
        args.rtc_bind = Some(std::net::IpAddr::from([127, 0, 0, 1]));
    })
    .await;
    let owner = ApiClient::signup(&server, "host@hubs.example").await?;
    let viewer = ApiClient::signup(&server, "guest@hubs.example").await?;
    let outsider = ApiClient::signup(&server, "outsider@hubs.example").await?;
    let project =
        owner.post("/projects", json!({"title": "Peer learning", "visibility": "private"})).await?;
    let project = project.body["id"].as_str().unwrap_or_default().to_owned();
    let added = owner
        .post(
            &format!("/projects/{project}/members"),
            json!({"email": "guest@hubs.example", "role": "viewer"}),
        )
        .await?;
    assert_eq!(added.status, StatusCode::CREATED);
    let item = owner
        .post(
            &format!("/projects/{project}/items"),
            json!({"kind": "room", "title": "Thursday session"}),
        )
        .await?;
    let room = item.body["id"].as_str().unwrap_or_default().to_owned();
    let doc = item.body["doc_id"].as_str().unwrap_or_default().to_owned();

    // Someone outside a private project cannot tell the room exists.
    let refused = RoomClient::connect(&server, &room, &outsider).await;
    let err = refused.err().expect("refused").to_string();
    assert!(err.contains("404"), "{err}");
    // A document is not a room.
    let doc_item = owner
        .post(&format!("/projects/{project}/items"), json!({"kind": "document", "title": "Notes"}))
        .await?;
    let not_room =
        RoomClient::connect(&server, doc_item.body["id"].as_str().unwrap(), &owner).await;
    assert!(not_room.err().expect("refused").to_string().contains("404"));

    let mut host = RoomClient::connect(&server, &room, &owner).await?;
    // Anything before `join` is refused, and the connection stays.
    host.send(&ClientMsg::Hand { raised: true }).await?;
    assert_eq!(host.error().await?, "join_first");
    host.send(&ClientMsg::Join { name: None }).await?;
    let (me, snapshot, room_doc) = host
        .expect(|m| match m {
            ServerMsg::Welcome { you, room, doc_id, .. } => {
                Some((you.clone(), room.clone(), doc_id.clone()))
            }
            _ => None,
        })
        .await?;
    assert_eq!(room_doc, doc);
    let host_info = snapshot.participants.iter().find(|p| p.id == me).expect("listed");
    assert!(host_info.moderator && host_info.can_publish, "the owner moderates and speaks");

    let mut guest = RoomClient::connect(&server, &room, &viewer).await?;
    guest.send(&ClientMsg::Join { name: Some("  Gia  ".into()) }).await?;
    let guest_id = guest
        .expect(|m| match m {
            ServerMsg::Welcome { you, .. } => Some(you.clone()),
            _ => None,
        })
        .await?;
    let joined = host
        .expect(|m| match m {
            ServerMsg::Joined { participant } => Some(participant.clone()),
            _ => None,
        })
        .await?;
    assert_eq!((joined.id.clone(), joined.name.as_str()), (guest_id.clone(), "Gia"));
    assert!(!joined.can_publish && !joined.moderator, "a viewer listens and does not moderate");
    guest.send(&ClientMsg::Publish { track_id: "cam".into(), source: Source::Camera }).await?;
    assert_eq!(guest.error().await?, "listen_only");
    guest.send(&ClientMsg::MuteAll).await?;
    assert_eq!(guest.error().await?, "not_moderator");

    // Bad frames: a clear error, and the connection goes on.
    guest.0.send(Message::Text("{not json".into())).await?;
    assert_eq!(guest.error().await?, "bad_message");
    guest.0.send(Message::Binary(vec![1, 2, 3].into())).await?;
    assert_eq!(guest.error().await?, "bad_message");
    guest.send(&ClientMsg::Chat { text: "   ".into() }).await?;
    assert_eq!(guest.error().await?, "bad_chat");

    // Chat reaches everyone and is kept in the room's document.
    guest.send(&ClientMsg::Chat { text: "Hello from Lisbon".into() }).await?;
    for c in [&mut host, &mut guest] {
        let line = c
            .expect(|m| match m {
                ServerMsg::Chat { line } => Some(line.clone()),
                _ => None,
            })
            .await?;
        assert_eq!((line.text.as_str(), line.name.as_str()), ("Hello from Lisbon", "Gia"));
    }
    let token = owner.token().await?;
    let mut reader =
        DocClient::connect_synced(&format!("{}?token={token}", server.doc_url(&doc))).await?;
    reader
        .wait_until(|c| {
            let txn = c.doc().transact();
            txn.get_array("chat").is_some_and(|chat| chat.len(&txn) == 1)
        })
        .await?;
    let txn = reader.doc().transact();
    let chat = txn.get_array("chat").expect("chat");
    let Some(Out::Any(yrs::Any::Map(line))) = chat.get(&txn, 0) else { panic!("a map") };
    assert_eq!(line.get("text"), Some(&yrs::Any::from("Hello from Lisbon")));
    drop(txn);

    // The host lets the guest speak; leaving is seen by the others.
    host.send(&ClientMsg::AllowPublish { participant: guest_id.clone(), allowed: true }).await?;
    let allowed = guest
        .expect(|m| match m {
            ServerMsg::Updated { participant } if participant.id == guest_id => {
                Some(participant.can_publish)
            }
            _ => None,
        })
        .await?;
    assert!(allowed);
    drop(guest);
    let left = host
        .expect(|m| match m {
            ServerMsg::Left { participant, .. } => Some(participant.clone()),
            _ => None,
        })
        .await?;
    assert_eq!(left, guest_id);

    // A frame over the limit closes the connection with 1009, saying why.
    host.0.send(Message::Text("x".repeat(300 << 10).into())).await?;
    let code = loop {
        match tokio::time::timeout(Duration::from_secs(10), host.0.next()).await? {
            Some(Ok(Message::Close(Some(frame)))) => break u16::from(frame.code),
            Some(Ok(_)) => {}
            other => anyhow::bail!("no close frame: {other:?}"),
        }
    };
    assert_eq!(code, 1009);
    Ok(())
}
