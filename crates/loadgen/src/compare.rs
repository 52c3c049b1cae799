//! `compare`: Hubring and the Yjs servers people use today, on the same workloads, in one run.
//!
//! Each server runs alone, pinned to one CPU, with a fresh process (and for Hubring a fresh data
//! directory) per workload; the generator runs on the other CPU. Workloads go round-robin over
//! the servers and the whole round repeats, so drift in the machine hits every server alike. The
//! table holds medians over the repeats and Hubring's ratio to the best peer.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::cold::{self, ColdArgs};
use crate::connect::{self, ConnectArgs};
use crate::fanout::{self, FanoutArgs};
use crate::servers::{Programs, Running, Server};
use crate::trace::{self, TraceArgs};

#[derive(Debug, Clone, clap::Args)]
pub struct CompareArgs {
    /// Servers to run, Hubring first.
    #[arg(long, value_delimiter = ',', default_value = "hubring,y-websocket,hocuspocus")]
    pub servers: Vec<Server>,
    /// Rounds over all workloads and servers.
    #[arg(long, default_value_t = 3)]
    pub repeat: usize,
    /// Seconds each fanout run writes for.
    #[arg(long, default_value_t = 10)]
    pub secs: u64,
    /// Fanout intervals (ms) tried, longest first, to find each server's highest sustained rate.
    #[arg(long, value_delimiter = ',', default_value = "80,40,20,10,5")]
    pub sweep_ms: Vec<u64>,
    /// Small workloads, for checking that the comparison runs (CI), not for numbers.
    #[arg(long)]
    pub quick: bool,
    /// Also write the table as Markdown to this file.
    #[arg(long)]
    pub markdown: Option<std::path::PathBuf>,
}

/// One metric's value per server, per repeat.
#[derive(Debug, Default, serde::Serialize)]
struct Metric {
    /// A higher value is better (throughput) or a lower one (latency, memory, time).
    higher_is_better: bool,
    unit: &'static str,
    values: BTreeMap<&'static str, Vec<f64>>,
}

#[derive(Debug, Default, serde::Serialize)]
pub struct Table {
    order: Vec<String>,
    metrics: BTreeMap<String, Metric>,
    servers: Vec<&'static str>,
    /// Runs that did not complete cleanly, per server (lost deliveries, dropped connections...).
    notes: Vec<String>,
}

impl Table {
    fn record(&mut self, name: &str, unit: &'static str, higher: bool, server: Server, v: f64) {
        if !self.metrics.contains_key(name) {
            self.order.push(name.to_owned());
        }
        let metric = self.metrics.entry(name.to_owned()).or_insert_with(|| Metric {
            higher_is_better: higher,
            unit,
            values: BTreeMap::new(),
        });
        metric.values.entry(server.name()).or_default().push(v);
    }

    /// A workload that failed for one server is a note and a missing value, not the end of the
    /// comparison: a peer giving up under load is itself a result. `what` names the run.
    fn ok_or_note<T>(&mut self, what: &str, result: anyhow::Result<T>) -> Option<T> {
        match result {
            Ok(report) => Some(report),
            Err(err) => {
                let note = format!("{what} failed: {err:#}");
                eprintln!("  {note}");
                self.notes.push(note);
                None
            }
        }
    }

    fn median(values: &[f64]) -> Option<f64> {
        let mut v: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let mid = v.len() / 2;
        Some(if v.len().is_multiple_of(2) { f64::midpoint(v[mid - 1], v[mid]) } else { v[mid] })
    }

    /// Markdown: one row per metric, the median per server and Hubring / best peer.
    pub fn markdown(&self) -> String {
        let mut out = String::from("| metric |");
        for s in &self.servers {
            let _ = write!(out, " {s} |");
        }
        out.push_str(" hubring / best peer |\n|---|");
        for _ in &self.servers {
            out.push_str("---:|");
        }
        out.push_str("---:|\n");
        for name in &self.order {
            let metric = &self.metrics[name];
            let _ = write!(out, "| {name} ({}) |", metric.unit);
            let medians: Vec<(&str, Option<f64>)> = self
                .servers
                .iter()
                .map(|s| (*s, metric.values.get(s).and_then(|v| Self::median(v))))
                .collect();
            for (_, m) in &medians {
                let _ = write!(out, " {} |", m.map_or("–".to_owned(), fmt_num));
            }
            let hubring = medians.iter().find(|(s, _)| *s == "hubring").and_then(|(_, m)| *m);
            let peers = medians.iter().filter(|(s, _)| *s != "hubring").filter_map(|(_, m)| *m);
            let best = if metric.higher_is_better {
                peers.fold(None, |b: Option<f64>, v| Some(b.map_or(v, |b| b.max(v))))
            } else {
                peers.fold(None, |b: Option<f64>, v| Some(b.map_or(v, |b| b.min(v))))
            };
            match (hubring, best) {
                (Some(h), Some(b)) if b != 0.0 => {
                    let _ = writeln!(out, " {:.2}× |", h / b);
                }
                _ => out.push_str(" – |\n"),
            }
        }
        for note in &self.notes {
            let _ = writeln!(out, "\n- {note}");
        }
        out
    }
}

fn fmt_num(v: f64) -> String {
    if v.abs() >= 100.0 { format!("{v:.0}") } else { format!("{v:.2}") }
}

pub async fn run(programs: &Programs, args: &CompareArgs) -> anyhow::Result<Table> {
    if args.servers.iter().any(|s| *s != Server::Hubring) {
        programs.install_peers().await?;
    }
    let mut table =
        Table { servers: args.servers.iter().map(|s| s.name()).collect(), ..Table::default() };
    let (base, connect_args, trace_args) = workloads(args);

    for round in 0..args.repeat {
        eprintln!("compare: round {} of {}", round + 1, args.repeat);
        for &server in &args.servers {
            let report = fanout_on_fresh(server, programs, &base).await?;
            let Some(report) =
                table.ok_or_note(&format!("round {}: {} fanout", round + 1, server.name()), report)
            else {
                continue;
            };
            eprintln!("  {:<12} {}", server.name(), report.summary());
            let label = format!(
                "fanout {}×{}×{} @{} ms",
                base.docs, base.clients, base.writers, base.interval_ms
            );
            table.record(
                &format!("{label}: p99 delivery"),
                "ms",
                false,
                server,
                report.latency.p99_ms,
            );
            table.record(
                &format!("{label}: p50 delivery"),
                "ms",
                false,
                server,
                report.latency.p50_ms,
            );
            table.record(
                &format!("{label}: deliveries/s"),
                "1/s",
                true,
                server,
                report.deliveries_per_sec,
            );
            table.record(
                &format!("{label}: server CPU"),
                "cores",
                false,
                server,
                report.cpu.server_cores.unwrap_or(f64::NAN),
            );
            if !report.sustained() {
                table.notes.push(format!(
                    "round {}: {} did not sustain the base fanout: {}",
                    round + 1,
                    server.name(),
                    report.summary()
                ));
            }
        }
        for &server in &args.servers {
            let running = Running::start(server, programs, None).await?;
            let report = connect::run(&running.target(), &connect_args, Some(running.pid)).await;
            running.stop().await?;
            let Some(report) = table
                .ok_or_note(&format!("round {}: {} connect", round + 1, server.name()), report)
            else {
                continue;
            };
            eprintln!("  {:<12} {}", server.name(), report.summary());
            let label = format!("connect {}/{}", connect_args.connections, connect_args.docs);
            table.record(
                &format!("{label}: all synced"),
                "ms",
                false,
                server,
                report.all_synced_ms,
            );
            table.record(
                &format!("{label}: RSS per connection"),
                "KB",
                false,
                server,
                report.rss_per_connection_bytes.map_or(f64::NAN, |b| b / 1e3),
            );
            if report.failed + report.dropped > 0 {
                table.notes.push(format!(
                    "round {}: {} connect: {} failed, {} dropped",
                    round + 1,
                    server.name(),
                    report.failed,
                    report.dropped
                ));
            }
        }
        for &server in &args.servers {
            let running = Running::start(server, programs, None).await?;
            let report = trace::run(&running.target(), &trace_args, Some(running.pid)).await;
            running.stop().await?;
            let Some(report) =
                table.ok_or_note(&format!("round {}: {} trace", round + 1, server.name()), report)
            else {
                continue;
            };
            eprintln!("  {:<12} {}", server.name(), report.summary());
            let label = format!("trace {} ({} edits)", trace_args.trace, report.edits);
            table.record(&format!("{label}: total"), "ms", false, server, report.total_ms);
            if !report.text_matches {
                table.notes.push(format!(
                    "round {}: {} trace text did not match",
                    round + 1,
                    server.name()
                ));
            }
        }
    }

    // Highest sustained fanout rate: longest interval first, until a server stops keeping up.
    for &server in &args.servers {
        let mut best: Option<f64> = None;
        let sweep = if args.quick { &[20][..] } else { &args.sweep_ms[..] };
        for &interval_ms in sweep {
            let step = FanoutArgs { interval_ms, ..base.clone() };
            let report = fanout_on_fresh(server, programs, &step).await?;
            let what = format!("sweep: {} at {interval_ms} ms", server.name());
            let Some(report) = table.ok_or_note(&what, report) else { break };
            eprintln!("  sweep {:<12} {}", server.name(), report.summary());
            if !report.sustained() {
                break;
            }
            best = Some(report.deliveries_per_sec);
            if report.cpu.loadgen_cores > 0.9 {
                table.notes.push(format!(
                    "sweep: {} still kept up at {interval_ms} ms, where the generator used {:.2} cores: its figure is a floor",
                    server.name(),
                    report.cpu.loadgen_cores
                ));
            }
        }
        let label = format!(
            "fanout {}×{}×{}: highest sustained deliveries/s",
            base.docs, base.clients, base.writers
        );
        table.record(&label, "1/s", true, server, best.unwrap_or(0.0));
    }

    if args.servers.contains(&Server::Hubring) {
        let cold_args = if args.quick {
            ColdArgs { sizes_mb: vec![0.2], repeat: 1 }
        } else {
            ColdArgs { sizes_mb: vec![1.0, 10.0], repeat: 3 }
        };
        let report = cold::run(programs, &cold_args).await?;
        eprintln!("  {}", report.summary());
        for sample in &report.samples {
            let label = format!("cold open, {:.0} MB history", sample.history_bytes as f64 / 1e6);
            table.record(&label, "ms", false, Server::Hubring, sample.open_synced_ms);
            if !sample.content_matches {
                table.notes.push(format!("cold: the reopened {label} document differs"));
            }
        }
    }
    Ok(table)
}

fn workloads(args: &CompareArgs) -> (FanoutArgs, ConnectArgs, TraceArgs) {
    if args.quick {
        (
            FanoutArgs {
                docs: 5,
                clients: 4,
                writers: 2,
                interval_ms: 20,
                secs: 1,
                drain_secs: 5,
                reader_url: None,
            },
            ConnectArgs { connections: 1_000, docs: 20, settle_ms: 200 },
            TraceArgs { trace: "seph-blog1".to_owned(), limit: Some(2_000) },
        )
    } else {
        (
            FanoutArgs {
                docs: 100,
                clients: 20,
                writers: 2,
                interval_ms: 20,
                secs: args.secs,
                drain_secs: 10,
                reader_url: None,
            },
            ConnectArgs { connections: 10_000, docs: 1_000, settle_ms: 2_000 },
            TraceArgs { trace: "automerge-paper".to_owned(), limit: None },
        )
    }
}

impl Table {
    pub fn to_json(&self) -> serde_json::Value {
        let mut rows = serde_json::Map::new();
        for name in &self.order {
            let metric = &self.metrics[name];
            let medians: serde_json::Map<String, serde_json::Value> = metric
                .values
                .iter()
                .map(|(s, v)| ((*s).to_owned(), Self::median(v).into()))
                .collect();
            rows.insert(name.clone(), serde_json::json!({ "unit": metric.unit, "median": medians, "runs": metric.values }));
        }
        serde_json::json!({ "mode": "compare", "metrics": rows, "notes": self.notes })
    }
}

/// One fanout run against a fresh server. A run that did not keep up is run once more, and the
/// second run counts: in a short run on a shared machine, one stall (an fsync, a descheduled
/// process) can delay the last deliveries past the 5% a run may fall short by, while a server
/// that really cannot keep up at that rate fails both.
async fn fanout_on_fresh(
    server: Server,
    programs: &Programs,
    args: &FanoutArgs,
) -> anyhow::Result<anyhow::Result<fanout::FanoutReport>> {
    let mut retried = false;
    loop {
        let running = Running::start(server, programs, None).await?;
        let report = fanout::run(&running.target(), args, Some(running.pid)).await;
        running.stop().await?;
        match &report {
            Ok(first) if !retried && !first.sustained() => {
                eprintln!(
                    "  {:<12} did not keep up; once more: {}",
                    server.name(),
                    first.summary()
                );
                retried = true;
            }
            _ => return Ok(report),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_an_even_count_is_the_mean_of_the_middle_two() {
        assert_eq!(Table::median(&[3.0, 1.0]), Some(2.0));
        assert_eq!(Table::median(&[5.0, 1.0, 3.0]), Some(3.0));
        assert_eq!(Table::median(&[f64::NAN]), None);
    }
}
