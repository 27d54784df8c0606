//! Ctrl-C during a sweep: the report of the seeds done so far, marked as
//! interrupted, exact for those seeds, and exit status 130.

mod command;
use command::{command, stderr, stdout, stockrace};

use std::process::{Output, Stdio};
use std::time::Duration;

const SWEEP: [&str; 9] = [
    "sweep",
    "--strategy",
    "plain-update",
    "--orders",
    "3",
    "--seeds",
    "100000000",
    "--jobs",
    "3",
];

fn interrupted(extra: &[&str]) -> Output {
    let mut args = SWEEP.to_vec();
    args.extend_from_slice(extra);
    let child = command(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let kill = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    child.wait_with_output().unwrap()
}

#[test]
fn ctrl_c_prints_the_exact_report_of_the_seeds_done_and_exits_130() {
    let output = interrupted(&["--json"]);
    assert_eq!(output.status.code(), Some(130), "{}", stderr(&output));
    let mut v: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", stdout(&output)));
    assert_eq!(v["interrupted"], true);
    let runs = v["runs"].as_u64().unwrap();
    assert!(runs > 0 && runs < 100_000_000, "{runs}");
    assert_eq!(v["seeds"].as_u64(), Some(runs), "the seeds done");
    v.as_object_mut().unwrap().remove("interrupted");
    // The same seeds, run to the end, give the same document.
    let again = stockrace(&[
        "sweep",
        "--strategy",
        "plain-update",
        "--orders",
        "3",
        "--seeds",
        &runs.to_string(),
        "--json",
    ]);
    let whole: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(v, whole);
}

#[test]
fn ctrl_c_in_text_says_the_report_is_partial() {
    let output = interrupted(&[]);
    assert_eq!(output.status.code(), Some(130), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.contains("(interrupted by Ctrl-C: counts cover the seeds done)"),
        "{text}"
    );
    assert!(text.contains("first failure: seed"), "{text}");
}
