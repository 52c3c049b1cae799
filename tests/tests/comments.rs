//! Comment threads: the role × action table (every role, every action, from one table),
//! threads shown live in the document and anchored by the server for a commenter who may not
//! write the text, clients that try to forge or alter comments through the document socket,
//! mentions, and board pins.

use hubring_doc::comments::{self, MarkState};
use hubring_tests::board::{Fixture, item_with};
use hubring_tests::document::{self, set_paragraphs};
use hubring_tests::{ApiClient, DocClient, Event};
use reqwest::StatusCode;
use serde_json::{Value, json};
use yrs::types::ToJson;
use yrs::{Array, ArrayRef, Map, MapRef, ReadTxn, Transact, WriteTxn};

fn body(text: &str) -> Value {
    json!([{"type": "paragraph", "content": [{"type": "text", "text": text, "styles": {}}]}])
}

/// BlockNote's `createThread` request.
fn new_thread(text: &str) -> Value {
    json!({"initialComment": {"body": body(text)}, "metadata": {}})
}

async fn create_thread(who: &ApiClient, item: &str, text: &str) -> anyhow::Result<Value> {
    let created = who.post(&format!("/items/{item}/threads"), new_thread(text)).await?;
    anyhow::ensure!(created.status == StatusCode::CREATED, "{created:?}");
    Ok(created.body)
}

/// The threads marked in the client's text.
fn marks(client: &DocClient) -> std::collections::BTreeMap<String, MarkState> {
    comments::anchored_threads(&client.doc().transact())
}

/// The document's threads map, as a client sees it.
fn doc_threads(client: &DocClient) -> Value {
    let txn = client.doc().transact();
    txn.get_map("threads").map_or(Value::Null, |m| {
        let mut text = String::new();
        m.to_json(&txn).to_json(&mut text);
        serde_json::from_str(&text).unwrap_or(Value::Null)
    })
}

async fn document_with(members: &[(&str, &str)]) -> anyhow::Result<(Fixture, Vec<ApiClient>)> {
    let (f, members) = item_with("document", "Proposal", members).await?;
    let mut writer = f.connect(&f.owner).await?;
    writer.subscribe_saved().await?;
    writer
        .edit(|txn| {
            set_paragraphs(txn, &["The budget line needs the Nantes figure.", "Section 2.3"])
        })
        .await?;
    writer.wait_all_saved().await?;
    writer.close().await;
    Ok((f, members))
}

#[derive(Debug, Clone, Copy)]
enum Act {
    List,
    Create,
    Reply,
    React,
    EditOthers,
    DeleteOthersComment,
    ResolveOthers,
    ReopenOthers,
    DeleteOthersThread,
    EditOwn,
    DeleteOwn,
    ResolveOwn,
}

/// Statuses for owner, editor, commenter, viewer and a signed-in outsider; 0: not applicable
/// (a viewer has no thread of their own).
const TABLE: &[(Act, [u16; 5])] = &[
    (Act::List, [200, 200, 200, 200, 404]),
    (Act::Create, [201, 201, 201, 403, 404]),
    (Act::Reply, [200, 200, 200, 403, 404]),
    (Act::React, [200, 200, 200, 403, 404]),
    (Act::EditOthers, [403, 403, 403, 403, 404]),
    (Act::DeleteOthersComment, [403, 403, 403, 403, 404]),
    (Act::ResolveOthers, [200, 200, 403, 403, 404]),
    (Act::ReopenOthers, [200, 200, 403, 403, 404]),
    (Act::DeleteOthersThread, [200, 200, 403, 403, 404]),
    (Act::EditOwn, [200, 200, 200, 0, 0]),
    (Act::DeleteOwn, [200, 200, 200, 0, 0]),
    (Act::ResolveOwn, [200, 200, 200, 0, 0]),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn comment_actions_follow_the_role_table() -> anyhow::Result<()> {
    let (f, mut members) = document_with(&[
        ("poster@hubs.example", "editor"),
        ("editor@hubs.example", "editor"),
        ("commenter@hubs.example", "commenter"),
        ("viewer@hubs.example", "viewer"),
    ])
    .await?;
    let poster = members.remove(0);
    let outsider = ApiClient::signup(&f.server, "outsider@hubs.example").await?;
    let actors: Vec<(&str, &ApiClient)> = vec![
        ("owner", &f.owner),
        ("editor", &members[0]),
        ("commenter", &members[1]),
        ("viewer", &members[2]),
        ("outsider", &outsider),
    ];
    let item = &f.board;
    for (act, expected) in TABLE {
        for ((name, who), want) in actors.iter().zip(expected) {
            if *want == 0 {
                continue;
            }
            // A fresh thread for every attempt, so no attempt depends on another.
            let others = create_thread(&poster, item, "by the poster").await?;
            let (t, c) =
                (others["id"].as_str().unwrap(), others["comments"][0]["id"].as_str().unwrap());
            let base = format!("/items/{item}/threads");
            let reply = match act {
                Act::List => who.get(&base).await?,
                Act::Create => who.post(&base, new_thread("mine")).await?,
                Act::Reply => {
                    who.post(
                        &format!("{base}/{t}/comments"),
                        json!({"comment": {"body": body("re")}}),
                    )
                    .await?
                }
                Act::React => {
                    who.post(&format!("{base}/{t}/comments/{c}/reactions"), json!({"emoji": "👍"}))
                        .await?
                }
                Act::EditOthers => {
                    who.send(
                        reqwest::Method::PUT,
                        &format!("{base}/{t}/comments/{c}"),
                        Some(json!({"comment": {"body": body("changed")}})),
                    )
                    .await?
                }
                Act::DeleteOthersComment => who.delete(&format!("{base}/{t}/comments/{c}")).await?,
                Act::ResolveOthers => who.post(&format!("{base}/{t}/resolve"), json!({})).await?,
                Act::ReopenOthers => {
                    let resolved = poster.post(&format!("{base}/{t}/resolve"), json!({})).await?;
                    assert_eq!(resolved.status, StatusCode::OK);
                    who.post(&format!("{base}/{t}/unresolve"), json!({})).await?
                }
                Act::DeleteOthersThread => who.delete(&format!("{base}/{t}")).await?,
                Act::EditOwn | Act::DeleteOwn | Act::ResolveOwn => {
                    let mine = create_thread(who, item, "mine").await?;
                    let (t, c) =
                        (mine["id"].as_str().unwrap(), mine["comments"][0]["id"].as_str().unwrap());
                    match act {
                        Act::EditOwn => {
                            who.send(
                                reqwest::Method::PUT,
                                &format!("{base}/{t}/comments/{c}"),
                                Some(json!({"comment": {"body": body("changed")}})),
                            )
                            .await?
                        }
                        Act::DeleteOwn => {
                            who.delete(&format!("{base}/{t}/comments/{c}?soft=true")).await?
                        }
                        _ => who.post(&format!("{base}/{t}/resolve"), json!({})).await?,
                    }
                }
            };
            assert_eq!(reply.status.as_u16(), *want, "{name} {act:?}: {:?}", reply.body);
        }
    }
    // What the refused attempts did not change: the poster's comments all still read as written.
    let threads = f.owner.get(&format!("/items/{item}/threads")).await?;
    let poster_comments = threads
        .body
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["comments"].as_array().unwrap().iter())
        .filter(|c| c["author"] == poster.id());
    for comment in poster_comments {
        assert_eq!(comment["body"], body("by the poster"), "only authors edit: {comment}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commenter_anchors_a_thread_the_server_marks_and_everyone_sees_it_live()
-> anyhow::Result<()> {
    let (f, mut members) = document_with(&[("ben@hubs.example", "commenter")]).await?;
    let ben = members.remove(0);
    let mut ana = f.connect(&f.owner).await?;
    let mut bens_doc = f.connect(&ben).await?;
    let thread = create_thread(&ben, &f.board, "Which figure?").await?;
    let t = thread["id"].as_str().unwrap().to_owned();
    // "budget line" in ProseMirror positions: the text starts at 3 ("The " is 3..7).
    let anchored = ben
        .post(
            &format!("/items/{}/threads/{t}/addToDocument", f.board),
            json!({"selection": {"prosemirror": {"type": "text", "anchor": 7, "head": 18}, "yjs": null}}),
        )
        .await?;
    assert_eq!(anchored.status, StatusCode::OK, "{anchored:?}");
    assert_eq!(anchored.body["quote"], "budget line");
    for client in [&mut ana, &mut bens_doc] {
        client.wait_until(|c| marks(c).get(&t) == Some(&MarkState::Active)).await?;
        client.wait_until(|c| doc_threads(c).get(&t).is_some()).await?;
        let threads = doc_threads(client);
        assert_eq!(threads[&t]["comments"][0]["body"], body("Which figure?"));
        assert_eq!(threads[&t]["resolved"], false);
    }
    // The commenter still cannot change the text itself.
    bens_doc.edit(|txn| set_paragraphs(txn, &["rewritten"])).await?;
    bens_doc.wait_for(|e| matches!(e, Event::Auth(_))).await?;
    // Resolving turns the mark into an orphan and the thread resolved, live.
    let resolved =
        f.owner.post(&format!("/items/{}/threads/{t}/resolve", f.board), json!({})).await?;
    assert_eq!(resolved.status, StatusCode::OK);
    ana.wait_until(|c| doc_threads(c)[&t]["resolved"] == true).await?;
    ana.wait_until(|c| marks(c).get(&t) == Some(&MarkState::Orphan)).await?;
    assert_eq!(
        document::paragraphs(&ana.doc().transact())[0],
        "The budget line needs the Nantes figure."
    );
    // A selection past the end is refused with a reason, not applied.
    let thread2 = create_thread(&ben, &f.board, "again").await?;
    let far = ben
        .post(
            &format!(
                "/items/{}/threads/{}/addToDocument",
                f.board,
                thread2["id"].as_str().unwrap()
            ),
            json!({"selection": {"anchor": 3, "head": 9999}}),
        )
        .await?;
    assert_eq!(far.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(far.body["error"]["code"], "out_of_range");
    Ok(())
}

/// Writes `change` to the `threads` map through the document socket as a hostile client would.
async fn hostile_write(
    f: &Fixture,
    who: &ApiClient,
    change: impl FnOnce(&mut yrs::TransactionMut<'_>),
) -> anyhow::Result<Event> {
    let mut hostile = f.connect(who).await?;
    hostile.edit(change).await?;
    hostile.wait_for(|e| matches!(e, Event::Closed(..) | Event::Auth(_))).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_cannot_forge_alter_or_delete_comments_through_the_document() -> anyhow::Result<()>
{
    let (f, mut members) =
        document_with(&[("ben@hubs.example", "commenter"), ("eve@hubs.example", "editor")]).await?;
    let (ben, eve) = (members.remove(0), members.remove(0));
    let thread = create_thread(&ben, &f.board, "Ben's real comment").await?;
    let t = thread["id"].as_str().unwrap().to_owned();
    let mut observer = f.connect(&f.owner).await?;
    observer.wait_until(|c| doc_threads(c).get(&t).is_some()).await?;
    let before_api = f.owner.get(&format!("/items/{}/threads", f.board)).await?.body;
    let before_doc = doc_threads(&observer);

    // The commenter's token: read-only, so the update is refused as any write would be.
    let refused = hostile_write(&f, &ben, |txn| {
        let threads = txn.get_or_insert_map("threads");
        threads.insert(
            txn,
            "forged",
            yrs::MapPrelim::from([("id", yrs::In::Any("forged".into()))]),
        );
    })
    .await?;
    assert!(matches!(refused, Event::Auth(_)), "{refused:?}");

    // An editor's token may write the text, never the threads: forge, alter, delete.
    let forge = |txn: &mut yrs::TransactionMut<'_>| {
        let threads = txn.get_or_insert_map("threads");
        let fake = yrs::MapPrelim::from([
            ("id", yrs::In::Any("fake".into())),
            ("comments", yrs::In::Array(yrs::ArrayPrelim::default())),
        ]);
        threads.insert(txn, "fake", fake);
    };
    let t2 = t.clone();
    let alter = move |txn: &mut yrs::TransactionMut<'_>| {
        let threads = txn.get_or_insert_map("threads");
        let thread: MapRef = threads.get(txn, &t2).unwrap().cast().unwrap();
        let comments: ArrayRef = thread.get(txn, "comments").unwrap().cast().unwrap();
        let comment: MapRef = comments.get(txn, 0).unwrap().cast().unwrap();
        comment.insert(txn, "body", "Ben agrees to cut the Nantes budget");
        comment.insert(txn, "userId", "someone-else");
    };
    let t3 = t.clone();
    let delete = move |txn: &mut yrs::TransactionMut<'_>| {
        let threads = txn.get_or_insert_map("threads");
        threads.remove(txn, &t3);
    };
    for (what, change) in [
        ("forge", Box::new(forge) as Box<dyn FnOnce(&mut yrs::TransactionMut<'_>)>),
        ("alter", Box::new(alter)),
        ("delete", Box::new(delete)),
    ] {
        let event = hostile_write(&f, &eve, change).await?;
        assert!(
            matches!(&event, Event::Closed(1008, reason) if reason.contains("only the server")),
            "{what}: {event:?}"
        );
    }
    // The same editor may still write text; the observer receives that, and nothing forged
    // came before it.
    let mut honest = f.connect(&eve).await?;
    honest.subscribe_saved().await?;
    honest.edit(|txn| set_paragraphs(txn, &["Honest edit"])).await?;
    honest.wait_all_saved().await?;
    observer.wait_until(|c| document::paragraphs(&c.doc().transact()) == ["Honest edit"]).await?;
    assert_eq!(doc_threads(&observer), before_doc, "no other client saw a forged change");
    assert_eq!(f.owner.get(&format!("/items/{}/threads", f.board)).await?.body, before_api);
    // A fresh connection loads the same threads from the store.
    let fresh = f.connect(&f.owner).await?;
    assert_eq!(doc_threads(&fresh), before_doc);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mentions_name_project_members_only_and_filter_threads() -> anyhow::Result<()> {
    let (f, mut members) =
        document_with(&[("ben@hubs.example", "commenter"), ("cy@hubs.example", "viewer")]).await?;
    let (ben, cy) = (members.remove(0), members.remove(0));
    let outsider = ApiClient::signup(&f.server, "outsider@hubs.example").await?;
    let mention = |id: &str| json!({"type": "mention", "props": {"user": id}});
    let with_mentions = json!({"initialComment": {"body": [{"type": "paragraph", "content": [
        {"type": "text", "text": "ask ", "styles": {}}, mention(cy.id()), mention(outsider.id())
    ]}]}});
    let created = ben.post(&format!("/items/{}/threads", f.board), with_mentions).await?;
    assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
    assert_eq!(created.body["comments"][0]["mentions"], json!([cy.id()]), "outsiders are left out");
    create_thread(&ben, &f.board, "no mention").await?;
    let mine = cy.get(&format!("/items/{}/threads?mentions_me=true", f.board)).await?;
    assert_eq!(mine.status, StatusCode::OK);
    assert_eq!(mine.body.as_array().unwrap().len(), 1);
    assert_eq!(mine.body[0]["id"], created.body["id"]);
    let all = cy.get(&format!("/items/{}/threads", f.board)).await?;
    assert_eq!(all.body.as_array().unwrap().len(), 2);
    // The document carries the mentions for the web app's "Mentions" filter.
    let observer = f.connect(&cy).await?;
    let threads = doc_threads(&observer);
    let t = created.body["id"].as_str().unwrap();
    assert_eq!(threads[t]["comments"][0]["metadata"]["mentions"], json!([cy.id()]));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn board_threads_are_pinned_to_shapes_or_the_canvas() -> anyhow::Result<()> {
    let (f, mut members) = item_with(
        "board",
        "Ideas",
        &[("ben@hubs.example", "commenter"), ("cy@hubs.example", "viewer")],
    )
    .await?;
    let (ben, cy) = (members.remove(0), members.remove(0));
    let pinned = ben
        .post(
            &format!("/items/{}/threads", f.board),
            json!({"initialComment": {"body": body("Move this up")}, "pin": {"shape": "s1", "x": 10.0, "y": 4.5}}),
        )
        .await?;
    assert_eq!(pinned.status, StatusCode::CREATED, "{pinned:?}");
    assert_eq!(pinned.body["pin"], json!({"shape": "s1", "x": 10.0, "y": 4.5}));
    let canvas = ben
        .post(
            &format!("/items/{}/threads", f.board),
            json!({"initialComment": {"body": body("Empty corner")}, "pin": {"shape": null, "x": -300.0, "y": 80.0}}),
        )
        .await?;
    assert_eq!(canvas.status, StatusCode::CREATED);
    let refused = cy
        .post(&format!("/items/{}/threads", f.board), json!({"initialComment": {"body": body("viewer")}, "pin": {"shape": null, "x": 0.0, "y": 0.0}}))
        .await?;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let board = f.connect(&cy).await?;
    let threads = doc_threads(&board);
    let t = pinned.body["id"].as_str().unwrap();
    assert_eq!(threads[t]["metadata"]["pin"]["shape"], "s1");
    // Exports leave pins out: the drawing has no trace of the thread.
    let svg =
        f.owner.get_raw(&format!("/boards/{}/export.svg", f.board), &[]).await?.text().await?;
    assert!(!svg.contains("Move this up") && !svg.contains(t));
    // A document takes no pins.
    let (d, _) = item_with("document", "Notes", &[]).await?;
    let on_doc = d
        .owner
        .post(&format!("/items/{}/threads", d.board), json!({"initialComment": {"body": body("x")}, "pin": {"shape": null, "x": 0.0, "y": 0.0}}))
        .await?;
    assert_eq!(on_doc.status, StatusCode::UNPROCESSABLE_ENTITY);
    Ok(())
}
