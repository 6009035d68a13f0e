//! Fixed-window rate limits per key (client address, dossier code), in memory, per process:
//! against enumeration of dossier codes and scraping of the public lookup, and against
//! repeated feedback and sign-in codes.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Keys held per generation (two generations are kept): about 10 MB at most for typical keys.
const MAX_KEYS: usize = 100_000;

/// Counts per key in two generations, each at most one window old when it becomes the
/// previous one: every hit is a lookup or two, and memory stays bounded whatever the number
/// of keys (an address per request, codes tried at random). A key's count lives until its
/// window ends: made in the current generation, it is kept there, then in the previous one,
/// for at least a window. Past `max_keys` new keys within a window the generations turn
/// early, and the oldest counts are forgotten: under such a flood limits leak rather than
/// memory growing (or every hit sweeping a growing map, as before).
pub struct Limiter {
    limit: u32,
    window: Duration,
    max_keys: usize,
    state: Mutex<Generations>,
}

struct Generations {
    current: HashMap<String, (u32, Instant)>,
    previous: HashMap<String, (u32, Instant)>,
    /// When `current` began.
    began: Instant,
}

impl Generations {
    /// Turns the generations if `current` is a window old or full; returns the map dropped,
    /// to be freed outside the lock.
    fn turn(
        &mut self,
        now: Instant,
        window: Duration,
        max_keys: usize,
    ) -> Option<HashMap<String, (u32, Instant)>> {
        if now.duration_since(self.began) < window && self.current.len() < max_keys {
            return None;
        }
        self.began = now;
        let previous = std::mem::take(&mut self.current);
        Some(std::mem::replace(&mut self.previous, previous))
    }
}

impl Limiter {
    pub fn new(limit: u32, window: Duration) -> Self {
        Self::with_max_keys(limit, window, MAX_KEYS)
    }

    /// As `new`, holding at most `max_keys` keys per generation.
    pub fn with_max_keys(limit: u32, window: Duration, max_keys: usize) -> Self {
        Self {
            limit,
            window,
            max_keys: max_keys.max(1),
            state: Mutex::new(Generations {
                current: HashMap::new(),
                previous: HashMap::new(),
                began: Instant::now(),
            }),
        }
    }

    /// Seconds left in the window begun at `start`, at least 1.
    fn wait(&self, now: Instant, start: Instant) -> u64 {
        self.window
            .saturating_sub(now.duration_since(start))
            .as_secs()
            .max(1)
    }

    /// Counts one hit for `key`; Err(seconds to wait) when over the limit.
    pub fn hit(&self, key: &str) -> Result<(), u64> {
        let now = Instant::now();
        let (answer, dropped) = {
            let mut guard = self.state.lock().unwrap_or_else(|p| p.into_inner());
            let dropped = guard.turn(now, self.window, self.max_keys);
            let g = &mut *guard;
            let entry = match g.current.get_mut(key) {
                Some(e) => e,
                None => {
                    let kept = g.previous.remove(key).unwrap_or((0, now));
                    g.current.entry(key.to_string()).or_insert(kept)
                }
            };
            if now.duration_since(entry.1) >= self.window {
                *entry = (0, now);
            }
            let answer = if entry.0 >= self.limit {
                Err(self.wait(now, entry.1))
            } else {
                entry.0 += 1;
                Ok(())
            };
            (answer, dropped)
        };
        // The generation turned out is freed after the lock is let go.
        drop(dropped);
        answer
    }

    /// Whether `key` is already over the limit (without counting).
    pub fn blocked(&self, key: &str) -> Option<u64> {
        let now = Instant::now();
        let g = self.state.lock().unwrap_or_else(|p| p.into_inner());
        g.current
            .get(key)
            .or_else(|| g.previous.get(key))
            .filter(|(n, start)| *n >= self.limit && now.duration_since(*start) < self.window)
            .map(|(_, start)| self.wait(now, *start))
    }

    /// Keys held in both generations.
    #[cfg(test)]
    fn keys(&self) -> usize {
        let g = self.state.lock().unwrap_or_else(|p| p.into_inner());
        g.current.len() + g.previous.len()
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
    fn a_count_outlives_the_turn_of_its_generation() {
        // Three keys per generation: the fourth key turns them, and "a" moves to the previous.
        let l = Limiter::with_max_keys(2, Duration::from_secs(60), 3);
        assert!(l.hit("a").is_ok() && l.hit("a").is_ok());
        assert!(l.hit("a").is_err());
        for k in ["b", "c", "d"] {
            assert!(l.hit(k).is_ok());
        }
        assert!(
            l.blocked("a").is_some(),
            "still counted in the previous generation"
        );
        assert!(l.hit("a").is_err(), "and brought back into the current one");
        assert!(l.blocked("a").is_some());
    }

    #[test]
    fn a_flood_of_keys_is_held_in_bounded_memory() {
        let l = Limiter::with_max_keys(1, Duration::from_secs(600), 1_000);
        for i in 0..50_000 {
            assert!(l.hit(&format!("10.0.{}.{}", i / 256, i % 256)).is_ok());
            assert!(l.keys() <= 2_000, "{} keys after {i} hits", l.keys());
        }
        // The last keys are still limited.
        assert!(l.hit("10.0.195.79").is_err());
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
