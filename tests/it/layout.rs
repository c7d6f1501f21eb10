//! The shape of the code, checked: the top-level modules import each other without a circle,
//! each command has a file of its own, and the layers below the commands know nothing of the
//! command line. (Reads `src/`; comments and `#[cfg(test)]` code do not count.)

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file without comments and without its `#[cfg(test)]` part.
fn code(text: &str) -> String {
    let text = text.split("#[cfg(test)]").next().unwrap_or_default();
    text.lines()
        .map(|line| match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Top-level module → the top-level modules its code names as `crate::…`.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let root = src();
    let modules: BTreeSet<String> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter_map(|p| {
            let name = p.file_stem()?.to_str()?.to_owned();
            (p.is_dir() || p.extension().is_some_and(|e| e == "rs")).then_some(name)
        })
        .filter(|name| name != "lib" && name != "main")
        .collect();
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let relative = file.strip_prefix(&root).unwrap();
        let top = relative
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_str()
            .unwrap()
            .trim_end_matches(".rs")
            .to_owned();
        let is_test = relative.components().any(|c| c.as_os_str() == "tests")
            || file.file_name().is_some_and(|n| n == "tests.rs");
        if !modules.contains(&top) || is_test {
            continue;
        }
        let code = code(&std::fs::read_to_string(&file).unwrap());
        let edges = graph.entry(top.clone()).or_default();
        for (at, _) in code.match_indices("crate::") {
            let name: String = code[at + 7..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if modules.contains(&name) && name != top {
                edges.insert(name);
            }
        }
    }
    graph
}

/// A circle through `from`, if there is one.
fn circle(graph: &BTreeMap<String, BTreeSet<String>>, from: &str) -> Option<Vec<String>> {
    fn walk(
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        seen: &mut BTreeSet<String>,
        goal: &str,
    ) -> bool {
        let last = path.last().unwrap().clone();
        for next in graph.get(&last).into_iter().flatten() {
            if next == goal {
                path.push(next.clone());
                return true;
            }
            if seen.insert(next.clone()) {
                path.push(next.clone());
                if walk(graph, path, seen, goal) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    let mut path = vec![from.to_owned()];
    walk(graph, &mut path, &mut BTreeSet::new(), from).then_some(path)
}

#[test]
fn the_top_level_modules_import_each_other_without_a_circle() {
    let graph = imports();
    assert!(graph.contains_key("commands"), "{graph:?}");
    let circles: Vec<String> = graph
        .keys()
        .filter_map(|module| circle(&graph, module))
        .map(|path| path.join(" -> "))
        .collect();
    assert!(circles.is_empty(), "import circles: {circles:#?}");
}

#[test]
fn only_the_commands_know_the_command_line() {
    let graph = imports();
    let users: Vec<&String> = graph
        .iter()
        .filter(|(module, edges)| edges.contains("cli") && *module != "commands")
        .map(|(module, _)| module)
        .collect();
    assert!(users.is_empty(), "these modules import cli: {users:?}");
    assert!(
        !graph["settings"].contains("cli") && !graph["settings"].contains("commands"),
        "settings resolves raw values and knows nothing of clap"
    );
    let settings = code(&std::fs::read_to_string(src().join("settings.rs")).unwrap());
    assert!(!settings.contains("clap"), "settings.rs uses clap");
}

#[test]
fn the_emulator_never_imports_the_client() {
    let graph = imports();
    for client in ["api", "model", "plan", "live", "apply"] {
        assert!(
            !graph["emulator"].contains(client),
            "the emulator imports crate::{client}: it must have its own wire types"
        );
    }
}

#[test]
fn every_subcommand_has_a_file_of_its_own() {
    let cli = std::fs::read_to_string(src().join("cli.rs")).unwrap();
    let start = cli.find("pub enum Command {").expect("the Command enum");
    let body = &cli[start..start + cli[start..].find("\n}").unwrap()];
    let mut commands = Vec::new();
    for line in body.lines().map(str::trim) {
        let name: String = line
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        if !name.is_empty()
            && name.starts_with(|c: char| c.is_ascii_uppercase())
            && !line.starts_with("///")
        {
            commands.push(name.to_lowercase());
        }
    }
    assert!(commands.len() >= 9, "{commands:?}");
    for command in commands {
        let file = src().join("commands").join(format!("{command}.rs"));
        assert!(
            file.is_file(),
            "no {} for `timctl {command}`",
            file.display()
        );
    }
}
