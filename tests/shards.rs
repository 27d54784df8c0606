//! `--jobs` and `--shard` change where seeds run, never the result: the
//! JSON of a sweep is byte-identical for any jobs, and the merged JSON of
//! its shards equals the unsharded one.

mod command;
use command::{stderr, stdout, stockrace};

use std::fs;
use std::path::Path;
use std::process::Output;

const SWEEP: [&str; 9] = [
    "sweep",
    "--strategy",
    "plain-update",
    "--orders",
    "3",
    "--stock",
    "2",
    "--seeds",
    "3000",
];

fn sweep(extra: &[&str]) -> Output {
    let mut args = SWEEP.to_vec();
    args.extend_from_slice(&["--json", "--latency-ms", "1"]);
    args.extend_from_slice(extra);
    stockrace(&args)
}

#[test]
fn the_json_of_a_sweep_is_the_same_for_one_job_or_two() {
    let one = sweep(&["--jobs", "1"]);
    let two = sweep(&["--jobs", "2"]);
    assert_eq!(one.status.code(), Some(1), "{}", stderr(&one));
    assert_eq!(two.status.code(), Some(1));
    assert_eq!(stdout(&one), stdout(&two));
    let v: serde_json::Value = serde_json::from_str(&stdout(&one)).unwrap();
    assert_eq!(v["runs"], 3000);
    assert!(v["violations"].as_u64().unwrap() > 0);
    assert_eq!(v["failing_seeds"].as_array().unwrap().len(), 10);
    assert!(v["figures"]["latency_p99_ms"].is_u64());
    assert!(
        v["latency_ms"][0].is_array(),
        "the histogram, so shards can merge"
    );
}

fn write(dir: &Path, name: &str, output: &Output) -> String {
    let path = dir.join(name);
    fs::write(&path, &output.stdout).unwrap();
    path.display().to_string()
}

#[test]
fn merged_shards_equal_the_whole_sweep() {
    let whole = sweep(&[]);
    let dir = tempfile::tempdir().unwrap();
    for n in [2, 3] {
        let shards: Vec<String> = (1..=n)
            .map(|i| {
                let output = sweep(&["--shard", &format!("{i}/{n}")]);
                assert!(
                    matches!(output.status.code(), Some(0 | 1)),
                    "{}",
                    stderr(&output)
                );
                write(dir.path(), &format!("shard-{i}-of-{n}.json"), &output)
            })
            .collect();
        // In any order.
        let mut args = vec!["merge", "--json"];
        args.extend(shards.iter().rev().map(String::as_str));
        let merged = stockrace(&args);
        assert_eq!(
            merged.status.code(),
            whole.status.code(),
            "{}",
            stderr(&merged)
        );
        assert_eq!(stdout(&merged), stdout(&whole), "{n} shards");
        let mut args = vec!["merge"];
        args.extend(shards.iter().map(String::as_str));
        let text = stdout(&stockrace(&args));
        assert!(
            text.contains("sweep: plain-update | postgres-15 | 3 orders"),
            "{text}"
        );
        assert!(text.contains("seeds 0..3000: 3000 runs"), "{text}");
    }
}

#[test]
fn merge_refuses_gaps_overlaps_other_scenarios_and_bad_files() {
    let dir = tempfile::tempdir().unwrap();
    let first = write(dir.path(), "a.json", &sweep(&["--shard", "1/3"]));
    let third = write(dir.path(), "c.json", &sweep(&["--shard", "3/3"]));
    let again = write(dir.path(), "a-again.json", &sweep(&["--shard", "1/3"]));
    let other = {
        let mut args = SWEEP.to_vec();
        args[2] = "row-lock";
        args.extend_from_slice(&["--json", "--latency-ms", "1", "--shard", "2/3"]);
        write(dir.path(), "other.json", &stockrace(&args))
    };
    let garbage = dir.path().join("garbage.json");
    fs::write(&garbage, "{\n  \"strategy\": \"plain-update\",\n  oops\n}").unwrap();
    let garbage = garbage.display().to_string();
    let cases: [(&[&str], String); 4] = [
        (
            &[&first, &third],
            "an incomplete sweep of seeds 0..3000 in 3 shards: missing shard 2/3 (seeds 1000..2000)"
                .to_string(),
        ),
        (
            &[&first, &again],
            format!("{again}: shard 1/3 is given twice"),
        ),
        (
            &[&first, &other],
            format!("{other}: a sweep of another scenario"),
        ),
        (
            &[&first, &garbage],
            format!("{garbage}:3: not the JSON of `stockrace sweep --json`"),
        ),
    ];
    for (files, expected) in cases {
        let mut args = vec!["merge"];
        args.extend_from_slice(files);
        let output = stockrace(&args);
        assert_eq!(output.status.code(), Some(2), "{files:?}");
        assert!(
            stderr(&output).contains(&expected),
            "{}\nexpected: {expected}",
            stderr(&output)
        );
        assert!(output.stdout.is_empty());
    }
}

#[test]
fn bad_shards_and_jobs_are_refused() {
    for (flag, value, expected) in [
        ("--shard", "0/2", "--shard \"0/2\": I must run from 1 to N"),
        ("--shard", "1/0", "--shard \"1/0\": N must be at least 1"),
        (
            "--shard",
            "1/18446744073709551615",
            "more shards than the 3000 seeds of the sweep",
        ),
        ("--shard", "3001/3001", "more shards than the 3000 seeds"),
        ("--shard", "3/2", "--shard \"3/2\": I must run from 1 to N"),
        ("--shard", "half", "--shard \"half\": expected I/N"),
        ("--shard", "1/x", "expected I/N with whole numbers"),
        ("--jobs", "0", "--jobs 0: at least one job is needed"),
        (
            "--first-seed",
            "18446744073709551610",
            "the range passes the last seed",
        ),
    ] {
        let output = sweep(&[flag, value]);
        assert_eq!(output.status.code(), Some(2), "{flag} {value}");
        assert!(stderr(&output).contains(expected), "{}", stderr(&output));
    }
    let none = stockrace(&["sweep", "--strategy", "plain-update", "--seeds", "0"]);
    assert_eq!(none.status.code(), Some(2));
    assert!(
        stderr(&none).contains("--seeds 0: nothing to run"),
        "{}",
        stderr(&none)
    );
}

#[test]
fn no_progress_bar_when_stderr_is_not_a_terminal() {
    // Long enough (several seconds in a debug build) for the bar to be due.
    let output = stockrace(&[
        "sweep",
        "--strategy",
        "row-lock",
        "--orders",
        "8",
        "--seeds",
        "20000",
        "--json",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(output.stderr.is_empty(), "{}", stderr(&output));
}

#[test]
fn shards_merge_in_any_order_and_an_empty_shard_is_refused() {
    // 2 seeds in 3 shards would leave one empty: refused like --seeds 0.
    let dir = tempfile::tempdir().unwrap();
    let two_seeds = |extra: &[&str]| {
        let mut args = vec![
            "sweep",
            "--strategy",
            "plain-update",
            "--seeds",
            "2",
            "--json",
        ];
        args.extend_from_slice(extra);
        stockrace(&args)
    };
    let empty = two_seeds(&["--shard", "1/3"]);
    assert_eq!(empty.status.code(), Some(2));
    assert!(
        stderr(&empty).contains("--shard \"1/3\": more shards than the 2 seeds of the sweep"),
        "{}",
        stderr(&empty)
    );
    assert!(empty.stdout.is_empty());
    let shard = |i: u32| {
        let output = two_seeds(&["--shard", &format!("{i}/2")]);
        write(dir.path(), &format!("{i}.json"), &output)
    };
    let (one, two) = (shard(1), shard(2));
    let whole = two_seeds(&[]);
    for order in [[&one, &two], [&two, &one]] {
        let mut args = vec!["merge", "--json"];
        args.extend(order.iter().map(|s| s.as_str()));
        let merged = stockrace(&args);
        assert_eq!(stdout(&merged), stdout(&whole), "{}", stderr(&merged));
    }
}

#[test]
fn merge_names_a_missing_first_or_last_shard() {
    let dir = tempfile::tempdir().unwrap();
    let shards: Vec<String> = (1..=3)
        .map(|i| {
            let output = sweep(&["--shard", &format!("{i}/3")]);
            let v: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
            assert_eq!(v["shard"]["index"], i);
            assert_eq!(v["shard"]["count"], 3);
            assert_eq!(v["shard"]["first_seed"], 0);
            assert_eq!(v["shard"]["seeds"], 3000, "the whole sweep's range");
            write(dir.path(), &format!("{i}.json"), &output)
        })
        .collect();
    for (given, missing) in [
        (
            vec![&shards[0], &shards[1]],
            "missing shard 3/3 (seeds 2000..3000)",
        ),
        (
            vec![&shards[1], &shards[2]],
            "missing shard 1/3 (seeds 0..1000)",
        ),
        (
            vec![&shards[1]],
            "missing shards 1/3 (seeds 0..1000), 3/3 (seeds 2000..3000)",
        ),
    ] {
        let mut args = vec!["merge"];
        args.extend(given.iter().map(|s| s.as_str()));
        let output = stockrace(&args);
        assert_eq!(output.status.code(), Some(2), "{given:?}");
        assert!(
            stderr(&output).contains(&format!(
                "an incomplete sweep of seeds 0..3000 in 3 shards: {missing}"
            )),
            "{}",
            stderr(&output)
        );
        assert!(output.stdout.is_empty());
    }
    // The same shard twice.
    let output = stockrace(&["merge", &shards[0], &shards[0], &shards[1], &shards[2]]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("shard 1/3 is given twice"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn shard_json_without_the_shard_field_is_merged_as_unsharded_ranges() {
    // As written before shards were recorded: each file is the sweep of its
    // own range, joined only when the ranges touch; mixing is refused.
    let dir = tempfile::tempdir().unwrap();
    let whole = sweep(&[]);
    let old: Vec<String> = (1..=3)
        .map(|i| {
            let output = sweep(&["--shard", &format!("{i}/3")]);
            let mut v: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
            v.as_object_mut()
                .unwrap()
                .remove("shard")
                .expect("a shard field");
            let path = dir.path().join(format!("old-{i}.json"));
            fs::write(&path, serde_json::to_string_pretty(&v).unwrap()).unwrap();
            path.display().to_string()
        })
        .collect();
    let mut args = vec!["merge", "--json"];
    args.extend(old.iter().map(String::as_str));
    let merged = stockrace(&args);
    assert_eq!(stdout(&merged), stdout(&whole), "{}", stderr(&merged));
    let new = write(dir.path(), "new-3.json", &sweep(&["--shard", "3/3"]));
    let output = stockrace(&["merge", &old[0], &old[1], &new]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("records no shard"),
        "{}",
        stderr(&output)
    );
}
