//! MPI runs (`netc build --mpi`, `mpirun -n N`): a search and bagging give the files of one
//! process byte for byte at N = 1, 2, 3; data-parallel training gives one process's model up
//! to the order of the gradient sums; a dead rank stops the job; a killed job resumes to the
//! same result; what is not spread over ranks is refused. Needs Open MPI (`mpirun` on the
//! PATH): `.ci/run` installs it and runs `cargo test -p netc-tests --features mpi --test mpi`.

mod data_parallel;
mod failures;
mod resume;
mod same_files;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A whole job may take this long before the test calls it hung.
const JOB_TIMEOUT: Duration = Duration::from_secs(180);

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// A fresh, empty scratch directory under cargo's per-target temp dir.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("mpi")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// `netc build SPEC [--mpi] -o PROJECT`, in-process; the trainer binary's path.
pub fn build_trainer(spec: &str, mpi: bool) -> PathBuf {
    let name = Path::new(spec).file_stem().unwrap().to_string_lossy();
    let project = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("mpi-trainers")
        .join(format!("{name}{}", if mpi { "-mpi" } else { "" }));
    let mut argv: Vec<std::ffi::OsString> = vec![
        "netc".into(),
        "--color".into(),
        "never".into(),
        "build".into(),
        workspace_root().join(spec).into(),
        "-o".into(),
        project.into(),
    ];
    if mpi {
        argv.push("--mpi".into());
    }
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let code = netc_cli::run(argv, &mut stdout, &mut stderr);
    assert_eq!(
        code,
        0,
        "build failed:\n{}",
        String::from_utf8_lossy(&stderr)
    );
    PathBuf::from(String::from_utf8(stdout).expect("UTF-8").trim_end())
}

/// Each spec's two trainers, built once per test binary.
pub fn trainers(spec: &'static str) -> &'static (PathBuf, PathBuf) {
    static SEARCH: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    static BAGGING: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    static DATA_PARALLEL: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    static DATA_PARALLEL_F32: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    static DATA_PARALLEL_BN: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    static LBFGS: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    static REFERENCE: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    let cell = match spec {
        "specs/mpi_search.net" => &SEARCH,
        "specs/bagging.net" => &BAGGING,
        "specs/mpi_data_parallel.net" => &DATA_PARALLEL,
        "specs/mpi_data_parallel_f32.net" => &DATA_PARALLEL_F32,
        "specs/mpi_data_parallel_bn.net" => &DATA_PARALLEL_BN,
        "specs/opt_lbfgs.net" => &LBFGS,
        "specs/mnist_ref.net" => &REFERENCE,
        other => panic!("no trainer cell for {other}"),
    };
    cell.get_or_init(|| (build_trainer(spec, false), build_trainer(spec, true)))
}

/// `mpirun -n RANKS TRAINER ARGS…`: oversubscribed (3 ranks on 2 cores), allowed as root (CI
/// runs as root; Open MPI refuses that unless told), one compute thread per rank.
pub fn mpirun(ranks: usize, trainer: &Path, args: &[&str]) -> Command {
    let mut command = Command::new("mpirun");
    command
        .args(["--oversubscribe", "-n", &ranks.to_string()])
        .arg(trainer)
        .args(args)
        .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
        .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
        .env("NETC_THREADS", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// A trainer run as one process, without mpirun; one compute thread, as each rank has.
pub fn alone(trainer: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(trainer);
    command
        .args(args)
        .env("NETC_THREADS", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Runs a job to its end (or kills it after [`JOB_TIMEOUT`] and fails).
pub fn finish(command: &mut Command) -> Output {
    let child = command
        .spawn()
        .expect("start mpirun (is Open MPI installed?)");
    wait_with_timeout(child, JOB_TIMEOUT)
}

pub fn wait_with_timeout(mut child: Child, timeout: Duration) -> Output {
    let start = Instant::now();
    loop {
        if let Some(_status) = child.try_wait().expect("wait for mpirun") {
            return child.wait_with_output().expect("collect mpirun's output");
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let output = child.wait_with_output().expect("collect mpirun's output");
            panic!(
                "the job was still running after {timeout:?}:\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The job succeeded; its stdout.
pub fn succeeded(output: &Output) -> String {
    assert!(
        output.status.success(),
        "the job failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).expect("UTF-8")
}

/// The metrics lines without the one measured (not computed) field.
pub fn without_timing(path: &Path) -> Vec<String> {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    text.lines()
        .map(|line| {
            let mut fields: Vec<&str> = line.split(',').collect();
            fields.retain(|f| !f.starts_with("\"samples_per_sec\":"));
            fields.join(",")
        })
        .collect()
}
