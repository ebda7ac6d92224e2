//! `prescale load` end to end: the binary against an axum server on loopback.

use std::process::{Command, Output};
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;

/// Serve on a loopback port from a background runtime; returns the base URL.
fn server() -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            let app = Router::new()
                .route(
                    "/",
                    get(|| async {
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        "ok"
                    }),
                )
                .route("/teapot", get(|| async { StatusCode::IM_A_TEAPOT }));
            axum::serve(listener, app).await.unwrap();
        });
    });
    format!("http://{}", rx.recv().unwrap())
}

fn load(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_prescale"))
        .arg("load")
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn json_summary_counts_requests_statuses_and_latency() {
    let base = server();
    let out = load(&[
        &format!("{base}/"),
        "--rate",
        "200",
        "--duration",
        "1s",
        "--format",
        "json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Not a terminal: no progress bar on stderr.
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["sent"], 200);
    assert_eq!(v["completed"], 200);
    assert_eq!(v["status_codes"]["200"], 200);
    assert!(v["latency"]["p50_ms"].as_f64().unwrap() >= 10.0, "{v}");
    let throughput = v["throughput"].as_f64().unwrap();
    assert!((180.0..=205.0).contains(&throughput), "{v}");

    let out = load(&[
        &format!("{base}/teapot"),
        "--rate",
        "50",
        "--duration",
        "200ms",
        "-q",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("status      418: 10"), "{text}");
    assert!(text.contains("p99"), "{text}");
}

#[test]
fn bad_arguments_exit_2_naming_them() {
    for (args, needle) in [
        (&["ftp://x/", "--rate", "1", "--duration", "1s"][..], "ftp"),
        (
            &["http://127.0.0.1:1/", "--rate", "-3", "--duration", "1s"][..],
            "--rate",
        ),
        (
            &["http://127.0.0.1:1/", "--rate", "3", "--duration", "soon"][..],
            "--duration",
        ),
        (
            &[
                "http://127.0.0.1:1/",
                "--rate",
                "3",
                "--duration",
                "1s",
                "--concurrency",
                "0",
            ][..],
            "--concurrency",
        ),
        (
            &[
                "http://127.0.0.1:1/",
                "--rate",
                "3",
                "--duration",
                "1s",
                "--profile",
                "/nonexistent/t.csv",
            ][..],
            "/nonexistent/t.csv",
        ),
    ] {
        let out = load(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}

#[test]
fn an_invalid_profile_or_no_response_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("t.csv");
    std::fs::write(&trace, "timestamp_seconds,value\n0,0\n60,0\n").unwrap();
    let out = load(&[
        "http://127.0.0.1:1/",
        "--rate",
        "3",
        "--duration",
        "1s",
        "--profile",
        trace.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("mean"));

    // Nothing listens: every request is a connect error.
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", l.local_addr().unwrap());
    drop(l);
    let out = load(&[
        &url,
        "--rate",
        "20",
        "--duration",
        "200ms",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["errors"]["connect"], 4, "{v}");
}
