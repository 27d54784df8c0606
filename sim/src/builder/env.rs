//! What a builder reads from its surroundings: the environment variables
//! that pick what runs, the test's name, the test crate's directory, and
//! printing that a test's output capture does not swallow.

use super::{SEEDS_ENV, SEED_ENV};
use crate::regression::REPLAY_ENV;
use std::io::Write;
use std::path::{Path, PathBuf};

/// What [`super::Builder::run`] does.
pub(super) enum Mode {
    /// Replay the kept files, then sweep.
    Sweep,
    /// `STOCKRACE_SEED=N`: just seed N, printed.
    Seed(u64),
    /// `STOCKRACE_REPLAY=FILE`: just that file, printed.
    Replay(PathBuf),
}

/// A variable's value, unset when empty (`STOCKRACE_SEED= cargo test`).
fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

#[track_caller]
pub(super) fn mode() -> Mode {
    match (var(SEED_ENV), var(REPLAY_ENV)) {
        (Some(seed), Some(file)) => panic!(
            "stockrace: {SEED_ENV}={seed} and {REPLAY_ENV}={file} are both set: set one (a seed runs the test's scenario, a kept file its own)"
        ),
        (Some(seed), None) => match parse_number(&seed) {
            Ok(seed) => Mode::Seed(seed),
            Err(why) => panic!("stockrace: {SEED_ENV}={seed:?}: {why} (a seed, such as 17)"),
        },
        (None, Some(file)) => Mode::Replay(PathBuf::from(file)),
        (None, None) => Mode::Sweep,
    }
}

/// `STOCKRACE_SEEDS`, if set. Panics with what to write instead on a
/// value that is not a whole number.
#[track_caller]
pub(super) fn seed_count() -> Option<u64> {
    let text = var(SEEDS_ENV)?;
    match parse_number(&text) {
        Ok(n) => Some(n),
        Err(why) => panic!(
            "stockrace: {SEEDS_ENV}={text:?}: {why} (a number of seeds, such as 1000 or 1_000_000)"
        ),
    }
}

/// A whole number, digits with optional `_` separators. Anything else
/// says why, and for a number written another way (`1e6`, `1000.0`) what
/// to write instead.
pub(super) fn parse_number(text: &str) -> Result<u64, String> {
    let trimmed = text.trim();
    let digits: String = trimmed.chars().filter(|c| *c != '_').collect();
    if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) {
        return digits
            .parse::<u64>()
            .map_err(|_| format!("too large (at most {})", u64::MAX));
    }
    match trimmed.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v < 1.8e19 => Err(format!(
            "not a whole number as written; write it out: {}",
            v as u64
        )),
        _ => Err("not a whole number".to_string()),
    }
}

/// The running test's name (libtest names each test's thread after it),
/// for the commands a message prints.
pub(super) fn test_name() -> Option<String> {
    std::thread::current()
        .name()
        .filter(|n| *n != "main")
        .map(str::to_string)
}

/// Prints straight to stderr, past the test harness's output capture: what
/// the user asked to see (a replay), or must see once (stale files).
pub(super) fn say(text: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_all(text.as_bytes());
    let _ = stderr.flush();
}

/// The test crate's directory: `CARGO_MANIFEST_DIR` as cargo sets it when
/// it runs a test binary; else (the binary run directly) the crate that
/// holds `caller_file`, the source file of the `Builder::new` call, which
/// the compiler recorded relative to where it ran (the workspace root,
/// found from the current directory or the binary's own location).
pub(super) fn crate_dir(caller_file: &str) -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("CARGO_MANIFEST_DIR") {
        return Ok(PathBuf::from(dir));
    }
    let file = Path::new(caller_file);
    let mut roots: Vec<PathBuf> = Vec::new();
    if file.is_absolute() {
        roots.push(PathBuf::new());
    } else {
        roots.extend(std::env::current_dir().ok());
        if let Ok(exe) = std::env::current_exe() {
            roots.extend(exe.ancestors().skip(1).map(Path::to_path_buf));
        }
    }
    let found = roots
        .iter()
        .map(|root| root.join(file))
        .find(|f| f.is_file());
    let manifest = found.as_deref().and_then(|f| {
        f.ancestors()
            .skip(1)
            .find(|dir| dir.join("Cargo.toml").is_file())
            .map(Path::to_path_buf)
    });
    manifest.ok_or_else(|| {
        format!(
            "cannot tell which crate's seeds/ to use: CARGO_MANIFEST_DIR is not set (the test binary was run directly, not by cargo) and {caller_file} was not found from the current directory or the binary's; give .seeds_dir(stockrace::seeds_dir!()) to fix the directory when the test compiles"
        )
    })
}

/// A path the user gave relative to the test crate (a scenario file, a
/// kept file): as is when absolute or found from the current directory,
/// else in the crate.
pub(super) fn in_crate(path: &Path, caller_file: &str) -> PathBuf {
    if path.is_absolute() || path.exists() {
        return path.to_path_buf();
    }
    match crate_dir(caller_file) {
        Ok(dir) => dir.join(path),
        Err(_) => path.to_path_buf(),
    }
}

/// `path` as a message shows it: relative to the crate when inside it
/// (where cargo runs tests, so it works as typed), else whole.
pub(super) fn shown(path: &Path, crate_dir: Option<&Path>) -> String {
    crate_dir
        .and_then(|dir| path.strip_prefix(dir).ok())
        .unwrap_or(path)
        .display()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::parse_number;

    #[test]
    fn numbers_are_whole_or_say_what_to_write() {
        assert_eq!(parse_number("1000"), Ok(1000));
        assert_eq!(parse_number(" 1_000_000 "), Ok(1_000_000));
        assert_eq!(
            parse_number("1e6"),
            Err("not a whole number as written; write it out: 1000000".to_string())
        );
        assert_eq!(
            parse_number("2.0"),
            Err("not a whole number as written; write it out: 2".to_string())
        );
        for bad in ["abc", "-5", "1.5", "", "99999999999999999999"] {
            assert!(parse_number(bad).is_err(), "{bad}");
        }
    }
}
