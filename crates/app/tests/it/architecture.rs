//! The shape of the code (docs/architecture.md), checked on the sources: crates depend one
//! way (`domain ← store ← service ← {web, app}`), the top-level modules of each crate import
//! each other without a cycle, and the services name no HTTP type.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn crates_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read a source directory") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a source file belongs to (`src/pages/officer/inbox.rs` → `pages`);
/// None for the crate root.
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).ok()?;
    let first = rel.components().next()?.as_os_str().to_string_lossy().to_string();
    let name = first.trim_end_matches(".rs").to_string();
    (!matches!(name.as_str(), "lib" | "main")).then_some(name)
}

/// The source without comments and string literals, so that a word in a doc or a message
/// is not taken for a path.
fn code_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let mut in_str = false;
        let mut prev = ' ';
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            if !in_str && c == '/' && chars.peek() == Some(&'/') {
                break;
            }
            if c == '"' && prev != '\\' {
                in_str = !in_str;
                out.push(' ');
            } else if !in_str {
                out.push(c);
            }
            prev = c;
        }
        out.push('\n');
    }
    out
}

/// The modules of a crate and the ones each imports (`crate::x`, `super::x` from a file of
/// a top-level module's root, the crate's own paths in `use` lists).
fn module_graph(krate: &str) -> BTreeMap<String, BTreeSet<String>> {
    let src = crates_dir().join(krate).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let modules: BTreeSet<String> = files.iter().filter_map(|f| module_of(&src, f)).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> =
        modules.iter().map(|m| (m.clone(), BTreeSet::new())).collect();
    for file in &files {
        let Some(from) = module_of(&src, file) else {
            continue;
        };
        let code = code_only(&std::fs::read_to_string(file).expect("read a source"));
        // `crate::x…` anywhere, including `use crate::{x, y::z}` lists.
        let mut targets = BTreeSet::new();
        for (i, _) in code.match_indices("crate::") {
            let rest = &code[i + "crate::".len()..];
            if let Some(list) = rest.strip_prefix('{') {
                let inner = list.split('}').next().unwrap_or("");
                for item in inner.split(',') {
                    let name: String = item
                        .trim()
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    targets.insert(name);
                }
            } else {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                targets.insert(name);
            }
        }
        for to in targets {
            if modules.contains(&to) && to != from {
                graph.get_mut(&from).expect("a module").insert(to);
            }
        }
    }
    graph
}

/// The cycles of a graph (its strongly connected components of more than one module).
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    // Tarjan's algorithm.
    struct State<'a> {
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        next: usize,
        found: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        s.index.insert(v, s.next);
        s.low.insert(v, s.next);
        s.next += 1;
        s.stack.push(v);
        s.on_stack.insert(v);
        for w in &s.graph[v] {
            let w = w.as_str();
            if !s.index.contains_key(w) {
                visit(s, w);
                let lw = s.low[w];
                let lv = s.low.get_mut(v).expect("visited");
                *lv = (*lv).min(lw);
            } else if s.on_stack.contains(w) {
                let iw = s.index[w];
                let lv = s.low.get_mut(v).expect("visited");
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.found.push(component);
            }
        }
    }
    let mut s = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        next: 0,
        found: Vec::new(),
    };
    for v in graph.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    s.found
}

#[test]
fn the_modules_of_each_crate_import_each_other_without_a_cycle() {
    for krate in ["domain", "store", "service", "web", "app", "bench"] {
        let graph = module_graph(krate);
        assert!(graph.len() > 1, "{krate}: modules found");
        assert_eq!(
            cycles(&graph),
            Vec::<Vec<String>>::new(),
            "{krate}: modules in a cycle"
        );
    }
}

#[test]
fn a_cycle_is_found() {
    let mut g = BTreeMap::new();
    g.insert("a".to_string(), BTreeSet::from(["b".to_string()]));
    g.insert("b".to_string(), BTreeSet::from(["c".to_string()]));
    g.insert("c".to_string(), BTreeSet::from(["a".to_string()]));
    g.insert("d".to_string(), BTreeSet::from(["a".to_string()]));
    assert_eq!(cycles(&g), vec![vec!["a".to_string(), "b".into(), "c".into()]]);
}

#[test]
fn crates_depend_one_way() {
    // Each crate and the motcua crates it may name.
    let allowed: [(&str, &[&str]); 6] = [
        ("domain", &[]),
        ("store", &["motcua-domain"]),
        ("service", &["motcua-domain", "motcua-store"]),
        ("web", &["motcua-domain", "motcua-store", "motcua-service"]),
        (
            "app",
            &["motcua-domain", "motcua-store", "motcua-service", "motcua-web"],
        ),
        ("bench", &[]),
    ];
    for (krate, may) in allowed {
        let manifest =
            std::fs::read_to_string(crates_dir().join(krate).join("Cargo.toml")).expect("manifest");
        for line in manifest.lines() {
            let name = line.split(['.', '=', ' ']).next().unwrap_or("");
            if name.starts_with("motcua-") {
                assert!(may.contains(&name), "{krate} depends on {name}");
            }
        }
    }
}

#[test]
fn the_services_name_no_http_type() {
    let src = crates_dir().join("service").join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let words = [
        "axum",
        "StatusCode",
        "HeaderMap",
        "http::",
        "Cookie",
        "cookie",
        "tower",
    ];
    for file in files {
        let code = code_only(&std::fs::read_to_string(&file).expect("read"));
        for w in words {
            assert!(!code.contains(w), "{} names {w}", file.display());
        }
    }
    let manifest =
        std::fs::read_to_string(crates_dir().join("service").join("Cargo.toml")).expect("manifest");
    for dep in ["axum", "tower", "http", "askama"] {
        assert!(
            !manifest
                .lines()
                .any(|l| l.starts_with(&format!("{dep}.")) || l.starts_with(&format!("{dep} "))),
            "the service crate depends on {dep}"
        );
    }
}
