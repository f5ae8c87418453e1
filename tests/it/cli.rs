//! The `netc` command, run in-process through `netc_cli::run` (stdout, stderr, exit code).
//!
//! Paths are passed relative to the tests package directory (cargo's working directory for
//! tests), exactly as a user would type them, so snapshots hold no machine paths. The
//! diagnostics' wording is snapshotted by `check.rs`; the few error cases here prove the CLI
//! shows them and exits 1.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::Command;

struct Outcome {
    code: i32,
    stdout: String,
    stderr: String,
}

/// `netc --color never ARGS...`, in-process.
fn netc<I, S>(args: I) -> Outcome
where
    I: IntoIterator<Item = S>,
    S: Into<OsString>,
{
    let mut argv: Vec<OsString> = vec!["netc".into(), "--color".into(), "never".into()];
    argv.extend(args.into_iter().map(Into::into));
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let code = netc_cli::run(argv, &mut stdout, &mut stderr);
    Outcome {
        code,
        stdout: String::from_utf8(stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(stderr).expect("stderr is UTF-8"),
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

fn scratch_dir(name: &str) -> PathBuf {
    crate::support::scratch_dir("cli", name)
}

/// The spec's path as a user in the tests package directory would type it.
fn relative_spec(path: &Path) -> String {
    let root = workspace_root();
    let relative = path.strip_prefix(&root).expect("spec inside the workspace");
    format!("../{}", relative.display())
}

/// `netc check` prints exactly `netc_sema::summary` (snapshotted for every spec in check.rs).
#[test]
fn check_prints_the_summary_of_every_example_spec() {
    insta::glob!("../../specs", "*.net", |path| {
        let outcome = netc(["check".to_string(), relative_spec(path)]);
        assert_eq!(outcome.code, 0, "stderr:\n{}", outcome.stderr);
        assert_eq!(outcome.stderr, "");
        let text = std::fs::read_to_string(path).expect("spec");
        let src = netc_syntax::SourceFile::new(relative_spec(path), text);
        let net = netc_sema::check(&src).expect("the examples check");
        assert_eq!(
            outcome.stdout.trim_end(),
            netc_sema::summary(&net).trim_end()
        );
    });
}

#[test]
fn check_shows_diagnostics_and_exits_1() {
    // A few representative files; the whole corpus is snapshotted by `check.rs`.
    for name in [
        "unknown_activation",
        "syntax_missing_brace",
        "softmax_on_one_unit",
    ] {
        let spec = format!("../tests/corpus/err/{name}.net");
        let outcome = netc(["check", spec.as_str()]);
        assert_eq!(outcome.stdout, "", "{name}: nothing on stdout");
        let report = format!(
            "exit code: {}\n--- stderr\n{}",
            outcome.code, outcome.stderr
        );
        insta::assert_snapshot!(format!("check_err_{name}"), report);
    }
}

#[test]
fn check_of_several_specs_checks_all_and_fails_if_any_fails() {
    let outcome = netc(["check", "../specs/missing.net", "../specs/xor.net"]);
    assert_eq!(outcome.code, 1);
    assert!(
        outcome
            .stderr
            .starts_with("error: cannot read ../specs/missing.net: "),
        "{}",
        outcome.stderr
    );
    let xor_alone = netc(["check", "../specs/xor.net"]);
    assert_eq!(xor_alone.code, 0);
    assert_eq!(
        outcome.stdout, xor_alone.stdout,
        "the good spec is still summarized"
    );
}

#[test]
fn a_missing_spec_is_one_clear_line() {
    let outcome = netc(["check", "../specs/missing.net"]);
    assert_eq!(outcome.code, 1);
    assert_eq!(outcome.stdout, "");
    #[cfg(unix)]
    assert_eq!(
        outcome.stderr,
        "error: cannot read ../specs/missing.net: No such file or directory\n"
    );
    for command in ["emit", "build", "ir", "train", "bench"] {
        let outcome = netc([command, "../specs/missing.net"]);
        assert_eq!(outcome.code, 1, "{command}");
        assert!(
            outcome
                .stderr
                .starts_with("error: cannot read ../specs/missing.net: "),
            "{command}"
        );
    }
}

#[test]
fn devices_directories_and_oversized_specs_are_refused_before_reading() {
    let big = scratch_dir("oversized").join("big.net");
    std::fs::write(&big, "#".repeat(netc_syntax::MAX_SPEC_BYTES as usize + 1)).unwrap();
    let big = big.display().to_string();
    let mut cases = vec![
        ("../specs".to_string(), "not a regular file"),
        (
            big,
            "is larger than 1048576 bytes (1 MiB), the limit for a spec file",
        ),
    ];
    #[cfg(unix)]
    cases.extend([
        ("/dev/zero".to_string(), "not a regular file"),
        ("/dev/urandom".to_string(), "not a regular file"),
    ]);
    for (path, reason) in cases {
        for command in ["check", "emit", "build"] {
            let outcome = netc([command, path.as_str()]);
            assert_eq!(outcome.code, 1, "{command} {path}");
            assert!(
                outcome
                    .stderr
                    .starts_with(&format!("error: cannot read {path}: "))
                    && outcome.stderr.contains(reason),
                "{command} {path}: {}",
                outcome.stderr
            );
        }
    }
}

#[test]
fn emit_prints_what_generate_source_returns() {
    let outcome = netc(["emit", "../specs/xor.net"]);
    assert_eq!(outcome.code, 0, "stderr:\n{}", outcome.stderr);
    assert!(outcome.stdout.contains("pub mod xor"), "{}", outcome.stdout);

    let text = std::fs::read_to_string("../specs/xor.net").expect("read specs/xor.net");
    let file = netc_syntax::SourceFile::new("../specs/xor.net", text);
    let network = netc_sema::check(&file).expect("xor.net checks");
    let options = netc_codegen::Options {
        source_name: "../specs/xor.net".to_string(),
        ..Default::default()
    };
    let expected = netc_codegen::generate_source(&network, &options).expect("xor.net generates");
    assert_eq!(outcome.stdout, expected);
}

#[test]
fn emit_writes_the_same_code_to_a_file() {
    let dir = scratch_dir("emit");
    let file = dir.join("xor.rs");
    let outcome = netc([
        "emit".into(),
        "../specs/xor.net".into(),
        "-o".into(),
        file.clone().into_os_string(),
    ]);
    assert_eq!(outcome.code, 0, "stderr:\n{}", outcome.stderr);
    assert_eq!(outcome.stdout, "");
    let printed = netc(["emit", "../specs/xor.net"]).stdout;
    assert_eq!(
        std::fs::read_to_string(&file).expect("emitted file"),
        printed
    );
}

/// `emit` and `build` refuse what the generated trainer would not honour, instead of
/// silently dropping it (here a batch norm before any dense layer: nothing to normalize).
#[test]
fn unsupported_constructs_are_errors_for_emit_and_build() {
    let dir = scratch_dir("unsupported");
    let spec = dir.join("xor_input_batchnorm.net");
    let xor = std::fs::read_to_string("../specs/xor.net").expect("read specs/xor.net");
    let input_batchnorm = xor.replacen("input   2\n", "input   2\n    batchnorm\n", 1);
    assert_ne!(input_batchnorm, xor);
    std::fs::write(&spec, input_batchnorm).expect("write spec");
    assert_eq!(
        netc(["check".into(), spec.clone().into_os_string()]).code,
        0
    );
    let project = dir.join("project");
    for outcome in [
        netc(["emit".into(), spec.clone().into_os_string()]),
        netc([
            "build".into(),
            spec.clone().into_os_string(),
            "-o".into(),
            project.clone().into_os_string(),
        ]),
    ] {
        assert_eq!(outcome.code, 1);
        assert_eq!(outcome.stdout, "");
        assert!(
            outcome.stderr.contains("error[not-yet-supported]"),
            "{}",
            outcome.stderr
        );
        assert!(
            outcome
                .stderr
                .contains("`batchnorm` before the first dense layer"),
            "{}",
            outcome.stderr
        );
    }
    assert!(
        !project.exists(),
        "no project is written for a spec that cannot be generated"
    );
}

#[test]
fn color_always_colours_diagnostics_and_never_does_not() {
    let spec = "../tests/corpus/err/unknown_activation.net";
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let code = netc_cli::run(
        ["netc", "--color", "always", "check", spec].map(OsString::from),
        &mut stdout,
        &mut stderr,
    );
    assert_eq!(code, 1);
    let coloured = String::from_utf8(stderr).expect("UTF-8");
    assert!(coloured.contains("\x1b["), "{coloured}");
    let plain = netc(["check", spec]).stderr;
    assert!(!plain.contains('\x1b'), "{plain}");
    assert!(plain.contains("unknown activation `rleu`"), "{plain}");
}

#[test]
fn parse_and_ir_dump_their_stage() {
    let parsed = netc(["parse", "../specs/xor.net"]);
    assert_eq!(parsed.code, 0, "{}", parsed.stderr);
    assert!(parsed.stdout.starts_with("File {"), "{}", parsed.stdout);
    let ir = netc(["ir", "../specs/xor.net"]);
    assert_eq!(ir.code, 0, "{}", ir.stderr);
    assert!(
        ir.stdout.starts_with("Network {") && ir.stdout.contains("name: \"xor\""),
        "{}",
        ir.stdout
    );
    let syntax_error = netc(["parse", "../tests/corpus/err/syntax_missing_brace.net"]);
    assert_eq!(syntax_error.code, 1);
    assert!(
        syntax_error.stderr.starts_with("error[syntax]"),
        "{}",
        syntax_error.stderr
    );
}

#[test]
fn help_texts() {
    for command in ["check", "emit", "build", "train", "bench"] {
        let help = netc([command, "--help"]);
        assert_eq!(help.code, 0, "{command}");
        insta::assert_snapshot!(format!("help_{command}"), help.stdout);
    }
    insta::assert_snapshot!("help", netc(["--help"]).stdout);
}

#[test]
fn a_bad_command_line_exits_2_with_usage() {
    let outcome = netc(["frobnicate"]);
    assert_eq!(outcome.code, 2);
    assert!(outcome.stderr.contains("Usage: netc"), "{}", outcome.stderr);
    let help = netc(["--help"]);
    assert_eq!(help.code, 0);
    assert!(help.stdout.contains("check"), "{}", help.stdout);
}

#[test]
fn build_into_an_unwritable_place_is_an_error_not_a_panic() {
    let dir = scratch_dir("unwritable");
    let blocker = dir.join("file");
    std::fs::write(&blocker, "not a directory").expect("write blocker");
    let outcome = netc([
        "build".into(),
        "../specs/xor.net".into(),
        "-o".into(),
        blocker.into_os_string(),
    ]);
    assert_eq!(outcome.code, 1);
    assert!(
        outcome.stderr.starts_with("error: cannot write "),
        "{}",
        outcome.stderr
    );
}

/// Builds a real trainer for `specs/xor.net` (in the shared trainer target directory: the
/// first run compiles the runtime in release), trains it, and evaluates its checkpoint.
#[test]
fn build_train_and_eval_xor_end_to_end() {
    let project = scratch_dir("xor-project");
    let run = scratch_dir("xor-run");
    let built = netc([
        "build".into(),
        "../specs/xor.net".into(),
        "-o".into(),
        project.clone().into_os_string(),
    ]);
    assert_eq!(built.code, 0, "stderr:\n{}", built.stderr);
    let binary = PathBuf::from(built.stdout.trim_end());
    assert!(binary.is_file(), "{} is the trainer", binary.display());
    let manifest = std::fs::read_to_string(project.join("Cargo.toml")).expect("Cargo.toml");
    assert!(manifest.contains("name = \"xor\""), "{manifest}");
    assert!(project.join("src/main.rs").is_file() && project.join("Cargo.lock").is_file());

    let checkpoint = run.join("xor.safetensors");
    let metrics = run.join("metrics.jsonl");
    let trained = Command::new(&binary)
        .arg("train")
        .arg("--data-dir")
        .arg(workspace_root())
        .arg("--checkpoint")
        .arg(&checkpoint)
        .arg("--metrics")
        .arg(&metrics)
        .current_dir(&run)
        .output()
        .expect("run the trainer");
    let train_out = String::from_utf8_lossy(&trained.stdout);
    assert!(
        trained.status.success(),
        "train failed:\n{train_out}\n{}",
        String::from_utf8_lossy(&trained.stderr)
    );
    assert!(checkpoint.is_file(), "checkpoint written:\n{train_out}");
    assert!(
        std::fs::metadata(&metrics).is_ok_and(|m| m.len() > 0),
        "metrics written:\n{train_out}"
    );

    let evaluated = Command::new(&binary)
        .arg("eval")
        .arg("--weights")
        .arg(&checkpoint)
        .arg("--data-dir")
        .arg(workspace_root())
        .current_dir(&run)
        .output()
        .expect("run the trainer's eval");
    let eval_out = String::from_utf8_lossy(&evaluated.stdout);
    assert!(
        evaluated.status.success(),
        "eval failed:\n{eval_out}\n{}",
        String::from_utf8_lossy(&evaluated.stderr)
    );
    assert!(
        eval_out.contains("100.0"),
        "XOR is learned perfectly:\n{eval_out}"
    );

    // The step compiled for AVX2+FMA (this CPU, if it has them) and for any x86-64 computes
    // the same bits: the portable path trains to byte-identical weights.
    let portable = run.join("portable.safetensors");
    let retrained = Command::new(&binary)
        .arg("train")
        .arg("--quiet")
        .arg("--data-dir")
        .arg(workspace_root())
        .arg("--checkpoint")
        .arg(&portable)
        .arg("--metrics")
        .arg(run.join("portable.jsonl"))
        .env("NETC_ISA", "portable")
        .current_dir(&run)
        .output()
        .expect("run the trainer on the portable path");
    assert!(retrained.status.success(), "{retrained:?}");
    assert!(
        std::fs::read(&checkpoint).unwrap() == std::fs::read(&portable).unwrap(),
        "NETC_ISA=portable trained other weights"
    );

    refuses_bad_files(&binary, &checkpoint, &run);

    // A second build with nothing changed rewrites no file and compiles nothing.
    let main_rs_mtime = std::fs::metadata(project.join("src/main.rs"))
        .and_then(|m| m.modified())
        .ok();
    let again = netc([
        "build".into(),
        "../specs/xor.net".into(),
        "-o".into(),
        project.clone().into_os_string(),
    ]);
    assert_eq!(again.code, 0, "stderr:\n{}", again.stderr);
    assert!(
        !again.stderr.contains("Compiling"),
        "nothing recompiled:\n{}",
        again.stderr
    );
    let main_rs_mtime_again = std::fs::metadata(project.join("src/main.rs"))
        .and_then(|m| m.modified())
        .ok();
    assert_eq!(main_rs_mtime, main_rs_mtime_again);

    // `netc train` runs the same binary and passes the trainer's exit code through.
    let trained_again = netc([
        "train".into(),
        "../specs/xor.net".into(),
        "--project".into(),
        project.clone().into_os_string(),
        "--".into(),
        "--quiet".into(),
        "--epochs".into(),
        "10".into(),
        "--data-dir".into(),
        workspace_root().into_os_string(),
        "--checkpoint".into(),
        run.join("again.safetensors").into_os_string(),
        "--metrics".into(),
        run.join("again.jsonl").into_os_string(),
    ]);
    assert_eq!(trained_again.code, 0, "stderr:\n{}", trained_again.stderr);
    assert!(run.join("again.safetensors").is_file());
    let bad_flag = netc([
        "train".into(),
        "../specs/xor.net".into(),
        "--project".into(),
        project.clone().into_os_string(),
        "--".into(),
        "--no-such-flag".into(),
    ]);
    assert_eq!(bad_flag.code, 2, "the trainer's usage error code");

    // `netc bench` prints the trainer's report on stdout.
    let bench = netc([
        "bench".into(),
        "../specs/xor.net".into(),
        "--project".into(),
        project.into_os_string(),
        "--seconds".into(),
        "0.05".into(),
        "--runs".into(),
        "1".into(),
    ]);
    assert_eq!(bench.code, 0, "stderr:\n{}", bench.stderr);
    let last_line = bench.stdout.lines().last().unwrap_or_default();
    assert!(
        last_line.starts_with("bench: ") && last_line.contains("samples/s"),
        "{}",
        bench.stdout
    );
}

/// The built trainer refuses devices, NaN weights and bad rows with exit code 1 and an error
/// naming the file (and its line), instead of reading forever or scoring garbage.
fn refuses_bad_files(binary: &Path, checkpoint: &Path, run: &Path) {
    let refused = |args: &[&OsStr], expected: &str| {
        let outcome = Command::new(binary)
            .args(args)
            .current_dir(run)
            .output()
            .expect("run the trainer");
        let stderr = String::from_utf8_lossy(&outcome.stderr);
        assert_eq!(outcome.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.contains(expected),
            "{args:?}: {stderr} lacks {expected:?}"
        );
    };
    let os = OsStr::new;
    let root = workspace_root();
    let (data_dir, zero) = (root.as_os_str(), os("/dev/zero"));
    let weights = checkpoint.as_os_str();
    let device = "/dev/zero: a character device, not a regular file";
    refused(&[os("train"), os("--train-csv"), zero], device);
    let eval_zero = [
        os("eval"),
        os("--weights"),
        zero,
        os("--data-dir"),
        data_dir,
    ];
    refused(&eval_zero, device);
    let predict_zero = [os("predict"), os("--weights"), weights, os("--input"), zero];
    refused(&predict_zero, device);

    // The last stored value of the last tensor made NaN.
    let mut bytes = std::fs::read(checkpoint).expect("the checkpoint");
    let end = bytes.len();
    bytes[end - 4..].copy_from_slice(&f32::NAN.to_le_bytes());
    let nan = run.join("nan.safetensors");
    std::fs::write(&nan, bytes).unwrap();
    let eval_nan = [
        os("eval"),
        os("--weights"),
        nan.as_os_str(),
        os("--data-dir"),
        data_dir,
    ];
    refused(&eval_nan, "holds NaN at");

    let bad = run.join("bad.csv");
    std::fs::write(&bad, "x1,x2,label\n0,0,0\n0,1,1\n1,0,5\n").unwrap();
    refused(
        &[os("train"), os("--train-csv"), bad.as_os_str()],
        &format!("{}: line 4: label 5 out of range", bad.display()),
    );
    std::fs::write(&bad, "x1,x2\nnan,1\n").unwrap();
    let predict_nan = [
        os("predict"),
        os("--weights"),
        weights,
        os("--input"),
        bad.as_os_str(),
    ];
    refused(
        &predict_nan,
        &format!("{}: line 2, column 1: `nan` is NaN", bad.display()),
    );
}
