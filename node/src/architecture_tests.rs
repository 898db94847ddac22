//! The module graph of `node/src` has no cycles (ARCHITECTURE.md lists it): a top-level
//! module's `crate::` paths, outside its tests, never lead back to it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Top-level module -> the top-level modules its code names through `crate::`.
fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read src").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let rel = path.strip_prefix(&src).expect("under src");
            let file = rel.to_string_lossy();
            if !file.ends_with(".rs") || file.ends_with("tests.rs") || file == "main.rs" {
                continue;
            }
            let top = file.split('/').next().unwrap_or("").trim_end_matches(".rs");
            let text = std::fs::read_to_string(&path).expect("read source");
            let code = text.split("#[cfg(test)]").next().unwrap_or("");
            let deps = graph.entry(top.to_string()).or_default();
            for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
                for (i, _) in line.match_indices("crate::") {
                    let name: String = line[i + 7..]
                        .chars()
                        .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                        .collect();
                    let is_module =
                        src.join(&name).is_dir() || src.join(format!("{name}.rs")).is_file();
                    if is_module && name != top {
                        deps.insert(name);
                    }
                }
            }
        }
    }
    graph
}

/// Whether `to` is reachable from `from`.
fn reaches(graph: &BTreeMap<String, BTreeSet<String>>, from: &str, to: &str) -> bool {
    let mut seen = BTreeSet::new();
    let mut stack = vec![from.to_string()];
    while let Some(m) = stack.pop() {
        if m == to {
            return true;
        }
        if seen.insert(m.clone()) {
            stack.extend(graph.get(&m).into_iter().flatten().cloned());
        }
    }
    false
}

#[test]
fn the_module_graph_has_no_cycles() {
    let graph = module_graph();
    assert!(
        graph.contains_key("server") && graph.contains_key("raft"),
        "{graph:?}"
    );
    let mut cycles = Vec::new();
    for (module, deps) in &graph {
        for dep in deps {
            if reaches(&graph, dep, module) {
                cycles.push(format!("{module} -> {dep} -> ... -> {module}"));
            }
        }
    }
    assert!(cycles.is_empty(), "module cycles: {cycles:#?}");
}

#[test]
fn the_layers_hold() {
    let graph = module_graph();
    let uses = |a: &str, b: &str| graph.get(a).is_some_and(|d| d.contains(b));
    // The peer service and the connection layer never depend on each other or on admin.
    for (a, b) in [
        ("cluster", "server"),
        ("cluster", "session"),
        ("cluster", "admin"),
        ("state", "server"),
        ("state", "cluster"),
        ("raft", "state"),
        ("raft", "server"),
        ("commands", "raft"),
        ("session", "server"),
        ("session", "admin"),
        ("admin", "server"),
    ] {
        assert!(!uses(a, b), "{a} must not depend on {b}");
    }
}
