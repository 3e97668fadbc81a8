//! Small bounded structures: a rate limiter with one-second windows and a set of recent items.

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::Hash;
use std::time::{Duration, Instant};

/// At most `per_key` events per key and `global` events in all per one-second window.
#[derive(Debug)]
pub(crate) struct RateLimiter<K> {
    per_key: u32,
    global: u32,
    window: Instant,
    total: u32,
    counts: HashMap<K, u32>,
}

const WINDOW: Duration = Duration::from_secs(1);

impl<K: Hash + Eq> RateLimiter<K> {
    /// Limits whose first window starts at `now`.
    pub(crate) fn new(per_key: u32, global: u32, now: Instant) -> Self {
        RateLimiter { per_key, global, window: now, total: 0, counts: HashMap::new() }
    }

    /// Counts an event for `key` at `now`; `false` if it is over a limit (and is dropped).
    pub(crate) fn allow(&mut self, key: K, now: Instant) -> bool {
        if now.duration_since(self.window) >= WINDOW {
            self.window = now;
            self.total = 0;
            self.counts.clear();
        }
        if self.total >= self.global {
            return false;
        }
        let count = self.counts.entry(key).or_insert(0);
        if *count >= self.per_key {
            return false;
        }
        *count += 1;
        self.total += 1;
        true
    }
}

/// The last `capacity` distinct items inserted (oldest evicted first).
#[derive(Debug)]
pub(crate) struct Recent<T> {
    capacity: usize,
    order: VecDeque<T>,
    set: HashSet<T>,
}

impl<T: Hash + Eq + Clone> Recent<T> {
    pub(crate) fn new(capacity: usize) -> Self {
        Recent { capacity: capacity.max(1), order: VecDeque::new(), set: HashSet::new() }
    }

    /// Inserts `item`; `false` if it was already there.
    pub(crate) fn insert(&mut self, item: T) -> bool {
        if !self.set.insert(item.clone()) {
            return false;
        }
        self.order.push_back(item);
        if self.order.len() > self.capacity
            && let Some(old) = self.order.pop_front()
        {
            self.set.remove(&old);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_key_and_globally_and_resets_each_second() {
        let t = Instant::now();
        let mut limiter = RateLimiter::new(2, 3, t);
        assert!(limiter.allow("a", t));
        assert!(limiter.allow("a", t));
        assert!(!limiter.allow("a", t), "third from one key in a window");
        assert!(limiter.allow("b", t));
        assert!(!limiter.allow("c", t), "over the global cap");
        assert!(limiter.allow("a", t + WINDOW), "a new window");
    }

    #[test]
    fn recent_forgets_the_oldest() {
        let mut recent = Recent::new(2);
        assert!(recent.insert(1));
        assert!(!recent.insert(1));
        assert!(recent.insert(2));
        assert!(recent.insert(3));
        assert!(recent.insert(1), "1 was evicted");
        assert!(!recent.insert(3));
    }
}
