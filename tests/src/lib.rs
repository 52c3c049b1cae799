//! End-to-end test support: [`TestServer`] runs the real server in-process on `127.0.0.1:0`,
//! [`DocClient`] is a y-websocket client built on tokio-tungstenite and yrs, [`ApiClient`] a
//! browser-like client of `/api/v1`.
//!
//! Tests wait for events (a frame, a state, a close), never for time to pass.

mod api;
mod client;
mod server;

pub use api::{ApiClient, PASSWORD, Reply};
pub use client::{DocClient, Event};
pub use server::TestServer;

/// Default upper bound on any wait in a test: long enough for a loaded CI machine, short
/// enough that a hang fails instead of stalling the suite.
pub const WAIT: std::time::Duration = std::time::Duration::from_secs(20);
