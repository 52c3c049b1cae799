//! Rate limits on sign-in, sign-up and password changes, so passwords cannot be guessed at
//! speed: per client address (an IPv6 client counts by its /64, see `serve::ClientKey`) and per
//! account (so guesses spread over many addresses still meet a limit). Behind a reverse proxy
//! every client shares the proxy's address: keep the address limit generous there, or
//! rate-limit at the proxy.

use std::net::IpAddr;
use std::num::NonZeroU32;

use axum::http::StatusCode;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::http::ApiError;
use crate::serve::ClientKey;

/// Attempts on one account: this many at once, then one every 6 minutes (10 an hour). A person
/// who mistypes their password a few times never meets it; a guesser gets 240 a day whatever
/// the number of addresses. It counts attempts on an address whether or not an account has it,
/// so being limited says nothing about who has an account.
const PER_ACCOUNT_PER_HOUR: NonZeroU32 = NonZeroU32::new(10).expect("non-zero");

/// Keys remembered before those whose allowance is whole again are forgotten.
const FORGET_PAST: usize = 10_000;

#[derive(Debug)]
pub(crate) struct AuthLimiter {
    by_address: DefaultKeyedRateLimiter<ClientKey>,
    by_account: DefaultKeyedRateLimiter<String>,
}

impl AuthLimiter {
    /// `per_minute` attempts per address, which may all come at once.
    pub(crate) fn new(per_minute: u32) -> Self {
        let n = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
        Self {
            by_address: RateLimiter::keyed(Quota::per_minute(n)),
            by_account: RateLimiter::keyed(Quota::per_hour(PER_ACCOUNT_PER_HOUR)),
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

    /// Counts an attempt on the account `key` (a normalised email address, or a user id); 429
    /// once it is over its limit.
    pub(crate) fn check_account(&self, key: &str) -> Result<(), ApiError> {
        self.by_account.check_key(&key.to_owned()).map_err(|_| {
            ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "too many attempts on this account; wait a few minutes",
            )
        })?;
        if self.by_account.len() > FORGET_PAST {
            self.by_account.retain_recent();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_64_is_one_client_and_an_account_is_limited_across_addresses() {
        let limiter = AuthLimiter::new(3);
        for n in 0..3 {
            let ip: IpAddr = format!("2001:db8:5:6::{n:x}").parse().unwrap();
            assert!(limiter.check_address(ip).is_ok(), "attempt {n}");
        }
        let next: IpAddr = "2001:db8:5:6:ffff::1".parse().unwrap();
        assert!(limiter.check_address(next).is_err(), "the same /64");
        let other: IpAddr = "2001:db8:5:7::1".parse().unwrap();
        assert!(limiter.check_address(other).is_ok(), "another /64");

        for n in 0..PER_ACCOUNT_PER_HOUR.get() {
            assert!(limiter.check_account("ana@hubs.example").is_ok(), "attempt {n}");
        }
        assert!(limiter.check_account("ana@hubs.example").is_err());
        assert!(limiter.check_account("rui@hubs.example").is_ok());
    }
}
