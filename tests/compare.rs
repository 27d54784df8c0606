//! `stockrace compare`: every built-in strategy over the same seeds, safety
//! and cost side by side, as a table, JSON and an SVG chart.

mod command;
use command::{stderr, stdout, stockrace};

use std::fs;

const UNSAFE: [&str; 3] = ["plain-update", "atomic-decrement", "medusa-update-levels"];
const SAFE: [&str; 4] = [
    "guarded-decrement",
    "row-lock",
    "optimistic",
    "serializable-retry",
];

#[test]
fn compare_tells_safe_strategies_from_unsafe_ones_in_table_json_and_chart() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("compare.json");
    let svg = dir.path().join("compare.svg");
    let output = stockrace(&[
        "compare",
        "--seeds",
        "150",
        "--orders",
        "2,4,8",
        "--json",
        json.to_str().unwrap(),
        "--svg",
        svg.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);

    // The table: a row per strategy and level, safe/UNSAFE at a glance.
    let row = |strategy: &str, orders: u32| {
        text.lines()
            .find(|l| {
                let mut words = l.split_whitespace();
                words.next() == Some(strategy) && words.next() == Some(&orders.to_string())
            })
            .unwrap_or_else(|| panic!("no row for {strategy} at {orders} orders:\n{text}"))
            .to_string()
    };
    for strategy in UNSAFE {
        assert!(row(strategy, 2).contains("UNSAFE"), "{}", row(strategy, 2));
    }
    for strategy in SAFE {
        for orders in [2, 4, 8] {
            assert!(
                row(strategy, orders).contains(" safe "),
                "{}",
                row(strategy, orders)
            );
        }
    }
    let safe_line = text
        .lines()
        .find(|l| l.starts_with("safe at every level:"))
        .unwrap();
    let unsafe_line = text.lines().find(|l| l.starts_with("UNSAFE:")).unwrap();
    for strategy in SAFE {
        assert!(safe_line.contains(strategy), "{safe_line}");
    }
    for strategy in UNSAFE {
        assert!(unsafe_line.contains(strategy), "{unsafe_line}");
        assert!(
            text.contains(&format!(
                "stockrace replay --strategy {strategy} --orders 2"
            )),
            "a replay command for {strategy}"
        );
    }

    // The JSON: every figure, per strategy and level, and the same seeds for all.
    let v: serde_json::Value = serde_json::from_str(&fs::read_to_string(&json).unwrap()).unwrap();
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), stockrace::Strategies::BUILTIN.len() * 3);
    for cell in results {
        assert_eq!(cell["runs"], 150);
        let orders = cell["concurrency"].as_u64().unwrap();
        assert_eq!(
            cell["orders"].as_u64().unwrap(),
            orders * 150,
            "orders run in all"
        );
        let ended = ["sold", "out_of_stock", "failed", "unfinished"]
            .iter()
            .map(|k| cell[k].as_u64().unwrap())
            .sum::<u64>();
        assert_eq!(ended, orders * 150, "{cell}");
        for figure in [
            "violations_per_10k_runs",
            "retries_per_order",
            "errors_40001_per_order",
            "errors_40p01_per_order",
            "lock_wait_ms_per_order",
            "orders_per_virtual_s",
        ] {
            assert!(cell["figures"][figure].is_number(), "{figure} in {cell}");
        }
        assert!(
            cell["figures"]["latency_p99_ms"].as_u64().unwrap()
                >= cell["figures"]["latency_p50_ms"].as_u64().unwrap()
        );
        let strategy = cell["strategy"].as_str().unwrap();
        assert_eq!(cell["safe"], cell["violations"] == 0, "{cell}");
        if SAFE.contains(&strategy) {
            assert_eq!(cell["safe"], true, "{cell}");
        }
        if cell["safe"] == false {
            assert!(cell["first_failure"]["replay"]
                .as_str()
                .unwrap()
                .contains("--seed"));
        }
    }
    let serializable = results
        .iter()
        .find(|c| c["strategy"] == "serializable-retry" && c["concurrency"] == 8)
        .unwrap();
    assert!(
        serializable["errors_40001"].as_u64().unwrap() > 0,
        "serializable-retry pays in 40001s"
    );

    // The chart: an SVG with one line per strategy in each panel.
    let chart = fs::read_to_string(&svg).unwrap();
    assert!(chart.trim_start().starts_with("<svg") && chart.trim_end().ends_with("</svg>"));
    for strategy in stockrace::Strategies::BUILTIN {
        // plotters writes a <text> element's content on a line of its own.
        assert!(
            chart.lines().any(|l| l.trim() == strategy),
            "legend names {strategy}"
        );
    }
    // A strategy's line runs through its 3 levels; grid lines, axes and
    // legend swatches are 2-point polylines.
    let lines = chart
        .split("<polyline")
        .skip(1)
        .filter(|element| {
            let points = element
                .split("points=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap();
            points.split_whitespace().count() == 3
        })
        .count();
    assert_eq!(
        lines,
        2 * stockrace::Strategies::BUILTIN.len(),
        "one line per strategy in each of the two panels"
    );
}

#[test]
fn compare_checks_everything_before_running_and_writes_nothing_on_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("out.json");
    let missing_dir = dir.path().join("no-such-dir").join("out.svg");
    for (args, expected) in [
        (
            vec!["compare", "--strategies", "row-lock,row-lok"],
            "unknown strategy \"row-lok\"",
        ),
        (
            vec!["compare", "--orders", "2,0"],
            "--orders 0: a scenario needs at least one order",
        ),
        (
            vec!["compare", "--strategies", "as-written"],
            "--strategies as-written: needs --scenario",
        ),
        (
            vec!["compare", "--svg", missing_dir.to_str().unwrap()],
            "no directory",
        ),
        (vec!["compare", "--jobs", "0"], "--jobs 0"),
        (vec!["compare", "--seeds", "0"], "--seeds 0: nothing to run"),
        (
            vec!["compare", "--svg", json.to_str().unwrap()],
            "--json and --svg name the same file",
        ),
    ] {
        let mut args = args;
        args.extend(["--json", json.to_str().unwrap()]);
        let output = stockrace(&args);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(stderr(&output).contains(expected), "{}", stderr(&output));
        assert!(output.stdout.is_empty());
    }
    assert_eq!(
        fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing written"
    );
}

#[test]
fn compare_runs_a_scenario_files_own_mix_against_a_single_strategy() {
    let scenario = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/checkout-mix.toml");
    let output = stockrace(&[
        "compare",
        "--scenario",
        scenario,
        "--strategies",
        "as-written,guarded-decrement",
        "--orders",
        "4,8",
        "--seeds",
        "100",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.contains("latency 2 ms, think 1 ms"),
        "the file's latencies: {text}"
    );
    let unsafe_line = text.lines().find(|l| l.starts_with("UNSAFE:")).unwrap();
    assert!(unsafe_line.contains("as-written"), "{text}");
    let safe_line = text
        .lines()
        .find(|l| l.starts_with("safe at every level:"))
        .unwrap();
    assert!(safe_line.contains("guarded-decrement"), "{text}");
    assert!(
        text.contains(&format!("stockrace replay --scenario {scenario} --orders ")),
        "the replay command takes the file and the level: {text}"
    );
}

#[test]
fn compare_gives_a_scenario_file_without_latency_one_millisecond() {
    let scenario = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/flash-sale.toml");
    let output = stockrace(&[
        "compare",
        "--scenario",
        scenario,
        "--strategies",
        "row-lock",
        "--seeds",
        "20",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.contains(
            "64 orders against 1 level(s) stocked 10 | read-committed | 1 node(s) | latency 1 ms"
        ),
        "{text}"
    );
    // 64 buyers queue on one row lock, each holding it a few round trips:
    // milliseconds, not the seconds of scheduler stalls.
    let row = text.lines().find(|l| l.starts_with("row-lock")).unwrap();
    let p99: u64 = row.split_whitespace().nth_back(1).unwrap().parse().unwrap();
    assert!(p99 < 1000, "{row}");
}

/// With compare's 1 ms latency, orders arrive within 4 ms (a window the
/// header shows), so an unsafe path does not break in every run only because
/// every order started at 0 and moved in lockstep.
#[test]
fn compare_spreads_arrivals_and_says_so_in_its_header() {
    let run = |extra: &[&str]| {
        let mut args = vec![
            "compare",
            "--strategies",
            "reservation",
            "--orders",
            "2",
            "--seeds",
            "300",
            "--json-out",
            "-",
        ];
        args.extend_from_slice(extra);
        let output = stockrace(&args);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let v: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        (
            stderr(&output),
            v["results"][0]["violations"].as_u64().unwrap(),
        )
    };
    let (table, spread) = run(&[]);
    assert!(table.contains("| orders arrive within 4 ms"), "{table}");
    assert!(spread < 300, "{spread} of 300 runs violate");
    let (table, lockstep) = run(&["--arrival-window-ms", "0"]);
    assert!(table.contains("| orders arrive together"), "{table}");
    assert_eq!(lockstep, 300);
}

/// Each unsafe strategy's first failure is shrunk before compare shows it:
/// the JSON has both sizes and the minimal schedule, the table says how
/// small it got, and the minimal schedule fails the same way when replayed.
#[test]
fn compare_shrinks_each_first_failure_before_showing_it() {
    let output = stockrace(&[
        "compare",
        "--strategies",
        "plain-update,guarded-decrement",
        "--orders",
        "2,8",
        "--latency-ms",
        "0",
        "--seeds",
        "100",
        "--json-out",
        "-",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let table = stderr(&output);
    let v: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let cell = |strategy: &str, orders: u64| {
        v["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["strategy"] == strategy && c["concurrency"] == orders)
            .unwrap_or_else(|| panic!("no cell for {strategy} at {orders}"))
            .clone()
    };
    for orders in [2, 8] {
        assert!(cell("guarded-decrement", orders)["first_failure"].is_null());
        let failure = cell("plain-update", orders)["first_failure"].clone();
        let size = |which: &str| {
            let s = &failure[which];
            ["orders", "preemptions", "steps"].map(|k| {
                s[k].as_u64()
                    .unwrap_or_else(|| panic!("{which}.{k} in {failure}"))
            })
        };
        let (original, minimal) = (size("original"), size("minimal"));
        assert!(
            minimal[..2] <= original[..2],
            "no more orders and preemptions: {failure}"
        );
        let schedule: Vec<u32> =
            serde_json::from_value(failure["minimal_schedule"].clone()).unwrap();
        assert_eq!(schedule.len() as u64, minimal[2], "{failure}");
        // The minimal schedule breaks the same invariant.
        let simulation = stockrace::Simulation::new(
            stockrace::scenario::Shape {
                orders: orders as usize,
                ..stockrace::scenario::Shape::new("plain-update")
            }
            .scenario(),
            &stockrace::Strategies::builtin(),
        )
        .unwrap();
        let replayed = simulation.replay(&schedule, None);
        let violation = replayed
            .verdict
            .violation()
            .expect("the minimal schedule fails");
        assert_eq!(
            violation.invariant.name(),
            failure["invariant"],
            "{failure}"
        );
    }
    // At 8 orders the race needs only two of them and one preemption.
    let failure = &cell("plain-update", 8)["first_failure"];
    assert!(
        failure["original"]["orders"].as_u64().unwrap() > 2,
        "{failure}"
    );
    assert_eq!(failure["minimal"]["orders"], 2, "{failure}");
    assert_eq!(failure["minimal"]["preemptions"], 1, "{failure}");
    let shown = table
        .lines()
        .skip_while(|l| !l.starts_with("  plain-update: no-oversell at 2 orders"))
        .nth(2)
        .unwrap_or_else(|| panic!("plain-update's failure in the table:\n{table}"));
    assert!(
        shown
            .trim_start()
            .starts_with("shrunk: from 2 order(s) involved")
            && shown.contains(" to 2 order(s) involved"),
        "{shown}"
    );
}
