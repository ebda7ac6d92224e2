//! Measure the generator's ceiling: an axum "ok" server and prescale-load in one process on loopback.
//! `cargo run --release -p prescale-load --example selfload -- RATE SECONDS`

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::get;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let rate: f64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(20_000.0);
    let secs: f64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(3.0);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, Router::new().route("/", get(|| async { "ok" })))
            .await
            .unwrap()
    });
    let url = prescale_load::parse_url(&format!("http://{addr}/")).unwrap();
    let config = prescale_load::Config::new(url, rate, Duration::from_secs_f64(secs));
    let report = prescale_load::run(&config, Arc::new(prescale_load::Live::default()))
        .await
        .unwrap();
    println!("{report:#?}");
}
