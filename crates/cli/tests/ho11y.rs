//! The `prescale ho11y` binary: environment errors and a real start-up on a free port.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

// Only `command()` is used here; this file reads the logs itself.
#[allow(dead_code)]
mod support {
    pub mod ho11y_process;
}

fn bin() -> Command {
    support::ho11y_process::command()
}

#[test]
fn bad_environment_values_name_the_variable() {
    for (var, value) in [
        ("HO11Y_CUTOFF_TPS", "fast"),
        ("DOWNSTREAM3", "DUMMY:1kB"),
        ("HO11Y_PORT", "99999"),
    ] {
        let out = bin().env(var, value).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{var}={value}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(var) && err.contains(value),
            "{var}={value}: {err}"
        );
    }
}

#[test]
fn serves_on_a_free_port_with_json_logs_on_stdout() {
    let mut child = bin()
        .env("HO11Y_PORT", "")
        .env("HO11Y_LOG_DEST", "stdout")
        .env("DISABLE_OM", "on")
        .env("OTEL_RESOURCE_ATTRIB", "frontend")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut port = None;
    for line in lines.by_ref().take(10) {
        let line = line.unwrap();
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        let msg = v["message"].as_str().unwrap_or_default();
        if let Some(rest) = msg.strip_prefix("Launching ho11y: I am [frontend] listening on port :")
        {
            port = rest.split(' ').next().and_then(|p| p.parse::<u16>().ok());
            break;
        }
    }
    let port = port.expect("launch line with the port");
    assert_ne!(port, 0);
    let result = std::panic::catch_unwind(|| {
        prescale_aws::install_crypto_provider();
        let c = reqwest::blocking::Client::new();
        let r = c.get(format!("http://127.0.0.1:{port}/")).send().unwrap();
        assert_eq!(r.status().as_u16(), 200);
        assert!(r.text().unwrap().starts_with("{\"traceId\":\"1-"));
        let m = c
            .get(format!("http://127.0.0.1:{port}/metrics"))
            .send()
            .unwrap()
            .text()
            .unwrap();
        assert!(
            m.contains("ho11y_total{http_status_code=\"200\"} 1\n"),
            "{m}"
        );
    });
    let _ = child.kill();
    let _ = child.wait();
    result.unwrap();
    let invoke = lines
        .map_while(Result::ok)
        .find(|l| l.contains("\"event\":\"invoke\""));
    let invoke: serde_json::Value =
        serde_json::from_str(&invoke.expect("an invoke log line")).unwrap();
    assert_eq!(invoke["message"], "ho11y was invoked");
    assert!(
        invoke["remote"].as_str().unwrap().starts_with("127.0.0.1:"),
        "{invoke}"
    );
}
