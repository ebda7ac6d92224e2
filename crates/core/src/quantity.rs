//! Kubernetes `resource.Quantity`, as far as the engine needs it: parse, `MilliValue()`,
//! `AsApproximateFloat64()`, and the canonical string form of milli-values.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// A parsed quantity. Keeps the text the user wrote (nothing the user gave is lost) and its exact value as
/// `mantissa × 10^exp10 × 2^exp2`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quantity {
    text: String,
    mantissa: i128,
    exp10: i32,
    exp2: u32,
}

impl Quantity {
    /// Parse a quantity string (`"100m"`, `"0.05"`, `"1Ki"`, `"1e3"`, `"-2"`).
    pub fn parse(s: &str) -> Result<Quantity> {
        let err = |reason: &str| Error::Quantity {
            value: s.to_string(),
            reason: reason.to_string(),
        };
        let t = s.trim();
        if t.is_empty() {
            return Err(err("empty"));
        }
        let (neg, body) = match t.as_bytes()[0] {
            b'-' => (true, &t[1..]),
            b'+' => (false, &t[1..]),
            _ => (false, t),
        };
        let num_end = body
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(body.len());
        let (num, suffix) = body.split_at(num_end);
        if num.is_empty() || num == "." || num.matches('.').count() > 1 {
            return Err(err("expected a number such as 1, 0.5 or 100m"));
        }
        let (int_part, frac_part) = num.split_once('.').unwrap_or((num, ""));
        let mut mantissa: i128 = 0;
        for c in int_part.chars().chain(frac_part.chars()) {
            mantissa = mantissa
                .checked_mul(10)
                .and_then(|m| m.checked_add(i128::from(c as u8 - b'0')))
                .ok_or_else(|| err("too many digits"))?;
        }
        let mut exp10 = -(frac_part.len() as i32);
        let mut exp2 = 0u32;
        match suffix {
            "" => {}
            "n" => exp10 -= 9,
            "u" => exp10 -= 6,
            "m" => exp10 -= 3,
            "k" => exp10 += 3,
            "M" => exp10 += 6,
            "G" => exp10 += 9,
            "T" => exp10 += 12,
            "P" => exp10 += 15,
            "E" => exp10 += 18,
            "Ki" => exp2 = 10,
            "Mi" => exp2 = 20,
            "Gi" => exp2 = 30,
            "Ti" => exp2 = 40,
            "Pi" => exp2 = 50,
            "Ei" => exp2 = 60,
            s if s.starts_with(['e', 'E']) => {
                let e: i32 = s[1..].parse().map_err(|_| err("invalid exponent"))?;
                if !(-100..=100).contains(&e) {
                    return Err(err("exponent out of range"));
                }
                exp10 += e;
            }
            _ => {
                return Err(err(
                    "unknown suffix (expected one of n u m k M G T P E Ki Mi Gi Ti Pi Ei or an exponent)",
                ));
            }
        }
        if neg {
            mantissa = -mantissa;
        }
        Ok(Quantity {
            text: t.to_string(),
            mantissa,
            exp10,
            exp2,
        })
    }

    /// A quantity of `milli` thousandths, written in canonical form.
    pub fn from_milli(milli: i64) -> Quantity {
        let text = format_milli(milli);
        Quantity {
            text,
            mantissa: i128::from(milli),
            exp10: -3,
            exp2: 0,
        }
    }

    /// The text as written by the user.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// `Quantity.MilliValue()`: the value in thousandths, rounded up (towards +∞), saturating at the i64 range.
    pub fn milli_value(&self) -> i64 {
        let mut v: i128 = self.mantissa;
        for _ in 0..self.exp2 {
            v = v.saturating_mul(2);
        }
        let e = self.exp10 + 3;
        if e >= 0 {
            for _ in 0..e {
                v = v.saturating_mul(10);
            }
        } else {
            let div = 10i128.checked_pow((-e) as u32);
            v = match div {
                Some(d) => {
                    let q = v.div_euclid(d);
                    if v.rem_euclid(d) != 0 { q + 1 } else { q }
                }
                None => {
                    if v > 0 {
                        1
                    } else {
                        0
                    }
                }
            };
        }
        v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
    }

    /// `Quantity.AsApproximateFloat64()`.
    pub fn as_f64(&self) -> f64 {
        (self.mantissa as f64) * 10f64.powi(self.exp10) * 2f64.powi(self.exp2 as i32)
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
