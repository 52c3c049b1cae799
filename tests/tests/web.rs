//! The web client, tested two ways: its own unit tests (Vitest, in `web/`), and the browser
//! tests: `tests/browser/documents.mjs` drives Debian's Chromium (`playwright-core`) through
//! the app the real server serves, from sign-up to co-editing, offline editing, save
//! acknowledgements and axe-core checks; `tests/browser/boards.mjs` runs a board workshop
//! (notes, connectors, live drags, undo, locks, a dot vote, the timer, exports) and pans a
//! 2,000-shape board. Chromium must be installed (`apt-get install
//! chromium`, or `HUBRING_CHROMIUM=/path`): without it this test fails, it is never skipped.

use std::path::PathBuf;
use std::process::Stdio;

use hubring_tests::board::fill_board;
use hubring_tests::{ApiClient, PASSWORD, TestServer, browser_dir, npm_ci_in, web_dir};
use serde_json::json;

fn chromium() -> PathBuf {
    std::env::var_os("HUBRING_CHROMIUM")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from)
}

async fn node(dir: &std::path::Path, args: &[&str]) -> anyhow::Result<String> {
    let out = tokio::process::Command::new("node")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|err| anyhow::anyhow!("node is required for the web tests: {err}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    anyhow::ensure!(
        out.status.success(),
        "node {args:?} failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(stdout)
}

/// The tests of this file take turns (each holds the guard to its end): the video room tests
/// measure frame rates, which another Chromium or Vitest beside them on a 2-core machine would
/// turn into a measure of the machine.
async fn one_at_a_time() -> tokio::sync::MutexGuard<'static, ()> {
    static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    TURN.lock().await
}

/// What every browser test needs: Chromium, the test scripts' packages, a server where several
/// people may sign up from one address within the minute, and the test's turn.
async fn browser_server()
-> anyhow::Result<(PathBuf, TestServer, tokio::sync::MutexGuard<'static, ()>)> {
    let turn = one_at_a_time().await;
    let chromium = chromium();
    anyhow::ensure!(
        chromium.exists(),
        "the browser tests need Chromium at {} (Debian: apt-get install chromium; or set \
         HUBRING_CHROMIUM)",
        chromium.display()
    );
    let dir = browser_dir();
    npm_ci_in(&dir, "playwright-core").await?;
    let server = TestServer::start_with(|args| {
        args.open_docs = Some(false);
        args.auth_per_minute = Some(1000);
    })
    .await;
    Ok((dir, server, turn))
}

#[tokio::test]
async fn web_unit_tests_pass() -> anyhow::Result<()> {
    // Vitest keeps both cores busy: it takes its turn with the browser tests.
    let _turn = one_at_a_time().await;
    let web = web_dir();
    npm_ci_in(&web, "vitest").await?;
    let out = node(&web, &["node_modules/vitest/vitest.mjs", "run"]).await?;
    eprintln!("{out}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_people_co_edit_a_document_in_chromium() -> anyhow::Result<()> {
    let (dir, server, _turn) = browser_server().await?;
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser");
    let base = format!("http://{}", server.addr);
    let out = node(&dir, &["documents.mjs", &base, &shots.to_string_lossy()]).await?;
    eprintln!("{out}\nscreenshots: {}", shots.display());
    assert!(out.contains("\"ok\":true"), "{out}");
    server.stop().await;
    Ok(())
}

/// A session scheduled from a project's page, seen under Upcoming with the bell, answered, and
/// its room joined once its start comes (see `tests/browser/sessions.mjs`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_is_scheduled_answered_and_joined_in_chromium() -> anyhow::Result<()> {
    let (dir, server, _turn) = browser_server().await?;
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser");
    let base = format!("http://{}", server.addr);
    let out = node(&dir, &["sessions.mjs", &base, &shots.to_string_lossy()]).await?;
    eprintln!("{out}\nscreenshots: {}", shots.display());
    assert!(out.contains("\"ok\":true"), "{out}");
    server.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_comment_and_keep_versions_of_a_document_in_chromium() -> anyhow::Result<()> {
    let (dir, server, _turn) = browser_server().await?;
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser");
    let base = format!("http://{}", server.addr);
    let out = node(&dir, &["comments.mjs", &base, &shots.to_string_lossy()]).await?;
    eprintln!("{out}\nscreenshots: {}", shots.display());
    assert!(out.contains("\"ok\":true"), "{out}");
    server.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_typed_document_exports_from_the_menu_and_a_proposal_starts_from_a_template_in_chromium()
-> anyhow::Result<()> {
    let (dir, server, _turn) = browser_server().await?;
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser");
    let base = format!("http://{}", server.addr);
    let out = node(&dir, &["exports.mjs", &base, &shots.to_string_lossy()]).await?;
    eprintln!("{out}\nscreenshots: {}", shots.display());
    assert!(out.contains("\"ok\":true"), "{out}");
    server.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_people_run_a_board_workshop_in_chromium() -> anyhow::Result<()> {
    let (dir, server, _turn) = browser_server().await?;
    // The 2,000-shape board the test pans, written here through the model.
    let owner = ApiClient::signup(&server, "scale@hubs.example").await?;
    let project =
        owner.post("/projects", json!({"title": "Scale", "visibility": "private"})).await?;
    let project = project.body["id"].as_str().unwrap_or_default().to_owned();
    let item = owner
        .post(&format!("/projects/{project}/items"), json!({"kind": "board", "title": "Big"}))
        .await?;
    let (board, doc) = (
        item.body["id"].as_str().unwrap_or_default(),
        item.body["doc_id"].as_str().unwrap_or_default(),
    );
    fill_board(&server, &owner, &project, doc, 2000).await?;
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser");
    let base = format!("http://{}", server.addr);
    let scale_path = format!("/projects/{project}/boards/{board}");
    let args = [
        "boards.mjs",
        &base,
        &shots.to_string_lossy(),
        "scale@hubs.example",
        PASSWORD,
        &scale_path,
    ];
    let out = node(&dir, &args).await?;
    eprintln!("{out}\nscreenshots: {}", shots.display());
    assert!(out.contains("\"ok\":true"), "{out}");
    server.stop().await;
    Ok(())
}

/// Two and three people joining at once, 1 s and 5 s apart, and one coming back: everyone
/// decodes everyone at 15 frames a second. Each case runs `HUBRING_ROOM_ROUNDS` times (2 by
/// default; the README's loop of 20 sets it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everyone_sees_everyone_in_a_video_room_whatever_the_join_order_in_chromium()
-> anyhow::Result<()> {
    let rounds = std::env::var("HUBRING_ROOM_ROUNDS").unwrap_or_else(|_| "2".into());
    let (dir, server, _turn) = browser_server().await?;
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser");
    let base = format!("http://{}", server.addr);
    let out = node(&dir, &["room_joins.mjs", &base, &shots.to_string_lossy(), &rounds]).await?;
    eprintln!("{out}\nscreenshots: {}", shots.display());
    assert!(out.contains("\"ok\":true"), "{out}");
    server.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_people_meet_in_a_video_room_in_chromium() -> anyhow::Result<()> {
    let (dir, server, _turn) = browser_server().await?;
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser");
    let base = format!("http://{}", server.addr);
    let out = node(&dir, &["rooms.mjs", &base, &shots.to_string_lossy()]).await?;
    eprintln!("{out}\nscreenshots: {}", shots.display());
    assert!(out.contains("\"ok\":true"), "{out}");
    server.stop().await;
    Ok(())
}
