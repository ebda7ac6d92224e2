//! Watches on the fake API server: kube's `watcher` (list + watch, streaming lists), resuming
//! after a closed stream, relisting after a 410, bookmarks, selectors on watch, timeouts and the
//! bounded history.

use std::time::Duration;

use futures_util::{Stream, StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams};
use kube::core::PartialObjectMeta;
use kube::runtime::watcher::{self, Event};
use kube::{Client, ResourceExt};
use prescale_testkit::apiserver::{Config, FakeApiServer, FakeClock};
use serde_json::json;

fn setup(config: Config) -> (FakeApiServer, Client) {
    let server = FakeApiServer::with_config(FakeClock::at_unix(1_714_564_800), config);
    let client = server.client();
    (server, client)
}

/// Watch parameters without bookmarks (kube's default asks for them).
fn wp() -> WatchParams {
    WatchParams {
        bookmarks: false,
        ..WatchParams::default()
    }
}

fn cm(name: &str, labels: serde_json::Value) -> ConfigMap {
    serde_json::from_value(json!({ "metadata": { "name": name, "labels": labels } })).unwrap()
}

/// Next item of a stream, failing the test after 5 s.
async fn next<S: Stream + Unpin>(s: &mut S) -> S::Item {
    tokio::time::timeout(Duration::from_secs(5), s.next())
        .await
        .expect("timed out waiting for a watch item")
        .expect("stream ended")
}

/// Runs a watcher in a task (so it keeps polling, as a controller does) and hands its items
/// over a channel.
fn spawn_watcher<K>(api: Api<K>, config: watcher::Config) -> Watched<K>
where
    K: kube::Resource + Clone + std::fmt::Debug + serde::de::DeserializeOwned + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut w = watcher::watcher(api, config).boxed();
        while let Some(item) = w.next().await {
            if tx.send(item.map_err(|e| e.to_string())).is_err() {
                break;
            }
        }
    });
    Watched { rx }
}

struct Watched<K> {
    rx: tokio::sync::mpsc::UnboundedReceiver<Result<Event<K>, String>>,
}

/// Next watcher event that is not an error; errors are collected in `errors`.
async fn next_event(w: &mut Watched<ConfigMap>, errors: &mut Vec<String>) -> Event<ConfigMap> {
    loop {
        let item = tokio::time::timeout(Duration::from_secs(5), w.rx.recv())
            .await
            .expect("timed out waiting for a watcher event")
            .expect("watcher ended");
        match item {
            Ok(e) => return e,
            Err(e) => errors.push(e),
        }
    }
}

fn describe(e: &Event<ConfigMap>) -> String {
    match e {
        Event::Init => "Init".into(),
        Event::InitApply(o) => format!("InitApply {}", o.name_any()),
        Event::InitDone => "InitDone".into(),
        Event::Apply(o) => format!("Apply {}", o.name_any()),
        Event::Delete(o) => format!("Delete {}", o.name_any()),
    }
}

async fn events(w: &mut Watched<ConfigMap>, n: usize, errors: &mut Vec<String>) -> Vec<String> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(describe(&next_event(w, errors).await));
    }
    out
}

#[tokio::test]
async fn watcher_sees_added_modified_deleted() {
    let (server, client) = setup(Config::default());
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    api.create(&PostParams::default(), &cm("pre", json!({})))
        .await
        .unwrap();

    let mut w = spawn_watcher(api.clone(), watcher::Config::default());
    let mut errors = Vec::new();
    assert_eq!(
        events(&mut w, 3, &mut errors).await,
        ["Init", "InitApply pre", "InitDone"]
    );
    assert!(
        server
            .wait_until(Duration::from_secs(5), |s| s.open_watches() == 1)
            .await
    );

    api.create(&PostParams::default(), &cm("a", json!({})))
        .await
        .unwrap();
    api.patch(
        "a",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"k": "v"}})),
    )
    .await
    .unwrap();
    api.delete("a", &DeleteParams::default()).await.unwrap();
    let got = events(&mut w, 3, &mut errors).await;
    assert_eq!(got, ["Apply a", "Apply a", "Delete a"]);
    assert!(errors.is_empty(), "{errors:?}");

    let verbs: Vec<String> = server.requests().iter().map(|r| r.verb.clone()).collect();
    assert_eq!(&verbs[1..3], ["list", "watch"]);
    let watch = server
        .requests()
        .into_iter()
        .find(|r| r.verb == "watch")
        .unwrap();
    assert!(
        watch.query.contains("allowWatchBookmarks=true"),
        "{}",
        watch.query
    );
}

#[tokio::test]
async fn closed_watch_resumes_from_its_resource_version_without_relisting() {
    let (server, client) = setup(Config::default());
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    let mut w = spawn_watcher(api.clone(), watcher::Config::default());
    let mut errors = Vec::new();
    assert_eq!(events(&mut w, 2, &mut errors).await, ["Init", "InitDone"]);
    assert!(
        server
            .wait_until(Duration::from_secs(5), |s| s.open_watches() == 1)
            .await
    );

    server.close_watches();
    assert_eq!(server.open_watches(), 0);
    // Written while the watch is down: delivered from the history on resume.
    api.create(&PostParams::default(), &cm("gap", json!({})))
        .await
        .unwrap();
    assert_eq!(events(&mut w, 1, &mut errors).await, ["Apply gap"]);
    let lists = server
        .requests()
        .iter()
        .filter(|r| r.verb == "list")
        .count();
    let watches = server
        .requests()
        .iter()
        .filter(|r| r.verb == "watch")
        .count();
    assert_eq!((lists, watches), (1, 2));
    assert!(errors.is_empty(), "{errors:?}");
}

#[tokio::test]
async fn watcher_relists_after_410_expired() {
    let (server, client) = setup(Config::default());
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    api.create(&PostParams::default(), &cm("old", json!({})))
        .await
        .unwrap();
    let mut w = spawn_watcher(api.clone(), watcher::Config::default());
    let mut errors = Vec::new();
    assert_eq!(
        events(&mut w, 3, &mut errors).await,
        ["Init", "InitApply old", "InitDone"]
    );
    assert!(
        server
            .wait_until(Duration::from_secs(5), |s| s.open_watches() == 1)
            .await
    );

    // An apiserver restart with compacted storage: the resumed watch gets 410 and the
    // watcher starts over with a list, which sees the object written meanwhile.
    api.create(&PostParams::default(), &cm("new", json!({})))
        .await
        .unwrap();
    assert_eq!(events(&mut w, 1, &mut errors).await, ["Apply new"]);
    server.restart();
    api.create(&PostParams::default(), &cm("during", json!({})))
        .await
        .unwrap();
    let got = events(&mut w, 5, &mut errors).await;
    // "during" is in the relist or comes right after it, depending on who is faster.
    let relisted: Vec<&str> = got
        .iter()
        .map(String::as_str)
        .filter(|e| !e.ends_with("during"))
        .collect();
    assert_eq!(
        relisted,
        ["Init", "InitApply new", "InitApply old", "InitDone"],
        "{got:?}"
    );
    assert!(
        got.iter()
            .any(|e| e == "InitApply during" || e == "Apply during"),
        "{got:?}"
    );
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("too old resource version"), "{errors:?}");
    let lists = server
        .requests()
        .iter()
        .filter(|r| r.verb == "list")
        .count();
    assert_eq!(lists, 2);
}

#[tokio::test]
async fn streaming_list_watcher() {
    let (server, client) = setup(Config::default());
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    api.create(&PostParams::default(), &cm("x", json!({})))
        .await
        .unwrap();
    let mut w = spawn_watcher(api.clone(), watcher::Config::default().streaming_lists());
    let mut errors = Vec::new();
    assert_eq!(
        events(&mut w, 3, &mut errors).await,
        ["Init", "InitApply x", "InitDone"]
    );
    api.create(&PostParams::default(), &cm("y", json!({})))
        .await
        .unwrap();
    assert_eq!(events(&mut w, 1, &mut errors).await, ["Apply y"]);
    assert!(server.requests().iter().all(|r| r.verb != "list"));
    assert!(errors.is_empty(), "{errors:?}");
}

#[tokio::test]
async fn metadata_watcher() {
    let (_server, client) = setup(Config::default());
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    api.create(&PostParams::default(), &cm("m", json!({"a": "b"})))
        .await
        .unwrap();
    let meta: Api<PartialObjectMeta<ConfigMap>> = Api::namespaced(client, "default");
    let mut w = watcher::watcher(meta, watcher::Config::default()).boxed();
    let mut seen = Vec::new();
    loop {
        match next(&mut w).await.unwrap() {
            Event::InitApply(o) => seen.push(o),
            Event::InitDone => break,
            _ => {}
        }
    }
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].labels().get("a").map(String::as_str), Some("b"));
    api.create(&PostParams::default(), &cm("n", json!({"c": "d"})))
        .await
        .unwrap();
    let Event::Apply(o) = next(&mut w).await.unwrap() else {
        panic!("expected Apply")
    };
    assert_eq!(o.name_any(), "n");
    assert_eq!(o.labels().get("c").map(String::as_str), Some("d"));
    assert_eq!(o.types.as_ref().unwrap().kind, "PartialObjectMetadata");
}

#[tokio::test]
async fn bookmarks_carry_the_current_resource_version() {
    let (server, client) = setup(Config {
        bookmark_interval: Duration::from_millis(50),
        ..Config::default()
    });
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    api.create(&PostParams::default(), &cm("a", json!({})))
        .await
        .unwrap();
    let rv = server.resource_version().to_string();
    let mut s = api
        .watch(&WatchParams::default(), &rv)
        .await
        .unwrap()
        .boxed();
    api.create(&PostParams::default(), &cm("b", json!({})))
        .await
        .unwrap();
    match next(&mut s).await.unwrap() {
        WatchEvent::Added(o) => assert_eq!(o.name_any(), "b"),
        other => panic!("expected ADDED, got {other:?}"),
    }
    match next(&mut s).await.unwrap() {
        WatchEvent::Bookmark(b) => assert_eq!(
            b.metadata.resource_version,
            server.resource_version().to_string()
        ),
        other => panic!("expected BOOKMARK, got {other:?}"),
    }
    // Without bookmarks requested, none come.
    let mut quiet = api
        .watch(&wp(), &server.resource_version().to_string())
        .await
        .unwrap()
        .boxed();
    assert!(
        tokio::time::timeout(Duration::from_millis(300), quiet.next())
            .await
            .is_err()
    );
}

#[tokio::test]
async fn watch_semantics_of_resource_version_selectors_and_timeout() {
    let (server, client) = setup(Config::default());
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    api.create(&PostParams::default(), &cm("a", json!({"app": "web"})))
        .await
        .unwrap();
    let after_a = server.resource_version().to_string();
    api.create(&PostParams::default(), &cm("b", json!({"app": "db"})))
        .await
        .unwrap();

    // From "0": ADDED for the current state.
    let mut s = api.watch(&wp(), "0").await.unwrap().boxed();
    let mut names = Vec::new();
    for _ in 0..2 {
        if let WatchEvent::Added(o) = next(&mut s).await.unwrap() {
            names.push(o.name_any());
        }
    }
    assert_eq!(names, ["a", "b"]);

    // From a resourceVersion: only what came after it.
    let mut s = api.watch(&wp(), &after_a).await.unwrap().boxed();
    match next(&mut s).await.unwrap() {
        WatchEvent::Added(o) => assert_eq!(o.name_any(), "b"),
        other => panic!("{other:?}"),
    }

    // A label selector sees objects enter and leave it.
    let rv = server.resource_version().to_string();
    let mut sel = api
        .watch(&wp().labels("app=web"), &rv)
        .await
        .unwrap()
        .boxed();
    api.patch(
        "b",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"app": "web"}}})),
    )
    .await
    .unwrap();
    api.patch(
        "b",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"k": "v"}})),
    )
    .await
    .unwrap();
    api.patch(
        "a",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"app": "db"}}})),
    )
    .await
    .unwrap();
    let mut got = Vec::new();
    for _ in 0..3 {
        got.push(match next(&mut sel).await.unwrap() {
            WatchEvent::Added(o) => format!("ADDED {}", o.name_any()),
            WatchEvent::Modified(o) => format!("MODIFIED {}", o.name_any()),
            WatchEvent::Deleted(o) => format!("DELETED {}", o.name_any()),
            other => panic!("{other:?}"),
        });
    }
    assert_eq!(got, ["ADDED b", "MODIFIED b", "DELETED a"]);

    // timeoutSeconds ends the stream.
    let started = tokio::time::Instant::now();
    let mut t = api
        .watch(&wp().timeout(1), &server.resource_version().to_string())
        .await
        .unwrap()
        .boxed();
    let end = tokio::time::timeout(Duration::from_secs(5), t.next())
        .await
        .unwrap();
    assert!(end.is_none());
    assert!(started.elapsed() >= Duration::from_millis(900));
}

#[tokio::test]
async fn history_window_expires_old_resource_versions() {
    let (server, client) = setup(Config {
        history_limit: 3,
        ..Config::default()
    });
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    api.create(&PostParams::default(), &cm("a", json!({})))
        .await
        .unwrap();
    let early = server.resource_version();
    for i in 0..5 {
        api.patch(
            "a",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"i": i.to_string()}})),
        )
        .await
        .unwrap();
    }
    let mut s = api.watch(&wp(), &early.to_string()).await.unwrap().boxed();
    match next(&mut s).await.unwrap() {
        WatchEvent::Error(e) => {
            assert_eq!((e.code, e.reason.as_str()), (410, "Expired"));
            assert!(
                e.message
                    .starts_with(&format!("too old resource version: {early} (")),
                "{}",
                e.message
            );
        }
        other => panic!("expected ERROR, got {other:?}"),
    }
    assert!(
        tokio::time::timeout(Duration::from_secs(1), s.next())
            .await
            .unwrap()
            .is_none()
    );
    // Within the window: replayed.
    let recent = server.resource_version() - 2;
    let s = api.watch(&wp(), &recent.to_string()).await.unwrap();
    let got: Vec<_> = s.take(2).try_collect().await.unwrap();
    assert!(got.iter().all(|e| matches!(e, WatchEvent::Modified(_))));
}
