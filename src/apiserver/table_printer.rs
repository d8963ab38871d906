//! `Table` answers (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`), which `kubectl get`
//! asks for: the kind's columns, and per object its cells and its metadata. Cells follow
//! k8s.io/kubernetes `pkg/printers/internalversion/printers.go` (`printConfigMap`, `printSecret`,
//! `printNamespace`, `printEvent`, `printPod`) with `Wide` set, as the server prints; the column
//! definitions are the real server's ([`super::table_columns`]). A kind without a printer here
//! is answered in its own form, which kubectl also accepts (it asks for
//! `as=Table...,application/json`).

use std::time::Duration;

use serde::Serialize;
use serde_json::{Value, json};

use bytes::Bytes;

use super::store::{Encodings, StoredObject};
use super::table_columns;
use super::wire::{Line, ListMeta, WallClock, Wire};
use crate::scenario::ResourceSpec;

/// What a row carries besides its cells (`includeObject` in the `Accept` header).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum Include {
    /// `PartialObjectMetadata` (the default).
    #[default]
    Metadata,
    /// Nothing.
    None,
    /// The whole object.
    Object,
}

impl Include {
    /// Whether an `Accept` header asks for a `Table` in `meta.k8s.io/v1`; its rows then carry
    /// metadata unless the query's `includeObject` says otherwise ([`Include::from_param`]).
    pub(crate) fn from_accept(accept: &str) -> Option<Self> {
        accept.split(',').find_map(|media| {
            let params: Vec<&str> = media.split(';').map(str::trim).collect();
            let has = |p: &str| params.iter().any(|x| x.eq_ignore_ascii_case(p));
            (has("as=Table") && has("v=v1") && has("g=meta.k8s.io")).then_some(Self::Metadata)
        })
    }

    /// The `includeObject` query parameter (`TableOptions`), or the 400 message refusing it.
    pub(crate) fn from_param(value: &str) -> Result<Self, String> {
        match value {
            "" | "Metadata" => Ok(Self::Metadata),
            "None" => Ok(Self::None),
            "Object" => Ok(Self::Object),
            other => Err(format!(
                "Unable to convert to Table as requested: includeObject: Invalid value: {other:?}: must be 'Metadata', 'Object', 'None', or empty"
            )),
        }
    }
}

/// The column definitions of `resource`'s kind, when the simulation prints it.
pub(super) fn columns(resource: &ResourceSpec) -> Option<&'static str> {
    if !resource.group.is_empty() {
        return None;
    }
    Some(match resource.kind.as_str() {
        "ConfigMap" => table_columns::CONFIG_MAP,
        "Secret" => table_columns::SECRET,
        "Namespace" => table_columns::NAMESPACE,
        "Event" => table_columns::EVENT,
        "Pod" => table_columns::POD,
        _ => return None,
    })
}

/// How a table is rendered: the kind, the clock, and the forms of a row's object.
pub(super) struct Printer<'a> {
    pub(super) resource: &'a ResourceSpec,
    pub(super) columns: &'static str,
    /// The run's wall clock and the virtual time now, for ages.
    pub(super) clock: WallClock,
    pub(super) now: Duration,
    pub(super) include: Include,
    /// The object's own form and its metadata-only form.
    pub(super) typed: &'a Wire,
    pub(super) metadata: &'a Wire,
}

#[derive(Serialize)]
struct Condition {
    #[serde(rename = "type")]
    type_: &'static str,
    status: &'static str,
    reason: &'static str,
    message: &'static str,
}

impl Printer<'_> {
    /// A table of `items` at `revision`, with the page's continue token and count (LIST, GET).
    pub(super) fn table(
        &self,
        items: &[&StoredObject],
        revision: u64,
        continue_: Option<String>,
        remaining: Option<u64>,
    ) -> Vec<u8> {
        let meta = ListMeta {
            resource_version: revision.to_string(),
            continue_,
            remaining_item_count: remaining,
        };
        let mut out = self.head(&meta, true);
        for (i, o) in items.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            let object = self.object(o, None);
            self.row(o, &object, &mut out);
        }
        out.extend_from_slice(b"]}\n");
        out
    }

    /// A watch event's object: a table of one row. Only a watch's first table carries the
    /// column definitions; later ones have `"columnDefinitions":null` (seen on kube-apiserver
    /// 1.37). A DELETED row's object carries the deletion's `revision` (`deleted`: the
    /// change's encodings).
    pub(super) fn event(
        &self,
        o: &StoredObject,
        revision: u64,
        columns: bool,
        deleted: Option<&Encodings>,
    ) -> Bytes {
        let meta = ListMeta {
            resource_version: revision.to_string(),
            continue_: None,
            remaining_item_count: None,
        };
        let mut out = self.head(&meta, columns);
        let object = self.object(o, deleted.map(|d| (revision, d)));
        self.row(o, &object, &mut out);
        out.extend_from_slice(b"]}");
        Bytes::from(out)
    }

    fn head(&self, meta: &ListMeta, columns: bool) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(br#"{"kind":"Table","apiVersion":"meta.k8s.io/v1","metadata":"#);
        out.extend_from_slice(&serde_json::to_vec(meta).expect("metadata serializes"));
        out.extend_from_slice(br#","columnDefinitions":"#);
        if columns {
            out.extend_from_slice(self.columns.as_bytes());
        } else {
            out.extend_from_slice(b"null");
        }
        out.extend_from_slice(br#","rows":["#);
        out
    }

    /// The row's `object`, as `includeObject` asks.
    fn object(&self, o: &StoredObject, deleted: Option<(u64, &Encodings)>) -> Bytes {
        let wire = match self.include {
            Include::None => return Bytes::from_static(b"null"),
            Include::Metadata => self.metadata,
            Include::Object => self.typed,
        };
        match deleted {
            Some((revision, encodings)) => match wire.deleted(o, revision, encodings) {
                Line::Event(_, bytes) | Line::Whole(bytes) => bytes,
            },
            None => Bytes::from(wire.object(o)),
        }
    }

    fn row(&self, o: &StoredObject, object: &[u8], out: &mut Vec<u8>) {
        let (cells, conditions) = self.cells(o);
        out.extend_from_slice(br#"{"cells":"#);
        out.extend_from_slice(&serde_json::to_vec(&cells).expect("cells serialize"));
        if let Some(conditions) = conditions {
            out.extend_from_slice(br#","conditions":"#);
            out.extend_from_slice(&serde_json::to_vec(&conditions).expect("conditions serialize"));
        }
        out.extend_from_slice(br#","object":"#);
        out.extend_from_slice(trimmed(object));
        out.push(b'}');
    }

    /// `HumanDuration` since virtual time `at`, in wall time as kubectl's own clock has it.
    fn since(&self, at: Duration) -> String {
        human_duration(self.clock.span(self.now.saturating_sub(at)).as_secs_f64())
    }

    /// `HumanDuration` since an RFC 3339 timestamp in the object, `<unknown>` when unset.
    fn since_stamp(&self, stamp: Option<&Value>) -> Option<String> {
        let stamp: jiff::Timestamp = stamp?.as_str()?.parse().ok()?;
        let now = self.clock.wall(self.now);
        Some(human_duration(now.duration_since(stamp).as_secs_f64()))
    }

    fn cells(&self, o: &StoredObject) -> (Vec<Value>, Option<[Condition; 1]>) {
        let get = |path: &str| crate::field_label::at(&o.body, path);
        let text = |path: &str| get(path).and_then(Value::as_str).unwrap_or("").to_owned();
        let count = |path: &str| get(path).and_then(Value::as_object).map_or(0, |m| m.len());
        let age = Value::String(self.since(o.created));
        match self.resource.kind.as_str() {
            "ConfigMap" => (
                vec![
                    json!(o.name),
                    json!(count("data") + count("binaryData")),
                    age,
                ],
                None,
            ),
            "Secret" => (
                vec![
                    json!(o.name),
                    json!(text("type")),
                    json!(count("data")),
                    age,
                ],
                None,
            ),
            "Namespace" => (vec![json!(o.name), json!(text("status.phase")), age], None),
            "Event" => (self.event_cells(o, &get), None),
            _ => pod::cells(self, o, age),
        }
    }

    fn event_cells<'b>(
        &self,
        o: &StoredObject,
        get: &dyn Fn(&str) -> Option<&'b Value>,
    ) -> Vec<Value> {
        let text = |path: &str| get(path).and_then(Value::as_str).unwrap_or("").to_owned();
        let unknown = || "<unknown>".to_owned();
        let first = self
            .since_stamp(get("firstTimestamp"))
            .or_else(|| self.since_stamp(get("eventTime")))
            .unwrap_or_else(unknown);
        let mut last = self
            .since_stamp(get("lastTimestamp"))
            .unwrap_or_else(|| first.clone());
        let mut count = get("count").and_then(Value::as_i64).unwrap_or(0);
        if get("series").is_some_and(|s| !s.is_null()) {
            last = self
                .since_stamp(get("series.lastObservedTime"))
                .unwrap_or_else(unknown);
            count = get("series.count").and_then(Value::as_i64).unwrap_or(0);
        } else if count == 0 {
            count = 1;
        }
        let (kind, name) = (text("involvedObject.kind"), text("involvedObject.name"));
        let target = if name.is_empty() {
            kind.to_lowercase()
        } else {
            format!("{}/{name}", kind.to_lowercase())
        };
        let first_non_empty = |a: String, b: String| if a.is_empty() { b } else { a };
        let component = first_non_empty(text("source.component"), text("reportingComponent"));
        let instance = first_non_empty(text("source.host"), text("reportingInstance"));
        let source = if instance.is_empty() {
            component
        } else {
            format!("{component}, {instance}")
        };
        vec![
            json!(last),
            json!(text("type")),
            json!(text("reason")),
            json!(target),
            json!(text("involvedObject.fieldPath")),
            json!(source),
            json!(text("message").trim()),
            json!(first),
            json!(count),
            json!(o.name),
        ]
    }
}

/// An object's bytes without `encoding/json`'s trailing newline, to embed.
fn trimmed(bytes: &[u8]) -> &[u8] {
    bytes.strip_suffix(b"\n").unwrap_or(bytes)
}

/// apimachinery `util/duration.HumanDuration`: kubectl's ages.
pub(super) fn human_duration(seconds: f64) -> String {
    // NB: Go truncates toward zero, as `as` does.
    #[expect(
        clippy::cast_possible_truncation,
        reason = "ages are far below i64::MAX seconds"
    )]
    let s = seconds as i64;
    if s < -1 {
        return "<invalid>".into();
    }
    if s < 0 {
        return "0s".into();
    }
    if s < 60 * 2 {
        return format!("{s}s");
    }
    let minutes = s / 60;
    if minutes < 10 {
        let rest = s % 60;
        return if rest == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{rest}s")
        };
    }
    if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = s / 3600;
    if hours < 8 {
        let rest = minutes % 60;
        return if rest == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{rest}m")
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let rest = hours % 24;
        return if rest == 0 {
            format!("{}d", hours / 24)
        } else {
            format!("{}d{rest}h", hours / 24)
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let rest = (hours / 24) % 365;
        return if rest == 0 {
            format!("{}y", hours / 24 / 365)
        } else {
            format!("{}y{rest}d", hours / 24 / 365)
        };
    }
    format!("{}y", hours / 24 / 365)
}

/// `printPod`: readiness, the aggregate status and restarts from the container statuses.
mod pod {
    use serde_json::{Value, json};

    use super::{Condition, Printer};
    use crate::apiserver::store::StoredObject;

    pub(super) fn cells(
        printer: &Printer<'_>,
        o: &StoredObject,
        age: Value,
    ) -> (Vec<Value>, Option<[Condition; 1]>) {
        let body = &o.body;
        let spec = body.get("spec").unwrap_or(&Value::Null);
        let status = body.get("status").unwrap_or(&Value::Null);
        let str_of =
            |v: &Value, key: &str| v.get(key).and_then(Value::as_str).unwrap_or("").to_owned();
        let list = |v: &Value, key: &str| {
            v.get(key)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        };
        let phase = str_of(status, "phase");
        let mut reason = if str_of(status, "reason").is_empty() {
            phase.clone()
        } else {
            str_of(status, "reason")
        };
        let total = list(spec, "containers").len();
        let (mut ready, mut restarts) = (0, 0_i64);
        let mut last_restart: Option<String> = None;
        let mut has_running = false;
        let mut error_reason = String::new();
        for c in list(status, "containerStatuses").iter().rev() {
            restarts += c.get("restartCount").and_then(Value::as_i64).unwrap_or(0);
            if let Some(finished) = c
                .pointer("/lastState/terminated/finishedAt")
                .and_then(Value::as_str)
                && last_restart.as_deref().is_none_or(|l| l < finished)
            {
                last_restart = Some(finished.to_owned());
            }
            let state = c.get("state").unwrap_or(&Value::Null);
            if let Some(w) = state
                .get("waiting")
                .filter(|w| !str_of(w, "reason").is_empty())
            {
                reason = str_of(w, "reason");
            } else if let Some(t) = state.get("terminated") {
                let code = t.get("exitCode").and_then(Value::as_i64).unwrap_or(0);
                let signal = t.get("signal").and_then(Value::as_i64).unwrap_or(0);
                reason = if !str_of(t, "reason").is_empty() {
                    str_of(t, "reason")
                } else if signal != 0 {
                    format!("Signal:{signal}")
                } else {
                    format!("ExitCode:{code}")
                };
                if code != 0 {
                    error_reason.clone_from(&reason);
                }
            } else if c.get("ready").and_then(Value::as_bool) == Some(true)
                && state.get("running").is_some()
            {
                has_running = true;
                ready += 1;
            }
        }
        if reason == "Completed" {
            let ready_condition = list(status, "conditions")
                .iter()
                .any(|c| str_of(c, "type") == "Ready" && str_of(c, "status") == "True");
            if has_running && ready_condition {
                reason = "Running".into();
            } else if !error_reason.is_empty() {
                reason = error_reason;
            } else if has_running {
                reason = "NotReady".into();
            }
        }
        let terminal = phase == "Succeeded" || phase == "Failed";
        let deleting = body
            .get("metadata")
            .and_then(|m| m.get("deletionTimestamp"))
            .is_some();
        if deleting && str_of(status, "reason") == "NodeLost" {
            reason = "Unknown".into();
        } else if deleting && !terminal {
            reason = "Terminating".into();
        }
        let restarts = match (restarts, last_restart) {
            (0, _) | (_, None) => restarts.to_string(),
            (n, Some(at)) => format!(
                "{n} ({} ago)",
                printer
                    .since_stamp(Some(&Value::String(at)))
                    .unwrap_or_else(|| "<unknown>".into())
            ),
        };
        let or_none = |s: String| if s.is_empty() { "<none>".to_owned() } else { s };
        let ip = status
            .get("podIPs")
            .and_then(|ips| ips.get(0))
            .map(|ip| str_of(ip, "ip"))
            .unwrap_or_default();
        let gates = list(spec, "readinessGates");
        let gates = if gates.is_empty() {
            "<none>".to_owned()
        } else {
            let conditions = list(status, "conditions");
            let met = gates
                .iter()
                .filter(|g| {
                    conditions
                        .iter()
                        .find(|c| str_of(c, "type") == str_of(g, "conditionType"))
                        .is_some_and(|c| str_of(c, "status") == "True")
                })
                .count();
            format!("{met}/{}", gates.len())
        };
        let condition = match phase.as_str() {
            "Succeeded" => Some([Condition {
                type_: "Completed",
                status: "True",
                reason: "Succeeded",
                message: "The pod has completed successfully.",
            }]),
            "Failed" => Some([Condition {
                type_: "Completed",
                status: "True",
                reason: "Failed",
                message: "The pod failed.",
            }]),
            _ => None,
        };
        (
            vec![
                json!(o.name),
                json!(format!("{ready}/{total}")),
                json!(reason),
                json!(restarts),
                age,
                json!(or_none(ip)),
                json!(or_none(str_of(spec, "nodeName"))),
                json!(or_none(str_of(status, "nominatedNodeName"))),
                json!(gates),
            ],
            condition,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_as_kubectl_prints_them() {
        for (seconds, age) in [
            (-5.0, "<invalid>"),
            (-0.5, "0s"),
            (119.0, "119s"),
            (125.0, "2m5s"),
            (600.0, "10m"),
            (3.0 * 3600.0 + 60.0, "3h1m"),
            (9.0 * 3600.0, "9h"),
            (50.0 * 3600.0, "2d2h"),
            (400.0 * 86400.0, "400d"),
        ] {
            assert_eq!(human_duration(seconds), age, "{seconds}s");
        }
    }

    #[test]
    fn kubectl_s_accept_header_asks_for_a_table_and_a_plain_one_does_not() {
        assert_eq!(
            Include::from_accept("application/json;as=Table;v=v1;g=meta.k8s.io,application/json"),
            Some(Include::Metadata)
        );
        assert_eq!(Include::from_param("None"), Ok(Include::None));
        assert!(
            Include::from_param("Bogus")
                .unwrap_err()
                .contains(r#"Invalid value: "Bogus""#)
        );
        assert_eq!(Include::from_accept("application/json"), None);
        assert_eq!(
            Include::from_accept("application/json;as=Table;v=v1beta1;g=meta.k8s.io"),
            None
        );
    }
}
