//! Bad input and awkward files get messages a user can act on, and replay
//! exits on the regression file's expectation.

mod command;
use command::{stderr, stdout, stockrace, stockrace_in};
use stockrace::Strategies;

use std::fs;
use std::path::Path;

const KEPT: &str = "seeds/atomic-decrement-5b06be0e.toml";

fn kept_with(dir: &Path, from: &str, to: &str) -> String {
    let text = fs::read_to_string(KEPT).unwrap();
    assert!(text.contains(from), "{text}");
    let path = dir.join("kept.toml");
    fs::write(&path, text.replace(from, to)).unwrap();
    path.display().to_string()
}

#[test]
fn replay_exits_on_the_files_expectation() {
    // A kept violation that still violates: the expectation is met.
    let output = stockrace(&["replay", KEPT]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).contains("expectation: met"));
    let json = stockrace(&["replay", KEPT, "--json"]);
    assert_eq!(json.status.code(), Some(0), "{}", stderr(&json));

    let dir = tempfile::tempdir().unwrap();
    let holds = kept_with(dir.path(), "expect = \"violates\"", "expect = \"holds\"");
    let output = stockrace(&["replay", &holds]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stdout(&output).contains("expectation: NOT met"));
}

#[test]
fn a_schedule_that_no_longer_fits_is_exit_2_naming_the_divergence() {
    let dir = tempfile::tempdir().unwrap();
    let file = kept_with(
        dir.path(),
        "schedule = [1, 0, 1, 0, 1, 0, 0]",
        "schedule = [7, 7, 7, 7, 7, 7, 7, 7]",
    );
    for extra in [&[][..], &["--json"]] {
        let mut args = vec!["replay", file.as_str()];
        args.extend_from_slice(extra);
        let output = stockrace(&args);
        assert_eq!(output.status.code(), Some(2), "{}", stdout(&output));
        let err = stderr(&output);
        assert!(
            err.contains(&format!("{file}: the schedule does not fit")),
            "{err}"
        );
        assert!(err.contains("choice 0 of the schedule is 7"), "{err}");
        // The trace is still shown, before the error.
        assert!(!output.stdout.is_empty());
    }
}

#[test]
fn continue_finishes_a_schedule_that_ended_early_and_judges_the_run() {
    let dir = tempfile::tempdir().unwrap();
    // The first two choices of the kept race, then nothing: the run goes on
    // with the first option at every later choice.
    let file = kept_with(
        dir.path(),
        "schedule = [1, 0, 1, 0, 1, 0, 0]",
        "schedule = [1, 0]",
    );
    let refused = stockrace(&["replay", &file]);
    assert_eq!(refused.status.code(), Some(2), "{}", stdout(&refused));
    let output = stockrace(&["replay", &file, "--continue"]);
    let text = stdout(&output);
    assert!(
        text.contains("continued past the schedule: the schedule ran out after 2 choices"),
        "{text}"
    );
    assert!(text.contains("expectation:"), "{text}");
    assert!(matches!(output.status.code(), Some(0) | Some(1)), "{text}");
}

#[test]
fn replaying_a_scenario_file_says_how_to_replay_a_seed_of_it() {
    let output = stockrace(&["replay", "scenarios/last-unit.toml"]);
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(
        err.contains("scenarios/last-unit.toml is a scenario file, not a regression file"),
        "{err}"
    );
    assert!(
        err.contains("stockrace replay --scenario scenarios/last-unit.toml --seed S"),
        "{err}"
    );
    assert!(!err.contains("unknown field"), "{err}");
}

#[test]
fn save_that_cannot_write_prints_the_report_then_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let seeds_dir = dir.path().join("kept");
    let sweep = |extra: &[&str]| {
        let mut args = vec![
            "sweep",
            "--strategy",
            "plain-update",
            "--seeds",
            "20",
            "--save",
            "--seeds-dir",
            seeds_dir.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        stockrace(&args)
    };
    assert_eq!(sweep(&[]).status.code(), Some(1));
    let kept = fs::read_dir(&seeds_dir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let edited = fs::read_to_string(&kept)
        .unwrap()
        .replace("violates", "holds");
    fs::write(&kept, &edited).unwrap();
    for extra in [&[][..], &["--json"]] {
        let output = sweep(extra);
        assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
        let text = stdout(&output);
        assert!(text.contains("20"), "the report is out: {text}");
        assert!(text.contains("replay"), "{text}");
        let err = stderr(&output);
        assert!(err.contains("cannot save the regression"), "{err}");
        assert!(err.contains("different content"), "{err}");
        assert_eq!(
            fs::read_to_string(&kept).unwrap(),
            edited,
            "not overwritten"
        );
    }
}

#[test]
fn seeds_dir_that_is_a_file_is_named_as_not_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("afile");
    fs::write(&file, "keep me").unwrap();
    let output = stockrace(&[
        "sweep",
        "--strategy",
        "plain-update",
        "--seeds",
        "20",
        "--save",
        "--seeds-dir",
        file.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains(&format!("--seeds-dir {}: not a directory", file.display())),
        "{}",
        stderr(&output)
    );
    assert_eq!(fs::read_to_string(&file).unwrap(), "keep me");
}

#[test]
fn a_printed_replay_command_for_a_dash_path_works_when_pasted() {
    let dir = tempfile::tempdir().unwrap();
    fs::copy("scenarios/last-unit.toml", dir.path().join("-dash.toml")).unwrap();
    let output = stockrace_in(
        dir.path(),
        &["sweep", "--scenario=-dash.toml", "--seeds", "20"],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = stdout(&output);
    let replay = text
        .lines()
        .find_map(|l| l.strip_prefix("replay: stockrace "))
        .expect("a replay command");
    let args = shlex::split(replay).expect("a shell command");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let again = stockrace_in(dir.path(), &args);
    assert_eq!(again.status.code(), Some(1), "{replay}: {}", stderr(&again));
    assert!(stdout(&again).contains("verdict: VIOLATED"));
}

#[test]
fn a_scenario_with_many_levels_gets_a_short_header() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for i in 0..100_000 {
        text += &format!(
            "[[levels]]\nitem = \"i{i}\"\nlocation = \"l\"\nstocked = {}\n",
            1 + i % 3
        );
    }
    text +=
        "[[orders]]\nstrategy = \"row-lock\"\ncount = 2\nlines = [{ level = 1, quantity = 1 }]\n";
    let file = dir.path().join("big.toml");
    fs::write(&file, text).unwrap();
    let output = stockrace(&[
        "sweep",
        "--scenario",
        file.to_str().unwrap(),
        "--seeds",
        "2",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let header = stdout(&output).lines().next().unwrap().to_string();
    assert!(
        header.len() < 300,
        "{} bytes: {}",
        header.len(),
        &header[..300]
    );
    assert!(
        header.contains("100000 level(s) stocked 1 to 3"),
        "{header}"
    );
}

#[test]
fn a_multi_node_replay_shows_which_node_each_order_runs_on() {
    let output = stockrace(&[
        "replay",
        "--scenario",
        "scenarios/two-app-nodes.toml",
        "--seed",
        "0",
    ]);
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{}",
        stderr(&output)
    );
    let text = stdout(&output);
    assert!(
        text.contains("nodes: node 0 runs T1, T3; node 1 runs T2, T4"),
        "{text}"
    );
    let one = stockrace(&["replay", "--strategy", "plain-update", "--seed", "0"]);
    assert!(
        !stdout(&one).contains("nodes:"),
        "one node: nothing to show"
    );
}

#[test]
fn strategies_say_what_they_do_and_scenarios_are_listed() {
    let output = stockrace(&["strategies"]);
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    let line = |name: &str| {
        text.lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no {name}: {text}"))
            .to_string()
    };
    assert!(line("plain-update").contains("decrements"), "{text}");
    assert!(line("reservation").contains("reserves"), "{text}");
    assert!(line("row-lock").contains("FOR UPDATE"), "{text}");
    assert!(
        line("lease-lock-fenced").contains("fencing token"),
        "{text}"
    );
    assert!(
        line("idempotent").contains("recovers after a crash"),
        "{text}"
    );
    assert!(!line("retry-on-error").contains("recovers"), "{text}");
    assert_eq!(
        text.lines().filter(|l| !l.is_empty()).count(),
        Strategies::BUILTIN.len(),
        "{text}"
    );

    for args in [&["scenarios"][..], &["scenarios", "scenarios"]] {
        let output = stockrace(args);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let text = stdout(&output);
        assert!(
            text.lines()
                .any(|l| l.starts_with("scenarios/last-unit.toml")
                    && l.ends_with("Two customers buy the last unit at the same moment.")),
            "{text}"
        );
        assert_eq!(
            text.lines().count(),
            fs::read_dir("scenarios").unwrap().count()
        );
    }
    let output = stockrace(&["scenarios", "no-such-dir"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("no-such-dir"),
        "{}",
        stderr(&output)
    );
}
