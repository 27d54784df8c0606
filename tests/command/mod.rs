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
