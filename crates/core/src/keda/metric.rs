//! Metric quantities: `GenerateMetricInMili` / `GetMetricTargetMili` (`pkg/scalers/scaler.go`,
//! `quantityFromFloat64`) and the parts of `resource.Quantity` they feed.
//!
//! KEDA turns a float into a quantity with `resource.MustParse(fmt.Sprintf("%.3f", v))`: the value is rounded
//! to three decimals (exact decimal rounding of the binary value, ties to even — Rust's `{:.3}` does the
//! same), and NaN, ±Inf and negative values become `0`. The HPA then reads `MilliValue()`.

/// The milli-value of `quantityFromFloat64(v)`: `round(v, 3 decimals) × 1000` as an integer.
///
/// NaN, ±Inf and negative values give 0. Values whose milli-value exceeds `i64` saturate at `i64::MAX`
/// (KEDA keeps such a quantity exact, but `MilliValue()` cannot represent it; the HPA's reading of it is
/// undefined upstream).
pub fn metric_in_milli(v: f64) -> i64 {
    if v.is_nan() || v.is_infinite() || v < 0.0 {
        return 0;
    }
    let text = format!("{v:.3}");
    let digits: String = text.chars().filter(|c| *c != '.').collect();
    match digits.parse::<i128>() {
        Ok(m) => i64::try_from(m).unwrap_or(i64::MAX),
        Err(_) => i64::MAX,
    }
}

/// `Quantity.AsApproximateFloat64()` of `quantityFromFloat64(v)`: what KEDA's fallback uses as the
/// normalisation value of a target (`metricSpec.External.Target.AverageValue.AsApproximateFloat64()`), and
/// what `keda_scaler_metrics_value` reports.
///
/// `ParseQuantity("<int>.<3 digits>")` keeps an `int64Amount{digits, -3}` when the integer and fraction
/// digits (leading zeros dropped, at least one) number at most 18, and reads it back as
/// `digits × Pow10(-3)`. Longer values take the `inf.Dec` path, rounded to nano scale:
/// `float(digits × 10⁶) × Pow10(-9)`.
pub fn quantity_approx_f64(v: f64) -> f64 {
    if v.is_nan() || v.is_infinite() || v < 0.0 {
        return 0.0;
    }
    let text = format!("{v:.3}");
    let (int_part, frac) = text.split_once('.').unwrap_or((text.as_str(), ""));
    let int_trimmed = int_part.trim_start_matches('0');
    let num_len = if int_trimmed.is_empty() {
        1
    } else {
        int_trimmed.len()
    };
    let digits: String = int_trimmed.chars().chain(frac.chars()).collect();
    if num_len + frac.len() <= 18 {
        let m: i64 = digits.parse().unwrap_or(0);
        return m as f64 * 1e-3;
    }
    // inf.Dec path: unscaled digits at scale 3, rounded (exactly) to scale 9.
    match digits
        .parse::<i128>()
        .ok()
        .and_then(|m| m.checked_mul(1_000_000))
    {
        Some(nano) => nano as f64 * 1e-9,
        None => {
            // Beyond i128: parse the scaled digit string as a float, which is the same correctly rounded
            // conversion `big.Float.Float64()` makes.
            let scaled = format!("{digits}000000");
            scaled.parse::<f64>().unwrap_or(f64::INFINITY) * 1e-9
        }
    }
}

/// `Quantity.AsApproximateFloat64()` of a milli-quantity made with `resource.NewMilliQuantity(m, DecimalSI)`
/// (`int64Amount{m, -3}`): `m × Pow10(-3)`.
pub fn milli_approx_f64(milli: i64) -> f64 {
    if milli == 0 {
        return 0.0;
    }
    milli as f64 * 1e-3
}
