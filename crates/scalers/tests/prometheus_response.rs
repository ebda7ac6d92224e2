//! Interpretation of `/api/v1/query` answers: KEDA's `testPromQueryResult` table (keda.md §4.4) row by row,
//! then the cases where this crate deliberately improves on KEDA, then no-panic properties.

use proptest::prelude::*;
use serde_json::{Value, json};

use prescale_scalers::Error;
use prescale_scalers::prometheus::response::{Answer, NullReason, answer, interpret};

fn ok(body: &str, ignore_null: bool) -> f64 {
    match interpret(200, body.as_bytes(), ignore_null) {
        Ok(v) => v,
        Err(e) => panic!("{body}: unexpected error {e}"),
    }
}

fn err(status: u16, body: &str, ignore_null: bool) -> Error {
    match interpret(status, body.as_bytes(), ignore_null) {
        Ok(v) => panic!("{body}: expected an error, got {v}"),
        Err(e) => e,
    }
}

fn err_text(status: u16, body: &str, ignore_null: bool) -> String {
    err(status, body, ignore_null).to_string()
}

// ---- KEDA testPromQueryResult, in table order ------------------------------------------------------------

#[test]
fn keda_no_results_empty_object_is_an_error_here() {
    // DEVIATION: KEDA reads `{}` with HTTP 200 as an empty result, i.e. 0 with ignoreNullValues. Prometheus
    // always sends `data` on success, so this is something else answering at that URL; reading it as 0
    // would hide the misconfiguration. It is an error naming what came back.
    let e = err_text(200, "{}", true);
    assert!(e.contains("without \"data\""), "{e}");
    assert!(e.contains("keys: none"), "{e}");
}

#[test]
fn keda_no_values() {
    assert_eq!(ok(r#"{"data":{"result":[]}}"#, true), 0.0);
}

#[test]
fn keda_no_values_but_shouldnt_ignore() {
    assert_eq!(
        err(200, r#"{"data":{"result":[]}}"#, false),
        Error::Null(NullReason::EmptyResult)
    );
    assert_eq!(
        err_text(200, r#"{"data":{"result":[]}}"#, false),
        "prometheus metrics 'prometheus' target may be lost, the result is empty"
    );
}

#[test]
fn keda_value_is_empty_list() {
    assert_eq!(ok(r#"{"data":{"result":[{"value": []}]}}"#, true), 0.0);
}

#[test]
fn keda_value_is_empty_list_but_shouldnt_ignore() {
    assert_eq!(
        err_text(200, r#"{"data":{"result":[{"value": []}]}}"#, false),
        "prometheus metrics 'prometheus' target may be lost, the value list is empty"
    );
}

#[test]
fn keda_valid_value() {
    assert_eq!(
        ok(r#"{"data":{"result":[{"value": ["1", "2"]}]}}"#, true),
        2.0
    );
}

#[test]
fn keda_not_enough_values() {
    let e = err_text(200, r#"{"data":{"result":[{"value": ["1"]}]}}"#, true);
    assert!(e.contains("didn't return enough values"), "{e}");
}

#[test]
fn keda_multiple_results() {
    let e = err_text(200, r#"{"data":{"result":[{},{}]}}"#, true);
    assert!(e.contains("returned 2 series"), "{e}");
    assert!(e.ends_with(": {}, {}"), "{e}");
}

#[test]
fn keda_error_status_response() {
    assert_eq!(
        err(400, "{}", true),
        Error::Api {
            status: 400,
            error_type: None,
            message: None,
            body_excerpt: Some("{}".to_owned()),
        }
    );
    assert_eq!(
        err_text(400, "{}", true),
        r#"prometheus query api returned error. status: 400 (body: "{}")"#
    );
}

fn value_body(v: &str) -> String {
    format!(r#"{{"data":{{"result":[{{"value": ["1", "{v}"]}}]}}}}"#)
}

#[test]
fn keda_plus_inf() {
    assert_eq!(ok(&value_body("+Inf"), true), 0.0);
}

#[test]
fn keda_plus_inf_but_shouldnt_ignore() {
    assert_eq!(
        err_text(200, &value_body("+Inf"), false),
        "prometheus query returns +Inf"
    );
}

#[test]
fn keda_minus_inf() {
    assert_eq!(ok(&value_body("-Inf"), true), 0.0);
}

#[test]
fn keda_minus_inf_but_shouldnt_ignore() {
    assert_eq!(
        err_text(200, &value_body("-Inf"), false),
        "prometheus query returns -Inf"
    );
}

#[test]
fn keda_nan() {
    assert_eq!(ok(&value_body("NaN"), true), 0.0);
}

#[test]
fn keda_nan_but_shouldnt_ignore() {
    assert_eq!(
        err_text(200, &value_body("NaN"), false),
        "prometheus query returns NaN"
    );
}

#[test]
fn keda_gcp_body() {
    let body = r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1686063687,"777"]}]}}"#;
    assert_eq!(ok(body, true), 777.0);
    assert_eq!(ok(body, false), 777.0);
}

// ---- Real server answers and deliberate improvements ------------------------------------------------------

#[test]
fn prometheus_vector_with_labels() {
    let body = r#"{"status":"success","data":{"resultType":"vector","result":[
        {"metric":{"http_status_code":"200","job":"ho11y"},"value":[1795848643.625,"12.345"]}]}}"#;
    assert_eq!(ok(body, false), 12.345);
}

#[test]
fn negative_and_exponent_values_pass_through() {
    // Clamping negatives to 0 is the metric conversion's job, not this one's.
    assert_eq!(ok(&value_body("-3.5"), false), -3.5);
    assert_eq!(ok(&value_body("1e+06"), false), 1e6);
    assert_eq!(ok(&value_body("0"), false), 0.0);
}

#[test]
fn scalar_result_is_its_value() {
    // DEVIATION: KEDA fails to decode a scalar result although its docs say "vector/scalar".
    let body =
        r#"{"status":"success","data":{"resultType":"scalar","result":[1795848639.963,"1"]}}"#;
    assert_eq!(ok(body, false), 1.0);
    let nan =
        r#"{"status":"success","data":{"resultType":"scalar","result":[1795848639.963,"NaN"]}}"#;
    assert_eq!(ok(nan, true), 0.0);
    assert_eq!(err_text(200, nan, false), "prometheus query returns NaN");
}

#[test]
fn scalar_result_of_wrong_shape() {
    let body = r#"{"status":"success","data":{"resultType":"scalar","result":{"a":1}}}"#;
    let e = err_text(200, body, true);
    assert!(e.contains("scalar result an object"), "{e}");
}

#[test]
fn matrix_result_is_an_error() {
    // DEVIATION: KEDA finds no `value` in a matrix sample and silently returns 0.
    let body = r#"{"status":"success","data":{"resultType":"matrix","result":[
        {"metric":{"job":"ho11y"},"values":[[1795848600,"1"],[1795848615,"2"]]}]}}"#;
    let e = err_text(200, body, true);
    assert!(
        e.contains("range vector (resultType matrix, 1 series)"),
        "{e}"
    );
    assert!(e.contains("instant vector"), "{e}");
}

#[test]
fn string_result_is_an_error() {
    let body =
        r#"{"status":"success","data":{"resultType":"string","result":[1795848639.963,"abc"]}}"#;
    assert_eq!(
        err_text(200, body, true),
        r#"prometheus query returned a string (a string "abc"), not a number"#
    );
}

#[test]
fn unknown_result_type_is_an_error() {
    let body = r#"{"status":"success","data":{"resultType":"streams","result":[]}}"#;
    let e = err_text(200, body, true);
    assert!(e.contains("unknown resultType \"streams\""), "{e}");
}

#[test]
fn multi_series_message_names_count_and_first_label_sets() {
    let series: Vec<Value> = (0..5)
        .map(|i| json!({"metric": {"job": "ho11y", "pod": format!("p{i}")}, "value": [1, "1"]}))
        .collect();
    let body = json!({"status": "success", "data": {"resultType": "vector", "result": series}})
        .to_string();
    assert_eq!(
        err_text(200, &body, true),
        "prometheus query returned 5 series, but the trigger needs exactly one (aggregate the query, e.g. \
         with sum(...)): {job=\"ho11y\", pod=\"p0\"}, {job=\"ho11y\", pod=\"p1\"}, {job=\"ho11y\", pod=\"p2\"}, \
         and 2 more"
    );
}

#[test]
fn http_400_with_prometheus_error_json() {
    let body = r#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:5: parse error: unexpected end of input inside braces"}"#;
    let e = err(400, body, true);
    assert_eq!(
        e,
        Error::Api {
            status: 400,
            error_type: Some("bad_data".to_owned()),
            message: Some(
                "invalid parameter \"query\": 1:5: parse error: unexpected end of input inside braces"
                    .to_owned()
            ),
            body_excerpt: None,
        }
    );
    assert_eq!(
        e.to_string(),
        "prometheus query api returned error. status: 400: bad_data: invalid parameter \"query\": 1:5: \
         parse error: unexpected end of input inside braces"
    );
}

#[test]
fn http_422_from_victoriametrics() {
    let body =
        r#"{"status":"error","errorType":"422","error":"error when executing query=\"foo{\""}"#;
    assert_eq!(
        err_text(422, body, true),
        "prometheus query api returned error. status: 422: 422: error when executing query=\"foo{\""
    );
}

#[test]
fn http_503_with_html_body() {
    let body = "<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\n\
                <center><h1>503 Service Temporarily Unavailable</h1></center>\n</body>\n</html>\n";
    let e = err(503, body, true);
    assert_eq!(
        e.to_string(),
        "prometheus query api returned error. status: 503 (body: \"<html> <head><title>503 Service \
         Temporarily Unavailable</title></head> <body> <center><h1>503 Service Temporarily \
         Unavailable</h1></center> </body> </html>\")"
    );
}

#[test]
fn http_403_with_empty_body() {
    assert_eq!(
        err_text(403, "", true),
        "prometheus query api returned error. status: 403"
    );
}

#[test]
fn long_error_bodies_are_cut() {
    let body = "x".repeat(10_000);
    let e = err_text(502, &body, true);
    assert!(e.len() < 300, "{}", e.len());
    assert!(e.ends_with("…\")"), "{e}");
}

#[test]
fn status_error_with_http_200_is_an_error() {
    // DEVIATION: KEDA finds no data and reads 0.
    let body = r#"{"status":"error","errorType":"execution","error":"query processing would load too many samples into memory"}"#;
    assert_eq!(
        err_text(200, body, true),
        "prometheus query api returned error. status: 200: execution: query processing would load too \
         many samples into memory"
    );
    let bare = r#"{"status":"error"}"#;
    assert!(err_text(200, bare, true).contains("no error text"));
}

#[test]
fn unknown_status_is_an_error() {
    let e = err_text(200, r#"{"status":"ok","data":{"result":[]}}"#, true);
    assert!(e.contains("unknown status a string \"ok\""), "{e}");
}

#[test]
fn other_2xx_statuses_are_read() {
    assert_eq!(interpret(203, value_body("4").as_bytes(), true), Ok(4.0));
}

#[test]
fn null_value_is_an_error() {
    // DEVIATION: KEDA returns −1 with no error.
    let e = err_text(200, r#"{"data":{"result":[{"value":["1",null]}]}}"#, true);
    assert!(e.contains("the value null"), "{e}");
}

#[test]
fn non_string_value_is_an_error() {
    // DEVIATION: KEDA panics on the type assertion.
    let e = err_text(200, r#"{"data":{"result":[{"value":["1",2.5]}]}}"#, true);
    assert!(e.contains("the value a number 2.5"), "{e}");
    let e = err_text(200, r#"{"data":{"result":[{"value":["1",["2"]]}]}}"#, true);
    assert!(e.contains("the value a list [\"2\"]"), "{e}");
}

#[test]
fn unparsable_value_is_an_error() {
    let e = err_text(200, &value_body("twelve"), true);
    assert_eq!(
        e,
        "prometheus query returned the value \"twelve\", which is not a number"
    );
    assert_eq!(
        err_text(200, &value_body("1e400"), true),
        "prometheus query returned the value \"1e400\", which is out of range for a float"
    );
    // Other spellings of infinity Go's ParseFloat accepts are null like "+Inf".
    assert_eq!(ok(&value_body("Infinity"), true), 0.0);
    assert_eq!(
        err_text(200, &value_body("-inf"), false),
        "prometheus query returns -Inf"
    );
    // No whitespace trimming, like Go's ParseFloat.
    assert!(interpret(200, value_body(" 1").as_bytes(), true).is_err());
}

#[test]
fn value_pair_with_extra_elements_is_an_error() {
    let e = err_text(
        200,
        r#"{"data":{"result":[{"value":["1","2","3"]}]}}"#,
        true,
    );
    assert!(e.contains("3 elements"), "{e}");
}

#[test]
fn native_histogram_sample_is_an_error() {
    let body = r#"{"status":"success","data":{"resultType":"vector","result":[
        {"metric":{"job":"ho11y"},"histogram":[1,{"count":"3","sum":"4","buckets":[]}]}]}}"#;
    let e = err_text(200, body, true);
    assert!(
        e.contains("native histogram sample for {job=\"ho11y\"}"),
        "{e}"
    );
}

#[test]
fn malformed_bodies_are_errors() {
    let e = err_text(200, "<html>ok</html>", true);
    assert!(e.contains("not JSON"), "{e}");
    assert!(e.ends_with(": \"<html>ok</html>\""), "{e}");
    assert!(err_text(200, "", true).contains("not JSON"));
    assert!(err_text(200, "[1,2]", true).contains("a list [1,2], not a JSON object"));
    assert!(err_text(200, r#"{"data":null}"#, true).contains("data null"));
    assert!(err_text(200, r#"{"data":{}}"#, true).contains("without \"result\""));
    assert!(
        err_text(200, r#"{"data":{"resultType":1,"result":[]}}"#, true)
            .contains("resultType a number 1")
    );
    assert!(err_text(200, r#"{"data":{"result":{}}}"#, true).contains("not a list of samples"));
    assert!(err_text(200, r#"{"data":{"result":[7]}}"#, true).contains("vector sample a number 7"));
    assert!(
        err_text(200, r#"{"data":{"result":[{"value":"5"}]}}"#, true).contains("not a [timestamp")
    );
    assert!(
        err_text(200, r#"{"data":{"result":[{"value":null}]}}"#, true).contains("not a [timestamp")
    );
}

#[test]
fn answer_exposes_the_null_reason() {
    assert_eq!(
        answer(200, br#"{"data":{"result":[]}}"#),
        Ok(Answer::Null(NullReason::EmptyResult))
    );
    assert_eq!(
        answer(200, br#"{"data":{"result":[{"metric":{}}]}}"#),
        Ok(Answer::Null(NullReason::EmptyValue))
    );
    assert_eq!(
        answer(200, value_body("+Inf").as_bytes()),
        Ok(Answer::Null(NullReason::PosInf))
    );
    assert_eq!(
        answer(200, value_body("1.5").as_bytes()),
        Ok(Answer::Value(1.5))
    );
    assert!(NullReason::EmptyResult.is_empty_upstream());
    assert!(NullReason::EmptyValue.is_empty_upstream());
    assert!(!NullReason::NaN.is_empty_upstream());
    assert!(!NullReason::NegInf.is_empty_upstream());
}

// ---- No panics ---------------------------------------------------------------------------------------------

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from), // non-finite becomes null
        prop_oneof![
            Just("success"),
            Just("error"),
            Just("vector"),
            Just("scalar"),
            Just("matrix"),
            Just("string"),
            Just("NaN"),
            Just("+Inf"),
            Just("-Inf"),
            Just("1.5"),
            Just("-0"),
            Just(""),
            Just("1e400"),
            Just("0x10"),
        ]
        .prop_map(Value::from),
        any::<String>().prop_map(Value::from),
    ];
    leaf.prop_recursive(5, 48, 6, |inner| {
        let key = prop_oneof![
            Just("status".to_owned()),
            Just("data".to_owned()),
            Just("resultType".to_owned()),
            Just("result".to_owned()),
            Just("metric".to_owned()),
            Just("value".to_owned()),
            Just("values".to_owned()),
            Just("histogram".to_owned()),
            Just("error".to_owned()),
            Just("errorType".to_owned()),
            any::<String>(),
        ];
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            proptest::collection::btree_map(key, inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Envelopes that are mostly well formed, to reach the deep paths.
fn arb_envelope() -> impl Strategy<Value = Value> {
    let value = prop_oneof![
        arb_json(),
        any::<f64>().prop_map(|v| Value::from(v.to_string())),
        Just(Value::from("NaN")),
    ];
    let sample =
        (arb_json(), proptest::option::of(value.clone())).prop_map(|(metric, v)| match v {
            Some(v) => json!({"metric": metric, "value": [1, v]}),
            None => json!({"metric": metric}),
        });
    let result_type = prop_oneof![
        Just("vector"),
        Just("scalar"),
        Just("matrix"),
        Just("string"),
        Just("other")
    ];
    let result = prop_oneof![
        proptest::collection::vec(sample, 0..4).prop_map(Value::Array),
        value.prop_map(|v| json!([1, v])),
        arb_json(),
    ];
    (result_type, result, proptest::option::of(arb_json())).prop_map(|(t, r, status)| {
        let mut env = json!({"data": {"resultType": t, "result": r}});
        if let (Some(s), Value::Object(m)) = (status, &mut env) {
            m.insert("status".to_owned(), s);
        }
        env
    })
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(status in any::<u16>(), body in proptest::collection::vec(any::<u8>(), 0..256), ignore in any::<bool>()) {
        let _ = interpret(status, &body, ignore);
    }

    #[test]
    fn arbitrary_json_never_panics(status in prop_oneof![Just(200u16), any::<u16>()], v in arb_json(), ignore in any::<bool>()) {
        let body = serde_json::to_vec(&v).unwrap_or_default();
        let _ = interpret(status, &body, ignore);
    }

    /// Never panics, and a successful result is finite: null cases come back as 0 or as `Error::Null`.
    #[test]
    fn envelopes_give_finite_values_or_errors(v in arb_envelope(), ignore in any::<bool>()) {
        let body = serde_json::to_vec(&v).unwrap_or_default();
        match interpret(200, &body, ignore) {
            Ok(x) => prop_assert!(x.is_finite()),
            Err(Error::Null(_)) => prop_assert!(!ignore),
            Err(_) => {}
        }
    }
}
