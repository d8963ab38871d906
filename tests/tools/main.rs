//! The checks that need a tool besides the Rust toolchain: kubectl against `harness serve`, and
//! xmllint on the JUnit report. Where the tool is not on PATH, the check is reported as
//! ignored, with the reason, so `cargo test` passes on a machine with only Rust and says what
//! did not run. With `KWH_REQUIRE_TOOLS` set (`.ci/run` sets it, after installing the tools),
//! a missing tool fails the check instead.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use libtest_mimic::{Arguments, Completion, Trial};

mod cleanup;
mod exec;
mod kubectl;
#[path = "../common/reaped.rs"]
mod reaped;
#[path = "../common/reports.rs"]
mod reports;
mod xmllint;

/// Set on machines that must run every check.
const REQUIRE: &str = "KWH_REQUIRE_TOOLS";

fn main() -> ExitCode {
    if let Ok(how) = std::env::var(cleanup::CHILD) {
        cleanup::child(&how);
    }
    let checks = vec![
        needing(
            &["sh", "sleep", "kill"],
            "cleanup::a_test_that_fails_an_assertion_leaves_no_harness_serve_behind",
            cleanup::a_test_that_fails_an_assertion_leaves_no_harness_serve_behind,
        ),
        needing(
            &["sh", "sleep", "kill"],
            "cleanup::an_interrupted_test_leaves_no_harness_serve_behind",
            cleanup::an_interrupted_test_leaves_no_harness_serve_behind,
        ),
        needing(
            &["sh", "sleep", "kill"],
            "cleanup::a_killed_test_leaves_no_harness_serve_behind",
            cleanup::a_killed_test_leaves_no_harness_serve_behind,
        ),
        needing(
            &["sh", "sleep", "kill"],
            "cleanup::a_killed_harness_exec_leaves_no_client_behind",
            cleanup::a_killed_harness_exec_leaves_no_client_behind,
        ),
        needing(
            &["sh", "sleep", "kill"],
            "cleanup::an_interrupted_harness_exec_stops_its_client_and_exits_130",
            cleanup::an_interrupted_harness_exec_stops_its_client_and_exits_130,
        ),
        needing(
            &["kubectl", "kill"],
            "kubectl::lists_watches_and_shows_the_injected_410_from_harness_serve",
            kubectl::lists_watches_and_shows_the_injected_410_from_harness_serve,
        ),
        needing(
            &["xmllint"],
            "xmllint::the_junit_report_is_valid_against_the_common_junit_xsd",
            xmllint::the_junit_report_is_valid_against_the_common_junit_xsd,
        ),
        needing(
            &["kubectl"],
            "exec::kubectl_get_watch_is_judged_by_the_scenario_s_expectations",
            exec::kubectl_get_watch_is_judged_by_the_scenario_s_expectations,
        ),
        needing(
            &["kubectl", "sh"],
            "exec::two_processes_with_one_user_agent_are_judged_as_two_clients",
            exec::two_processes_with_one_user_agent_are_judged_as_two_clients,
        ),
        needing(
            &["kubectl", "sh"],
            "exec::a_client_that_relists_in_a_tight_loop_after_an_http_410_is_a_request_storm",
            exec::a_client_that_relists_in_a_tight_loop_after_an_http_410_is_a_request_storm,
        ),
        needing_built(
            exec::example_client,
            "plain `cargo test` builds it; or `cargo build --example view_client`",
            "exec::the_example_client_s_exec_verdicts_agree_with_its_simulated_verdicts",
            exec::the_example_client_s_exec_verdicts_agree_with_its_simulated_verdicts,
        ),
        needing_built(
            exec::client_go_informer,
            "ci/clients builds it, with Go 1.26",
            "exec::the_client_go_informer_recovers_from_a_forced_410",
            exec::the_client_go_informer_recovers_from_a_forced_410,
        ),
        needing_built(
            exec::javascript_node,
            "ci/clients installs it: npm ci in clients/javascript",
            "exec::the_javascript_informer_is_one_client_and_recovers_from_a_forced_410_and_a_restart",
            exec::the_javascript_informer_is_one_client_and_recovers_from_a_forced_410_and_a_restart,
        ),
    ];
    libtest_mimic::run(&Arguments::from_args(), checks).exit_code()
}

/// A check of a client built for it: the example client, which plain `cargo test` builds
/// beside the tests and a filtered one (`cargo test --test tools`) does not, or the client-go
/// informer, which `ci/clients` builds.
fn needing_built(
    binary: fn() -> PathBuf,
    how: &'static str,
    name: &'static str,
    check: fn(),
) -> Trial {
    Trial::ignorable_test(name, move || {
        let binary = binary();
        if is_executable(&binary) {
            check();
            return Ok(Completion::Completed);
        }
        let why = format!(
            "{} is not built ({how}): this check did not run",
            binary.display()
        );
        if std::env::var_os(REQUIRE).is_some() {
            return Err(format!("{why}, and {REQUIRE} says this machine runs every check").into());
        }
        eprintln!("{name}: {why}");
        Ok(Completion::ignored_with(why))
    })
}

/// A check that runs only where each of `tools` is on PATH (the kubectl check sends
/// `kill -INT` to the server it started).
fn needing(tools: &'static [&'static str], name: &'static str, check: fn()) -> Trial {
    Trial::ignorable_test(name, move || {
        let Some(tool) = tools.iter().find(|tool| !on_path(tool)) else {
            check();
            return Ok(Completion::Completed);
        };
        if std::env::var_os(REQUIRE).is_some() {
            return Err(format!(
                "{tool} is not on PATH, and {REQUIRE} says this machine runs every check"
            )
            .into());
        }
        // Said on stderr too, which `cargo test` shows whatever the output format.
        eprintln!("{name}: {tool} is not on PATH: this check did not run");
        Ok(Completion::ignored_with(format!(
            "{tool} is not on PATH: this check did not run"
        )))
    })
}

/// Whether an executable file `tool` is in one of PATH's directories.
fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| is_executable(&dir.join(tool))))
}

fn is_executable(file: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    file.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}
