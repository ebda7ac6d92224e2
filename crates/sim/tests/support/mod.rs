//! Helpers shared by the scenario tests: run a scenario given as YAML text and read its timeline and events.
#![allow(dead_code)] // each test file uses its own subset

use std::path::Path;

use prescale_sim::run::{Event, Row};
use prescale_sim::{Options, Run, Scenario, simulate};

/// Parse and run a scenario (relative paths resolve against the current directory), keeping the timeline.
pub fn run_yaml(yaml: &str) -> Run {
    let sc = Scenario::parse(yaml, "test.yaml", Path::new("."))
        .unwrap_or_else(|e| panic!("scenario: {e}"));
    simulate(&sc, Options { timeline: true }).unwrap_or_else(|e| panic!("simulate: {e}"))
}

/// (t in seconds, new spec.replicas) at every change, starting from the initial replica count.
pub fn changes(run: &Run) -> Vec<(f64, i32)> {
    let rows = run.rows.as_ref().expect("timeline");
    let mut out = Vec::new();
    let mut last = run.summary.initial_replicas;
    for r in rows {
        if r.replicas != last {
            out.push((r.t_ms as f64 / 1000.0, r.replicas));
            last = r.replicas;
        }
    }
    out
}

/// The timeline row at `t_s` seconds (the test fails if there is none).
pub fn row_at(run: &Run, t_s: i64) -> &Row {
    let rows = run.rows.as_ref().expect("timeline");
    rows.iter()
        .find(|r| r.t_ms == t_s * 1000)
        .unwrap_or_else(|| panic!("no row at t={t_s}s"))
}

/// Whether an event is one of the creation-time events (`KEDAScalersStarted`, `ScaledObjectReady` at t=0),
/// which `scenarios_keda.rs` `creation_lifecycle_events` checks on its own.
pub fn is_creation_event(e: &Event) -> bool {
    e.t_s == 0.0
        && matches!(
            e.reason.as_str(),
            "KEDAScalersStarted" | "ScaledObjectReady"
        )
}

/// Every event except the creation-time ones.
pub fn after_creation(run: &Run) -> Vec<&Event> {
    run.summary
        .events
        .iter()
        .filter(|e| !is_creation_event(e))
        .collect()
}

/// An inline ScaledObject `app` in namespace `test` with `annotations` (a flow-mapping body, may be empty) and
/// the given `spec` block.
pub fn so_annotated(annotations: &str, spec: &str) -> String {
    let body: String = spec.lines().map(|l| format!("    {l}\n")).collect();
    let ann = if annotations.is_empty() {
        String::new()
    } else {
        format!(", annotations: {{{annotations}}}")
    };
    format!(
        "scaledObject:\n  apiVersion: keda.sh/v1alpha1\n  kind: ScaledObject\n  metadata: {{name: app, namespace: test{ann}}}\n  spec:\n{body}"
    )
}

/// An inline ScaledObject `app` in namespace `test` with the given `spec` block.
pub fn so(spec: &str) -> String {
    so_annotated("", spec)
}

/// A `triggers:` block with one prometheus trigger of `threshold`; `extra` lines (indented 4) go before
/// `metadata`.
pub fn prom(threshold: &str, extra: &str) -> String {
    format!(
        "triggers:\n  - type: prometheus\n{extra}    metadata:\n      serverAddress: http://prometheus:9090\n      query: q\n      threshold: '{threshold}'\n"
    )
}
