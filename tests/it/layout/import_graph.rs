//! The crate's files and the `use` arrows between them: which file each `use crate::…`,
//! `use super::…` and `use self::…` path lands in, following a module root's re-exports to the
//! file that defines the item, as a reader following the import would.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::rust_source::{UsePath, blank_literals, use_paths};

/// A file of `src/`, by its path relative to `src/` (`verdict/mod.rs`).
pub(crate) type File = String;

pub(crate) struct Crate {
    /// Each file's blanked source.
    pub(crate) code: BTreeMap<File, String>,
    /// Each module path (`["verdict", "rules"]`) and the file that holds it.
    modules: BTreeMap<Vec<String>, File>,
}

impl Crate {
    pub(crate) fn read(src: &Path) -> Self {
        let mut code = BTreeMap::new();
        let mut modules = BTreeMap::new();
        for path in rust_files(src) {
            let file = path
                .strip_prefix(src)
                .expect("under src")
                .to_string_lossy()
                .replace('\\', "/");
            let text = std::fs::read_to_string(&path).expect("a readable source file");
            modules.insert(module_path(&file), file.clone());
            code.insert(file, blank_literals(&text));
        }
        Self { code, modules }
    }

    /// Every arrow `from -> to` between two different files, with the path that drew it.
    pub(crate) fn arrows(&self) -> BTreeSet<(File, File, String)> {
        let mut arrows = BTreeSet::new();
        for (file, code) in &self.code {
            for path in use_paths(code) {
                if let Some(to) = self.target(file, &path, 0)
                    && to != *file
                {
                    arrows.insert((file.clone(), to, path.segments.join("::")));
                }
            }
        }
        arrows
    }

    /// The file a path lands in, or `None` for another crate's path.
    fn target(&self, file: &File, path: &UsePath, hops: usize) -> Option<File> {
        let mut module = module_path(file);
        let mut segments = path.segments.iter().peekable();
        match segments.peek().map(|s| s.as_str()) {
            Some("crate") => {
                module.clear();
                segments.next();
            }
            Some("super") => {
                let mut inline = path.inline_depth;
                while segments.next_if(|s| *s == "super").is_some() {
                    if inline > 0 {
                        inline -= 1;
                    } else {
                        module.pop();
                    }
                }
                if inline > 0 {
                    return Some(file.clone());
                }
            }
            Some("self") => {
                segments.next();
            }
            // A relative path (2018 edition) starts at a child of the current module.
            Some(first) => {
                let mut child = module.clone();
                child.push(first.to_owned());
                if !self.modules.contains_key(&child) {
                    return None;
                }
            }
            None => return None,
        }
        let mut item = None;
        for segment in segments {
            let mut child = module.clone();
            child.push(segment.clone());
            if self.modules.contains_key(&child) {
                module = child;
            } else {
                item = Some(segment.clone());
                break;
            }
        }
        let landed = self.modules.get(&module)?.clone();
        // From inside its own folder, a root's re-export is still an arrow up to the root: a
        // child names the sibling that defines the item. From outside, the root is the
        // folder's face, and the arrow goes on to the file behind it.
        let inside = folder(file).starts_with(folder(&landed)) && !folder(&landed).is_empty();
        match item {
            Some(name) if hops < 8 && is_root(&landed) && name != "*" && !inside => {
                Some(self.reexport(&landed, &name, hops).unwrap_or(landed))
            }
            _ => Some(landed),
        }
    }

    /// Where a module root's `pub use …::name` (or `… as name`) leads, if it has one.
    fn reexport(&self, root: &File, name: &str, hops: usize) -> Option<File> {
        let code = &self.code[root];
        use_paths(code)
            .into_iter()
            .filter(|p| p.public && p.inline_depth == 0)
            .find(|p| p.segments.last().is_some_and(|s| s == name))
            .and_then(|p| self.target(root, &p, hops + 1))
    }
}

/// `lib.rs` and every `mod.rs`: a folder's root.
pub(crate) fn is_root(file: &str) -> bool {
    file == "lib.rs" || file.ends_with("/mod.rs") || file == "mod.rs"
}

/// The folder a file stands in, `""` at the top of `src/`.
pub(crate) fn folder(file: &str) -> &str {
    file.rsplit_once('/').map_or("", |(dir, _)| dir)
}

fn module_path(file: &str) -> Vec<String> {
    let without = file.strip_suffix(".rs").unwrap_or(file);
    let mut parts: Vec<String> = without.split('/').map(str::to_owned).collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("a readable folder")
        .map(|e| e.expect("a folder entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

/// The loops of the graph: each strongly connected set of two files or more.
pub(crate) fn loops(arrows: &BTreeSet<(File, File, String)>) -> Vec<Vec<File>> {
    let mut next: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (from, to, _) in arrows {
        next.entry(from).or_default().push(to);
    }
    let reaches = |from: &str| {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from];
        while let Some(at) = stack.pop() {
            for &to in next.get(at).into_iter().flatten() {
                if seen.insert(to) {
                    stack.push(to);
                }
            }
        }
        seen
    };
    let reach: BTreeMap<&str, BTreeSet<&str>> =
        next.keys().map(|&file| (file, reaches(file))).collect();
    let mut found: BTreeSet<Vec<File>> = BTreeSet::new();
    for (&file, reached) in &reach {
        let mut circle: Vec<File> = reached
            .iter()
            .filter(|&&other| reach.get(other).is_some_and(|r| r.contains(file)))
            .map(|&other| other.to_owned())
            .collect();
        if circle.len() > 1 {
            circle.sort();
            found.insert(circle);
        }
    }
    found.into_iter().collect()
}
