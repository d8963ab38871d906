//! Label and field selectors, parsed the way apimachinery's `labels.Parse` and
//! `fields.ParseSelector` read them. Shared by the server (what a LIST or WATCH returns) and the
//! verdict (what truth a selecting watcher should see).

use std::collections::BTreeMap;

/// A parsed `labelSelector` plus `fieldSelector`; empty matches everything. Two selectors are
/// equal when they require the same: the kind only says how field values are read.
#[derive(Debug, Clone, Default, Eq)]
pub struct Selector {
    labels: Vec<LabelRequirement>,
    fields: Vec<FieldRequirement>,
    /// The group and kind whose own fields `fields` may name.
    group: String,
    kind: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum LabelRequirement {
    Exists(String),
    NotExists(String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Gt(String, i64),
    Lt(String, i64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct FieldRequirement {
    /// `metadata.name`, `metadata.namespace`, or one of the kind's own fields
    /// ([`crate::field_label`]).
    label: String,
    value: String,
    equal: bool,
}

impl Selector {
    /// Parses both selectors for a kind with no field labels of its own (a ConfigMap's:
    /// `metadata.name` and `metadata.namespace`). The error is the message of a 400 BadRequest.
    ///
    /// # Errors
    /// The apiserver's message for a malformed or unsupported selector.
    pub fn parse(labels: Option<&str>, fields: Option<&str>) -> Result<Self, String> {
        Self::parse_for("", "ConfigMap", labels, fields)
    }

    /// Parses both selectors for objects of `group`/`kind`, whose own field labels (a Pod's
    /// `spec.nodeName`, an Event's `reason`) a field selector may name.
    ///
    /// # Errors
    /// The apiserver's message for a malformed or unsupported selector.
    pub fn parse_for(
        group: &str,
        kind: &str,
        labels: Option<&str>,
        fields: Option<&str>,
    ) -> Result<Self, String> {
        Ok(Self {
            labels: labels.map(parse_labels).transpose()?.unwrap_or_default(),
            fields: fields
                .map(|f| parse_fields(f, group, kind))
                .transpose()?
                .unwrap_or_default(),
            group: group.to_owned(),
            kind: kind.to_owned(),
        })
    }

    /// Whether the field selector names a field of the kind's own, whose value must be read
    /// from the object (`field_label::values`).
    #[must_use]
    pub fn reads_fields(&self) -> bool {
        self.fields
            .iter()
            .any(|r| !matches!(r.label.as_str(), "metadata.name" | "metadata.namespace"))
    }

    /// Whether any selector is set: `remainingItemCount` is only sent without one
    /// (apiserver `storage/continue.go`).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty() && self.fields.is_empty()
    }

    /// A label this selector requires, with the values it allows (`k=v`, `k in (a,b)`): a
    /// watch can be indexed by it, since only objects with one of those labels can match.
    pub(crate) fn required_label(&self) -> Option<(&str, &[String])> {
        self.labels.iter().find_map(|r| match r {
            LabelRequirement::In(key, values) => Some((key.as_str(), values.as_slice())),
            _ => None,
        })
    }

    /// Whether the field selector requires one value of `label` (`label=v`): a watch cache
    /// with a trigger on that field hands such a watch only its value's events.
    pub(crate) fn requires_field(&self, label: &str) -> bool {
        self.fields.iter().any(|r| r.equal && r.label == label)
    }

    /// Whether an object with this name, namespace, labels and body is selected.
    #[must_use]
    pub fn selects(
        &self,
        name: &str,
        namespace: Option<&str>,
        labels: &BTreeMap<String, String>,
        body: &BTreeMap<String, serde_json::Value>,
    ) -> bool {
        self.selects_fields(name, namespace, labels, body)
    }

    /// [`selects`](Self::selects), for a body however its fields are held.
    pub(crate) fn selects_fields<B: crate::field_label::Fields + ?Sized>(
        &self,
        name: &str,
        namespace: Option<&str>,
        labels: &BTreeMap<String, String>,
        body: &B,
    ) -> bool {
        self.matches(name, namespace, labels, || {
            crate::field_label::values(&self.group, &self.kind, body)
        })
    }

    /// Whether an object with this name, namespace, labels and values of its own fields is
    /// selected. `fields` is called only when the selector [`reads_fields`](Self::reads_fields).
    #[must_use]
    pub fn matches(
        &self,
        name: &str,
        namespace: Option<&str>,
        labels: &BTreeMap<String, String>,
        fields: impl FnOnce() -> BTreeMap<String, String>,
    ) -> bool {
        if !self.labels.iter().all(|r| r.matches(labels)) {
            return false;
        }
        let own = if self.reads_fields() {
            fields()
        } else {
            BTreeMap::new()
        };
        self.fields.iter().all(|r| {
            let actual = match r.label.as_str() {
                "metadata.name" => name,
                "metadata.namespace" => namespace.unwrap_or(""),
                other => own.get(other).map_or("", String::as_str),
            };
            (actual == r.value) == r.equal
        })
    }
}

impl PartialEq for Selector {
    fn eq(&self, other: &Self) -> bool {
        self.labels == other.labels && self.fields == other.fields
    }
}

impl LabelRequirement {
    fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        match self {
            Self::Exists(k) => labels.contains_key(k),
            Self::NotExists(k) => !labels.contains_key(k),
            Self::In(k, values) => labels.get(k).is_some_and(|v| values.contains(v)),
            Self::NotIn(k, values) => labels.get(k).is_none_or(|v| !values.contains(v)),
            Self::Gt(k, n) => labels
                .get(k)
                .and_then(|v| v.parse::<i64>().ok())
                .is_some_and(|v| v > *n),
            Self::Lt(k, n) => labels
                .get(k)
                .and_then(|v| v.parse::<i64>().ok())
                .is_some_and(|v| v < *n),
        }
    }
}

/// Splits on commas that are not inside parentheses.
fn split_top_level(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 316
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
}

fn valid_value(value: &str) -> bool {
    value.len() <= 63
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn parse_labels(text: &str) -> Result<Vec<LabelRequirement>, String> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    split_top_level(text)
        .into_iter()
        .map(|part| parse_label(part.trim(), text))
        .collect()
}

fn parse_label(part: &str, whole: &str) -> Result<LabelRequirement, String> {
    let bad = |why: &str| format!("unable to parse requirement: {why} in label selector {whole:?}");
    if let Some(key) = part.strip_prefix('!') {
        let key = key.trim();
        return if valid_key(key) {
            Ok(LabelRequirement::NotExists(key.into()))
        } else {
            Err(bad("invalid key"))
        };
    }
    for (op, negate) in [("!=", true), ("==", false), ("=", false)] {
        if let Some((key, value)) = part.split_once(op) {
            let (key, value) = (key.trim(), value.trim());
            if !valid_key(key) || !valid_value(value) {
                return Err(bad("invalid key or value"));
            }
            return Ok(if negate {
                LabelRequirement::NotIn(key.into(), vec![value.into()])
            } else {
                LabelRequirement::In(key.into(), vec![value.into()])
            });
        }
    }
    for (op, gt) in [(">", true), ("<", false)] {
        if let Some((key, value)) = part.split_once(op) {
            let n = value
                .trim()
                .parse::<i64>()
                .map_err(|_| bad("for 'Gt', 'Lt' operators, the value must be an integer"))?;
            let key = key.trim().to_owned();
            return Ok(if gt {
                LabelRequirement::Gt(key, n)
            } else {
                LabelRequirement::Lt(key, n)
            });
        }
    }
    let words: Vec<&str> = part.splitn(2, char::is_whitespace).collect();
    if words.len() == 2 {
        let rest = words[1].trim();
        let (negate, list) = if let Some(list) = rest.strip_prefix("notin") {
            (true, list)
        } else if let Some(list) = rest.strip_prefix("in") {
            (false, list)
        } else {
            return Err(bad("found unexpected operator"));
        };
        let list = list.trim();
        let inner = list
            .strip_prefix('(')
            .and_then(|l| l.strip_suffix(')'))
            .ok_or_else(|| bad("expected a parenthesised set"))?;
        let values: Vec<String> = inner.split(',').map(|v| v.trim().to_owned()).collect();
        if values.iter().any(|v| !valid_value(v)) || !valid_key(words[0]) {
            return Err(bad("invalid key or value"));
        }
        return Ok(if negate {
            LabelRequirement::NotIn(words[0].into(), values)
        } else {
            LabelRequirement::In(words[0].into(), values)
        });
    }
    if valid_key(part) {
        Ok(LabelRequirement::Exists(part.into()))
    } else {
        Err(bad("invalid key"))
    }
}

fn parse_fields(text: &str, group: &str, kind: &str) -> Result<Vec<FieldRequirement>, String> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    text.split(',')
        .map(|part| {
            let (field, value, equal) = if let Some((f, v)) = part.split_once("!=") {
                (f, v, false)
            } else if let Some((f, v)) = part.split_once("==") {
                (f, v, true)
            } else if let Some((f, v)) = part.split_once('=') {
                (f, v, true)
            } else {
                return Err(format!(
                    "invalid selector: '{text}'; can't understand '{part}'"
                ));
            };
            let label = crate::field_label::accept(group, kind, field.trim())?;
            Ok(FieldRequirement {
                label,
                value: value.trim().to_owned(),
                equal,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(name: &str, labels: &[(&str, &str)]) -> (String, BTreeMap<String, String>) {
        (
            name.into(),
            labels
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect(),
        )
    }

    fn matches(labels: &str, o: &(String, BTreeMap<String, String>)) -> bool {
        Selector::parse(Some(labels), None).unwrap().matches(
            &o.0,
            Some("default"),
            &o.1,
            BTreeMap::new,
        )
    }

    #[test]
    fn equality_set_and_existence_requirements_all_apply() {
        let web = object("a", &[("app", "web"), ("tier", "front")]);
        assert!(matches("app=web", &web));
        assert!(matches("app==web,tier!=db", &web));
        assert!(matches("app in (web, api),tier", &web));
        assert!(!matches("app notin (web)", &web));
        assert!(matches("!db", &web));
        assert!(!matches("!app", &web));
    }

    #[test]
    fn field_selectors_know_name_and_namespace_and_reject_the_rest() {
        let o = object("a", &[]);
        let s = Selector::parse(
            None,
            Some("metadata.name=a,metadata.namespace!=kube-system"),
        )
        .unwrap();
        assert!(s.matches(&o.0, Some("default"), &o.1, || unreachable!("no own field")));
        assert_eq!(
            Selector::parse(None, Some("spec.nodeName=n1")).unwrap_err(),
            r#""spec.nodeName" is not a known field selector: only "metadata.name", "metadata.namespace""#
        );
    }

    #[test]
    fn a_pod_field_selector_reads_the_pod_s_own_fields() {
        let o = object("a", &[]);
        let s = Selector::parse_for(
            "",
            "Pod",
            None,
            Some("spec.nodeName=n1,status.phase!=Failed"),
        )
        .unwrap();
        let on = |node: &str| {
            BTreeMap::from([
                ("spec.nodeName".to_owned(), node.to_owned()),
                ("status.phase".to_owned(), "Running".to_owned()),
            ])
        };
        assert!(s.matches(&o.0, Some("default"), &o.1, || on("n1")));
        assert!(!s.matches(&o.0, Some("default"), &o.1, || on("n2")));
    }

    #[test]
    fn malformed_label_selectors_are_errors_not_matches() {
        assert!(Selector::parse(Some("app in web"), None).is_err());
        assert!(Selector::parse(Some("a=b=c=d d"), None).is_err());
    }
}
