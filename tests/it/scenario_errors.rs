//! Bad scenario files are rejected with the file, the line and column, and the key.

use kube_watch_harness::scenario::{Action, Scenario, Write};

const GOOD: &str = "duration: 5m
resource:
  version: v1
  kind: ConfigMap
  plural: configmaps
  objects:
    - { name: a }
timeline:
  - { at: 1m, kind: compact }
watchers:
  - name: w
expect:
  deadline: 1m
  recover: [w]
";

fn error(yaml: &str) -> String {
    Scenario::from_yaml(yaml)
        .expect_err("the file is bad")
        .to_string()
}

#[test]
fn the_good_file_loads() {
    let scenario = Scenario::from_yaml(GOOD).unwrap();
    assert_eq!(scenario.watchers.len(), 1);
}

#[test]
fn an_unknown_key_names_line_column_key_and_the_expected_keys() {
    let message =
        error(&GOOD.replace("  kind: ConfigMap\n", "  kind: ConfigMap\n  colour: blue\n"));
    insta::assert_snapshot!(message, @"<string>:5:3: at `resource.colour`: unknown field `colour`, expected one of group, version, kind, plural, namespaced, objects, generate");
}

#[test]
fn a_bad_duration_names_its_line_and_key() {
    let message = error(&GOOD.replace("deadline: 1m", "deadline: soon"));
    insta::assert_snapshot!(message);
    assert!(message.contains(":13:"), "{message}");
    assert!(message.contains("expect.deadline"), "{message}");
}

#[test]
fn a_bare_number_is_not_a_duration() {
    let message = error(&GOOD.replace("duration: 5m", "duration: 300"));
    assert!(
        message.contains("`duration`") && message.contains("bare number"),
        "{message}"
    );
}

#[test]
fn a_wrong_type_names_the_key() {
    let message = error(&GOOD.replace(
        "  - name: w\n",
        "  - name: w\n    config: { page_size: many }\n",
    ));
    insta::assert_snapshot!(message);
}

#[test]
fn an_unknown_fault_kind_lists_the_known_ones() {
    let message = error(&GOOD.replace("kind: compact", "kind: explode"));
    insta::assert_snapshot!(message);
}

#[test]
fn a_timeline_out_of_order_is_rejected() {
    let message = error(&GOOD.replace(
        "  - { at: 1m, kind: compact }\n",
        "  - { at: 2m, kind: compact }\n  - { at: 1m, kind: compact }\n",
    ));
    assert!(
        message.contains("timeline[1].at") && message.contains("out of order"),
        "{message}"
    );
}

#[test]
fn a_set_up_missing_from_expect_is_rejected_at_its_line() {
    let message = error(&GOOD.replace("  - name: w\n", "  - name: w\n  - name: v\n"));
    assert!(message.starts_with("<string>:12:"), "{message}");
    assert!(message.contains("`v` is in neither"), "{message}");
}

#[test]
fn duplicate_set_up_names_and_an_empty_matrix_are_rejected() {
    assert!(
        error(&GOOD.replace("  - name: w\n", "  - name: w\n  - name: w\n"))
            .contains("duplicate set-up name `w`")
    );
    assert!(
        error(
            &GOOD
                .replace("watchers:\n  - name: w\n", "watchers: []\n")
                .replace("recover: [w]", "recover: []")
        )
        .contains("matrix is empty")
    );
}

#[test]
fn a_write_to_a_missing_object_is_rejected() {
    let message = error(&GOOD.replace("kind: compact }", "kind: update, name: nope }"));
    assert!(
        message.contains("update default/nope at 1m") && message.contains("no such object"),
        "{message}"
    );
}

#[test]
fn an_update_that_changes_nothing_is_rejected_as_the_server_would_skip_it() {
    for update in [
        "kind: update, name: a }",
        "kind: update, name: a, body: { data: { k: v } } }\n  - { at: 2m, kind: update, name: a, body: { data: { k: v } } }",
        "kind: update, name: a, every: 10s, until: 2m, body: { data: { k: v } } }",
    ] {
        let message = error(&GOOD.replace("kind: compact }", update));
        assert!(
            message.contains("leaves the object as it was"),
            "{update}: {message}"
        );
    }
}

#[test]
fn a_repeated_update_changes_its_object_each_time_through_its_placeholders() {
    let scenario = Scenario::from_yaml(&GOOD.replace(
        "kind: compact }",
        "kind: update, name: a, every: 10s, until: 1m20s, labels: { beat: \"{n}\" }, body: { data: { n: \"{n}\", at: \"{now}\" } } }",
    ))
    .unwrap();
    let updates: Vec<String> = scenario
        .timeline
        .iter()
        .map(|step| match &step.action {
            Action::Write(Write::Update { labels, body, .. }) => format!(
                "{} {}",
                labels.as_ref().unwrap()["beat"],
                serde_json::to_string(body).unwrap()
            ),
            other => panic!("only updates: {other:?}"),
        })
        .collect();
    // `{now}` is the server's to fill in, at the time of the write.
    assert_eq!(
        updates,
        [
            r#"1 {"data":{"at":"{now}","n":"1"}}"#,
            r#"2 {"data":{"at":"{now}","n":"2"}}"#,
            r#"3 {"data":{"at":"{now}","n":"3"}}"#,
        ]
    );
}

#[test]
fn an_invalid_selector_is_rejected_before_the_server_would() {
    let message = error(&GOOD.replace(
        "  - name: w\n",
        "  - name: w\n    config: { field_selector: spec.nodeName=n1 }\n",
    ));
    // kube-apiserver 1.37's words for a ConfigMap field selector it does not know (the
    // conformance suite's `list-field-selector-unsupported`).
    assert!(
        message.contains(r#""spec.nodeName" is not a known field selector"#),
        "{message}"
    );
}

#[test]
fn non_utf8_files_name_the_byte_offset() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let path = dir.join("not-utf8.yaml");
    std::fs::write(&path, b"duration: 5m\nname: \xff\xfe\n").unwrap();
    let message = kube_watch_harness::scenario::load(&path)
        .unwrap_err()
        .to_string();
    assert!(message.ends_with("not valid UTF-8 at byte 19"), "{message}");
}

#[test]
fn an_alias_bomb_is_stopped_by_the_node_budget() {
    let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 0..9 {
        let prev = if i == 0 {
            "a".to_owned()
        } else {
            format!("b{}", i - 1)
        };
        bomb.push_str(&format!("b{i}: &b{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
    }
    let message = error(&bomb);
    assert!(message.starts_with("<string>"), "{message}");
}

#[test]
fn a_set_up_may_tolerate_breaches_of_the_protocol_checks_each_once() {
    let tolerant = GOOD.replace(
        "  recover: [w]\n",
        "  recover: [w]\n  tolerate: { w: [relist_after_gone, retry_after] }\n",
    );
    let scenario = Scenario::from_yaml(&tolerant).unwrap();
    let names: Vec<&str> = scenario.watchers[0]
        .tolerate
        .iter()
        .map(|c| c.name())
        .collect();
    assert_eq!(names, ["relist_after_gone", "retry_after"]);
    let twice = error(&tolerant.replace("retry_after]", "relist_after_gone]"));
    assert!(
        twice.contains("`relist_after_gone` is named twice"),
        "{twice}"
    );
}

#[test]
fn an_outcome_check_or_an_unknown_set_up_cannot_be_tolerated() {
    let outcome = error(&GOOD.replace(
        "  recover: [w]\n",
        "  recover: [w]\n  tolerate: { w: [converged] }\n",
    ));
    assert!(outcome.starts_with("<string>:15:19:"), "{outcome}");
    assert!(
        outcome.contains("`converged` judges the outcome, not the protocol"),
        "{outcome}"
    );
    let stranger = error(&GOOD.replace(
        "  recover: [w]\n",
        "  recover: [w]\n  tolerate: { v: [retry_after] }\n",
    ));
    assert!(
        stranger.contains("`v` is not a set-up in `watchers`"),
        "{stranger}"
    );
}

#[test]
fn early_bookmarks_and_an_etcd_without_progress_requests_are_two_apiservers_and_refused_together() {
    let both = GOOD.replace(
        "  - { at: 1m, kind: compact }\n",
        "  - { at: 1m, kind: watch_error }\n  - { at: 2m, kind: early_bookmarks, for: 1m }\n",
    );
    let message = error(&both);
    assert!(
        message.contains("at `timeline[1].kind`") && message.contains("a scenario plays one"),
        "{message}"
    );
    let one = GOOD.replace(
        "  - { at: 1m, kind: compact }\n",
        "  - { at: 2m, kind: early_bookmarks, for: 1m }\n",
    );
    assert!(Scenario::from_yaml(&one).is_ok());
}
