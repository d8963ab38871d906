//! The `harness` binary: reports, exit codes and error messages.

use std::path::PathBuf;
use std::process::Command;

use crate::fixture::yaml_files;

fn harness(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs");
    (
        output.status.code().expect("the binary exits, not killed"),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

/// idle-expire.yaml with `from` replaced by `to`, written to a temporary file `name`.
fn idle_expire_with(name: &str, from: &str, to: &str) -> PathBuf {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/idle-expire.yaml"
    ))
    .unwrap();
    assert!(
        text.contains(from),
        "idle-expire.yaml still contains {from:?}"
    );
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&path, text.replace(from, to)).unwrap();
    path
}

#[test]
fn idle_expire_prints_a_row_per_set_up_and_exits_0() {
    let (code, out, _) = harness(&["run", "scenarios/idle-expire.yaml"]);
    assert_eq!(code, 0, "{out}");
    insta::assert_snapshot!(out);
}

#[test]
fn a_verdict_that_contradicts_expect_exits_1() {
    let path = idle_expire_with(
        "contradicted.yaml",
        "recover: [defaults, no-backoff, no-bookmarks]\n  fail:\n    stop-on-error: stopped_on_recoverable_error",
        "recover: [defaults, no-backoff, no-bookmarks, stop-on-error]",
    );
    let (code, out, _) = harness(&["run", path.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("UNEXPECTED"), "{out}");
}

#[test]
fn a_set_up_that_fails_by_another_mechanism_than_expected_is_unexpected() {
    let path = idle_expire_with(
        "other-mechanism.yaml",
        "stop-on-error: stopped_on_recoverable_error",
        "stop-on-error: hot_loop_without_backoff",
    );
    let (code, out, _) = harness(&["run", path.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    let row = out
        .lines()
        .find(|l| l.contains("stop-on-error"))
        .expect("a row for the set-up");
    assert!(row.ends_with("UNEXPECTED"), "{row}");
    assert!(
        out.contains(
            "expected: to fail by hot_loop_without_backoff, not by stopped_on_recoverable_error"
        ),
        "{out}"
    );
}

#[test]
fn explain_names_the_missing_end_of_a_streaming_list_and_the_store_that_never_became_ready() {
    let scenario = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/streaming-list-no-end.yaml"
    );
    let (code, out, err) = harness(&["explain", scenario, "--setup", "streaming-list"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("NOT recovered: store_never_ready"), "{out}");
    assert!(
        out.contains("never the `k8s.io/initial-events-end` bookmark"),
        "{out}"
    );
    assert!(
        out.contains("the reflector's store never became ready"),
        "{out}"
    );
    assert!(
        out.contains("sent on #1: ADDED shop/api"),
        "the trace slice: {out}"
    );
    let (code, json, _) = harness(&[
        "explain",
        scenario,
        "--setup",
        "streaming-list",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    let doc: serde_json::Value = serde_json::from_str(&json).expect("one JSON document");
    assert_eq!(doc["mechanism"], "store_never_ready");
    assert!(doc["trace"].as_array().is_some_and(|t| !t.is_empty()));
}

#[test]
fn explain_refuses_a_set_up_the_scenario_does_not_have() {
    let scenario = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/idle-expire.yaml");
    let (code, _, err) = harness(&["explain", scenario, "--setup", "nope"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("has no set-up `nope`; its set-ups: defaults, stop-on-error"),
        "{err}"
    );
}

#[test]
fn an_unknown_key_exits_2_naming_file_line_and_key() {
    let path = idle_expire_with("unknown-key.yaml", "seed: 1615\n", "seed: 1615\nseeed: 1\n");
    let (code, _, err) = harness(&["run", path.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown-key.yaml:12:1"), "{err}");
    assert!(err.contains("unknown field `seeed`"), "{err}");
}

#[test]
fn a_bad_duration_exits_2_naming_file_line_and_key() {
    let path = idle_expire_with("bad-duration.yaml", "duration: 20m", "duration: twenty");
    let (code, _, err) = harness(&["run", path.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        err.contains("bad-duration.yaml:12:11") && err.contains("`duration`"),
        "{err}"
    );
}

#[test]
fn a_missing_file_and_a_bad_flag_exit_2() {
    assert_eq!(harness(&["run", "scenarios/nope.yaml"]).0, 2);
    assert_eq!(
        harness(&["run", "--format", "xml", "scenarios/idle-expire.yaml"]).0,
        2
    );
}

#[test]
fn json_output_is_byte_identical_across_processes() {
    let (_, first, _) = harness(&["run", "--format", "json", "scenarios/"]);
    let (_, second, _) = harness(&["run", "--format", "json", "scenarios/"]);
    assert!(first.contains("\"schema\": \"kube-watch-harness/report/v3\""));
    assert_eq!(first, second);
}

#[test]
fn check_validates_without_running() {
    let (code, out, _) = harness(&["check", "scenarios/"]);
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), yaml_files("scenarios").len(), "{out}");
    assert!(out.lines().all(|l| l.ends_with("set-ups)")), "{out}");
}

#[test]
fn the_catalogue_has_at_least_20_scenarios_each_described_and_listed_with_its_faults() {
    assert!(yaml_files("scenarios").len() >= 20);
    let (code, out, err) = harness(&["list"]);
    assert_eq!(code, 0, "{err}");
    for path in yaml_files("scenarios") {
        let stem = path.file_stem().unwrap().to_str().unwrap().to_owned();
        let entry = out
            .split("\n\n")
            .find(|e| e.starts_with(&format!("{stem}  (")))
            .unwrap_or_else(|| panic!("{stem} is listed:\n{out}"));
        assert!(entry.contains("faults: "), "{entry}");
        assert!(
            entry.lines().skip(1).map(str::len).sum::<usize>() > 100,
            "{stem} has a description of the situation it models:\n{entry}"
        );
    }
}

#[test]
fn serve_plays_the_timeline_to_its_end_warns_off_loopback_and_removes_its_kubeconfig() {
    let (code, out, err) = harness(&[
        "serve",
        "tests/scenarios/kubectl-watch.yaml",
        "--speed",
        "100",
        "--addr",
        "0.0.0.0:0",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        err.starts_with("warning: listening on 0.0.0.0:0, beyond this machine"),
        "{err}"
    );
    let kubeconfig = out
        .lines()
        .find_map(|l| l.strip_prefix("kubeconfig: "))
        .expect("the kubeconfig path is printed");
    assert!(
        !std::path::Path::new(kubeconfig).exists(),
        "the kubeconfig serve created is gone after exit"
    );
    assert!(out.contains("timeline ended at 20s: 0 requests"), "{out}");
    assert!(out.contains("faults played: expire_watches at 12"), "{out}");
}

#[test]
fn serve_refuses_a_bad_scenario_with_exit_2_and_binds_nothing() {
    let (code, out, err) = harness(&["serve", "tests/scenarios/missing.yaml"]);
    assert_eq!(code, 2);
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("tests/scenarios/missing.yaml"), "{err}");
}

#[test]
fn exec_judges_a_command_that_never_connects_and_stops_it_at_the_end() {
    // `sleep` outlives the timeline (20 minutes at a million times real time): it is stopped
    // with SIGTERM at the end, and judged for what it did, which is nothing.
    let (code, out, err) = harness(&[
        "exec",
        "scenarios/idle-expire.yaml",
        "--speed",
        "1000000",
        "--",
        "sleep",
        "60",
    ]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("sleep (no user agent)"), "{out}");
    assert!(out.contains("it made no list or watch request"), "{out}");
    let (code, out, err) = harness(&[
        "exec",
        "scenarios/idle-expire.yaml",
        "--speed",
        "1000",
        "--",
        "true",
    ]);
    assert_eq!(code, 1, "{out}{err}");
    // It exits long before the 1.2 s the timeline takes at 1,000×.
    assert!(out.contains("the client exited (exit 0) at "), "{out}");
    // The same reports as `harness run`.
    let (code, out, err) = harness(&[
        "exec",
        "scenarios/idle-expire.yaml",
        "--speed",
        "1000000",
        "--format",
        "json",
        "--",
        "sleep",
        "60",
    ]);
    assert_eq!(code, 1, "{out}{err}");
    let report: serde_json::Value = serde_json::from_str(&out).expect("the report is JSON");
    let setup = &report["scenarios"][0]["setups"][0];
    assert_eq!(setup["name"], "sleep (no user agent)");
    assert_eq!(setup["checks"][0]["name"], "survived");
    assert_eq!(setup["checks"][0]["passed"], false);
}

#[test]
fn exec_names_a_command_that_cannot_start_and_a_set_up_the_scenario_lacks() {
    let (code, _, err) = harness(&[
        "exec",
        "scenarios/idle-expire.yaml",
        "--",
        "no-such-program-kwh",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("failed to start `no-such-program-kwh`"),
        "{err}"
    );
    let (code, _, err) = harness(&[
        "exec",
        "scenarios/idle-expire.yaml",
        "--setup",
        "nope",
        "--",
        "true",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("has no set-up `nope`; its set-ups: defaults, stop-on-error"),
        "{err}"
    );
}

#[test]
fn explain_whole_trace_prints_every_event_and_the_slice_around_the_cause_keeps_its_ends() {
    let (_, whole, _) = harness(&[
        "explain",
        "scenarios/empty-watch.yaml",
        "--setup",
        "defaults",
        "--whole-trace",
    ]);
    let header = whole
        .lines()
        .find(|l| l.starts_with("trace, "))
        .expect("a trace header");
    let count: usize = header
        .rsplit_once('(')
        .and_then(|(_, n)| n.split(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("the header counts the events");
    let printed = whole
        .lines()
        .skip_while(|l| !l.starts_with("trace, "))
        .count()
        - 1;
    assert!(count > 60, "{header}");
    assert_eq!(printed, count, "{header}");
    assert!(!whole.contains("more events"));
    let (_, around, _) = harness(&[
        "explain",
        "scenarios/empty-watch.yaml",
        "--setup",
        "defaults",
    ]);
    assert!(around.contains("more events …"), "{around}");
}
