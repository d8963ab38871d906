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
