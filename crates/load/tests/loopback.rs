//! prescale-load against real axum servers on loopback.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use prescale_load::{Config, Live, Profile, Report, parse_url};
use tokio::time::Instant;

/// Serve `router` on an ephemeral loopback port; returns its base URL.
async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}/")
}

/// A server answering 200 after `delay`.
async fn delayed(delay: Duration) -> String {
    serve(Router::new().route(
        "/",
        get(move || async move {
            tokio::time::sleep(delay).await;
            "ok"
        }),
    ))
    .await
}

async fn load(url: &str, rate: f64, secs: f64, tweak: impl FnOnce(&mut Config)) -> Report {
    let mut c = Config::new(parse_url(url).unwrap(), rate, Duration::from_secs_f64(secs));
    tweak(&mut c);
    prescale_load::run(&c, Arc::new(Live::default()))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn achieves_500_rps_within_5_percent_and_latency_includes_the_delay() {
    let url = delayed(Duration::from_millis(20)).await;
    let r = load(&url, 500.0, 2.0, |_| {}).await;
    assert_eq!(r.sent, 1000, "{r:?}");
    assert_eq!(r.completed, 1000, "{r:?}");
    assert_eq!(r.errors.total(), 0);
    assert!(
        (r.throughput - 500.0).abs() <= 25.0,
        "throughput {} not within 5% of 500: {r:?}",
        r.throughput
    );
    let lat = r.latency.clone().unwrap();
    assert!(lat.p50_ms >= 20.0, "{lat:?}");
    assert!(lat.p50_ms < 60.0, "{lat:?}");
    assert!(lat.p90_ms >= lat.p50_ms && lat.p99_ms >= lat.p90_ms && lat.max_ms >= lat.p99_ms);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_slower_than_the_rate_makes_latency_grow() {
    // The server handles one request at a time, 20 ms each: 50 rps. Offered 100 rps for 1 s, the 100th
    // request is due at 0.99 s but is answered near 2 s. A closed-loop generator would report ~20 ms.
    let gate = Arc::new(tokio::sync::Mutex::new(()));
    let url = serve(Router::new().route(
        "/",
        get(move || {
            let gate = Arc::clone(&gate);
            async move {
                let _g = gate.lock().await;
                tokio::time::sleep(Duration::from_millis(20)).await;
                "ok"
            }
        }),
    ))
    .await;
    let r = load(&url, 100.0, 1.0, |_| {}).await;
    assert_eq!(r.completed, 100, "{r:?}");
    let lat = r.latency.clone().unwrap();
    assert!(lat.max_ms > 800.0, "{lat:?}");
    assert!(lat.p50_ms > 300.0, "{lat:?}");
    // Arrivals kept to the schedule even though replies lagged.
    assert!(r.max_start_lag_ms < 50.0, "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_concurrency_cap_delays_starts_but_counts_from_the_due_time() {
    let url = delayed(Duration::from_millis(20)).await;
    let r = load(&url, 100.0, 1.0, |c| c.concurrency = Some(1)).await;
    assert_eq!(r.completed, 100, "{r:?}");
    let lat = r.latency.clone().unwrap();
    // 100 requests at one at a time take >= 2 s: the last one starts ~1 s after it was due.
    assert!(lat.max_ms > 800.0, "{lat:?}");
    assert!(r.max_start_lag_ms > 800.0, "{r:?}");
    assert!(r.elapsed_seconds >= 2.0, "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_codes_are_counted() {
    let n = Arc::new(AtomicU64::new(0));
    let url = serve(Router::new().route(
        "/",
        get(move || {
            let i = n.fetch_add(1, Ordering::SeqCst);
            async move {
                match i % 4 {
                    0 => StatusCode::SERVICE_UNAVAILABLE,
                    1 => StatusCode::NOT_FOUND,
                    _ => StatusCode::OK,
                }
            }
        }),
    ))
    .await;
    let r = load(&url, 200.0, 1.0, |_| {}).await;
    assert_eq!(r.sent, 200);
    assert_eq!(r.status_codes.get(&503), Some(&50), "{r:?}");
    assert_eq!(r.status_codes.get(&404), Some(&50), "{r:?}");
    assert_eq!(r.status_codes.get(&200), Some(&100), "{r:?}");
    assert_eq!(r.completed, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_refused_and_timeouts_are_errors() {
    // A port that was just free: connections are refused.
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    let r = load(&format!("http://127.0.0.1:{port}/"), 50.0, 0.2, |_| {}).await;
    assert_eq!(r.sent, 10);
    assert_eq!(r.errors.connect, 10, "{r:?}");
    assert_eq!(r.completed, 0);
    assert!(r.latency.is_none());

    let url = delayed(Duration::from_secs(5)).await;
    let r = load(&url, 50.0, 0.2, |c| c.timeout = Duration::from_millis(100)).await;
    assert_eq!(r.errors.timeout, 10, "{r:?}");
    assert_eq!(r.completed, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_profile_doubling_in_its_second_half_sends_twice_the_requests() {
    let arrivals = Arc::new(Mutex::new(Vec::<Instant>::new()));
    let a = Arc::clone(&arrivals);
    let url = serve(Router::new().route(
        "/",
        get(move || {
            a.lock().unwrap().push(Instant::now());
            async { "ok" }
        }),
    ))
    .await;
    let start = Instant::now();
    let r = load(&url, 150.0, 2.0, |c| {
        c.profile = Some(Profile::new(&[(0.0, 10.0), (60.0, 20.0)]).unwrap());
        c.speedup = 60.0;
    })
    .await;
    assert_eq!(r.sent, 300, "{r:?}");
    let arrivals = arrivals.lock().unwrap();
    let mid = start + Duration::from_secs(1);
    let first = arrivals.iter().filter(|&&t| t < mid).count() as f64;
    let second = arrivals.len() as f64 - first;
    let ratio = second / first;
    assert!((1.8..2.2).contains(&ratio), "{first} then {second}");
}
