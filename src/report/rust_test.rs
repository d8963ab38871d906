//! A finding as a report a kube-rs maintainer can act on: a self-contained Rust test that
//! builds the finding's set-up as kube code, runs it against the shrunk scenario (inline) with
//! the harness's public API, and asserts it recovers — which it does not, today.
//!
//! The kube code mirrors what the runner builds for the set-up (`subject::subject_stream`):
//! the same `watcher::Config`, the same backoff (its jitter seeded as the runner seeds it) in
//! the same place, the same reflector. What the run's kube client is and how its stream is
//! read are the harness's part; [`CustomRun::as_setup`](crate::run::CustomRun::as_setup)
//! takes them, and the verdict's reading, from the set-up in the scenario. A set-up the
//! `run_with*` API cannot run as the runner does is refused with the reason.

use std::fmt::Write as _;
use std::time::Duration;

use super::wrap::wrap;
use crate::explore::Finding;
use crate::scenario::{
    Backoff, BackoffOn, ClientSettings, Consumer, ListSemantic, PageSize, ResourceSpec, Scenario,
    SetUp, Shape, Timeout, WatcherSettings,
};

/// Why a finding has no test.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The finding's own scenario does not load.
    #[error("finding {finding}: its scenario does not load")]
    Scenario {
        /// The finding's name.
        finding: String,
        /// Why.
        #[source]
        source: Box<crate::scenario::Error>,
    },
    /// The finding's scenario lacks its set-up.
    #[error("finding {finding}: its scenario has no set-up `{setup}`")]
    NoSetUp {
        /// The finding's name.
        finding: String,
        /// The set-up.
        setup: String,
    },
    /// The set-up cannot be run through the `run_with*` API as the runner runs it.
    #[error("finding {finding}: set-up `{setup}` cannot be written as a test: {why}")]
    Inexpressible {
        /// The finding's name.
        finding: String,
        /// The set-up.
        setup: String,
        /// What cannot be expressed, and why.
        why: String,
    },
}

/// A finding's test: where to write it, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RustTest {
    /// `<scenario>_<set-up>_<mechanism>.rs`, a Rust module name.
    pub file_name: String,
    /// The file.
    pub text: String,
}

/// The kube version the harness is built with, from its `Cargo.lock`.
#[must_use]
pub fn kube_version() -> &'static str {
    let lock = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.lock"));
    lock.split("[[package]]")
        .find(|p| p.lines().any(|l| l.trim() == "name = \"kube\""))
        .and_then(|p| p.lines().find_map(|l| l.trim().strip_prefix("version = ")))
        .map_or("(unknown)", |v| v.trim_matches('"'))
}

/// Writes `finding` as a Rust test.
///
/// # Errors
/// [`Error`] when its scenario does not load or lacks the set-up, or the set-up cannot be run
/// through the `run_with*` API as the runner runs it (a backoff after `applied_objects()`).
pub fn rust_test(finding: &Finding) -> Result<RustTest, Error> {
    let name = finding.document.name();
    let scenario = finding
        .document
        .scenario()
        .map_err(|source| Error::Scenario {
            finding: name.clone(),
            source: Box::new(source),
        })?;
    let setup = scenario
        .watchers
        .iter()
        .find(|s| s.name == finding.failure.setup)
        .ok_or_else(|| Error::NoSetUp {
            finding: name.clone(),
            setup: finding.failure.setup.clone(),
        })?;
    if let Some(why) = inexpressible(setup) {
        return Err(Error::Inexpressible {
            finding: name,
            setup: setup.name.clone(),
            why,
        });
    }
    let mechanism = finding.failure.mechanism.name();
    let check = finding
        .failure
        .check
        .and_then(|c| serde_json::to_value(c).ok())
        .and_then(|v| v.as_str().map(|c| format!("_{c}")))
        .unwrap_or_default();
    let function = identifier(&format!("{}_{mechanism}{check}", setup.name));
    let mut text = header(finding, &scenario, setup, &function);
    text.push_str(&uses(setup));
    let yaml = finding.document.to_yaml();
    let hashes = "#".repeat(longest_hash_run(&yaml) + 1);
    let _ = write!(
        text,
        "\n/// The shrunk scenario: the workload and the faults that make it fail.\nconst SCENARIO: &str = r{hashes}\"{yaml}\"{hashes};\n\n"
    );
    text.push_str(&test_fn(&scenario, setup, &function, mechanism));
    Ok(RustTest {
        file_name: format!("{}.rs", identifier(&name)),
        text,
    })
}

/// What of `setup` no `run_with*` call runs as the runner does, if anything.
fn inexpressible(setup: &SetUp) -> Option<String> {
    let after = match setup.backoff_on {
        BackoffOn::Watcher => None,
        BackoffOn::AppliedObjects => Some("applied_objects"),
        BackoffOn::TouchedObjects => Some("touched_objects"),
    };
    if let Some(after) = after.filter(|_| setup.backoff != Backoff::None) {
        return Some(format!(
            "its backoff sits after `{after}()`, and the runner judges the events before it; a \
             `run_with*` closure's stream is what is recorded, so no closure yields those events \
             and backs off after `{after}()`"
        ));
    }
    (setup.shape != Shape::Events).then(|| {
        format!(
            "it is judged by {:?}, which only the matrix runs",
            setup.shape
        )
    })
}

/// The comment at the top: what was found, with what, and how to run it.
fn header(finding: &Finding, scenario: &Scenario, setup: &SetUp, function: &str) -> String {
    let mechanism = finding.failure.mechanism.name();
    let kube = kube_version();
    let mut lines = vec![
        format!(
            "kube {kube}: a watcher set up as `{}` does not recover from the faults below; the \
             harness names the mechanism `{mechanism}`. Found by `harness explore` \
             (kube-watch-harness) over scenario `{}`.",
            setup.name,
            scenario_base(finding, setup)
        ),
        String::new(),
        format!("Set-up `{}`: {}.", setup.name, in_words(setup)),
        String::new(),
        scenario.description.trim().to_owned(),
        String::new(),
        "The test runs the watcher below in virtual time (a paused tokio clock, in-memory \
         connections) against the harness's simulated kube-apiserver playing SCENARIO, and \
         judges what it emitted against the server's truth: the run `harness explore` judged."
            .to_owned(),
        String::new(),
        format!(
            "Run it with kube-watch-harness and tokio (macros, rt) as dev-dependencies: `cargo \
             test {function} -- --ignored`. It fails today; remove the #[ignore] once fixed."
        ),
    ];
    if !finding.reproduced {
        lines.push(String::new());
        lines.push(
            "NB: the shrunk scenario, run again from its own file, did not fail the same way."
                .to_owned(),
        );
    }
    let mut out = String::new();
    for line in lines {
        let wrapped = wrap(&line, 96);
        if wrapped.is_empty() {
            out.push_str("//\n");
        }
        for wrapped in wrapped {
            out.push_str("// ");
            out.push_str(&wrapped);
            out.push('\n');
        }
    }
    out
}

/// The scenario the exploration started from: the finding's name less its set-up and mechanism.
fn scenario_base(finding: &Finding, setup: &SetUp) -> String {
    let name = finding.document.name();
    name.find(&format!("-{}-", setup.name))
        .map_or(name.clone(), |at| name[..at].to_owned())
}

/// The set-up in words: what the kube code builds, and the harness's part.
fn in_words(setup: &SetUp) -> String {
    let mut parts = vec![match config_code(&setup.config).as_str() {
        "watcher::Config::default()" => "kube's default `watcher::Config`".to_owned(),
        code => format!("`{code}`"),
    }];
    parts.push(match setup.backoff {
        Backoff::None => "no backoff".to_owned(),
        Backoff::Default => "kube's default backoff".to_owned(),
        Backoff::Exponential { .. } => "its own exponential backoff".to_owned(),
    });
    if setup.config.metadata_only {
        parts.push("metadata only".to_owned());
    }
    parts.push(match setup.consumer {
        Consumer::Reflector => "a reflector, every item read".to_owned(),
        Consumer::ContinueOnError => "every item read, errors included".to_owned(),
        Consumer::StopOnError => {
            "read until the first error (`while let Some(e) = stream.try_next().await?`), which the harness does as the set-up says".to_owned()
        }
    });
    if let Some(work) = setup.work_per_item {
        parts.push(format!(
            "{} of work on each item before the next is read, which the harness does as the set-up says",
            crate::scenario::format_duration(work)
        ));
    }
    if setup.client != ClientSettings::default() {
        parts.push(format!(
            "the kube client made by the harness with {}",
            client_words(&setup.client)
        ));
    }
    parts.join("; ")
}

/// The client settings as the `kube::Config` fields they set.
fn client_words(client: &ClientSettings) -> String {
    let mut set = Vec::new();
    if let Some(retry) = client.retry {
        set.push(format!("`default_retry = {retry}`"));
    }
    match client.read_timeout {
        None => {}
        Some(Timeout::Never) => set.push("`read_timeout = None`".to_owned()),
        Some(Timeout::After(t)) => {
            set.push(format!("`read_timeout = Some({})`", duration_code(t)));
        }
    }
    set.join(" and ")
}

/// The `use` lines the test needs.
fn uses(setup: &SetUp) -> String {
    let mut uses = vec![
        "use kube::api::{Api, ApiResource, DynamicObject};".to_owned(),
        "use kube::runtime::watcher;".to_owned(),
        "use kube_watch_harness::run::RunOptions;".to_owned(),
        "use kube_watch_harness::scenario::Scenario;".to_owned(),
    ];
    if setup.config.metadata_only {
        uses.push("use kube::core::PartialObjectMeta;".to_owned());
    }
    if setup.consumer == Consumer::Reflector {
        uses.push("use kube::runtime::reflector::{reflector, store::Writer};".to_owned());
    }
    match setup.backoff {
        Backoff::None => {}
        Backoff::Default => {
            uses.push("use kube::runtime::WatchStreamExt;".to_owned());
            uses.push("use kube_watch_harness::subject::seeded_default_backoff;".to_owned());
        }
        Backoff::Exponential { .. } => {
            uses.push("use kube::runtime::WatchStreamExt;".to_owned());
            uses.push("use kube::runtime::watcher::ExponentialBackoff;".to_owned());
            uses.push("use std::time::Duration;".to_owned());
        }
    }
    uses.sort();
    let mut out = String::from("\n");
    for line in uses {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// The test: the scenario loaded, the set-up as kube code run as the set-up, the assertion.
fn test_fn(scenario: &Scenario, setup: &SetUp, function: &str, mechanism: &str) -> String {
    let kube = kube_version();
    let object = if setup.config.metadata_only {
        "PartialObjectMeta<DynamicObject>"
    } else {
        "DynamicObject"
    };
    let mut body = format!(
        "#[tokio::test]\n#[ignore = \"fails with kube {kube}: {mechanism}; remove once fixed\"]\nasync fn {function}() {{\n    let scenario = Scenario::from_yaml(SCENARIO).expect(\"the scenario loads\");\n"
    );
    if setup.backoff != Backoff::None {
        body.push_str(
            "    // The backoff's jitter is seeded as the harness seeds it, so the watcher retries when it did.\n    let seed = scenario.seed;\n",
        );
    }
    let _ = write!(
        body,
        "    let outcome = scenario
        .with_options(&RunOptions::default())
        // The kube client, how the stream is read, and the verdict's reading of it, as the
        // set-up in SCENARIO says.
        .as_setup({name:?})
        .expect(\"the scenario has the set-up\")
        .run_with(move |client| {{
            // The scenario's resource, watched across all namespaces, as the harness does.
            let resource = {resource};
            let api = Api::<{object}>::all_with(client, &resource);
            let config = {config};
{tail}        }})
        .expect(\"the run starts\");
    outcome.assert_recovered();
}}
",
        name = setup.name,
        resource = resource_code(&scenario.resource),
        config = config_code(&setup.config),
        tail = match setup.consumer {
            Consumer::Reflector => format!(
                "            let stream = watcher(api, config){};\n            reflector(Writer::new(resource), stream)\n",
                backoff_code(setup.backoff)
            ),
            Consumer::ContinueOnError | Consumer::StopOnError => {
                format!(
                    "            watcher(api, config){}\n",
                    backoff_code(setup.backoff)
                )
            }
        },
    );
    body
}

/// The scenario's resource as kube's `ApiResource`, as the runner makes it.
fn resource_code(resource: &ResourceSpec) -> String {
    let resource = crate::subject::api_resource(resource);
    format!(
        "ApiResource {{
                group: {:?}.into(),
                version: {:?}.into(),
                api_version: {:?}.into(),
                kind: {:?}.into(),
                plural: {:?}.into(),
            }}",
        resource.group, resource.version, resource.api_version, resource.kind, resource.plural
    )
}

/// `watcher::Config` with exactly the set-up's fields set, in kube's builder where it has one.
fn config_code(c: &WatcherSettings) -> String {
    let mut code = "watcher::Config::default()".to_owned();
    let mut fields = Vec::new();
    match c.bookmarks {
        None => {}
        Some(false) => code.push_str(".disable_bookmarks()"),
        Some(true) => fields.push("bookmarks: true".to_owned()),
    }
    if let Some(t) = c.timeout {
        let _ = write!(code, ".timeout({t})");
    }
    match c.page_size {
        None => {}
        Some(PageSize::Unlimited) => fields.push("page_size: None".to_owned()),
        Some(PageSize::Of(n)) => {
            let _ = write!(code, ".page_size({n})");
        }
    }
    match c.list_semantic {
        None => {}
        Some(ListSemantic::Any) => code.push_str(".any_semantic()"),
        Some(ListSemantic::MostRecent) => {
            code.push_str(".list_semantic(watcher::ListSemantic::MostRecent)");
        }
    }
    match c.streaming_lists {
        None => {}
        Some(true) => code.push_str(".streaming_lists()"),
        Some(false) => {
            fields.push("initial_list_strategy: watcher::InitialListStrategy::ListWatch".to_owned())
        }
    }
    if let Some(labels) = &c.label_selector {
        let _ = write!(code, ".labels({labels:?})");
    }
    if let Some(fields) = &c.field_selector {
        let _ = write!(code, ".fields({fields:?})");
    }
    if fields.is_empty() {
        code
    } else {
        format!("watcher::Config {{ {}, ..{code} }}", fields.join(", "))
    }
}

/// The backoff on the watcher's stream, as the runner builds it.
fn backoff_code(backoff: Backoff) -> String {
    match backoff {
        Backoff::None => String::new(),
        // kube's `.default_backoff()` draws its jitter unseeded: the same run, but retrying at
        // other instants each time.
        Backoff::Default => ".backoff(seeded_default_backoff(seed, 1))".to_owned(),
        Backoff::Exponential {
            initial,
            max,
            factor,
        } => format!(
            ".backoff(ExponentialBackoff::from(
                backon::ExponentialBuilder::default()
                    .with_min_delay({})
                    .with_max_delay({})
                    .with_factor({:?})
                    .without_max_times()
                    .with_jitter()
                    .with_jitter_seed(seed),
            ))",
            duration_code(initial),
            duration_code(max),
            factor as f32
        ),
    }
}

/// A duration as Rust code.
fn duration_code(d: Duration) -> String {
    if d.subsec_nanos() == 0 {
        format!("Duration::from_secs({})", d.as_secs())
    } else if d.subsec_nanos().is_multiple_of(1_000_000) {
        format!("Duration::from_millis({})", d.as_millis())
    } else {
        format!("Duration::from_nanos({})", d.as_nanos())
    }
}

/// `text` as a Rust identifier: lower case, `_` for anything else.
fn identifier(text: &str) -> String {
    let mut id: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if id.starts_with(|c: char| c.is_ascii_digit()) {
        id.insert(0, '_');
    }
    id
}

/// The longest run of `#` right after a `"`: a raw string needs one more.
fn longest_hash_run(text: &str) -> usize {
    text.split('"')
        .skip(1)
        .map(|after| after.chars().take_while(|c| *c == '#').count())
        .max()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::selector::Selector;

    fn setup(yaml_watcher: &str) -> SetUp {
        let scenario = Scenario::from_yaml(&format!(
            "duration: 1m
resource: {{ version: v1, kind: ConfigMap, plural: configmaps }}
watchers: [{yaml_watcher}]
expect: {{ deadline: 1m, recover: [w] }}
"
        ))
        .expect("the test scenario is valid");
        scenario.watchers[0].clone()
    }

    #[test]
    fn the_kube_version_is_the_one_in_the_lock_file() {
        let version = kube_version();
        assert!(
            version.split('.').count() == 3 && version.split('.').all(|n| n.parse::<u32>().is_ok()),
            "{version}"
        );
    }

    #[test]
    fn the_config_sets_exactly_the_set_ups_fields_with_kubes_builder_where_it_has_one() {
        assert_eq!(
            config_code(&WatcherSettings::default()),
            "watcher::Config::default()"
        );
        let every = WatcherSettings {
            bookmarks: Some(false),
            timeout: Some(0),
            page_size: Some(PageSize::Of(1)),
            list_semantic: Some(ListSemantic::Any),
            streaming_lists: Some(true),
            label_selector: Some("app=\"web\"".to_owned()),
            field_selector: Some("metadata.name=a".to_owned()),
            selector: Selector::default(),
            metadata_only: false,
        };
        assert_eq!(
            config_code(&every),
            r#"watcher::Config::default().disable_bookmarks().timeout(0).page_size(1).any_semantic().streaming_lists().labels("app=\"web\"").fields("metadata.name=a")"#
        );
        let without_builders = WatcherSettings {
            bookmarks: Some(true),
            page_size: Some(PageSize::Unlimited),
            streaming_lists: Some(false),
            ..WatcherSettings::default()
        };
        assert_eq!(
            config_code(&without_builders),
            "watcher::Config { bookmarks: true, page_size: None, initial_list_strategy: watcher::InitialListStrategy::ListWatch, ..watcher::Config::default() }"
        );
    }

    #[test]
    fn a_backoff_after_applied_objects_is_refused_with_the_reason() {
        let after = setup("{ name: w, backoff: default, backoff_on: applied_objects }");
        let why = inexpressible(&after).expect("refused");
        assert!(why.contains("after `applied_objects()`"), "{why}");
        assert_eq!(
            inexpressible(&setup(
                "{ name: w, backoff: default, consumer: stop_on_error }"
            )),
            None
        );
    }

    #[test]
    fn an_exponential_backoff_is_written_as_kubes_with_the_seeded_jitter() {
        let code = backoff_code(Backoff::Exponential {
            initial: Duration::from_millis(500),
            max: Duration::from_secs(60),
            factor: 1.5,
        });
        for part in [
            "ExponentialBackoff::from(",
            ".with_min_delay(Duration::from_millis(500))",
            ".with_max_delay(Duration::from_secs(60))",
            ".with_factor(1.5)",
            ".with_jitter_seed(seed)",
        ] {
            assert!(code.contains(part), "{part} in {code}");
        }
    }

    #[test]
    fn a_raw_string_has_one_hash_more_than_the_text_ever_follows_a_quote_with() {
        assert_eq!(longest_hash_run("plain"), 0);
        assert_eq!(longest_hash_run(r####"a "# b "### c"####), 3);
    }

    #[test]
    fn names_become_identifiers_and_comments_wrap_at_spaces() {
        assert_eq!(
            identifier("410-forced.small pages"),
            "_410_forced_small_pages"
        );
    }
}
