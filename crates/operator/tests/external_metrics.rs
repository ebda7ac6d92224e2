//! The external metrics API documents and request parsing.

use std::collections::BTreeMap;

use prescale_operator::external_metrics::{
    RequestError, api_group, api_group_list, parse_request, parse_selector, resource_list,
    value_list,
};
use serde_json::json;

const PATH: &str = "/apis/external.metrics.k8s.io/v1beta1/namespaces/ho11y/s0-prometheus";

#[test]
fn the_hpa_request_is_parsed() {
    // What the HPA controller sends for keda-hpa-ho11y-hpa.
    let r = parse_request(
        PATH,
        Some("labelSelector=scaledobject.keda.sh%2Fname%3Dho11y-hpa"),
    )
    .unwrap();
    assert_eq!(r.namespace, "ho11y");
    assert_eq!(r.metric, "s0-prometheus");
    assert_eq!(r.scaled_object, "ho11y-hpa");
    // Unencoded and with other labels and spaces.
    let r = parse_request(
        PATH,
        Some("foo=bar&labelSelector=app%3Dx,+scaledobject.keda.sh/name+==+so-1"),
    )
    .unwrap();
    assert_eq!(r.scaled_object, "so-1");
    assert_eq!(r.selector.get("app").map(String::as_str), Some("x"));
}

#[test]
fn keda_s_errors_and_statuses() {
    assert_eq!(parse_request(PATH, None), Err(RequestError::NoScaledObject));
    assert_eq!(
        parse_request(PATH, Some("labelSelector=app%3Dx"))
            .unwrap_err()
            .status(),
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
               "message": "scaledObject name is not specified", "reason": "InternalError", "code": 500})
    );
    for bad in [
        "/apis/external.metrics.k8s.io/v1beta1/namespaces/ho11y",
        "/apis/external.metrics.k8s.io/v1beta1/namespaces/ho11y/m/extra",
        "/apis/custom.metrics.k8s.io/v1beta1/namespaces/ho11y/m",
        "/apis/external.metrics.k8s.io/v1beta1/namespaces//m",
    ] {
        let e =
            parse_request(bad, Some("labelSelector=scaledobject.keda.sh%2Fname%3Dx")).unwrap_err();
        assert_eq!(e, RequestError::NotFound, "{bad}");
        assert_eq!(e.status()["code"], 404);
    }
    let e = parse_selector("scaledobject.keda.sh/name!=x").unwrap_err();
    assert_eq!(e.status()["code"], 400);
    assert!(e.to_string().contains("only key=value"), "{e}");
    assert!(parse_selector("app in (a,b)").is_err());
    assert_eq!(parse_selector("").unwrap(), BTreeMap::new());
}

#[test]
fn values_are_keda_s_milli_quantities() {
    let doc = value_list("s0-prometheus", 0.6666666, "2026-11-28T12:00:00Z");
    assert_eq!(
        doc,
        json!({"kind": "ExternalMetricValueList", "apiVersion": "external.metrics.k8s.io/v1beta1", "metadata": {},
               "items": [{"metricName": "s0-prometheus", "metricLabels": {}, "timestamp": "2026-11-28T12:00:00Z",
                          "value": "667m"}]})
    );
    for (v, q) in [
        (1.0, "1"),
        (1.5, "1500m"),
        (2000.0, "2k"),
        (0.0004, "0"),
        (f64::NAN, "0"),
        (f64::INFINITY, "0"),
        (-3.0, "0"),
    ] {
        assert_eq!(value_list("m", v, "t")["items"][0]["value"], q, "{v}");
    }
}

#[test]
fn discovery_documents() {
    assert_eq!(
        api_group(),
        json!({"kind": "APIGroup", "apiVersion": "v1", "name": "external.metrics.k8s.io",
               "versions": [{"groupVersion": "external.metrics.k8s.io/v1beta1", "version": "v1beta1"}],
               "preferredVersion": {"groupVersion": "external.metrics.k8s.io/v1beta1", "version": "v1beta1"}})
    );
    assert_eq!(api_group_list()["groups"][0], api_group());
    let list = resource_list(&["s0-prometheus".to_string()]);
    assert_eq!(list["groupVersion"], "external.metrics.k8s.io/v1beta1");
    assert_eq!(
        list["resources"][0],
        json!({"name": "s0-prometheus", "singularName": "", "namespaced": true,
               "kind": "ExternalMetricValueList", "verbs": ["get"]})
    );
    assert_eq!(resource_list(&[])["resources"], json!([]));
}

#[test]
fn escapes_are_strict_and_the_selector_key_is_decoded() {
    // A sign is not a hex digit.
    assert_eq!(
        parse_request(
            "/apis/external.metrics.k8s.io/v1beta1/namespaces/ho11y/s0%+fx",
            Some("labelSelector=scaledobject.keda.sh%2Fname%3Dx")
        ),
        Err(RequestError::NotFound)
    );
    // An encoded key is still the labelSelector parameter.
    let r = parse_request(
        PATH,
        Some("label%53elector=scaledobject.keda.sh%2Fname%3Dso-2"),
    )
    .unwrap();
    assert_eq!(r.scaled_object, "so-2");
    // An escaped path segment is decoded.
    let r = parse_request(
        "/apis/external.metrics.k8s.io/v1beta1/namespaces/ho11y/s0-%70rometheus",
        Some("labelSelector=scaledobject.keda.sh%2Fname%3Dx"),
    )
    .unwrap();
    assert_eq!(r.metric, "s0-prometheus");
}
