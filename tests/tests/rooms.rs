//! Video rooms over the server's websocket: who may enter, speak and moderate follows the
//! project's roles; bad frames get an error and the connection stays; chat is kept by the server,
//! which alone writes it, and whoever comes in is given the room's history.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use hubring_protocol::room::{ChatLine, ClientMsg, ServerMsg, Source};
use hubring_tests::{ApiClient, DocClient, TestServer};
use reqwest::StatusCode;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;
use yrs::Array;

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

/// The room's history as someone who comes in now is given it.
async fn history_seen_by(
    server: &TestServer,
    room: &str,
    who: &ApiClient,
) -> anyhow::Result<Vec<ChatLine>> {
    let mut newcomer = RoomClient::connect(server, room, who).await?;
    newcomer.send(&ClientMsg::Join { name: None }).await?;
    newcomer
        .expect(|m| match m {
            ServerMsg::ChatHistory { lines } => Some(lines.clone()),
            _ => None,
        })
        .await
}

/// A private project of `owner` that `viewer` joined as a viewer, with a room titled `title`:
/// the project's, the room's and the room document's ids.
async fn room_with_viewer(
    owner: &ApiClient,
    viewer: &ApiClient,
    title: &str,
) -> anyhow::Result<(String, String, String)> {
    room_with_member(owner, viewer, "viewer", title).await
}

/// A private project of `owner` that `member` joined with `role`, with a room titled `title`:
/// the project's, the room's and the room document's ids.
async fn room_with_member(
    owner: &ApiClient,
    member: &ApiClient,
    role: &str,
    title: &str,
) -> anyhow::Result<(String, String, String)> {
    let project =
        owner.post("/projects", json!({"title": "Peer learning", "visibility": "private"})).await?;
    let project = project.body["id"].as_str().unwrap_or_default().to_owned();
    let email = member.get("/me").await?.body["email"].clone();
    let added = owner
        .post(&format!("/projects/{project}/members"), json!({"email": email, "role": role}))
        .await?;
    assert_eq!(added.status, StatusCode::CREATED);
    assert_eq!(member.accept_invites().await?, 1);
    let item = owner
        .post(&format!("/projects/{project}/items"), json!({"kind": "room", "title": title}))
        .await?;
    let room = item.body["id"].as_str().unwrap_or_default().to_owned();
    let doc = item.body["doc_id"].as_str().unwrap_or_default().to_owned();
    Ok((project, room, doc))
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
    let (project, room, doc) = room_with_viewer(&owner, &viewer, "Thursday session").await?;

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

    // Chat reaches everyone, and whoever comes in later is given it.
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
    let history = history_seen_by(&server, &room, &owner).await?;
    let said: Vec<(&str, &str)> =
        history.iter().map(|line| (line.name.as_str(), line.text.as_str())).collect();
    assert_eq!(said, [("Gia", "Hello from Lisbon")]);
    assert_eq!(history[0].from, guest_id);

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
    // (The newcomer who read the history has come and gone too.)
    host.expect(|m| match m {
        ServerMsg::Left { participant, .. } if *participant == guest_id => Some(()),
        _ => None,
    })
    .await?;

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

/// The ids of the items `who` sees in `project`.
async fn item_ids(who: &ApiClient, project: &str) -> anyhow::Result<Vec<String>> {
    let items = who.get(&format!("/projects/{project}/items")).await?;
    assert_eq!(items.status, StatusCode::OK);
    let items = items.body.as_array().cloned().unwrap_or_default();
    Ok(items.iter().filter_map(|i| i["id"].as_str().map(str::to_owned)).collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coaching_room_and_its_notes_are_the_two_peoples_alone() -> anyhow::Result<()> {
    let server = TestServer::start_with(|args| {
        args.open_docs = Some(false);
        args.rtc_bind = Some(std::net::IpAddr::from([127, 0, 0, 1]));
    })
    .await;
    // The project's owner is not part of the coaching: a mentor (editor) coaches a member who
    // only views the project.
    let owner = ApiClient::signup(&server, "owner@hubs.example").await?;
    let mentor = ApiClient::signup(&server, "mentor@hubs.example").await?;
    let member = ApiClient::signup(&server, "member@hubs.example").await?;
    let outsider = ApiClient::signup(&server, "outsider@hubs.example").await?;
    let project =
        owner.post("/projects", json!({"title": "Residency", "visibility": "network"})).await?;
    let project = project.body["id"].as_str().unwrap_or_default().to_owned();
    for (email, role) in [("mentor@hubs.example", "editor"), ("member@hubs.example", "viewer")] {
        let added = owner
            .post(&format!("/projects/{project}/members"), json!({"email": email, "role": role}))
            .await?;
        assert_eq!(added.status, StatusCode::CREATED);
    }
    assert_eq!(mentor.accept_invites().await? + member.accept_invites().await?, 2);
    let coaching = |with: &str| json!({"with": with, "title": "Coaching: Mia & Max", "notes_title": "Coaching notes"});
    let path = format!("/projects/{project}/coaching");

    // Refusals: coaching oneself, someone outside the project, and a viewer starting one.
    let alone = mentor.post(&path, coaching(mentor.id())).await?;
    assert_eq!(
        (alone.status, alone.body["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid"))
    );
    let stranger = mentor.post(&path, coaching(outsider.id())).await?;
    assert_eq!(stranger.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", stranger.body);
    let by_viewer = member.post(&path, coaching(mentor.id())).await?;
    assert_eq!(by_viewer.status, StatusCode::FORBIDDEN);

    let created = mentor.post(&path, coaching(member.id())).await?;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let room = created.body["room"]["id"].as_str().unwrap_or_default().to_owned();
    let notes = created.body["notes"]["id"].as_str().unwrap_or_default().to_owned();
    let notes_doc = created.body["notes"]["doc_id"].as_str().unwrap_or_default().to_owned();
    let open = owner
        .post(&format!("/projects/{project}/items"), json!({"kind": "document", "title": "Plan"}))
        .await?;
    let open = open.body["id"].as_str().unwrap_or_default().to_owned();

    // The two see both, with who they are for and the room's notes; the owner sees neither.
    for who in [&mentor, &member] {
        let mut ids = item_ids(who, &project).await?;
        ids.sort();
        let mut want = vec![room.clone(), notes.clone(), open.clone()];
        want.sort();
        assert_eq!(ids, want);
        let view = who.get(&format!("/items/{room}")).await?;
        assert_eq!(view.body["notes_id"].as_str(), Some(notes.as_str()));
        let audience = view.body["audience"].as_array().cloned().unwrap_or_default();
        let mut names: Vec<&str> = audience.iter().filter_map(|p| p["id"].as_str()).collect();
        names.sort_unstable();
        let mut pair = vec![mentor.id(), member.id()];
        pair.sort_unstable();
        assert_eq!(names, pair);
    }
    assert_eq!(item_ids(&owner, &project).await?, vec![open.clone()]);
    let open_view = owner.get(&format!("/items/{open}")).await?;
    assert!(open_view.body["audience"].is_null(), "an ordinary item is open to the project");
    for path in [format!("/items/{room}"), format!("/items/{notes}")] {
        assert_eq!(owner.get(&path).await?.status, StatusCode::NOT_FOUND, "{path}");
        let patch = owner.patch(&path, json!({"title": "mine now"})).await?;
        assert_eq!(patch.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(owner.delete(&path).await?.status, StatusCode::NOT_FOUND, "{path}");
    }
    // Neither the room nor the notes open for the owner.
    let refused = RoomClient::connect(&server, &room, &owner).await;
    assert!(refused.err().expect("refused").to_string().contains("404"));
    let token = owner.token().await?;
    let owner_notes =
        DocClient::connect_synced(&format!("{}?token={token}", server.doc_url(&notes_doc))).await;
    let Err(err) = owner_notes else { anyhow::bail!("the owner opened the coaching notes") };
    assert!(err.to_string().contains("404"), "{err}");
    // A private item stays in its project.
    let elsewhere =
        mentor.post("/projects", json!({"title": "Elsewhere", "visibility": "private"})).await?;
    assert_eq!(elsewhere.status, StatusCode::CREATED);
    let moved = mentor
        .patch(&format!("/items/{notes}"), json!({"project_id": elsewhere.body["id"]}))
        .await?;
    assert_eq!(moved.status, StatusCode::UNPROCESSABLE_ENTITY);

    // The member only views the project, yet writes the shared notes and speaks in the room.
    let token = member.token().await?;
    let mut writer =
        DocClient::connect_synced(&format!("{}?token={token}", server.doc_url(&notes_doc))).await?;
    writer.subscribe_saved().await?;
    writer
        .edit(|txn| {
            let text = yrs::WriteTxn::get_or_insert_text(txn, "notes");
            yrs::Text::insert(&text, txn, 0, "Goal: a funding plan by May");
        })
        .await?;
    writer.wait_all_saved().await?;
    let mut coachee = RoomClient::connect(&server, &room, &member).await?;
    coachee.send(&ClientMsg::Join { name: None }).await?;
    let (me, snapshot) = coachee
        .expect(|m| match m {
            ServerMsg::Welcome { you, room, .. } => Some((you.clone(), room.clone())),
            _ => None,
        })
        .await?;
    let info = snapshot.participants.iter().find(|p| p.id == me).expect("listed");
    assert!(info.can_publish, "both people in a coaching room speak");

    // Leaving the project closes the open room socket at once (1008), like its documents.
    let left = owner.delete(&format!("/projects/{project}/members/{}", member.id())).await?;
    assert_eq!(left.status, StatusCode::NO_CONTENT);
    let code = loop {
        match tokio::time::timeout(Duration::from_secs(10), coachee.0.next()).await? {
            Some(Ok(Message::Close(Some(frame)))) => break u16::from(frame.code),
            Some(Ok(_)) => {}
            other => anyhow::bail!("no close frame: {other:?}"),
        }
    };
    assert_eq!(code, 1008);
    assert_eq!(writer.wait_closed().await?, 1008);
    let again = RoomClient::connect(&server, &room, &member).await;
    assert!(again.err().expect("refused").to_string().contains("404"));
    Ok(())
}

impl RoomClient {
    async fn join(&mut self) -> anyhow::Result<String> {
        self.send(&ClientMsg::Join { name: None }).await?;
        self.expect(|m| match m {
            ServerMsg::Welcome { you, .. } => Some(you.0.clone()),
            _ => None,
        })
        .await
    }

    /// Reads until the server's close frame and returns its code.
    async fn close_code(&mut self) -> anyhow::Result<u16> {
        loop {
            match tokio::time::timeout(Duration::from_secs(10), self.0.next()).await? {
                Some(Ok(Message::Close(Some(frame)))) => return Ok(u16::from(frame.code)),
                Some(Ok(_)) => {}
                other => anyhow::bail!("no close frame: {other:?}"),
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_of_the_rooms_document_cannot_forge_chat() -> anyhow::Result<()> {
    let server = TestServer::start_with(|args| {
        args.open_docs = Some(false);
        args.rtc_bind = Some(std::net::IpAddr::from([127, 0, 0, 1]));
    })
    .await;
    let owner = ApiClient::signup(&server, "host@hubs.example").await?;
    let editor = ApiClient::signup(&server, "editor@hubs.example").await?;
    let (_, room, doc) = room_with_member(&owner, &editor, "editor", "Session").await?;
    let owner_id = owner.get("/me").await?.body["id"].as_str().unwrap_or_default().to_owned();

    // The owner says one line.
    let mut host = RoomClient::connect(&server, &room, &owner).await?;
    host.join().await?;
    host.send(&ClientMsg::Chat { text: "Welcome, everyone".into() }).await?;
    host.expect(|m| matches!(m, ServerMsg::Chat { .. }).then_some(())).await?;

    // The editor, who may write the room's document, writes lines there in the owner's name, as
    // chat was kept before: appended, and the owner's real line rewritten.
    let token = editor.token().await?;
    let mut forger =
        DocClient::connect_synced(&format!("{}?token={token}", server.doc_url(&doc))).await?;
    forger.subscribe_saved().await?;
    forger
        .edit(|txn| {
            let chat = yrs::WriteTxn::get_or_insert_array(txn, "chat");
            let mut line = std::collections::HashMap::<String, yrs::Any>::new();
            line.insert("id".into(), "forged".into());
            line.insert("from".into(), "p1".into());
            line.insert("user_id".into(), owner_id.as_str().into());
            line.insert("name".into(), "host".into());
            line.insert("text".into(), "The budget is final, send it".into());
            line.insert("at".into(), yrs::Any::from(1.0e12));
            line.insert("breakout".into(), yrs::Any::Null);
            chat.insert(txn, 0, yrs::Any::from(line.clone()));
            line.insert("id".into(), "forged-2".into());
            chat.push_back(txn, yrs::Any::from(line));
        })
        .await?;
    forger.wait_all_saved().await?;

    // What the room shows anyone is what was said in it, by whom it was said.
    let history = history_seen_by(&server, &room, &editor).await?;
    let said: Vec<(Option<&str>, &str)> = history
        .iter()
        .map(|line| (line.user_id.as_ref().map(|u| u.as_str()), line.text.as_str()))
        .collect();
    assert_eq!(said, [(Some(owner_id.as_str()), "Welcome, everyone")]);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_and_message_floods_are_bounded_and_a_silent_socket_is_closed() -> anyhow::Result<()> {
    let server = TestServer::start_with(|args| {
        args.open_docs = Some(false);
        args.rtc_bind = Some(std::net::IpAddr::from([127, 0, 0, 1]));
        args.client_timeout_ms = Some(3000);
    })
    .await;
    let owner = ApiClient::signup(&server, "host@hubs.example").await?;
    let viewer = ApiClient::signup(&server, "guest@hubs.example").await?;
    let (_, room, _) = room_with_viewer(&owner, &viewer, "Session").await?;

    // A viewer sends 50 full-length lines at once: a few are kept and shown, the rest refused
    // with a reason, and each line is kept by the time anyone is shown it.
    let mut host = RoomClient::connect(&server, &room, &owner).await?;
    host.join().await?;
    let mut guest = RoomClient::connect(&server, &room, &viewer).await?;
    guest.join().await?;
    let line = "x".repeat(2000);
    for _ in 0..50 {
        guest.send(&ClientMsg::Chat { text: line.clone() }).await?;
    }
    let (mut shown, mut refused) = (0, 0);
    while shown + refused < 50 {
        match guest.next().await? {
            ServerMsg::Chat { .. } => {
                shown += 1;
                let kept = history_seen_by(&server, &room, &owner).await?.len();
                assert!(kept >= shown, "line {shown} was shown before it was kept");
            }
            ServerMsg::Error { code, .. } if code == "chat_too_fast" => refused += 1,
            _ => {}
        }
    }
    assert!((1..=3).contains(&shown), "{shown} full lines kept out of 50 sent at once");
    let kept = history_seen_by(&server, &room, &owner).await?.len();
    assert_eq!(kept, shown, "the room keeps what was shown, no more");

    // 500 messages at once close the sender (policy), and the room goes on for the others.
    let mut flooder = RoomClient::connect(&server, &room, &owner).await?;
    flooder.join().await?;
    for _ in 0..500 {
        flooder.send(&ClientMsg::Hand { raised: true }).await?;
    }
    assert_eq!(flooder.close_code().await?, 1008);
    host.send(&ClientMsg::Hand { raised: true }).await?;
    host.expect(|m| matches!(m, ServerMsg::Updated { .. }).then_some(())).await?;

    // A room socket that answers no ping (it is never read, so it never answers one) is
    // closed within the client timeout and a ping: the others see its participant leave.
    let mut silent = RoomClient::connect(&server, &room, &viewer).await?;
    let silent_id = silent.join().await?;
    let began = tokio::time::Instant::now();
    let left = host
        .expect(|m| match m {
            ServerMsg::Left { participant, .. } if participant.0 == silent_id => Some(()),
            _ => None,
        })
        .await;
    let took = began.elapsed();
    assert!(left.is_ok(), "the silent participant is still in the room after {took:?}");
    assert!(took >= Duration::from_millis(2500), "closed after {took:?}, before the timeout");
    drop(silent);
    Ok(())
}
