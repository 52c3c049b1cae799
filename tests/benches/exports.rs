//! What exports and imports cost for a 50-page proposal: Markdown, HTML, DOCX and PDF made from
//! the document (read from its Yjs state, as the server does), the import of the same proposal
//! as a DOCX, and the baseline they are reported against, reading the document into its tree.
//!
//! `cargo bench -p hubring-tests --bench exports`; how far each export raises the process's
//! resident memory at its peak is printed once at the start.

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use hubring_doc::tree::{self, Align, Block, Cell, Document, ListItem, ListKind, Span, Style};
use hubring_export::{Asset, docx, html, import, markdown, pdf};
use yrs::{Doc, ReadTxn as _, StateVector, Transact};

/// A field of `/proc/self/status`, in kB.
fn status_kb(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// How far above the memory in use before `f` the process's resident memory peaked while `f`
/// ran, in MB (Linux: writing 5 to `clear_refs` resets the peak, `VmHWM`). Each is measured in a
/// process of its own (see `bench`): in a process that already ran other work, the allocator
/// reuses what that work freed and the peak reads low.
fn peak_mb(f: impl FnOnce()) -> f64 {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let before = status_kb("VmRSS:");
    f();
    status_kb("VmHWM:").saturating_sub(before) as f64 / 1e3
}

const MEASURED: [&str; 6] = ["read", "md", "html", "docx", "pdf", "docx-import"];

/// Measures one export's peak memory in this process and prints it (the child's job).
fn measure_one(what: &str, doc: &Document, state: &[u8], docx_file: &[u8]) -> f64 {
    match what {
        "read" => peak_mb(|| drop(tree::read_state(state).unwrap())),
        "md" => peak_mb(|| drop(markdown::to_markdown(doc))),
        "html" => peak_mb(|| drop(html::to_html(doc, "Proposal", "pt", &asset))),
        "docx" => peak_mb(|| drop(docx::to_docx(doc, "Proposal", &asset).unwrap())),
        "pdf" => peak_mb(|| drop(pdf::to_pdf(doc, "Proposal", "pt", &asset).unwrap())),
        _ => peak_mb(|| drop(import::from_docx(docx_file).unwrap())),
    }
}

/// A proposal of `sections` sections: each a heading, four paragraphs of ~60 words with some formatting,
/// a list of four items, and every fifth section a 6 × 4 table and an image.
fn proposal(sections: usize) -> Document {
    let words = |seed: usize, n: usize| -> String {
        (0..n)
            .map(|w| format!("palavra{}", (seed * 31 + w * 7) % 991))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut blocks = Vec::new();
    for p in 0..sections {
        blocks.push(Block::Heading {
            level: if p % 5 == 0 { 1 } else { 2 },
            align: Align::Left,
            content: vec![Span::plain(format!("Secção {p}: coopération"))],
        });
        for i in 0..4 {
            blocks.push(Block::Paragraph {
                align: Align::Left,
                content: vec![
                    Span::plain(words(p * 10 + i, 50)),
                    Span {
                        text: " importante ".into(),
                        style: Style { bold: true, ..Style::default() },
                    },
                    Span::plain(words(p * 10 + i + 1, 10)),
                ],
            });
        }
        blocks.push(Block::List {
            kind: if p % 2 == 0 { ListKind::Bullet } else { ListKind::Numbered },
            items: (0..4)
                .map(|i| ListItem {
                    checked: false,
                    content: vec![Span::plain(words(p + i, 8))],
                    children: vec![],
                })
                .collect(),
        });
        if p % 5 == 0 {
            blocks.push(Block::Table {
                header_rows: 1,
                rows: (0..6)
                    .map(|r| {
                        (0..4)
                            .map(|c| Cell {
                                content: vec![Span::plain(format!("r{r}c{c} {}", words(r + c, 2)))],
                                align: Align::Left,
                            })
                            .collect()
                    })
                    .collect(),
            });
            blocks.push(Block::Image {
                url: "/api/v1/assets/bench".into(),
                caption: "Hub".into(),
                name: "hub.png".into(),
            });
        }
    }
    Document { blocks }
}

fn state_of(doc: &Document) -> Vec<u8> {
    let ydoc = Doc::new();
    let mut n = 0;
    tree::write(&mut ydoc.transact_mut(), doc, &mut || {
        n += 1;
        format!("b{n}")
    });
    ydoc.transact().encode_state_as_update_v1(&StateVector::default())
}

fn asset(_: &str) -> Option<Asset> {
    Some(Asset { mime: "image/png".into(), bytes: hubring_tests::board::PNG.to_vec() })
}

fn bench(c: &mut Criterion) {
    // 56 sections typeset to 50 A4 pages.
    let doc = proposal(56);
    let state = state_of(&doc);
    // In a child, only the one thing measured runs (the DOCX to import is made first).
    if let Ok(what) = std::env::var("HUBRING_BENCH_PEAK") {
        let docx_file = if what == "docx-import" {
            docx::to_docx(&doc, "Proposal", &asset).unwrap()
        } else {
            Vec::new()
        };
        // The parent reads the figure from the child's standard output.
        let peak = measure_one(&what, &doc, &state, &docx_file);
        let _ =
            std::io::Write::write_all(&mut std::io::stdout(), format!("{peak:.1}\n").as_bytes());
        std::process::exit(0);
    }
    let docx_file = docx::to_docx(&doc, "Proposal", &asset).unwrap();
    let pdf_file = pdf::to_pdf(&doc, "Proposal", "pt", &asset).unwrap();
    // The PDF's page count, as poppler reads it (when it is installed).
    let path = std::env::temp_dir().join("hubring-bench-proposal.pdf");
    std::fs::write(&path, &pdf_file).unwrap();
    let pages = std::process::Command::new("pdfinfo")
        .arg(&path)
        .output()
        .ok()
        .and_then(|o| {
            let text = String::from_utf8_lossy(&o.stdout).into_owned();
            text.lines().find_map(|l| l.strip_prefix("Pages:").map(|p| p.trim().to_owned()))
        })
        .unwrap_or_else(|| "?".into());
    eprintln!(
        "proposal: {pages} A4 pages, state {:.2} MB, Markdown {:.0} KB, DOCX {:.0} KB, PDF {:.0} KB",
        state.len() as f64 / 1e6,
        markdown::to_markdown(&doc).len() as f64 / 1e3,
        docx_file.len() as f64 / 1e3,
        pdf_file.len() as f64 / 1e3,
    );
    let mut peaks = Vec::new();
    for what in MEASURED {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .env("HUBRING_BENCH_PEAK", what)
            .output()
            .unwrap();
        peaks.push(format!("{what} {} MB", String::from_utf8_lossy(&out.stdout).trim()));
    }
    eprintln!("peak memory, each in a fresh process: {}", peaks.join(", "));
    let mut g = c.benchmark_group("exports_50_pages");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    g.bench_function("read tree (baseline)", |b| b.iter(|| tree::read_state(&state).unwrap()));
    g.bench_function("markdown", |b| {
        b.iter(|| markdown::to_markdown(&tree::read_state(&state).unwrap()))
    });
    g.bench_function("html", |b| {
        b.iter(|| html::to_html(&tree::read_state(&state).unwrap(), "P", "pt", &asset))
    });
    g.bench_function("docx", |b| {
        b.iter(|| docx::to_docx(&tree::read_state(&state).unwrap(), "P", &asset).unwrap())
    });
    // typst memoises layout across compilations: a first export of a document is measured with
    // that memory forgotten each time, and the same document exported again with it kept.
    g.bench_function("pdf (first export)", |b| {
        b.iter_batched(
            pdf::forget_cache,
            |()| pdf::to_pdf(&tree::read_state(&state).unwrap(), "P", "pt", &asset).unwrap(),
            criterion::BatchSize::PerIteration,
        )
    });
    g.bench_function("pdf (exported again)", |b| {
        b.iter(|| pdf::to_pdf(&tree::read_state(&state).unwrap(), "P", "pt", &asset).unwrap())
    });
    g.bench_function("import docx", |b| b.iter(|| import::from_docx(&docx_file).unwrap()));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
