//! The README's conformance table, written from a run's results so that it says what the suite
//! saw: each case, what the real server and the simulation answered in short, and whether
//! they were the same or why not.

use std::fmt::Write as _;

use serde_json::Value;

use crate::case::Case;

/// One answer in a few words: `200 ConfigMapList(3)`, `410 Expired`, `ADDED,BOOKMARK; open`.
pub(crate) fn summary(transcript: &[Value]) -> String {
    transcript.iter().map(entry).collect::<Vec<_>>().join(" · ")
}

fn entry(entry: &Value) -> String {
    if let Some(answer) = entry.get("answer") {
        let status = answer["status"].as_u64().unwrap_or_default();
        let body = &answer["body"];
        let what = match body.get("kind").and_then(Value::as_str) {
            Some("Status") => body["reason"].as_str().unwrap_or("Status").to_owned(),
            Some(kind) => match body.get("items").and_then(Value::as_array) {
                Some(items) => format!("{kind}({})", items.len()),
                None => match body.get("rows").and_then(Value::as_array) {
                    Some(rows) => format!("{kind}({})", rows.len()),
                    None => kind.to_owned(),
                },
            },
            None => String::new(),
        };
        let encoding = answer["content_encoding"].as_str().unwrap_or_default();
        return format!("{status} {encoding} {what}")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
    }
    if let Some(rows) = entry.get("rows").and_then(Value::as_array) {
        let rows: Vec<&str> = rows.iter().filter_map(Value::as_str).collect();
        return format!("printed {}", rows.join(" / "));
    }
    if let Some(requests) = entry.get("requests").and_then(Value::as_array) {
        let requests: Vec<String> = requests
            .iter()
            .map(|r| {
                let q = &r["query"];
                let verb = if q.get("watch").is_some() {
                    "WATCH"
                } else {
                    "LIST"
                };
                let answer = r.get("answer").or_else(|| r.get("status"));
                format!("{verb} {}", answer.and_then(Value::as_str).unwrap_or("?"))
            })
            .collect();
        return requests.join(", ");
    }
    if let Some(lists) = entry.get("lists") {
        return format!("listed {lists}×");
    }
    if let Some(store) = entry.get("store").and_then(Value::as_array) {
        let names: Vec<&str> = store.iter().filter_map(Value::as_str).collect();
        return format!("store [{}]", names.join(", "));
    }
    let events: Vec<String> = entry["events"]
        .as_array()
        .map(|events| {
            events
                .iter()
                .map(|e| {
                    let kind = e["type"].as_str().unwrap_or("?");
                    match e["object"].get("code").and_then(Value::as_u64) {
                        Some(code) => format!("{kind} {code}"),
                        None => kind.to_owned(),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let stream = entry["stream"].as_str().unwrap_or("?");
    let stream = if stream.starts_with("ended with an error") {
        "cut"
    } else {
        stream
    };
    if events.is_empty() {
        stream.to_owned()
    } else {
        format!("{}; {stream}", events.join(","))
    }
}

/// The Markdown table.
pub(crate) fn markdown(rows: &[(&Case, String, String, String)]) -> String {
    let mut out = String::from(
        "| case | what it shows | real kube-apiserver 1.37.2 | simulation | same? |\n",
    );
    out.push_str("|---|---|---|---|---|\n");
    for (case, real, simulated, verdict) in rows {
        let simulated = if simulated == real { "″" } else { simulated };
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} |",
            case.name,
            escape(case.about.trim()),
            escape(real),
            escape(simulated),
            escape(verdict)
        );
    }
    out
}

fn escape(text: &str) -> String {
    text.replace('|', "\\|")
}

/// Whether README.md holds `markdown` as its conformance table, word for word.
pub(crate) fn matches_readme(markdown: &str) -> Result<(), String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
    let readme = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let header = markdown.lines().next().unwrap_or_default();
    let Some(start) = readme.find(header) else {
        return Err(format!(
            "{path} has no conformance table (no line {header:?})"
        ));
    };
    let end = readme[start..]
        .find("\n\n")
        .map_or(readme.len(), |e| start + e);
    if readme[start..end].trim_end() == markdown.trim_end() {
        Ok(())
    } else {
        Err(format!(
            "{path}'s conformance table is not the one this run wrote: copy \
             target/tmp/conformance.md over it"
        ))
    }
}
