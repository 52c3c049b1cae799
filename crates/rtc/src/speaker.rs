//! The active speaker, from the audio levels publishers put in their packets (RFC 6464).
//!
//! Levels are −dBov: 0 is the loudest, 127 silence. Each participant's loudness is averaged
//! over a window; the loudest one above the speech threshold becomes the active speaker when
//! they beat the current one clearly, or the current one has been quiet for a while, so the
//! speaker view does not flicker between two people talking over each other.

use std::collections::HashMap;
use std::hash::Hash;
use std::time::{Duration, Instant};

/// Below this −dBov is speech; above, background.
const SPEECH_LEVEL: u8 = 60;
/// How much louder (in dB) a newcomer must be to take over from someone still talking.
const MARGIN_DB: f64 = 6.0;
/// A current speaker quiet this long gives way to anyone talking.
const QUIET_HOLD: Duration = Duration::from_millis(1200);

#[derive(Debug, Default)]
struct Window {
    sum: u64,
    n: u32,
    last_speech: Option<Instant>,
}

#[derive(Debug)]
pub(crate) struct SpeakerDetector<K> {
    windows: HashMap<K, Window>,
    current: Option<K>,
}

impl<K: Clone + Eq + Hash> Default for SpeakerDetector<K> {
    fn default() -> Self {
        Self { windows: HashMap::new(), current: None }
    }
}

impl<K: Clone + Eq + Hash> SpeakerDetector<K> {
    /// One audio packet's level from `who`.
    pub(crate) fn observe(&mut self, who: &K, level: u8, now: Instant) {
        let window = match self.windows.get_mut(who) {
            Some(window) => window,
            None => self.windows.entry(who.clone()).or_default(),
        };
        // Loudness in dB above silence.
        window.sum += u64::from(127 - level.min(127));
        window.n += 1;
        if level <= SPEECH_LEVEL {
            window.last_speech = Some(now);
        }
    }

    pub(crate) fn forget(&mut self, who: &K) -> bool {
        self.windows.remove(who);
        if self.current.as_ref() == Some(who) {
            self.current = None;
            return true;
        }
        false
    }

    #[cfg(test)]
    pub(crate) fn current(&self) -> Option<&K> {
        self.current.as_ref()
    }

    /// Closes the window: returns the new active speaker if it changed.
    pub(crate) fn tick(&mut self, now: Instant) -> Option<Option<K>> {
        let mut loudest: Option<(&K, f64)> = None;
        let mut current_score = None;
        for (who, window) in &self.windows {
            let score = if window.n == 0 { 0.0 } else { window.sum as f64 / f64::from(window.n) };
            if self.current.as_ref() == Some(who) {
                current_score = Some((score, window.last_speech));
            }
            let speaking = window.n > 0 && score >= f64::from(127 - SPEECH_LEVEL);
            if speaking && loudest.is_none_or(|(_, best)| score > best) {
                loudest = Some((who, score));
            }
        }
        let next = match (loudest, current_score) {
            (None, _) => None,
            (Some((who, _)), None) => Some(who.clone()),
            (Some((who, score)), Some((current, last_speech))) => {
                let quiet = last_speech.is_none_or(|t| now.duration_since(t) >= QUIET_HOLD);
                (score >= current + MARGIN_DB || quiet).then(|| who.clone())
            }
        };
        for window in self.windows.values_mut() {
            window.sum = 0;
            window.n = 0;
        }
        match next {
            Some(who) if self.current.as_ref() != Some(&who) => {
                self.current = Some(who.clone());
                Some(Some(who))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(d: &mut SpeakerDetector<&'static str>, who: &'static str, level: u8, at: Instant) {
        for _ in 0..15 {
            d.observe(&who, level, at);
        }
    }

    #[test]
    fn the_loudest_speaker_wins_and_holds_against_a_close_second() {
        let t0 = Instant::now();
        let mut d = SpeakerDetector::default();
        feed(&mut d, "ana", 127, t0);
        assert_eq!(d.tick(t0), None, "silence makes nobody the speaker");
        feed(&mut d, "ana", 30, t0);
        feed(&mut d, "ben", 100, t0);
        assert_eq!(d.tick(t0), Some(Some("ana")));
        // Ben as loud as Ana: no flicker.
        let t1 = t0 + Duration::from_millis(300);
        feed(&mut d, "ana", 30, t1);
        feed(&mut d, "ben", 28, t1);
        assert_eq!(d.tick(t1), None);
        // Ben clearly louder: he takes over.
        let t2 = t1 + Duration::from_millis(300);
        feed(&mut d, "ana", 40, t2);
        feed(&mut d, "ben", 20, t2);
        assert_eq!(d.tick(t2), Some(Some("ben")));
        // Someone who is clearly louder than a speaker gone silent takes over at once.
        let t3 = t2 + Duration::from_millis(300);
        feed(&mut d, "ben", 127, t3);
        feed(&mut d, "ana", 30, t3);
        assert_eq!(d.tick(t3), Some(Some("ana")));
        // Ana trails off to background noise, Ben speaks softly, not 6 dB above her: she holds
        // until she has been quiet for the hold time.
        let t4 = t3 + Duration::from_millis(300);
        feed(&mut d, "ana", 63, t4);
        feed(&mut d, "ben", 60, t4);
        assert_eq!(d.tick(t4), None);
        let t5 = t3 + QUIET_HOLD + Duration::from_millis(10);
        feed(&mut d, "ana", 63, t5);
        feed(&mut d, "ben", 60, t5);
        assert_eq!(d.tick(t5), Some(Some("ben")));
        assert!(d.forget(&"ben"));
        assert_eq!(d.current(), None);
        assert!(!d.forget(&"ana"));
    }
}
