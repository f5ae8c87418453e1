//! Data-parallel training: `mpirun -n N <trainer> train` of a spec without search or ensemble
//! splits every step's batch over the ranks and sums their gradients in rank order. Against one
//! process with the same global batch, only that order differs: f64 weights after 100 steps
//! within 1e-12 (relative, tensor by tensor), f32 within 1e-4, MNIST test accuracy within 0.15
//! points; batch norm normalizes by the whole batch's statistics (synchronized); the same N
//! twice gives the same bytes; L-BFGS spreads its chunks the same way; a
//! stopped job resumes under mpirun to the uninterrupted job's weights.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

use safetensors::SafeTensors;
use safetensors::tensor::Dtype;

use crate::{
    alone, finish, mpirun, scratch_dir, succeeded, trainers, wait_with_timeout, workspace_root,
};

/// Every tensor of a checkpoint as f64 values, by name (sorted).
fn tensors(path: &Path) -> Vec<(String, Vec<f64>)> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let file = SafeTensors::deserialize(&bytes).expect("a safetensors checkpoint");
    let mut all: Vec<(String, Vec<f64>)> = file
        .tensors()
        .into_iter()
        .map(|(name, view)| {
            let data = view.data();
            let values = match view.dtype() {
                Dtype::F64 => data
                    .chunks_exact(8)
                    .map(|b| f64::from_le_bytes(b.try_into().unwrap()))
                    .collect(),
                Dtype::F32 => data
                    .chunks_exact(4)
                    .map(|b| f64::from(f32::from_le_bytes(b.try_into().unwrap())))
                    .collect(),
                other => panic!("{name}: unexpected dtype {other:?}"),
            };
            (name, values)
        })
        .collect();
    all.sort_by(|a, b| a.0.cmp(&b.0));
    all
}

/// max |a − b| / max |b| of each tensor; the worst tensor's, with its name.
fn worst_relative(a: &Path, b: &Path) -> (f64, String) {
    let (a, b) = (tensors(a), tensors(b));
    assert_eq!(a.len(), b.len(), "the checkpoints hold different tensors");
    a.iter()
        .zip(&b)
        .map(|((name, a), (other, b))| {
            assert_eq!(name, other);
            let scale = b
                .iter()
                .fold(0.0f64, |m, v| m.max(v.abs()))
                .max(f64::MIN_POSITIVE);
            let diff = a
                .iter()
                .zip(b)
                .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()));
            (diff / scale, name.clone())
        })
        .fold((0.0, String::new()), |worst, this| {
            if this.0 > worst.0 { this } else { worst }
        })
}

/// `train` with `extra` flags, writing `run.safetensors` in `dir`: in one process
/// (`ranks` = 0) or under `mpirun -n ranks`. What rank 0 printed.
fn train(spec: &'static str, ranks: usize, dir: &Path, extra: &[&str]) -> String {
    let (standalone, mpi) = trainers(spec);
    let data = workspace_root();
    let mut args = vec![
        "train",
        "--data-dir",
        data.to_str().unwrap(),
        "--checkpoint",
        "run.safetensors",
    ];
    args.extend(extra);
    let mut command = match ranks {
        0 => alone(standalone, &args),
        n => mpirun(n, mpi, &args),
    };
    succeeded(&finish(command.current_dir(dir)))
}

/// One process, then 2 and 3 ranks, 100 steps each; the worst relative difference per N.
fn hundred_steps(spec: &'static str, name: &str) -> Vec<(usize, f64, String)> {
    let steps = ["--max-steps", "100", "--quiet"];
    let one = scratch_dir(&format!("{name}-alone"));
    train(spec, 0, &one, &steps);
    [2, 3]
        .into_iter()
        .map(|ranks| {
            let dir = scratch_dir(&format!("{name}-{ranks}"));
            train(spec, ranks, &dir, &steps);
            let (worst, tensor) =
                worst_relative(&dir.join("run.safetensors"), &one.join("run.safetensors"));
            (ranks, worst, tensor)
        })
        .collect()
}

/// [`hundred_steps`] of `spec`: every N within `bound` of one process, and not bit-identical
/// (otherwise every rank trained the whole model alone).
fn within_of_one_process(spec: &'static str, name: &str, what: &str, bound: f64) {
    for (ranks, worst, tensor) in hundred_steps(spec, name) {
        eprintln!("{what}, {ranks} ranks: worst relative difference {worst:.3e} ({tensor})");
        assert!(
            worst <= bound,
            "{ranks} ranks: {tensor} is {worst:e} from one process"
        );
        assert!(
            worst > 0.0,
            "{ranks} ranks: bit-identical — was the batch split?"
        );
    }
}

#[test]
fn f64_weights_after_100_steps_are_one_process_up_to_the_order_of_sums() {
    within_of_one_process("specs/mpi_data_parallel.net", "dp64", "f64", 1e-12);
}

#[test]
fn batch_norm_is_synchronized_over_the_ranks() {
    within_of_one_process(
        "specs/mpi_data_parallel_bn.net",
        "dpbn",
        "batch norm",
        1e-12,
    );
}

#[test]
fn f32_weights_after_100_steps_are_within_1e_4_of_one_process() {
    within_of_one_process("specs/mpi_data_parallel_f32.net", "dp32", "f32", 1e-4);
}

#[test]
fn the_same_number_of_ranks_twice_gives_the_same_bytes() {
    let runs: Vec<Vec<u8>> = (0..2)
        .map(|i| {
            let dir = scratch_dir(&format!("dp-twice-{i}"));
            train(
                "specs/mpi_data_parallel.net",
                3,
                &dir,
                &["--epochs", "1", "--quiet"],
            );
            std::fs::read(dir.join("run.safetensors")).unwrap()
        })
        .collect();
    assert!(
        runs[0] == runs[1],
        "two 3-rank runs wrote different weights"
    );
}

#[test]
fn lbfgs_spreads_its_chunks_over_the_ranks() {
    // 30 iterations of 40 chunks of 256 samples: rank r computes chunks r, r + N, ….
    let iterations = ["--epochs", "30", "--quiet"];
    let one = scratch_dir("lbfgs-alone");
    train("specs/opt_lbfgs.net", 0, &one, &iterations);
    for ranks in [2, 3] {
        let dir = scratch_dir(&format!("lbfgs-{ranks}"));
        train("specs/opt_lbfgs.net", ranks, &dir, &iterations);
        let (worst, tensor) =
            worst_relative(&dir.join("run.safetensors"), &one.join("run.safetensors"));
        eprintln!("L-BFGS, {ranks} ranks: worst relative difference {worst:.3e} ({tensor})");
        assert!(
            worst <= 1e-12,
            "{ranks} ranks: {tensor} is {worst:e} from one process"
        );
        assert!(
            worst > 0.0,
            "{ranks} ranks: bit-identical — were the chunks spread?"
        );
    }
}

/// The test accuracy a run printed (`test accuracy 97.53% (loss …)`), in percent.
fn test_accuracy(printed: &str) -> f64 {
    let line = printed
        .lines()
        .find(|l| l.starts_with("test accuracy "))
        .unwrap_or_else(|| panic!("no test accuracy in:\n{printed}"));
    line["test accuracy ".len()..]
        .split('%')
        .next()
        .unwrap()
        .parse()
        .expect("a percentage")
}

#[test]
fn mnist_test_accuracy_on_two_ranks_is_within_0_15_points_of_one_process() {
    let epochs = ["--epochs", "2"];
    let one = test_accuracy(&train(
        "specs/mnist_ref.net",
        0,
        &scratch_dir("ref-alone"),
        &epochs,
    ));
    let two = test_accuracy(&train(
        "specs/mnist_ref.net",
        2,
        &scratch_dir("ref-2"),
        &epochs,
    ));
    eprintln!("mnist_ref, 2 epochs: one process {one:.2}%, 2 ranks {two:.2}%");
    assert!(
        (one - two).abs() <= 0.15,
        "one process {one}%, 2 ranks {two}%"
    );
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

#[test]
fn a_stopped_data_parallel_job_resumes_to_the_uninterrupted_weights() {
    let reference = scratch_dir("dp-resume-reference");
    train(
        "specs/mpi_data_parallel.net",
        2,
        &reference,
        &["--epochs", "6", "--quiet"],
    );

    let (_, mpi) = trainers("specs/mpi_data_parallel.net");
    let dir = scratch_dir("dp-resume-stopped");
    let state = dir.join("run.state");
    let data = workspace_root();
    let (mut stopped, mut finished) = (0, false);
    for _ in 0..12 {
        let mut args = vec![
            "train",
            "--quiet",
            "--epochs",
            "6",
            "--data-dir",
            data.to_str().unwrap(),
            "--checkpoint",
            "run.safetensors",
            "--state",
            "run.state",
            "--save-every",
            "100",
            "steps",
        ];
        if state.exists() {
            args.extend(["--resume", "run.state"]);
        }
        let saved_before = modified(&state);
        let mut job = mpirun(2, mpi, &args)
            .current_dir(&dir)
            .spawn()
            .expect("start mpirun");
        // Stop it once it has saved anew, if it still runs: mid-epoch, between two saves.
        let started = Instant::now();
        while job.try_wait().expect("poll mpirun").is_none()
            && modified(&state) == saved_before
            && started.elapsed() < Duration::from_secs(60)
        {
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(30));
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
    assert!(finished, "the job did not finish in 12 rounds");
    assert!(
        stopped >= 1,
        "no round was stopped: the test tested nothing"
    );
    eprintln!("data-parallel resume: {stopped} stops");
    assert!(
        std::fs::read(dir.join("run.safetensors")).unwrap()
            == std::fs::read(reference.join("run.safetensors")).unwrap(),
        "the resumed job's weights differ from the uninterrupted job's (after {stopped} stops)"
    );
}
