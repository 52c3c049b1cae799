//! The benchmark comparison runs end to end: the real `hubring` binary and the two Node.js
//! peers, started and measured by `hubring-loadgen compare --quick`. Small workloads, so this
//! checks the machinery and every server's correctness under it (no loss, convergence, the
//! trace's final text), never its speed.

use hubring_loadgen::compare::{self, CompareArgs};
use hubring_loadgen::servers::{Programs, Server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compare_quick_runs_every_server_cleanly() {
    hubring_loadgen::raise_open_files_limit().expect("open-files limit");
    let programs = Programs {
        hubring: env!("CARGO_BIN_EXE_hubring").into(),
        peers_dir: Programs::default_peers_dir(),
        pin_cpu: None,
    };
    let args = CompareArgs {
        servers: vec![Server::Hubring, Server::YWebsocket, Server::Hocuspocus],
        repeat: 1,
        secs: 1,
        sweep_ms: vec![20],
        quick: true,
        markdown: None,
    };
    let table = compare::run(&programs, &args).await.expect("compare runs");
    let json = table.to_json();
    let notes = json["notes"].as_array().expect("notes");
    assert!(notes.is_empty(), "a server misbehaved under light load: {notes:#?}");
    let metrics = json["metrics"].as_object().expect("metrics");
    for (name, metric) in metrics {
        let medians = metric["median"].as_object().expect("medians");
        let expected: &[&str] = if name.starts_with("cold") {
            &["hubring"]
        } else {
            &["hubring", "y-websocket", "hocuspocus"]
        };
        for server in expected {
            let value = medians.get(*server).and_then(serde_json::Value::as_f64);
            assert!(value.is_some_and(|v| v > 0.0), "{name}: no measurement for {server}");
        }
    }
    assert!(metrics.keys().any(|k| k.starts_with("cold")), "cold open was measured");
}
