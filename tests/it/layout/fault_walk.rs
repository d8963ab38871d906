//! One fault walked from its YAML entry to the wire: the files whose code a `stale_bookmarks`
//! entry passes through, from `Scenario::load` reading the file to the bookmark line it changes.
//!
//! A stop is a file with code that reads, checks, holds, plays, consults or writes the fault.
//! A type that only carries it from one stop to the next (`Action` in `scenario/spec.rs`,
//! `BookmarkAction` in `fault/effects.rs`) is the link between two stops, not a stop: a reader
//! sees both ends of it in the two files it joins.
//!
//! The walk is checked, not only listed: each stop defines its item, and each is linked to an
//! earlier stop by a name both files hold (the earlier one calls the later, or the later takes
//! what the earlier made). Moving code off the walk without changing the list fails here.

use super::the_crate;

/// A file on the walk, what it defines, and the name that links it to an earlier stop.
struct Stop {
    file: &'static str,
    defines: &'static str,
    linked_by: &'static str,
}

const fn stop(file: &'static str, defines: &'static str, linked_by: &'static str) -> Stop {
    Stop {
        file,
        defines,
        linked_by,
    }
}

/// `- { at: 1m, kind: stale_bookmarks, for: 2m }`, from the file to the wire.
const WALK: &[Stop] = &[
    // The file read, its text parsed, and the entry as YAML spells it: `kind:` and its keys.
    stop("scenario/load.rs", "load", "load"),
    stop("scenario/yaml.rs", "deserialize", "deserialize"),
    stop("scenario/file.rs", "StepFile", "ScenarioFile"),
    // Validated: the entry's action, and the fault read from its keys by the fault's walk
    // (`for: 2m` read as a span), its kind named, and the fault as a whole checked.
    stop("scenario/validate/validator.rs", "validate", "validate"),
    stop("scenario/validate/timeline.rs", "action", "StepFile"),
    stop("fault/form.rs", "read", "read"),
    stop("span.rs", "Span", "Span"),
    stop("fault/faults.rs", "named", "named"),
    // Played at its time, installed in the rule table, consulted at each bookmark due, and the
    // bookmark written with the stale revision.
    stop("apiserver/timeline.rs", "apply", "Action"),
    stop("apiserver/server.rs", "inject", "inject"),
    stop("fault/fault_rules.rs", "install", "install"),
    stop(
        "apiserver/watch/session.rs",
        "send_bookmark",
        "BookmarkAction",
    ),
    stop("apiserver/wire.rs", "bookmark", "bookmark"),
];

/// What the walk took before the house was split by concept (issue 23).
const FILES_BEFORE: usize = 14;

fn has_word(code: &str, word: &str) -> bool {
    code.match_indices(word).any(|(at, _)| {
        let before = code[..at].chars().next_back();
        let after = code[at + word.len()..].chars().next();
        let part_of_name = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
        !part_of_name(before) && !part_of_name(after)
    })
}

fn defines(code: &str, item: &str) -> bool {
    ["fn", "struct", "enum", "trait"]
        .iter()
        .any(|keyword| has_word(code, &format!("{keyword} {item}")))
}

#[test]
fn a_fault_walks_from_its_yaml_entry_to_the_wire_through_fewer_files_than_before() {
    let the_crate = the_crate();
    let code_of = |file: &str| {
        the_crate
            .code
            .get(file)
            .unwrap_or_else(|| panic!("src/{file} is on the walk but not in the crate"))
    };
    let mut broken = Vec::new();
    for (i, stop) in WALK.iter().enumerate() {
        let code = code_of(stop.file);
        if !defines(code, stop.defines) {
            broken.push(format!("src/{} defines no `{}`", stop.file, stop.defines));
        }
        let linked = WALK[..i].iter().any(|earlier| {
            has_word(code, stop.linked_by) && has_word(code_of(earlier.file), stop.linked_by)
        });
        if i > 0 && !linked {
            broken.push(format!(
                "src/{} shares `{}` with no earlier stop",
                stop.file, stop.linked_by
            ));
        }
        if WALK[..i].iter().any(|earlier| earlier.file == stop.file) {
            broken.push(format!("src/{} is on the walk twice", stop.file));
        }
    }
    assert!(
        broken.is_empty(),
        "the walk no longer holds:\n{}",
        broken.join("\n")
    );
    assert!(
        WALK.len() < FILES_BEFORE,
        "a fault passes through {} files, not fewer than {FILES_BEFORE}",
        WALK.len()
    );
}
