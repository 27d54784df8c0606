//! The README's "Use it in your crate", run as a user runs it.
//! `examples/your-crate` (a crate of its own with stockrace as a lean
//! dev-dependency, its own `.cargo/config.toml` and `Cargo.lock`) is copied
//! out of the repository, so that only its own config file applies, pointed
//! at this checkout, and tested with `cargo test --locked --offline`. Its
//! compiled dependencies stay in `target/user-crate` between runs: the first
//! run builds them (about two minutes on a busy 2-core machine); later runs
//! compile only what changed in this checkout and the example.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const EXAMPLE: &str = "examples/your-crate";
const PATH_DEPENDENCY: &str = r#"stockrace = { path = "../..", default-features = false }"#;

/// Copies `from` into `to`, leaving a file alone when its content is already
/// there (so cargo's fingerprints stay fresh between runs).
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == "target" || name == "seeds" {
            continue;
        }
        let (source, dest) = (entry.path(), to.join(&name));
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&source, &dest);
        } else {
            write_if_changed(&dest, &std::fs::read(&source).unwrap());
        }
    }
}

fn write_if_changed(path: &Path, content: &[u8]) {
    if std::fs::read(path).ok().as_deref() != Some(content) {
        std::fs::write(path, content).unwrap();
    }
}

/// The example crate, outside the repository (whose own .cargo/config.toml
/// would otherwise apply too), depending on this checkout by absolute path.
fn user_crate(root: &Path) -> PathBuf {
    // One copy per checkout, so that two checkouts' runs do not share one.
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    root.hash(&mut hasher);
    let dir = std::env::temp_dir()
        .join(format!("stockrace-user-crate-{:016x}", hasher.finish()))
        .join("your-crate");
    // A failure kept by an earlier run would be replayed first.
    let _ = std::fs::remove_dir_all(dir.join("seeds"));
    copy_tree(&root.join(EXAMPLE), &dir);
    let manifest = std::fs::read_to_string(root.join(EXAMPLE).join("Cargo.toml")).unwrap();
    assert_eq!(
        manifest.matches(PATH_DEPENDENCY).count(),
        1,
        "the example depends on this checkout, without default features:\n{manifest}"
    );
    let root_path = root.to_str().expect("a UTF-8 path");
    assert!(!root_path.contains('\''), "{root_path}");
    let pointed = manifest.replace(
        PATH_DEPENDENCY,
        &format!("stockrace = {{ path = '{root_path}', default-features = false }}"),
    );
    write_if_changed(&dir.join("Cargo.toml"), pointed.as_bytes());
    dir
}

#[test]
fn the_readme_setup_builds_lean_and_finds_the_oversell() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));

    // Lean: the committed lock file (which --locked holds the manifest to)
    // has none of the command line's or the adapters' dependencies.
    let lock = std::fs::read_to_string(root.join(EXAMPLE).join("Cargo.lock")).unwrap();
    for heavy in [
        "clap",
        "plotters",
        "indicatif",
        "tokio-postgres",
        "stockrace-adapters",
    ] {
        assert!(
            !lock.contains(&format!("name = \"{heavy}\"")),
            "{heavy} is in {EXAMPLE}/Cargo.lock: the example must depend on stockrace with default-features = false"
        );
    }

    let dir = user_crate(root);
    assert!(dir.join(".cargo/config.toml").is_file());
    let started = Instant::now();
    let mut cargo = Command::new(env!("CARGO"));
    cargo
        .args(["test", "--locked", "--offline", "--", "--show-output"])
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", root.join("target").join("user-crate"))
        .env("CARGO_TERM_COLOR", "never");
    // The crate's own .cargo/config.toml must be what sets --cfg madsim.
    for var in [
        "RUSTFLAGS",
        "RUSTDOCFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_ENCODED_RUSTDOCFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_BUILD_RUSTDOCFLAGS",
    ] {
        cargo.env_remove(var);
    }
    let output = cargo.output().expect("run cargo");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    eprintln!(
        "cargo test in {} took {:.1} s",
        dir.display(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        output.status.success(),
        "cargo test failed in {} (if a package is missing offline, refresh {EXAMPLE}/Cargo.lock: \
         copy the root Cargo.lock there and run `cargo metadata` in it):\n{stderr}\n{stdout}",
        dir.display()
    );
    for passed in [
        "test checkout_for_update_never_oversells ... ok",
        "test read_then_write_oversells ... ok",
    ] {
        assert!(stdout.contains(passed), "no {passed:?} in:\n{stdout}");
    }
    // The broken path's failure, as the example prints it: the seed, the
    // schedule and the timeline that ends in the oversell.
    for shown in [
        "read-then-write oversold at seed ",
        ", schedule [",
        "VIOLATED no-oversell",
    ] {
        assert!(stdout.contains(shown), "no {shown:?} in:\n{stdout}");
    }
}
