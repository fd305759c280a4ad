//! The house is built in layers (the crate docs draw them): a module imports only from the
//! layers below it, so persistence is never woven into the domain and no change to a low
//! module has to be made in step with a high one. These tests read `src/` and hold every
//! `crate::` path written outside a unit-test module to that plan.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Each top-level module with its layer, lowest first: a module may use only modules of a
/// lower layer. Neighbours in one layer don't use each other either.
const LAYERS: &[(&str, u8)] = &[
    // Ids and the vocabulary of the law, validated values, time, file modes.
    ("vocab", 0),
    ("values", 0),
    ("clock", 0),
    ("files", 0),
    // Where keys come from.
    ("key", 1),
    // Every error the crate returns.
    ("error", 2),
    ("category", 3),
    // The authenticated log: opaque entries, chained, MACed and anchored.
    ("log", 3),
    // What the domain emits: the events a journal keeps and the audit trail.
    ("event", 3),
    ("audit", 4),
    ("depersonalize", 4),
    ("policy", 5),
    // How an operator's log entry holds an audit entry, in clear or sealed: what the store
    // writes and a proof of consent reads.
    ("payload", 5),
    // The domain.
    ("consent", 6),
    ("data", 7),
    ("retention", 8),
    ("rights", 9),
    ("disclosure", 9),
    ("notices", 9),
    ("receipts", 10),
    // The log, the stores and the `Operator` facade.
    ("store", 11),
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("src is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file belongs to; `None` for `lib.rs`.
fn module_of(file: &Path) -> Option<String> {
    let relative = file.strip_prefix(src()).expect("a file under src");
    let first = relative.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (name != "lib").then(|| name.to_owned())
}

/// The module path of a file under `src/`: `vocab/ids.rs` is `[vocab, ids]`, and
/// `vocab/mod.rs` is `[vocab]`.
fn module_path(file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(src()).expect("a file under src");
    let mut path: Vec<String> = relative
        .components()
        .map(|c| {
            c.as_os_str()
                .to_string_lossy()
                .trim_end_matches(".rs")
                .to_owned()
        })
        .collect();
    if path
        .last()
        .is_some_and(|last| last == "mod" || last == "lib")
    {
        path.pop();
    }
    path
}

/// Where a line's comment starts, if it has one: a `//` outside a string literal.
fn comment_start(line: &str) -> Option<usize> {
    let mut in_string = false;
    let mut escaped = false;
    let bytes = line.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            _ if escaped => escaped = false,
            b'\\' if in_string => escaped = true,
            b'"' => in_string = !in_string,
            b'/' if !in_string && bytes.get(i + 1) == Some(&b'/') => return Some(i),
            _ => {}
        }
    }
    None
}

/// The code a module compiles into the library: comments (doc links are not imports) and
/// the unit-test module at the end of the file dropped, and paths written without spaces
/// around their `::`.
fn library_code(text: &str) -> String {
    let code = text
        .find("#[cfg(test)]\nmod tests {")
        .map_or(text, |at| &text[..at]);
    let code = code
        .lines()
        .map(|line| comment_start(line).map_or(line, |at| &line[..at]))
        .collect::<Vec<_>>()
        .join("\n");
    let mut joined = String::with_capacity(code.len());
    for (i, part) in code.split("::").enumerate() {
        if i > 0 {
            joined.truncate(joined.trim_end().len());
            joined.push_str("::");
            joined.push_str(part.trim_start());
        } else {
            joined.push_str(part);
        }
    }
    joined
}

/// The top-level modules `super::` chains climb out to: from `vocab/ids.rs`,
/// `super::super::store` is `store`.
fn super_paths(code: &str, module: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    for (at, _) in code.match_indices("super::") {
        if code[..at].ends_with("super::") {
            continue;
        }
        let mut rest = &code[at..];
        let mut up = 0;
        while let Some(next) = rest.strip_prefix("super::") {
            rest = next;
            up += 1;
        }
        if up >= module.len() {
            let first: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            found.push(first);
        }
    }
    found
}

/// The first segment of every `crate::` path in `code`, groups (`crate::{a, b::C}`)
/// included.
fn crate_paths(code: &str) -> Vec<String> {
    let ident = |s: &str| {
        s.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect::<String>()
    };
    let mut found = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0;
            let mut item_start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    c if item_start && !c.is_whitespace() => {
                        found.push(ident(&group[i..]));
                        item_start = false;
                    }
                    _ => {}
                }
            }
        } else {
            found.push(ident(rest));
        }
    }
    found
}

/// Which module each name `lib.rs` re-exports at the root comes from.
fn root_names() -> BTreeMap<String, String> {
    let lib = fs::read_to_string(src().join("lib.rs")).expect("lib.rs");
    let mut names = BTreeMap::new();
    for statement in lib.split(';') {
        let Some(path) = statement.trim().strip_prefix("pub use ") else {
            continue;
        };
        let (module, items) = path.split_once("::").expect("pub use module::item");
        for item in items.trim_matches(|c| c == '{' || c == '}').split(',') {
            let item = item.trim();
            if !item.is_empty() {
                names.insert(item.to_owned(), module.to_owned());
            }
        }
    }
    names
}

/// Every (importing module, imported module) pair, each with a file that shows it.
fn imports() -> BTreeMap<(String, String), PathBuf> {
    let root = root_names();
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut edges = BTreeMap::new();
    for file in files {
        let Some(from) = module_of(&file) else {
            continue;
        };
        let code = library_code(&fs::read_to_string(&file).expect("a source file"));
        let climbed = super_paths(&code, &module_path(&file));
        for first in crate_paths(&code).into_iter().chain(climbed) {
            let to = root.get(&first).cloned().unwrap_or(first);
            // `crate::slot` and other items of `lib.rs` itself belong to no layer.
            if to != from && LAYERS.iter().any(|(m, _)| *m == to) {
                edges
                    .entry((from.clone(), to))
                    .or_insert_with(|| file.clone());
            }
        }
    }
    edges
}

fn layer(module: &str) -> u8 {
    LAYERS.iter().find(|(m, _)| *m == module).map_or_else(
        || panic!("module {module} is in no layer: add it to LAYERS"),
        |(_, l)| *l,
    )
}

#[test]
fn every_module_has_a_layer() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let modules: BTreeSet<String> = files.iter().filter_map(|f| module_of(f)).collect();
    for module in &modules {
        layer(module);
    }
    assert!(modules.contains("store") && modules.contains("vocab"));
}

#[test]
fn no_module_imports_from_its_own_layer_or_one_above() {
    let edges = imports();
    assert!(
        edges.contains_key(&("store".to_owned(), "consent".to_owned())),
        "the reader finds imports at all"
    );
    let upward: Vec<String> = edges
        .iter()
        .filter(|((from, to), _)| layer(to) >= layer(from))
        .map(|((from, to), file)| format!("{from} -> {to} ({})", file.display()))
        .collect();
    assert!(upward.is_empty(), "imports against the layers: {upward:#?}");
}

#[test]
fn nothing_outside_the_store_imports_it() {
    let outside: Vec<String> = imports()
        .into_iter()
        .filter(|((from, to), _)| to == "store" && from != "store")
        .map(|((from, _), file)| format!("{from} ({})", file.display()))
        .collect();
    assert!(outside.is_empty(), "the store is imported by {outside:?}");
}

#[test]
fn the_event_vocabulary_imports_no_domain_module() {
    let domain = [
        "category",
        "policy",
        "consent",
        "data",
        "retention",
        "rights",
        "disclosure",
        "receipts",
        "store",
    ];
    let found: Vec<String> = imports()
        .into_keys()
        .filter(|(from, to)| from == "event" && domain.contains(&to.as_str()))
        .map(|(_, to)| to)
        .collect();
    assert!(found.is_empty(), "event imports {found:?}");
}

#[test]
fn the_reader_sees_spaced_paths_super_chains_and_strings() {
    let code = library_code("use crate :: store::Operator; let s = \"// not a comment\"; crate::x");
    assert_eq!(crate_paths(&code), ["store", "x"]);
    let module = ["vocab".to_owned(), "ids".to_owned()];
    assert_eq!(
        super_paths("use super::super::store::Operator;", &module),
        ["store"]
    );
    assert!(super_paths("use super::Text;", &module).is_empty());
    assert_eq!(
        library_code("a\n#[cfg(test)]\nmod tests_helpers { use crate::store; }"),
        "a\n#[cfg(test)]\nmod tests_helpers { use crate::store; }"
    );
}

#[test]
fn the_reader_sees_grouped_and_root_imports() {
    let code = "use crate::{Error, vocab::{Purpose, SubjectId}};\nlet x = crate::slot(1);";
    assert_eq!(crate_paths(code), ["Error", "vocab", "slot"]);
    assert_eq!(root_names().get("Error").map(String::as_str), Some("error"));
    assert_eq!(
        library_code("use crate::a; // crate::b\n#[cfg(test)]\nmod tests { use crate::c; }"),
        "use crate::a; "
    );
}
