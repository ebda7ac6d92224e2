//! The observed series in fixed slots of `step` milliseconds: slot `k` covers `[k·step, (k+1)·step)`.
//! A ring of at most `capacity` slots (the configured history); gaps are stored as NaN.

use std::collections::VecDeque;

#[derive(Debug, Clone)]
pub struct History {
    /// Slot number of `vals[0]`.
    first: i64,
    vals: VecDeque<f32>,
    capacity: usize,
    /// Gaps [`History::raise`] has filled so far.
    filled: u64,
}

impl History {
    pub fn new(capacity: usize) -> History {
        History {
            first: 0,
            vals: VecDeque::with_capacity(capacity.max(1)),
            capacity: capacity.max(1),
            filled: 0,
        }
    }

    /// The slot after the last one stored (where the next push goes), if any slot is stored.
    pub fn end(&self) -> Option<i64> {
        (!self.vals.is_empty()).then(|| self.first + self.vals.len() as i64)
    }

    /// Number of slots held (gaps included).
    pub fn len(&self) -> usize {
        self.vals.len()
    }

    pub fn is_empty(&self) -> bool {
        self.vals.is_empty()
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Append slot `k` (which must be `end()`, or anything when empty); `None` is a gap.
    pub fn push(&mut self, k: i64, v: Option<f64>) {
        if self.vals.is_empty() {
            self.first = k;
        }
        debug_assert_eq!(Some(k), self.end().or(Some(k)));
        if self.vals.len() == self.capacity {
            self.vals.pop_front();
            self.first += 1;
        }
        self.vals.push_back(v.map_or(f32::NAN, |v| v as f32));
    }

    /// Raise slot `k`'s value to at least `v` (a second observation in one slot keeps the maximum).
    pub fn raise(&mut self, k: i64, v: f64) {
        if let Some(x) = self.index(k).and_then(|i| self.vals.get_mut(i))
            && (x.is_nan() || (v as f32) > *x)
        {
            if x.is_nan() {
                self.filled += 1;
            }
            *x = v as f32;
        }
    }

    /// How many gaps [`History::raise`] has filled since the history was made: a stored slot can only turn
    /// from a gap into a value that way, so a count of observed slots grows by at most one per slot pushed
    /// plus the growth of this number.
    pub fn filled_gaps(&self) -> u64 {
        self.filled
    }

    fn index(&self, k: i64) -> Option<usize> {
        let i = k.checked_sub(self.first)?;
        (i >= 0 && (i as usize) < self.vals.len()).then_some(i as usize)
    }

    /// The value of slot `k`: `None` outside the ring or in a gap.
    pub fn get(&self, k: i64) -> Option<f64> {
        let v = *self.vals.get(self.index(k)?)?;
        (!v.is_nan()).then_some(f64::from(v))
    }

    /// Highest value over slots `[from, to]`, ignoring gaps; `None` when all are gaps or outside.
    pub fn max(&self, from: i64, to: i64) -> Option<f64> {
        (from..=to).filter_map(|k| self.get(k)).reduce(f64::max)
    }

    /// Bytes held by the ring.
    pub fn memory_bytes(&self) -> usize {
        self.vals.capacity() * std::mem::size_of::<f32>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_is_bounded_and_addressed_by_slot() {
        let mut h = History::new(3);
        for k in 10..15 {
            h.push(k, Some(k as f64));
        }
        assert_eq!(h.len(), 3);
        assert_eq!(h.get(11), None);
        assert_eq!(h.get(12), Some(12.0));
        assert_eq!(h.get(14), Some(14.0));
        assert_eq!(h.get(15), None);
        assert_eq!(h.end(), Some(15));
        h.push(15, None);
        assert_eq!(h.get(15), None);
        assert_eq!(h.max(13, 15), Some(14.0));
        assert_eq!(h.max(15, 15), None);
        h.raise(15, 3.0);
        assert_eq!(h.get(15), Some(3.0));
        h.raise(15, 1.0);
        assert_eq!(h.get(15), Some(3.0));
    }
}
