//! `cargo xtask layers`: holds the crates to the layer order written in README.md.
//!
//! The order is the numbered list of README.md's `## Layers` section, lowest first, one line
//! per layer, crates of one layer separated by commas. It reads
//! `cargo metadata --format-version 1 --all-features` (with its resolve graph) and reports, one
//! line each:
//! - a workspace crate whose normal or build dependency is a workspace crate of a higher layer
//!   (the same layer is allowed; dev-dependencies are exempt);
//! - a workspace crate that is not listed (except [`UNCHECKED`], which sit above everything);
//! - a breach of one of the [`RULES`], checked transitively over normal dependencies, so that
//!   e.g. a crate that must not link RocksDB cannot do so through another crate.
//!
//! Listed crates that do not exist are notes, not failures (crates may be listed before they
//! land). With `--all-features` the resolve graph unifies features across the workspace: what
//! it shows a crate linking is what a build of the whole workspace links.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};
use serde_json::Value;

/// Workspace crates above every layer, never checked (nothing may depend on them).
const UNCHECKED: &[&str] = &["xtask", "ceramic-tests", "ceramic-benches"];

/// Which crates a [`Rule`] applies to.
#[derive(Debug, Clone, Copy)]
enum Crates {
    /// Exactly this crate.
    Named(&'static str),
    /// Every workspace crate whose name starts with this.
    Prefixed(&'static str),
}

impl Crates {
    fn matches(self, name: &str) -> bool {
        match self {
            Crates::Named(n) => name == n,
            Crates::Prefixed(p) => name.starts_with(p),
        }
    }
}

/// A package that `from` must not reach through normal dependencies, however indirectly.
#[derive(Debug, Clone, Copy)]
struct Rule {
    from: Crates,
    must_not_reach: &'static str,
    why: &'static str,
}

/// The named rules of issue 11 ("one typed node service").
const RULES: &[Rule] = &[
    Rule {
        from: Crates::Named("ceramic-proto"),
        must_not_reach: "ceramic-engine",
        why: "proto is generated code and conversions only",
    },
    Rule {
        from: Crates::Named("ceramic-proto"),
        must_not_reach: "ceramic-storage",
        why: "proto is generated code and conversions only",
    },
    Rule {
        from: Crates::Named("ceramic-anchor-service"),
        must_not_reach: "ceramic-engine",
        why: "the anchor service runs without a node",
    },
    Rule {
        from: Crates::Named("ceramic-anchor-service"),
        must_not_reach: "ceramic-service",
        why: "the anchor service runs without a node",
    },
    Rule {
        from: Crates::Named("ceramic-http-api"),
        must_not_reach: "librocksdb-sys",
        why: "front-ends test against in-memory storage",
    },
    Rule {
        from: Crates::Named("ceramic-net"),
        must_not_reach: "librocksdb-sys",
        why: "the network tests against in-memory storage",
    },
    Rule {
        from: Crates::Prefixed("ceramic-doctype"),
        must_not_reach: "librocksdb-sys",
        why: "a doctype depends on the SDK alone",
    },
];

/// Runs the check on the workspace; fails if anything is reported.
pub(crate) fn run(root: &Path) -> Result<()> {
    let readme = std::fs::read_to_string(root.join("README.md")).context("reading README.md")?;
    let layers = parse_layers(&readme)?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!("$ cargo metadata --format-version 1 --all-features --locked");
    let output = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--all-features", "--locked"])
        .current_dir(root)
        .output()
        .context("running cargo metadata")?;
    if !output.status.success() {
        bail!("cargo metadata failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    let metadata: Value =
        serde_json::from_slice(&output.stdout).context("cargo metadata's JSON")?;
    let report = check(&metadata, &layers)?;
    for note in &report.notes {
        println!("layers: note: {note}");
    }
    for violation in &report.violations {
        println!("layers: {violation}");
    }
    if !report.violations.is_empty() {
        bail!("{} layering violation(s)", report.violations.len());
    }
    println!("layers: {} workspace crates follow README.md's order", report.checked);
    Ok(())
}

/// Crate name → layer number (1 = lowest).
type Layers = BTreeMap<String, usize>;

/// The numbered list of README.md's `## Layers` section.
fn parse_layers(readme: &str) -> Result<Layers> {
    let mut lines = readme.lines().skip_while(|l| l.trim() != "## Layers");
    if lines.next().is_none() {
        bail!("README.md has no `## Layers` section");
    }
    let mut layers = Layers::new();
    let mut expected = 1;
    for line in lines.take_while(|l| !l.starts_with("## ")) {
        let Some((number, crates)) = line.trim().split_once(". ") else { continue };
        let Ok(number) = number.parse::<usize>() else { continue };
        if number != expected {
            bail!("README.md `## Layers`: layer {number} follows layer {}", expected - 1);
        }
        for name in crates.split(',') {
            let name = name.trim().trim_matches('`');
            if name.is_empty() {
                bail!("README.md `## Layers`: an empty crate name in layer {number}");
            }
            if let Some(before) = layers.insert(name.to_owned(), number) {
                bail!("README.md `## Layers`: {name} is in layers {before} and {number}");
            }
        }
        expected += 1;
    }
    if layers.is_empty() {
        bail!("README.md's `## Layers` section has no numbered list");
    }
    Ok(layers)
}

/// What [`check`] found.
#[derive(Debug, Default)]
struct Report {
    violations: Vec<String>,
    notes: Vec<String>,
    /// Workspace crates checked.
    checked: usize,
}

/// One dependency edge of the resolve graph.
#[derive(Debug)]
struct Edge {
    to: String,
    /// A normal dependency (for some target).
    normal: bool,
    /// A build dependency.
    build: bool,
}

/// Checks `cargo metadata` output against `layers`.
fn check(metadata: &Value, layers: &Layers) -> Result<Report> {
    let packages = metadata["packages"].as_array().context("metadata has no packages")?;
    let mut names: HashMap<&str, &str> = HashMap::new();
    for package in packages {
        let id = package["id"].as_str().context("a package without id")?;
        let name = package["name"].as_str().context("a package without name")?;
        names.insert(id, name);
    }
    let members: BTreeSet<&str> = metadata["workspace_members"]
        .as_array()
        .context("metadata has no workspace_members")?
        .iter()
        .filter_map(Value::as_str)
        .filter_map(|id| names.get(id).copied())
        .collect();
    let nodes = metadata["resolve"]["nodes"]
        .as_array()
        .context("metadata has no resolve graph (was --no-deps given?)")?;
    // Package name → its dependencies (names are unique enough here: two versions of one
    // external package merge, which only widens what a rule sees).
    let mut graph: BTreeMap<&str, Vec<Edge>> = BTreeMap::new();
    for node in nodes {
        let id = node["id"].as_str().context("a resolve node without id")?;
        let Some(&from) = names.get(id) else { continue };
        let edges = graph.entry(from).or_default();
        for dep in node["deps"].as_array().into_iter().flatten() {
            let Some(&to) = dep["pkg"].as_str().and_then(|pkg| names.get(pkg)) else { continue };
            let kinds: Vec<&str> = dep["dep_kinds"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|k| k["kind"].as_str().unwrap_or("normal"))
                .collect();
            edges.push(Edge {
                to: to.to_owned(),
                normal: kinds.contains(&"normal"),
                build: kinds.contains(&"build"),
            });
        }
    }

    let mut report = Report::default();
    let layer_of = |name: &str| layers.get(name).copied();
    for &member in &members {
        if UNCHECKED.contains(&member) {
            continue;
        }
        let Some(layer) = layer_of(member) else {
            report.violations.push(format!(
                "{member} is a workspace crate but is not listed in README.md's `## Layers`"
            ));
            continue;
        };
        report.checked += 1;
        let mut seen = BTreeSet::new();
        for edge in graph.get(member).into_iter().flatten() {
            let to = edge.to.as_str();
            if !(edge.normal || edge.build) || !members.contains(to) || !seen.insert(to) {
                continue;
            }
            let kind = if edge.normal { "depends on" } else { "build-depends on" };
            match layer_of(to) {
                Some(to_layer) if to_layer <= layer => {}
                Some(to_layer) => report.violations.push(format!(
                    "{member} (layer {layer}) {kind} {to} (layer {to_layer}), a higher layer"
                )),
                None if UNCHECKED.contains(&to) => report.violations.push(format!(
                    "{member} (layer {layer}) {kind} {to}, which sits above every layer"
                )),
                // Reported above as unlisted.
                None => {}
            }
        }
    }
    for (name, layer) in layers {
        if !members.contains(name.as_str()) {
            report.notes.push(format!("{name} (layer {layer}) is listed but not in the workspace"));
        }
    }
    for rule in RULES {
        for &member in members.iter().filter(|m| rule.from.matches(m)) {
            if let Some(path) = path_to(&graph, member, rule.must_not_reach) {
                report.violations.push(format!(
                    "{member} must not reach {} ({}), but does: {}",
                    rule.must_not_reach,
                    rule.why,
                    path.join(" -> ")
                ));
            }
        }
    }
    Ok(report)
}

/// The shortest chain of normal dependencies from `from` to `to`, if any.
fn path_to(graph: &BTreeMap<&str, Vec<Edge>>, from: &str, to: &str) -> Option<Vec<String>> {
    let mut parent: HashMap<&str, &str> = HashMap::new();
    let mut queue = VecDeque::from([from]);
    while let Some(at) = queue.pop_front() {
        if at == to {
            let mut path = vec![to.to_owned()];
            let mut step = to;
            while let Some(&before) = parent.get(step) {
                path.push(before.to_owned());
                step = before;
            }
            path.reverse();
            return Some(path);
        }
        for edge in graph.get(at).into_iter().flatten().filter(|e| e.normal) {
            let next = edge.to.as_str();
            if next != from && !parent.contains_key(next) {
                parent.insert(next, at);
                queue.push_back(next);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const README: &str = "# x\n\nintro\n\n## Layers\n\nLowest first:\n\n\
        1. ceramic-streamid\n2. `ceramic-codecs`, ceramic-doctype-tile\n3. ceramic-proto\n\
        4. ceramic-engine, ceramic-storage-rocks\n5. ceramic-http-api\n\n## Next\n\n1. not-a-layer\n";

    /// Metadata of workspace `members` (name list) with `edges` (from, to, kind) and the
    /// external packages named in edges but not in `members`.
    fn metadata(members: &[&str], edges: &[(&str, &str, Option<&str>)]) -> Value {
        let mut names: Vec<&str> = members.to_vec();
        for (from, to, _) in edges {
            for n in [from, to] {
                if !names.contains(n) {
                    names.push(n);
                }
            }
        }
        let id = |n: &str| format!("registry+{n}@0.1.0");
        let packages: Vec<Value> = names.iter().map(|n| json!({"id": id(n), "name": n})).collect();
        let nodes: Vec<Value> = names
            .iter()
            .map(|n| {
                let deps: Vec<Value> = edges
                    .iter()
                    .filter(|(from, _, _)| from == n)
                    .map(|(_, to, kind)| {
                        json!({"name": to.replace('-', "_"), "pkg": id(to),
                               "dep_kinds": [{"kind": kind, "target": null}]})
                    })
                    .collect();
                json!({"id": id(n), "deps": deps, "features": []})
            })
            .collect();
        let members: Vec<String> = members.iter().map(|n| id(n)).collect();
        json!({"packages": packages, "workspace_members": members, "resolve": {"nodes": nodes}})
    }

    const MEMBERS: &[&str] = &[
        "ceramic-streamid",
        "ceramic-codecs",
        "ceramic-doctype-tile",
        "ceramic-proto",
        "ceramic-engine",
        "ceramic-http-api",
        "xtask",
    ];

    #[test]
    fn parses_the_numbered_list_of_the_layers_section() {
        let layers = parse_layers(README).unwrap();
        assert_eq!(layers["ceramic-streamid"], 1);
        assert_eq!(layers["ceramic-codecs"], 2);
        assert_eq!(layers["ceramic-doctype-tile"], 2);
        assert_eq!(layers["ceramic-storage-rocks"], 4);
        assert_eq!(layers.len(), 7, "{layers:?}");
        assert!(!layers.contains_key("not-a-layer"));
        assert!(parse_layers("# no layers\n").is_err());
        assert!(parse_layers("## Layers\n\n1. a\n3. b\n").is_err(), "a gap in the numbers");
        assert!(parse_layers("## Layers\n\n1. a\n2. a\n").is_err(), "a crate twice");
    }

    #[test]
    fn a_clean_graph_passes() {
        let edges = [
            ("ceramic-codecs", "ceramic-streamid", None),
            ("ceramic-doctype-tile", "ceramic-codecs", None),
            // The same layer is allowed.
            ("ceramic-codecs", "ceramic-doctype-tile", None),
            ("ceramic-engine", "ceramic-proto", None),
            ("ceramic-http-api", "ceramic-engine", None),
            ("ceramic-http-api", "serde", None),
            // Dev-dependencies may point anywhere.
            ("ceramic-streamid", "ceramic-http-api", Some("dev")),
            ("ceramic-proto", "ceramic-engine", Some("dev")),
            ("xtask", "ceramic-engine", None),
        ];
        let report = check(&metadata(MEMBERS, &edges), &parse_layers(README).unwrap()).unwrap();
        assert_eq!(report.violations, Vec::<String>::new());
        assert_eq!(report.checked, 6);
        assert_eq!(
            report.notes,
            ["ceramic-storage-rocks (layer 4) is listed but not in the workspace"]
        );
    }

    #[test]
    fn a_dependency_on_a_higher_layer_is_a_violation() {
        let edges = [
            ("ceramic-codecs", "ceramic-proto", None),
            ("ceramic-streamid", "ceramic-codecs", Some("build")),
            ("ceramic-proto", "xtask", None),
        ];
        let report = check(&metadata(MEMBERS, &edges), &parse_layers(README).unwrap()).unwrap();
        assert_eq!(
            report.violations,
            [
                "ceramic-codecs (layer 2) depends on ceramic-proto (layer 3), a higher layer",
                "ceramic-proto (layer 3) depends on xtask, which sits above every layer",
                "ceramic-streamid (layer 1) build-depends on ceramic-codecs (layer 2), a higher layer",
            ]
        );
    }

    #[test]
    fn an_unlisted_crate_is_a_violation() {
        let mut members = MEMBERS.to_vec();
        members.push("ceramic-newcomer");
        let report = check(&metadata(&members, &[]), &parse_layers(README).unwrap()).unwrap();
        assert_eq!(
            report.violations,
            ["ceramic-newcomer is a workspace crate but is not listed in README.md's `## Layers`"]
        );
    }

    #[test]
    fn the_rules_hold_transitively_over_normal_dependencies() {
        let layers = parse_layers(README).unwrap();
        // Reached only through external packages: the layer check cannot see these edges,
        // the rules do.
        let edges = [
            ("ceramic-proto", "some-helper", None),
            ("some-helper", "ceramic-engine", None),
            ("ceramic-doctype-tile", "rocks-wrapper", None),
            ("rocks-wrapper", "librocksdb-sys", None),
            // Dev and build edges do not count for the rules.
            ("ceramic-http-api", "librocksdb-sys", Some("dev")),
            ("ceramic-http-api", "cc-helper", Some("build")),
            ("cc-helper", "librocksdb-sys", None),
        ];
        let report = check(&metadata(MEMBERS, &edges), &layers).unwrap();
        assert_eq!(
            report.violations,
            [
                "ceramic-proto must not reach ceramic-engine (proto is generated code and \
                 conversions only), but does: ceramic-proto -> some-helper -> ceramic-engine",
                "ceramic-doctype-tile must not reach librocksdb-sys (a doctype depends on the SDK \
                 alone), but does: ceramic-doctype-tile -> rocks-wrapper -> librocksdb-sys",
            ]
        );
    }

    #[test]
    fn the_readme_lists_every_workspace_crate() {
        // The real README parses, and names the crates of this checkout's layer order.
        let readme = std::fs::read_to_string(crate::workspace_root().join("README.md")).unwrap();
        let layers = parse_layers(&readme).unwrap();
        assert_eq!(layers["ceramic-testkit"], 1);
        assert!(layers["ceramic-proto"] < layers["ceramic-storage"]);
        assert!(layers["ceramic-engine"] < layers["ceramic-storage-rocks"]);
        assert_eq!(layers["ceramic-grpc"], layers["ceramic-http-api"]);
        assert!(layers["ceramic-core"] < layers["ceramic-node"]);
    }
}
