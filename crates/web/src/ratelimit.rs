//! Fixed-window rate limits per key (client address, dossier code), in memory, per process:
//! against enumeration of dossier codes and scraping of the public lookup.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct Limiter {
    limit: u32,
    window: Duration,
    hits: Mutex<HashMap<String, (u32, Instant)>>,
}

impl Limiter {
    pub fn new(limit: u32, window: Duration) -> Self {
        Self {
            limit,
            window,
            hits: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one hit for `key`; Err(seconds to wait) when over the limit.
    pub fn hit(&self, key: &str) -> Result<(), u64> {
        let now = Instant::now();
        let mut map = self.hits.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 100_000 {
            map.retain(|_, (_, start)| now.duration_since(*start) < self.window);
        }
        let entry = map.entry(key.to_string()).or_insert((0, now));
        if now.duration_since(entry.1) >= self.window {
            *entry = (0, now);
        }
        if entry.0 >= self.limit {
            return Err(self
                .window
                .saturating_sub(now.duration_since(entry.1))
                .as_secs()
                .max(1));
        }
        entry.0 += 1;
        Ok(())
    }

    /// Whether `key` is already over the limit (without counting).
    pub fn blocked(&self, key: &str) -> Option<u64> {
        let now = Instant::now();
        let map = self.hits.lock().unwrap_or_else(|p| p.into_inner());
        map.get(key)
            .filter(|(n, start)| *n >= self.limit && now.duration_since(*start) < self.window)
            .map(|(_, start)| {
                self.window
                    .saturating_sub(now.duration_since(*start))
                    .as_secs()
                    .max(1)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_up_to_the_limit_per_key() {
        let l = Limiter::new(3, Duration::from_secs(60));
        for _ in 0..3 {
            assert!(l.hit("a").is_ok());
        }
        assert!(l.hit("a").is_err());
        assert!(l.blocked("a").is_some());
        assert!(l.hit("b").is_ok());
        assert!(l.blocked("b").is_none());
    }

    #[test]
    fn a_new_window_starts_afresh() {
        // Wide margins: a loaded CI machine may pause between the two hits.
        let l = Limiter::new(1, Duration::from_millis(800));
        assert!(l.hit("a").is_ok());
        assert!(l.hit("a").is_err());
        std::thread::sleep(Duration::from_millis(900));
        assert!(l.hit("a").is_ok());
    }
}
