//! Running `stockrace app` from a test: the server turn, the child
//! process (killed if it hangs), and what a run may leave behind (the
//! databases named after its pid, its order processes).
#![allow(dead_code)] // each test file uses what it needs
use crate::command::{stderr, stdout};
use serde_json::Value;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Longest any one invocation here may take before the test calls it hung.
pub const HUNG: Duration = Duration::from_secs(180);

/// The server is reachable (or the test should return, having said why).
/// Takes the turn every app test of this file holds while it runs.
pub fn turn() -> Option<MutexGuard<'static, ()>> {
    static TURN: Mutex<()> = Mutex::new(());
    let guard = TURN.lock().unwrap_or_else(|p| p.into_inner());
    crate::postgres::server().map(|_| guard)
}

pub fn example(name: &str) -> String {
    format!("{}/examples/psql/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Runs `stockrace` with `args` and returns what it printed and its pid
/// (the databases it makes are named `stockrace_<kind>_<pid>_<n>`).
pub fn run(args: &[&str]) -> (Output, u32) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_stockrace"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start stockrace");
    let pid = child.id();
    let output = finish(&mut child, args);
    (output, pid)
}

/// Waits for `child` (killing it if it hangs) and collects its output.
pub fn finish(child: &mut std::process::Child, args: &[&str]) -> Output {
    let mut out = child.stdout.take().expect("piped");
    let mut err = child.stderr.take().expect("piped");
    let out_reader = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = out.read_to_end(&mut b);
        b
    });
    let err_reader = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = err.read_to_end(&mut b);
        b
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for stockrace") {
            break status;
        }
        if started.elapsed() > HUNG {
            let _ = child.kill();
            let _ = child.wait();
            panic!("stockrace {args:?} ran past {HUNG:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: out_reader.join().unwrap(),
        stderr: err_reader.join().unwrap(),
    }
}

pub fn code(output: &Output) -> Option<i32> {
    output.status.code()
}

/// Everything it printed, for assertion messages.
pub fn shown(output: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        stdout(output),
        stderr(output)
    )
}

pub fn json_of(output: &Output) -> Value {
    serde_json::from_str(&stdout(output))
        .unwrap_or_else(|e| panic!("--json printed no JSON ({e}):\n{}", shown(output)))
}

/// One query on the server (psql reads the PG* variables).
pub fn psql(sql: &str) -> String {
    let output = Command::new("psql")
        .args(["-XAtc", sql])
        .output()
        .expect("run psql");
    assert!(
        output.status.success(),
        "psql -c {sql:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// Databases any stockrace app run made and did not drop.
pub fn app_databases() -> Vec<String> {
    let names = psql(
        "SELECT datname FROM pg_database \
         WHERE datname LIKE 'stockrace\\_run\\_%' OR datname LIKE 'stockrace\\_template\\_%' \
         ORDER BY datname",
    );
    names.lines().map(str::to_string).collect()
}

/// No database appeared since `before` (a list from [`app_databases`])
/// but those of other stockrace processes still running: someone else may
/// use the server meanwhile, and their runs' databases are theirs.
/// `ours` are the stockrace processes this test started (all ended).
pub fn assert_no_new_databases(before: &[String], ours: &[u32], what: &str) {
    let owner = |name: &str| -> Option<u32> {
        // stockrace_<kind>_<pid>_<n>
        let mut parts = name.rsplitn(3, '_');
        let _n = parts.next()?;
        parts.next()?.parse().ok()
    };
    let new: Vec<String> = app_databases()
        .into_iter()
        .filter(|d| !before.contains(d))
        .filter(|d| match owner(d) {
            Some(pid) => ours.contains(&pid) || !Path::new(&format!("/proc/{pid}")).exists(),
            None => true,
        })
        .collect();
    assert!(
        new.is_empty(),
        "{what}: databases left behind (by this test's runs {ours:?}, or by a process that has ended): {new:?}"
    );
}

/// Databases the stockrace process `pid` made and did not drop.
pub fn databases_of(pid: u32) -> Vec<String> {
    let names = psql(&format!(
        "SELECT datname FROM pg_database WHERE datname ~ '^stockrace_[a-z]+_{pid}_[0-9]+$'"
    ));
    names.lines().map(str::to_string).collect()
}

/// Live processes whose environment says they were started by the
/// stockrace process `pid` (an order's PGDATABASE names its run database).
pub fn processes_of(pid: u32) -> Vec<String> {
    let needle = format!("PGDATABASE=stockrace_run_{pid}_");
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return found;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Ok(environ) = std::fs::read(entry.path().join("environ")) else {
            continue;
        };
        if environ
            .split(|&b| b == 0)
            .any(|var| var.starts_with(needle.as_bytes()))
        {
            let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            found.push(format!("{name}: {}", cmdline.trim()));
        }
    }
    found
}

/// `pgrep -f pattern`: pids of live processes whose command line matches.
pub fn pgrep(pattern: &str) -> Vec<String> {
    let output = Command::new("pgrep")
        .args(["-f", pattern])
        .output()
        .expect("run pgrep");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// Waits up to a second for `probe` to find nothing (a killed process may
/// take a moment to go), then returns what it still finds.
pub fn settled<T>(probe: impl Fn() -> Vec<T>) -> Vec<T> {
    let started = Instant::now();
    loop {
        let left = probe();
        if left.is_empty() || started.elapsed() > Duration::from_secs(1) {
            return left;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Nothing the stockrace process `pid` started is left: no database, no
/// process.
pub fn assert_nothing_left(pid: u32, what: &str) {
    let databases = databases_of(pid);
    assert!(
        databases.is_empty(),
        "{what}: databases left behind: {databases:?}"
    );
    let processes = settled(|| processes_of(pid));
    assert!(
        processes.is_empty(),
        "{what}: processes left behind: {processes:?}"
    );
}
