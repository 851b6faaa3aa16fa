//! A small in-process TTL cache for view-data (DESIGN §2.6): DAX has no Rust
//! client and would force the functions into a VPC. Per function instance,
//! keyed by country code (at most 676 keys), holding the stored item so hits
//! serve the exact bytes and ETag without touching DynamoDB.

use crate::country_code::CountryCode;
use crate::store::StoredCountry;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// Stored countries seen in the last `ttl`. A zero TTL disables it.
pub struct ViewCache {
    ttl: Duration,
    entries: RwLock<HashMap<CountryCode, (Instant, Arc<StoredCountry>)>>,
}

impl ViewCache {
    /// An empty cache.
    pub fn new(ttl: Duration) -> Self {
        Self { ttl, entries: RwLock::new(HashMap::new()) }
    }

    /// A fresh entry, if any.
    pub fn get(&self, code: &CountryCode) -> Option<Arc<StoredCountry>> {
        if self.ttl.is_zero() {
            return None;
        }
        let entries = self.entries.read().ok()?;
        let (at, country) = entries.get(code)?;
        (at.elapsed() < self.ttl).then(|| Arc::clone(country))
    }

    /// Remembers a country read from the table. Only found countries are
    /// cached: a 404 must turn into a 200 as soon as the worker stores it.
    pub fn put(&self, country: Arc<StoredCountry>) {
        if self.ttl.is_zero() {
            return;
        }
        if let Ok(mut entries) = self.entries.write() {
            entries.insert(country.code.clone(), (Instant::now(), country));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn country(code: &str) -> Arc<StoredCountry> {
        Arc::new(StoredCountry::new(CountryCode::parse(code).unwrap(), "{}".into(), 0, "r".into()))
    }

    #[test]
    fn hits_within_ttl_and_expires_after() {
        let cache = ViewCache::new(Duration::from_millis(50));
        let py = CountryCode::parse("PY").unwrap();
        assert!(cache.get(&py).is_none());
        cache.put(country("PY"));
        assert_eq!(cache.get(&py).unwrap().code, py);
        std::thread::sleep(Duration::from_millis(60));
        assert!(cache.get(&py).is_none());
    }

    #[test]
    fn zero_ttl_disables() {
        let cache = ViewCache::new(Duration::ZERO);
        cache.put(country("PY"));
        assert!(cache.get(&CountryCode::parse("PY").unwrap()).is_none());
    }
}
