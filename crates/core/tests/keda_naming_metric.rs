//! keda.md §2.3, §3.1 and §4.5: metric names, milli conversions, metric target types, trigger parsing.

mod keda_support;

use keda_support::{prom, so, targets};
use prescale_core::hpa::MetricTarget;
use prescale_core::keda::metric::{metric_in_milli, milli_approx_f64, quantity_approx_f64};
use prescale_core::keda::naming::{
    COMPOSITE_METRIC_NAME, metric_name, normalize_string, remove_index_from_metric_name,
};
use prescale_core::keda::trigger::{
    TargetType, metric_target_type, parse_json_number, trigger_targets,
};
use prescale_core::spec::MetricTargetType;
use serde_json::json;

#[test]
fn metric_names_by_trigger_index() {
    assert_eq!(metric_name(0, "prometheus"), "s0-prometheus");
    assert_eq!(metric_name(1, "prometheus"), "s1-prometheus");
    assert_eq!(metric_name(12, "prometheus"), "s12-prometheus");
    assert_eq!(COMPOSITE_METRIC_NAME, "composite-metric");
}

#[test]
fn normalize_string_replaces_separators() {
    assert_eq!(normalize_string("a/b.c:d%e(f)g"), "a-b-c-d-e-f-g");
    assert_eq!(metric_name(3, "azure.queue"), "s3-azure-queue");
}

#[test]
fn remove_index_from_metric_name_table() {
    assert_eq!(
        remove_index_from_metric_name(0, "s0-metricName").unwrap(),
        "metricName"
    );
    assert_eq!(
        remove_index_from_metric_name(123, "s123-metricName").unwrap(),
        "metricName"
    );
    // Only the first dash splits.
    assert_eq!(remove_index_from_metric_name(0, "s0-a-b").unwrap(), "a-b");
    let e = remove_index_from_metric_name(1, "s0-metricName").unwrap_err();
    assert!(e.to_string().contains("incorrect index prefix"), "{e}");
    assert!(e.to_string().contains("s0-metricName"), "{e}");
    assert!(remove_index_from_metric_name(0, "0-metricName").is_err());
    let e = remove_index_from_metric_name(0, "metricName").unwrap_err();
    assert!(e.to_string().contains("without index prefix"), "{e}");
}

#[test]
fn metric_in_milli_positive_values() {
    assert_eq!(metric_in_milli(100.5), 100_500);
    assert_eq!(metric_in_milli(42.5), 42_500);
    assert_eq!(metric_in_milli(0.0), 0);
    assert_eq!(metric_in_milli(1.0), 1000);
    // No int64 overflow: values whose milli exceeds i64 stay positive (saturated).
    assert!(metric_in_milli(1e18) > 0);
    assert!(metric_in_milli(9.3e15) > 0);
    assert_eq!(metric_in_milli(1e18), i64::MAX);
    assert_eq!(metric_in_milli(9e15), 9_000_000_000_000_000_000);
}

#[test]
fn metric_in_milli_nan_inf_negative_are_zero() {
    assert_eq!(metric_in_milli(f64::NAN), 0);
    assert_eq!(metric_in_milli(f64::INFINITY), 0);
    assert_eq!(metric_in_milli(f64::NEG_INFINITY), 0);
    assert_eq!(metric_in_milli(-1.0), 0);
    assert_eq!(metric_in_milli(-9.3e15), 0);
    assert_eq!(metric_in_milli(-0.0), 0);
}

#[test]
fn metric_in_milli_rounds_like_go_percent_3f() {
    // %.3f rounds the exact binary value; exact ties go to even.
    assert_eq!(metric_in_milli(0.0625), 62);
    assert_eq!(metric_in_milli(2.0625), 2062);
    assert_eq!(metric_in_milli(0.3125), 312);
    // 0.0005 is slightly above the tie, 1.0005 slightly below.
    assert_eq!(metric_in_milli(0.0005), 1);
    assert_eq!(metric_in_milli(1.0005), 1000);
    assert_eq!(metric_in_milli(0.1234999), 123);
    assert_eq!(metric_in_milli(0.0004), 0);
    assert_eq!(metric_in_milli(33.3333333), 33_333);
}

#[test]
fn approximate_floats() {
    assert_eq!(quantity_approx_f64(100.5), 100.5);
    assert_eq!(quantity_approx_f64(10.0), 10.0);
    assert_eq!(quantity_approx_f64(f64::NAN), 0.0);
    assert_eq!(quantity_approx_f64(-3.0), 0.0);
    assert_eq!(quantity_approx_f64(0.0625), 0.062);
    // Past 18 digits the quantity is an inf.Dec at nano scale: float(unscaled) × Pow10(-9).
    assert_eq!(quantity_approx_f64(1e18), 1e27 * 1e-9);
    assert_eq!(
        quantity_approx_f64(123_456_789_012_345.0),
        123_456_789_012_345_000.0 * 1e-3
    );
    assert_eq!(milli_approx_f64(100_500), 100.5);
    assert_eq!(milli_approx_f64(0), 0.0);
}

#[test]
fn get_metric_target_type() {
    let p = "spec.triggers[0].metricType";
    assert_eq!(
        metric_target_type(None, p).unwrap(),
        TargetType::AverageValue
    );
    assert_eq!(
        metric_target_type(Some(&MetricTargetType::Other(String::new())), p).unwrap(),
        TargetType::AverageValue
    );
    assert_eq!(
        metric_target_type(Some(&MetricTargetType::AverageValue), p).unwrap(),
        TargetType::AverageValue
    );
    assert_eq!(
        metric_target_type(Some(&MetricTargetType::Value), p).unwrap(),
        TargetType::Value
    );
    let e = metric_target_type(Some(&MetricTargetType::Utilization), p).unwrap_err();
    assert!(
        e.to_string()
            .contains("'Utilization' metric type is unsupported"),
        "{e}"
    );
    assert!(e.to_string().contains(p), "{e}");
    // KEDA passes other values through; the HPA API refuses them with its own message.
    let e = metric_target_type(Some(&MetricTargetType::Other("Foo".into())), p).unwrap_err();
    assert_eq!(
        e.into_message(),
        "Invalid value: \"Foo\": must be either Utilization, Value, or AverageValue"
    );
}

#[test]
fn json_number_rules() {
    assert_eq!(parse_json_number("100"), Some(100.0));
    assert_eq!(parse_json_number("100.50"), Some(100.5));
    assert_eq!(parse_json_number("1e3"), Some(1000.0));
    assert_eq!(parse_json_number("1E+3"), Some(1000.0));
    assert_eq!(parse_json_number("-2.5e-1"), Some(-0.25));
    assert_eq!(parse_json_number("0"), Some(0.0));
    for bad in [
        "one", "", "+1", ".5", "1.", "01", "1e", "0x10", "NaN", "Infinity", "1e400", "null",
        "\"5\"", "1 2", "1,5", "--1",
    ] {
        assert_eq!(parse_json_number(bad), None, "{bad:?}");
    }
}

#[test]
fn prometheus_trigger_target_defaults() {
    let so = so(json!({}));
    let t = targets(&so);
    assert_eq!(t.len(), 1);
    let t = &t[0];
    assert_eq!(t.index, 0);
    assert_eq!(t.name, None);
    assert_eq!(t.trigger_type, "prometheus");
    assert_eq!(t.metric_name, "s0-prometheus");
    assert_eq!(t.target_type, TargetType::AverageValue);
    assert_eq!(t.threshold, 10.0);
    assert_eq!(t.activation_threshold, 0.0);
    assert!(!t.use_cached_metrics);
    assert_eq!(t.metric_target(), MetricTarget::AverageValue(10_000));
    assert_eq!(t.scaler_name(), "prometheusScaler");
}

#[test]
fn prometheus_trigger_target_all_fields() {
    let mut trig = prom(" 100.5 ");
    trig["name"] = json!("web");
    trig["metricType"] = json!("Value");
    trig["useCachedMetrics"] = json!(true);
    trig["metadata"]["activationThreshold"] = json!("50");
    let so = so(json!({"spec": {"triggers": [prom("1"), trig]}}));
    let t = targets(&so);
    assert_eq!(t[1].index, 1);
    assert_eq!(t[1].metric_name, "s1-prometheus");
    assert_eq!(t[1].name.as_deref(), Some("web"));
    assert_eq!(t[1].scaler_name(), "web");
    assert_eq!(t[1].target_type, TargetType::Value);
    assert_eq!(t[1].threshold, 100.5);
    assert_eq!(t[1].activation_threshold, 50.0);
    assert!(t[1].use_cached_metrics);
    assert_eq!(t[1].metric_target(), MetricTarget::Value(100_500));
}

#[test]
fn trigger_metadata_is_trimmed_and_empty_means_absent() {
    // Whitespace-only activationThreshold is absent (default 0), not an error.
    let mut trig = prom("5");
    trig["metadata"]["activationThreshold"] = json!("   ");
    let so1 = so(json!({"spec": {"triggers": [trig]}}));
    assert_eq!(targets(&so1)[0].activation_threshold, 0.0);
    // Whitespace-only threshold is missing.
    let so2 = so(json!({"spec": {"triggers": [prom("  ")]}}));
    let e = trigger_targets(&so2).unwrap_err().to_string();
    assert!(e.contains("spec.triggers[0].metadata.threshold"), "{e}");
    assert!(
        e.contains("missing required parameter \"threshold\""),
        "{e}"
    );
}

#[test]
fn trigger_errors_name_field_and_value() {
    let so1 = so(json!({"spec": {"triggers": [prom("one")]}}));
    let e = trigger_targets(&so1).unwrap_err().to_string();
    assert!(e.contains("spec.triggers[0].metadata.threshold"), "{e}");
    assert!(e.contains("\"one\""), "{e}");

    let mut trig = prom("1");
    trig["metadata"]["activationThreshold"] = json!("one");
    let so2 = so(json!({"spec": {"triggers": [prom("1"), trig]}}));
    let e = trigger_targets(&so2).unwrap_err().to_string();
    assert!(
        e.contains("spec.triggers[1].metadata.activationThreshold"),
        "{e}"
    );

    let mut trig = prom("1");
    trig["metricType"] = json!("Utilization");
    let so3 = so(json!({"spec": {"triggers": [trig]}}));
    let e = trigger_targets(&so3).unwrap_err().to_string();
    assert!(e.contains("spec.triggers[0].metricType"), "{e}");
    assert!(e.contains("Utilization"), "{e}");
}

#[test]
fn unsupported_trigger_type_names_type_and_index() {
    let so = so(json!({"spec": {"triggers": [
        prom("1"),
        {"type": "kafka", "metadata": {"topic": "t"}},
    ]}}));
    let e = trigger_targets(&so).unwrap_err().to_string();
    assert!(e.contains("spec.triggers[1].type"), "{e}");
    assert!(e.contains("\"kafka\""), "{e}");
    assert!(e.contains("not supported"), "{e}");
}

#[test]
fn activation_is_strictly_greater() {
    let mut trig = prom("10");
    trig["metadata"]["activationThreshold"] = json!("20");
    let so = so(json!({"spec": {"triggers": [trig, prom("10")]}}));
    let t = targets(&so);
    assert!(!t[0].is_active_value(20.0));
    assert!(t[0].is_active_value(20.000001));
    assert!(!t[0].is_active_value(19.0));
    // Default activation threshold 0: exactly 0 and negatives are inactive.
    assert!(!t[1].is_active_value(0.0));
    assert!(!t[1].is_active_value(-1.0));
    assert!(t[1].is_active_value(0.001));
    assert!(!t[1].is_active_value(f64::NAN));
}
