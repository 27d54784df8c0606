//! Running the `stockrace` binary from a test, and reading what it printed.
#![allow(dead_code)] // each test file uses what it needs

use std::process::{Command, Output};

pub fn stockrace(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stockrace"))
        .args(args)
        .output()
        .expect("run stockrace")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The binary as a [`Command`], to redirect or run elsewhere before running.
pub fn command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_stockrace"));
    command.args(args);
    command
}

/// Runs `stockrace` in `dir`.
pub fn stockrace_in(dir: &std::path::Path, args: &[&str]) -> Output {
    command(args)
        .current_dir(dir)
        .output()
        .expect("run stockrace")
}
