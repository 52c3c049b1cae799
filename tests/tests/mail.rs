//! Email and the bell, end to end through a real SMTP server (`python3-aiosmtpd`, started by
//! the test): address confirmation and sign-up that tells no one who has an account, password
//! reset links that work once, invitations whose emailed link joins the project, mail the SMTP
//! server refuses for a while (retried, surviving a restart), and notifications (mentions,
//! replies) in the app, live, by email and as each person chose.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use hubring_testkit::SmtpSink;
use hubring_tests::{ApiClient, PASSWORD, TestServer};
use mail_parser::{MessageParser, MimeHeaders};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// One received email, read back by an independent MIME parser.
#[derive(Debug, Clone)]
struct Mail {
    to: String,
    subject: String,
    text: String,
    html: String,
    headers: Vec<(String, String)>,
    /// The `text/calendar` part's content type and body, if there is one.
    calendar: Option<(String, String)>,
    /// Names of attached files.
    attachments: Vec<String>,
}

impl Mail {
    /// The first link in the text whose path starts with `path`, as a path and query.
    fn link(&self, path: &str) -> Option<String> {
        self.text.split_whitespace().find_map(|word| {
            let at = word.find("://")?;
            let rest = &word[at + 3..];
            let slash = rest.find('/')?;
            let found = &rest[slash..];
            found.starts_with(path).then(|| found.to_owned())
        })
    }

    /// The token at the end of a link under `path`.
    fn token(&self, path: &str) -> String {
        let link = self.link(path).unwrap_or_else(|| panic!("no {path} link in {self:?}"));
        link.rsplit('/').next().unwrap_or_default().to_owned()
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

fn parse(raw: &str) -> Mail {
    let (envelope, message) = raw.split_once("\r\n").unwrap_or(("", raw));
    let to = envelope.trim_start_matches("X-Envelope-To: ").to_owned();
    let parsed = MessageParser::default().parse(message.as_bytes()).expect("a MIME message");
    Mail {
        to,
        subject: parsed.subject().unwrap_or_default().to_owned(),
        text: parsed.body_text(0).map(|t| t.into_owned()).unwrap_or_default(),
        html: parsed.body_html(0).map(|t| t.into_owned()).unwrap_or_default(),
        headers: parsed
            .headers_raw()
            .map(|(name, value)| (name.to_owned(), value.trim().to_owned()))
            .collect(),
        calendar: parsed.parts.iter().find_map(|part| {
            let ct = part.content_type()?;
            (ct.c_type == "text" && ct.c_subtype.as_deref() == Some("calendar")).then(|| {
                let params = ct.attributes().unwrap_or_default();
                let method = params
                    .iter()
                    .find(|a| a.name.eq_ignore_ascii_case("method"))
                    .map(|a| a.value.to_string())
                    .unwrap_or_default();
                (method, part.text_contents().unwrap_or_default().to_owned())
            })
        }),
        attachments: parsed
            .attachments()
            .filter_map(|a| a.attachment_name().map(str::to_owned))
            .collect(),
    }
}

/// Waits (polling the sink's directory, up to 30 s) until `to` has received `n` emails, and
/// returns them.
async fn mails_to(sink: &SmtpSink, to: &str, n: usize) -> Vec<Mail> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mails: Vec<Mail> =
            sink.messages().iter().map(|m| parse(m)).filter(|m| m.to == to).collect();
        if mails.len() >= n {
            return mails;
        }
        assert!(Instant::now() < deadline, "{to} received {} of {n} emails", mails.len());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Signs up `email`, opens the confirmation link it was sent, and returns the signed-in client.
async fn signup_confirmed(server: &TestServer, sink: &SmtpSink, email: &str) -> ApiClient {
    let mut client = ApiClient::anonymous(server);
    let name = email.split('@').next().unwrap_or(email);
    let before = mails_to(sink, email, 0).await.len();
    let reply = client
        .post("/auth/signup", json!({"email": email, "password": PASSWORD, "display_name": name}))
        .await
        .unwrap();
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{reply:?}");
    assert_eq!(reply.body, json!({"status": "confirm_email"}));
    let mail = mails_to(sink, email, before + 1).await.pop().unwrap();
    let token = mail.token("/confirm/");
    let confirmed = client.post("/auth/confirm", json!({"token": token})).await.unwrap();
    assert_eq!(confirmed.status, StatusCode::OK, "{confirmed:?}");
    assert_eq!(confirmed.body["email_confirmed"], json!(true));
    client.user_id = confirmed.body["id"].as_str().map(str::to_owned);
    client
}

#[tokio::test]
async fn sign_up_tells_no_one_who_has_an_account_and_confirms_the_address() {
    let sink = SmtpSink::start();
    let server = TestServer::start_mailing(&sink.url(), |_| {}).await;
    let ana = signup_confirmed(&server, &sink, "ana@example.org").await;
    assert_eq!(ana.get("/me").await.unwrap().status, StatusCode::OK);

    // Someone signs up with Ana's address: the very same answer as for a new address, no
    // account is made, and Ana is told by email.
    let eve = ApiClient::anonymous(&server);
    let taken = eve
        .post(
            "/auth/signup",
            json!({"email": "ana@example.org", "password": "another password!", "display_name": "Eve"}),
        )
        .await
        .unwrap();
    let fresh = eve
        .post(
            "/auth/signup",
            json!({"email": "cy@example.org", "password": PASSWORD, "display_name": "Cy", "language": "fr"}),
        )
        .await
        .unwrap();
    assert_eq!((taken.status, &taken.body), (fresh.status, &fresh.body));
    let told = mails_to(&sink, "ana@example.org", 2).await.pop().unwrap();
    assert_eq!(told.subject, "Someone tried to sign up with your address");
    assert!(told.link("/signin").is_some());
    let login = eve
        .post("/auth/login", json!({"email": "ana@example.org", "password": "another password!"}))
        .await
        .unwrap();
    assert_eq!(login.status, StatusCode::UNAUTHORIZED, "Eve's password made no account");

    // Cy's confirmation is in French; until it is opened Cy cannot sign in, and trying (with
    // the right password) sends a new link, which replaces the first.
    let first = mails_to(&sink, "cy@example.org", 1).await.pop().unwrap();
    assert_eq!(first.subject, "Confirmez votre adresse sur Hubring");
    let cy = ApiClient::anonymous(&server);
    let early = cy
        .post("/auth/login", json!({"email": "cy@example.org", "password": PASSWORD}))
        .await
        .unwrap();
    assert_eq!(early.status, StatusCode::FORBIDDEN);
    assert_eq!(early.body["error"]["code"], "email_unconfirmed");
    let second = mails_to(&sink, "cy@example.org", 2).await.pop().unwrap();
    let old = cy.post("/auth/confirm", json!({"token": first.token("/confirm/")})).await.unwrap();
    assert_eq!(old.status, StatusCode::GONE, "a newer link replaced it");
    let token = second.token("/confirm/");
    let ok = cy.post("/auth/confirm", json!({"token": token})).await.unwrap();
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(ok.body["language"], "fr");
    let again = cy.post("/auth/confirm", json!({"token": token})).await.unwrap();
    assert_eq!(again.status, StatusCode::GONE, "a link works once");
    let unknown = cy.post("/auth/confirm", json!({"token": "hrc_nothing"})).await.unwrap();
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    // The session says email works here, so the web app says "check your inbox".
    let session = cy.get("/session").await.unwrap();
    assert_eq!(session.body["email_enabled"], json!(true));
    drop(ana);
    server.stop().await;
}

#[tokio::test]
async fn a_reset_link_works_once_then_answers_410_and_ends_every_session() {
    let sink = SmtpSink::start();
    let server = TestServer::start_mailing(&sink.url(), |_| {}).await;
    let ana = signup_confirmed(&server, &sink, "ana@example.org").await;
    let anon = ApiClient::anonymous(&server);
    // The same answer for an address nobody has, and nothing is sent there.
    for email in ["ana@example.org", "nobody@example.org"] {
        let asked = anon.post("/auth/reset", json!({"email": email})).await.unwrap();
        assert_eq!(asked.status, StatusCode::ACCEPTED, "{email}");
    }
    let mail = mails_to(&sink, "ana@example.org", 2).await.pop().unwrap();
    assert_eq!(mail.subject, "Choose a new Hubring password");
    let token = mail.token("/reset/");
    let short = anon
        .post("/auth/reset/confirm", json!({"token": token, "password": "short"}))
        .await
        .unwrap();
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY, "a bad password spends no link");
    let new_password = "a brand new passphrase";
    let done = anon
        .post("/auth/reset/confirm", json!({"token": token, "password": new_password}))
        .await
        .unwrap();
    assert_eq!(done.status, StatusCode::NO_CONTENT, "{done:?}");
    let again = anon
        .post("/auth/reset/confirm", json!({"token": token, "password": new_password}))
        .await
        .unwrap();
    assert_eq!(again.status, StatusCode::GONE);
    assert_eq!(again.body["error"]["code"], "link_used");
    // Ana's old session ended; the new password signs in, the old one does not.
    assert_eq!(ana.get("/me").await.unwrap().status, StatusCode::UNAUTHORIZED);
    let old = anon
        .post("/auth/login", json!({"email": "ana@example.org", "password": PASSWORD}))
        .await
        .unwrap();
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    let new = anon
        .post("/auth/login", json!({"email": "ana@example.org", "password": new_password}))
        .await
        .unwrap();
    assert_eq!(new.status, StatusCode::OK);
    // Nothing was queued for the address without an account: Ana's confirmation and her reset
    // are the outbox's only emails (queued by the requests themselves, so this cannot race).
    let store = server.open_store().await.unwrap();
    let counts = store.outbox_counts().await.unwrap();
    assert_eq!(counts.waiting + counts.sent + counts.failed, 2, "{counts:?}");
    store.close().await;
    server.stop().await;
}

#[tokio::test]
async fn an_emailed_invitation_joins_the_project_only_for_its_address() {
    let sink = SmtpSink::start();
    let server = TestServer::start_mailing(&sink.url(), |_| {}).await;
    let ana = signup_confirmed(&server, &sink, "ana@example.org").await;
    let eve = signup_confirmed(&server, &sink, "eve@example.org").await;
    let project = ana
        .post("/projects", json!({"title": "Residency swap", "visibility": "private"}))
        .await
        .unwrap();
    let project_id = project.body["id"].as_str().unwrap().to_owned();
    let invited = ana
        .post(
            &format!("/projects/{project_id}/members"),
            json!({"email": "ben@example.org", "role": "editor"}),
        )
        .await
        .unwrap();
    assert_eq!(invited.status, StatusCode::CREATED, "{invited:?}");
    assert_eq!(invited.body["emailed"], json!(true));
    let mail = mails_to(&sink, "ben@example.org", 1).await.pop().unwrap();
    assert_eq!(mail.subject, "ana invited you to \u{201C}Residency swap\u{201D} on Hubring");
    let token = mail.token("/invite/");
    assert_eq!(
        token,
        invited.body["token"].as_str().unwrap(),
        "the inviter may pass on the same link"
    );
    assert!(mail.html.contains(&format!("/invite/{token}")));
    // Another account cannot use it.
    let stolen = eve.post(&format!("/invites/{token}/accept"), Value::Null).await.unwrap();
    assert_eq!(stolen.status, StatusCode::FORBIDDEN, "{stolen:?}");
    // Ben signs up with the invited address: not a member until his address is confirmed.
    let ben = signup_confirmed(&server, &sink, "ben@example.org").await;
    let joined = ben.post(&format!("/invites/{token}/accept"), Value::Null).await.unwrap();
    // Confirming the address already accepted what it was invited to; the link agrees.
    assert_eq!(joined.status, StatusCode::NOT_FOUND, "{joined:?}");
    let members = ana.get(&format!("/projects/{project_id}")).await.unwrap();
    let roles: Vec<(String, String)> = members.body["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (m["display_name"].as_str().unwrap().to_owned(), m["role"].as_str().unwrap().to_owned())
        })
        .collect();
    assert!(roles.contains(&("ben".into(), "editor".into())), "{roles:?}");
    assert!(!roles.iter().any(|(n, _)| n == "eve"));

    // An account that exists is told in the app too; opening the emailed link joins.
    let again = ana
        .post(
            &format!("/projects/{project_id}/members"),
            json!({"email": "eve@example.org", "role": "viewer"}),
        )
        .await
        .unwrap();
    let token = again.body["token"].as_str().unwrap().to_owned();
    let notes = eve.get("/me/notifications").await.unwrap();
    assert_eq!(notes.body["unread"], json!(1));
    assert_eq!(notes.body["items"][0]["kind"], "invitation");
    assert_eq!(notes.body["items"][0]["subject"]["project_title"], "Residency swap");
    let mail = mails_to(&sink, "eve@example.org", 2).await.pop().unwrap();
    assert_eq!(mail.token("/invite/"), token);
    assert!(mail.header("List-Unsubscribe").is_some(), "{:?}", mail.headers);
    let joined = eve.post(&format!("/invites/{token}/accept"), Value::Null).await.unwrap();
    assert_eq!(joined.status, StatusCode::OK, "{joined:?}");
    assert_eq!(joined.body["role"], "viewer");
    server.stop().await;
}

#[tokio::test]
async fn mail_the_smtp_server_refuses_is_retried_and_survives_a_restart() {
    let mut sink = SmtpSink::start();
    sink.refuse(true);
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_mailing_in(dir.path(), &sink.url(), None, |_| {}).await;
    let addr = server.addr;
    let anon = ApiClient::anonymous(&server);
    let people = ["ana@example.org", "ben@example.org", "cy@example.org"];
    for email in people {
        let reply = anon
            .post(
                "/auth/signup",
                json!({"email": email, "password": PASSWORD, "display_name": "x"}),
            )
            .await
            .unwrap();
        assert_eq!(reply.status, StatusCode::ACCEPTED);
    }
    // Wait until every email was refused at least twice: retried, not dropped.
    let store = server.open_store().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let counts = store.outbox_counts().await.unwrap();
        if counts.waiting == 3 && counts.failed_attempts >= 6 {
            assert_eq!((counts.sent, counts.failed), (0, 0));
            break;
        }
        assert!(Instant::now() < deadline, "{counts:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    store.close().await;
    assert!(sink.messages().is_empty());
    // The server restarts, and the SMTP server too, now taking mail.
    server.stop().await;
    sink.kill();
    sink.refuse(false);
    sink.run();
    let server = TestServer::start_mailing_in(dir.path(), &sink.url(), Some(addr), |_| {}).await;
    for email in people {
        let mail = mails_to(&sink, email, 1).await.pop().unwrap();
        let confirmed = ApiClient::anonymous(&server)
            .post("/auth/confirm", json!({"token": mail.token("/confirm/")}))
            .await
            .unwrap();
        assert_eq!(confirmed.status, StatusCode::OK, "{email}");
    }
    assert_eq!(sink.messages().len(), 3, "each email sent once");
    server.stop().await;
}

/// The unread counts a notification stream announces, as they come.
async fn unread_events(
    client: &ApiClient,
    server: &TestServer,
) -> tokio::sync::mpsc::Receiver<Option<u64>> {
    let _ = server;
    let response = client.get_raw("/me/notifications/stream", &[]).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    tokio::spawn(async move {
        let mut stream = response.bytes_stream();
        let mut buffer = String::new();
        while let Some(Ok(chunk)) = stream.next().await {
            buffer.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buffer.find("\n\n") {
                let event: String = buffer.drain(..end + 2).collect();
                if let Some(data) = event.lines().find_map(|l| l.strip_prefix("data: ")) {
                    let value: Value = serde_json::from_str(data).unwrap();
                    let _ = tx.send(value["unread"].as_u64()).await;
                }
            }
        }
        // The stream ended.
        let _ = tx.send(None).await;
    });
    rx
}

#[tokio::test]
async fn mentions_and_replies_reach_the_bell_live_and_the_inbox_as_chosen() {
    let sink = SmtpSink::start();
    let server = TestServer::start_mailing(&sink.url(), |_| {}).await;
    let ana = signup_confirmed(&server, &sink, "ana@example.org").await;
    let ben = signup_confirmed(&server, &sink, "ben@example.org").await;
    let outsider = signup_confirmed(&server, &sink, "eve@example.org").await;
    let project = ana
        .post("/projects", json!({"title": "Cork x Bilbao", "visibility": "private"}))
        .await
        .unwrap();
    let pid = project.body["id"].as_str().unwrap().to_owned();
    let invited = ana
        .post(
            &format!("/projects/{pid}/members"),
            json!({"email": "ben@example.org", "role": "editor"}),
        )
        .await
        .unwrap();
    let token = invited.body["token"].as_str().unwrap();
    assert_eq!(
        ben.post(&format!("/invites/{token}/accept"), Value::Null).await.unwrap().status,
        StatusCode::OK
    );
    ben.post("/me/notifications/read", json!({})).await.unwrap();
    let item = ana
        .post(&format!("/projects/{pid}/items"), json!({"kind": "document", "title": "Budget"}))
        .await
        .unwrap();
    let item_id = item.body["id"].as_str().unwrap().to_owned();

    let mut bell = unread_events(&ben, &server).await;
    assert_eq!(bell.recv().await.unwrap(), Some(0));
    let mention = |who: &ApiClient, name: &str| {
        json!([{"type": "paragraph", "content": [
            {"type": "text", "text": "Can you check the line, ", "styles": {}},
            {"type": "mention", "props": {"user": who.id(), "name": name}}
        ]}])
    };
    // Ben's confirmation and his invitation came first.
    let mentions_before = mails_to(&sink, "ben@example.org", 2).await.len();
    // Ana mentions Ben, and Eve, who is no member: only Ben hears of it.
    let mut body = mention(&ben, "ben");
    let content = body[0]["content"].as_array_mut().unwrap();
    content.push(json!({"type": "text", "text": " and ", "styles": {}}));
    content.push(json!({"type": "mention", "props": {"user": outsider.id(), "name": "eve"}}));
    let thread = ana
        .post(
            &format!("/items/{item_id}/threads"),
            json!({"initialComment": {"body": body}, "metadata": {}}),
        )
        .await
        .unwrap();
    assert_eq!(thread.status, StatusCode::CREATED, "{thread:?}");
    let thread_id = thread.body["id"].as_str().unwrap().to_owned();
    assert_eq!(bell.recv().await.unwrap(), Some(1), "the bell rings live");
    let list = ben.get("/me/notifications").await.unwrap();
    let note = &list.body["items"][0];
    assert_eq!(note["kind"], "mention");
    assert_eq!(note["subject"]["item_title"], "Budget");
    assert_eq!(note["subject"]["by"]["display_name"], "ana");
    assert_eq!(note["subject"]["excerpt"], "Can you check the line, @ben and @eve");
    let mail = mails_to(&sink, "ben@example.org", mentions_before + 1).await.pop().unwrap();
    assert_eq!(mail.subject, "ana mentioned you in \u{201C}Budget\u{201D}");
    assert!(
        mail.link(&format!("/projects/{pid}/documents/{item_id}?thread={thread_id}")).is_some(),
        "{mail:?}"
    );
    assert_eq!(outsider.get("/me/notifications").await.unwrap().body["unread"], json!(0));

    // Ben replies: Ana, who started the thread, hears of it.
    let reply = ben
        .post(&format!("/items/{item_id}/threads/{thread_id}/comments"), json!({"comment": {"body": [{"type": "paragraph", "content": [{"type": "text", "text": "Done", "styles": {}}]}]}}))
        .await
        .unwrap();
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    let ana_notes = ana.get("/me/notifications").await.unwrap();
    assert_eq!(ana_notes.body["items"][0]["kind"], "reply");

    // Ben reads everything: the bell says 0.
    ben.post("/me/notifications/read", json!({})).await.unwrap();
    assert_eq!(bell.recv().await.unwrap(), Some(0));

    // Ben unsubscribes from mention emails with the email's one-click link: the next mention
    // reaches the app only.
    let unsubscribe = mail.header("List-Unsubscribe").unwrap().trim_matches(['<', '>']).to_owned();
    let path = unsubscribe.split_once("/unsubscribe/").unwrap().1;
    let done = ApiClient::anonymous(&server)
        .post(&format!("/unsubscribe/{path}"), Value::Null)
        .await
        .unwrap();
    assert_eq!(done.status, StatusCode::NO_CONTENT);
    let prefs = ben.get("/me/notification-prefs").await.unwrap();
    assert!(
        prefs.body["prefs"]
            .as_array()
            .unwrap()
            .contains(&json!({"kind": "mention", "channel": "app"}))
    );
    let store = server.open_store().await.unwrap();
    let queued = store.outbox_counts().await.unwrap();
    let second = ana
        .post(
            &format!("/items/{item_id}/threads"),
            json!({"initialComment": {"body": mention(&ben, "ben")}, "metadata": {}}),
        )
        .await
        .unwrap();
    assert_eq!(second.status, StatusCode::CREATED);
    assert_eq!(bell.recv().await.unwrap(), Some(1));
    let after = store.outbox_counts().await.unwrap();
    assert_eq!(after.waiting + after.sent, queued.waiting + queued.sent, "no email queued");
    store.close().await;

    // Signing out ends the stream.
    ben.post("/auth/logout", Value::Null).await.unwrap();
    assert_eq!(bell.recv().await.unwrap(), None);
    server.stop().await;
}

#[tokio::test]
async fn without_smtp_nothing_is_emailed_and_invitations_are_links_to_pass_on() {
    let server = TestServer::start().await;
    let ana = ApiClient::signup(&server, "ana@example.org").await.unwrap();
    assert_eq!(ana.get("/session").await.unwrap().body["email_enabled"], json!(false));
    let reset = ApiClient::anonymous(&server)
        .post("/auth/reset", json!({"email": "ana@example.org"}))
        .await
        .unwrap();
    assert_eq!(reset.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(reset.body["error"]["code"], "email_disabled");
    let project =
        ana.post("/projects", json!({"title": "P", "visibility": "private"})).await.unwrap();
    let pid = project.body["id"].as_str().unwrap();
    let invited = ana
        .post(
            &format!("/projects/{pid}/members"),
            json!({"email": "ben@example.org", "role": "editor"}),
        )
        .await
        .unwrap();
    assert_eq!(invited.body["emailed"], json!(false));
    let token = invited.body["token"].as_str().unwrap();
    let ben = ApiClient::signup(&server, "ben@example.org").await.unwrap();
    // Signing up with the address accepted it already (no email can prove the address here).
    let joined = ben.post(&format!("/invites/{token}/accept"), Value::Null).await.unwrap();
    assert_eq!(joined.status, StatusCode::NOT_FOUND);
    let member = ben.get(&format!("/projects/{pid}")).await.unwrap();
    assert_eq!(member.status, StatusCode::OK);
    // The admin (the first account) sees that nothing is sent; nobody else may look.
    let health = ana.get("/admin/mail").await.unwrap();
    assert_eq!(health.status, StatusCode::OK, "{health:?}");
    assert_eq!(health.body["enabled"], json!(false));
    assert_eq!(ben.get("/admin/mail").await.unwrap().status, StatusCode::FORBIDDEN);
    server.stop().await;
}

#[tokio::test]
async fn a_session_invitation_update_and_cancellation_arrive_with_their_calendar_files() {
    let sink = SmtpSink::start();
    let server = TestServer::start_mailing(&sink.url(), |_| {}).await;
    let ana = signup_confirmed(&server, &sink, "ana@example.org").await;
    let ben = signup_confirmed(&server, &sink, "ben@example.org").await;
    let pid = ana
        .post("/projects", json!({"title": "Cork x Bilbao", "visibility": "private"}))
        .await
        .unwrap()
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let invited = ana
        .post(
            &format!("/projects/{pid}/members"),
            json!({"email": "ben@example.org", "role": "editor"}),
        )
        .await
        .unwrap();
    let token = invited.body["token"].as_str().unwrap();
    ben.post(&format!("/invites/{token}/accept"), Value::Null).await.unwrap();
    // Ben has his confirmation and the project invitation; what comes next is the session's.
    let before = mails_to(&sink, "ben@example.org", 2).await.len();
    let session = ana
        .post(
            &format!("/projects/{pid}/sessions"),
            json!({"title": "Funding clinic", "kind": "workshop", "starts": "2027-05-06T18:00",
                   "time_zone": "Europe/Dublin", "duration_minutes": 60, "notes_title": "Notes"}),
        )
        .await
        .unwrap();
    assert_eq!(session.status, StatusCode::CREATED, "{session:?}");
    let id = session.body["id"].as_str().unwrap();
    let mail = mails_to(&sink, "ben@example.org", before + 1).await.pop().unwrap();
    assert_eq!(mail.subject, "Invitation: Funding clinic, 2027-05-06 18:00 (Europe/Dublin)");
    let (method, ics) = mail.calendar.clone().expect("a text/calendar part");
    assert_eq!(method, "REQUEST");
    assert!(ics.contains("METHOD:REQUEST") && ics.contains("SEQUENCE:0"), "{ics}");
    assert!(ics.contains("DTSTART;TZID=Europe/Dublin:20270506T180000"), "{ics}");
    assert!(ics.contains("BEGIN:VTIMEZONE") && ics.contains("TZID:Europe/Dublin"), "{ics}");
    assert!(mail.attachments.contains(&"invite.ics".to_owned()), "{:?}", mail.attachments);
    assert!(mail.link(&format!("/sessions/{id}")).is_some(), "{}", mail.text);
    assert!(mail.header("List-Unsubscribe").is_some_and(|v| v.contains("/session")));

    let moved =
        ana.patch(&format!("/sessions/{id}"), json!({"starts": "2027-05-06T19:00"})).await.unwrap();
    assert_eq!(moved.status, StatusCode::OK, "{moved:?}");
    let mail = mails_to(&sink, "ben@example.org", before + 2).await.pop().unwrap();
    assert_eq!(mail.subject, "Changed: Funding clinic, 2027-05-06 19:00 (Europe/Dublin)");
    let (method, ics) = mail.calendar.clone().unwrap();
    assert_eq!(method, "REQUEST");
    assert!(ics.contains("SEQUENCE:1"), "{ics}");

    assert_eq!(
        ana.delete(&format!("/sessions/{id}")).await.unwrap().status,
        StatusCode::NO_CONTENT
    );
    let mail = mails_to(&sink, "ben@example.org", before + 3).await.pop().unwrap();
    assert_eq!(mail.subject, "Cancelled: Funding clinic");
    let (method, ics) = mail.calendar.clone().unwrap();
    assert_eq!(method, "CANCEL");
    assert!(ics.contains("METHOD:CANCEL") && ics.contains("STATUS:CANCELLED"), "{ics}");
    assert!(ics.contains("SEQUENCE:2"), "{ics}");
    assert_eq!(ben.get(&format!("/sessions/{id}")).await.unwrap().status, StatusCode::NOT_FOUND);
    server.stop().await;
}
