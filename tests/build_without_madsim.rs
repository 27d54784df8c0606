//! Building without `--cfg madsim` must stop with one message that says what
//! to put in `.cargo/config.toml`, in the two ways a user drops the flag: a
//! RUSTFLAGS variable, and `--manifest-path` from another directory. It
//! compiles the dependencies a second time (about a minute, shared by both
//! cases), so it is ignored by default:
//! `cargo test --test build_without_madsim -- --ignored`.

use std::path::Path;
use std::process::{Command, Output};

/// Both builds use no rustflags at all, so the second reuses the first's
/// dependencies.
fn build_sim(current_dir: &Path, rustflags_variable: Option<&str>) -> Output {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target = std::env::temp_dir().join("stockrace-build-without-madsim");
    let mut cargo = Command::new(env!("CARGO"));
    cargo
        .arg("build")
        .arg("--manifest-path")
        .arg(root.join("Cargo.toml"))
        .args(["-p", "stockrace-sim", "--target-dir"])
        .arg(&target)
        .current_dir(current_dir)
        // Debug info is not what is tested; leaving it out halves the time.
        .env("CARGO_PROFILE_DEV_DEBUG", "0");
    for var in [
        "RUSTFLAGS",
        "RUSTDOCFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_TARGET_DIR",
    ] {
        cargo.env_remove(var);
    }
    if let Some(value) = rustflags_variable {
        cargo.env("RUSTFLAGS", value);
    }
    cargo.output().expect("run cargo")
}

fn assert_explains_the_fix(output: &Output, case: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success(),
        "{case}: the build must fail:\n{stderr}"
    );
    for needed in [
        "stockrace-sim needs `--cfg madsim`",
        "`.cargo/config.toml`",
        "[build]",
        r#"rustflags = ["--cfg", "madsim"]"#,
        r#"rustdocflags = ["--cfg", "madsim"]"#,
        "not from the crate that `--manifest-path` names",
        "A RUSTFLAGS (or RUSTDOCFLAGS, for doc tests) environment variable replaces",
    ] {
        assert!(
            stderr.contains(needed),
            "{case}: no {needed:?} in:\n{stderr}"
        );
    }
    assert_eq!(
        stderr.matches("error[").count(),
        0,
        "{case}: no other errors drown the message:\n{stderr}"
    );
    assert_eq!(
        stderr.matches("error: stockrace-sim needs").count(),
        1,
        "{case}: said once:\n{stderr}"
    );
}

#[test]
#[ignore = "builds the crate a second time without --cfg madsim (about a minute)"]
fn building_without_the_madsim_cfg_explains_the_fix() {
    // From the repository root, whose .cargo/config.toml sets the flag, a
    // RUSTFLAGS variable (even an empty one) replaces it.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    assert!(root.join(".cargo/config.toml").is_file());
    let output = build_sim(root, Some(""));
    assert_explains_the_fix(&output, "RUSTFLAGS set");

    // From a directory with no config file, `--manifest-path` pointing at a
    // crate whose directory has one: cargo does not read it.
    let elsewhere = tempfile::tempdir().unwrap();
    let output = build_sim(elsewhere.path(), None);
    assert_explains_the_fix(&output, "--manifest-path from elsewhere");
}
