//! prescale ho11y over real HTTP on loopback.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use prescale_ho11y::{App, Config};

fn config(pairs: &[(&str, &str)]) -> Config {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Config::from_lookup(|k| map.get(k).cloned()).unwrap()
}

/// Starts an instance on 127.0.0.1 and returns its base URL.
async fn start(pairs: &[(&str, &str)]) -> String {
    let app = App::new(config(pairs)).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    tokio::spawn(prescale_ho11y::serve(listener, app, std::future::pending()));
    format!("http://{addr}")
}

fn client() -> reqwest::Client {
    prescale_aws::install_crypto_provider();
    reqwest::Client::builder().build().unwrap()
}

/// `/metrics` as a scraper without an OpenMetrics Accept header reads it.
async fn scrape(base: &str) -> String {
    client()
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// `ho11y_total` by status code from a 0.0.4 scrape.
async fn totals(base: &str) -> HashMap<u16, u64> {
    let text = scrape(base).await;
    let mut out = HashMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("ho11y_total{http_status_code=\"") {
            let (code, value) = rest.split_once("\"} ").unwrap();
            out.insert(code.parse().unwrap(), value.parse().unwrap());
        }
    }
    out
}

async fn get_status(c: &reqwest::Client, url: &str) -> u16 {
    c.get(url).send().await.unwrap().status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_add_up_to_n_and_body_is_a_trace_id() {
    let base = start(&[("DISABLE_OM", "on")]).await;
    let c = client();
    let resp = c.get(format!("{base}/")).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.headers()["content-type"], "application/json");
    let body: serde_json::Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
    let id = body["traceId"].as_str().unwrap();
    let parts: Vec<&str> = id.split('-').collect();
    assert_eq!(parts.len(), 3, "{id}");
    assert_eq!(
        (parts[0], parts[1].len(), parts[2].len()),
        ("1", 8, 24),
        "{id}"
    );
    let secs = u64::from_str_radix(parts[1], 16).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(now.abs_diff(secs) < 5, "{id}");
    for _ in 1..137 {
        assert_eq!(get_status(&c, &format!("{base}/")).await, 200);
    }
    let t = totals(&base).await;
    assert_eq!(t, HashMap::from([(200, 137)]));
    assert_eq!(get_status(&c, &format!("{base}/nope")).await, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failure_injection_drops_about_49_percent() {
    let base = start(&[("HO11Y_INJECT_FAILURE", "enabled"), ("DISABLE_OM", "")]).await;
    let c = client();
    let n = 2000u64;
    let mut seen: HashMap<u16, u64> = HashMap::new();
    for _ in 0..n {
        let resp = c.get(format!("{base}/")).send().await.unwrap();
        let code = resp.status().as_u16();
        if code != 200 {
            assert!(
                resp.bytes().await.unwrap().is_empty(),
                "failure bodies are empty"
            );
        }
        *seen.entry(code).or_default() += 1;
    }
    let t = totals(&base).await;
    assert_eq!(t, seen, "the counter agrees with what the client saw");
    assert_eq!(t.values().sum::<u64>(), n);
    let failures = n - t.get(&200).copied().unwrap_or(0);
    // 49 % of 2000 = 980, sd ≈ 22: ±100 is > 4.5 sd.
    assert!(
        (880..=1080).contains(&failures),
        "{failures} failures of {n}: {t:?}"
    );
    for code in [400, 403, 301, 404, 501] {
        let k = t.get(&code).copied().unwrap_or(0);
        assert!((120..=280).contains(&k), "code {code}: {k} ({t:?})");
    }
    assert_eq!(t.len(), 6, "only 200 and the five failure codes: {t:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dummy_downstream_latency_and_size_are_honoured() {
    let base = start(&[
        ("DOWNSTREAM1", "DUMMY:187kB:120ms"),
        ("DOWNSTREAM3", "DUMMY:13kB:30ms"),
        ("DISABLE_OM", "on"),
    ])
    .await;
    let c = client();
    let t0 = Instant::now();
    assert_eq!(get_status(&c, &format!("{base}/")).await, 200);
    let took = t0.elapsed();
    // Sequential: at least 120 + 30 ms.
    assert!(took >= Duration::from_millis(150), "{took:?}");
    assert!(took < Duration::from_millis(1500), "{took:?}");
    let text = scrape(&base).await;
    assert!(
        text.contains(
            "ho11y_downstream_payload_bytes_sum{downstream=\"DUMMY:187kB:120ms\"} 191488\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("ho11y_downstream_payload_bytes_sum{downstream=\"DUMMY:13kB:30ms\"} 13312\n"),
        "{text}"
    );
    assert!(
        text.contains("ho11y_downstream_duration_seconds_count 2\n"),
        "{text}"
    );
    // 0.03 s is in the 0.0512 bucket, 0.12 s only in +Inf.
    assert!(
        text.contains("ho11y_downstream_duration_seconds_bucket{le=\"0.0256\"} 0\n"),
        "{text}"
    );
    assert!(
        text.contains("ho11y_downstream_duration_seconds_bucket{le=\"0.0512\"} 1\n"),
        "{text}"
    );
    assert!(
        text.contains("ho11y_downstream_duration_seconds_bucket{le=\"+Inf\"} 2\n"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn url_downstream_is_called_and_unreachable_one_gives_502() {
    let down = start(&[]).await;
    let base = start(&[("DOWNSTREAM0", &format!("{down}/")), ("DISABLE_OM", "on")]).await;
    let c = client();
    assert_eq!(get_status(&c, &format!("{base}/")).await, 200);
    assert_eq!(
        totals(&down).await,
        HashMap::from([(200, 1)]),
        "the downstream was invoked"
    );
    let text = scrape(&base).await;
    assert!(
        text.contains(&format!(
            "ho11y_downstream_payload_bytes_count{{downstream=\"{down}/\"}} 1\n"
        )),
        "{text}"
    );

    // A port with nothing listening.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let broken = start(&[
        ("DOWNSTREAM0", &format!("http://{closed}/")),
        ("DISABLE_OM", "on"),
    ])
    .await;
    assert_eq!(get_status(&c, &format!("{broken}/")).await, 502);
    assert_eq!(
        get_status(&c, &format!("{broken}/")).await,
        502,
        "still serving"
    );
    assert_eq!(totals(&broken).await, HashMap::from([(200, 2)]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disable_om_switches_the_format() {
    let om_accept = "application/openmetrics-text; version=1.0.0,text/plain;version=0.0.4;q=0.5";
    let c = client();
    for (pairs, expect_om) in [(&[][..], true), (&[("DISABLE_OM", "on")][..], false)] {
        let mut env = vec![("DOWNSTREAM0", "DUMMY:1kB:1ms")];
        env.extend_from_slice(pairs);
        let base = start(&env).await;
        assert_eq!(get_status(&c, &format!("{base}/")).await, 200);
        let resp = c
            .get(format!("{base}/metrics"))
            .header("accept", om_accept)
            .send()
            .await
            .unwrap();
        let ct = resp.headers()["content-type"].to_str().unwrap().to_string();
        let text = resp.text().await.unwrap();
        if expect_om {
            assert!(
                ct.starts_with("application/openmetrics-text; version=1.0.0"),
                "{ct}"
            );
            assert!(text.ends_with("# EOF\n"), "{text}");
            assert!(text.contains("# {traceid=\"1-"), "exemplar: {text}");
            assert!(
                text.contains("ho11y_total{http_status_code=\"200\"} 1.0\n"),
                "{text}"
            );
        } else {
            assert!(ct.starts_with("text/plain; version=0.0.4"), "{ct}");
            assert!(
                !text.contains("# EOF") && !text.contains("traceid"),
                "{text}"
            );
            assert!(
                text.contains("ho11y_total{http_status_code=\"200\"} 1\n"),
                "{text}"
            );
        }
        // Without the OpenMetrics Accept header, always 0.0.4.
        let resp = c.get(format!("{base}/metrics")).send().await.unwrap();
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/plain; version=0.0.4")
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_is_405() {
    let base = start(&[]).await;
    let c = client();
    for m in [
        reqwest::Method::POST,
        reqwest::Method::PUT,
        reqwest::Method::DELETE,
        reqwest::Method::HEAD,
    ] {
        let s = c
            .request(m.clone(), format!("{base}/"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        assert_eq!(s, 405, "{m}");
    }
    assert!(totals(&base).await.is_empty(), "405s are not counted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_answers_429_above_the_cutoff() {
    let base = start(&[("HO11Y_CUTOFF_TPS", "20"), ("DISABLE_OM", "on")]).await;
    let c = client();
    // Far above 20/s for > 1 s: after the first 500 ms window, requests get 429.
    let t0 = Instant::now();
    let mut n = 0u64;
    while t0.elapsed() < Duration::from_millis(1300) {
        get_status(&c, &format!("{base}/")).await;
        n += 1;
    }
    let t = totals(&base).await;
    assert_eq!(t.values().sum::<u64>(), n);
    assert!(t.get(&429).copied().unwrap_or(0) > n / 4, "{t:?} of {n}");
    assert!(t.get(&200).copied().unwrap_or(0) >= 1, "{t:?}");
    // After a quiet window the rate drops below the cut-off again.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(get_status(&c, &format!("{base}/")).await, 200);
}
