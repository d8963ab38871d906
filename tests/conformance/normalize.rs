//! Normalizing answers so that the two servers can be compared: resourceVersions become their
//! place among the case's writes, continue tokens are decoded, and what is the server's own
//! (uid, timestamps, managedFields, ages in tables) is dropped.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::Value;

/// What a case has seen so far, to name resourceVersions by.
#[derive(Debug, Default)]
pub(crate) struct Revisions {
    /// The revision of each write, in order.
    pub(crate) writes: Vec<u64>,
    /// The `{ahead}` revision handed out, if any.
    pub(crate) ahead: Option<u64>,
}

impl Revisions {
    /// `w0` before the case's first write, `wK` from its K-th write until the next one,
    /// `ahead` for the revision handed out as `{ahead}`. Revisions of the server's own writes
    /// between the case's (a lease, a namespace) fold into the case write before them.
    pub(crate) fn name(&self, rv: u64) -> String {
        if Some(rv) == self.ahead {
            return "ahead".into();
        }
        let k = self.writes.iter().take_while(|w| **w <= rv).count();
        format!("w{k}")
    }

    fn name_str(&self, rv: &str) -> Value {
        match rv.parse::<u64>() {
            Ok(n) if rv != "0" => Value::String(self.name(n)),
            _ => Value::String(rv.into()),
        }
    }
}

/// A request's query string as a map, with its resourceVersion named.
pub(crate) fn query(raw: &str, revisions: &Revisions) -> BTreeMap<String, String> {
    form_urlencoded::parse(raw.as_bytes())
        .map(|(k, v)| {
            let v = match (k.as_ref(), v.parse::<u64>()) {
                ("resourceVersion", Ok(n)) if n > 0 => revisions.name(n),
                _ => v.into_owned(),
            };
            (k.into_owned(), v)
        })
        .collect()
}

/// The normalized form of one JSON document the server sent.
pub(crate) fn json(value: &Value, revisions: &Revisions) -> Value {
    match value {
        Value::Object(map) => {
            let mut out = serde_json::Map::new();
            for (key, v) in map {
                match key.as_str() {
                    "uid" | "creationTimestamp" | "managedFields" | "selfLink" => {}
                    "resourceVersion" => {
                        let named = v.as_str().map_or(Value::Null, |s| revisions.name_str(s));
                        out.insert(key.clone(), named);
                    }
                    "continue" => {
                        out.insert(key.clone(), continue_token(v, revisions));
                    }
                    "message" => {
                        out.insert(key.clone(), message(v, revisions));
                    }
                    "rows" => {
                        out.insert(key.clone(), rows(v, revisions));
                    }
                    _ => {
                        out.insert(key.clone(), json(v, revisions));
                    }
                }
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| json(v, revisions)).collect()),
        other => other.clone(),
    }
}

/// A continue token, decoded: `{"v":..,"rv":<named>,"start":..}`.
fn continue_token(token: &Value, revisions: &Revisions) -> Value {
    let Some(raw) = token.as_str() else {
        return token.clone();
    };
    let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(raw.trim_end_matches('='))
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok());
    match decoded {
        Some(Value::Object(mut map)) => {
            if let Some(rv) = map.get("rv").and_then(Value::as_i64) {
                let named = if rv < 0 {
                    Value::from(rv)
                } else {
                    Value::String(revisions.name(rv.unsigned_abs()))
                };
                map.insert("rv".into(), named);
            }
            serde_json::json!({ "token": Value::Object(map) })
        }
        _ => serde_json::json!({ "opaque": !raw.is_empty() }),
    }
}

/// A message, with the revisions in a resource-version message named.
fn message(message: &Value, revisions: &Revisions) -> Value {
    let Some(text) = message.as_str() else {
        return message.clone();
    };
    if !text.contains("resource version") {
        return message.clone();
    }
    let mut out = String::new();
    let mut digits = String::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        if !digits.is_empty() {
            match digits.parse::<u64>() {
                Ok(n) => out.push_str(&revisions.name(n)),
                Err(_) => out.push_str(&digits),
            }
            digits.clear();
        }
        out.push(c);
    }
    out.pop();
    Value::String(out)
}

/// Table rows: the cells, with ages (`5s`, `3m2s`, `<unknown>`) replaced by `<age>`.
fn rows(rows: &Value, revisions: &Revisions) -> Value {
    let Some(items) = rows.as_array() else {
        return json(rows, revisions);
    };
    Value::Array(
        items
            .iter()
            .map(|row| {
                let mut row = json(row, revisions);
                if let Some(cells) = row.get_mut("cells").and_then(Value::as_array_mut) {
                    for cell in cells {
                        if cell.as_str().is_some_and(is_age) {
                            *cell = Value::String("<age>".into());
                        }
                    }
                }
                row
            })
            .collect(),
    )
}

/// `5s`, `3m2s`, `2d`, `<invalid>`, `<unknown>`: what kubectl's age column holds.
fn is_age(cell: &str) -> bool {
    if cell == "<invalid>" || cell == "<unknown>" {
        return true;
    }
    !cell.is_empty()
        && cell.chars().any(|c| c.is_ascii_digit())
        && cell
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, 's' | 'm' | 'h' | 'd' | 'y'))
        && cell.ends_with(|c: char| c.is_ascii_alphabetic())
}
