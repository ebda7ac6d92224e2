//! `prescale bench`'s text and markdown tables (the markdown is what docs/benchmarks.md holds); `backtest`
//! prints the text table too.

use crate::bench::{self, Report, TraceReport};

fn opt(v: Option<f64>, decimals: usize) -> String {
    match v {
        Some(x) if x.is_finite() => format!("{x:.decimals$}"),
        Some(_) => "inf".into(),
        None => "-".into(),
    }
}

/// One policy's row, formatted once for both the terminal table and the markdown table: policy,
/// pod_seconds, vs keda-hpa (%), vs oracle (%), under_s, tau_u, theta_u, tau_o, theta_o, instability,
/// actions, speedup, forecast won (%).
fn cells(r: &bench::PolicyResult) -> [String; 13] {
    [
        r.policy.clone(),
        format!("{:.0}", r.pod_seconds),
        opt(r.pod_seconds_vs_keda_pct, 1),
        opt(r.pod_seconds_vs_oracle_pct, 1),
        format!("{:.0}", r.under_provisioned_s),
        format!("{:.3}", r.tau_u),
        format!("{:.3}", r.theta_u),
        format!("{:.2}", r.tau_o),
        format!("{:.2}", r.theta_o),
        format!("{:.3}", r.instability),
        r.scale_actions.to_string(),
        opt(r.elastic_speedup, 2),
        opt(r.forecast_won_pct, 1),
    ]
}

fn trace_table(t: &TraceReport) -> String {
    let mut s = format!(
        "{} ({} rows of {} s, {}; peak {} → capacityPerPod {:.4}, threshold {:.4})\n",
        t.trace,
        t.rows,
        t.step_s,
        prescale_core::duration::format_human((t.duration_s * 1000.0) as i64),
        t.peak,
        t.capacity_per_pod,
        t.threshold
    );
    s.push_str(&format!(
        "  {:<24} {:>14} {:>8} {:>9} {:>10} {:>7} {:>7} {:>7} {:>7} {:>7} {:>8} {:>8} {:>8}\n",
        "policy",
        "pod_seconds",
        "vs keda",
        "vs oracle",
        "under_s",
        "tau_u",
        "theta_u",
        "tau_o",
        "theta_o",
        "instab",
        "actions",
        "speedup",
        "fcst won"
    ));
    for r in &t.results {
        let c = cells(r);
        s.push_str(&format!(
            "  {:<24} {:>14} {:>7}% {:>8}% {:>10} {:>7} {:>7} {:>7} {:>7} {:>7} {:>8} {:>8} {:>7}%\n",
            c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10], c[11], c[12],
        ));
    }
    if let Some(g) = &t.targets {
        let mark = |ok: bool| if ok { "yes" } else { "NO" };
        s.push_str(&format!(
            "  targets ({}): tau_u <= 50% of keda-hpa: {}; pod_seconds <= 110% of keda-hpa: {}; <= 125% of oracle: {}; \
             no proactive policy under-provisioned longer than keda-hpa: {}\n",
            g.best,
            mark(g.tau_u_halved),
            mark(g.pod_seconds_within_110pct_of_keda),
            mark(g.pod_seconds_within_125pct_of_oracle),
            mark(g.never_worse_than_keda),
        ));
    }
    s
}

/// The terminal table.
pub fn table<W>(report: &Report<W>) -> String {
    let mut s = String::new();
    for t in &report.traces {
        s.push_str(&trace_table(t));
        s.push('\n');
    }
    s.push_str(
        "tau_u/tau_o: % of time under/over-provisioned; theta_u/theta_o: % of missing/surplus pods relative to \
         demand; instab: % of time supply and demand move apart; speedup: elastic speedup vs keda-hpa (> 1 is \
         better); fcst won: % of HPA reads answered with the forecast.\n",
    );
    s
}

fn yes(ok: bool) -> &'static str {
    if ok { "yes" } else { "**no**" }
}

/// Markdown tables of the report; plots (written with `--plot DIR`) are linked relative to `DIR`'s name.
pub fn markdown(report: &Report, plots: Option<&std::path::Path>) -> String {
    let w = &report.workload;
    let mut s = format!(
        "Workload per trace: capacityPerPod = peak / {}, threshold = {}, minReplicaCount {}, maxReplicaCount \
         {}, pollingInterval {} s, pods ready {} s after creation, HPA without behavior (KEDA's default); proactive \
         policies with {}.\n\n",
        w.peak_divisor,
        w.threshold
            .map_or("capacityPerPod".to_string(), |t| t.to_string()),
        w.min_replicas,
        w.max_replicas,
        w.polling_interval_s,
        w.pod_startup_s,
        {
            let mut o = Vec::new();
            if let Some(q) = w.quantile {
                o.push(format!("prescale.dev/forecast-quantile {q}"));
            }
            if let Some(m) = w.margin_pct {
                o.push(format!("prescale.dev/forecast-margin {m}"));
            }
            if let Some(l) = w.lead_s {
                o.push(format!("prescale.dev/forecast-lead {l}s"));
            }
            if let Some(se) = &w.season {
                o.push(format!("prescale.dev/forecast-season {se}"));
            }
            if o.is_empty() {
                "the default annotations".to_string()
            } else {
                o.join(", ")
            }
        }
    );
    let dir = plots
        .and_then(|p| p.file_name())
        .map(|d| d.to_string_lossy().into_owned());
    for t in &report.traces {
        s.push_str(&format!(
            "### {}\n\n`{}`: {} rows of {} s ({}), peak {} per bin → capacityPerPod {:.4}.\n\n",
            t.trace,
            t.file,
            t.rows,
            t.step_s,
            prescale_core::duration::format_human((t.duration_s * 1000.0) as i64),
            t.peak,
            t.capacity_per_pod
        ));
        s.push_str(
            "| policy | pod_seconds | vs keda-hpa | vs oracle | under_s | τU % | θU % | τO % | θO % | υ % | actions | speedup | forecast won |\n\
             |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
        );
        for r in &t.results {
            let c = cells(r);
            let fcst = r
                .forecast_won_pct
                .map_or("-".to_string(), |_| format!("{}%", c[12]));
            s.push_str(&format!(
                "| {} | {} | {}% | {}% | {} | {} | {} | {} | {} | {} | {} | {} | {fcst} |\n",
                c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10], c[11],
            ));
        }
        if let Some(g) = &t.targets {
            s.push_str(&format!(
                "\nTargets, best proactive policy `{}`: τU ≤ 50 % of keda-hpa: {}; pod_seconds ≤ 110 % of keda-hpa: {}; \
                 ≤ 125 % of oracle: {}; no proactive policy under-provisioned longer than keda-hpa: {}.\n",
                g.best,
                yes(g.tau_u_halved),
                yes(g.pod_seconds_within_110pct_of_keda),
                yes(g.pod_seconds_within_125pct_of_oracle),
                yes(g.never_worse_than_keda)
            ));
        }
        if let Some(d) = &dir {
            let stem = crate::bench_plot::file_stem(&t.trace);
            s.push_str(&format!(
                "\n![{0}: load vs ready capacity]({d}/{stem}.png) — [SVG]({d}/{stem}.svg); keda-hpa's worst \
                 window: [PNG]({d}/{stem}-worst.png), [SVG]({d}/{stem}-worst.svg)\n",
                t.trace
            ));
        }
        s.push('\n');
    }
    s
}
