//! The layers of the workspace, checked: crates depend only on crates below them, and inside
//! the runtime's crates a module refers (`crate::…`) only to modules of a lower layer. A new
//! module or crate must be placed in a table here; an import that points up fails with the
//! file and the two layers named.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// The workspace's crates, bottom to top; a crate may depend on crates of lower layers only.
const CRATE_LAYERS: &[&[&str]] = &[
    &["netc-limits"],
    &["netc-syntax", "netc-kernels"],
    &["netc-sema", "netc-runtime"],
    &["netc-codegen", "netc-procedures"],
    &["netc-macros", "netc-cli", "netc-trainer"],
    &["netc"],
];

/// netc-runtime's modules, bottom to top. `gemm`, `init`, `rng`, `scalar`, `subnormals`, `threads` are
/// netc-kernels' modules re-exported under the runtime's paths.
const RUNTIME_LAYERS: &[(&str, &[&str])] = &[
    (
        "kernels",
        &["gemm", "init", "rng", "scalar", "subnormals", "threads"],
    ),
    ("foundations", &["error", "interrupt", "monitor", "real"]),
    ("the processes of a run", &["cluster"]),
    (
        "model contract, files, numerics",
        &[
            "network",
            "features",
            "atomic_file",
            "input_file",
            "output_lock",
            "solve",
            "augment",
        ],
    ),
    (
        "tensor formats, input stage",
        &["safetensors_encode", "preprocess"],
    ),
    ("run configuration", &["config"]),
    (
        "data, checkpoints, reports",
        &["data", "checkpoint", "report"],
    ),
    (
        "scoring and watching",
        &["evaluate", "curve", "early_stopping", "curvature"],
    ),
    (
        "run outputs and state",
        &["predict", "run_output", "run_state"],
    ),
    ("one run's procedures", &["ensemble", "full_batch"]),
    ("the driver", &["fit"]),
    ("test models", &["test_model"]),
];

const PROCEDURE_LAYERS: &[(&str, &[&str])] = &[
    ("spreading parts over MPI ranks", &["spread"]),
    ("search", &["search"]),
    ("bagging (its members may be searched)", &["bagging"]),
    ("the plan", &["plan"]),
];

const TRAINER_LAYERS: &[(&str, &[&str])] = &[
    ("budgets", &["memory", "bench"]),
    ("flags", &["args"]),
    ("configuration", &["apply"]),
    ("commands", &["commands"]),
];

const KERNEL_LAYERS: &[(&str, &[&str])] = &[
    ("float mode", &["subnormals"]),
    ("foundations", &["rng", "scalar", "threads"]),
    ("kernels", &["gemm", "init"]),
];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn crates_depend_only_on_lower_layers() {
    let layer_of = |name: &str| CRATE_LAYERS.iter().position(|l| l.contains(&name));
    let mut found = Vec::new();
    for entry in fs::read_dir(workspace().join("crates")).unwrap() {
        let dir = entry.unwrap().path();
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let own = layer_of(&name)
            .unwrap_or_else(|| panic!("crate `{name}` is in no layer of CRATE_LAYERS"));
        let manifest = fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        for dependency in netc_dependencies(&manifest) {
            let theirs = layer_of(&dependency)
                .unwrap_or_else(|| panic!("`{name}` depends on `{dependency}`, in no layer"));
            assert!(
                theirs < own,
                "`{name}` (layer {own}) depends on `{dependency}` (layer {theirs}): \
                 dependencies point down only"
            );
        }
        found.push(name);
    }
    let listed = CRATE_LAYERS.iter().flat_map(|l| l.iter()).count();
    assert_eq!(found.len(), listed, "every listed crate exists: {found:?}");
}

/// The `netc-*` names in a manifest's `[dependencies]` table (not dev- or build-).
fn netc_dependencies(manifest: &str) -> Vec<String> {
    let mut in_dependencies = false;
    let mut names = Vec::new();
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_dependencies = line == "[dependencies]";
            continue;
        }
        let name = line.split(['=', '.', ' ']).next().unwrap_or("");
        if in_dependencies && (name == "netc" || name.starts_with("netc-")) {
            names.push(name.to_string());
        }
    }
    names
}

#[test]
fn runtime_modules_import_only_lower_layers() {
    assert_layered("netc-runtime", RUNTIME_LAYERS);
}

#[test]
fn procedure_modules_import_only_lower_layers() {
    assert_layered("netc-procedures", PROCEDURE_LAYERS);
}

#[test]
fn trainer_modules_import_only_lower_layers() {
    assert_layered("netc-trainer", TRAINER_LAYERS);
}

#[test]
fn kernel_modules_import_only_lower_layers() {
    assert_layered("netc-kernels", KERNEL_LAYERS);
}

/// The checker itself: an upward import is found, a downward one is not.
#[test]
fn an_upward_import_is_reported() {
    let layers: &[(&str, &[&str])] = &[("low", &["error"]), ("high", &["fit"])];
    let roots = BTreeMap::new();
    let up = "use crate::fit::fit;\nfn f() {}\n";
    let down = "use crate::error::Error;\n// crate::fit in a comment\n";
    assert_eq!(
        upward_imports("error", up, layers, &roots),
        vec!["fit".to_string()]
    );
    assert!(upward_imports("fit", down, layers, &roots).is_empty());
    let in_tests = "fn f() {}\n#[cfg(test)]\nmod tests {\n    use crate::fit;\n}\n";
    assert!(upward_imports("error", in_tests, layers, &roots).is_empty());
}

fn assert_layered(krate: &str, layers: &[(&str, &[&str])]) {
    let src = workspace().join("crates").join(krate).join("src");
    let roots = root_reexports(&fs::read_to_string(src.join("lib.rs")).unwrap());
    let mut checked = 0;
    for file in rust_files(&src) {
        let relative = file.strip_prefix(&src).unwrap();
        let module = relative
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        // The crate root declares and re-exports every module; separate test files are tests.
        if module == "lib" || relative.file_name().is_some_and(|n| n == "tests.rs") {
            continue;
        }
        assert!(
            layer(&module, layers).is_some(),
            "{krate}: module `{module}` is in no layer of the table in tests/it/layers.rs"
        );
        let text = fs::read_to_string(&file).unwrap();
        let up = upward_imports(&module, &text, layers, &roots);
        assert!(
            up.is_empty(),
            "{krate}/src/{}: `{module}` (layer {:?}) imports {up:?} of the same or a higher \
             layer; move the shared piece down (tests/it/layers.rs has the layers)",
            relative.display(),
            layers[layer(&module, layers).unwrap()].0
        );
        checked += 1;
    }
    assert!(checked > 0, "{krate}: no module checked");
}

fn layer(module: &str, layers: &[(&str, &[&str])]) -> Option<usize> {
    layers
        .iter()
        .position(|(_, modules)| modules.contains(&module))
}

/// The modules of the same or a higher layer that `text` (module `module`'s source) refers
/// to as `crate::name`, outside comments and its `#[cfg(test)]` part (tests may use
/// anything). Root names re-exported by lib.rs (`crate::Error`) count as their module;
/// other root names (functions of lib.rs) as the top.
fn upward_imports(
    module: &str,
    text: &str,
    layers: &[(&str, &[&str])],
    roots: &BTreeMap<String, String>,
) -> Vec<String> {
    let own = layer(module, layers).expect("placed");
    let mut up = Vec::new();
    for line in text.lines() {
        let line = line.trim_start();
        if line.starts_with("#[cfg(test)]") {
            break;
        }
        if line.starts_with("//") {
            continue;
        }
        for (at, _) in line.match_indices("crate::") {
            let rest = &line[at + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            // A root name re-exported from a module of this crate counts as that module.
            let target = match roots.get(&name) {
                Some(source) if layer(source, layers).is_some() => source.clone(),
                _ => name,
            };
            if target == module {
                continue;
            }
            let higher = match layer(&target, layers) {
                Some(theirs) => theirs >= own,
                None => true, // a function of the crate root: the top
            };
            if higher && !up.contains(&target) {
                up.push(target);
            }
        }
    }
    up
}

/// `pub use module::{A, b};` / `pub use module::A;` lines of a crate root: name → module.
fn root_reexports(lib: &str) -> BTreeMap<String, String> {
    let mut names = BTreeMap::new();
    let flat = lib.replace('\n', " ");
    for statement in flat.split(';') {
        let Some(path) = statement.trim().strip_prefix("pub use ") else {
            continue;
        };
        let Some((module, items)) = path.split_once("::") else {
            continue;
        };
        let items = items.trim().trim_start_matches('{').trim_end_matches('}');
        for item in items.split(',') {
            let name = item.trim().rsplit("::").next().unwrap_or("").trim();
            if !name.is_empty() && name != "*" {
                names.insert(name.to_string(), module.trim().to_string());
            }
        }
    }
    names
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files.sort();
    files
}
