//! The walk of a value against a schema of k8s-openapi's ([`Checker`]): `$ref`s into `$defs`,
//! `oneOf`, `properties` with `required`, `additionalProperties`, `items`, `type` and `format`,
//! and `x-kubernetes-int-or-string`; every field at fault named by its path ([`Path`]).

use serde_json::Value;

use super::violation::{Problem, Violation};

/// A JSON path as a scenario author reads it: `spec.containers[0].name`.
#[derive(Debug, Default, Clone)]
pub(super) struct Path(String);

impl Path {
    fn push_key(&mut self, key: &str) -> usize {
        let len = self.0.len();
        if !self.0.is_empty() {
            self.0.push('.');
        }
        self.0.push_str(key);
        len
    }

    fn push_index(&mut self, index: usize) -> usize {
        let len = self.0.len();
        self.0.push_str(&format!("[{index}]"));
        len
    }

    fn truncate(&mut self, len: usize) {
        self.0.truncate(len);
    }
}

/// Walks a value against a schema of k8s-openapi's: `$ref`s into `$defs`, `oneOf`,
/// `properties` with `required`, `additionalProperties`, `items`, `type` and `format`, and
/// `x-kubernetes-int-or-string`.
pub(super) struct Checker<'a> {
    /// The schema's `$defs`, where its `$ref`s point.
    pub(super) defs: &'a Value,
}

impl Checker<'_> {
    /// The schema a `$ref` points at, and its name (the root's `title`, a definition's key).
    pub(super) fn resolve<'s>(&'s self, schema: &'s Value) -> (&'s Value, &'s str) {
        let mut schema = schema;
        let mut name = schema["title"].as_str().unwrap_or("its schema");
        // NB: a `$ref` chain of k8s-openapi's schemas is at most a few links long; the bound
        // only guards against a cycle.
        for _ in 0..16 {
            match schema["$ref"]
                .as_str()
                .and_then(|r| r.strip_prefix("#/$defs/"))
            {
                Some(target) => {
                    schema = &self.defs[target];
                    name = target;
                }
                None => break,
            }
        }
        (schema, name)
    }

    pub(super) fn value(
        &self,
        schema: &Value,
        value: &Value,
        path: &mut Path,
    ) -> Result<(), Violation> {
        let (schema, schema_name) = self.resolve(schema);
        if let Some(alternatives) = schema["oneOf"].as_array() {
            let mut first = None;
            for alternative in alternatives {
                match self.value(alternative, value, path) {
                    Ok(()) => return Ok(()),
                    Err(e) => {
                        first.get_or_insert(e);
                    }
                }
            }
            return first.map_or(Ok(()), Err);
        }
        let wrong = |expected: &str| Violation {
            path: path.0.clone(),
            problem: Problem::WrongType {
                expected: expected.to_owned(),
                found: json_type(value),
            },
        };
        if schema["x-kubernetes-int-or-string"] == Value::Bool(true) {
            return match value {
                Value::String(_) | Value::Number(_) => Ok(()),
                _ => Err(wrong("an integer or a string")),
            };
        }
        match schema["type"].as_str() {
            Some("object") => match value {
                Value::Object(fields) => self.object((schema, schema_name), fields, path, &[]),
                _ => Err(wrong("an object")),
            },
            Some("array") => match value {
                Value::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        let len = path.push_index(i);
                        self.value(&schema["items"], item, path)?;
                        path.truncate(len);
                    }
                    Ok(())
                }
                _ => Err(wrong("an array")),
            },
            Some("string") => match value {
                Value::String(text) => self.format(schema, text, path),
                _ => Err(wrong("a string")),
            },
            Some("integer") => match value {
                Value::Number(n) if n.is_i64() || n.is_u64() => self.range(schema, n, path),
                _ => Err(wrong("an integer")),
            },
            Some("number") => match value {
                Value::Number(_) => Ok(()),
                _ => Err(wrong("a number")),
            },
            Some("boolean") => match value {
                Value::Bool(_) => Ok(()),
                _ => Err(wrong("a boolean")),
            },
            // No type: anything (`RawExtension`, `JSON`).
            _ => Ok(()),
        }
    }

    /// An object: a struct when the schema lists `properties` (unknown fields are dropped by
    /// the apiserver, so an object with one was never stored), a map when it has
    /// `additionalProperties`, free-form otherwise. `skip` are fields left to the server.
    pub(super) fn object(
        &self,
        (schema, schema_name): (&Value, &str),
        fields: &serde_json::Map<String, Value>,
        path: &mut Path,
        skip: &[&str],
    ) -> Result<(), Violation> {
        if let Some(properties) = schema["properties"].as_object() {
            for required in schema["required"].as_array().into_iter().flatten() {
                let Some(name) = required.as_str() else {
                    continue;
                };
                if skip.contains(&name) {
                    continue;
                }
                if fields.get(name).is_none_or(Value::is_null) {
                    let len = path.push_key(name);
                    let violation = Violation {
                        path: path.0.clone(),
                        problem: Problem::Missing {
                            of: schema_name.to_owned(),
                        },
                    };
                    path.truncate(len);
                    return Err(violation);
                }
            }
            for (field, value) in fields {
                let len = path.push_key(field);
                if skip.contains(&field.as_str()) {
                    return Err(Violation {
                        path: path.0.clone(),
                        problem: Problem::ServerSet,
                    });
                }
                match properties.get(field) {
                    None => {
                        return Err(Violation {
                            path: path.0.clone(),
                            problem: Problem::Unknown {
                                of: schema_name.to_owned(),
                                suggestion: crate::suggest::closest(
                                    field,
                                    properties.keys().map(String::as_str),
                                )
                                .map(str::to_owned),
                            },
                        });
                    }
                    // A null optional field is as good as absent: the apiserver omits it.
                    Some(_) if value.is_null() => {}
                    Some(property) => self.value(property, value, path)?,
                }
                path.truncate(len);
            }
            return Ok(());
        }
        if let Some(values) = schema.get("additionalProperties").filter(|v| v.is_object()) {
            for (name, value) in fields {
                let len = path.push_key(name);
                self.value(values, value, path)?;
                path.truncate(len);
            }
        }
        Ok(())
    }

    fn format(&self, schema: &Value, text: &str, path: &Path) -> Result<(), Violation> {
        use base64::Engine;
        let format = schema["format"].as_str().unwrap_or_default();
        let valid = match format {
            "date-time" => text.parse::<jiff::Timestamp>().is_ok(),
            "byte" => base64::engine::general_purpose::STANDARD
                .decode(text)
                .is_ok(),
            _ => true,
        };
        if valid {
            Ok(())
        } else {
            Err(Violation {
                path: path.0.clone(),
                problem: Problem::BadFormat {
                    format: format.to_owned(),
                },
            })
        }
    }

    fn range(&self, schema: &Value, n: &serde_json::Number, path: &Path) -> Result<(), Violation> {
        let fits = match schema["format"].as_str() {
            Some("int32") => n.as_i64().is_some_and(|n| i32::try_from(n).is_ok()),
            Some("int64") => n.as_i64().is_some(),
            _ => true,
        };
        if fits {
            Ok(())
        } else {
            Err(Violation {
                path: path.0.clone(),
                problem: Problem::OutOfRange {
                    format: schema["format"].as_str().unwrap_or_default().to_owned(),
                },
            })
        }
    }
}

/// The JSON type of `value`, in words.
fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;
    use crate::openapi::kinds::Kind;

    fn body(value: Value) -> BTreeMap<String, Value> {
        serde_json::from_value(value).unwrap()
    }

    fn event() -> Kind {
        Kind::find("", "v1", "Event").expect("k8s-openapi knows core/v1 Event")
    }

    #[test]
    fn an_event_without_involved_object_is_refused_naming_the_field() {
        let error = event()
            .check_body(&body(json!({ "reason": "Started" })))
            .unwrap_err();
        assert_eq!(error.path, "involvedObject");
        assert_eq!(
            error.to_string(),
            "`involvedObject` is required by io.k8s.api.core.v1.Event"
        );
        assert!(
            event()
                .check_body(&body(
                    json!({ "involvedObject": { "kind": "Pod", "name": "a" } })
                ))
                .is_ok()
        );
    }

    #[test]
    fn required_fields_are_checked_all_the_way_down() {
        let pod = Kind::find("", "v1", "Pod").unwrap();
        assert_eq!(
            pod.check_body(&body(json!({ "spec": { "nodeName": "n" } })))
                .unwrap_err()
                .path,
            "spec.containers"
        );
        assert_eq!(
            pod.check_body(&body(
                json!({ "spec": { "containers": [{ "image": "x" }] } })
            ))
            .unwrap_err()
            .path,
            "spec.containers[0].name"
        );
        assert!(
            pod.check_body(&body(
                json!({ "spec": { "containers": [{ "name": "app" }] } })
            ))
            .is_ok()
        );
    }

    #[test]
    fn unknown_fields_wrong_types_and_bad_times_are_refused() {
        let cm = Kind::find("", "v1", "ConfigMap").unwrap();
        let typo = cm
            .check_body(&body(json!({ "dta": { "a": "b" } })))
            .unwrap_err();
        assert_eq!(typo.path, "dta");
        assert!(typo.to_string().ends_with("did you mean `data`?"), "{typo}");
        let number = cm
            .check_body(&body(json!({ "data": { "a": 1 } })))
            .unwrap_err();
        assert_eq!(number.path, "data.a");
        assert_eq!(
            number.to_string(),
            "`data.a` must be a string, found a number"
        );
        let involved = json!({ "kind": "Pod", "name": "a" });
        let time = event()
            .check_body(&body(
                json!({ "involvedObject": involved, "lastTimestamp": "yesterday" }),
            ))
            .unwrap_err();
        assert_eq!(time.to_string(), "`lastTimestamp` is not a valid date-time");
        let at = "2026-01-01T00:00:00Z";
        assert!(
            event()
                .check_body(&body(
                    json!({ "involvedObject": involved, "lastTimestamp": at })
                ))
                .is_ok()
        );
        assert_eq!(
            event()
                .check_body(&body(json!({ "involvedObject": involved, "metadata": {} })))
                .unwrap_err()
                .problem,
            Problem::ServerSet
        );
    }

    #[test]
    fn int_or_string_quantities_and_free_form_fields_take_what_the_apiserver_takes() {
        let pod = Kind::find("", "v1", "Pod").unwrap();
        let resources = json!({ "spec": { "containers": [{
            "name": "app",
            "resources": { "limits": { "cpu": 2, "memory": "1Gi" } },
            "ports": [{ "containerPort": 80 }],
            "livenessProbe": { "httpGet": { "port": "http" } }
        }] } });
        assert!(pod.check_body(&body(resources)).is_ok());
        let crd = Kind::find("apiextensions.k8s.io", "v1", "CustomResourceDefinition").unwrap();
        let schema = json!({ "openAPIV3Schema": { "type": "object", "x-kubernetes-preserve-unknown-fields": true } });
        let spec = json!({ "spec": {
            "group": "example.com",
            "names": { "plural": "widgets", "kind": "Widget" },
            "scope": "Namespaced",
            "versions": [{ "name": "v1", "served": true, "storage": true, "schema": schema }]
        } });
        assert!(crd.check_body(&body(spec)).is_ok());
    }
}
