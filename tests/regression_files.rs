//! Regression files are written atomically, never over another file, safely
//! from many threads; bad files are reported with their path, line and reason.

mod command;

use std::fs;
use std::sync::{Arc, Barrier};
use stockrace::regression::{load_dir, Regression};
use stockrace::{sweep, Isolation, Scenario, Simulation, Strategies};

/// Eight distinct failing regressions (different stock levels).
fn regressions() -> Vec<Regression> {
    (1..=8)
        .map(|stock| {
            let simulation = Simulation::new(
                Scenario::single("plain-update", 2, stock, 1, Isolation::ReadCommitted),
                &Strategies::builtin(),
            )
            .unwrap();
            let report = sweep(&simulation, 0..200, true);
            let failure = report.first_failure.expect("plain-update fails");
            Regression::from_execution(&simulation, &failure)
        })
        .collect()
}

#[test]
fn eight_threads_saving_at_once_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let all = regressions();
    let barrier = Arc::new(Barrier::new(16));
    let mut threads = Vec::new();
    // Each regression is saved by two threads at once: 8 distinct files, each
    // raced for by two writers.
    for i in 0..16 {
        let regression = all[i % 8].clone();
        let barrier = barrier.clone();
        let path = dir.path().to_path_buf();
        threads.push(std::thread::spawn(move || {
            barrier.wait();
            regression.save(&path).expect("save")
        }));
    }
    let saved: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(
        saved.iter().filter(|s| s.new).count(),
        8,
        "each file written exactly once: {saved:?}"
    );

    let names: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(
        names.len(),
        8,
        "no temporary files left behind, nothing lost: {names:?}"
    );
    let loaded = load_dir(dir.path()).unwrap();
    for regression in &all {
        assert!(
            loaded.iter().any(|(_, r)| r == regression),
            "lost {}",
            regression.file_name()
        );
    }
}

#[test]
fn saving_never_overwrites_a_different_file() {
    let dir = tempfile::tempdir().unwrap();
    let regression = regressions().remove(0);
    let path = dir.path().join(regression.file_name());
    fs::write(&path, "# a file someone edited by hand\n").unwrap();
    let error = regression.save(dir.path()).expect_err("must not overwrite");
    assert!(error.to_string().contains("not overwriting"), "{error}");
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        "# a file someone edited by hand\n"
    );
    assert_eq!(
        fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temporary file left"
    );
}

#[test]
fn a_saved_file_reads_back_identical() {
    let dir = tempfile::tempdir().unwrap();
    let regression = regressions().remove(3);
    let saved = regression.save(dir.path()).unwrap();
    assert!(saved.new);
    assert_eq!(Regression::load(&saved.path).unwrap(), regression);
    // Saving it again finds the same file.
    let again = regression.save(dir.path()).unwrap();
    assert_eq!(again.path, saved.path);
    assert!(!again.new);
}

#[test]
fn a_malformed_file_names_the_file_the_line_and_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let good = regressions().remove(0).to_toml();

    let cases = [
        (
            good.replace("expect = \"violates\"", "expect = \"maybe\""),
            4,
            "unknown variant",
        ),
        (
            good.replace("schedule = [", "schedule = [-1, "),
            7,
            "invalid value",
        ),
        (
            good.replace("quantity = 1", "quantity = \"one\""),
            0,
            "invalid type",
        ),
        (
            good.replace(
                "strategy = \"plain-update\"\n",
                "strategy = \"plain-update\"\ncolour = \"red\"\n",
            ),
            4,
            "unknown field",
        ),
        (
            "strategy = \n".to_string(),
            1,
            "string values must be quoted",
        ),
    ];
    for (i, (text, line, reason)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("bad-{i}.toml"));
        fs::write(&path, text).unwrap();
        let error = Regression::load(&path).expect_err("malformed");
        let message = error.to_string();
        assert!(
            message.starts_with(&path.display().to_string()),
            "{message}"
        );
        assert!(message.contains(reason), "case {i}: {message}");
        if *line > 0 {
            assert_eq!(error.line, Some(*line), "case {i}: {message}");
        } else {
            assert!(error.line.is_some(), "case {i}: {message}");
        }
    }
}

/// A fixed path keeps its schedules as `expect = "holds"`: the replay must
/// hold, and a violation would fail the check.
#[test]
fn a_holds_regression_checks_that_the_fix_keeps_holding() {
    let fixed = Simulation::new(
        Scenario::single("row-lock", 2, 1, 1, Isolation::ReadCommitted),
        &Strategies::builtin(),
    )
    .unwrap();
    let execution = fixed.run_seed(3);
    let regression = Regression::from_execution(&fixed, &execution);
    assert_eq!(regression.expect, stockrace::Expect::Holds);
    assert_eq!(regression.invariant, None);
    assert!(regression
        .check(&fixed.replay(&regression.schedule, None))
        .is_ok());

    // The same expectation against the broken path fails the check.
    let broken = Simulation::new(
        Scenario::single("plain-update", 2, 1, 1, Isolation::ReadCommitted),
        &Strategies::builtin(),
    )
    .unwrap();
    let failing = sweep(&broken, 0..50, true).first_failure.unwrap();
    let why = regression.check(&failing).unwrap_err();
    assert!(
        why.contains("expected every invariant to hold, but no-oversell broke"),
        "{why}"
    );
}

#[test]
fn a_file_of_a_newer_schedule_format_is_refused_and_one_without_a_format_is_format_1() {
    let dir = tempfile::tempdir().unwrap();
    let kept = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds/plain-update-1efda382.toml"),
    )
    .unwrap();
    assert!(
        kept.contains("\nformat = 1\n"),
        "kept files say their format:\n{kept}"
    );
    let newer = dir.path().join("newer.toml");
    std::fs::write(&newer, kept.replace("format = 1", "format = 99")).unwrap();
    let error = Regression::load(&newer).unwrap_err();
    assert!(error.reason.contains("newer stockrace"), "{error}");
    assert!(error.reason.contains("format 99"), "{error}");
    let output = command::stockrace(&["replay", newer.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        command::stderr(&output).contains("newer stockrace"),
        "{}",
        command::stderr(&output)
    );

    let unversioned = dir.path().join("old.toml");
    std::fs::write(&unversioned, kept.replace("format = 1\n", "")).unwrap();
    assert_eq!(Regression::load(&unversioned).unwrap().format, 1);
}
