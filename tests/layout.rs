//! The shape of the source tree, checked so it stays true: the layers
//! (sans-IO crates use no runtime and no bus; services depend on crates,
//! not on each other), no source file over 700 lines, and no import cycle
//! between the top-level modules of a crate.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

use rbmc_e2e::repo_root;

/// The most lines a source file may have.
const MAX_LINES: usize = 700;

/// Every package directory under `group` (e.g. `crates/sans-io`).
fn packages(group: &str) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(repo_root().join(group))
        .unwrap_or_else(|e| panic!("{group}: {e}"))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.join("Cargo.toml").exists())
        .collect();
    dirs.sort();
    dirs
}

/// Every `.rs` file below `dir`.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("read_dir") {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// The `[dependencies]` names of a package (not dev- or build-).
fn dependencies(package: &Path) -> BTreeSet<String> {
    let manifest = std::fs::read_to_string(package.join("Cargo.toml")).expect("Cargo.toml");
    let table: toml::Table = manifest.parse().expect("Cargo.toml parses");
    table
        .get("dependencies")
        .and_then(|d| d.as_table())
        .map(|d| d.keys().cloned().collect())
        .unwrap_or_default()
}

fn all_packages() -> Vec<PathBuf> {
    ["crates/sans-io", "crates/runtime", "services"]
        .into_iter()
        .flat_map(packages)
        .collect()
}

#[test]
fn sans_io_crates_own_no_runtime_and_no_bus() {
    for package in packages("crates/sans-io") {
        let deps = dependencies(&package);
        for forbidden in ["tokio", "zbus", "busd", "nix", "libc"] {
            assert!(
                !deps.contains(forbidden),
                "{} depends on {forbidden}: a sans-IO crate takes bytes and time, nothing more",
                package.display()
            );
        }
        let src = package.join("src");
        for file in sources(&src) {
            // Test modules: `tests.rs`, and the files of a `tests/` module.
            let in_tests = file
                .strip_prefix(&src)
                .is_ok_and(|rel| rel.components().any(|c| c.as_os_str() == "tests"));
            if in_tests || file.file_name().is_some_and(|n| n == "tests.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&file).expect("source");
            // Tests may use a real clock; the code they test may not.
            let text = text.split("#[cfg(test)]").next().unwrap_or_default();
            for forbidden in [
                "std::fs",
                "std::net::UdpSocket",
                "Instant::now()",
                "SystemTime::now()",
            ] {
                assert!(
                    !text.contains(forbidden),
                    "{} uses {forbidden}: a sans-IO crate opens nothing and reads no clock",
                    file.display()
                );
            }
        }
    }
}

#[test]
fn services_depend_on_crates_not_on_each_other() {
    // The two executables that carry every daemon are the exception.
    let carriers = ["rbmc", "rbmc-dev"];
    let services: BTreeSet<String> = packages("services")
        .iter()
        .map(|p| p.file_name().expect("name").to_string_lossy().into_owned())
        .collect();
    for package in packages("services") {
        let name = package
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        if carriers.contains(&name.as_str()) {
            continue;
        }
        let deps = dependencies(&package);
        let siblings: Vec<_> = deps.intersection(&services).collect();
        assert!(siblings.is_empty(), "{name} depends on {siblings:?}");
    }
    for package in ["crates/sans-io", "crates/runtime"]
        .into_iter()
        .flat_map(packages)
    {
        let deps = dependencies(&package);
        let services: Vec<_> = deps.intersection(&services).collect();
        assert!(
            services.is_empty(),
            "{} depends on {services:?}",
            package.display()
        );
    }
}

#[test]
fn no_source_file_is_over_700_lines() {
    let mut long = Vec::new();
    for package in all_packages() {
        for file in sources(&package) {
            let lines = std::fs::read_to_string(&file)
                .expect("source")
                .lines()
                .count();
            if lines > MAX_LINES {
                long.push(format!("{} ({lines})", file.display()));
            }
        }
    }
    assert!(long.is_empty(), "over {MAX_LINES} lines: {long:#?}");
}

/// The top-level module a `.rs` file belongs to, relative to `src`.
fn top_module(src: &Path, file: &Path) -> Option<String> {
    let relative = file.strip_prefix(src).ok()?;
    let first = relative.components().next()?.as_os_str().to_string_lossy();
    let name = first.trim_end_matches(".rs").to_owned();
    (!matches!(name.as_str(), "lib" | "main")).then_some(name)
}

/// The crate's top-level modules each file names with `crate::`, outside
/// comments and test modules.
fn module_graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in sources(src) {
        if file.file_name().is_some_and(|n| n == "tests.rs") {
            continue;
        }
        let Some(module) = top_module(src, &file) else {
            continue;
        };
        let text = std::fs::read_to_string(&file).expect("source");
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        let names = graph.entry(module.clone()).or_default();
        for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
            for (at, _) in line.match_indices("crate::") {
                let rest = &line[at + "crate::".len()..];
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() && name != module {
                    names.insert(name);
                }
            }
        }
        // `use crate::{a::X, b, ...}`: every name at the start of a path.
        for group in code.split("use crate::{").skip(1) {
            let body = group.split("};").next().unwrap_or_default();
            let mut depth = 0;
            let mut token = String::new();
            let mut at_start = true;
            for c in body.chars() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => at_start = true,
                    _ => {}
                }
                if depth == 0 && at_start && (c.is_ascii_alphanumeric() || c == '_') {
                    token.push(c);
                } else if !token.is_empty() {
                    if token != module && token != "self" {
                        names.insert(std::mem::take(&mut token));
                    }
                    token.clear();
                    at_start = false;
                }
            }
            // The last name of `use crate::{a, b};` ends the group.
            if !token.is_empty() && token != module && token != "self" {
                names.insert(token);
            }
        }
    }
    let modules: BTreeSet<String> = graph.keys().cloned().collect();
    for names in graph.values_mut() {
        names.retain(|name| modules.contains(name));
    }
    graph
}

/// A cycle in `graph`, if there is one.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn no_import_cycle_between_a_crates_modules() {
    for package in all_packages() {
        let graph = module_graph(&package.join("src"));
        if let Some(cycle) = find_cycle(&graph) {
            panic!(
                "{}: modules import each other: {}",
                package.display(),
                cycle.join(" → ")
            );
        }
    }
}

#[test]
fn the_cycle_check_finds_a_cycle() {
    let graph = BTreeMap::from([
        ("a".to_owned(), BTreeSet::from(["b".to_owned()])),
        ("b".to_owned(), BTreeSet::from(["c".to_owned()])),
        ("c".to_owned(), BTreeSet::from(["a".to_owned()])),
    ]);
    assert_eq!(find_cycle(&graph).map(|c| c.len()), Some(4));
    let acyclic = BTreeMap::from([("a".to_owned(), BTreeSet::from(["b".to_owned()]))]);
    assert_eq!(find_cycle(&acyclic), None);
}
