//! Entry points for the fuzz targets in `fuzz/` (libFuzzer, through `cargo fuzz`) and for the
//! regression test that replays their seeds and every input a fuzz run found on stable
//! (`tests/it/fuzz_seeds.rs`).
//!
//! Each takes arbitrary bytes and returns `Err` naming the broken property: not only "did not
//! panic" but what hostile input must still get (an error naming where and what, a `Status`
//! whose code is the HTTP status, a watch stream of whole JSON lines). Not part of the API.

use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt as _;

use crate::apiserver::ApiServer;
use crate::scenario::Scenario;
use crate::selector::Selector;
use crate::trace::Recorder;

/// The name view and kubeconfig errors must give for the file they came from (a scenario
/// given as text is `<string>`).
const FILE: &str = "fuzzed.yaml";

/// The most objects and steps a scenario may have for the scenario target to build its server:
/// the loader allows far more, and building a server of a million objects is seconds of honest
/// work (the scale bench's, `benches/scale.rs`), which libFuzzer would report as a hang.
const SERVED_SIZE: usize = 10_000;

/// How long (virtual, on a paused clock) a request's answer is read for: long enough for
/// every whole answer, short of the first bookmark of a watch that streams on.
const READ_FOR: Duration = Duration::from_secs(5);

/// The scenario loader: a file is either a scenario or an error that names the file.
///
/// # Errors
/// The property the input broke.
pub fn scenario(data: &[u8]) -> Result<(), String> {
    let Ok(text) = std::str::from_utf8(data) else {
        return Ok(());
    };
    match Scenario::from_yaml(text) {
        Ok(scenario) if scenario.objects.len() + scenario.timeline.len() > SERVED_SIZE => Ok(()),
        Ok(scenario) => {
            // A scenario the loader accepts can be served: its objects go into a store, and
            // its steps at time zero are applied.
            runtime().block_on(async {
                let server = ApiServer::new(&scenario, Recorder::start());
                drop(crate::apiserver::play(server, scenario));
            });
            Ok(())
        }
        Err(e) => {
            let message = e.to_string();
            if message.starts_with("<string>") {
                Ok(())
            } else {
                Err(format!("the error does not name the file: {message}"))
            }
        }
    }
}

/// Label and field selectors: the first line is a `labelSelector`, the rest a
/// `fieldSelector` for Pods (whose own field labels the parser knows). Parsing is
/// deterministic, and a selector that parses can be applied.
///
/// # Errors
/// The property the input broke.
pub fn selector(data: &[u8]) -> Result<(), String> {
    let text = String::from_utf8_lossy(data);
    let (labels, fields) = text.split_once('\n').unwrap_or((&text, ""));
    let parse = || Selector::parse_for("", "Pod", Some(labels), Some(fields));
    match (parse(), parse()) {
        (Ok(a), Ok(b)) if a == b => {
            let labels = [("app", "web"), ("tier", "7")]
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .into();
            let body = [
                ("spec", serde_json::json!({ "nodeName": "node-1" })),
                ("status", serde_json::json!({ "phase": "Running" })),
            ]
            .map(|(k, v)| (k.to_owned(), v))
            .into();
            let _ = a.selects("p", Some("default"), &labels, &body);
            Ok(())
        }
        (Err(a), Err(b)) if a == b && !a.is_empty() => Ok(()),
        (a, b) => Err(format!(
            "two parses of the same selector differ, or an error is empty: {a:?} / {b:?}"
        )),
    }
}

/// The view file `harness exec` reads from a client: its objects, or an error that names the
/// file and a line of it.
///
/// # Errors
/// The property the input broke.
pub fn view(data: &[u8]) -> Result<(), String> {
    let Ok(text) = std::str::from_utf8(data) else {
        return Ok(());
    };
    let lines = text.lines().count();
    match crate::exec::view::parse(text, Path::new(FILE)) {
        Ok(_) => Ok(()),
        Err(crate::exec::Error::View { path, line, .. })
            if path == Path::new(FILE) && (1..=lines).contains(&line) =>
        {
            Ok(())
        }
        Err(e) => Err(format!("the error does not name the file and a line: {e}")),
    }
}

/// The kubeconfig `harness proxy --upstream` reads: either a context with credentials that
/// kube can make a client of, or an error that names the file. Kubeconfigs that name other
/// files or programs (a token file, an exec plugin) are only read, never acted on.
///
/// # Errors
/// The property the input broke.
pub fn kubeconfig(data: &[u8]) -> Result<(), String> {
    let Ok(text) = std::str::from_utf8(data) else {
        return Ok(());
    };
    let Ok(kubeconfig) = kube::config::Kubeconfig::from_yaml(text) else {
        return Ok(());
    };
    let path = Path::new(FILE);
    let options = match crate::proxy::upstream_context(&kubeconfig, None, path) {
        Ok(options) => options,
        Err(e) => {
            let message = e.to_string();
            return if message.contains(FILE) {
                Ok(())
            } else {
                Err(format!("the error does not name the file: {message}"))
            };
        }
    };
    let acts = kubeconfig.auth_infos.iter().any(|a| {
        a.auth_info.as_ref().is_some_and(|a| {
            a.exec.is_some()
                || a.auth_provider.is_some()
                || a.token_file.is_some()
                || a.client_certificate.is_some()
                || a.client_key.is_some()
        })
    }) || kubeconfig.clusters.iter().any(|c| {
        c.cluster
            .as_ref()
            .is_some_and(|c| c.certificate_authority.is_some())
    });
    if acts {
        return Ok(());
    }
    runtime().block_on(async {
        if let Ok(config) = kube::Config::from_custom_kubeconfig(kubeconfig, &options).await {
            let _ = kube::Client::try_from(config);
        }
    });
    Ok(())
}

/// One request to the simulated apiserver serving `scenario` (a fresh server each time, at
/// time zero): the input's first line is `METHOD TARGET`, then headers up to a blank line, then
/// the body. Every error is a `Status` whose `code` is the HTTP status; every JSON answer is
/// whole JSON, a watch one line per event.
///
/// # Errors
/// The property the input broke.
pub fn request(scenario: &Scenario, data: &[u8]) -> Result<(), String> {
    let Some(request) = http_request(data) else {
        return Ok(());
    };
    runtime().block_on(async {
        let server = ApiServer::new(scenario, Recorder::start());
        // The steps at time zero are applied when `play` is called; the rest is never run.
        drop(crate::apiserver::play(server.clone(), scenario.clone()));
        let answer = tokio::time::timeout(READ_FOR, async {
            let response = server.handle(request).await;
            let (head, mut body) = response.into_parts();
            let mut bytes = Vec::new();
            while let Some(Ok(frame)) = body.frame().await {
                if let Ok(data) = frame.into_data() {
                    bytes.extend_from_slice(&data);
                }
            }
            (head, bytes)
        });
        // NB: a watch streams on; what came in `READ_FOR` is checked whole lines at a time.
        let Ok((head, bytes)) = answer.await else {
            return Ok(());
        };
        check_answer(head.status.as_u16(), &head.headers, &bytes)
    })
}

fn check_answer(status: u16, headers: &http::HeaderMap, body: &[u8]) -> Result<(), String> {
    let json = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !json || body.is_empty() {
        return Ok(());
    }
    let mut values = Vec::new();
    for line in body.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let value: serde_json::Value = serde_json::from_slice(line).map_err(|e| {
            format!(
                "a {status} JSON answer is not whole JSON ({e}): {}",
                String::from_utf8_lossy(line)
            )
        })?;
        values.push(value);
    }
    if status >= 400 {
        let [value] = values.as_slice() else {
            return Err(format!("a {status} answer is not one Status"));
        };
        if value["kind"] != "Status" || value["code"] != status {
            return Err(format!(
                "a {status} answer is not a Status of that code: {value}"
            ));
        }
    }
    Ok(())
}

fn http_request(data: &[u8]) -> Option<http::Request<http_body_util::Full<Bytes>>> {
    let (head, body) = match data.windows(2).position(|w| w == b"\n\n") {
        Some(at) => (&data[..at], &data[at + 2..]),
        None => (data, &[][..]),
    };
    let mut lines = head.split(|b| *b == b'\n');
    let first = std::str::from_utf8(lines.next()?).ok()?;
    let (method, target) = first.split_once(' ')?;
    let mut builder = http::Request::builder()
        .method(http::Method::from_bytes(method.as_bytes()).ok()?)
        .uri(http::Uri::try_from(target).ok()?);
    for line in lines {
        let colon = line.iter().position(|b| *b == b':')?;
        let name = http::HeaderName::from_bytes(&line[..colon]).ok()?;
        let value = http::HeaderValue::from_bytes(line[colon + 1..].trim_ascii()).ok()?;
        builder = builder.header(name, value);
    }
    builder
        .body(http_body_util::Full::new(Bytes::copy_from_slice(body)))
        .ok()
}

/// A paused-clock runtime of its own for each input: what one input leaves behind (a task
/// waiting on a timer that never fires) goes with it, and each starts at time zero.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a current-thread runtime builds")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json() -> http::HeaderMap {
        let mut headers = http::HeaderMap::new();
        headers.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        headers
    }

    #[test]
    fn an_error_answer_must_be_a_status_of_its_own_code() {
        let status = br#"{"kind":"Status","apiVersion":"v1","code":404}"#;
        assert!(check_answer(404, &json(), status).is_ok());
        assert!(check_answer(410, &json(), status).is_err());
        assert!(check_answer(404, &json(), br#"{"kind":"ConfigMap"}"#).is_err());
    }

    #[test]
    fn every_line_of_a_json_answer_must_be_whole_json() {
        let stream = b"{\"type\":\"ADDED\",\"object\":{}}\n{\"type\":\"BOOKMARK\",\"obj";
        assert!(check_answer(200, &json(), stream).is_err());
        assert!(check_answer(200, &json(), &stream[..29]).is_ok());
    }

    #[test]
    fn a_request_is_read_as_a_line_headers_and_a_body() {
        let request = http_request(b"POST /api/v1/pods?limit=1\nAccept: application/json\n\n{}")
            .expect("it reads");
        assert_eq!(request.method(), http::Method::POST);
        assert_eq!(request.uri().query(), Some("limit=1"));
        assert_eq!(request.headers()["accept"], "application/json");
        assert!(http_request(b"GET").is_none(), "no target");
    }

    #[test]
    fn a_view_error_must_name_the_file_and_a_line() {
        assert!(view(b"{\"key\":\"a\",\"resourceVersion\":\"1\"}\nnot json\n").is_ok());
        assert!(view(b"{\"key\":\"a\",\"resourceVersion\":\"1\"}\n").is_ok());
    }

    #[test]
    fn a_selector_parses_the_same_twice_and_its_errors_say_why() {
        assert!(selector(b"app in (web,db),!canary\nmetadata.name=a").is_ok());
        assert!(
            selector(b"app in (web\n").is_ok(),
            "an error with a message is fine"
        );
    }
}
