//! The `net!` macro's errors as rustc shows them (trybuild `compile_fail`, `tests/ui/`), and
//! the CLI's generated trainer sources compiling warning-free.

use std::path::{Path, PathBuf};

use netc_codegen::{Options, trainer_main_rs};
use netc_syntax::{SourceFile, render_plain};

#[test]
fn macro_errors() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("ui/*.rs");
}

/// What `netc build` writes as `main.rs`, for every spec that generates, under
/// `#![deny(warnings)]`; `main` is swapped for one that runs a step (the trainer's own `main`
/// would parse the command line).
#[test]
fn generated_trainers_compile_without_warnings() {
    let specs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs");
    let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("generated_trainers");
    std::fs::create_dir_all(&out_dir).unwrap();
    let cases = trybuild::TestCases::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&specs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "net"))
    {
        let src = SourceFile::new(
            path.file_name().unwrap().to_string_lossy(),
            std::fs::read_to_string(path).unwrap(),
        );
        let net = netc_sema::check(&src).unwrap_or_else(|d| panic!("{}", render_plain(&src, &d)));
        let Ok(main_rs) = trainer_main_rs(
            &net,
            &Options {
                source_name: src.name.clone(),
                ..Options::default()
            },
        ) else {
            continue;
        };
        let name = &net.model.name;
        let trainer_main =
            format!("fn main() -> ::std::process::ExitCode {{\n    {name}::main()\n}}\n");
        assert!(main_rs.ends_with(&trainer_main), "{main_rs}");
        let one_step = format!(
            "fn main() {{\n    use netc::Network;\n    let mut model = {name}::new(1);\n    \
             let x = vec![0.5; {name}::BATCH * {name}::INPUT];\n    let labels = vec![0; {name}::BATCH];\n    \
             let values = vec![0.0 as {name}::F; {name}::BATCH * {name}::OUTPUT];\n    \
             let y = match <{name}::Model as Network>::TARGET_KIND {{\n        \
             netc::TargetKind::Classes => netc::Targets::Classes(&labels),\n        \
             netc::TargetKind::Values => netc::Targets::Values(&values),\n    }};\n    \
             assert!(netc::__private::train_step_on(&mut model, &x, y).loss.is_finite());\n}}\n"
        );
        let program = format!(
            "#![deny(warnings)]\n{}{one_step}",
            main_rs.strip_suffix(&trainer_main).unwrap()
        );
        let file = out_dir.join(format!("{name}_trainer.rs"));
        std::fs::write(&file, program).unwrap();
        cases.pass(file);
    }
}
