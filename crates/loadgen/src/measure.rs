//! What the generator reads off the machine: CPU time and resident memory from `/proc`, and
//! latency percentiles.

use std::time::{Duration, Instant};

use anyhow::Context;

/// Clock ticks per second for `/proc/*/stat`; 100 on every Linux this runs on (`getconf CLK_TCK`).
const CLK_TCK: f64 = 100.0;

/// CPU seconds (user + system) a process has used so far, all threads together.
pub fn cpu_seconds(pid: Pid) -> anyhow::Result<f64> {
    let path = format!("/proc/{}/stat", pid.path());
    let stat = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    // The command name is in parentheses and may hold spaces: count fields after the last ')'.
    let rest = stat.rsplit_once(')').map(|(_, rest)| rest).context("malformed stat")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Fields 14 and 15 of proc(5) (utime, stime) are the 12th and 13th after the name.
    let ticks: u64 = fields.get(11).context("no utime")?.parse::<u64>()?
        + fields.get(12).context("no stime")?.parse::<u64>()?;
    Ok(ticks as f64 / CLK_TCK)
}

/// Resident set size in bytes, from `VmRSS` in `/proc/PID/status`.
pub fn rss_bytes(pid: Pid) -> anyhow::Result<u64> {
    let path = format!("/proc/{}/status", pid.path());
    let status = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).context("no VmRSS")?;
    let kb: u64 = line.split_whitespace().nth(1).context("malformed VmRSS")?.parse()?;
    Ok(kb * 1024)
}

/// A process to read: this one, or another by id.
#[derive(Debug, Clone, Copy)]
pub enum Pid {
    Current,
    Other(u32),
}

impl Pid {
    fn path(self) -> String {
        match self {
            Pid::Current => "self".to_owned(),
            Pid::Other(pid) => pid.to_string(),
        }
    }
}

/// CPU use of the generator and, when known, the server over one measured span.
#[derive(Debug)]
pub struct CpuSpan {
    started: Instant,
    own: f64,
    server: Option<(u32, f64)>,
}

/// Cores used (CPU seconds per wall second) over a span.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct CpuUse {
    pub loadgen_cores: f64,
    pub server_cores: Option<f64>,
}

impl CpuSpan {
    pub fn start(server: Option<u32>) -> anyhow::Result<Self> {
        let server = match server {
            Some(pid) => Some((pid, cpu_seconds(Pid::Other(pid))?)),
            None => None,
        };
        Ok(Self { started: Instant::now(), own: cpu_seconds(Pid::Current)?, server })
    }

    pub fn finish(&self) -> anyhow::Result<CpuUse> {
        let wall = self.started.elapsed().as_secs_f64().max(1e-9);
        let loadgen_cores = (cpu_seconds(Pid::Current)? - self.own) / wall;
        let server_cores = match self.server {
            Some((pid, before)) => Some((cpu_seconds(Pid::Other(pid))? - before) / wall),
            None => None,
        };
        Ok(CpuUse { loadgen_cores, server_cores })
    }
}

/// Latency percentiles in milliseconds.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Percentiles {
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Percentiles {
    /// Percentiles of samples in microseconds (nearest rank); sorts them.
    pub fn of_micros(samples: &mut [u32]) -> Self {
        if samples.is_empty() {
            return Self::default();
        }
        samples.sort_unstable();
        let at = |p: f64| {
            let rank = ((samples.len() as f64 * p).ceil() as usize).clamp(1, samples.len());
            f64::from(samples[rank - 1]) / 1000.0
        };
        Self { p50_ms: at(0.50), p95_ms: at(0.95), p99_ms: at(0.99), max_ms: at(1.0) }
    }
}

pub fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let mut samples: Vec<u32> = (1..=100).rev().map(|ms| ms * 1000).collect();
        let p = Percentiles::of_micros(&mut samples);
        assert_eq!((p.p50_ms, p.p95_ms, p.p99_ms, p.max_ms), (50.0, 95.0, 99.0, 100.0));
    }

    #[test]
    fn reads_own_process() {
        assert!(rss_bytes(Pid::Current).unwrap() > 0);
        assert!(cpu_seconds(Pid::Current).unwrap() >= 0.0);
    }
}
