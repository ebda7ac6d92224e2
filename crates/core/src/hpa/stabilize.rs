//! Stabilization windows: the legacy `stabilizeRecommendation` and `stabilizeRecommendationWithBehaviors`
//! (`horizontal.go`).
//!
//! Both keep the *unstabilized* recommendations in a list that never grows past what the windows need: an
//! entry older than the window(s) is overwritten (the last such one) instead of appending.

use super::api::ScalingRules;
use crate::time::Timestamp;

/// `timestampedRecommendation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recommendation {
    pub replicas: i32,
    pub at: Timestamp,
}

/// Port of `stabilizeRecommendation` (legacy path, `behavior == nil`): returns the maximum of `prenormalized`
/// and every recommendation not older than `window_ms` (one exactly at the cutoff counts), then records
/// `prenormalized`.
pub fn stabilize_recommendation(
    recommendations: &mut Vec<Recommendation>,
    now: Timestamp,
    window_ms: i64,
    prenormalized: i32,
) -> i32 {
    let cutoff = now.plus_millis(-window_ms);
    let mut max_recommendation = prenormalized;
    let mut old_index = None;
    for (i, rec) in recommendations.iter().enumerate() {
        if rec.at.before(cutoff) {
            old_index = Some(i);
        } else if rec.replicas > max_recommendation {
            max_recommendation = rec.replicas;
        }
    }
    let new = Recommendation {
        replicas: prenormalized,
        at: now,
    };
    match old_index {
        Some(i) => recommendations[i] = new,
        None => recommendations.push(new),
    }
    max_recommendation
}

/// `NormalizationArg`: what the behavior path needs besides the controller state.
#[derive(Debug, Clone, Copy)]
pub struct NormalizationArg<'a> {
    /// Defaulted scale-up rules.
    pub scale_up: &'a ScalingRules,
    /// Defaulted scale-down rules with the stabilization window filled in.
    pub scale_down: &'a ScalingRules,
    pub min_replicas: i32,
    pub max_replicas: i32,
    pub current_replicas: i32,
    pub desired_replicas: i32,
}

/// A normalized replica count with the reason and message upstream attaches to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Normalized {
    pub replicas: i32,
    pub reason: &'static str,
    pub message: &'static str,
}

/// Port of `stabilizeRecommendationWithBehaviors`: scale up only to the minimum of the recommendations newer
/// than the scale-up window, scale down only to the maximum of those newer than the scale-down window
/// (strictly newer: one exactly at a cutoff does not count), then record the unstabilized desired count.
///
/// A window that is unset reads as 0 (upstream dereferences it; it is always set after defaulting).
pub fn stabilize_recommendation_with_behaviors(
    recommendations: &mut Vec<Recommendation>,
    now: Timestamp,
    arg: &NormalizationArg<'_>,
) -> Normalized {
    let up_window = arg.scale_up.stabilization_window_seconds.unwrap_or(0);
    let down_window = arg.scale_down.stabilization_window_seconds.unwrap_or(0);
    let up_cutoff = now.minus_secs(i64::from(up_window));
    let down_cutoff = now.minus_secs(i64::from(down_window));

    let mut up_recommendation = arg.desired_replicas;
    let mut down_recommendation = arg.desired_replicas;
    let mut old_index = None;
    for (i, rec) in recommendations.iter().enumerate() {
        if rec.at.after(up_cutoff) {
            up_recommendation = up_recommendation.min(rec.replicas);
        }
        if rec.at.after(down_cutoff) {
            down_recommendation = down_recommendation.max(rec.replicas);
        }
        if rec.at.before(up_cutoff) && rec.at.before(down_cutoff) {
            old_index = Some(i);
        }
    }

    let mut recommendation = arg.current_replicas;
    if recommendation < up_recommendation {
        recommendation = up_recommendation;
    }
    if recommendation > down_recommendation {
        recommendation = down_recommendation;
    }

    let new = Recommendation {
        replicas: arg.desired_replicas,
        at: now,
    };
    match old_index {
        Some(i) => recommendations[i] = new,
        None => recommendations.push(new),
    }

    if arg.desired_replicas >= arg.current_replicas {
        Normalized {
            replicas: recommendation,
            reason: "ScaleUpStabilized",
            message: "recent recommendations were lower than current one, applying the lowest recent recommendation",
        }
    } else {
        Normalized {
            replicas: recommendation,
            reason: "ScaleDownStabilized",
            message: "recent recommendations were higher than current one, applying the highest recent recommendation",
        }
    }
}
