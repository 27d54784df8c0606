//! The command line: output, JSON, exit status (0 held, 1 violated, 2 bad input).

mod command;
use command::{stderr, stdout, stockrace};

use serde_json::Value;
use std::fs;
use std::path::Path;
use std::process::{Command, Output};

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(output)))
}

#[test]
fn sweep_finds_the_oversell_and_says_how_to_replay_it() {
    let output = stockrace(&["sweep", "--strategy", "plain-update", "--seeds", "20"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.contains("seeds 0..20: 20 runs"), "{text}");
    assert!(text.contains("no-oversell:"), "{text}");
    let replay = text
        .lines()
        .find_map(|l| l.strip_prefix("replay: stockrace "))
        .expect("a replay command");
    // The printed command reproduces the failure.
    let args: Vec<&str> = replay.split_whitespace().collect();
    let again = stockrace(&args);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stdout(&again).contains("verdict: VIOLATED no-oversell"),
        "{}",
        stdout(&again)
    );
}

#[test]
fn sweep_json_has_the_documented_fields() {
    let output = stockrace(&[
        "sweep",
        "--strategy",
        "plain-update",
        "--stock",
        "10",
        "--qty",
        "3",
        "--seeds",
        "50",
        "--json",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let v = json(&output);
    assert_eq!(v["strategy"], "plain-update");
    assert_eq!(v["seeds"], 50);
    let violations = v["violations"].as_u64().unwrap();
    assert!(violations > 0);
    assert_eq!(v["by_invariant"]["conservation"].as_u64(), Some(violations));
    assert!(v["by_invariant"].get("no-oversell").is_none());
    let first = &v["first_failure"];
    assert_eq!(first["invariant"], "conservation");
    assert!(first["seed"].is_u64());
    assert!(first["schedule"].is_array());
}

#[test]
fn a_safe_strategy_exits_0_with_a_null_first_failure() {
    let output = stockrace(&[
        "sweep",
        "--strategy",
        "row-lock",
        "--orders",
        "4",
        "--seeds",
        "100",
        "--json",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    let v = json(&output);
    assert_eq!(v["violations"], 0);
    assert!(v["first_failure"].is_null());
    assert_eq!(v["by_invariant"], serde_json::json!({}));
}

#[test]
fn replay_json_has_the_documented_fields() {
    let output = stockrace(&[
        "replay",
        "--strategy",
        "plain-update",
        "--seed",
        "0",
        "--json",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let v = json(&output);
    assert_eq!(v["seed"], 0);
    assert!(v["schedule"].is_array());
    assert_eq!(v["verdict"]["holds"], false);
    assert_eq!(v["verdict"]["invariant"], "no-oversell");
    let trace = v["trace"].as_array().unwrap();
    assert!(trace.iter().any(|e| e["result"]
        .as_str()
        .is_some_and(|r| r.starts_with("waits for"))
        || e["statement"]
            .as_str()
            .is_some_and(|s| s.starts_with("UPDATE"))));
    assert_eq!(v["final"][0]["id"], 1);
    assert!(v["final"][0]["stocked"].is_i64());
}

#[test]
fn replay_of_a_kept_file_prints_the_timeline_and_checks_the_expectation() {
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
    // A file the command line can replay (not one of a test's own strategy).
    let file = fs::read_dir(&seeds)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.extension().is_some_and(|x| x == "toml")
                && stockrace::Regression::load(p).is_ok_and(|r| r.cli_can_replay())
        })
        .unwrap();
    let output = stockrace(&["replay", file.to_str().unwrap()]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "the kept schedules violate, as the file expects: {}",
        stderr(&output)
    );
    let text = stdout(&output);
    assert!(
        text.contains("BEGIN ISOLATION LEVEL READ COMMITTED"),
        "{text}"
    );
    assert!(text.contains("expectation: met"), "{text}");
}

#[test]
fn sweep_save_keeps_the_failure_and_a_second_save_does_not_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let dir_arg = dir.path().to_str().unwrap();
    let args = [
        "sweep",
        "--strategy",
        "plain-update",
        "--seeds",
        "10",
        "--save",
        "--seeds-dir",
        dir_arg,
    ];
    let first = stockrace(&args);
    assert_eq!(first.status.code(), Some(1));
    assert!(stdout(&first).contains("kept as"), "{}", stdout(&first));
    let files: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1);
    let before = fs::read_to_string(&files[0]).unwrap();
    let second = stockrace(&args);
    assert!(
        stdout(&second).contains("already kept as"),
        "{}",
        stdout(&second)
    );
    assert_eq!(fs::read_to_string(&files[0]).unwrap(), before);
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    // The kept file replays to the same violation.
    let replay = stockrace(&["replay", files[0].to_str().unwrap()]);
    // Exit 0: the file's expectation (a violation) is met.
    assert_eq!(replay.status.code(), Some(0));
    assert!(stdout(&replay).contains("expectation: met"));
}

#[test]
fn bad_input_exits_2_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let malformed = dir.path().join("malformed.toml");
    fs::write(
        &malformed,
        "strategy = \"plain-update\"\nexpect = \"violates\"\nschedule = [1, 0,\n",
    )
    .unwrap();
    let negative = dir.path().join("negative.toml");
    let kept = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds/plain-update-1efda382.toml");
    fs::write(
        &negative,
        fs::read_to_string(kept)
            .unwrap()
            .replacen("stocked = ", "stocked = -", 1),
    )
    .unwrap();
    let missing = dir.path().join("missing.toml");

    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["sweep", "--strategy", "no-such-path"], "unknown strategy \"no-such-path\"; known: advisory-lock, atomic-decrement, guarded-decrement"),
        (vec!["sweep", "--strategy", "plain-update", "--orders", "0"], "--orders 0: a scenario needs at least one order"),
        (vec!["sweep", "--strategy", "plain-update", "--stock", "-1"], "--stock -1: stock cannot be negative"),
        (vec!["sweep", "--strategy", "plain-update", "--qty", "0"], "--qty 0: each order must buy at least 1 unit"),
        (vec!["sweep", "--strategy", "plain-update", "--isolation", "chaos"], "--isolation \"chaos\""),
        (vec!["sweep"], "--strategy is required"),
        (vec!["replay", "--strategy", "plain-update"], "--seed is required"),
        (vec!["replay", malformed.to_str().unwrap()], "malformed.toml:3:"),
        // FILE:LINE: the line of the bad value.
        (vec!["replay", negative.to_str().unwrap()], "negative.toml:16: scenario.levels[0].stocked: -"),
        (vec!["replay", missing.to_str().unwrap()], "missing.toml: cannot read"),
        (vec!["replay", malformed.to_str().unwrap(), "--orders", "3"], "give either a regression file or scenario flags"),
        (vec!["replay", malformed.to_str().unwrap(), "--latency-ms", "3"], "give either a regression file or scenario flags"),
    ];
    for (args, expected) in cases {
        let output = stockrace(&args);
        assert_eq!(
            output.status.code(),
            Some(2),
            "stockrace {}: {}",
            args.join(" "),
            stderr(&output)
        );
        assert!(
            stderr(&output).contains(expected),
            "stockrace {}: {}",
            args.join(" "),
            stderr(&output)
        );
        assert!(output.stdout.is_empty(), "nothing on stdout for bad input");
    }
    assert!(!missing.exists(), "nothing written");
}

#[test]
fn new_scenario_flags_are_validated() {
    for (args, expected) in [
        (
            vec!["sweep", "--strategy", "row-lock", "--nodes", "0"],
            "--nodes 0: orders need at least one app node",
        ),
        (
            vec!["sweep", "--strategy", "row-lock", "--items", "0"],
            "--items 0: orders must buy at least one item",
        ),
        (
            vec!["sweep", "--strategy", "row-lock", "--lock-order", "random"],
            "--lock-order \"random\": expected listed or sorted",
        ),
    ] {
        let output = stockrace(&args);
        assert_eq!(
            output.status.code(),
            Some(2),
            "stockrace {}",
            args.join(" ")
        );
        assert!(
            stderr(&output).contains(expected),
            "stockrace {}: {}",
            args.join(" "),
            stderr(&output)
        );
    }
}

#[test]
fn sweep_json_counts_serialization_failures_deadlocks_and_retries() {
    let v = json(&stockrace(&[
        "sweep",
        "--strategy",
        "optimistic",
        "--orders",
        "4",
        "--stock",
        "5",
        "--items",
        "2",
        "--seeds",
        "200",
        "--json",
    ]));
    assert_eq!(v["violations"], 0);
    assert!(
        v["errors_40p01"].as_u64().unwrap() > 0,
        "listed-order locking deadlocks: {v}"
    );
    assert!(v["retries"].as_u64().unwrap() > 0, "{v}");
    let v = json(&stockrace(&[
        "sweep",
        "--strategy",
        "plain-update",
        "--isolation",
        "repeatable-read",
        "--orders",
        "4",
        "--stock",
        "2",
        "--seeds",
        "200",
        "--json",
    ]));
    assert_eq!(
        v["violations"], 0,
        "40001 is a clean rejection, not a violation"
    );
    assert!(v["errors_40001"].as_u64().unwrap() > 0, "{v}");
    assert_eq!(v["errors_40p01"], 0);
}

#[test]
fn diff_without_a_server_exits_2_and_says_how_to_start_one() {
    let output = stockrace(&[
        "diff",
        "--strategy",
        "plain-update",
        "--seeds",
        "1",
        "--pg",
        "postgresql://postgres@127.0.0.1:1/none",
    ]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(
        message.contains("cannot connect to PostgreSQL at 127.0.0.1:1/none"),
        "{message}"
    );
    assert!(message.contains("pg_virtualenv -t -v 15"), "{message}");
    assert!(output.stdout.is_empty());
}

#[test]
fn logs_are_quiet_by_default_and_show_the_scheduler_when_asked() {
    let args = ["replay", "--strategy", "plain-update", "--seed", "0"];
    let quiet = stockrace(&args);
    assert!(quiet.stderr.is_empty(), "{}", stderr(&quiet));
    let logged = Command::new(env!("CARGO_BIN_EXE_stockrace"))
        .args(args)
        .env("RUST_LOG", "stockrace=debug")
        .output()
        .unwrap();
    let log = stderr(&logged);
    assert!(
        log.contains("stockrace::scheduler") && log.contains("choose"),
        "{log}"
    );
    assert!(
        log.contains("stockrace::store") && log.contains("statement=BEGIN"),
        "{log}"
    );
    assert!(
        !log.contains('\u{1b}'),
        "no colour codes when stderr is not a terminal"
    );
    assert_eq!(
        logged.stdout, quiet.stdout,
        "logging does not change the output"
    );
}

#[test]
fn budget_flags_override_the_defaults_and_the_file() {
    // A budget too small for any run: a termination violation, and the
    // printed replay command carries the flag.
    let output = stockrace(&[
        "sweep",
        "--strategy",
        "guarded-decrement",
        "--max-steps",
        "3",
        "--seeds",
        "5",
        "--json",
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let v = json(&output);
    assert_eq!(v["by_invariant"]["termination"], 5);
    assert_eq!(v["scenario"]["budget"]["max_steps"], 3);
    let replay = v["first_failure"]["replay"].as_str().unwrap();
    assert!(replay.contains("--max-steps 3"), "{replay}");

    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/last-unit.toml");
    let output = stockrace(&[
        "sweep",
        "--scenario",
        file.to_str().unwrap(),
        "--max-virtual-ms",
        "1234",
        "--deadlock-timeout-ms",
        "77",
        "--max-steps",
        "999",
        "--seeds",
        "3",
        "--json",
    ]);
    assert_ne!(output.status.code(), Some(2), "{}", stderr(&output));
    let v = json(&output);
    assert_eq!(v["scenario"]["budget"]["max_virtual_ms"], 1234);
    assert_eq!(v["scenario"]["budget"]["max_steps"], 999);
    assert_eq!(v["scenario"]["deadlock_timeout_ms"], 77);

    for (flag, value) in [
        ("--max-steps", "0"),
        ("--max-virtual-ms", "0"),
        ("--deadlock-timeout-ms", "0"),
        ("--max-virtual-ms", "2000000000"),
    ] {
        let output = stockrace(&["sweep", "--strategy", "row-lock", flag, value]);
        assert_eq!(output.status.code(), Some(2), "{flag} {value}");
        assert!(
            stderr(&output).contains(flag),
            "{flag}: {}",
            stderr(&output)
        );
        assert!(output.stdout.is_empty());
    }
}

#[test]
fn values_whose_arithmetic_would_overflow_are_bad_input() {
    let max = i64::MAX.to_string();
    for (args, flag) in [
        (
            vec!["--stock", max.as_str(), "--qty", max.as_str()],
            "--qty",
        ),
        (vec!["--stock", max.as_str(), "--orders", "2"], "--stock"),
        (
            vec![
                "--latency-ms",
                "18446744073709551615",
                "--max-virtual-ms",
                "18446744073709551615",
            ],
            "--latency-ms",
        ),
    ] {
        let mut all = vec!["sweep", "--strategy", "guarded-decrement", "--seeds", "5"];
        all.extend(args.iter());
        let output = stockrace(&all);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stdout(&output)
        );
        assert!(output.stdout.is_empty(), "{args:?}");
        assert!(
            stderr(&output).contains(flag),
            "{args:?}: {}",
            stderr(&output)
        );
    }
}
