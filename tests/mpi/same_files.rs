//! Spread over 1, 2 or 3 ranks, a search and bagging write the files one process writes: the
//! same trial table, winner, weights and metrics (apart from the measured samples/s).

use std::collections::BTreeMap;
use std::path::Path;

use crate::{
    alone, finish, mpirun, scratch_dir, succeeded, trainers, without_timing, workspace_root,
};

/// Every file a run left in `dir`, by name: metrics without their timing field, others as
/// bytes.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .expect("read the run's directory")
        .map(|entry| {
            let path = entry.expect("directory entry").path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let content = if name.ends_with(".jsonl") {
                without_timing(&path).join("\n").into_bytes()
            } else {
                std::fs::read(&path).expect("read a run's file")
            };
            (name, content)
        })
        .collect()
}

/// `train` of `spec` in one process and at 1, 2, 3 ranks, each in its own directory with the
/// same relative file names; the files must be the same, and with `same_printed` what rank 0
/// printed too (a search's trial table; bagging members spread over ranks train quietly).
fn same_on_any_number_of_ranks(spec: &'static str, expected_files: &[&str], same_printed: bool) {
    let (standalone, mpi) = trainers(spec);
    let name = Path::new(spec).file_stem().unwrap().to_string_lossy();
    let data = workspace_root();
    let args = [
        "train",
        "--data-dir",
        data.to_str().unwrap(),
        "--checkpoint",
        "run.safetensors",
        "--metrics",
        "run.jsonl",
    ];
    let one = scratch_dir(&format!("{name}-one-process"));
    let reference = succeeded(&finish(alone(standalone, &args).current_dir(&one)));
    let reference_files = files(&one);
    let names: Vec<&str> = reference_files.keys().map(String::as_str).collect();
    assert_eq!(names, expected_files, "the one-process run's files");
    for ranks in 1..=3 {
        let dir = scratch_dir(&format!("{name}-{ranks}-ranks"));
        let printed = succeeded(&finish(mpirun(ranks, mpi, &args).current_dir(&dir)));
        if same_printed {
            assert_eq!(printed, reference, "what {ranks} ranks printed");
        } else {
            let last = |text: &str| text.lines().last().map(str::to_string);
            assert_eq!(
                last(&printed),
                last(&reference),
                "the last line at {ranks} ranks"
            );
        }
        let written = files(&dir);
        assert_eq!(
            written.keys().collect::<Vec<_>>(),
            reference_files.keys().collect::<Vec<_>>(),
            "the files {ranks} ranks wrote"
        );
        for (file, content) in &written {
            assert!(
                *content == reference_files[file],
                "{file} differs at {ranks} ranks from one process's"
            );
        }
    }
}

#[test]
fn a_search_gives_one_process_files_on_1_2_and_3_ranks() {
    same_on_any_number_of_ranks(
        "specs/mpi_search.net",
        &["run.jsonl", "run.safetensors"],
        true,
    );
}

#[test]
fn bagging_gives_one_process_files_on_1_2_and_3_ranks() {
    let mut expected = vec!["run.jsonl".to_string()];
    expected.extend((1..=9).map(|i| format!("run.member-{i}.jsonl")));
    expected.push("run.safetensors".into());
    let expected: Vec<&str> = expected.iter().map(String::as_str).collect();
    same_on_any_number_of_ranks("specs/bagging.net", &expected, false);
}
