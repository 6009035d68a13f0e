//! Login throttling against password guessing: after too many failures within a window, a
//! username (and, more loosely, a client address) must wait. Per process, in memory.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures allowed per username within the window.
pub const PER_USERNAME: u32 = 5;
/// Failures allowed per client address within the window.
pub const PER_ADDRESS: u32 = 20;
pub const WINDOW: Duration = Duration::from_secs(15 * 60);

#[derive(Default)]
pub struct Throttle {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl Throttle {
    fn keys(username: &str, address: &str) -> [(String, u32); 2] {
        [
            (format!("u:{}", username.trim().to_lowercase()), PER_USERNAME),
            (format!("a:{address}"), PER_ADDRESS),
        ]
    }

    /// Ok, or the seconds to wait before trying again.
    pub fn check(&self, username: &str, address: &str) -> Result<(), u64> {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, (_, start)| now.duration_since(*start) < WINDOW);
        for (key, limit) in Self::keys(username, address) {
            if let Some((count, start)) = map.get(&key)
                && *count >= limit
            {
                return Err(WINDOW.saturating_sub(now.duration_since(*start)).as_secs().max(1));
            }
        }
        Ok(())
    }

    pub fn failed(&self, username: &str, address: &str) {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        for (key, _) in Self::keys(username, address) {
            map.entry(key).and_modify(|(c, _)| *c += 1).or_insert((1, now));
        }
    }

    /// A successful login clears the username's failures (not the address's).
    pub fn succeeded(&self, username: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&format!("u:{}", username.trim().to_lowercase()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_a_username_after_five_failures() {
        let t = Throttle::default();
        for _ in 0..PER_USERNAME {
            assert!(t.check("quantri", "1.2.3.4").is_ok());
            t.failed("quantri", "1.2.3.4");
        }
        let wait = t.check("QuanTri", "5.6.7.8").unwrap_err();
        assert!(wait > 0 && wait <= WINDOW.as_secs());
        assert!(t.check("other", "5.6.7.8").is_ok());
    }

    #[test]
    fn success_clears_the_username() {
        let t = Throttle::default();
        t.failed("a", "x");
        t.succeeded("a");
        assert!(t.failures.lock().unwrap().get("u:a").is_none());
    }

    #[test]
    fn an_address_guessing_many_usernames_is_stopped() {
        let t = Throttle::default();
        for i in 0..PER_ADDRESS {
            t.failed(&format!("user{i}"), "9.9.9.9");
        }
        assert!(t.check("fresh", "9.9.9.9").is_err());
        assert!(t.check("fresh", "8.8.8.8").is_ok());
    }
}
