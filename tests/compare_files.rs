//! Where compare (and sweep, merge) write: `--json` prints JSON on stdout
//! everywhere; `--json-out FILE` and `--svg FILE` write files whole (a
//! temporary file renamed over a regular file), through symlinks, directly
//! into anything that is not a regular file, and `-` means stdout.
//! The old `compare --json FILE` still works, with a note on stderr.

mod command;
use command::{stderr, stdout, stockrace};

use std::fs;
use std::os::unix::fs::FileTypeExt;
use std::path::Path;

const COMPARE: [&str; 6] = [
    "compare",
    "--strategies",
    "plain-update,row-lock",
    "--orders",
    "2",
    "--seeds=20",
];

fn compare(extra: &[&str]) -> std::process::Output {
    let mut args = COMPARE.to_vec();
    args.extend_from_slice(extra);
    stockrace(&args)
}

fn is_compare_json(text: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(text)
        .map(|v| v["results"].as_array().is_some_and(|r| r.len() == 2))
        .unwrap_or(false)
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn json_out_and_svg_write_through_a_symlink() {
    let dir = tempfile::tempdir().unwrap();
    let (json_target, svg_target) = (dir.path().join("a.json"), dir.path().join("a.svg"));
    fs::write(&json_target, "old").unwrap();
    let (json_link, svg_link) = (dir.path().join("link.json"), dir.path().join("link.svg"));
    std::os::unix::fs::symlink("a.json", &json_link).unwrap();
    // A dangling link: its target is created.
    std::os::unix::fs::symlink(&svg_target, &svg_link).unwrap();
    let output = compare(&["--json-out", path(&json_link), "--svg", path(&svg_link)]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    for link in [&json_link, &svg_link] {
        assert!(fs::symlink_metadata(link).unwrap().file_type().is_symlink());
    }
    assert!(is_compare_json(&fs::read_to_string(&json_target).unwrap()));
    assert!(fs::read_to_string(&svg_target).unwrap().contains("<svg"));
    // No temporary file left behind.
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 4);
}

#[test]
fn a_fifo_is_written_into_not_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("figures.fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || fs::read_to_string(fifo).unwrap())
    };
    let output = compare(&["--json-out", path(&fifo)]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo(),
        "the fifo is still a fifo"
    );
    assert!(is_compare_json(&reader.join().unwrap()));
}

#[test]
fn a_device_that_refuses_the_write_is_exit_2_and_stays_a_device() {
    let output = compare(&["--json-out", "/dev/full"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("cannot write /dev/full"),
        "{}",
        stderr(&output)
    );
    let meta = fs::symlink_metadata("/dev/full").unwrap();
    assert!(meta.file_type().is_char_device(), "/dev/full is untouched");
}

#[test]
fn a_dash_means_stdout_and_the_table_moves_to_stderr() {
    let output = compare(&["--json-out", "-"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(is_compare_json(&stdout(&output)), "{}", stdout(&output));
    assert!(stderr(&output).contains("safe at every level"));
    let output = compare(&["--svg", "-"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).trim_start().starts_with("<svg"));
    let output = compare(&["--svg", "-", "--json-out", "-"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("both on stdout"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn json_is_a_switch_everywhere_and_the_old_file_form_still_works() {
    let output = compare(&["--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(is_compare_json(&stdout(&output)), "{}", stdout(&output));
    assert!(stderr(&output).is_empty(), "{}", stderr(&output));

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("old.json");
    let output = compare(&["--json", path(&file)]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).contains("safe at every level"));
    assert!(is_compare_json(&fs::read_to_string(&file).unwrap()));
    assert!(
        stderr(&output).contains("`--json FILE` is deprecated: use `--json-out FILE`"),
        "{}",
        stderr(&output)
    );

    // sweep and merge take --json-out too: text on stdout, JSON in the file.
    let shard = dir.path().join("sweep.json");
    let output = stockrace(&[
        "sweep",
        "--strategy",
        "row-lock",
        "--seeds",
        "10",
        "--json-out",
        path(&shard),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).contains("every invariant held"));
    let merged = dir.path().join("merged.json");
    let output = stockrace(&["merge", path(&shard), "--json-out", path(&merged)]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).contains("seeds 0..10: 10 runs"));
    assert_eq!(
        fs::read_to_string(&merged).unwrap(),
        fs::read_to_string(&shard).unwrap()
    );
}

#[test]
fn a_directory_is_refused_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let output = compare(&["--json-out", path(dir.path())]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("is a directory"),
        "{}",
        stderr(&output)
    );
    assert!(output.stdout.is_empty());
}
