//! The pace of one connection's presence (awareness) updates. Every presence update is
//! forwarded to everyone else in the document, so one client sending thousands a second filled
//! the others' outboxes until *they* were closed as slow. Here the sender pays instead:
//!
//! - up to [`FORWARD_PER_SEC`] a second are forwarded as they come;
//! - past that they are merged (the latest state of each client wins) and the merge is
//!   forwarded when the pace allows, so nothing a user would see is lost, only intermediate
//!   cursor positions;
//! - past [`RECEIVE_PER_SEC`] a second, which no editor sends, the connection is closed.
//!
//! Hand-written rather than `governor`: two small token buckets per connection (a few dozen
//! bytes), where a connection's size is what an idle server holds (see ARCHITECTURE.md).

use std::time::Duration;

use hubring_doc::AwarenessUpdate;
use tokio::time::Instant;

/// Presence updates forwarded per second per connection before merging begins. An editor sends
/// one per selection change: a fast typist about 10 a second, a dragged cursor on a board 30–60.
pub(crate) const FORWARD_PER_SEC: f32 = 30.0;
/// Presence updates accepted per second per connection, merged or not; past it the sender is
/// closed (policy violation).
pub(crate) const RECEIVE_PER_SEC: f32 = 300.0;

/// A token bucket holding at most one second's worth (also the room socket's message pace).
#[derive(Debug)]
pub(crate) struct Bucket {
    tokens: f32,
    at: Instant,
}

impl Bucket {
    pub(crate) fn full(rate: f32, now: Instant) -> Self {
        Self { tokens: rate, at: now }
    }

    fn refill(&mut self, rate: f32, now: Instant) {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f32();
        self.tokens = (self.tokens + elapsed * rate).min(rate);
        self.at = now;
    }

    pub(crate) fn take(&mut self, rate: f32, now: Instant) -> bool {
        self.refill(rate, now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// When the next token will be there.
    fn next_at(&self, rate: f32) -> Instant {
        self.at + Duration::from_secs_f32(((1.0 - self.tokens) / rate).max(0.0))
    }
}

/// What to do with a presence update that arrived.
#[derive(Debug)]
pub(crate) enum Paced {
    /// Forward it now.
    Forward(AwarenessUpdate),
    /// Merged into what waits; [`PresencePace::due`] says when to forward it.
    Held,
    /// The sender is flooding: close it.
    Flood,
}

/// One connection's presence pace.
#[derive(Debug)]
pub(crate) struct PresencePace {
    forward: Bucket,
    receive: Bucket,
    /// States waiting for the pace, merged: the latest of each client.
    held: Option<Box<AwarenessUpdate>>,
}

impl PresencePace {
    pub(crate) fn new(now: Instant) -> Self {
        Self {
            forward: Bucket::full(FORWARD_PER_SEC, now),
            receive: Bucket::full(RECEIVE_PER_SEC, now),
            held: None,
        }
    }

    /// Paces an update that just arrived.
    pub(crate) fn arrived(&mut self, update: AwarenessUpdate, now: Instant) -> Paced {
        if !self.receive.take(RECEIVE_PER_SEC, now) {
            return Paced::Flood;
        }
        if self.held.is_none() && self.forward.take(FORWARD_PER_SEC, now) {
            return Paced::Forward(update);
        }
        match &mut self.held {
            // A later update of a client replaces its earlier one (its clock is higher too).
            Some(held) => held.clients.extend(update.clients),
            None => self.held = Some(Box::new(update)),
        }
        Paced::Held
    }

    /// When the held states may be forwarded, if any are held.
    pub(crate) fn due(&self) -> Option<Instant> {
        self.held.as_ref().map(|_| self.forward.next_at(FORWARD_PER_SEC))
    }

    /// The held states, if the pace allows forwarding them now.
    pub(crate) fn release(&mut self, now: Instant) -> Option<AwarenessUpdate> {
        if self.held.is_some() && self.forward.take(FORWARD_PER_SEC, now) {
            self.held.take().map(|held| *held)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use yrs::sync::awareness::AwarenessUpdateEntry;

    use super::*;

    fn state(client: u64, clock: u32) -> AwarenessUpdate {
        let entry = AwarenessUpdateEntry { clock, json: format!("{{\"c\":{clock}}}").into() };
        AwarenessUpdate { clients: HashMap::from([(yrs::block::ClientID::new(client), entry)]) }
    }

    #[test]
    fn past_the_pace_states_merge_and_the_latest_is_forwarded_when_due() {
        let t0 = Instant::now();
        let mut pace = PresencePace::new(t0);
        let mut forwarded = 0;
        for clock in 0..100 {
            match pace.arrived(state(1, clock), t0) {
                Paced::Forward(_) => forwarded += 1,
                Paced::Held => {}
                Paced::Flood => panic!("100 at once is not a flood"),
            }
        }
        assert_eq!(forwarded, FORWARD_PER_SEC as usize, "a second's worth at once");
        let due = pace.due().expect("the rest is held");
        assert!(due > t0 && due <= t0 + Duration::from_millis(40), "{:?}", due - t0);
        assert!(pace.release(t0).is_none(), "not before it is due");
        let released = pace.release(due).expect("released when due");
        assert_eq!(released.clients.len(), 1);
        assert_eq!(
            released.clients[&yrs::block::ClientID::new(1)].clock,
            99,
            "the latest state wins"
        );
        assert!(pace.due().is_none());
    }

    #[test]
    fn a_sender_past_the_receive_rate_is_a_flood_and_a_steady_one_is_not() {
        let t0 = Instant::now();
        let mut pace = PresencePace::new(t0);
        let flood =
            (0..1000).position(|clock| matches!(pace.arrived(state(1, clock), t0), Paced::Flood));
        assert_eq!(flood, Some(RECEIVE_PER_SEC as usize));

        // 100 a second for ten seconds: under the receive rate, never closed, and every state
        // that was held is forwarded in time.
        let mut pace = PresencePace::new(t0);
        for i in 0..1000u32 {
            let now = t0 + Duration::from_millis(u64::from(i) * 10);
            if let Some(due) = pace.due()
                && due <= now
            {
                assert!(pace.release(now).is_some());
            }
            assert!(!matches!(pace.arrived(state(1, i), now), Paced::Flood), "update {i}");
        }
    }
}
