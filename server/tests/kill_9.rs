//! Kill -9 durability with the real binary: whatever any client received survives a SIGKILL.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command};

use hubring_tests::DocClient;
use yrs::{Array, ReadTxn, Transact, WriteTxn};

const ROUNDS: usize = 20;
const N_UPDATES: usize = 1000;

/// The real `hubring` binary on an ephemeral port; the address is read from its JSON log.
struct Binary {
    child: Child,
    addr: SocketAddr,
}

impl Binary {
    fn start(data_dir: &Path) -> Self {
        let (child, addr) = hubring_tests::spawn_listening(
            Command::new(env!("CARGO_BIN_EXE_hubring"))
                .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json", "--open-docs"])
                .arg("--data-dir")
                .arg(data_dir)
                .env("HUBRING_LOG", "info"),
            false,
        );
        Self { child, addr }
    }

    fn url(&self, doc: &str) -> String {
        format!("ws://{}/ws/doc/{doc}", self.addr)
    }

    fn kill_9(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reap");
    }
}

fn items(client: &DocClient) -> Vec<String> {
    let list = client.doc().get_or_insert_array("items");
    let txn = client.doc().transact();
    list.iter(&txn).map(|v| v.to_string(&txn)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edit_survives_kill_9() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut server = Binary::start(dir.path());
    for round in 0..ROUNDS {
        let doc = format!("round-{round}");
        let mut observer = DocClient::connect_synced(&server.url(&doc)).await?;
        let mut writer = DocClient::connect_synced(&server.url(&doc)).await?;
        // Kill at a different point each round, from early to late in the stream.
        let kill_after = 20 + round * (N_UPDATES - 100) / ROUNDS;
        let writing = tokio::spawn(async move {
            for i in 0..N_UPDATES {
                let sent = writer
                    .edit(|txn| txn.get_or_insert_array("items").push_back(txn, format!("{i}")))
                    .await;
                if sent.is_err() {
                    break;
                }
            }
            writer
        });
        // Counted in edits, not frames: the server merges a burst into one update frame.
        while items(&observer).len() < kill_after {
            if observer.next_event().await?.is_none() {
                anyhow::bail!("round {round}: observer lost the server before the kill");
            }
        }
        server.kill_9();
        // Take in whatever the server had already sent before it died.
        while observer.next_event().await?.is_some() {}
        let _ = writing.await?;
        let seen = items(&observer);
        assert!(seen.len() >= kill_after, "round {round}: observer holds {}", seen.len());

        server = Binary::start(dir.path());
        let fresh = DocClient::connect_synced(&server.url(&doc)).await?;
        let stored = items(&fresh);
        assert!(
            stored.len() >= seen.len() && stored[..seen.len()] == seen[..],
            "round {round}: observer saw {} updates, the restarted server has {}",
            seen.len(),
            stored.len()
        );
        let seen_sv = observer.doc().transact().state_vector();
        let stored_sv = fresh.doc().transact().state_vector();
        for (client, clock) in seen_sv.iter() {
            assert!(stored_sv.get(client) >= *clock, "round {round}: state vector went back");
        }
    }
    server.kill_9();
    Ok(())
}
