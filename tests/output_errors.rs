//! Write errors on stdout: a closed pipe (`| head -1`) ends quietly with the
//! exit status the work would have had; any other error (`> /dev/full`) is
//! exit 2 with a message; never a panic.

mod command;
use command::{command, stderr};

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::process::{Output, Stdio};

/// Runs `args` with stdout read for one line, then closed (`| head -1`).
fn head_1(args: &[&str]) -> (Option<i32>, String, String) {
    let mut child = command(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run stockrace");
    let mut line = String::new();
    {
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        reader.read_line(&mut line).unwrap();
    } // The pipe's reading end is closed here.
    let output = child.wait_with_output().unwrap();
    (output.status.code(), line, stderr(&output))
}

fn to_dev_full(args: &[&str]) -> Output {
    command(args)
        .stdout(File::create("/dev/full").expect("/dev/full"))
        .output()
        .expect("run stockrace")
}

/// A replay whose trace is far longer than a pipe's buffer (64 KB), so the
/// writer still has lines to write when the reader has gone.
const LONG_REPLAY: [&str; 8] = [
    "replay",
    "--strategy",
    "row-lock",
    "--orders",
    "60",
    "--stock",
    "1000",
    "--seed=1",
];

#[test]
fn a_closed_pipe_ends_quietly_with_the_status_of_the_work() {
    let (code, line, err) = head_1(&LONG_REPLAY);
    assert!(line.starts_with("replay: row-lock"), "{line}");
    assert_eq!(code, Some(0), "row-lock holds: {err}");
    assert!(err.is_empty(), "nothing on stderr: {err}");
    let mut violating = LONG_REPLAY.to_vec();
    violating[2] = "plain-update";
    let (code, _, err) = head_1(&violating);
    assert_eq!(code, Some(1), "plain-update oversells at 400 orders: {err}");
    assert!(err.is_empty(), "{err}");
}

#[test]
fn a_closed_pipe_does_not_panic_in_any_command() {
    let dir = tempfile::tempdir().unwrap();
    let shard = dir.path().join("s.json");
    let output = command(&["sweep", "--strategy", "row-lock", "--seeds", "5", "--json"])
        .output()
        .unwrap();
    std::fs::write(&shard, &output.stdout).unwrap();
    let shard = shard.display().to_string();
    for args in [
        vec!["sweep", "--strategy", "plain-update", "--seeds", "20"],
        vec!["compare", "--seeds", "5", "--orders", "2"],
        vec!["merge", &shard],
        vec!["strategies"],
        vec!["--help"],
    ] {
        // The reader may go before the first write or after the last; either
        // way the status is the work's and stderr stays empty.
        let mut child = command(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let output = child.wait_with_output().unwrap();
        let err = stderr(&output);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(err.is_empty(), "{args:?}: {err}");
        let expected = if args[0] == "sweep" { 1 } else { 0 };
        assert_eq!(output.status.code(), Some(expected), "{args:?}");
    }
}

#[test]
fn a_full_disk_is_exit_2_with_a_message() {
    for args in [
        &["sweep", "--strategy", "plain-update", "--seeds", "20"][..],
        &["sweep", "--strategy", "row-lock", "--seeds", "5", "--json"],
        &["replay", "--strategy", "plain-update", "--seed", "1"],
        &["compare", "--seeds", "5", "--orders", "2"],
        &["strategies"],
        &["--help"],
        &["sweep", "--help"],
        &["--version"],
    ] {
        let output = to_dev_full(args);
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(
            err.contains("stockrace: cannot write to standard output"),
            "{args:?}: {err}"
        );
    }
}
