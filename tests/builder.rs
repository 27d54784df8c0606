//! The Builder as a test uses it: every scenario setting the command line
//! has, the same figures as `stockrace sweep` and `stockrace compare`,
//! custom invariants, the choice between stopping at the first violation
//! and a full tally, replaying any strategy, and kept files that speak up
//! when they go stale.

mod command;
mod own_strategies;

use command::{stderr, stockrace};
use own_strategies::{check_then_decrement, guarded};
use serde_json::Value;
use std::path::{Path, PathBuf};
use stockrace::{
    Builder, Database, DbError, Execution, Expect, Invariant, Isolation, LockOrder, Order,
    Regression, Sale, Session, SqlState, Strategy,
};

fn broken() -> Strategy {
    Strategy::new("check-then-decrement", check_then_decrement)
}

fn json(output: &std::process::Output) -> Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", command::stdout(output), stderr(output)))
}

fn panic_message(f: impl FnOnce()) -> String {
    let payload =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).expect_err("must panic");
    match payload.downcast::<String>() {
        Ok(s) => *s,
        Err(p) => p.downcast_ref::<&str>().unwrap().to_string(),
    }
}

fn kept_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

/// Every scenario flag of `stockrace sweep` has a Builder method, and the
/// two give the same scenario and the same tally.
#[test]
fn every_scenario_setting_matches_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let report = Builder::builtin("row-lock")
        .orders(3)
        .items(2)
        .stock(2)
        .quantity(1)
        .nodes(2)
        .lock_order(LockOrder::Listed)
        .isolation(Isolation::RepeatableRead)
        .latency_ms(2)
        .think_ms(1)
        .arrival_window_ms(3)
        .max_steps(5000)
        .max_virtual_ms(90_000)
        .database(Database::MariaDb1011)
        .innodb_snapshot_isolation(true)
        .deadlock_timeout_ms(500)
        .seeds(40)
        .first_seed(7)
        .jobs(2)
        .stop_at_first_violation(false)
        .seeds_dir(dir.path())
        .run();
    let cli = json(&stockrace(&[
        "sweep",
        "--strategy",
        "row-lock",
        "--orders",
        "3",
        "--items",
        "2",
        "--stock",
        "2",
        "--qty",
        "1",
        "--nodes",
        "2",
        "--lock-order",
        "listed",
        "--isolation",
        "repeatable-read",
        "--latency-ms",
        "2",
        "--think-ms",
        "1",
        "--arrival-window-ms",
        "3",
        "--max-steps",
        "5000",
        "--max-virtual-ms",
        "90000",
        "--database",
        "mariadb-10.11",
        "--innodb-snapshot-isolation",
        "--deadlock-timeout-ms",
        "500",
        "--seeds",
        "40",
        "--first-seed",
        "7",
        "--jobs",
        "1",
        "--json",
    ]));
    assert_eq!(
        serde_json::to_value(report.simulation.scenario()).unwrap(),
        cli["scenario"]
    );
    let tally = serde_json::to_value(&report.sweep.tally).unwrap();
    for (key, value) in tally.as_object().unwrap() {
        assert_eq!(&cli[key], value, "{key}");
    }
    assert_eq!(report.sweep.tally.runs, 40);
    assert!(
        report.sweep.tally.errors_40p01 > 0,
        "listed locks on 2 items deadlock"
    );
}

#[test]
fn a_scenario_file_takes_the_same_overrides_as_on_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/checkout-mix.toml");
    let builder = Builder::builtin("guarded-decrement")
        .scenario_file("scenarios/checkout-mix.toml")
        .replace_strategies()
        .orders(5)
        .isolations([Isolation::ReadCommitted, Isolation::Serializable])
        .seeds(30)
        .stop_at_first_violation(false)
        .seeds_dir(dir.path());
    let report = builder.run();
    let scenario = scenario.to_str().unwrap();
    let cli = json(&stockrace(&[
        "sweep",
        "--scenario",
        scenario,
        "--strategy",
        "guarded-decrement",
        "--orders",
        "5",
        "--seeds",
        "30",
        "--json",
    ]));
    let mut expected = cli["scenario"].clone();
    // Isolation per order: order i at isolations[i % 2].
    for (i, order) in expected["orders"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .enumerate()
    {
        order["isolation"] = if i % 2 == 0 {
            "read-committed"
        } else {
            "serializable"
        }
        .into();
    }
    assert_eq!(
        serde_json::to_value(report.simulation.scenario()).unwrap(),
        expected
    );
    // As written, the file's orders keep their own strategies.
    let as_written = Builder::builtin("guarded-decrement")
        .scenario_file("scenarios/checkout-mix.toml")
        .simulation();
    assert_eq!(as_written.scenario().strategy_label(), "mixed");
    // The shape methods belong to the builder's own shape: refused with a file.
    let message = panic_message(|| {
        Builder::builtin("row-lock")
            .scenario_file("scenarios/checkout-mix.toml")
            .stock(3)
            .run();
    });
    assert!(
        message.contains(".stock() describes the builder's own shape"),
        "{message}"
    );
    // Bad settings name the method.
    let message = panic_message(|| {
        Builder::builtin("row-lock").orders(0).simulation();
    });
    assert!(
        message.contains(".orders(): orders: a scenario needs at least one order"),
        "{message}"
    );
    let message = panic_message(|| {
        Builder::builtin("row-lock")
            .latency_ms(2_000_000_000)
            .simulation();
    });
    assert!(
        message.starts_with("stockrace: .latency_ms(): latency.statement_ms:"),
        "{message}"
    );
}

/// `Builder::compare` gives exactly what `stockrace compare --json` gives.
#[test]
fn compare_gives_the_figures_of_stockrace_compare() {
    let builtin = stockrace::Strategies::builtin();
    let strategies = ["plain-update", "guarded-decrement"].map(|s| builtin.get(s).unwrap().clone());
    let comparison = Builder::builtin("plain-update")
        .stock(2)
        .seeds(60)
        .compare_at(strategies, [Some(2), Some(4)]);
    let cli = json(&stockrace(&[
        "compare",
        "--strategies",
        "plain-update,guarded-decrement",
        "--orders",
        "2,4",
        "--stock",
        "2",
        "--seeds",
        "60",
        "--json",
    ]));
    let results = cli["results"].as_array().unwrap();
    assert_eq!(results.len(), comparison.cells.len());
    for (cell, expected) in comparison.cells.iter().zip(results) {
        assert_eq!(expected["strategy"], cell.strategy.as_str());
        assert_eq!(expected["concurrency"], cell.concurrency);
        assert_eq!(expected["safe"], cell.safe());
        assert_eq!(
            expected["figures"],
            serde_json::to_value(cell.figures()).unwrap()
        );
        assert_eq!(
            expected["latency_ms"],
            serde_json::to_value(&cell.report.tally.latency_ms).unwrap()
        );
        assert_eq!(expected["violations"], cell.report.tally.violations);
        let shrunk = cell
            .shrunk
            .as_ref()
            .map(|s| serde_json::to_value(&s.schedule).unwrap());
        assert_eq!(
            expected["first_failure"].get("minimal_schedule"),
            shrunk.as_ref()
        );
    }
    assert_eq!(comparison.safe(), ["guarded-decrement"]);
    assert_eq!(comparison.unsafe_strategies(), ["plain-update"]);
    let table = comparison.to_string();
    assert!(table.contains("UNSAFE: plain-update"), "{table}");
    // Strategies of one's own, named once.
    let mine = Builder::new(broken())
        .seeds(30)
        .compare([broken(), Strategy::new("guarded", guarded)]);
    assert_eq!(mine.safe(), ["guarded"]);
    assert!(
        mine.cell("check-then-decrement", 2)
            .unwrap()
            .report
            .tally
            .violations
            > 0
    );
}

/// `run` stops at the first violation unless told to count every seed.
#[test]
fn the_tally_is_partial_at_the_first_violation_and_full_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let builder = Builder::builtin("plain-update")
        .seeds(200)
        .seeds_dir(dir.path());
    let stopped = builder.clone().run();
    assert!(stopped.sweep.tally.runs < 200);
    assert!(
        stopped.summary().contains("the tally is partial"),
        "{}",
        stopped.summary()
    );
    let full = builder.stop_at_first_violation(false).run();
    assert_eq!(full.sweep.tally.runs, 200);
    let cli = json(&stockrace(&[
        "sweep",
        "--strategy",
        "plain-update",
        "--seeds",
        "200",
        "--json",
    ]));
    assert_eq!(cli["violations"], full.sweep.tally.violations);
    assert!(!full.summary().contains("partial"), "{}", full.summary());
}

fn deadlocks(execution: &Execution) -> Result<(), String> {
    match execution.errors_with(SqlState::DeadlockDetected) {
        0 => Ok(()),
        n => Err(format!("{n} statement(s) failed with 40P01")),
    }
}

/// A custom invariant is judged, counted, kept and replayed like a built-in one.
#[test]
fn custom_invariants_count_fail_keep_and_replay() {
    let dir = tempfile::tempdir().unwrap();
    let builder = Builder::builtin("row-lock")
        .items(2)
        .stock(5)
        .invariant("no deadlocks", deadlocks)
        .invariant("every order ends within 5000 ms", |run: &Execution| {
            run.end_times_ms()
                .iter()
                .all(|t| t.is_some_and(|t| t <= 5000))
        })
        .seeds(100)
        .seeds_dir(dir.path());
    let full = builder.clone().stop_at_first_violation(false).run();
    let custom = Invariant::named("no deadlocks");
    assert!(custom.is_custom());
    let count = full
        .sweep
        .tally
        .by_invariant
        .get(&custom)
        .copied()
        .unwrap_or(0);
    assert!(count > 0, "{:?}", full.sweep.tally.by_invariant);
    assert_eq!(count, full.sweep.tally.violations);
    // A broken custom invariant fails assert_holds and keeps a file.
    let message = panic_message(|| builder.run().assert_holds());
    assert!(
        message.contains("violated no deadlocks at seed"),
        "{message}"
    );
    assert!(
        !message.contains("stockrace replay"),
        "the CLI cannot check it: {message}"
    );
    let kept = kept_files(dir.path());
    assert_eq!(kept.len(), 1);
    let regression = Regression::load(&kept[0]).unwrap();
    assert_eq!(regression.invariant, Some(custom));
    assert_eq!(
        regression.test.as_deref(),
        Some("custom_invariants_count_fail_keep_and_replay")
    );
    // The next run replays it first, judged by the same invariant.
    let again = builder.clone().seeds(0).run();
    assert_eq!(again.regressions.len(), 1);
    assert_eq!(
        again.regressions[0]
            .2
            .verdict
            .violation()
            .unwrap()
            .invariant,
        custom
    );
    // A test without that invariant does not replay it, and says why.
    let without = Builder::builtin("row-lock")
        .items(2)
        .stock(5)
        .seeds(0)
        .seeds_dir(dir.path())
        .run();
    assert!(without.regressions.is_empty());
    assert!(without.not_applying[0]
        .why
        .contains("\"no deadlocks\", which this test does not check"));
    // The command line refuses it with how to replay it from the test.
    let output = stockrace(&["replay", kept[0].to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("STOCKRACE_REPLAY=")
            && stderr(&output).contains("cargo test custom_invariants_count_fail_keep_and_replay"),
        "{}",
        stderr(&output)
    );
    // A built-in name is refused.
    let message = panic_message(|| {
        Builder::builtin("row-lock").invariant("no-oversell", |_: &Execution| true);
    });
    assert!(
        message.contains("\"no-oversell\" is a built-in invariant"),
        "{message}"
    );
}

/// `replay` runs a kept file of one's own strategy; the builder replays
/// schedules and seeds of its scenario; all agree with the sweep.
#[test]
fn replay_works_for_any_strategy() {
    let dir = tempfile::tempdir().unwrap();
    let builder = Builder::new(broken()).seeds(100).seeds_dir(dir.path());
    let report = builder.run();
    let failure = report.sweep.first_failure.clone().expect("oversells");
    let _ = panic_message(|| report.assert_holds());
    let kept = kept_files(dir.path());
    assert_eq!(kept.len(), 1);

    let replayed = stockrace::replay(broken(), &kept[0]);
    assert_eq!(replayed.schedule, failure.schedule);
    assert_eq!(replayed.verdict, failure.verdict);
    assert_eq!(builder.replay(&failure.schedule).verdict, failure.verdict);
    let seed = builder.run_seed(failure.seed.unwrap());
    assert_eq!(seed.schedule, failure.schedule);

    // Without the strategy: the file's line, and how to replay it.
    let message = panic_message(|| {
        stockrace::replay(Strategy::new("another", guarded), &kept[0]);
    });
    assert!(message.contains(".toml:"), "{message}");
    assert!(
        message.contains("unknown strategy \"check-then-decrement\""),
        "{message}"
    );
    assert!(
        message.contains("cargo test replay_works_for_any_strategy"),
        "{message}"
    );

    // The command line's message names FILE:LINE and the test.
    let output = stockrace(&["replay", kept[0].to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let text = stderr(&output);
    let line = std::fs::read_to_string(&kept[0])
        .unwrap()
        .lines()
        .position(|l| l == "strategy = \"check-then-decrement\"")
        .map(|i| i + 1);
    let first_order_strategy = std::fs::read_to_string(&kept[0])
        .unwrap()
        .lines()
        .enumerate()
        .skip_while(|(_, l)| *l != "[[scenario.orders]]")
        .find(|(_, l)| l.starts_with("strategy = "))
        .map(|(i, _)| i + 1)
        .unwrap();
    assert!(line.is_some());
    assert!(
        text.contains(&format!(
            "{}:{first_order_strategy}: scenario.orders[0].strategy: unknown strategy \"check-then-decrement\"",
            kept[0].display()
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "STOCKRACE_REPLAY={} cargo test replay_works_for_any_strategy",
            kept[0].display()
        )),
        "{text}"
    );
    // The file's own header says the same.
    let header = std::fs::read_to_string(&kept[0]).unwrap();
    assert!(
        header.starts_with("# stockrace regression file. Replay it from its test: STOCKRACE_REPLAY=<this file> cargo test replay_works_for_any_strategy\n"),
        "{header}"
    );
}

/// Writes `regression` into `dir` under its name.
fn plant(dir: &Path, regression: &Regression) -> PathBuf {
    regression.save(dir).unwrap().path
}

/// A kept file whose expectation no longer holds, or whose schedule no
/// longer fits, fails the test with what changed and what to do.
#[test]
fn stale_kept_files_fail_with_what_to_do() {
    let fixed = || Builder::new(Strategy::new("checkout", guarded)).seeds(0);
    let broken_same_name =
        || Builder::new(Strategy::new("checkout", check_then_decrement)).seeds(0);
    let simulation = fixed().simulation();
    let holding = simulation.run_seed(1);
    assert!(holding.verdict.holds());

    // Fixed, but the file still says it violates: flip it.
    let dir = tempfile::tempdir().unwrap();
    let mut regression = Regression::from_execution(&simulation, &holding);
    regression.expect = Expect::Violates;
    regression.invariant = Some(Invariant::NoOversell);
    let path = plant(dir.path(), &regression);
    let message = panic_message(|| fixed().seeds_dir(dir.path()).run().assert_holds());
    assert!(
        message.contains("expects a violation of no-oversell, but every invariant held"),
        "{message}"
    );
    assert!(
        message.contains("flip it to `expect = \"holds\"`"),
        "{message}"
    );
    assert!(
        message.contains(&format!("STOCKRACE_REPLAY={}", path.display())),
        "{message}"
    );
    // Flipped, it guards the fix...
    std::fs::write(
        &path,
        std::fs::read_to_string(&path)
            .unwrap()
            .replace("expect = \"violates\"", "expect = \"holds\""),
    )
    .unwrap();
    fixed().seeds_dir(dir.path()).run().assert_holds();
    // ...and fails when the fix regresses.
    let broken_seed = broken_same_name()
        .seeds(100)
        .seeds_dir(tempfile::tempdir().unwrap().path())
        .run()
        .sweep
        .first_failure
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let guard = Regression {
        expect: Expect::Holds,
        invariant: None,
        ..Regression::from_execution(&broken_same_name().simulation(), &broken_seed)
    };
    plant(dir.path(), &guard);
    let message = panic_message(|| {
        broken_same_name()
            .seeds_dir(dir.path())
            .run()
            .assert_holds()
    });
    assert!(
        message.contains("guards a fix (`expect = \"holds\"`), but no-oversell broke"),
        "{message}"
    );

    // A schedule that no longer fits the code.
    let dir = tempfile::tempdir().unwrap();
    let mut diverged = Regression::from_execution(&simulation, &holding);
    diverged.schedule.extend([1, 1, 1]);
    plant(dir.path(), &diverged);
    let message = panic_message(|| fixed().seeds_dir(dir.path()).run().assert_holds());
    assert!(
        message.contains("no longer fits the code: the run ended after"),
        "{message}"
    );
    assert!(message.contains("What to do: delete the file"), "{message}");
    // assert_violates speaks up too.
    let message = panic_message(|| {
        fixed().seeds_dir(dir.path()).run().assert_violates();
    });
    assert!(message.contains("no longer fits the code"), "{message}");
}

/// A kept file of this test's strategy whose scenario the test no longer
/// runs is reported (once per process), not replayed and not failed.
#[test]
fn files_of_another_scenario_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let three = Builder::new(broken()).orders(3).simulation();
    let execution = three.run_seed(0);
    let regression = Regression {
        test: Some("files_of_another_scenario_are_reported".into()),
        ..Regression::from_execution(&three, &execution)
    };
    let path = plant(dir.path(), &regression);
    // Another test's file of another scenario is that test's business.
    let other = Regression {
        test: Some("some_other_test".into()),
        ..Regression::from_execution(&Builder::new(broken()).orders(4).simulation(), &execution)
    };
    plant(dir.path(), &other);
    let report = Builder::new(Strategy::new("check-then-decrement", guarded))
        .seeds(10)
        .seeds_dir(dir.path())
        .run();
    report.assert_holds();
    assert!(report.regressions.is_empty());
    assert_eq!(report.not_applying.len(), 1, "{:?}", report.not_applying);
    let stale = &report.not_applying[0];
    assert_eq!(stale.path, path);
    assert!(stale.this_test);
    assert!(
        stale.why.contains("orders 2 here, 3 in the file"),
        "{}",
        stale.why
    );
}

/// Panicking strategy: kept, with its trace up to the panic; the kept file
/// replays the panic until it is fixed.
#[test]
fn a_panicking_strategy_keeps_a_file_and_shows_its_trace() {
    async fn panics_in_t2(mut db: Session, order: Order) -> Result<Sale, DbError> {
        db.select(order.lines[0].level).await?;
        if order.index == 1 {
            panic!("no stock row for T2");
        }
        Ok(Sale::OutOfStock)
    }
    let dir = tempfile::tempdir().unwrap();
    let builder = Builder::new(Strategy::new("panicky", panics_in_t2))
        .seeds(10)
        .seeds_dir(dir.path());
    let message = panic_message(|| builder.run().assert_holds());
    assert!(
        message.contains("strategy panicky panicked in order T2 at seed 0: no stock row for T2"),
        "{message}"
    );
    assert!(message.contains("kept as"), "{message}");
    assert!(
        message.contains("T2   finished: panicked: no stock row for T2"),
        "{message}"
    );
    assert!(message.contains("SELECT"), "{message}");
    assert_eq!(kept_files(dir.path()).len(), 1);
    let message = panic_message(|| builder.run().assert_holds());
    assert!(
        message.contains("panicked in order T2 replaying kept file"),
        "{message}"
    );
}

#[test]
fn the_seeds_dir_macro_is_the_crates_seeds() {
    assert_eq!(
        stockrace::seeds_dir!(),
        Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds")
    );
    let report = Builder::builtin("guarded-decrement").seeds(1).run();
    assert_eq!(
        report.seeds_dir(),
        Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds")
    );
}
