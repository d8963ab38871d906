//! `harness proxy` and `harness exec --upstream` on bad input: a clear error naming what and
//! where, exit 2, nothing started and nothing left running.

use std::path::PathBuf;
use std::process::Command;

const PLAYABLE: &str = "tests/scenarios/proxy-cut-stall-410.yaml";

fn harness(args: &[&str]) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs");
    (
        output.status.code().expect("the binary exits, not killed"),
        String::from_utf8(output.stderr).unwrap(),
    )
}

/// A kubeconfig for `server`, its user with `user` (YAML) as credentials, in a file of the
/// test's own.
fn kubeconfig(name: &str, server: &str, user: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: c\n\
             clusters: [{{ name: c, cluster: {{ server: \"{server}\", insecure-skip-tls-verify: true }} }}]\n\
             users: [{{ name: u, user: {user} }}]\n\
             contexts: [{{ name: c, context: {{ cluster: c, user: u }} }}]\n"
        ),
    )
    .unwrap();
    path
}

/// An address nothing listens on.
fn closed_port() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("https://{addr}")
}

#[test]
fn a_fault_the_proxy_cannot_make_is_refused_by_name_before_anything_starts() {
    let upstream = kubeconfig("unused.kubeconfig", &closed_port(), "{ token: t }");
    let (code, err) = harness(&[
        "proxy",
        "scenarios/forced-410.yaml",
        "--upstream",
        upstream.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("scenarios/forced-410.yaml: the proxy cannot play this scenario"),
        "{err}"
    );
    assert!(err.contains("timeline (expire_watches at 5m)"), "{err}");
}

#[test]
fn a_compaction_is_refused_unless_the_proxy_is_given_etcd() {
    let upstream = kubeconfig("unused-etcd.kubeconfig", &closed_port(), "{ token: t }");
    let (code, err) = harness(&[
        "proxy",
        "scenarios/idle-expire.yaml",
        "--upstream",
        upstream.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("(compact at"), "{err}");
    assert!(err.contains("--etcd"), "{err}");
}

#[test]
fn a_kubeconfig_without_credentials_is_refused_naming_the_file_and_context() {
    let upstream = kubeconfig("anonymous.kubeconfig", &closed_port(), "{}");
    let (code, err) = harness(&["proxy", PLAYABLE, "--upstream", upstream.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("anonymous.kubeconfig"), "{err}");
    assert!(err.contains("context `c` has no credentials"), "{err}");
}

#[test]
fn a_context_the_kubeconfig_lacks_is_named_with_those_it_has() {
    let upstream = kubeconfig("one-context.kubeconfig", &closed_port(), "{ token: t }");
    let (code, err) = harness(&[
        "proxy",
        PLAYABLE,
        "--upstream",
        upstream.to_str().unwrap(),
        "--context",
        "staging",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no context `staging`; it has `c`"), "{err}");
}

#[test]
fn an_unreachable_upstream_is_named_and_exec_never_starts_the_client() {
    let server = closed_port();
    let upstream = kubeconfig("unreachable.kubeconfig", &server, "{ token: t }");
    let marker = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("client-started");
    let _ = std::fs::remove_file(&marker);
    let (code, err) = harness(&[
        "exec",
        PLAYABLE,
        "--upstream",
        upstream.to_str().unwrap(),
        "--",
        "touch",
        marker.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(&format!("the upstream apiserver {server}/ did not answer")),
        "{err}"
    );
    assert!(!marker.exists(), "the client was started");
}

#[test]
fn a_missing_kubeconfig_is_named() {
    let (code, err) = harness(&["proxy", PLAYABLE, "--upstream", "no/such/kubeconfig"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no/such/kubeconfig"), "{err}");
}
