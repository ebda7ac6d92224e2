//! The Prometheus trigger's request and response code against real servers: Prometheus 2.42 and
//! VictoriaMetrics 1.79, fed through remote write 1.0 by `prescale-promwire` and queried over real HTTP.
//!
//! The binaries come from `PRESCALE_PROMETHEUS_BIN` and `PRESCALE_VICTORIA_METRICS_BIN` (`.ci/run` extracts them
//! from the Debian packages). Without them a test prints why and passes, unless `PRESCALE_REQUIRE_REAL` is set
//! (CI sets it), in which case it fails.
#[path = "support/servers.rs"]
mod servers;

use prescale_scalers::Error;
use servers::{Server, assert_close, ho11y_total};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What differs between the two servers.
struct Expect {
    /// `resultType` of `scalar(...)`: Prometheus answers a scalar, VictoriaMetrics a label-less vector.
    scalar_result_type: &'static str,
    /// Status and `errorType` of a PromQL syntax error.
    syntax_error: (u16, &'static str),
    /// A fragment of the server's syntax error text.
    syntax_error_text: &'static str,
}

fn scenario(server: &Server, expect: &Expect) {
    let name = server.name;
    // Whole seconds: the trigger's `time` parameter has no fraction, and the newest sample must not lie after
    // it. Samples are now-ish, as Prometheus rejects samples about an hour old for a new series. A few seconds
    // back, because VictoriaMetrics 1.79 leaves the newest sample out of an instant query whose `time` is the
    // current second (it answered 50 instead of 60 here; `nocache=1` or one second later gives 60).
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 5;
    let at = UNIX_EPOCH + Duration::from_secs(secs);
    let end_ms = i64::try_from(secs).unwrap() * 1000;

    let (status, body) = server.remote_write(&[ho11y_total("a:8765", end_ms, 10.0)]);
    assert_eq!((status, body.as_str()), (204, ""), "{name}: remote write");
    server.wait_visible(1, at);

    // One series: the trigger reads the same number the server reports, and it is the counter's slope.
    let q = "rate(ho11y_total[1m])";
    let ours = server.trigger_query(q, at).unwrap();
    let raw = server.raw_query(q, at);
    let raw_value: f64 = raw["result"][0]["value"][1]
        .as_str()
        .unwrap_or_else(|| panic!("{name}: {q} gave {raw}"))
        .parse()
        .unwrap();
    assert_eq!(raw["result"].as_array().unwrap().len(), 1, "{name}: {raw}");
    assert_eq!(ours, raw_value, "{name}: {q}: trigger vs raw {raw}");
    assert_close(ours, 10.0 / 15.0, &format!("{name}: {q}"));

    let q = "sum(rate(ho11y_total[1m]))";
    assert_close(server.trigger_query(q, at).unwrap(), 10.0 / 15.0, name);

    let q = "scalar(sum(ho11y_total))";
    assert_eq!(
        server.raw_query(q, at)["resultType"],
        expect.scalar_result_type,
        "{name}: {q}"
    );
    assert_eq!(server.trigger_query(q, at).unwrap(), 60.0, "{name}: {q}");

    // A second series (another instance): a bare selector now returns two series, which the trigger refuses;
    // aggregating still works.
    let (status, body) = server.remote_write(&[ho11y_total("b:8765", end_ms, 20.0)]);
    assert_eq!((status, body.as_str()), (204, ""), "{name}: second write");
    server.wait_visible(2, at);
    match server.trigger_query("ho11y_total", at) {
        Err(Error::Response(msg)) => assert!(
            msg.starts_with(
                "prometheus query returned 2 series, but the trigger needs exactly one"
            ) && msg.contains("a:8765")
                && msg.contains("b:8765"),
            "{name}: {msg}"
        ),
        other => panic!("{name}: ho11y_total with two series gave {other:?}"),
    }
    let q = "sum(rate(ho11y_total[1m]))";
    assert_close(server.trigger_query(q, at).unwrap(), 30.0 / 15.0, name);
    assert_eq!(
        server
            .trigger_query("scalar(sum(ho11y_total))", at)
            .unwrap(),
        60.0 + 120.0,
        "{name}"
    );

    // A PromQL syntax error comes back as the server's error, status and text included.
    match server.trigger_query("sum(rate(ho11y_total[1m])", at) {
        Err(Error::Api {
            status,
            error_type,
            message,
            body_excerpt: None,
        }) => {
            assert_eq!(
                (status, error_type.as_deref()),
                (expect.syntax_error.0, Some(expect.syntax_error.1)),
                "{name}: {message:?}"
            );
            let message = message.unwrap();
            assert!(
                message.contains(expect.syntax_error_text),
                "{name}: {message}"
            );
        }
        other => panic!("{name}: syntax error gave {other:?}"),
    }
}

#[test]
fn prometheus_2_42_remote_write_and_trigger_queries() {
    let Some(server) = Server::prometheus() else {
        return;
    };
    scenario(
        &server,
        &Expect {
            scalar_result_type: "scalar",
            syntax_error: (400, "bad_data"),
            syntax_error_text: "parse error",
        },
    );
}

#[test]
fn victoria_metrics_1_79_remote_write_and_trigger_queries() {
    let Some(server) = Server::victoria_metrics() else {
        return;
    };
    scenario(
        &server,
        &Expect {
            scalar_result_type: "vector",
            syntax_error: (422, "422"),
            syntax_error_text: "unexpected token",
        },
    );
}
