//! The bell: what the workspace says about whose notifications changed reaches their open
//! notification streams, on this node and (through Redis) on every other.

use std::time::Duration;

use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

use crate::AppState;

/// Rings the bells the workspace names, until shutdown.
pub(crate) async fn bell_worker(app: AppState, shutdown: CancellationToken) {
    let mut bell = app.workspace.bell();
    loop {
        let next = tokio::select! {
            () = shutdown.cancelled() => return,
            next = bell.recv() => next,
        };
        match next {
            Ok(user) => app.live.ring(&user),
            // Fell behind: some changes were missed, so every open stream reads its count again.
            Err(RecvError::Lagged(_)) => app.live.ring_all_here(),
            Err(RecvError::Closed) => return,
        }
    }
}

/// How often the reminder worker looks for sessions starting soon, when nothing wakes it.
const REMINDER_POLL: Duration = Duration::from_secs(30);

/// Sends each session's reminder as its window opens, until shutdown: every
/// [`REMINDER_POLL`], and at once when a session is scheduled or moved. Any number of nodes
/// may run it; the store's claim sends each reminder once.
pub(crate) async fn reminder_worker(app: AppState, shutdown: CancellationToken) {
    let changed = app.workspace.sessions_changed();
    loop {
        if let Err(err) = app.workspace.send_reminders().await {
            tracing::warn!(%err, "session reminders failed; trying again shortly");
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = changed.notified() => {}
            () = tokio::time::sleep(REMINDER_POLL) => {}
        }
    }
}
