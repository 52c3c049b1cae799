//! Board exports measured end to end (`cargo bench -p hubring-tests --bench board_export`):
//! `export.svg`, `export.png` and the thumbnail of generated boards of every shape type, through
//! the real server (the board read from its actor, images from the asset store, PNG by resvg).

// A benchmark reports on standard output.
#![allow(clippy::print_stdout)]

use std::time::{Duration, Instant};

use hubring_tests::board::board_with;

const RUNS: usize = 15;

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        for n in [1_000, 2_000] {
            export(n).await?;
        }
        Ok(())
    })
}

async fn export(n: usize) -> anyhow::Result<()> {
    let (f, _) = board_with(&[]).await?;
    f.fill(n).await?;
    for (name, path) in [
        ("export.svg", format!("/boards/{}/export.svg", f.board)),
        ("export.png", format!("/boards/{}/export.png", f.board)),
        ("thumbnail.png", format!("/boards/{}/thumbnail.png", f.board)),
    ] {
        let mut samples = Vec::with_capacity(RUNS);
        let mut size = 0;
        for _ in 0..RUNS {
            let start = Instant::now();
            let reply = f.owner.get_raw(&path, &[]).await?;
            anyhow::ensure!(reply.status().is_success(), "{name}: {}", reply.status());
            size = reply.bytes().await?.len();
            samples.push(start.elapsed());
        }
        samples.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "{n} shapes, {name:<13} median {:>7.1} ms  min {:>7.1} ms  max {:>7.1} ms  ({} KB)",
            ms(samples[RUNS / 2]),
            ms(samples[0]),
            ms(samples[RUNS - 1]),
            size / 1024
        );
    }
    f.server.stop().await;
    Ok(())
}
