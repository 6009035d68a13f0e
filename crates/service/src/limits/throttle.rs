//! Login throttling against password guessing, that no stranger can turn against the account's
//! owner. Failures count per (client address, username) pair: after a few, each further try
//! from that pair must wait a delay that doubles with every failure (up to a cap); a success
//! from the pair clears it. The owner signing in from their own address is not held back by
//! someone else's guesses. A client address guessing many usernames is also held back, for
//! all of them. Per process, in memory; the address is the one `--trusted-proxy` lets the web
//! layer see (the socket's peer, or the client a trusted proxy names).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures from one address for one username before any delay.
pub const FREE_PER_PAIR: u32 = 3;
/// The longest delay between tries of one pair.
pub const MAX_DELAY: Duration = Duration::from_secs(15 * 60);
/// Failures allowed per client address (any usernames) within the window.
pub const PER_ADDRESS: u32 = 20;
/// How long failures are remembered after the last one.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    first: Instant,
    last: Instant,
}

#[derive(Default)]
pub struct Throttle {
    failures: Mutex<HashMap<String, Failures>>,
}

fn pair(username: &str, address: &str) -> String {
    format!("p:{address} {}", username.trim().to_lowercase())
}

fn address_key(address: &str) -> String {
    format!("a:{address}")
}

/// The delay a pair must wait after `count` failures.
pub fn delay_after(count: u32) -> Duration {
    match count.checked_sub(FREE_PER_PAIR) {
        None => Duration::ZERO,
        Some(n) => Duration::from_secs(1u64 << n.min(20)).min(MAX_DELAY),
    }
}

impl Throttle {
    /// Ok, or the seconds to wait before trying again.
    pub fn check(&self, username: &str, address: &str) -> Result<(), u64> {
        self.check_at(username, address, Instant::now())
    }

    fn check_at(&self, username: &str, address: &str, now: Instant) -> Result<(), u64> {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, f| now.duration_since(f.last) < WINDOW.max(MAX_DELAY));
        if let Some(f) = map.get(&pair(username, address)) {
            let wait = delay_after(f.count).saturating_sub(now.duration_since(f.last));
            if !wait.is_zero() {
                return Err(wait.as_secs().max(1));
            }
        }
        if let Some(f) = map.get(&address_key(address))
            && f.count >= PER_ADDRESS
            && now.duration_since(f.first) < WINDOW
        {
            return Err(WINDOW
                .saturating_sub(now.duration_since(f.first))
                .as_secs()
                .max(1));
        }
        Ok(())
    }

    pub fn failed(&self, username: &str, address: &str) {
        self.failed_at(username, address, Instant::now());
    }

    fn failed_at(&self, username: &str, address: &str, now: Instant) {
        let fresh = Failures {
            count: 0,
            first: now,
            last: now,
        };
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        // A pair's count keeps growing while failures go on: its delay holds a guesser back.
        let p = map.entry(pair(username, address)).or_insert(fresh);
        p.count += 1;
        p.last = now;
        // An address's count restarts once its window has passed.
        let a = map.entry(address_key(address)).or_insert(fresh);
        if now.duration_since(a.first) >= WINDOW {
            *a = fresh;
        }
        a.count += 1;
        a.last = now;
    }

    /// A successful login clears the pair's failures (not the address's).
    pub fn succeeded(&self, username: &str, address: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&pair(username, address));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pair_waits_longer_after_each_failure() {
        let t = Throttle::default();
        let start = Instant::now();
        for i in 0..FREE_PER_PAIR {
            assert!(t.check_at("quantri", "1.2.3.4", start).is_ok(), "try {i}");
            t.failed_at("quantri", "1.2.3.4", start);
        }
        // The next try waits 1 s, then 2, 4, 8 …
        let mut at = start;
        for n in 0..5u32 {
            let wait = t.check_at("quantri", "1.2.3.4", at).unwrap_err();
            assert_eq!(wait, 1 << n, "after {} failures", FREE_PER_PAIR + n);
            at += Duration::from_secs(1 << n);
            assert!(t.check_at("quantri", "1.2.3.4", at).is_ok());
            t.failed_at("quantri", "1.2.3.4", at);
        }
        assert_eq!(delay_after(40), MAX_DELAY);
    }

    #[test]
    fn someone_elses_guesses_never_hold_the_owner_back() {
        let t = Throttle::default();
        let now = Instant::now();
        for _ in 0..50 {
            t.failed_at("quantri", "6.6.6.6", now);
        }
        assert!(t.check_at("quantri", "6.6.6.6", now).is_err());
        assert!(
            t.check_at("quantri", "10.0.0.7", now).is_ok(),
            "the owner, from their address"
        );
    }

    #[test]
    fn success_clears_the_pair() {
        let t = Throttle::default();
        let now = Instant::now();
        for _ in 0..6 {
            t.failed_at("a", "x", now);
        }
        t.succeeded("A", "x");
        assert!(t.check_at("a", "x", now).is_ok());
    }

    #[test]
    fn an_address_guessing_many_usernames_is_stopped() {
        let t = Throttle::default();
        let now = Instant::now();
        for i in 0..PER_ADDRESS {
            t.failed_at(&format!("user{i}"), "9.9.9.9", now);
        }
        assert!(t.check_at("fresh", "9.9.9.9", now).is_err());
        assert!(t.check_at("fresh", "8.8.8.8", now).is_ok());
        assert!(
            t.check_at("fresh", "9.9.9.9", now + WINDOW).is_ok(),
            "until the window passes"
        );
    }
}
