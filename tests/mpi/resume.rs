//! A job stopped by a signal (`kill -TERM` of mpirun, which passes it to every rank) and
//! resumed with `--resume` under mpirun ends with the ensemble an uninterrupted one-process run
//! trains, byte for byte.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

use crate::{
    alone, finish, mpirun, scratch_dir, succeeded, trainers, wait_with_timeout, without_timing,
    workspace_root,
};

const ROUNDS: usize = 8;

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

#[test]
fn a_stopped_job_resumes_to_the_ensemble_of_one_process() {
    let (standalone, mpi) = trainers("specs/bagging.net");
    let data = workspace_root();
    let common = [
        "train",
        "--quiet",
        "--epochs",
        "100",
        "--data-dir",
        data.to_str().unwrap(),
        "--checkpoint",
        "run.safetensors",
        "--metrics",
        "run.jsonl",
    ];
    let reference = scratch_dir("resume-reference");
    succeeded(&finish(alone(standalone, &common).current_dir(&reference)));

    let dir = scratch_dir("resume-stopped");
    let state = dir.join("run.state");
    let mut stopped = 0;
    let mut finished = false;
    for _ in 0..ROUNDS {
        let mut args: Vec<&str> = common.to_vec();
        args.extend(["--state", "run.state", "--save-every", "1", "epochs"]);
        if state.exists() {
            args.extend(["--resume", "run.state"]);
        }
        let saved_before = modified(&state);
        let mut job = mpirun(2, mpi, &args)
            .current_dir(&dir)
            .spawn()
            .expect("start mpirun");
        // Stop it once it has saved anew (a round of members finished), if it still runs.
        let started = Instant::now();
        while job.try_wait().expect("poll mpirun").is_none()
            && modified(&state) == saved_before
            && started.elapsed() < Duration::from_secs(60)
        {
            std::thread::sleep(Duration::from_millis(10));
        }
        if job.try_wait().expect("poll mpirun").is_none() {
            let _ = Command::new("kill")
                .args(["-TERM", &job.id().to_string()])
                .status();
        }
        let output = wait_with_timeout(job, Duration::from_secs(60));
        if output.status.success() {
            finished = true;
            break;
        }
        stopped += 1;
    }
    assert!(finished, "the job did not finish in {ROUNDS} rounds");
    assert!(
        stopped >= 1,
        "no round was stopped: the test tested nothing"
    );
    assert_eq!(
        std::fs::read(dir.join("run.safetensors")).unwrap(),
        std::fs::read(reference.join("run.safetensors")).unwrap(),
        "the resumed ensemble's weights (after {stopped} stops)"
    );
    for i in 1..=9 {
        let file = format!("run.member-{i}.jsonl");
        assert_eq!(
            without_timing(&dir.join(&file)),
            without_timing(&reference.join(&file)),
            "{file}"
        );
    }
}
