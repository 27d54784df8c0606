//! `stockrace app` given bad input (exit status 2, a message naming the
//! thing), and that nothing a run starts (databases, processes) outlives
//! it: after setup failures, hung runs and Ctrl-C.
//!
//! The server is the one the PG* variables name. Without one every test
//! says it was skipped; under `CI=true` a missing server is a failure.

mod app_cli;
mod command;
mod postgres;

use app_cli::*;
use command::{stderr, stdout};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------
// 6. Bad input: exit status 2, a message naming the thing, nothing left.

/// An app file in a fresh folder, with `setup.sql` beside it.
struct AppDir {
    dir: tempfile::TempDir,
}

impl AppDir {
    fn new() -> AppDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(example("setup.sql"), dir.path().join("setup.sql")).unwrap();
        AppDir { dir }
    }

    fn file(&self, name: &str, text: &str) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_string()
    }
}

const CHECK: &str =
    "\n[[check]]\nname = \"no-oversell\"\nsql = \"SELECT :sold AS sold WHERE :sold > 1\"\n";

/// Runs the app file; it must be refused with exit status 2, its message
/// containing every one of `expected`, and leave nothing behind.
fn refused(file: &str, extra: &[&str], expected: &[&str]) -> (String, u32) {
    let mut args = vec!["app", file, "--seeds", "1"];
    args.extend_from_slice(extra);
    let (output, pid) = run(&args);
    assert_eq!(code(&output), Some(2), "{file}: {}", shown(&output));
    let message = stderr(&output);
    for want in expected {
        assert!(
            message.contains(want),
            "{file}: the message does not contain {want:?}:\n{}",
            shown(&output)
        );
    }
    assert!(
        stdout(&output).trim().is_empty(),
        "{file}: bad input printed a report:\n{}",
        shown(&output)
    );
    assert_nothing_left(pid, file);
    (message, pid)
}

#[test]
fn bad_app_files_are_refused() {
    let Some(_turn) = turn() else { return };
    let dir = AppDir::new();

    let file = dir.file(
        "malformed.toml",
        &format!("# two orders\norders = \"two\"\ncommand = [\"sh\", \"-c\", \"true\"]\n{CHECK}"),
    );
    let (message, _) = refused(&file, &[], &[&file]);
    assert!(
        message.contains(":2:") || message.contains("orders"),
        "{message}"
    );

    let file = dir.file(
        "unknown.toml",
        &format!("orders = 2\ncolour = \"red\"\ncommand = [\"sh\", \"-c\", \"true\"]\n{CHECK}"),
    );
    refused(&file, &[], &[&file, "colour"]);

    let missing = dir.dir.path().join("missing.toml");
    refused(missing.to_str().unwrap(), &[], &[missing.to_str().unwrap()]);
}

#[test]
fn commands_that_cannot_run_are_refused() {
    let Some(_turn) = turn() else { return };
    let dir = AppDir::new();

    let file = dir.file(
        "nonexistent.toml",
        &format!("orders = 2\ncommand = [\"/nonexistent/prog\"]\nsetup = \"setup.sql\"\n{CHECK}"),
    );
    refused(&file, &[], &["order T1", "/nonexistent/prog"]);

    let file = dir.file(
        "exits.toml",
        &format!(
            "orders = 2\ncommand = [\"sh\", \"-c\", \"echo oops >&2; exit 3\"]\nsetup = \"setup.sql\"\n{CHECK}"
        ),
    );
    refused(&file, &[], &["before printing `stockrace: ready`", "oops"]);

    let file = dir.file(
        "never-ready.toml",
        &format!(
            "orders = 2\ncommand = [\"sleep\", \"30.417\"]\nsetup = \"setup.sql\"\nready_timeout_ms = 1500\n{CHECK}"
        ),
    );
    let started = Instant::now();
    refused(&file, &[], &["did not print", "ready_timeout_ms"]);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "the ready timeout of 1.5 s took {:?}",
        started.elapsed()
    );
    let left = settled(|| pgrep("sleep 30.417"));
    assert!(left.is_empty(), "order processes left: {left:?}");
}

#[test]
fn a_failing_check_is_refused_with_the_servers_error() {
    let Some(_turn) = turn() else { return };
    let dir = AppDir::new();
    let file = dir.file(
        "bad-check.toml",
        "orders = 2\n\
         command = [\"sh\", \"-c\", \"echo 'stockrace: ready'; echo 'stockrace: sold 1'\"]\n\
         setup = \"setup.sql\"\n\
         [[check]]\n\
         name = \"broken\"\n\
         sql = \"SELECT nonsense FROM nowhere\"\n",
    );
    refused(&file, &[], &["broken", "nowhere"]);
}

#[test]
fn no_server_says_how_to_start_one() {
    // Needs no server: it is about there being none.
    let _turn = {
        static NO_SERVER: Mutex<()> = Mutex::new(());
        NO_SERVER.lock().unwrap_or_else(|p| p.into_inner())
    };
    let (output, _) = run(&[
        "app",
        &example("read-then-write.toml"),
        "--seeds",
        "1",
        "--pg",
        "postgresql://u:p@127.0.0.1:1/x",
    ]);
    assert_eq!(code(&output), Some(2), "{}", shown(&output));
    let message = stderr(&output);
    assert!(message.contains("127.0.0.1"), "{}", shown(&output));
    assert!(message.contains("pg_virtualenv"), "{}", shown(&output));
}

// ---------------------------------------------------------------------------
// 7. Nothing is left behind: databases and processes.

#[test]
fn nothing_is_left_behind() {
    let Some(_turn) = turn() else { return };
    let before = app_databases();

    // A setup that fails: the template is made, then refused.
    let dir = AppDir::new();
    dir.file(
        "bad-setup.sql",
        "CREATE TABLE t (id int);\nINSERT INTO no_such_table VALUES (1);\n",
    );
    let file = dir.file(
        "bad-setup.toml",
        &format!(
            "orders = 2\ncommand = [\"sh\", \"-c\", \"true\"]\nsetup = \"bad-setup.sql\"\n{CHECK}"
        ),
    );
    let (_, failed_setup) = refused(&file, &[], &["bad-setup.sql", "no_such_table"]);
    assert_no_new_databases(&before, &[failed_setup], "after a failing setup");

    // A normal sweep.
    let (output, pid) = run(&["app", &example("guarded.toml"), "--seeds", "2"]);
    assert_eq!(code(&output), Some(0), "{}", shown(&output));
    assert_nothing_left(pid, "a normal sweep");
    assert_no_new_databases(&before, &[failed_setup, pid], "after a normal sweep");
    let normal = pid;

    // A run whose order never exits: reported as hung, and its processes
    // (the shell and the sleep it started) are gone.
    let file = dir.file(
        "hangs.toml",
        &format!(
            "orders = 1\ncommand = [\"sh\", \"-c\", \"echo stockrace: ready; sleep 1234 & wait\"]\nrun_timeout_ms = 2000\n{CHECK}"
        ),
    );
    let (output, pid) = run(&["app", &file, "--seeds", "1"]);
    assert_eq!(code(&output), Some(1), "{}", shown(&output));
    assert!(
        stdout(&output).contains("termination"),
        "{}",
        shown(&output)
    );
    assert_nothing_left(pid, "a hung run");
    let left = settled(|| pgrep("sleep 1234"));
    assert!(left.is_empty(), "processes left: {left:?}");
    assert_no_new_databases(&before, &[failed_setup, normal, pid], "after a hung run");
}

// ---------------------------------------------------------------------------
// 8. Ctrl-C stops the sweep, reports the runs done and cleans up.

#[test]
fn ctrl_c_stops_and_cleans_up() {
    let Some(_turn) = turn() else { return };
    let before = app_databases();
    let args = ["app", &example("read-then-write.toml"), "--seeds", "1000"];
    let mut child = Command::new(env!("CARGO_BIN_EXE_stockrace"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start stockrace");
    let pid = child.id();
    std::thread::sleep(Duration::from_millis(1500));
    let killed = Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(killed.success(), "kill -INT {pid}");
    let started = Instant::now();
    let output = finish(&mut child, &args);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "stopping took {:?}",
        started.elapsed()
    );
    assert_eq!(code(&output), Some(130), "{}", shown(&output));
    let text = stdout(&output);
    assert!(text.contains("interrupted"), "{}", shown(&output));
    assert!(
        !text.contains("1000 runs"),
        "it ran every seed:\n{}",
        shown(&output)
    );
    assert_nothing_left(pid, "Ctrl-C");
    assert_no_new_databases(&before, &[pid], "after Ctrl-C");
}
