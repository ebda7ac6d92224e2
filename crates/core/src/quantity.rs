//! Kubernetes `resource.Quantity`, as far as the engine needs it: parse, `MilliValue()`,
//! `AsApproximateFloat64()`, and the canonical string form of milli-values.
//!
//! The numbers must come out exactly as `k8s.io/apimachinery/pkg/api/resource` computes them, including its
//! quirks, because the HPA compares them with `<=` and multiplies them into replica counts:
//!
//! - `ParseQuantity` keeps short decimals (at most 18 significant digits, scale not below nano) as an
//!   `int64Amount` (`value × 10^scale`); everything else becomes an `inf.Dec` that is rounded *up* (away from
//!   zero) to nano precision, and binary-suffixed values above 2^63−1 are capped.
//! - `MilliValue()` rounds an `int64Amount` away from zero and, on overflow, returns whatever the upstream
//!   helpers return (a wrapped product, or 0) rather than saturating; the `inf.Dec` form rounds by truncating
//!   division plus one, and keeps only the low 64 bits of big results.
//! - `AsApproximateFloat64()` is `float64(unscaled) * math.Pow10(exponent)`, with Go's table-driven `Pow10`.
//!
//! Exponents written as `e<N>` are taken modulo 2^32 as upstream does (`int32(parsed)`); the arithmetic that
//! follows is done without further int32 wrap-around (upstream would need gigabytes of memory for such inputs).

use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// A parsed quantity. Keeps the text the user wrote (nothing the user gave is lost) and upstream's internal
/// representation of its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quantity {
    text: String,
    amount: Amount,
}

/// Upstream's two internal forms of a quantity.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Amount {
    /// `int64Amount`: `value × 10^scale`.
    Int { value: i64, scale: i32 },
    /// `infDecAmount`: `±unscaled × 10^(−scale)`.
    Dec {
        negative: bool,
        unscaled: Magnitude,
        scale: i64,
    },
}

/// A non-negative integer `digits × 10^zeros`, kept in decimal so that huge exponents stay cheap.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Magnitude {
    /// Decimal digits, most significant first, without leading zeros (empty means zero).
    digits: Vec<u8>,
    zeros: u64,
}

const MAX_INT64_DIGITS: &[u8] = b"9223372036854775807";

impl Magnitude {
    fn from_digits(text: &str) -> Magnitude {
        let digits: Vec<u8> = text
            .bytes()
            .skip_while(|&c| c == b'0')
            .map(|c| c - b'0')
            .collect();
        Magnitude { digits, zeros: 0 }
    }

    fn from_ascii(text: &[u8], zeros: u64) -> Magnitude {
        Magnitude {
            digits: text.iter().map(|c| c - b'0').collect(),
            zeros,
        }
    }

    fn is_zero(&self) -> bool {
        self.digits.is_empty()
    }

    /// Multiply by 2 in place.
    fn double(&mut self) {
        let mut carry = 0u8;
        for d in self.digits.iter_mut().rev() {
            let v = *d * 2 + carry;
            *d = v % 10;
            carry = v / 10;
        }
        if carry > 0 {
            self.digits.insert(0, carry);
        }
    }

    /// Add 1 in place.
    fn increment(&mut self) {
        // Materialize trailing zeros so the last digit can change.
        let z = usize::try_from(self.zeros).unwrap_or(usize::MAX);
        self.digits.extend(std::iter::repeat_n(0u8, z));
        self.zeros = 0;
        for d in self.digits.iter_mut().rev() {
            if *d == 9 {
                *d = 0;
            } else {
                *d += 1;
                return;
            }
        }
        self.digits.insert(0, 1);
    }

    /// Divide by `10^n`, truncating; returns whether the dropped remainder was non-zero.
    fn drop_digits(&mut self, n: u64) -> bool {
        if self.is_zero() {
            return false;
        }
        let from_zeros = n.min(self.zeros);
        self.zeros -= from_zeros;
        let rest = n - from_zeros;
        let len = self.digits.len() as u64;
        if rest >= len {
            let nonzero = self.digits.iter().any(|&d| d != 0);
            self.digits.clear();
            self.zeros = 0;
            return nonzero;
        }
        let keep = (len - rest) as usize;
        let nonzero = self.digits[keep..].iter().any(|&d| d != 0);
        self.digits.truncate(keep);
        nonzero
    }

    /// Number of decimal digits (0 for zero).
    fn len(&self) -> u128 {
        if self.is_zero() {
            0
        } else {
            self.digits.len() as u128 + u128::from(self.zeros)
        }
    }

    fn digit_at(&self, i: u128) -> u8 {
        self.digits.get(i as usize).copied().unwrap_or(0)
    }

    fn cmp(&self, other: &Magnitude) -> Ordering {
        match self.len().cmp(&other.len()) {
            Ordering::Equal => {}
            o => return o,
        }
        let shown = (self.digits.len().max(other.digits.len())) as u128;
        for i in 0..shown.min(self.len()) {
            match self.digit_at(i).cmp(&other.digit_at(i)) {
                Ordering::Equal => {}
                o => return o,
            }
        }
        Ordering::Equal
    }

    /// The low 64 bits (what `big.Int.Int64()` keeps of the magnitude).
    fn low64(&self) -> u64 {
        let mut v: u64 = 0;
        for &d in &self.digits {
            v = v.wrapping_mul(10).wrapping_add(u64::from(d));
        }
        if self.zeros >= 64 {
            // 10^64 is a multiple of 2^64.
            return 0;
        }
        let mut p: u64 = 1;
        for _ in 0..self.zeros {
            p = p.wrapping_mul(10);
        }
        v.wrapping_mul(p)
    }

    /// The value as the nearest `f64` (`big.Float.SetInt(x).Float64()`).
    fn to_f64(&self) -> f64 {
        if self.is_zero() {
            return 0.0;
        }
        let mut s: String = self.digits.iter().map(|d| char::from(b'0' + d)).collect();
        s.push('e');
        s.push_str(&self.zeros.to_string());
        s.parse::<f64>().unwrap_or(f64::INFINITY)
    }
}

/// Go's `math.Pow10(n)`: table lookups, `+Inf` above 308, `0` below −323.
pub(crate) fn go_pow10(n: i64) -> f64 {
    const TAB: [f64; 32] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
        1e17, 1e18, 1e19, 1e20, 1e21, 1e22, 1e23, 1e24, 1e25, 1e26, 1e27, 1e28, 1e29, 1e30, 1e31,
    ];
    const POS32: [f64; 10] = [
        1e0, 1e32, 1e64, 1e96, 1e128, 1e160, 1e192, 1e224, 1e256, 1e288,
    ];
    const NEG32: [f64; 11] = [
        1e-0, 1e-32, 1e-64, 1e-96, 1e-128, 1e-160, 1e-192, 1e-224, 1e-256, 1e-288, 1e-320,
    ];
    if (0..=308).contains(&n) {
        let n = n as usize;
        return POS32[n / 32] * TAB[n % 32];
    }
    if (-323..=0).contains(&n) {
        let m = (-n) as usize;
        return NEG32[m / 32] / TAB[m % 32];
    }
    if n > 0 { f64::INFINITY } else { 0.0 }
}

/// Go's `int64(f)` on amd64 (`CVTTSD2SQ`): truncation, and `math.MinInt64` for NaN or out-of-range values.
pub(crate) fn go_f64_to_i64(f: f64) -> i64 {
    let t = f.trunc();
    if t.is_nan() || !(-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&t) {
        i64::MIN
    } else {
        t as i64
    }
}

/// The pieces `parseQuantityString` splits a quantity into.
struct Parts<'a> {
    positive: bool,
    /// The numeric part as written, with its sign (what `inf.Dec.SetString` sees).
    value: &'a str,
    /// Integer digits without leading zeros (`"0"` when there are none).
    num: &'a str,
    denom: &'a str,
    suffix: &'a str,
}

/// Port of `parseQuantityString` (`resource/quantity.go`).
fn split_quantity(s: &str) -> Option<Parts<'_>> {
    let b = s.as_bytes();
    let end = b.len();
    let mut pos = 0;
    let mut positive = true;
    if pos < end {
        match b[0] {
            b'-' => {
                positive = false;
                pos += 1;
            }
            b'+' => pos += 1,
            _ => {}
        }
    }
    // Leading zeros; a string of nothing but zeros is 0.
    loop {
        if pos >= end {
            return Some(Parts {
                positive,
                value: "0",
                num: "0",
                denom: "",
                suffix: "",
            });
        }
        if b[pos] == b'0' {
            pos += 1;
        } else {
            break;
        }
    }
    let num_start = pos;
    while pos < end && b[pos].is_ascii_digit() {
        pos += 1;
    }
    if pos >= end {
        return Some(Parts {
            positive,
            value: s,
            num: &s[num_start..],
            denom: "",
            suffix: "",
        });
    }
    let num = if pos == num_start {
        "0"
    } else {
        &s[num_start..pos]
    };
    let mut denom = "";
    if b[pos] == b'.' {
        pos += 1;
        let denom_start = pos;
        while pos < end && b[pos].is_ascii_digit() {
            pos += 1;
        }
        if pos >= end {
            return Some(Parts {
                positive,
                value: s,
                num,
                denom: &s[denom_start..],
                suffix: "",
            });
        }
        denom = &s[denom_start..pos];
    }
    let value = &s[..pos];
    let suffix_start = pos;
    while pos < end && b"eEinumkKMGTP".contains(&b[pos]) {
        pos += 1;
    }
    if pos < end && (b[pos] == b'-' || b[pos] == b'+') {
        pos += 1;
    }
    while pos < end && b[pos].is_ascii_digit() {
        pos += 1;
    }
    if pos < end {
        return None;
    }
    Some(Parts {
        positive,
        value,
        num,
        denom,
        suffix: &s[suffix_start..],
    })
}

/// How a suffix scales the number: `(base, exponent, binary)` (`suffixHandler.interpret`).
fn interpret_suffix(suffix: &str) -> Option<(u32, i32, bool)> {
    let dec = |e| Some((10, e, false));
    let bin = |e| Some((2, e, true));
    match suffix {
        "" => dec(0),
        "n" => dec(-9),
        "u" => dec(-6),
        "m" => dec(-3),
        "k" => dec(3),
        "M" => dec(6),
        "G" => dec(9),
        "T" => dec(12),
        "P" => dec(15),
        "E" => dec(18),
        "Ki" => bin(10),
        "Mi" => bin(20),
        "Gi" => bin(30),
        "Ti" => bin(40),
        "Pi" => bin(50),
        "Ei" => bin(60),
        s if s.len() > 1 && (s.starts_with('e') || s.starts_with('E')) => {
            // `strconv.ParseInt(s[1:], 10, 64)`, then `int32(parsed)` (wrapping).
            let parsed: i64 = s[1..].parse().ok()?;
            Some((10, parsed as i32, false))
        }
        _ => None,
    }
}

/// `int64Multiply`: `a*b` and whether it did not overflow (with upstream's imperfect check).
fn go_int64_multiply(a: i64, b: i64) -> (i64, bool) {
    if a == 0 || b == 0 || a == 1 || b == 1 {
        return (a.wrapping_mul(b), true);
    }
    if a == i64::MIN || b == i64::MIN {
        return (0, false);
    }
    let c = a.wrapping_mul(b);
    (c, c.wrapping_div(b) == a)
}

/// `int64MultiplyScale` (b > 1): `a*b` and whether it did not overflow.
fn go_int64_multiply_scale(a: i64, b: i64) -> (i64, bool) {
    if a == 0 || a == 1 {
        return (a.wrapping_mul(b), true);
    }
    if a == i64::MIN && b != 1 {
        return (0, false);
    }
    let c = a.wrapping_mul(b);
    (c, c.wrapping_div(b) == a)
}

/// `positiveScaleInt64(base, scale)` with its result taken regardless of the overflow flag, as
/// `Quantity.ScaledValue` does: the fixed-factor cases return the wrapped product, the generic loop returns 0.
fn positive_scale_i64(base: i64, scale: i32) -> i64 {
    match scale {
        0 => base,
        1..=3 => {
            // int64MultiplyScale10/100/1000
            let factor = 10i64.pow(scale as u32);
            if base == 0 || base == 1 {
                base * factor
            } else if base == i64::MIN {
                0
            } else {
                base.wrapping_mul(factor)
            }
        }
        6 => go_int64_multiply_scale(base, 1_000_000).0,
        9 => go_int64_multiply_scale(base, 1_000_000_000).0,
        _ => {
            if base == 0 {
                return 0;
            }
            let mut value = base;
            // A negative scale ("undefined" upstream) runs the loop zero times.
            for _ in 0..scale.max(0) {
                let (v, ok) = go_int64_multiply_scale(value, 10);
                if !ok {
                    return 0;
                }
                value = v;
            }
            value
        }
    }
}

/// `negativeScaleInt64(base, scale)`: divide by `10^scale`, rounding away from zero.
fn negative_scale_i64(base: i64, scale: i32) -> i64 {
    if scale == 0 {
        return base;
    }
    let mut value = base;
    let mut fraction = false;
    for _ in 0..scale.max(0) {
        if !fraction && value % 10 != 0 {
            fraction = true;
        }
        value /= 10;
        if value == 0 {
            if fraction {
                return if base > 0 { 1 } else { -1 };
            }
            return 0;
        }
    }
    if fraction {
        if base > 0 {
            value += 1;
        } else {
            value -= 1;
        }
    }
    value
}

/// `scaledValue(unscaled, scale, newScale)` (`resource/scale_int.go`) for the `inf.Dec` form.
fn dec_scaled_value(negative: bool, unscaled: &Magnitude, scale: i64, new_scale: i64) -> i64 {
    let low = unscaled.low64();
    let as_int64 = if negative {
        low.wrapping_neg() as i64
    } else {
        low as i64
    };
    let dif = scale - new_scale;
    if dif == 0 {
        return as_int64;
    }
    if dif < 0 {
        return as_int64.wrapping_mul(go_f64_to_i64(go_pow10(-dif)));
    }
    let max = Magnitude::from_ascii(MAX_INT64_DIGITS, 0);
    let below_max = negative || unscaled.cmp(&max) == Ordering::Less;
    if below_max && dif < 19 {
        let divide = go_f64_to_i64(go_pow10(dif));
        let result = as_int64.wrapping_div(divide);
        let rem = as_int64.wrapping_rem(divide);
        return if rem != 0 {
            result.wrapping_add(1)
        } else {
            result
        };
    }
    // big.Int.DivMod (Euclidean); the magnitude here is positive.
    let mut q = unscaled.clone();
    let rem = q.drop_digits(dif as u64);
    let result = q.low64() as i64;
    if rem { result.wrapping_add(1) } else { result }
}

impl Quantity {
    /// Parse a quantity string (`"100m"`, `"0.05"`, `"1Ki"`, `"1e3"`, `"-2"`), as `ParseQuantity` does.
    /// Surrounding whitespace is ignored (as `Quantity.UnmarshalJSON` does).
    pub fn parse(s: &str) -> Result<Quantity> {
        let err = |reason: &str| Error::Quantity {
            value: s.to_string(),
            reason: reason.to_string(),
        };
        let t = s.trim();
        if t.is_empty() {
            return Err(err("empty"));
        }
        let done = |amount| {
            Ok(Quantity {
                text: t.to_string(),
                amount,
            })
        };
        if t == "0" {
            return done(Amount::Int { value: 0, scale: 0 });
        }
        let parts = split_quantity(t).ok_or_else(|| {
            err("expected a number with an optional suffix (n u m k M G T P E Ki Mi Gi Ti Pi Ei or an exponent)")
        })?;
        let (base, exponent, binary) = interpret_suffix(parts.suffix).ok_or_else(|| {
            err("unknown suffix (expected one of n u m k M G T P E Ki Mi Gi Ti Pi Ei or an exponent)")
        })?;

        // Fast path: the value fits an int64Amount.
        let digits = parts.num.len() + parts.denom.len();
        let (precision, mut scale, mantissa): (i64, i32, i64) = if !binary {
            (18 - digits as i64, exponent, 1)
        } else if exponent >= 0 && parts.denom.is_empty() {
            let approx_digits = (exponent as f32 * 3.0 / 10.0) as i64;
            (
                15 - parts.num.len() as i64 - approx_digits - 1,
                0,
                1i64 << exponent,
            )
        } else {
            (-1, 0, 1)
        };
        if precision >= 0 {
            scale = scale.wrapping_sub(parts.denom.len() as i32);
            if scale >= -9 {
                let shifted = format!("{}{}", parts.num, parts.denom);
                let value: i64 = shifted
                    .parse()
                    .map_err(|_| err("unable to parse numeric part of quantity"))?;
                let (result, ok) = go_int64_multiply(value, mantissa);
                if ok {
                    let value = if parts.positive {
                        result
                    } else {
                        result.wrapping_neg()
                    };
                    return done(Amount::Int { value, scale });
                }
            }
        }

        // Slow path: inf.Dec.
        let body = parts.value.trim_start_matches(['+', '-']);
        let (int_part, frac_part) = body.split_once('.').unwrap_or((body, ""));
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(err("unable to parse numeric part of quantity"));
        }
        let mut unscaled = Magnitude::from_digits(&format!("{int_part}{frac_part}"));
        let mut dec_scale = frac_part.len() as i64;
        if base == 10 {
            dec_scale -= i64::from(exponent);
        } else {
            for _ in 0..exponent {
                unscaled.double();
            }
        }
        let negative = parts.value.starts_with('-') && !unscaled.is_zero();
        if !unscaled.is_zero() {
            // Round up (away from zero) to nano precision: inf scale 9.
            if dec_scale > 9 {
                if unscaled.drop_digits((dec_scale - 9) as u64) {
                    unscaled.increment();
                }
            } else {
                unscaled.zeros += (9 - dec_scale) as u64;
            }
            dec_scale = 9;
        }
        if binary {
            let cap = Magnitude::from_ascii(MAX_INT64_DIGITS, 9);
            if unscaled.cmp(&cap) == Ordering::Greater {
                unscaled = Magnitude::from_ascii(MAX_INT64_DIGITS, 0);
                dec_scale = 0;
            }
        }
        done(Amount::Dec {
            negative,
            unscaled,
            scale: dec_scale,
        })
    }

    /// A quantity of `milli` thousandths, written in canonical form (`resource.NewMilliQuantity`).
    pub fn from_milli(milli: i64) -> Quantity {
        Quantity {
            text: format_milli(milli),
            amount: Amount::Int {
                value: milli,
                scale: -3,
            },
        }
    }

    /// The text as written by the user.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// `Quantity.MilliValue()`: the value in thousandths, rounded away from zero, with upstream's overflow
    /// behaviour (see the module documentation).
    pub fn milli_value(&self) -> i64 {
        match &self.amount {
            Amount::Int { value, scale } => {
                // int64Amount.AsScaledInt64(Milli)
                let milli: i32 = -3;
                if *scale < milli {
                    negative_scale_i64(*value, milli.wrapping_sub(*scale))
                } else {
                    positive_scale_i64(*value, scale.wrapping_sub(milli))
                }
            }
            Amount::Dec {
                negative,
                unscaled,
                scale,
            } => dec_scaled_value(*negative, unscaled, *scale, 3),
        }
    }

    /// `Quantity.AsApproximateFloat64()`.
    pub fn as_f64(&self) -> f64 {
        let (base, exponent) = match &self.amount {
            Amount::Int { value, scale } => (*value as f64, i64::from(*scale)),
            Amount::Dec {
                negative,
                unscaled,
                scale,
            } => {
                let b = unscaled.to_f64();
                (if *negative { -b } else { b }, -*scale)
            }
        };
        if exponent == 0 {
            return base;
        }
        base * go_pow10(exponent)
    }
}

/// The canonical decimal-SI string of a milli-value, as `resource.NewMilliQuantity(v, DecimalSI).String()`
/// prints it: `1500m`, `2`, `1k`, `100500m`.
pub fn format_milli(milli: i64) -> String {
    if milli == 0 {
        return "0".to_string();
    }
    // Strip factors of 1000 while the mantissa stays an integer; the exponent picks the suffix.
    let mut m = i128::from(milli);
    let mut exp = -3i32;
    while m % 1000 == 0 && exp < 18 {
        m /= 1000;
        exp += 3;
    }
    let suffix = match exp {
        -3 => "m",
        0 => "",
        3 => "k",
        6 => "M",
        9 => "G",
        12 => "T",
        15 => "P",
        _ => "E",
    };
    format!("{m}{suffix}")
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for Quantity {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        // The API server accepts a quantity as a JSON string or number.
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            S(String),
            I(i64),
            F(f64),
        }
        let text = match Raw::deserialize(d)? {
            Raw::S(s) => s,
            Raw::I(i) => i.to_string(),
            Raw::F(f) => format!("{f}"),
        };
        Quantity::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// As the API server's OpenAPI gives `resource.Quantity`: an integer or a string matching the quantity
/// pattern (`x-kubernetes-int-or-string`).
#[cfg(feature = "schema")]
impl schemars::JsonSchema for Quantity {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Quantity".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "anyOf": [{ "type": "integer" }, { "type": "string" }],
            "pattern": crate::spec::crd::QUANTITY_PATTERN,
            "x-kubernetes-int-or-string": true,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn milli(s: &str) -> i64 {
        Quantity::parse(s).unwrap().milli_value()
    }

    fn approx(s: &str) -> f64 {
        Quantity::parse(s).unwrap().as_f64()
    }

    #[test]
    fn milli_value_of_ordinary_quantities() {
        assert_eq!(milli("100m"), 100);
        assert_eq!(milli("0.05"), 50);
        assert_eq!(milli("1"), 1000);
        assert_eq!(milli("1.5"), 1500);
        assert_eq!(milli("2222m"), 2222);
        assert_eq!(milli("6666m"), 6666);
        assert_eq!(milli("14.4"), 14400);
        assert_eq!(milli("5k"), 5_000_000);
        assert_eq!(milli("5M"), 5_000_000_000);
        assert_eq!(milli("5G"), 5_000_000_000_000);
        assert_eq!(milli("1Ki"), 1_024_000);
        assert_eq!(milli("5Ki"), 5_120_000);
        assert_eq!(milli("1e3"), 1_000_000);
        assert_eq!(milli("1E3"), 1_000_000);
        assert_eq!(milli("1e-3"), 1);
        assert_eq!(milli("+2"), 2000);
        assert_eq!(milli("-2"), -2000);
        assert_eq!(milli("0"), 0);
        assert_eq!(milli("000"), 0);
        assert_eq!(milli("007"), 7000);
    }

    #[test]
    fn milli_value_rounds_away_from_zero() {
        assert_eq!(milli("1.5m"), 2);
        assert_eq!(milli("1.0001m"), 2);
        assert_eq!(milli("0.1m"), 1);
        assert_eq!(milli("1n"), 1);
        assert_eq!(milli("1u"), 1);
        assert_eq!(milli("999u"), 1);
        assert_eq!(milli("1001u"), 2);
        // Negative values go further from zero (the old port rounded towards +inf: -1 and 0).
        assert_eq!(milli("-1.5m"), -2);
        assert_eq!(milli("-0.1m"), -1);
        assert_eq!(milli("-1001u"), -2);
    }

    #[test]
    fn milli_value_of_values_beyond_nano_precision_goes_through_inf_dec() {
        // Scale below nano: rounded up to 1n at parse time, then ceil to 1m.
        assert_eq!(milli("0.0000000001"), 1);
        // Negative: -1n, and scaledValue's truncating division "+1" makes it +1 (upstream quirk).
        assert_eq!(milli("-0.0000000001"), 1);
        // 19 significant digits: inf.Dec path, exact.
        assert_eq!(milli("1234567.890123456789"), 1_234_567_891);
        assert_eq!(milli("1.5Ki"), 1_536_000);
        assert_eq!(milli("0.5Ki"), 512_000);
    }

    #[test]
    fn milli_value_overflow_matches_upstream_not_saturation() {
        // int64Amount{1, 18}: the generic loop overflows and ScaledValue returns 0.
        assert_eq!(milli("1E"), 0);
        assert_eq!(milli("10P"), 0);
        assert_eq!(milli("1e30"), 0);
        // Still fits.
        assert_eq!(milli("9P"), 9_000_000_000_000_000_000);
        assert_eq!(milli("1P"), 1_000_000_000_000_000_000);
        // int64MultiplyScale1000 returns the wrapped product.
        assert_eq!(
            milli("90000000000000000"),
            90_000_000_000_000_000i64.wrapping_mul(1000)
        );
        // inf.Dec with a magnitude above MaxInt64: Euclidean DivMod, then the low 64 bits.
        let big: u128 = 12_345_678_901_234_567_890_000;
        assert_eq!(milli("12345678901234567890"), (big as u64) as i64);
        // MaxInt64 written out has 19 digits: inf.Dec, low 64 bits of MaxInt64*1000.
        assert_eq!(milli("9223372036854775807"), i64::MAX.wrapping_mul(1000));
        // Binary values above MaxInt64 are capped at MaxInt64 (scale 0), then multiplied by 1000 (wrapping).
        assert_eq!(milli("16Ei"), i64::MAX.wrapping_mul(1000));
    }

    #[test]
    fn parse_accepts_what_upstream_accepts() {
        assert_eq!(milli("."), 0);
        assert_eq!(milli("-"), 0);
        assert_eq!(milli(".5"), 500);
        assert_eq!(milli("1."), 1000);
        assert_eq!(milli("1e+2"), 100_000);
        assert_eq!(milli(" 250m "), 250);
        // e<N> is taken modulo 2^32: 4294967296 → 0.
        assert_eq!(milli("3e4294967296"), 3000);
        for bad in [
            "", "abc", "1x", "1ki", "1e", "1m5", "1.5.5", "1 m", "--1", "1e1.5",
        ] {
            assert!(Quantity::parse(bad).is_err(), "{bad:?} should not parse");
        }
    }

    #[test]
    fn approximate_float_uses_go_pow10() {
        assert_eq!(approx("0.05"), 0.05);
        assert_eq!(approx("0.1"), 0.1);
        assert_eq!(approx("0.36"), 0.36);
        assert_eq!(approx("100m"), 0.1);
        assert_eq!(approx("1"), 1.0);
        assert_eq!(approx("2"), 2.0);
        assert_eq!(approx("1.5Ki"), 1536.0);
        assert_eq!(approx("-0.5"), -0.5);
        // 5 * Pow10(-2) is computed as 5 * 0.01, not parsed as the decimal 0.05 — here both agree, but not always:
        assert_eq!(approx("3e-1"), 3.0 * (1.0 / 10.0));
        assert_eq!(approx("7e-3"), 7.0 * (1.0 / 1000.0));
        // Zero times Pow10(400) = 0 * +Inf = NaN, exactly as upstream.
        assert!(approx("0e400").is_nan());
        assert_eq!(approx("1e400"), f64::INFINITY);
    }

    #[test]
    fn go_pow10_table() {
        assert_eq!(go_pow10(0), 1.0);
        assert_eq!(go_pow10(-2), 0.01);
        assert_eq!(go_pow10(22), 1e22);
        assert_eq!(go_pow10(308), 1e308);
        assert_eq!(go_pow10(309), f64::INFINITY);
        assert_eq!(go_pow10(-324), 0.0);
    }

    #[test]
    fn format_milli_is_canonical() {
        assert_eq!(format_milli(0), "0");
        assert_eq!(format_milli(1500), "1500m");
        assert_eq!(format_milli(2000), "2");
        assert_eq!(format_milli(10_000), "10");
        assert_eq!(format_milli(1_000_000), "1k");
        assert_eq!(format_milli(100_500), "100500m");
        assert_eq!(format_milli(-1500), "-1500m");
        assert_eq!(format_milli(i64::MIN), "-9223372036854775808m");
        assert_eq!(Quantity::from_milli(2867).as_str(), "2867m");
        assert_eq!(Quantity::from_milli(2867).milli_value(), 2867);
    }
}
