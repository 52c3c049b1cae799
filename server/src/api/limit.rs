//! Rate limits on sign-in and sign-up, per client address, so passwords cannot be guessed at
//! speed. Behind a reverse proxy every client shares the proxy's address: keep the limit
//! generous there, or rate-limit at the proxy.

use std::net::IpAddr;
use std::num::NonZeroU32;

use axum::http::StatusCode;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::http::ApiError;

#[derive(Debug)]
pub(crate) struct AuthLimiter(DefaultKeyedRateLimiter<IpAddr>);

impl AuthLimiter {
    /// `per_minute` attempts per address, which may all come at once.
    pub(crate) fn new(per_minute: u32) -> Self {
        let n = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
        Self(RateLimiter::keyed(Quota::per_minute(n)))
    }

    /// Counts an attempt from `ip`; 429 once the address is over its limit.
    pub(crate) fn check(&self, ip: IpAddr) -> Result<(), ApiError> {
        self.0.check_key(&ip).map_err(|_| {
            ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "too many attempts from your address; wait a minute",
            )
        })?;
        // Forget addresses whose allowance is whole again, so the map stays small.
        if self.0.len() > 10_000 {
            self.0.retain_recent();
        }
        Ok(())
    }
}
