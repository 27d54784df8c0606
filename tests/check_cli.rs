//! `stockrace check` on the command line: exit 0 for a proof at this scope,
//! 1 for a violation (with its trace, and kept with --save so that replay
//! shows it again), 3 for a clean search that was cut, 2 for bad input.

mod command;

use command::{stdout, stockrace};

#[test]
fn exit_status_says_proof_violation_or_bound() {
    let complete = stockrace(&["check", "--strategy", "guarded-decrement", "--orders", "3"]);
    assert_eq!(complete.status.code(), Some(0), "{}", stdout(&complete));
    assert!(
        stdout(&complete).contains("result: COMPLETE"),
        "{}",
        stdout(&complete)
    );

    let violated = stockrace(&["check", "--strategy", "plain-update", "--orders", "3"]);
    assert_eq!(violated.status.code(), Some(1), "{}", stdout(&violated));
    let text = stdout(&violated);
    assert!(text.contains("result: VIOLATED: no-oversell"), "{text}");
    assert!(text.contains("schedule: ["), "{text}");

    let bounded = stockrace(&[
        "check",
        "--strategy",
        "row-lock",
        "--orders",
        "3",
        "--max-runs",
        "2",
    ]);
    assert_eq!(bounded.status.code(), Some(3), "{}", stdout(&bounded));
    assert!(
        stdout(&bounded).contains("result: BOUNDED"),
        "{}",
        stdout(&bounded)
    );

    let bad = stockrace(&["check", "--strategy", "row-lock", "--max-runs", "0"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn json_lists_the_figures_and_the_outcomes() {
    let output = stockrace(&[
        "check",
        "--strategy",
        "plain-update",
        "--orders",
        "2",
        "--json",
        "--no-reduction",
    ]);
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(json["result"], "violated");
    assert_eq!(json["reductions"], serde_json::json!([]));
    assert!(json["runs"].as_u64().unwrap() >= 1);
    let outcomes = json["outcomes"].as_array().unwrap();
    assert!(!outcomes.is_empty());
    assert!(outcomes
        .iter()
        .all(|o| o["runs"].as_u64().unwrap() >= 1 && o["outcome"].is_string()));
    assert!(json["violation"]["schedule"].is_array(), "{json:#}");
}

#[test]
fn a_saved_counterexample_replays() {
    let dir = tempfile::tempdir().unwrap();
    let seeds = dir.path().to_str().unwrap();
    let output = stockrace(&[
        "check",
        "--strategy",
        "plain-update",
        "--orders",
        "3",
        "--save",
        "--seeds-dir",
        seeds,
    ]);
    assert_eq!(output.status.code(), Some(1));
    let kept: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    let replay = stockrace(&["replay", kept[0].to_str().unwrap()]);
    let text = stdout(&replay);
    assert!(text.contains("no-oversell"), "{text}");
    assert!(text.contains("expectation: met"), "{text}");
}

#[test]
fn no_cache_turns_the_visited_state_cache_off() {
    let run = |extra: &[&str]| {
        let mut args = vec!["check", "--strategy", "row-lock", "--orders", "3", "--json"];
        args.extend_from_slice(extra);
        let output = stockrace(&args);
        assert_eq!(output.status.code(), Some(0));
        serde_json::from_slice::<serde_json::Value>(&output.stdout).expect("JSON")
    };
    let with = run(&[]);
    let without = run(&["--no-cache"]);
    let figure = |json: &serde_json::Value, name: &str| json[name].as_u64().unwrap();
    assert_eq!(
        with["reductions"],
        serde_json::json!(["sleep sets", "symmetry", "visited-state cache"])
    );
    assert_eq!(
        without["reductions"],
        serde_json::json!(["sleep sets", "symmetry"])
    );
    assert!(figure(&with, "runs_pruned_by_cache") > 0);
    assert!(figure(&with, "runs_pruned") >= figure(&with, "runs_pruned_by_cache"));
    assert!(figure(&with, "states_cached") > 0);
    assert_eq!(figure(&without, "runs_pruned_by_cache"), 0);
    assert_eq!(figure(&without, "states_cached"), 0);
    assert!(figure(&with, "runs") < figure(&without, "runs"));
    assert_eq!(with["result"], "complete");
    let names = |json: &serde_json::Value| {
        json["outcomes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["outcome"].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&with), names(&without));
}
