//! Scenario files: the examples under scenarios/ load and run; a malformed
//! file gets its path, line and reason, exit status 2, and nothing written.

use std::fs;
use std::path::Path;
use std::process::Command;
use stockrace::{Scenario, Simulation, Strategies};

fn builtin(name: &str) -> bool {
    Strategies::builtin().get(name).is_some()
}

#[test]
fn every_example_scenario_loads_and_runs() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut examples = 0;
    for entry in fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let scenario = Scenario::load(&path, builtin).unwrap_or_else(|e| panic!("{e}"));
        let simulation = Simulation::new(scenario, &Strategies::builtin()).unwrap();
        let report = stockrace::sweep(&simulation, 0..20, false);
        assert!(report.panic.is_none(), "{}", path.display());
        examples += 1;
    }
    assert!(
        examples >= 5,
        "at least five example scenarios, found {examples}"
    );
}

#[test]
fn count_spells_orders_out() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/flash-sale.toml");
    let scenario = Scenario::load(&path, builtin).unwrap();
    assert_eq!(scenario.orders.len(), 1);
    let simulation = Simulation::new(scenario, &Strategies::builtin()).unwrap();
    assert_eq!(simulation.scenario().orders.len(), 64);
    assert!(simulation.scenario().orders.iter().all(|o| o.count == 1));
}

const GOOD: &str = "[[levels]]
item = \"a\"
location = \"w\"
stocked = 3

[[orders]]
strategy = \"row-lock\"
lines = [{ level = 1, quantity = 1 }]

[[orders]]
strategy = \"row-lock\"
lines = [{ level = 1, quantity = 2 }]
";

#[test]
fn a_malformed_scenario_names_the_file_the_line_and_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            GOOD.replace("stocked = 3", "stocked = -3"),
            4,
            "levels[0].stocked: -3 is negative",
        ),
        (
            GOOD.replace("quantity = 2", "quantity = 0"),
            12,
            "orders[1].lines[0].quantity: 0 is not a positive quantity",
        ),
        (
            GOOD.replace("level = 1, quantity = 2", "level = 7, quantity = 2"),
            12,
            "orders[1].lines[0].level: no inventory level with id 7",
        ),
        (
            GOOD.replacen("strategy = \"row-lock\"", "strategy = \"row-lok\"", 1),
            7,
            "orders[0].strategy: unknown strategy \"row-lok\"",
        ),
        (
            GOOD.replace("stocked = 3", "stocked = 3\ncolour = \"red\""),
            5,
            "unknown field `colour`",
        ),
        (
            GOOD.replace("stocked = 3", "stocked = \"three\""),
            4,
            "invalid type: string \"three\", expected i64",
        ),
    ];
    for (i, (text, line, reason)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("case-{i}.toml"));
        fs::write(&path, text).unwrap();
        let error = Scenario::load(&path, builtin).expect_err("malformed");
        assert_eq!(error.line, Some(*line), "case {i}: {error}");
        assert!(
            error
                .to_string()
                .starts_with(&format!("{}:{line}: ", path.display())),
            "case {i}: {error}"
        );
        assert!(error.reason.contains(reason), "case {i}: {error}");
    }
}

fn stockrace(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_stockrace"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn the_command_line_takes_a_scenario_file() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/last-unit.toml");
    let example = example.to_str().unwrap();
    let broken = stockrace(&["sweep", "--scenario", example, "--seeds", "20"]);
    assert_eq!(broken.status.code(), Some(1));
    let text = String::from_utf8_lossy(&broken.stdout).to_string();
    assert!(
        text.contains(&format!(
            "replay: stockrace replay --scenario {example} --seed"
        )),
        "{text}"
    );
    let fixed = stockrace(&[
        "sweep",
        "--scenario",
        example,
        "--strategy",
        "guarded-decrement",
        "--seeds",
        "50",
    ]);
    assert_eq!(
        fixed.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&fixed.stdout)
    );

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    fs::write(&bad, GOOD.replace("stocked = 3", "stocked = -3")).unwrap();
    let output = stockrace(&["sweep", "--scenario", bad.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(
        message.contains(&format!(
            "{}:4: levels[0].stocked: -3 is negative",
            bad.display()
        )),
        "{message}"
    );
    assert!(output.stdout.is_empty());
    assert_eq!(
        fs::read_dir(dir.path()).unwrap().count(),
        1,
        "nothing written"
    );

    let conflict = stockrace(&["sweep", "--scenario", example, "--stock", "3"]);
    assert_eq!(
        conflict.status.code(),
        Some(2),
        "shape flags do not mix with a scenario file"
    );
}
