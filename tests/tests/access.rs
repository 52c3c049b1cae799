//! Access: every role against every action, over HTTP and websockets, from one table; the
//! revocation of a removed editor's live connection; cross-site requests; tokens.

use std::time::Duration;

use hubring_tests::{ApiClient, DocClient, Event, TestServer, WAIT};
use reqwest::StatusCode;
use serde_json::json;
use yrs::{GetString, Text, Transact, WriteTxn};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Anonymous,
    Outsider,
    Viewer,
    Commenter,
    Editor,
    Owner,
    Admin,
}

const EVERYONE: [Who; 7] = [
    Who::Anonymous,
    Who::Outsider,
    Who::Viewer,
    Who::Commenter,
    Who::Editor,
    Who::Owner,
    Who::Admin,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Act {
    SeeProject,
    ListItems,
    CreateItem,
    OpenDocument,
    WriteDocument,
    Invite,
    ChangeRole,
    RemoveMember,
    DeleteProject,
}

/// What happened: an HTTP status, or for documents whether the connection opened and whether
/// a write was kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Status(u16),
    /// The document opened (read access).
    Opened,
    /// The write was refused (and not stored).
    Refused,
    /// The write was stored.
    Written,
}

use Outcome::{Opened, Refused, Status, Written};

/// The expected outcome of every role for every action on a private project, in the order of
/// [`EVERYONE`]: anonymous, outsider, viewer, commenter, editor, owner, admin.
fn expected(act: Act) -> [Outcome; 7] {
    let nf = Status(404);
    let no = Status(403);
    match act {
        Act::SeeProject | Act::ListItems => {
            [nf, nf, Status(200), Status(200), Status(200), Status(200), Status(200)]
        }
        Act::CreateItem | Act::Invite => [nf, nf, no, no, Status(201), Status(201), Status(201)],
        Act::OpenDocument => [nf, nf, Opened, Opened, Opened, Opened, Opened],
        Act::WriteDocument => [nf, nf, Refused, Refused, Written, Written, Written],
        Act::ChangeRole | Act::RemoveMember | Act::DeleteProject => {
            [nf, nf, no, no, no, Status(204), Status(204)]
        }
    }
}

/// Everyone's clients: the admin signed up first, so the instance made them admin.
struct People {
    anonymous: ApiClient,
    outsider: ApiClient,
    viewer: ApiClient,
    commenter: ApiClient,
    editor: ApiClient,
    owner: ApiClient,
    admin: ApiClient,
    /// A member whose role is changed or who is removed.
    target: ApiClient,
}

impl People {
    async fn sign_up(server: &TestServer) -> anyhow::Result<Self> {
        let admin = ApiClient::signup(server, "admin@hubs.example").await?;
        Ok(Self {
            anonymous: ApiClient::anonymous(server),
            outsider: ApiClient::signup(server, "outsider@hubs.example").await?,
            viewer: ApiClient::signup(server, "viewer@hubs.example").await?,
            commenter: ApiClient::signup(server, "commenter@hubs.example").await?,
            editor: ApiClient::signup(server, "editor@hubs.example").await?,
            owner: ApiClient::signup(server, "owner@hubs.example").await?,
            admin,
            target: ApiClient::signup(server, "target@hubs.example").await?,
        })
    }

    fn get(&self, who: Who) -> &ApiClient {
        match who {
            Who::Anonymous => &self.anonymous,
            Who::Outsider => &self.outsider,
            Who::Viewer => &self.viewer,
            Who::Commenter => &self.commenter,
            Who::Editor => &self.editor,
            Who::Owner => &self.owner,
            Who::Admin => &self.admin,
        }
    }

    /// A fresh private project with every role filled and one document.
    async fn project(&self, visibility: &str) -> anyhow::Result<(String, String)> {
        let created = self
            .owner
            .post("/projects", json!({"title": "Atlantic residencies", "visibility": visibility}))
            .await?;
        assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
        let id = created.body["id"].as_str().unwrap_or_default().to_owned();
        for (email, role) in [
            ("viewer@hubs.example", "viewer"),
            ("commenter@hubs.example", "commenter"),
            ("editor@hubs.example", "editor"),
            ("target@hubs.example", "viewer"),
        ] {
            let added = self
                .owner
                .post(&format!("/projects/{id}/members"), json!({"email": email, "role": role}))
                .await?;
            assert_eq!(added.status, StatusCode::CREATED, "{added:?}");
            assert_eq!(added.body["status"], "invited");
        }
        for member in [&self.viewer, &self.commenter, &self.editor, &self.target] {
            assert_eq!(member.accept_invites().await?, 1);
        }
        let item = self
            .owner
            .post(
                &format!("/projects/{id}/items"),
                json!({"kind": "document", "title": "Proposal"}),
            )
            .await?;
        assert_eq!(item.status, StatusCode::CREATED, "{item:?}");
        Ok((id, item.body["doc_id"].as_str().unwrap_or_default().to_owned()))
    }
}

/// The websocket URL of `doc` for `who`: signed-in people use an API token.
async fn doc_url(server: &TestServer, client: &ApiClient, doc: &str) -> anyhow::Result<String> {
    let url = server.doc_url(doc);
    if client.user_id.is_none() {
        return Ok(url);
    }
    Ok(format!("{url}?token={}", client.token().await?))
}

/// The document's text as its owner reads it now.
async fn text_as_owner(server: &TestServer, people: &People, doc: &str) -> anyhow::Result<String> {
    let owner = DocClient::connect_synced(&doc_url(server, &people.owner, doc).await?).await?;
    let text = owner.doc().get_or_insert_text("t").get_string(&owner.doc().transact());
    owner.close().await;
    Ok(text)
}

async fn attempt(
    server: &TestServer,
    people: &People,
    who: Who,
    act: Act,
) -> anyhow::Result<Outcome> {
    let (project, doc) = people.project("private").await?;
    let client = people.get(who);
    let status = |r: hubring_tests::Reply| Status(r.status.as_u16());
    Ok(match act {
        Act::SeeProject => status(client.get(&format!("/projects/{project}")).await?),
        Act::ListItems => status(client.get(&format!("/projects/{project}/items")).await?),
        Act::CreateItem => status(
            client
                .post(
                    &format!("/projects/{project}/items"),
                    json!({"kind": "board", "title": "Ideas"}),
                )
                .await?,
        ),
        Act::Invite => status(
            client
                .post(
                    &format!("/projects/{project}/members"),
                    json!({"email": "newcomer@hubs.example", "role": "viewer"}),
                )
                .await?,
        ),
        Act::ChangeRole => status(
            client
                .patch(
                    &format!("/projects/{project}/members/{}", people.target.id()),
                    json!({"role": "editor"}),
                )
                .await?,
        ),
        Act::RemoveMember => status(
            client.delete(&format!("/projects/{project}/members/{}", people.target.id())).await?,
        ),
        Act::DeleteProject => status(client.delete(&format!("/projects/{project}")).await?),
        Act::OpenDocument | Act::WriteDocument => {
            let url = doc_url(server, client, &doc).await?;
            let mut conn = match DocClient::connect_synced(&url).await {
                Ok(conn) => conn,
                Err(err) => {
                    let code = http_status(&err).unwrap_or_else(|| panic!("{who:?}: {err:#}"));
                    return Ok(Status(code));
                }
            };
            if act == Act::OpenDocument {
                conn.close().await;
                return Ok(Opened);
            }
            conn.subscribe_saved().await?;
            conn.edit(|txn| txn.get_or_insert_text("t").push(txn, "written")).await?;
            let refused = tokio::time::timeout(WAIT, async {
                loop {
                    match conn.next_event().await? {
                        Some(Event::Auth(_)) => return anyhow::Ok(true),
                        Some(Event::Saved(n)) if n >= 1 => return Ok(false),
                        Some(_) => {}
                        None => anyhow::bail!("closed while writing"),
                    }
                }
            })
            .await??;
            conn.close().await;
            let stored = text_as_owner(server, people, &doc).await? == "written";
            assert_eq!(refused, !stored, "{who:?}: refused {refused}, stored {stored}");
            if stored { Written } else { Refused }
        }
    })
}

/// The HTTP status of a refused websocket upgrade.
fn http_status(err: &anyhow::Error) -> Option<u16> {
    match err.downcast_ref::<tokio_tungstenite::tungstenite::Error>()? {
        tokio_tungstenite::tungstenite::Error::Http(resp) => Some(resp.status().as_u16()),
        _ => None,
    }
}

fn access_server() -> impl FnOnce(&mut hubring::config::ServeArgs) {
    |args| {
        args.open_docs = Some(false);
        // The role table invites four people into each of its many projects.
        args.invites_per_hour = Some(10_000);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_gets_exactly_what_the_table_says() -> anyhow::Result<()> {
    let server = TestServer::start_with(access_server()).await;
    let people = People::sign_up(&server).await?;
    let acts = [
        Act::SeeProject,
        Act::ListItems,
        Act::CreateItem,
        Act::OpenDocument,
        Act::WriteDocument,
        Act::Invite,
        Act::ChangeRole,
        Act::RemoveMember,
        Act::DeleteProject,
    ];
    let mut wrong = Vec::new();
    for act in acts {
        for (who, want) in EVERYONE.into_iter().zip(expected(act)) {
            let got = attempt(&server, &people, who, act).await?;
            if got != want {
                wrong.push(format!("{who:?} {act:?}: expected {want:?}, got {got:?}"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} cases wrong:\n{}",
        wrong.len(),
        acts.len() * 7,
        wrong.join("\n")
    );
    server.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn visibility_lets_outsiders_look_but_never_write() -> anyhow::Result<()> {
    let server = TestServer::start_with(access_server()).await;
    let people = People::sign_up(&server).await?;
    // (visibility, who, may see the project, may open its document)
    let cases = [
        ("network", Who::Anonymous, 404, false),
        ("network", Who::Outsider, 200, true),
        ("public", Who::Anonymous, 200, true),
        ("public", Who::Outsider, 200, true),
    ];
    for (visibility, who, see, open) in cases {
        let (project, doc) = people.project(visibility).await?;
        let client = people.get(who);
        let seen = client.get(&format!("/projects/{project}")).await?;
        assert_eq!(seen.status.as_u16(), see, "{visibility} {who:?}");
        if see == 200 {
            assert_eq!(seen.body["my_role"], "viewer", "{visibility} {who:?}");
            let denied = client
                .post(&format!("/projects/{project}/items"), json!({"kind": "room", "title": "x"}))
                .await?;
            assert_eq!(denied.status.as_u16(), if who == Who::Anonymous { 401 } else { 403 });
        }
        let url = doc_url(&server, client, &doc).await?;
        match DocClient::connect_synced(&url).await {
            Ok(mut conn) => {
                assert!(open, "{visibility} {who:?} opened the document");
                conn.edit(|txn| txn.get_or_insert_text("t").push(txn, "intruder")).await?;
                conn.wait_for(|e| matches!(e, Event::Auth(_))).await?;
                conn.close().await;
                assert_eq!(text_as_owner(&server, &people, &doc).await?, "");
            }
            Err(err) => {
                assert!(!open, "{visibility} {who:?}: {err:#}");
                assert_eq!(http_status(&err), Some(404));
            }
        }
    }
    server.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_editor_is_cut_off_within_a_second_and_nothing_later_is_stored()
-> anyhow::Result<()> {
    let server = TestServer::start_with(access_server()).await;
    let people = People::sign_up(&server).await?;
    let (project, doc) = people.project("private").await?;
    let url = doc_url(&server, &people.editor, &doc).await?;
    let mut editor = DocClient::connect_synced(&url).await?;
    editor.subscribe_saved().await?;
    editor.edit(|txn| txn.get_or_insert_text("t").push(txn, "before ")).await?;
    editor.wait_all_saved().await?;

    // The editor keeps typing, and watching for frames, while the owner removes them.
    let typing = tokio::spawn(async move {
        for _ in 0..4000 {
            // A frame within 5 ms is handled; none is fine; the end of the connection stops.
            let heard = tokio::time::timeout(Duration::from_millis(5), editor.next_event()).await;
            if let Ok(Ok(Some(Event::Closed(..)) | None) | Err(_)) = heard {
                break;
            }
            if editor.edit(|txn| txn.get_or_insert_text("t").push(txn, "x")).await.is_err() {
                break;
            }
        }
        editor
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let removed_at = std::time::Instant::now();
    let removed =
        people.owner.delete(&format!("/projects/{project}/members/{}", people.editor.id())).await?;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    let mut editor = typing.await?;
    let cut_off = removed_at.elapsed();
    // The typing may end on a failed write before the close frame was read: read it now.
    let code = match editor.closed.clone() {
        Some((code, _)) => code,
        None => editor.wait_closed().await?,
    };
    assert_eq!(code, 1008, "closed for a change of access");
    assert!(cut_off < Duration::from_secs(1), "cut off after {cut_off:?}");

    // What is stored now stays: nothing the editor sends later gets in.
    let stored = text_as_owner(&server, &people, &doc).await?;
    assert!(stored.starts_with("before "));
    let again = DocClient::connect(&url).await;
    assert!(again.is_err(), "a removed member cannot reconnect");
    assert_eq!(text_as_owner(&server, &people, &doc).await?, stored);
    server.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invitations_by_email_and_by_link_with_expiry_and_uses() -> anyhow::Result<()> {
    let server = TestServer::start_with(access_server()).await;
    let owner = ApiClient::signup(&server, "owner@hubs.example").await?;
    let project = owner.post("/projects", json!({"title": "P", "visibility": "private"})).await?;
    let pid = project.body["id"].as_str().unwrap_or_default().to_owned();

    // By email: an address with no account is invited, and joins when it signs up.
    let invited = owner
        .post(
            &format!("/projects/{pid}/members"),
            json!({"email": "new@hubs.example", "role": "editor"}),
        )
        .await?;
    assert_eq!(invited.body["status"], "invited");
    let newcomer = ApiClient::signup(&server, "new@hubs.example").await?;
    let seen = newcomer.get(&format!("/projects/{pid}")).await?;
    assert_eq!(seen.body["my_role"], "editor", "{seen:?}");

    // From the people directory, by id: the inviter never sees the address, the person finds
    // the invitation waiting. Someone hidden from the directory cannot be found this way.
    let claire = ApiClient::signup(&server, "claire@hubs.example").await?;
    let claire_id = claire.get("/me").await?.body["id"].as_str().unwrap_or_default().to_owned();
    let listed = claire.patch("/me/profile", json!({"profile_visibility": "network"})).await?;
    assert_eq!(listed.status, StatusCode::OK, "{listed:?}");
    let members = format!("/projects/{pid}/members");
    let by_id = owner.post(&members, json!({"user_id": claire_id, "role": "editor"})).await?;
    assert_eq!(by_id.status, StatusCode::CREATED, "{by_id:?}");
    assert!(!by_id.body.to_string().contains("claire@"), "{by_id:?}");
    let waiting = claire.get("/me/invites").await?;
    assert_eq!(waiting.body.as_array().map(Vec::len), Some(1), "{waiting:?}");
    let hidden = ApiClient::signup(&server, "hidden@hubs.example").await?;
    let hidden_id = hidden.get("/me").await?.body["id"].as_str().unwrap_or_default().to_owned();
    let unlisted = hidden.patch("/me/profile", json!({"profile_visibility": "hidden"})).await?;
    assert_eq!(unlisted.status, StatusCode::OK, "{unlisted:?}");
    // (The owner is the instance's first account, an admin, who sees everyone: an editor asks.)
    let refused = newcomer.post(&members, json!({"user_id": hidden_id, "role": "editor"})).await?;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "{refused:?}");
    assert_eq!(hidden.get("/me/invites").await?.body.as_array().map(Vec::len), Some(0));
    let both = owner
        .post(&members, json!({"user_id": claire_id, "email": "x@hubs.example", "role": "editor"}))
        .await?;
    assert_eq!(both.status, StatusCode::UNPROCESSABLE_ENTITY, "{both:?}");

    // By link, two uses.
    let link = owner
        .post(&format!("/projects/{pid}/invites"), json!({"role": "commenter", "max_uses": 2}))
        .await?;
    assert_eq!(link.status, StatusCode::CREATED, "{link:?}");
    let token = link.body["token"].as_str().unwrap_or_default().to_owned();
    let accept = format!("/invites/{token}/accept");
    let mut statuses = Vec::new();
    for n in 0..3 {
        let guest = ApiClient::signup(&server, &format!("guest{n}@hubs.example")).await?;
        let reply = guest.post(&accept, json!({})).await?;
        statuses.push(reply.status.as_u16());
        if reply.status == StatusCode::OK {
            assert_eq!(reply.body["role"], "commenter");
            // Accepting again changes nothing and uses nothing.
            assert_eq!(guest.post(&accept, json!({})).await?.status, StatusCode::OK);
        }
    }
    assert_eq!(statuses, [200, 200, 410], "two uses, then gone");
    let spent = ApiClient::signup(&server, "spent@hubs.example").await?;
    let reply = spent.post(&accept, json!({})).await?;
    assert_eq!(reply.body["error"]["code"], "invite_used_up", "{reply:?}");
    let listed = owner.get(&format!("/projects/{pid}/invites")).await?;
    let listed_link = listed.body.as_array().into_iter().flatten().find(|i| i["email"].is_null());
    assert_eq!(listed_link.map(|i| i["uses"].clone()), Some(json!(2)));
    assert!(listed.body.as_array().into_iter().flatten().all(|i| i.get("token").is_none()));

    // Expired: the link is moved into the past, as if its hours had run out.
    let link = owner
        .post(
            &format!("/projects/{pid}/invites"),
            json!({"role": "viewer", "expires_in_hours": 24}),
        )
        .await?;
    let token = link.body["token"].as_str().unwrap_or_default().to_owned();
    let invite_id =
        hubring_protocol::InviteId(link.body["id"].as_str().unwrap_or_default().to_owned());
    let store = server.open_store().await?;
    store.set_invite_expiry(&invite_id, hubring_store::now_ms() - 1).await?;
    store.close().await;
    let late = ApiClient::signup(&server, "late@hubs.example").await?;
    let reply = late.post(&format!("/invites/{token}/accept"), json!({})).await?;
    assert_eq!(reply.status, StatusCode::GONE, "{reply:?}");
    assert_eq!(reply.body["error"]["code"], "invite_expired", "{reply:?}");
    assert_eq!(late.get(&format!("/projects/{pid}")).await?.status, StatusCode::NOT_FOUND);

    // Revoked, unknown, and granting above one's own role.
    let link = owner.post(&format!("/projects/{pid}/invites"), json!({"role": "viewer"})).await?;
    let revoked = link.body["token"].as_str().unwrap_or_default().to_owned();
    let id = link.body["id"].as_str().unwrap_or_default();
    assert_eq!(
        owner.delete(&format!("/projects/{pid}/invites/{id}")).await?.status,
        StatusCode::NO_CONTENT
    );
    // Whoever opens it later is told it was revoked (not that it never existed), joins
    // nothing, and the project's list no longer shows it; revoking it again finds nothing.
    let reply = late.post(&format!("/invites/{revoked}/accept"), json!({})).await?;
    assert_eq!(reply.status, StatusCode::GONE, "{reply:?}");
    assert_eq!(reply.body["error"]["code"], "invite_revoked", "{reply:?}");
    assert_eq!(late.get(&format!("/projects/{pid}")).await?.status, StatusCode::NOT_FOUND);
    let listed = owner.get(&format!("/projects/{pid}/invites")).await?;
    assert!(listed.body.as_array().into_iter().flatten().all(|i| i["id"] != id), "{listed:?}");
    assert_eq!(
        owner.delete(&format!("/projects/{pid}/invites/{id}")).await?.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        late.post("/invites/hri_nonsense/accept", json!({})).await?.status,
        StatusCode::NOT_FOUND
    );
    let too_high =
        newcomer.post(&format!("/projects/{pid}/invites"), json!({"role": "owner"})).await?;
    assert_eq!(too_high.status, StatusCode::UNPROCESSABLE_ENTITY);
    let bad = owner
        .post(&format!("/projects/{pid}/invites"), json!({"role": "viewer", "max_uses": 0}))
        .await?;
    assert!(bad.body["error"]["fields"]["max_uses"].is_string());
    server.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn items_show_who_changed_them_last() -> anyhow::Result<()> {
    let server = TestServer::start_with(access_server()).await;
    let people = People::sign_up(&server).await?;
    let (project, doc) = people.project("private").await?;
    let items = people.viewer.get(&format!("/projects/{project}/items")).await?;
    assert_eq!(items.body[0]["updated_by"]["id"], people.owner.id());

    let mut editor =
        DocClient::connect_synced(&doc_url(&server, &people.editor, &doc).await?).await?;
    editor.subscribe_saved().await?;
    editor.edit(|txn| txn.get_or_insert_text("t").push(txn, "a line")).await?;
    editor.wait_all_saved().await?;
    // The record is written off the connection's path: wait for it to show.
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let items = people.viewer.get(&format!("/projects/{project}/items")).await?;
        if items.body[0]["updated_by"]["id"] == people.editor.id() {
            assert_eq!(items.body[0]["updated_by"]["display_name"], "editor");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "never recorded: {items:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Renaming is a change too.
    let item_id = people.viewer.get(&format!("/projects/{project}/items")).await?.body[0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let renamed = people
        .owner
        .patch(&format!("/items/{item_id}"), json!({"title": "Final proposal"}))
        .await?;
    assert_eq!(renamed.status, StatusCode::NO_CONTENT);
    let item = people.viewer.get(&format!("/items/{item_id}")).await?;
    assert_eq!(item.body["title"], "Final proposal");
    assert_eq!(item.body["updated_by"]["id"], people.owner.id());
    let denied = people.viewer.patch(&format!("/items/{item_id}"), json!({"title": "x"})).await?;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    editor.close().await;
    server.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_follows_its_item_through_moves_deletion_and_restarts() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = TestServer::start_in(dir.path(), access_server()).await;
    let people = People::sign_up(&server).await?;
    let (first, doc) = people.project("private").await?;
    let item = people.owner.get(&format!("/projects/{first}/items")).await?.body[0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let viewer_url = doc_url(&server, &people.viewer, &doc).await?;
    let owner_url = doc_url(&server, &people.owner, &doc).await?;
    DocClient::connect_synced(&viewer_url).await?.close().await;

    // Moved to a project the viewer is not in: the viewer is now refused, the owner is not.
    let other =
        people.owner.post("/projects", json!({"title": "Other", "visibility": "private"})).await?;
    let other = other.body["id"].as_str().unwrap_or_default().to_owned();
    let moved = people.owner.patch(&format!("/items/{item}"), json!({"project_id": other})).await?;
    assert_eq!(moved.status, StatusCode::NO_CONTENT);
    let refused =
        DocClient::connect(&viewer_url).await.expect_err("moved out of the viewer's reach");
    assert_eq!(http_status(&refused), Some(404));
    DocClient::connect_synced(&owner_url).await?.close().await;

    // Deleted: nobody opens it.
    assert_eq!(
        people.owner.delete(&format!("/items/{item}")).await?.status,
        StatusCode::NO_CONTENT
    );
    let gone = DocClient::connect(&owner_url).await.expect_err("a deleted item's document");
    assert_eq!(http_status(&gone), Some(404));

    // Restarted on the same data (on a new port; the tokens are stored), the server knows
    // again which documents are items, and whose.
    let kept = people
        .owner
        .post(&format!("/projects/{first}/items"), json!({"kind": "board", "title": "Kept"}))
        .await?;
    let kept = kept.body["doc_id"].as_str().unwrap_or_default().to_owned();
    let kept_url = doc_url(&server, &people.viewer, &kept).await?;
    server.stop().await;
    let server = TestServer::start_in(dir.path(), access_server()).await;
    let (old, new) = (server_addr(&kept_url), server.addr.to_string());
    DocClient::connect_synced(&kept_url.replace(&old, &new)).await?.close().await;
    let gone = DocClient::connect(&owner_url.replace(&old, &new)).await.expect_err("still deleted");
    assert_eq!(http_status(&gone), Some(404));
    server.stop().await;
    Ok(())
}

/// The `host:port` of a websocket URL.
fn server_addr(url: &str) -> String {
    url.trim_start_matches("ws://").split('/').next().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adding_by_email_invites_whoever_it_is_and_only_the_person_accepts() -> anyhow::Result<()> {
    let server = TestServer::start_with(|args| {
        args.open_docs = Some(false);
        args.invites_per_hour = Some(4);
    })
    .await;
    let ana = ApiClient::signup(&server, "ana@porto.example").await?;
    let rui = ApiClient::signup(&server, "rui@nantes.example").await?;
    let project = ana.post("/projects", json!({"title": "Residencies", "visibility": "private"}));
    let pid = project.await?.body["id"].as_str().unwrap_or_default().to_owned();
    let invite = |email: &'static str| {
        let ana = ana.clone();
        let path = format!("/projects/{pid}/members");
        async move { ana.post(&path, json!({"email": email, "role": "editor"})).await }
    };

    // The same answer for an address with an account and one without: nothing tells them apart.
    let to_rui = invite("rui@nantes.example").await?;
    let to_nobody = invite("nobody@elsewhere.example").await?;
    for reply in [&to_rui, &to_nobody] {
        assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
        let keys: Vec<&String> = reply.body.as_object().expect("an object").keys().collect();
        assert_eq!(keys, ["emailed", "invite_id", "status", "token"], "{reply:?}");
        assert_eq!(reply.body["status"], "invited");
    }
    assert_eq!(to_rui.body["emailed"], to_nobody.body["emailed"]);
    // Rui is not a member until Rui accepts, not even after signing in again.
    let path = format!("/projects/{pid}");
    assert_eq!(rui.get(&path).await?.status, StatusCode::NOT_FOUND);
    let again = ApiClient::anonymous(&server);
    let login = json!({"email": "rui@nantes.example", "password": hubring_tests::PASSWORD});
    assert_eq!(again.post("/auth/login", login).await?.status, StatusCode::OK);
    assert_eq!(again.get(&path).await?.status, StatusCode::NOT_FOUND);
    // Rui sees the invitation, with the project and who sent it, and may decline it.
    let mine = rui.get("/me/invites").await?;
    assert_eq!(mine.body[0]["project_title"], "Residencies", "{mine:?}");
    assert_eq!(mine.body[0]["invited_by"], "ana");
    assert_eq!(mine.body[0]["role"], "editor");
    let id = mine.body[0]["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(ana.get("/me/invites").await?.body, json!([]), "Ana is not invited");
    assert_eq!(ana.delete(&format!("/me/invites/{id}")).await?.status, StatusCode::NOT_FOUND);
    assert_eq!(rui.delete(&format!("/me/invites/{id}")).await?.status, StatusCode::NO_CONTENT);
    assert_eq!(rui.get("/me/invites").await?.body, json!([]));
    // Invited again, Rui accepts and is an editor; a member invited again is told so.
    invite("rui@nantes.example").await?;
    assert_eq!(rui.accept_invites().await?, 1);
    assert_eq!(rui.get(&path).await?.body["my_role"], "editor");
    assert_eq!(invite("rui@nantes.example").await?.status, StatusCode::CONFLICT);
    // Invitations are rate-limited per person (4 an hour here).
    assert_eq!(invite("eve@elsewhere.example").await?.status, StatusCode::TOO_MANY_REQUESTS);
    server.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_item_waits_in_the_trash_for_30_days_and_comes_back_as_it_was()
-> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = TestServer::start_in(dir.path(), access_server()).await;
    let people = People::sign_up(&server).await?;
    let (project, doc) = people.project("private").await?;
    let items = format!("/projects/{project}/items");
    let item =
        people.owner.get(&items).await?.body[0]["id"].as_str().unwrap_or_default().to_owned();
    let editor_url = doc_url(&server, &people.editor, &doc).await?;
    let mut writer = DocClient::connect_synced(&editor_url).await?;
    writer.subscribe_saved().await?;
    writer.edit(|txn| txn.get_or_insert_text("t").push(txn, "Budget: 12,000 EUR")).await?;
    writer.wait_all_saved().await?;
    writer.close().await;

    // An editor deletes it: gone from the project and from reach, waiting in the trash.
    let trash = format!("/projects/{project}/trash");
    assert_eq!(
        people.editor.delete(&format!("/items/{item}")).await?.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(people.owner.get(&items).await?.body.as_array().map(Vec::len), Some(0));
    assert_eq!(people.owner.get(&format!("/items/{item}")).await?.status, StatusCode::NOT_FOUND);
    let gone = DocClient::connect(&editor_url).await.expect_err("a trashed item's document");
    assert_eq!(http_status(&gone), Some(404));
    let listed = people.editor.get(&trash).await?;
    assert_eq!(listed.body[0]["item"]["id"], item.as_str(), "{listed:?}");
    assert_eq!(listed.body[0]["deleted_by"]["display_name"], "editor");
    let deleted_at = listed.body[0]["deleted_at"].as_i64().unwrap_or_default();
    assert_eq!(listed.body[0]["purge_at"].as_i64(), Some(deleted_at + 30 * 24 * 3_600_000));
    // Those who may not manage items do not see the trash; outsiders cannot tell it exists.
    assert_eq!(people.viewer.get(&trash).await?.status, StatusCode::FORBIDDEN);
    assert_eq!(people.outsider.get(&trash).await?.status, StatusCode::NOT_FOUND);
    let restore = format!("/items/{item}/restore");
    assert_eq!(people.viewer.post(&restore, json!({})).await?.status, StatusCode::FORBIDDEN);

    // Restored by an editor: back as it was, content included.
    assert_eq!(people.editor.post(&restore, json!({})).await?.status, StatusCode::NO_CONTENT);
    assert_eq!(people.editor.post(&restore, json!({})).await?.status, StatusCode::NOT_FOUND);
    assert_eq!(people.owner.get(&items).await?.body[0]["id"], item.as_str());
    assert_eq!(text_as_owner(&server, &people, &doc).await?, "Budget: 12,000 EUR");

    // Purging is the owner's: an editor may not; the owner may, and then it is gone for good.
    assert_eq!(
        people.editor.delete(&format!("/items/{item}")).await?.status,
        StatusCode::NO_CONTENT
    );
    let purge = format!("/items/{item}/trash");
    assert_eq!(people.editor.delete(&purge).await?.status, StatusCode::FORBIDDEN);
    assert_eq!(people.editor.delete(&trash).await?.status, StatusCode::FORBIDDEN);
    assert_eq!(people.owner.delete(&purge).await?.status, StatusCode::NO_CONTENT);
    assert_eq!(people.owner.get(&trash).await?.body.as_array().map(Vec::len), Some(0));
    assert_eq!(people.owner.post(&restore, json!({})).await?.status, StatusCode::NOT_FOUND);

    // After 30 days in the trash, an item is purged by itself (here: at the next start).
    let board = people.owner.post(&items, json!({"kind": "board", "title": "Old ideas"})).await?;
    let board = board.body["id"].as_str().unwrap_or_default().to_owned();
    people.owner.delete(&format!("/items/{board}")).await?;
    let fresh = people.owner.post(&items, json!({"kind": "board", "title": "New ideas"})).await?;
    let fresh = fresh.body["id"].as_str().unwrap_or_default().to_owned();
    people.owner.delete(&format!("/items/{fresh}")).await?;
    server.stop().await;
    let store = hubring_tests::open_store_in(dir.path()).await?;
    let month_ago = hubring_store::now_ms() - 30 * 24 * 3_600_000 - 1;
    store.set_trashed_at(&hubring_protocol::ItemId(board.clone()), month_ago).await?;
    store.close().await;
    let server = TestServer::start_in(dir.path(), access_server()).await;
    let owner = ApiClient::signin(&server, "owner@hubs.example").await?;
    let left = owner.get(&trash).await?;
    let ids: Vec<&str> = left
        .body
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["item"]["id"].as_str())
        .collect();
    assert_eq!(ids, [fresh.as_str()], "{left:?}");
    server.stop().await;
    Ok(())
}
