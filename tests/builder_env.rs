//! The environment variables a Builder test reads, each tried in a child
//! run of this test binary (the environment is the whole process's, so a
//! variable set here would reach every test running beside it).

mod own_strategies;

use own_strategies::check_then_decrement;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use stockrace::{Builder, Strategy};

/// Set in a child run: which child test is to do its work.
const CHILD: &str = "STOCKRACE_TEST_CHILD";
/// The seeds directory a child uses.
const DIR: &str = "STOCKRACE_TEST_DIR";

fn is_child(name: &str) -> bool {
    std::env::var(CHILD).as_deref() == Ok(name)
}

fn child_dir() -> PathBuf {
    PathBuf::from(std::env::var(DIR).expect("the parent sets it"))
}

/// Runs the child test `name` of this binary with `vars` set.
fn child(name: &str, vars: &[(&str, &str)], dir: &Path) -> Output {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([name, "--exact", "--nocapture", "--test-threads", "1"])
        .env(CHILD, name)
        .env(DIR, dir)
        .env_remove("STOCKRACE_SEEDS")
        .env_remove("STOCKRACE_SEED")
        .env_remove("STOCKRACE_REPLAY");
    for (key, value) in vars {
        command.env(key, value);
    }
    command.output().expect("run the test binary")
}

fn text(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr)
}

#[test]
fn child_sweep() {
    if !is_child("child_sweep") {
        return;
    }
    let report = Builder::new(Strategy::new("check-then-decrement", check_then_decrement))
        .seeds_dir(child_dir())
        .run();
    println!("runs: {}", report.sweep.tally.runs);
    report.assert_holds();
}

#[test]
fn child_default_dir() {
    if !is_child("child_default_dir") {
        return;
    }
    let report = Builder::builtin("guarded-decrement").seeds(1).run();
    println!("seeds dir: {}", report.seeds_dir().display());
}

#[test]
fn a_bad_seed_count_says_what_to_write() {
    let dir = tempfile::tempdir().unwrap();
    for (value, expected) in [
        ("1e6", "STOCKRACE_SEEDS=\"1e6\": not a whole number as written; write it out: 1000000"),
        ("lots", "STOCKRACE_SEEDS=\"lots\": not a whole number (a number of seeds, such as 1000 or 1_000_000)"),
    ] {
        let output = child("child_sweep", &[("STOCKRACE_SEEDS", value)], dir.path());
        assert!(!output.status.success());
        let text = text(&output);
        assert!(text.contains(expected), "{text}");
        // The panic points at the test's line, not into stockrace.
        assert!(text.contains("tests/builder_env.rs:"), "{text}");
    }
    let output = child("child_sweep", &[("STOCKRACE_SEED", "x1")], dir.path());
    assert!(
        text(&output).contains("STOCKRACE_SEED=\"x1\": not a whole number"),
        "{}",
        text(&output)
    );
    let output = child(
        "child_sweep",
        &[("STOCKRACE_SEEDS", "1_000"), ("STOCKRACE_SEED", "")],
        dir.path(),
    );
    assert!(
        text(&output).contains("runs: 1"),
        "stops at seed 0's failure: {}",
        text(&output)
    );
}

#[test]
fn one_seed_and_one_kept_file_run_alone_and_print_their_timeline() {
    let dir = tempfile::tempdir().unwrap();
    // Seed 3 alone: no sweep, the timeline printed, the failure kept.
    let output = child("child_sweep", &[("STOCKRACE_SEED", "3")], dir.path());
    let text3 = text(&output);
    assert!(!output.status.success(), "{text3}");
    assert!(
        text3.contains("STOCKRACE_SEED=3 is set: this test runs just that seed"),
        "{text3}"
    );
    assert!(text3.contains("runs: 1"), "{text3}");
    assert!(
        text3.contains("replay: check-then-decrement | postgres-15 | 2 orders | seed 3 | schedule"),
        "{text3}"
    );
    assert!(text3.contains("violated no-oversell at seed 3"), "{text3}");
    let kept: Vec<PathBuf> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(kept.len(), 1);
    // The kept file alone, as the message says.
    let file = kept[0].to_str().unwrap();
    assert!(
        text3.contains(&format!("STOCKRACE_REPLAY={file} cargo test child_sweep")),
        "{text3}"
    );
    let output = child("child_sweep", &[("STOCKRACE_REPLAY", file)], dir.path());
    let replayed = text(&output);
    assert!(!output.status.success(), "{replayed}");
    assert!(
        replayed.contains("STOCKRACE_REPLAY is set: this test replays just that file"),
        "{replayed}"
    );
    assert!(
        replayed.contains("(kept by test child_sweep)"),
        "{replayed}"
    );
    assert!(replayed.contains("expectation: met"), "{replayed}");
    assert!(replayed.contains("runs: 0"), "{replayed}");
    assert!(
        replayed.contains("still violates no-oversell"),
        "{replayed}"
    );
    // Both at once is a mistake.
    let output = child(
        "child_sweep",
        &[("STOCKRACE_REPLAY", file), ("STOCKRACE_SEED", "1")],
        dir.path(),
    );
    assert!(
        text(&output).contains("are both set: set one"),
        "{}",
        text(&output)
    );
    // A file that is not there.
    let output = child(
        "child_sweep",
        &[("STOCKRACE_REPLAY", "seeds/nope.toml")],
        dir.path(),
    );
    assert!(
        text(&output).contains("nope.toml: cannot read"),
        "{}",
        text(&output)
    );
}

/// Run directly (no cargo, so no CARGO_MANIFEST_DIR) from another
/// directory, the default seeds dir is still this crate's.
#[test]
fn the_crate_is_found_when_the_binary_runs_elsewhere() {
    let elsewhere = tempfile::tempdir().unwrap();
    let mut command = Command::new(std::env::current_exe().unwrap());
    let output = command
        .args(["child_default_dir", "--exact", "--nocapture"])
        .env(CHILD, "child_default_dir")
        .env(DIR, elsewhere.path())
        .env_remove("CARGO_MANIFEST_DIR")
        .env_remove("STOCKRACE_SEED")
        .env_remove("STOCKRACE_REPLAY")
        .current_dir(elsewhere.path())
        .output()
        .unwrap();
    let text = text(&output);
    assert!(output.status.success(), "{text}");
    let expected = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
    assert!(
        text.contains(&format!("seeds dir: {}", expected.display())),
        "{text}"
    );
    assert!(!elsewhere.path().join("seeds").exists());
}
