//! A tiny per-thread xorshift64* generator seeded from the clock (no cryptographic quality needed: failure
//! injection, random metric values, trace IDs).

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn seed() -> u64 {
    static STREAM: AtomicU64 = AtomicU64::new(0);
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let s = splitmix(t ^ splitmix(STREAM.fetch_add(1, Ordering::Relaxed)));
    if s == 0 { 0x2545_F491_4F6C_DD1D } else { s }
}

thread_local! {
    static STATE: Cell<u64> = Cell::new(seed());
}

/// 64 random bits.
pub fn next_u64() -> u64 {
    STATE.with(|c| {
        let mut x = c.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        c.set(x);
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    })
}

/// Uniform in `0..n` (`n` ≥ 1; 0 gives 0).
pub fn below(n: u64) -> u64 {
    ((next_u64() >> 32) * (n & 0xFFFF_FFFF)) >> 32
}

/// Uniform in `[0, 1)`.
pub fn unit() -> f64 {
    (next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// Standard normal (Box–Muller).
pub fn normal() -> f64 {
    let u1 = 1.0 - unit();
    let u2 = unit();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn below_is_uniform_enough() {
        let mut counts = [0u32; 5];
        for _ in 0..50_000 {
            counts[below(5) as usize] += 1;
        }
        for c in counts {
            assert!((9_000..11_000).contains(&c), "{counts:?}");
        }
    }

    #[test]
    fn normal_has_unit_variance() {
        let n = 50_000;
        let xs: Vec<f64> = (0..n).map(|_| normal()).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!(
            mean.abs() < 0.03 && (var - 1.0).abs() < 0.05,
            "mean {mean} var {var}"
        );
    }
}
