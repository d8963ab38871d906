//! The house rules of `src/`, checked on the code as it stands: files small enough to read,
//! functions short enough to hold in one's head, module roots that only name their children,
//! and imports that never run back up a folder or close a loop.

mod fault_walk;
mod import_graph;
mod rust_source;

use std::path::Path;

use import_graph::{Crate, folder, is_root, loops};
use rust_source::{functions, line_of};

const MAX_FILE_LINES: usize = 600;
const MAX_FUNCTION_LINES: usize = 120;

fn the_crate() -> Crate {
    Crate::read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"))
}

#[test]
fn no_file_in_src_is_over_600_lines_tests_included() {
    let long: Vec<String> = the_crate()
        .code
        .iter()
        .map(|(file, code)| (file, code.lines().count()))
        .filter(|(_, lines)| *lines > MAX_FILE_LINES)
        .map(|(file, lines)| format!("src/{file}: {lines} lines"))
        .collect();
    assert!(
        long.is_empty(),
        "split these by concept:\n{}",
        long.join("\n")
    );
}

#[test]
fn no_function_in_src_is_over_120_lines() {
    let long: Vec<String> = the_crate()
        .code
        .iter()
        .flat_map(|(file, code)| functions(code).into_iter().map(move |f| (file, f)))
        .filter(|(_, f)| f.lines > MAX_FUNCTION_LINES)
        .map(|(file, f)| {
            format!(
                "src/{file}:{} fn {}: {} lines",
                f.first_line, f.name, f.lines
            )
        })
        .collect();
    assert!(
        long.is_empty(),
        "split these into named steps:\n{}",
        long.join("\n")
    );
}

#[test]
fn module_roots_hold_only_docs_mod_lines_and_use_lines() {
    let mut crowded = Vec::new();
    for (file, code) in &the_crate().code {
        if !file.ends_with("mod.rs") {
            continue;
        }
        // What is left once every attribute, `mod` line and `use` declaration is taken out
        // must be blank: the comments and doc lines were blanked out already.
        let mut rest = code.clone();
        for declaration in declarations(code) {
            rest = rest.replacen(&declaration, &" ".repeat(declaration.len()), 1);
        }
        if let Some(at) = rest.find(|c: char| !c.is_whitespace()) {
            let line = line_of(&rest, at);
            let text = rest.lines().nth(line - 1).unwrap_or_default().trim();
            crowded.push(format!("src/{file}:{line}: {text}"));
        }
    }
    assert!(
        crowded.is_empty(),
        "move these into files named for what they hold:\n{}",
        crowded.join("\n")
    );
}

/// The attributes, `mod name;` lines and `use …;` declarations of blanked source, as written.
fn declarations(code: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(start) = rest.find(|c: char| !c.is_whitespace()) {
        rest = &rest[start..];
        let end = if rest.starts_with("#[") || rest.starts_with("#![") {
            rest.find(']').map(|e| e + 1)
        } else {
            let visibility = ["pub(crate) ", "pub(super) ", "pub "]
                .iter()
                .find_map(|v| rest.strip_prefix(v))
                .unwrap_or(rest);
            (visibility.starts_with("mod ") || visibility.starts_with("use "))
                .then(|| rest.find(';').map(|e| e + 1))
                .flatten()
        };
        let Some(end) = end else { break };
        found.push(rest[..end].to_owned());
        rest = &rest[end..];
    }
    found
}

#[test]
fn no_import_runs_back_up_its_folder_or_closes_a_loop() {
    let arrows = the_crate().arrows();
    let upward: Vec<String> = arrows
        .iter()
        .filter(|(from, to, _)| {
            is_root(to) && from != to && {
                let root_folder = folder(to);
                root_folder.is_empty() || folder(from).starts_with(root_folder)
            }
        })
        .map(|(from, to, path)| format!("src/{from} -> src/{to} ({path})"))
        .collect();
    assert!(
        upward.is_empty(),
        "import these from the file that defines them, not from the folder's root:\n{}",
        upward.join("\n")
    );
    let circles: Vec<String> = loops(&arrows)
        .into_iter()
        .map(|circle| circle.join(" <-> "))
        .collect();
    assert!(
        circles.is_empty(),
        "these files import each other:\n{}",
        circles.join("\n")
    );
}
