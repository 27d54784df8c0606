//! Scenario files: the examples under scenarios/ load and run; a malformed
//! file gets its path, line and reason, exit status 2, and nothing written.

mod command;
use command::stockrace;

use std::fs;
use std::path::Path;

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
        assert_rejected(dir.path(), i, text, *line, reason);
    }
}

/// Writes case `i` to a file; loading it must fail at `line` for `reason`,
/// with the message starting `FILE:LINE: `. Returns the file.
fn assert_rejected(
    dir: &Path,
    i: usize,
    text: &str,
    line: usize,
    reason: &str,
) -> std::path::PathBuf {
    let path = dir.join(format!("case-{i}.toml"));
    fs::write(&path, text).unwrap();
    let error = Scenario::load(&path, builtin).expect_err("malformed");
    assert_eq!(error.line, Some(line), "case {i}: {error}");
    assert!(
        error
            .to_string()
            .starts_with(&format!("{}:{line}: ", path.display())),
        "case {i}: {error}"
    );
    assert!(error.reason.contains(reason), "case {i}: {error}");
    path
}

#[test]
fn a_generator_makes_orders_by_rule_after_the_listed_ones() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/checkout-mix.toml");
    let scenario = Scenario::load(&path, builtin).unwrap();
    let simulation = Simulation::new(scenario, &Strategies::builtin()).unwrap();
    let orders = &simulation.scenario().orders;
    assert_eq!(orders.len(), 16);
    let strategies: Vec<&str> = orders.iter().map(|o| o.strategy.as_str()).collect();
    assert_eq!(
        strategies[..5],
        [
            "guarded-decrement",
            "guarded-decrement",
            "guarded-decrement",
            "plain-update",
            "guarded-decrement"
        ]
    );
    assert_eq!(
        strategies.iter().filter(|s| **s == "plain-update").count(),
        4
    );
    let quantities: Vec<i64> = orders.iter().map(|o| o.lines[0].quantity).collect();
    assert_eq!(quantities[..6], [1, 1, 2, 1, 1, 2]);
    assert_eq!(simulation.scenario().latency.statement_ms, 2);
    // The mix is real: the plain-update path breaks what the guarded one keeps.
    let report = stockrace::sweep(&simulation, 0..200, false);
    assert!(report.tally.violations > 0);
}

#[test]
fn more_orders_than_written_are_taken_in_turn() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/mixed-paths.toml");
    let scenario = Scenario::load(&path, builtin).unwrap();
    let strategies: Vec<String> = scenario
        .with_order_count(7)
        .orders
        .into_iter()
        .map(|o| o.strategy)
        .collect();
    let (g, p) = ("guarded-decrement", "plain-update");
    assert_eq!(strategies, [g, g, p, g, g, p, g]);
    let output = stockrace(&[
        "sweep",
        "--scenario",
        path.to_str().unwrap(),
        "--orders",
        "7",
        "--seeds",
        "5",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(v["scenario"]["orders"].as_array().unwrap().len(), 7);
}

#[test]
fn generators_and_latencies_are_checked_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let base = "[[levels]]\nitem = \"a\"\nlocation = \"w\"\nstocked = 3\n\n[[generate]]\ncount = 4\nstrategies = [\"row-lock\", \"optimistic\"]\nquantities = [1, 2]\n\n[latency]\nstatement_ms = 2\n";
    let cases = [
        (
            base.replace("\"optimistic\"", "\"optimistc\""),
            8,
            "generate[0].strategies[1]: unknown strategy \"optimistc\"",
        ),
        (
            base.replace("[1, 2]", "[1, -2]"),
            9,
            "generate[0].quantities[1]: -2 is not a positive quantity",
        ),
        (
            base.replace("count = 4", "count = 0"),
            7,
            "generate[0].count: must be at least 1",
        ),
        (
            base.replace("count = 4", "count = 4\nlevels = [2]"),
            8,
            "generate[0].levels[0]: no inventory level with id 2",
        ),
        (
            base.replace("statement_ms = 2", "statement_ms = 99999999"),
            12,
            "latency.statement_ms: 99999999 ms is longer than the whole run",
        ),
        (
            base.replace("count = 4", "count = 20000"),
            6,
            "20000 orders in all; at most 10000",
        ),
    ];
    for (i, (text, line, reason)) in cases.iter().enumerate() {
        let path = assert_rejected(dir.path(), i, text, *line, reason);
        let output = stockrace(&["sweep", "--scenario", path.to_str().unwrap()]);
        assert_eq!(output.status.code(), Some(2), "case {i}");
        assert!(output.stdout.is_empty());
    }
    let too_long = stockrace(&["sweep", "--strategy", "row-lock", "--latency-ms", "70000"]);
    assert_eq!(too_long.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&too_long.stderr)
        .contains("--latency-ms: latency.statement_ms: 70000 ms is longer"));
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

    // A path a shell would split is quoted in the printed replay command.
    let spaced = dir.path().join("my scenarios");
    fs::create_dir(&spaced).unwrap();
    let copy = spaced.join("last unit.toml");
    fs::copy(example, &copy).unwrap();
    let text = String::from_utf8_lossy(
        &stockrace(&[
            "sweep",
            "--scenario",
            copy.to_str().unwrap(),
            "--seeds",
            "20",
        ])
        .stdout,
    )
    .to_string();
    assert!(
        text.contains(&format!(
            "replay: stockrace replay --scenario '{}' --seed",
            copy.display()
        )),
        "{text}"
    );

    let conflict = stockrace(&["sweep", "--scenario", example, "--stock", "3"]);
    assert_eq!(
        conflict.status.code(),
        Some(2),
        "shape flags do not mix with a scenario file"
    );
}

#[test]
fn reserved_above_stocked_and_overflowing_numbers_are_rejected_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let base = "[[levels]]\nitem = \"a\"\nlocation = \"w\"\nstocked = 1\nreserved = 0\n\n[[orders]]\nstrategy = \"reservation\"\nlines = [{ level = 1, quantity = 1 }]\n";
    let max = i64::MAX.to_string();
    let cases = [
        (
            base.replace("reserved = 0", "reserved = 5"),
            5,
            "levels[0].reserved: 5 reserved but only 1 stocked",
        ),
        (
            base.replace("stocked = 1", &format!("stocked = {max}")),
            4,
            "overflows 64-bit arithmetic",
        ),
        (
            base.replace("quantity = 1", &format!("quantity = {max}")),
            9,
            "overflows 64-bit arithmetic",
        ),
        (
            format!(
                "{base}\n[latency]\nstatement_ms = {max}\n\n[budget]\nmax_virtual_ms = {max}\n"
            ),
            12,
            "latency.statement_ms: 9223372036854775807 ms is more than",
        ),
        (
            format!("{base}\n[arrivals]\nwindow_ms = {max}\n"),
            12,
            "arrivals.window_ms: 9223372036854775807 ms is more than",
        ),
    ];
    for (i, (text, line, reason)) in cases.iter().enumerate() {
        let path = assert_rejected(dir.path(), i, text, *line, reason);
        let output = stockrace(&["sweep", "--scenario", path.to_str().unwrap()]);
        assert_eq!(output.status.code(), Some(2), "case {i}");
        assert!(output.stdout.is_empty(), "case {i}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains(&format!("{}:{line}: ", path.display())),
            "case {i}: {stderr}"
        );
    }
}

/// scenarios/stalled-check.toml is the deep race PCT is for: one
/// atomic-decrement order (T1) buys the last of three watches only if its
/// check runs before the last of three bundle checkouts (T2-T4) commits and
/// its decrement after all three. PCT finds it within a few hundred seeds;
/// only no-oversell breaks; and the minimal story has that shape.
#[test]
fn the_stalled_check_breaks_only_when_the_check_outlasts_the_bundles() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/stalled-check.toml");
    let scenario = Scenario::load(&path, builtin).unwrap();
    let simulation = Simulation::new(scenario, &Strategies::builtin()).unwrap();
    assert_eq!(simulation.scenario().orders.len(), 4);
    let chooser = stockrace::SeedChooser::Pct {
        depth: 3,
        k: simulation.pct_steps(),
    };
    let report = stockrace::Sweep::new(&simulation, 0..200)
        .chooser(chooser)
        .run();
    assert!(report.tally.violations > 0, "PCT finds it");
    assert_eq!(
        report.tally.by_invariant.keys().collect::<Vec<_>>(),
        [&stockrace::Invariant::NoOversell],
        "no update is lost: the watch is only oversold"
    );
    let first = report.first_failure.expect("a failure");
    let shrunk = simulation.shrink(&first.schedule).expect("it fails");
    assert_eq!(
        shrunk.minimal.orders, 4,
        "every bundle sells its watch before T1's write"
    );
    // Read the minimal story (`STEP TIME ACTOR [(resumed)] STATEMENT ...`):
    // where T1 checks, where its write takes effect, where the bundles commit.
    let trace = shrunk.execution.render();
    let steps: Vec<(&str, &str)> = trace
        .lines()
        .filter_map(|l| {
            let mut words = l.split_whitespace().skip(2);
            let actor = words.next()?;
            let what = words.find(|w| *w != "(resumed)")?;
            Some((actor, what))
        })
        .collect();
    let check = steps
        .iter()
        .position(|&s| s == ("T1", "SELECT"))
        .unwrap_or_else(|| panic!("T1 checks:\n{trace}"));
    let write = steps
        .iter()
        .rposition(|&s| s == ("T1", "UPDATE"))
        .unwrap_or_else(|| panic!("T1 writes:\n{trace}"));
    let commits: Vec<usize> = steps
        .iter()
        .enumerate()
        .filter(|(_, &(actor, what))| actor != "T1" && what == "COMMIT")
        .map(|(i, _)| i)
        .collect();
    assert_eq!(commits.len(), 3, "three bundles commit:\n{trace}");
    assert!(
        commits.iter().all(|&c| c < write),
        "T1 writes after every bundle committed:\n{trace}"
    );
    assert!(
        commits.iter().any(|&c| check < c),
        "T1's check outlasts at least one whole bundle checkout:\n{trace}"
    );
}

/// Greedy shrinking alone stalled on the deep race (random seed 118 stayed
/// at 5 preemptions); the preemption-bounded search finds the one-preemption
/// story (T1 stalls once, between its check and its write). No failure has
/// fewer: without a preemption every order runs to its end alone.
#[test]
fn the_deep_race_shrinks_to_one_preemption() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/stalled-check.toml");
    let scenario = Scenario::load(&path, builtin).unwrap();
    let simulation = Simulation::new(scenario, &Strategies::builtin()).unwrap();
    let failing: Vec<u64> = (0..2_000u64)
        .filter(|&seed| !simulation.run_seed(seed).verdict.holds())
        .take(3)
        .chain([118])
        .collect();
    for seed in failing {
        let execution = simulation.run_seed(seed);
        let shrunk = simulation.shrink(&execution.schedule).expect("it fails");
        assert_eq!(
            shrunk.minimal.preemptions, 1,
            "seed {seed}: from {:?} to {:?}",
            shrunk.original, shrunk.minimal
        );
        let replayed = simulation.replay(&shrunk.schedule, None);
        assert_eq!(
            replayed.verdict.violation().map(|v| v.invariant),
            Some(stockrace::Invariant::NoOversell),
            "seed {seed}: the minimal schedule replays the failure"
        );
    }
}
