//! Durable runs: a trainer killed with SIGKILL at random moments (some of them during a save)
//! and resumed each time with `--resume` ends with weights byte-identical to an uninterrupted
//! run with the same seed, and the same metrics lines apart from their timing field.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const KILLS: usize = 20;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// `netc build SPEC -o PROJECT`, in-process; the trainer binary's path.
fn build_trainer(spec: &str, project: &Path) -> PathBuf {
    let argv: Vec<std::ffi::OsString> = vec![
        "netc".into(),
        "--color".into(),
        "never".into(),
        "build".into(),
        spec.into(),
        "-o".into(),
        project.as_os_str().to_owned(),
    ];
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

/// The trainer's `train` command with this run's output paths.
fn train(binary: &Path, dir: &Path, name: &str, extra: &[&str]) -> Command {
    let mut command = Command::new(binary);
    command
        .arg("train")
        .arg("--quiet")
        .arg("--data-dir")
        .arg(workspace_root())
        .arg("--checkpoint")
        .arg(dir.join(format!("{name}.safetensors")))
        .arg("--metrics")
        .arg(dir.join(format!("{name}.jsonl")))
        .arg("--state")
        .arg(dir.join(format!("{name}.state")))
        .args(extra)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    command
}

/// The metrics lines without the one measured (not computed) field.
fn without_timing(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).expect("metrics file");
    text.lines()
        .map(|line| {
            let mut fields: Vec<&str> = line.split(',').collect();
            fields.retain(|f| !f.starts_with("\"samples_per_sec\":"));
            fields.join(",")
        })
        .collect()
}

/// A small deterministic generator for the kill delays (xorshift), so a failure reproduces.
struct Delays(u64);

impl Delays {
    fn next_ms(&mut self, range: std::ops::Range<u64>) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        range.start + self.0 % (range.end - range.start)
    }
}

/// Every `.jsonl` file of run `name` in `dir` (the metrics, and bagging's member files), by
/// the part of its name after `name`.
fn metrics_of(dir: &Path, name: &str) -> Vec<(String, Vec<String>)> {
    let mut files: Vec<(String, Vec<String>)> = std::fs::read_dir(dir)
        .expect("scratch dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .filter_map(|p| {
            let file = p.file_name()?.to_string_lossy().into_owned();
            let rest = file.strip_prefix(name)?.to_string();
            Some((rest, without_timing(&p)))
        })
        .collect();
    files.sort();
    files
}

/// The state file's bytes, if it exists (to see whether a run made progress before its kill).
fn saved(state: &Path) -> Option<Vec<u8>> {
    std::fs::read(state).ok()
}

/// The tally of one killed-and-resumed sequence.
#[derive(Default)]
struct Tally {
    kills: usize,
    kills_in_save: usize,
    resumes: usize,
}

/// Runs `spec`'s trainer once uninterrupted, then again under SIGKILLs at random moments,
/// resuming after each, until it finishes; both must end with the same bytes. `flags` are
/// added to every run (the spec may carry `save_every` itself).
///
/// Each kill comes at a random time in [0, limit) after the start. The limit adapts to the
/// machine: it grows by a quarter after a kill that came before any new save (so a loaded
/// machine still makes progress) and halves after one that came after a save, so about one
/// kill in five makes progress. A fast machine can finish a run before `KILLS` kills; then the
/// killed run starts over from nothing (another round, checked like the first) until the
/// kills add up, so how many moments get tested does not depend on the machine's speed.
fn kill_and_resume(spec: &str, group: &str, flags: &[&str]) {
    const MAX_ROUNDS: usize = 8;
    let dir = crate::support::scratch_dir("durable", group);
    let binary = build_trainer(spec, &dir.join("project"));
    let reference = train(&binary, &dir, "reference", &[])
        .output()
        .expect("run");
    assert!(
        reference.status.success(),
        "{}",
        String::from_utf8_lossy(&reference.stderr)
    );

    let mut delays = Delays(0x9e37_79b9_7f4a_7c15);
    let mut limit_ms: u64 = 40;
    let mut total = Tally::default();
    let started = Instant::now();
    let mut rounds = 0;
    while total.kills < KILLS {
        assert!(
            rounds < MAX_ROUNDS,
            "{spec}: only {} kills in {MAX_ROUNDS} rounds",
            total.kills
        );
        rounds += 1;
        let round = killed_round(
            &binary,
            &dir,
            flags,
            &mut delays,
            &mut limit_ms,
            KILLS - total.kills,
        );
        assert!(
            round.resumes > 0,
            "{spec}: no kill came after a save in round {rounds}: nothing was resumed"
        );
        check_same_as_reference(spec, &dir);
        total.kills += round.kills;
        total.kills_in_save += round.kills_in_save;
        total.resumes += round.resumes;
    }
    println!(
        "{spec}: {} kills ({} during a save), {} resumes, {rounds} round(s), {:.1} s",
        total.kills,
        total.kills_in_save,
        total.resumes,
        started.elapsed().as_secs_f64()
    );
}

/// One killed run from nothing: at most `kills_wanted` kills, resuming after each, then the
/// run to its end. Leaves the finished run's files as `killed.*` in `dir`.
fn killed_round(
    binary: &Path,
    dir: &Path,
    flags: &[&str],
    delays: &mut Delays,
    limit_ms: &mut u64,
    kills_wanted: usize,
) -> Tally {
    for stale in ["killed.state", "killed.safetensors"] {
        let _ = std::fs::remove_file(dir.join(stale));
    }
    for jsonl in files_with_extension(dir, "jsonl") {
        if jsonl
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("killed"))
        {
            std::fs::remove_file(&jsonl).expect("remove the last round's metrics");
        }
    }
    let state = dir.join("killed.state");
    let state_arg = state.to_string_lossy().into_owned();
    let mut tally = Tally::default();
    loop {
        let mut extra: Vec<&str> = flags.to_vec();
        if state.is_file() {
            tally.resumes += 1;
            extra.extend(["--resume", state_arg.as_str()]);
        }
        let mut child = train(binary, dir, "killed", &extra)
            .spawn()
            .expect("start the trainer");
        if tally.kills < kills_wanted {
            let before = saved(&state);
            std::thread::sleep(Duration::from_millis(delays.next_ms(1..(*limit_ms).max(2))));
            if child.try_wait().expect("poll").is_none() {
                child.kill().expect("SIGKILL");
                child.wait().expect("reap");
                tally.kills += 1;
                *limit_ms = if saved(&state) == before {
                    (*limit_ms * 5 / 4 + 1).min(20_000)
                } else {
                    (*limit_ms / 2).max(10)
                };
                // A temporary left behind is a save the kill interrupted.
                tally.kills_in_save += usize::from(!files_with_extension(dir, "tmp").is_empty());
                continue;
            }
        }
        let finished = child.wait_with_output().expect("the run ends");
        assert!(
            finished.status.success(),
            "after {} kills: {}",
            tally.kills,
            String::from_utf8_lossy(&finished.stderr)
        );
        return tally;
    }
}

/// The finished killed run ended with the reference's weights and metrics, and left no
/// temporaries behind.
fn check_same_as_reference(spec: &str, dir: &Path) {
    let weights = |name: &str| std::fs::read(dir.join(format!("{name}.safetensors"))).unwrap();
    assert!(
        weights("killed") == weights("reference"),
        "{spec}: the resumed run's weights differ from the uninterrupted run's"
    );
    assert_eq!(metrics_of(dir, "killed"), metrics_of(dir, "reference"));
    let left = files_with_extension(dir, "tmp");
    assert!(
        left.is_empty(),
        "resuming removes what killed saves left: {left:?}"
    );
}

/// The files in `dir` whose name ends in `.ext`.
fn files_with_extension(dir: &Path, ext: &str) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .expect("scratch dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect()
}

/// Minibatch Adam + dropout + augmentation + a cosine schedule + early stopping with
/// `restore_best` + grad-norm monitoring, saving every 40 steps (the spec's `save_every`).
#[test]
fn a_killed_minibatch_run_resumes_bit_identical() {
    kill_and_resume("../specs/durable.net", "minibatch", &[]);
}

/// A random search resumes at trial granularity: the same trials, winner and weights.
#[test]
fn a_killed_search_resumes_bit_identical() {
    kill_and_resume("../specs/durable_search.net", "search", &[]);
}

/// Bagging resumes at member granularity: the same members and ensemble file.
#[test]
fn a_killed_bagging_run_resumes_bit_identical() {
    kill_and_resume(
        "../specs/bagging.net",
        "bagging",
        &["--save-every", "1", "epochs"],
    );
}

/// Full-batch L-BFGS resumes at iteration granularity (the point in f64, the evaluation count,
/// the correction pairs), saving after every iteration.
#[test]
fn a_killed_lbfgs_run_resumes_bit_identical() {
    kill_and_resume(
        "../specs/opt_lbfgs.net",
        "lbfgs",
        &["--save-every", "1", "epochs"],
    );
}

/// Damped Newton resumes at iteration granularity (its `save_every 1 epochs` is one iteration).
#[test]
fn a_killed_newton_run_resumes_bit_identical() {
    kill_and_resume("../specs/durable_newton.net", "newton", &[]);
}

#[test]
fn a_sigint_saves_the_state_and_a_resume_is_refused_with_other_settings() {
    let dir = crate::support::scratch_dir("durable", "sigint");
    let binary = build_trainer("../specs/durable.net", &dir.join("project"));
    let state = dir.join("run.state");
    // Started with no --save-every: the signal alone writes the state.
    let child = train(&binary, &dir, "run", &[]).spawn().expect("start");
    std::thread::sleep(Duration::from_millis(150));
    let pid = child.id().to_string();
    let interrupted = Command::new("kill").args(["-INT", &pid]).status();
    assert!(interrupted.is_ok_and(|s| s.success()));
    let output = child.wait_with_output().expect("the run ends");
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.success() {
        // The run finished before the signal: nothing to resume (a very fast machine).
        return;
    }
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("interrupted by SIGINT: the run state was saved to"),
        "{stderr}"
    );
    assert!(state.is_file());

    let state_arg = state.to_string_lossy().into_owned();
    let other_seed = train(
        &binary,
        &dir,
        "run",
        &["--seed", "6", "--resume", &state_arg],
    )
    .output()
    .expect("run");
    assert_eq!(other_seed.status.code(), Some(1));
    let message = String::from_utf8_lossy(&other_seed.stderr);
    assert!(
        message.contains("the run was saved with seed 5") && message.contains("seed 6"),
        "{message}"
    );
    let other_rate = train(
        &binary,
        &dir,
        "run",
        &["--set", "learning_rate=0.1", "--resume", &state_arg],
    )
    .output()
    .expect("run");
    let message = String::from_utf8_lossy(&other_rate.stderr);
    assert!(
        message.contains("hyperparameter `learning_rate` was 0.003"),
        "{message}"
    );
    let missing = train(
        &binary,
        &dir,
        "run",
        &["--resume", &dir.join("missing").to_string_lossy()],
    )
    .output()
    .expect("run");
    assert_eq!(missing.status.code(), Some(1));
    let resumed = train(&binary, &dir, "run", &["--resume", &state_arg])
        .output()
        .expect("run");
    assert!(
        resumed.status.success(),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
}
