//! Which simulcast layer a subscriber receives: the smallest that fills the tile it is shown
//! in, lowered until the layers it receives fit its bandwidth estimate.

use std::time::{Duration, Instant};

/// Simulcast layers browsers send, smallest first. Hubring's client names them `q`, `h`, `f`
/// (a quarter, half and full resolution); other common names are mapped the same way.
pub(crate) fn layer_of_rid(rid: &str) -> Option<u8> {
    match rid {
        "q" | "l" | "0" => Some(0),
        "h" | "m" | "1" => Some(1),
        "f" | "2" => Some(2),
        _ => None,
    }
}

/// The layer a tile of `height` device pixels needs, out of `layers` (full size ≈ 720 rows).
pub(crate) fn wanted_layer(height: u32, layers: u8) -> Option<u8> {
    if height == 0 || layers == 0 {
        return None;
    }
    let wanted = match height {
        0..=200 => 0,
        201..=400 => 1,
        _ => 2,
    };
    Some(wanted.min(layers - 1))
}

/// The highest layer at or below `wanted` whose measured rate fits `budget_bps`; the lowest
/// layer when none does (a subscriber always gets something while the tile is shown).
pub(crate) fn fit_layer(wanted: u8, rates_bps: &[u64], budget_bps: u64) -> u8 {
    (0..=wanted)
        .rev()
        .find(|&layer| rates_bps.get(usize::from(layer)).is_none_or(|&rate| rate <= budget_bps))
        .unwrap_or(0)
}

/// A loss-based bandwidth estimate from a subscriber's receiver reports (the loss-based half
/// of Google Congestion Control, draft-ietf-rmcat-gcc-02 §6): back off in proportion to loss
/// above 10 %, grow 8 % per report below 2 %, hold in between.
#[derive(Debug, Clone)]
pub(crate) struct LossEstimate {
    bps: f64,
    last: Option<Instant>,
}

impl LossEstimate {
    pub(crate) const START_BPS: f64 = 2_500_000.0;
    const MIN_BPS: f64 = 150_000.0;
    const MAX_BPS: f64 = 30_000_000.0;
    /// Reports closer together than this count once (browsers send several per second).
    const EVERY: Duration = Duration::from_millis(200);

    pub(crate) fn new() -> Self {
        Self { bps: Self::START_BPS, last: None }
    }

    pub(crate) fn bps(&self) -> u64 {
        self.bps as u64
    }

    /// `fraction_lost` as in a report block: lost packets / 256 since the previous report.
    pub(crate) fn report(&mut self, fraction_lost: u8, now: Instant) {
        if self.last.is_some_and(|last| now.duration_since(last) < Self::EVERY) {
            return;
        }
        self.last = Some(now);
        let loss = f64::from(fraction_lost) / 256.0;
        if loss > 0.10 {
            self.bps *= 1.0 - 0.5 * loss;
        } else if loss < 0.02 {
            self.bps *= 1.08;
        }
        self.bps = self.bps.clamp(Self::MIN_BPS, Self::MAX_BPS);
    }
}

/// Measures a stream's rate over a sliding second.
#[derive(Debug, Clone, Default)]
pub(crate) struct RateMeter {
    window_start: Option<Instant>,
    bytes: u64,
    bps: u64,
}

impl RateMeter {
    pub(crate) fn add(&mut self, bytes: usize, now: Instant) {
        let start = *self.window_start.get_or_insert(now);
        let elapsed = now.duration_since(start);
        if elapsed >= Duration::from_secs(1) {
            self.bps = (self.bytes * 8 * 1000) / (elapsed.as_millis().max(1) as u64);
            self.bytes = 0;
            self.window_start = Some(now);
        }
        self.bytes += bytes as u64;
    }

    pub(crate) fn bps(&self) -> u64 {
        self.bps
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_tiles_get_small_layers() {
        assert_eq!(wanted_layer(0, 3), None);
        assert_eq!(wanted_layer(90, 3), Some(0));
        assert_eq!(wanted_layer(360, 3), Some(1));
        assert_eq!(wanted_layer(1080, 3), Some(2));
        // A publisher without simulcast has one layer, whatever the tile.
        assert_eq!(wanted_layer(1080, 1), Some(0));
    }

    #[test]
    fn the_layer_drops_until_it_fits_the_budget() {
        let rates = [150_000, 500_000, 1_500_000];
        assert_eq!(fit_layer(2, &rates, 3_000_000), 2);
        assert_eq!(fit_layer(2, &rates, 1_000_000), 1);
        assert_eq!(fit_layer(2, &rates, 100_000), 0);
        assert_eq!(fit_layer(1, &rates, 3_000_000), 1);
        // A layer not measured yet is assumed to fit.
        assert_eq!(fit_layer(2, &[150_000], 200_000), 2);
    }

    #[test]
    fn the_estimate_backs_off_under_loss_and_grows_without() {
        let t0 = Instant::now();
        let mut e = LossEstimate::new();
        e.report(64, t0); // 25 % loss
        assert_eq!(e.bps(), (LossEstimate::START_BPS * 0.875) as u64);
        // A second report within 200 ms counts once.
        e.report(255, t0 + Duration::from_millis(50));
        assert_eq!(e.bps(), (LossEstimate::START_BPS * 0.875) as u64);
        let before = e.bps();
        e.report(12, t0 + Duration::from_millis(400)); // 4.7 %: hold
        assert_eq!(e.bps(), before);
        e.report(0, t0 + Duration::from_millis(800));
        assert!(e.bps() > before);
        for i in 0..200 {
            e.report(255, t0 + Duration::from_secs(2 + i));
        }
        assert_eq!(e.bps(), 150_000);
    }

    #[test]
    fn rates_are_measured_per_second() {
        let t0 = Instant::now();
        let mut m = RateMeter::default();
        for i in 0..=100 {
            m.add(1250, t0 + Duration::from_millis(i * 10));
        }
        // 100 packets of 1,250 bytes in one second: 1 Mbit/s.
        assert_eq!(m.bps(), 1_000_000);
    }
}
