//! The layering of ARCHITECTURE.md holds: every crate under `crates/` (but `bench` and `fuzz`,
//! which sit outside the layers) has a row in its layer table, and each `tunnelform-*` crate it
//! depends on (`[dependencies]`, not dev-dependencies) is in a strictly lower layer.

use std::collections::BTreeMap;
use std::path::Path;

const OUTSIDE_THE_LAYERS: &[&str] = &["bench", "fuzz"];

/// `| LAYER | `crate` | ... |` rows of the table: crate -> layer.
fn table(architecture: &str) -> BTreeMap<String, u32> {
    let mut layers = BTreeMap::new();
    for line in architecture.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // "", layer, crate, job, ""
        if cells.len() < 4 {
            continue;
        }
        let (Ok(layer), Some(name)) = (
            cells[1].parse::<u32>(),
            cells[2].strip_prefix('`').and_then(|c| c.strip_suffix('`')),
        ) else {
            continue;
        };
        assert!(
            layers.insert(name.to_string(), layer).is_none(),
            "ARCHITECTURE.md lists {name} twice"
        );
    }
    layers
}

/// The `tunnelform-*` crates a manifest's `[dependencies]` section names (without the prefix).
fn dependencies(manifest: &str) -> Vec<String> {
    let mut in_deps = false;
    let mut out = Vec::new();
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_deps = line == "[dependencies]";
            continue;
        }
        if !in_deps {
            continue;
        }
        if let Some(rest) = line.strip_prefix("tunnelform-") {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            out.push(name);
        }
    }
    out
}

#[test]
fn the_table_parses_rows_and_the_manifest_parser_reads_only_dependencies() {
    let t = table(
        "| layer | crate | job |\n| --- | --- | --- |\n| 0 | `model` | x |\n| 3 | `lang` | y |\n",
    );
    assert_eq!(t.get("model"), Some(&0));
    assert_eq!(t.get("lang"), Some(&3));
    assert_eq!(t.len(), 2);
    let m = "[package]\nname = \"tunnelform-x\"\n\n[dependencies]\ntunnelform-model.workspace = true\ntunnelform-tc3 = { path = \"x\" }\nserde = \"1\"\n\n[dev-dependencies]\ntunnelform-cli.workspace = true\n";
    assert_eq!(
        dependencies(m),
        vec!["model".to_string(), "tc3".to_string()]
    );
}

#[test]
fn every_crate_depends_only_on_lower_layers() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let layers = table(&std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap());
    assert!(
        layers.len() > 10,
        "ARCHITECTURE.md's layer table was not found"
    );
    let mut problems = Vec::new();
    let mut seen = 0;
    for entry in std::fs::read_dir(root.join("crates")).unwrap() {
        let dir = entry.unwrap().path();
        let manifest = dir.join("Cargo.toml");
        if !manifest.is_file() {
            continue;
        }
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        if OUTSIDE_THE_LAYERS.contains(&name.as_str()) {
            continue;
        }
        seen += 1;
        let Some(&own) = layers.get(&name) else {
            problems.push(format!(
                "crates/{name} has no row in ARCHITECTURE.md's layer table"
            ));
            continue;
        };
        for dep in dependencies(&std::fs::read_to_string(&manifest).unwrap()) {
            match layers.get(&dep) {
                None => problems.push(format!("{name} depends on {dep}, which the table lacks")),
                Some(&l) if l >= own => problems.push(format!(
                    "{name} (layer {own}) depends on {dep} (layer {l}): not a lower layer"
                )),
                Some(_) => {}
            }
        }
    }
    assert_eq!(
        seen,
        layers.len(),
        "the table lists crates that do not exist"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
