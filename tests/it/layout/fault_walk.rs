//! Faults walked from their YAML entry to the wire: the files whose code an entry passes
//! through, from `Scenario::load` reading the file to where its effect is made on the wire. Two
//! walks: a bookmark fault, which a rule the server consults changes, and a stream cut, which
//! reaches watches already open over the one channel to them.
//!
//! A stop is a file with code that reads, checks, holds, plays, consults or writes the fault.
//! A type that only carries it from one stop to the next (`Action` in `scenario/spec.rs`,
//! `BookmarkAction` and `OpenWatchHit` in `fault/effects.rs`) is the link between two stops,
//! not a stop: a reader sees both ends of it in the two files it joins. A walk ends where the
//! fault's effect is made: the line `wire.rs` writes, or the `Err` hyper resets the connection
//! on; from there bytes go the way every line goes.
//!
//! A walk is checked, not only listed: each stop defines its item, and each is linked to an
//! earlier stop by a name both files hold (the earlier one calls the later, or the later takes
//! what the earlier made). Moving code off a walk without changing the list fails here. That
//! no stop is left out is for review to see.

use super::the_crate;

/// A file on a walk, what it defines, and the name that links it to an earlier stop.
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

/// From the file to the fault, the same for every kind: the file read, its text parsed, the
/// entry as YAML spells it (`kind:` and its keys), validated into an action, and the fault read
/// from its keys by the fault's walk.
const FROM_YAML: &[Stop] = &[
    stop("scenario/load.rs", "load", "load"),
    stop("scenario/yaml.rs", "deserialize", "deserialize"),
    stop("scenario/file.rs", "StepFile", "ScenarioFile"),
    stop("scenario/validate/validator.rs", "validate", "validate"),
    stop("scenario/validate/timeline.rs", "action", "StepFile"),
    stop("fault/form.rs", "read", "read"),
];

/// `- { at: 1m, kind: stale_bookmarks, for: 2m }`, on to the bookmark line it changes.
const STALE_BOOKMARKS: &[Stop] = &[
    // `for: 2m` read as a span; the kind named and the fault as a whole checked.
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

/// `- { at: 1m, kind: cut_stream }`, on to the reset of every watch open then.
const CUT_STREAM: &[Stop] = &[
    stop("fault/faults.rs", "named", "named"),
    // Played at its time: installed, awaiting a claim from each watch open, and raised on the
    // one channel to them; each watch claims it, cuts its body, and hyper resets the
    // connection on the `Err`.
    stop("apiserver/timeline.rs", "apply", "Action"),
    stop("apiserver/server.rs", "inject", "inject"),
    stop("apiserver/alarm.rs", "raise", "raise"),
    stop("fault/fault_rules.rs", "claim_open_watch", "await_claims"),
    stop("apiserver/watch/session.rs", "cut_off", "Strikes"),
    stop("apiserver/watch/response.rs", "start", "next_line"),
];

/// What a walk took before (issue 23).
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
            .unwrap_or_else(|| panic!("src/{file} is on a walk but not in the crate"))
    };
    let mut broken = Vec::new();
    for (fault, rest) in [
        ("stale_bookmarks", STALE_BOOKMARKS),
        ("cut_stream", CUT_STREAM),
    ] {
        let walk: Vec<&Stop> = FROM_YAML.iter().chain(rest).collect();
        for (i, stop) in walk.iter().enumerate() {
            let code = code_of(stop.file);
            if !defines(code, stop.defines) {
                broken.push(format!(
                    "{fault}: src/{} defines no `{}`",
                    stop.file, stop.defines
                ));
            }
            let linked = walk[..i].iter().any(|earlier| {
                has_word(code, stop.linked_by) && has_word(code_of(earlier.file), stop.linked_by)
            });
            if i > 0 && !linked {
                broken.push(format!(
                    "{fault}: src/{} shares `{}` with no earlier stop",
                    stop.file, stop.linked_by
                ));
            }
            if walk[..i].iter().any(|earlier| earlier.file == stop.file) {
                broken.push(format!("{fault}: src/{} is on the walk twice", stop.file));
            }
        }
        if walk.len() >= FILES_BEFORE {
            broken.push(format!(
                "{fault} passes through {} files, not fewer than {FILES_BEFORE}",
                walk.len()
            ));
        }
    }
    assert!(
        broken.is_empty(),
        "the walks no longer hold:\n{}",
        broken.join("\n")
    );
}
