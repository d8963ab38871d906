//! Running a case's steps against one target and recording what it answered, normalized.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use bytes::Bytes;
use http::Request;
use http_body_util::BodyExt;
use kube::client::Body;
use serde_json::{Value, json};

use crate::case::{self, Case, Keep, Step};
use crate::normalize::{self, Revisions};
use crate::target::{Op, Target, kind_of};

/// How far apart a `churn` step's updates are.
const CHURN_EVERY: Duration = Duration::from_millis(20);

/// What one target answered to a case: one entry per recorded step.
pub(crate) type Transcript = Vec<Value>;

/// An open watch: its body, and the bytes read past the last whole line.
struct OpenWatch {
    body: Body,
    pending: Vec<u8>,
    ended: Option<String>,
    /// A gzipped body's bytes past its last whole member, and whether every member so far
    /// ended on an event's newline; `None` for a plain body.
    gzip: Option<(Vec<u8>, bool)>,
}

/// The state of a case while it runs on one target.
struct Run<'t, 'a> {
    target: &'t Target<'a>,
    case: &'t Case,
    revisions: Revisions,
    /// resourceVersion of each object's last write.
    written: HashMap<String, u64>,
    labels: HashMap<String, BTreeMap<String, String>>,
    last_rv: Option<String>,
    last_continue: Option<String>,
    watches: HashMap<String, OpenWatch>,
    /// Watches whose opening was refused.
    refused: HashSet<String>,
    transcript: Transcript,
}

/// Runs `case` on `target`.
pub(crate) async fn run(target: &Target<'_>, case: &Case) -> anyhow::Result<Transcript> {
    let mut run = Run {
        target,
        case,
        revisions: Revisions::default(),
        written: HashMap::new(),
        labels: HashMap::new(),
        last_rv: None,
        last_continue: None,
        watches: HashMap::new(),
        refused: HashSet::new(),
        transcript: Vec::new(),
    };
    for (index, step) in case.steps.iter().enumerate() {
        run.step(step)
            .await
            .map_err(|e| e.context(format!("step {} of {}", index + 1, case.name)))?;
    }
    Ok(run.transcript)
}

impl Run<'_, '_> {
    async fn step(&mut self, step: &Step) -> anyhow::Result<()> {
        match step {
            Step::Create(object) => self.write(Op::Create, object).await,
            Step::Update(object) => self.write(Op::Update, object).await,
            Step::Delete { name } => {
                let object = case::Object {
                    name: name.clone(),
                    labels: None,
                    body: BTreeMap::new(),
                };
                self.write(Op::Delete, &object).await
            }
            Step::Churn(churn) => self.churn(churn).await,
            Step::Compact => self.target.compact().await,
            Step::Restart => self.target.restart().await,
            Step::Request(request) => self.request(request).await,
            Step::Watch(watch) => self.watch(watch).await,
            Step::Read(read) => self.read(read).await,
        }
    }

    async fn write(&mut self, op: Op, object: &case::Object) -> anyhow::Result<()> {
        let before = self.labels.get(&object.name).cloned();
        let rv = self
            .target
            .write(self.case, op, object, before.as_ref())
            .await?;
        if let Some(labels) = &object.labels {
            self.labels.insert(object.name.clone(), labels.clone());
        }
        self.revisions.writes.push(rv);
        self.written.insert(object.name.clone(), rv);
        Ok(())
    }

    async fn churn(&mut self, churn: &case::Churn) -> anyhow::Result<()> {
        // One update every 20 ms on both sides: the simulation's writes take no time, and a
        // burst in one instant would reach its watches only once the burst is over.
        let start = tokio::time::Instant::now();
        for n in 0..churn.times {
            let at = start + CHURN_EVERY * u32::try_from(n)?;
            tokio::time::sleep_until(at).await;
            // A different value each time, so no update is a no-op.
            let fill = format!("{n:08}{}", "x".repeat(churn.bytes.saturating_sub(8)));
            let object = case::Object {
                name: churn.name.clone(),
                labels: None,
                body: [("data".to_owned(), json!({ "fill": fill }))].into(),
            };
            self.write(Op::Update, &object).await?;
        }
        Ok(())
    }

    /// Fills the placeholders of `text`.
    async fn fill(&mut self, text: &str) -> anyhow::Result<String> {
        let (_, version) = kind_of(&self.case.resource);
        let collection = format!(
            "/api/{version}/namespaces/{}/{}",
            self.case.namespace(),
            self.case.resource
        );
        let mut out = text
            .replace("{collection}", &collection)
            .replace("{ns}", &self.case.namespace());
        if out.contains("{rv}") {
            let rv = self.last_rv.clone().unwrap_or_default();
            out = out.replace("{rv}", &rv);
        }
        if out.contains("{continue}") {
            let token = self.last_continue.clone().unwrap_or_default();
            out = out.replace("{continue}", &token);
        }
        if out.contains("{ahead}") {
            let ahead = self.target.revision().await? + 1000;
            self.revisions.ahead = Some(ahead);
            out = out.replace("{ahead}", &ahead.to_string());
        }
        while let Some(start) = out.find("{rv:") {
            let end = start + out[start..].find('}').unwrap_or(out.len() - start);
            let name = &out[start + 4..end];
            let rv = self
                .written
                .get(name)
                .ok_or_else(|| anyhow::anyhow!("{{rv:{name}}}: no write of {name} yet"))?;
            out.replace_range(start..=end, &rv.to_string());
        }
        Ok(out)
    }

    async fn build(
        &mut self,
        method: &str,
        path: &str,
        query: &str,
        accept: Option<&str>,
    ) -> anyhow::Result<(String, Request<Vec<u8>>)> {
        let path = self.fill(path).await?;
        let query = self.fill(query).await?;
        let uri = if query.is_empty() {
            path
        } else {
            format!("{path}?{query}")
        };
        let mut builder = Request::builder().method(method).uri(&uri);
        if let Some(accept) = accept {
            builder = builder.header(http::header::ACCEPT, accept);
        }
        Ok((uri, builder.body(Vec::new())?))
    }

    async fn request(&mut self, request: &case::Request) -> anyhow::Result<()> {
        let (_, req) = self
            .build(
                &request.method,
                &request.path,
                &request.query,
                request.accept.as_deref(),
            )
            .await?;
        let response = self.target.send(req).await?;
        let mut entry = head(&response);
        let bytes = response.into_body().collect().await?.to_bytes();
        if request.keep == Keep::All {
            let body = self.body(&bytes);
            entry["body"] = match &request.pick {
                Some(pick) => picked(&body, pick)?,
                None => body,
            };
        }
        self.transcript.push(json!({
            "step": describe(&request.method, &request.path, &request.query),
            "answer": entry,
        }));
        Ok(())
    }

    /// The normalized body; a LIST's resourceVersion and continue token are kept for the
    /// next steps.
    fn body(&mut self, bytes: &Bytes) -> Value {
        match serde_json::from_slice::<Value>(bytes) {
            Ok(value) => {
                if let Some(meta) = value.get("metadata") {
                    if let Some(rv) = meta.get("resourceVersion").and_then(Value::as_str)
                        && value.get("items").is_some()
                    {
                        self.last_rv = Some(rv.to_owned());
                    }
                    self.last_continue = meta
                        .get("continue")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                        .or(self.last_continue.take());
                }
                normalize::json(&value, &self.revisions)
            }
            Err(_) => Value::String(String::from_utf8_lossy(bytes).into_owned()),
        }
    }

    async fn watch(&mut self, watch: &case::Watch) -> anyhow::Result<()> {
        let (_, mut req) = self
            .build("GET", &watch.path, &watch.query, watch.accept.as_deref())
            .await?;
        if let Some(encoding) = &watch.accept_encoding {
            req.headers_mut()
                .insert(http::header::ACCEPT_ENCODING, encoding.parse()?);
        }
        let response = tokio::time::timeout(Duration::from_secs(10), self.target.send(req))
            .await
            .map_err(|_| anyhow::anyhow!("no response head within 10s"))??;
        let mut entry = head(&response);
        let status = response.status();
        let gzip = response.headers().get(http::header::CONTENT_ENCODING)
            == Some(&http::HeaderValue::from_static("gzip"));
        let body = response.into_body();
        if status.is_success() {
            self.watches.insert(
                watch.id.clone(),
                OpenWatch {
                    body,
                    pending: Vec::new(),
                    ended: None,
                    gzip: gzip.then(|| (Vec::new(), true)),
                },
            );
        } else {
            self.refused.insert(watch.id.clone());
            let bytes = body.collect().await?.to_bytes();
            entry["body"] = self.body(&bytes);
        }
        self.transcript.push(json!({
            "step": describe("WATCH", &watch.path, &watch.query),
            "answer": entry,
        }));
        Ok(())
    }

    async fn read(&mut self, read: &case::Read) -> anyhow::Result<()> {
        let Some(watch) = self.watches.get_mut(&read.id) else {
            anyhow::ensure!(
                self.refused.contains(&read.id),
                "read of {}: no watch step opened it",
                read.id
            );
            self.transcript.push(json!({
                "step": format!("read {}", read.id),
                "stream": "never opened",
            }));
            return Ok(());
        };
        let mut events = Vec::new();
        let mut revisions = Vec::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs_f64(read.within);
        loop {
            while let Some(newline) = watch.pending.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = watch.pending.drain(..=newline).collect();
                let event = match serde_json::from_slice::<Value>(&line) {
                    Ok(event) => event,
                    Err(_) => Value::String(String::from_utf8_lossy(&line).into_owned()),
                };
                let bookmark = event.get("type").and_then(Value::as_str) == Some("BOOKMARK");
                revisions.extend(
                    event
                        .pointer("/object/metadata/resourceVersion")
                        .and_then(Value::as_str)
                        .and_then(|rv| rv.parse::<u64>().ok()),
                );
                if !(read.skip_bookmarks && bookmark) {
                    events.push(normalize::json(&event, &self.revisions));
                }
            }
            if read.events.is_some_and(|n| events.len() >= n) || watch.ended.is_some() {
                break;
            }
            match tokio::time::timeout_at(deadline, watch.body.frame()).await {
                Err(_) => break,
                Ok(None) => watch.ended = Some("ended".into()),
                Ok(Some(Err(e))) => watch.ended = Some(format!("ended with an error: {e}")),
                Ok(Some(Ok(frame))) => {
                    if let Ok(data) = frame.into_data() {
                        match &mut watch.gzip {
                            None => watch.pending.extend_from_slice(&data),
                            Some((raw, whole)) => {
                                raw.extend_from_slice(&data);
                                *whole &= gunzip_members(raw, &mut watch.pending);
                            }
                        }
                    }
                }
            }
        }
        let state = watch.ended.clone().unwrap_or_else(|| "open".into());
        if read.tally {
            let mut types: Vec<&Value> = events.iter().map(|e| &e["type"]).collect();
            types.sort_by_key(|t| t.to_string());
            types.dedup();
            let last_write = self.written.values().max().copied();
            self.transcript.push(json!({
                "step": format!("read {}", read.id),
                "types": types,
                "last_write_came": last_write.is_some_and(|w| revisions.contains(&w)),
                "stream": state,
            }));
            return Ok(());
        }
        let mut entry = json!({
            "step": format!("read {}", read.id),
            "events": events,
            "stream": state,
        });
        if let Some((_, whole)) = &watch.gzip {
            entry["gzip_members_end_on_events"] = Value::Bool(*whole);
        }
        self.transcript.push(entry);
        Ok(())
    }
}

/// Moves each whole gzip member at the front of `raw` into `out`, decoded; returns whether
/// each ended on a newline. A member not yet whole stays in `raw` for more bytes.
fn gunzip_members(raw: &mut Vec<u8>, out: &mut Vec<u8>) -> bool {
    use std::io::Read;
    let mut whole = true;
    loop {
        let mut decoder = flate2::bufread::GzDecoder::new(&raw[..]);
        let mut text = Vec::new();
        if raw.is_empty() || decoder.read_to_end(&mut text).is_err() {
            return whole;
        }
        let used = raw.len() - decoder.into_inner().len();
        whole &= text.ends_with(b"\n");
        out.extend_from_slice(&text);
        raw.drain(..used);
    }
}

/// Status, content type, framing and Retry-After of an answer.
fn head(response: &http::Response<Body>) -> Value {
    let header = |name: http::header::HeaderName| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let framing = if header(http::header::TRANSFER_ENCODING).is_some() {
        "chunked"
    } else if header(http::header::CONTENT_LENGTH).is_some() {
        "length"
    } else {
        "none"
    };
    let mut entry = json!({
        "status": response.status().as_u16(),
        "content_type": header(http::header::CONTENT_TYPE),
        "framing": framing,
    });
    if let Some(encoding) = header(http::header::CONTENT_ENCODING) {
        entry["content_encoding"] = Value::String(encoding);
        entry["vary"] = header(http::header::VARY).map_or(Value::Null, Value::String);
    }
    if let Some(retry) = header(http::header::RETRY_AFTER) {
        entry["retry_after"] = Value::String(retry);
    }
    entry
}

fn describe(method: &str, path: &str, query: &str) -> String {
    if query.is_empty() {
        format!("{method} {path}")
    } else {
        format!("{method} {path}?{query}")
    }
}

/// The part of `body` a path names, or null when there is none. The path is fields joined by
/// `.`, each optionally followed by `[N]` (the N-th element) or `[KEY=VALUE]` (the element whose
/// KEY is VALUE): `items[0].versions[0].resources[resource=configmaps]`.
fn picked(body: &Value, pick: &str) -> anyhow::Result<Value> {
    let mut at = body;
    for segment in pick.split('.') {
        let (field, index) =
            match segment.split_once('[') {
                Some((field, rest)) => (
                    field,
                    Some(rest.strip_suffix(']').ok_or_else(|| {
                        anyhow::anyhow!("pick {pick:?}: unclosed [ in {segment:?}")
                    })?),
                ),
                None => (segment, None),
            };
        at = &at[field];
        at = match index {
            None => at,
            Some(index) => match index.split_once('=') {
                Some((key, value)) => at
                    .as_array()
                    .and_then(|items| items.iter().find(|i| i[key] == value))
                    .unwrap_or(&Value::Null),
                None => &at[index.parse::<usize>()?],
            },
        };
    }
    Ok(at.clone())
}
