//! Per-tenant request limits on the JSON APIs: a token bucket per tenant, refilled continuously, answered with
//! 429 and `Retry-After` when empty. The buckets live in the process: `lastmile dev` has one; on AWS each
//! function instance keeps its own, and API Gateway's stage throttling caps the total (infra/template.yaml).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// A tenant's limit: sustained requests per second, and how many may come at once.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    pub requests_per_second: f64,
    pub burst: u32,
}

impl Default for RateLimit {
    fn default() -> Self {
        RateLimit { requests_per_second: 50.0, burst: 100 }
    }
}

impl RateLimit {
    pub fn check(&self) -> Result<(), String> {
        if !(self.requests_per_second > 0.0 && self.requests_per_second.is_finite()) || self.burst == 0 {
            return Err("limits: requests_per_second must be above 0 and burst at least 1".into());
        }
        Ok(())
    }
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

#[derive(Default)]
pub struct RateLimiter {
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    /// Takes one request from `tenant`'s bucket, or says how long until one is free.
    pub fn admit(&self, tenant: &str, limit: RateLimit) -> Result<(), Duration> {
        self.admit_at(tenant, limit, Instant::now())
    }

    pub fn admit_at(&self, tenant: &str, limit: RateLimit, now: Instant) -> Result<(), Duration> {
        let mut buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let burst = f64::from(limit.burst);
        let bucket = buckets.entry(tenant.to_owned()).or_insert(Bucket { tokens: burst, at: now });
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * limit.requests_per_second).min(burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            return Ok(());
        }
        Err(Duration::from_secs_f64((1.0 - bucket.tokens) / limit.requests_per_second))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_the_sustained_rate_and_each_tenant_its_own_bucket() {
        let limiter = RateLimiter::default();
        let limit = RateLimit { requests_per_second: 2.0, burst: 3 };
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(limiter.admit_at("a", limit, t0).is_ok());
        }
        // Empty: the next token comes in 1 / 2 s.
        assert_eq!(limiter.admit_at("a", limit, t0), Err(Duration::from_millis(500)));
        assert!(limiter.admit_at("b", limit, t0).is_ok(), "another tenant is not affected");
        let later = t0 + Duration::from_millis(500);
        assert!(limiter.admit_at("a", limit, later).is_ok());
        assert!(limiter.admit_at("a", limit, later).is_err());
        // A long pause refills to the burst, not beyond.
        let much_later = t0 + Duration::from_secs(60);
        for _ in 0..3 {
            assert!(limiter.admit_at("a", limit, much_later).is_ok());
        }
        assert!(limiter.admit_at("a", limit, much_later).is_err());
    }
}
