//! The bell: what the workspace says about whose notifications changed reaches their open
//! notification streams, on this node and (through Redis) on every other.

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
