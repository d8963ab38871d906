//! The checked-in JSON Schemas are the ones the types generate.

use kube_watch_harness::{report, scenario};

fn checked_in(name: &str) -> String {
    std::fs::read_to_string(format!("{}/{name}", env!("CARGO_MANIFEST_DIR")))
        .unwrap_or_else(|e| panic!("{name} is checked in: {e}"))
}

#[test]
fn the_scenario_schema_for_editors_is_current() {
    assert!(
        checked_in("scenario.schema.json") == scenario::json_schema(),
        "scenario.schema.json is stale: run `cargo run -- schema > scenario.schema.json`"
    );
}

#[test]
fn the_report_schema_is_current_and_names_the_report_version() {
    assert!(
        checked_in("report.schema.json") == report::json::json_schema(),
        "report.schema.json is stale: run `cargo run -- schema report > report.schema.json`"
    );
    assert!(report::json::SCHEMA.ends_with("/v3"));
}

#[test]
fn every_fault_of_every_built_in_scenario_reads_back_what_it_writes() {
    use kube_watch_harness::fault::Fault;
    use kube_watch_harness::scenario::{Action, files_in, load};
    let mut faults = 0;
    for file in files_in(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios")).unwrap() {
        for step in load(&file).unwrap().timeline {
            if let Action::Fault(fault) = step.action {
                let written = serde_saphyr::to_string(&fault).unwrap();
                let read: Fault = serde_saphyr::from_str(&written)
                    .unwrap_or_else(|e| panic!("{}: {written}: {e}", file.display()));
                assert_eq!(read, fault, "{}: {written}", file.display());
                faults += 1;
            }
        }
    }
    assert!(faults > 40, "{faults} faults checked");
}

#[test]
fn every_built_in_scenario_written_back_as_a_document_loads_as_the_same_scenario() {
    use kube_watch_harness::scenario::{Document, Scenario, files_in, load};
    for file in files_in(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios")).unwrap() {
        let document = Document::load(&file).unwrap();
        let yaml = document.to_yaml();
        let again = Scenario::from_yaml(&yaml)
            .unwrap_or_else(|e| panic!("{}: {e}\n{yaml}", file.display()));
        assert_eq!(
            format!("{again:?}"),
            format!("{:?}", load(&file).unwrap()),
            "{}",
            file.display()
        );
    }
}
