//! Every object every built-in scenario has the server serve is one kube-apiserver could have
//! stored: each version of each object, as a LIST serves it after each write, checked whole
//! (`metadata` as the server renders it included) against its kind's OpenAPI schema.

use kube_watch_harness::apiserver::ApiServer;
use kube_watch_harness::openapi::Kind;
use kube_watch_harness::scenario::{Action, Scenario, Write};
use kube_watch_harness::trace::Recorder;
use kube_watch_harness::transport;

use crate::fixture::{json, yaml_files};

/// Every item of a full LIST of `scenario`'s resource, as served now.
async fn listed(client: &kube::Client, scenario: &Scenario) -> Vec<serde_json::Value> {
    let resource = &scenario.resource;
    let prefix = if resource.group.is_empty() {
        format!("/api/{}", resource.version)
    } else {
        format!("/apis/{}/{}", resource.group, resource.version)
    };
    let request = http::Request::get(format!("{prefix}/{}", resource.plural))
        .body(kube::client::Body::empty())
        .unwrap();
    let response = client.send(request).await.expect("the LIST is answered");
    assert_eq!(response.status(), 200);
    let bytes = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    json(&bytes)["items"].as_array().unwrap().clone()
}

#[test]
fn every_object_every_built_in_scenario_serves_could_be_stored_by_kube_apiserver() {
    let mut checked = 0;
    for path in yaml_files("scenarios") {
        let scenario = Scenario::load(&path).unwrap();
        let Some(kind) = Kind::find(
            &scenario.resource.group,
            &scenario.resource.version,
            &scenario.resource.kind,
        ) else {
            continue;
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        checked += runtime.block_on(async {
            let server = ApiServer::new(&scenario, Recorder::start());
            let client = transport::client(server.clone(), &transport::config(), 0).unwrap();
            let mut served = 0;
            let writes = scenario.timeline.iter().filter_map(|s| match &s.action {
                Action::Write(w) => Some(w),
                Action::Fault(_) => None,
            });
            // The initial objects, then the state after each write.
            for write in std::iter::once(None).chain(writes.map(Some)) {
                if let Some(write) = write {
                    server.write(write);
                    if matches!(write, Write::Delete { .. }) {
                        continue;
                    }
                }
                for item in listed(&client, &scenario).await {
                    if let Err(violation) = kind.check_object(&item) {
                        panic!(
                            "{}: {} could not have been stored: {violation}\n{item:#}",
                            path.display(),
                            item["metadata"]["name"]
                        );
                    }
                    served += 1;
                }
            }
            served
        });
    }
    assert!(checked > 100, "{checked} objects served and checked");
}
