//! JUnit XML for CI: one `<testsuite>` per scenario, one `<testcase>` per set-up. A testcase
//! fails when the verdict is not what the scenario's `expect` block says; the failure message
//! is the diagnosis and its text lists every check. Valid against the Jenkins xUnit plugin's
//! `junit-10.xsd` (tested). Times are left out: virtual minutes would mislead a CI dashboard
//! that adds them up, and wall times would make the report differ between runs.

use std::io;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

use crate::outcome::{Outcome, RunReport};
use crate::scenario::Expected;

/// Writes `reports` as a JUnit XML document.
///
/// # Errors
/// Any error of `out`.
pub fn write(reports: &[RunReport], out: &mut impl io::Write) -> io::Result<()> {
    let mut xml = Writer::new_with_indent(out, b' ', 2);
    xml.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let (tests, failures) = count(reports.iter().flat_map(|r| &r.outcomes));
    let mut root = BytesStart::new("testsuites");
    root.push_attribute(("name", "kube-watch-harness"));
    root.push_attribute(("tests", tests.to_string().as_str()));
    root.push_attribute(("failures", failures.to_string().as_str()));
    root.push_attribute(("errors", "0"));
    xml.write_event(Event::Start(root))?;
    for report in reports {
        let (tests, failures) = count(report.outcomes.iter());
        let mut suite = BytesStart::new("testsuite");
        suite.push_attribute(("name", report.scenario.as_str()));
        suite.push_attribute(("tests", tests.to_string().as_str()));
        suite.push_attribute(("failures", failures.to_string().as_str()));
        suite.push_attribute(("errors", "0"));
        suite.push_attribute(("skipped", "0"));
        xml.write_event(Event::Start(suite))?;
        xml.write_event(Event::Start(BytesStart::new("properties")))?;
        for (name, value) in [
            ("seed", report.seed.to_string()),
            (
                "virtual_duration",
                crate::scenario::format_duration(report.duration),
            ),
        ] {
            let mut property = BytesStart::new("property");
            property.push_attribute(("name", name));
            property.push_attribute(("value", value.as_str()));
            xml.write_event(Event::Empty(property))?;
        }
        xml.write_event(Event::End(BytesEnd::new("properties")))?;
        for outcome in &report.outcomes {
            testcase(&mut xml, &report.scenario, outcome)?;
        }
        xml.write_event(Event::End(BytesEnd::new("testsuite")))?;
    }
    xml.write_event(Event::End(BytesEnd::new("testsuites")))?;
    writeln!(xml.get_mut())
}

fn count<'a>(outcomes: impl Iterator<Item = &'a Outcome>) -> (usize, usize) {
    outcomes.fold((0, 0), |(tests, failures), o| {
        (tests + 1, failures + usize::from(!o.as_expected))
    })
}

fn testcase<W: io::Write>(
    xml: &mut Writer<W>,
    scenario: &str,
    outcome: &Outcome,
) -> io::Result<()> {
    let mut case = BytesStart::new("testcase");
    case.push_attribute(("name", outcome.setup.as_str()));
    case.push_attribute(("classname", scenario));
    xml.write_event(Event::Start(case))?;
    let verdict = &outcome.verdict;
    let checks: String = verdict
        .checks
        .iter()
        .map(|c| {
            format!(
                "{} {:?}: {}\n",
                if c.passed { "ok  " } else { "FAIL" },
                c.name,
                c.detail
            )
        })
        .collect();
    let result = match verdict.mechanism {
        None => "recovered".to_owned(),
        Some(mechanism) => format!("did not recover ({mechanism})"),
    };
    if outcome.as_expected {
        let text = match &verdict.diagnosis {
            Some(why) => format!("{result}, as expected: {why}\n{checks}"),
            None => format!("{result}, as expected\n{checks}"),
        };
        xml.write_event(Event::Start(BytesStart::new("system-out")))?;
        xml.write_event(Event::Text(BytesText::new(&text)))?;
        xml.write_event(Event::End(BytesEnd::new("system-out")))?;
    } else {
        let expected = match (outcome.expected, outcome.expected_mechanism) {
            (Expected::Recover, _) => "expected to recover".to_owned(),
            (Expected::Fail, Some(mechanism)) => format!("expected to fail by {mechanism}"),
            (Expected::Fail, None) => "expected not to recover".to_owned(),
        };
        let message = format!(
            "{result} ({expected}): {}",
            verdict.diagnosis.as_deref().unwrap_or("every check passed")
        );
        let mut failure = BytesStart::new("failure");
        failure.push_attribute(("type", "unexpected-verdict"));
        failure.push_attribute(("message", message.as_str()));
        xml.write_event(Event::Start(failure))?;
        xml.write_event(Event::Text(BytesText::new(&checks)))?;
        xml.write_event(Event::End(BytesEnd::new("failure")))?;
    }
    xml.write_event(Event::End(BytesEnd::new("testcase")))?;
    Ok(())
}
