//! A kube-rs watcher as most controllers build one — kube's `Config` from `KUBECONFIG`,
//! `watcher::Config::default()`, kube's default backoff, a reflector store — that writes its
//! store for `harness exec` to judge: on SIGTERM it writes one JSON line per object to the file
//! named by `KWH_VIEW_FILE`, then exits.
//!
//! ```sh
//! cargo build --example view_client
//! harness exec scenarios/forced-410.yaml --speed 20 -- \
//!     target/debug/examples/view_client v1 ConfigMap configmaps
//! ```
//!
//! Arguments: the resource's apiVersion, kind and plural, as the scenario's `resource` names
//! them.

use std::io::Write;

use futures::StreamExt;
use kube::api::{ApiResource, DynamicObject, GroupVersionKind};
use kube::runtime::reflector::store::Writer;
use kube::runtime::{WatchStreamExt, reflector, watcher};
use kube::{Api, Client, Config, ResourceExt};
use tokio::signal::unix::{SignalKind, signal};

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [api_version, kind, plural] = args.as_slice() else {
        anyhow::bail!("usage: view_client API_VERSION KIND PLURAL (e.g. v1 ConfigMap configmaps)");
    };
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    let resource =
        ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural);
    let client = Client::try_from(Config::infer().await?)?;
    let api = Api::<DynamicObject>::all_with(client, &resource);
    let writer = Writer::new(resource);
    let store = writer.as_reader();
    let run = reflector(writer, watcher(api, watcher::Config::default()))
        .default_backoff()
        .for_each(|_| std::future::ready(()));
    let mut terminate = signal(SignalKind::terminate())?;
    tokio::select! {
        () = run => {}
        _ = terminate.recv() => {}
    }
    if let Some(path) = std::env::var_os("KWH_VIEW_FILE") {
        let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
        for object in store.state() {
            let key = match object.namespace() {
                Some(namespace) => format!("{namespace}/{}", object.name_any()),
                None => object.name_any(),
            };
            let line = serde_json::json!({
                "key": key,
                "resourceVersion": object.resource_version().unwrap_or_default(),
            });
            writeln!(out, "{line}")?;
        }
        out.flush()?;
    }
    Ok(())
}
