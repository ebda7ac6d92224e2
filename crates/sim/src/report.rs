//! Rendering a [`Run`]: the human summary, JSON, and the timeline CSV. All output is a pure function of the
//! run, so the same input gives byte-identical output.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};

use crate::duration::{format_human, format_secs};
use crate::run::{Row, Run};

/// How many replica changes the human summary lists.
const HUMAN_CHANGES: usize = 12;

/// How many events the human summary lists before pointing at `--format json`.
const HUMAN_EVENTS: usize = 30;

/// The JSON summary (pretty-printed, trailing newline). Serializing the summary does not fail in practice
/// (no maps with non-string keys; non-finite numbers become `null`); should it, the error is returned.
pub fn json(run: &Run) -> serde_json::Result<String> {
    let mut s = serde_json::to_string_pretty(&run.summary)?;
    s.push('\n');
    Ok(s)
}

fn num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v:.2}")
    }
}

/// The human summary.
pub fn human(run: &Run) -> String {
    let s = &run.summary;
    let mut o = String::new();
    let dur_ms = (s.duration_s * 1000.0).round() as i64;
    let _ = writeln!(o, "ScaledObject {} → {}", s.scaled_object, s.scale_target);
    match &s.hpa {
        Some(h) => {
            let _ = writeln!(
                o,
                "simulated {}: KEDA polls every {}s, HPA {} syncs every {}s",
                format_human(dur_ms),
                num(s.polling_interval_s),
                h,
                num(s.hpa_sync_period_s)
            );
        }
        None => {
            let _ = writeln!(
                o,
                "simulated {}: paused (no scale loop, no HPA)",
                format_human(dur_ms)
            );
        }
    }
    match s
        .proactive
        .as_ref()
        .map(|p| (p, &p.invalid, p.lead_s.zip(p.quantile).zip(p.margin_pct)))
    {
        Some((p, Some(why), _)) => {
            let _ = writeln!(
                o,
                "proactive policy {:?} is invalid; ran reactively, as the operator does until it is fixed: {why}",
                p.model
            );
        }
        Some((p, None, Some(((lead_s, quantile), margin_pct)))) => {
            let reads = p.reads() as f64;
            let pct = |n: u64| 100.0 * n as f64 / reads;
            let _ = writeln!(
                o,
                "proactive policy {} (lead {}s, quantile {} band, margin {}%): HPA reads answered with the forecast \
                 {:.1}%, the current value {:.1}%, reactive (no forecast) {:.1}%",
                p.model,
                num(lead_s),
                num(quantile),
                num(margin_pct),
                pct(p.forecast_won),
                pct(p.current_won),
                pct(p.reactive)
            );
            for n in &p.not_applied {
                let _ = writeln!(o, "  not applied to {n}");
            }
            if let Some(r) = &p.first_reactive_reason {
                let r = r.strip_prefix("reactive: ").unwrap_or(r);
                let _ = writeln!(o, "  first read without a forecast: {r}");
            }
        }
        // A valid policy always has its parameters.
        Some((_, None, None)) | None => {}
    }
    let _ = writeln!(o);
    if s.events.is_empty() {
        let _ = writeln!(o, "events: none");
    } else {
        let _ = writeln!(o, "events:");
        for e in s.events.iter().take(HUMAN_EVENTS) {
            let t = format_secs((e.t_s * 1000.0).round() as i64);
            let _ = writeln!(
                o,
                "  t={:<8} {:<7} {:<28} {}: {}",
                format!("{t}s"),
                e.kind,
                e.reason,
                e.object,
                e.message
            );
        }
        if s.events.len() > HUMAN_EVENTS {
            let _ = writeln!(
                o,
                "  … {} more (use --format json for all)",
                s.events.len() - HUMAN_EVENTS
            );
            let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
            for e in &s.events {
                *counts.entry(e.reason.as_str()).or_default() += 1;
            }
            let counts: Vec<String> = counts.iter().map(|(r, n)| format!("{n} {r}")).collect();
            let _ = writeln!(o, "  all {} events: {}", s.events.len(), counts.join(", "));
        }
    }
    let _ = writeln!(o);
    for (what, conds) in [
        ("ScaledObject", &s.scaled_object_conditions),
        ("HPA", &s.hpa_conditions),
    ] {
        if conds.is_empty() {
            continue;
        }
        let _ = writeln!(o, "{what} conditions at the end:");
        for c in conds {
            let line = format!(
                "  {:<15} {:<7} {:<28} {}",
                c.kind, c.status, c.reason, c.message
            );
            let _ = writeln!(o, "{}", line.trim_end());
        }
    }
    let _ = writeln!(o);
    let mut path = s.initial_replicas.to_string();
    for (t, r) in s.replica_changes.iter().take(HUMAN_CHANGES) {
        let _ = write!(
            path,
            " → {r} at {}s",
            format_secs((t * 1000.0).round() as i64)
        );
    }
    if s.replica_changes.len() > HUMAN_CHANGES {
        let _ = write!(path, " → … ({} changes in all)", s.replica_changes.len());
    }
    let _ = writeln!(o, "replicas over time: {path}");
    let _ = writeln!(
        o,
        "replicas: {} at start, {} at end, between {} and {}; {} scale action(s)",
        s.initial_replicas, s.final_replicas, s.min_replicas, s.max_replicas, s.scale_actions
    );
    let _ = writeln!(
        o,
        "pod-seconds: {} ({} ready)",
        num(s.pod_seconds),
        num(s.ready_pod_seconds)
    );
    if let Some(sc) = &s.scores {
        let _ = writeln!(
            o,
            "scores (demand = ceil(load / capacityPerPod), supply = ready pods, 1 s samples):\n  \
             under-provisioned {}s (τU {:.2}% of the time), θU {:.2}%, θO {:.2}%, τO {:.2}%, instability {:.2}%\n  \
             load served {:.2}%, oracle pod-seconds {}",
            num(sc.under_provisioned_s),
            sc.tau_u,
            sc.theta_u,
            sc.theta_o,
            sc.tau_o,
            sc.instability,
            sc.served_load_pct,
            num(sc.demand_pod_seconds)
        );
    }
    o
}

/// The timeline CSV header: `t,replicas,ready,desired,active,metric[,metric1,…]`.
pub fn csv_header(triggers: usize) -> String {
    let mut h = String::from("t,replicas,ready,desired,active,metric");
    for i in 1..triggers {
        let _ = write!(h, ",metric{i}");
    }
    h
}

fn csv_row(r: &Row) -> String {
    let mut line = format!(
        "{},{},{},{},{}",
        format_secs(r.t_ms),
        r.replicas,
        r.ready,
        r.desired.map(|d| d.to_string()).unwrap_or_default(),
        u8::from(r.active)
    );
    for m in &r.metrics {
        line.push(',');
        if let Some(v) = m {
            let _ = write!(line, "{v}");
        }
    }
    line
}

/// Write the timeline CSV (`t` in seconds; `active` is 1 or 0; a metric is empty while its query fails).
pub fn write_timeline(run: &Run, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "{}", csv_header(run.triggers))?;
    for r in run.rows.as_deref().unwrap_or_default() {
        writeln!(out, "{}", csv_row(r))?;
    }
    Ok(())
}
