//! Building without `--cfg madsim` must stop with one message that says how
//! to fix it. It compiles the dependencies a second time (about a minute), so
//! it is ignored by default: `cargo test --test build_without_madsim -- --ignored`.

use std::process::Command;

#[test]
#[ignore = "builds the crate a second time without --cfg madsim (about a minute)"]
fn building_without_the_madsim_cfg_explains_the_fix() {
    let target = std::env::temp_dir().join("stockrace-build-without-madsim");
    let output = Command::new(env!("CARGO"))
        .args(["build", "-p", "stockrace-sim", "--target-dir"])
        .arg(&target)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        // A RUSTFLAGS variable replaces .cargo/config.toml's `--cfg madsim`.
        .env("RUSTFLAGS", "-C debuginfo=0")
        .output()
        .expect("run cargo");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "the build must fail:\n{stderr}");
    assert!(
        stderr.contains("stockrace-sim needs the madsim simulator"),
        "{stderr}"
    );
    assert!(stderr.contains("RUSTFLAGS=\"--cfg madsim\""), "{stderr}");
    assert_eq!(
        stderr.matches("error[").count(),
        0,
        "no other errors drown the message:\n{stderr}"
    );
}
