//! The Go arithmetic the HPA controller relies on, so that overflow and rounding come out as they do in
//! `kube-controller-manager`.
//!
//! - `int32` arithmetic wraps (Rust: `wrapping_*`).
//! - Converting a `float64` to `int32` is platform-dependent in Go. On amd64 the compiler emits `CVTTSD2SL`,
//!   which truncates and yields `math.MinInt32` for NaN and for values outside the int32 range; that is what
//!   [`go_f64_to_i32`] reproduces (arm64 would saturate instead). It only matters for absurd inputs, such as a
//!   Percent policy of 2^31 or a ratio of 10^10 when scaling from zero.

/// Go's `int32(f)` on amd64: truncation toward zero, `math.MinInt32` for NaN or out-of-range values.
pub fn go_f64_to_i32(f: f64) -> i32 {
    let t = f.trunc();
    if t.is_nan() || !(-2_147_483_648.0..2_147_483_648.0).contains(&t) {
        i32::MIN
    } else {
        t as i32
    }
}

/// Go's `int32(math.Ceil(f))`.
pub fn go_ceil_to_i32(f: f64) -> i32 {
    go_f64_to_i32(f.ceil())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversion_truncates_and_overflows_to_min() {
        assert_eq!(go_f64_to_i32(3.9), 3);
        assert_eq!(go_f64_to_i32(-3.9), -3);
        assert_eq!(go_f64_to_i32(2_147_483_647.9), i32::MAX);
        assert_eq!(go_f64_to_i32(2_147_483_648.0), i32::MIN);
        assert_eq!(go_f64_to_i32(-2_147_483_648.9), i32::MIN);
        assert_eq!(go_f64_to_i32(-2_147_483_649.0), i32::MIN);
        assert_eq!(go_f64_to_i32(f64::NAN), i32::MIN);
        assert_eq!(go_f64_to_i32(f64::INFINITY), i32::MIN);
        assert_eq!(go_ceil_to_i32(3.0000001), 4);
        assert_eq!(go_ceil_to_i32(-0.5), 0);
    }
}
