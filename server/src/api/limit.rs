//! Rate limits on sign-in, sign-up and password changes, so passwords cannot be guessed at
//! speed: per client address (an IPv6 client counts by its /64, see `serve::ClientKey`) and per
//! account (so guesses spread over many addresses still meet a limit). Behind a reverse proxy
//! every client shares the proxy's address: keep the address limit generous there, or
//! rate-limit at the proxy.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Instant;

use axum::http::StatusCode;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::http::ApiError;
use crate::serve::ClientKey;

/// Wrong passwords on one account: this many at once, then one every 6 minutes (10 an hour). A
/// person who mistypes their password a few times never meets it, and signing in successfully
/// (on any number of devices) costs nothing; a guesser gets 240 a day whatever the number of
/// addresses. Failures count on an address whether or not an account has it, so being limited
/// says nothing about who has an account.
const FAILURES_PER_HOUR: f32 = 10.0;

/// Keys remembered before those whose allowance is whole again are forgotten.
const FORGET_PAST: usize = 10_000;

#[derive(Debug)]
pub(crate) struct AuthLimiter {
    by_address: DefaultKeyedRateLimiter<ClientKey>,
    invites: DefaultKeyedRateLimiter<String>,
    /// Per account, a leaky bucket of wrong passwords: its level and when it was last drained.
    /// Hand-written: `governor` counts every attempt and cannot give one back when it succeeds.
    failures: Mutex<HashMap<String, (f32, Instant)>>,
}

impl AuthLimiter {
    /// `per_minute` attempts per address, which may all come at once; `invites_per_hour`
    /// invitations by email per person, likewise (`--invites-per-hour`: a hub manager inviting
    /// a whole partner network at once fits, a script probing addresses or spamming does not).
    pub(crate) fn new(per_minute: u32, invites_per_hour: u32) -> Self {
        let n = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
        let invites = NonZeroU32::new(invites_per_hour).unwrap_or(NonZeroU32::MIN);
        Self {
            by_address: RateLimiter::keyed(Quota::per_minute(n)),
            failures: Mutex::default(),
            invites: RateLimiter::keyed(Quota::per_hour(invites)),
        }
    }

    /// Counts an attempt from `ip`; 429 once the address (or its /64) is over its limit.
    pub(crate) fn check_address(&self, ip: IpAddr) -> Result<(), ApiError> {
        self.by_address.check_key(&ClientKey::from(ip)).map_err(|_| {
            ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "too many attempts from your address; wait a minute",
            )
        })?;
        if self.by_address.len() > FORGET_PAST {
            self.by_address.retain_recent();
        }
        Ok(())
    }

    /// Refuses an attempt on the account `key` (a normalised email address) with 429 while its
    /// wrong passwords are over the limit; the attempt's outcome is told to [`Self::failed`].
    pub(crate) fn check_account(&self, key: &str) -> Result<(), ApiError> {
        let now = Instant::now();
        let failures = self.failures.lock().expect("not poisoned");
        let level = failures.get(key).map_or(0.0, |&(level, at)| drained(level, at, now));
        if level + 1.0 > FAILURES_PER_HOUR {
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "too many wrong passwords for this account; wait a few minutes",
            ));
        }
        Ok(())
    }

    /// Counts an invitation sent by the user `user_id`; 429 once they are over the limit.
    pub(crate) fn check_invites(&self, user_id: &str) -> Result<(), ApiError> {
        self.invites.check_key(&user_id.to_owned()).map_err(|_| {
            ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "you have sent many invitations; wait a while before sending more",
            )
        })?;
        if self.invites.len() > FORGET_PAST {
            self.invites.retain_recent();
        }
        Ok(())
    }

    /// Counts a wrong password on the account `key`.
    pub(crate) fn failed(&self, key: &str) {
        let now = Instant::now();
        let mut failures = self.failures.lock().expect("not poisoned");
        if failures.len() > FORGET_PAST {
            failures.retain(|_, &mut (level, at)| drained(level, at, now) > 0.0);
        }
        let entry = failures.entry(key.to_owned()).or_insert((0.0, now));
        *entry = (drained(entry.0, entry.1, now) + 1.0, now);
    }
}

/// A failure level `level` at `at`, drained at [`FAILURES_PER_HOUR`] until `now`.
fn drained(level: f32, at: Instant, now: Instant) -> f32 {
    let hours = now.saturating_duration_since(at).as_secs_f32() / 3600.0;
    (level - hours * FAILURES_PER_HOUR).max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_64_is_one_client_and_an_account_is_limited_across_addresses() {
        let limiter = AuthLimiter::new(3, 10);
        for n in 0..3 {
            let ip: IpAddr = format!("2001:db8:5:6::{n:x}").parse().unwrap();
            assert!(limiter.check_address(ip).is_ok(), "attempt {n}");
        }
        let next: IpAddr = "2001:db8:5:6:ffff::1".parse().unwrap();
        assert!(limiter.check_address(next).is_err(), "the same /64");
        let other: IpAddr = "2001:db8:5:7::1".parse().unwrap();
        assert!(limiter.check_address(other).is_ok(), "another /64");

        for n in 0..FAILURES_PER_HOUR as usize {
            assert!(limiter.check_account("ana@hubs.example").is_ok(), "attempt {n}");
            limiter.failed("ana@hubs.example");
        }
        assert!(limiter.check_account("ana@hubs.example").is_err());
        assert!(limiter.check_account("rui@hubs.example").is_ok());
        // Attempts that do not fail cost nothing.
        for _ in 0..100 {
            assert!(limiter.check_account("rui@hubs.example").is_ok());
        }
    }
}
