//! Unit tests of the argument parser and the trainer project's files.

mod args {
    use std::ffi::OsString;
    use std::path::PathBuf;

    use clap::Parser as _;

    use crate::args::*;

    fn train_args(argv: &[&str]) -> (Option<PathBuf>, Vec<OsString>) {
        let cli = Cli::try_parse_from(argv).expect("parses");
        match cli.command {
            Command::Train { project, flags, .. } => (project, flags),
            other => panic!("not train: {other:?}"),
        }
    }

    #[test]
    fn train_flags_pass_through_with_or_without_double_dash() {
        let expected: Vec<OsString> = vec!["--epochs".into(), "3".into(), "--quiet".into()];
        let (_, flags) = train_args(&["netc", "train", "x.net", "--", "--epochs", "3", "--quiet"]);
        assert_eq!(flags, expected);
        let (_, flags) = train_args(&["netc", "train", "x.net", "--epochs", "3", "--quiet"]);
        assert_eq!(flags, expected);
    }

    #[test]
    fn train_own_options_come_before_the_trainer_flags() {
        let (project, flags) = train_args(&[
            "netc",
            "train",
            "x.net",
            "--project",
            "p",
            "--",
            "--seed",
            "7",
        ]);
        assert_eq!(project, Some(PathBuf::from("p")));
        assert_eq!(flags, vec![OsString::from("--seed"), OsString::from("7")]);
        let (project, flags) =
            train_args(&["netc", "train", "--project", "p", "x.net", "--seed", "7"]);
        assert_eq!(project, Some(PathBuf::from("p")));
        assert_eq!(flags, vec![OsString::from("--seed"), OsString::from("7")]);
    }

    #[test]
    fn color_is_global_and_defaults_to_auto() {
        let cli =
            Cli::try_parse_from(["netc", "check", "a.net", "--color", "never"]).expect("parses");
        assert_eq!(cli.color, ColorChoice::Never);
        let cli = Cli::try_parse_from(["netc", "check", "a.net"]).expect("parses");
        assert_eq!(cli.color, ColorChoice::Auto);
    }
}

mod trainer_project {
    use std::path::Path;

    use crate::trainer_project::*;

    #[test]
    fn toml_string_escapes_quotes_and_backslashes() {
        assert_eq!(toml_string(r#"C:\a "b""#), r#""C:\\a \"b\"""#);
        assert_eq!(toml_string("tab\there"), r#""tab\u0009here""#);
    }

    #[test]
    fn manifest_names_package_bin_and_dependency() {
        let toml = cargo_toml(
            "xor",
            "specs/xor.net",
            Path::new("/src/netc/crates/netc"),
            TrainerKind::Standalone,
        );
        assert!(toml.contains("name = \"xor-trainer\""), "{toml}");
        assert!(toml.contains("[[bin]]\nname = \"xor\"\n"), "{toml}");
        assert!(
            toml.contains("netc = { path = \"/src/netc/crates/netc\", default-features = false }")
        );
        assert!(toml.contains("\n[workspace]\n"), "{toml}");
        assert!(
            toml.contains("[profile.release]\nopt-level = 3\n"),
            "{toml}"
        );
    }

    #[test]
    fn an_mpi_trainer_is_its_own_package_and_binary_with_the_feature() {
        let netc = Path::new("/src/netc/crates/netc");
        let toml = cargo_toml(
            &TrainerKind::Mpi.binary_name("xor"),
            "specs/xor.net",
            netc,
            TrainerKind::Mpi,
        );
        assert!(toml.contains("name = \"xor-mpi-trainer\""), "{toml}");
        assert!(toml.contains("[[bin]]\nname = \"xor-mpi\"\n"), "{toml}");
        assert!(
            toml.contains(
                "netc = { path = \"/src/netc/crates/netc\", default-features = false, features = [\"mpi\"] }"
            ),
            "{toml}"
        );
    }

    #[test]
    fn write_if_changed_keeps_identical_files() {
        let dir = std::env::temp_dir().join(format!("netc-cli-write-{}", std::process::id()));
        let file = dir.join("sub").join("f.txt");
        assert!(write_if_changed(&file, "one").unwrap());
        assert!(!write_if_changed(&file, "one").unwrap());
        assert!(write_if_changed(&file, "two").unwrap());
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "two");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

mod trainer_project_files {
    use std::path::PathBuf;

    use crate::trainer_project::{TrainerKind, TrainerProject};

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("netc-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn writes_manifest_main_and_seeded_lock_then_nothing_when_unchanged() {
        let dir = scratch("project");
        let seed = dir.join("seed.lock");
        std::fs::write(&seed, "# seed\n").unwrap();
        let project = TrainerProject::new(
            dir.join("p"),
            "xor",
            "specs/xor.net",
            "fn main() {}\n".to_string(),
            &dir,
            Some(seed.clone()),
            TrainerKind::Standalone,
        );
        assert_eq!(project.write().unwrap(), 3);
        assert_eq!(
            std::fs::read_to_string(dir.join("p/src/main.rs")).unwrap(),
            "fn main() {}\n"
        );
        assert_eq!(
            std::fs::read_to_string(dir.join("p/Cargo.lock")).unwrap(),
            "# seed\n"
        );
        assert_eq!(
            std::fs::read_to_string(project.manifest_path()).unwrap(),
            project.cargo_toml
        );

        // cargo rewrites the lock (newer than the seed): it is left alone from then on.
        std::fs::write(dir.join("p/Cargo.lock"), "# pruned by cargo\n").unwrap();
        assert_eq!(project.write().unwrap(), 0);
        assert_eq!(
            std::fs::read_to_string(dir.join("p/Cargo.lock")).unwrap(),
            "# pruned by cargo\n"
        );

        let changed = TrainerProject {
            main_rs: "fn main() { }\n".to_string(),
            ..project.clone()
        };
        assert_eq!(changed.write().unwrap(), 1, "only main.rs changed");
        assert_eq!(
            project.binary_path(std::path::Path::new("t")),
            PathBuf::from(format!("t/release/xor{}", std::env::consts::EXE_SUFFIX))
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
