//! What goes wrong under MPI ends the job with a clear message instead of a hang: a rank that
//! dies stops the others within seconds, and commands that are not spread over ranks are
//! refused (told once, by rank 0).

use std::path::Path;
use std::time::{Duration, Instant};

use crate::{finish, mpirun, scratch_dir, trainers, wait_with_timeout, workspace_root};

/// The trainer processes `mpirun` started (its children, from /proc).
fn ranks_of(mpirun: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{mpirun}/task/{mpirun}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .map(|pid| pid.parse().expect("a pid"))
        .collect()
}

fn alive(pid: u32) -> bool {
    // A zombie has exited: it is only waiting for its parent.
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        !stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z')
    })
}

#[test]
fn a_rank_that_dies_stops_the_job_within_seconds() {
    let (_, mpi) = trainers("specs/bagging.net");
    let dir = scratch_dir("dying-rank");
    // Long members: the job is far from done when a rank is killed.
    let job = mpirun(
        2,
        mpi,
        &[
            "train",
            "--quiet",
            "--epochs",
            "5000",
            "--data-dir",
            workspace_root().to_str().unwrap(),
            "--checkpoint",
            dir.join("run.safetensors").to_str().unwrap(),
        ],
    )
    // The files a run writes by default (the members' metrics; the run state the survivor
    // saves when mpirun stops it) go to the scratch directory, not the source tree.
    .current_dir(&dir)
    .spawn()
    .expect("start mpirun");
    let started = Instant::now();
    let ranks = loop {
        let ranks = ranks_of(job.id());
        if ranks.len() == 2 {
            break ranks;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "mpirun did not start 2 ranks: {ranks:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    // Both ranks are past MPI's start and into training.
    std::thread::sleep(Duration::from_millis(1500));
    let (victim, survivor) = (ranks[1], ranks[0]);
    let killed = std::process::Command::new("kill")
        .args(["-KILL", &victim.to_string()])
        .status()
        .expect("run kill");
    assert!(killed.success());
    let killed_at = Instant::now();
    let output = wait_with_timeout(job, Duration::from_secs(60));
    let took = killed_at.elapsed();
    assert!(
        took < Duration::from_secs(10),
        "the job took {took:?} to stop"
    );
    assert!(!output.status.success(), "the job reported success");
    assert!(
        !alive(survivor),
        "rank {survivor} still runs after the job ended"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("signal 9"),
        "mpirun does not say a rank was killed:\n{stderr}"
    );
}

#[test]
fn commands_that_are_not_spread_over_ranks_are_refused_once() {
    let (_, mpi) = trainers("specs/mpi_search.net");
    let dir = scratch_dir("refused");
    for (args, what) in [
        (vec!["eval", "--weights", "missing.safetensors"], "`eval`"),
        (vec!["bench", "--seconds", "1"], "`bench`"),
    ] {
        let output = finish(mpirun(2, mpi, &args).current_dir(&dir));
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        let message = format!("this job has 2 MPI ranks; {what} runs in one process");
        assert_eq!(stderr.matches(&message).count(), 1, "{args:?}:\n{stderr}");
    }
    assert!(!Path::new(&dir.join("missing.safetensors")).exists());
}
