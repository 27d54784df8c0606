//! `stockrace app` through the command line, on the psql example
//! (examples/psql): a sweep that oversells, one that holds, determinism,
//! kept runs and their replay, and pictures of app runs.
//!
//! The server is the one the PG* variables name. Without one every test
//! says it was skipped; under `CI=true` a missing server is a failure.
//! The tests take turns (one app run at a time).

mod app_cli;
mod command;
mod postgres;

use app_cli::*;
use command::stdout;
use serde_json::Value;
use std::path::{Path, PathBuf};
use stockrace::adapters::app::AppRegression;

// ---------------------------------------------------------------------------
// 1. The race is found, in text and in JSON.

#[test]
fn read_then_write_oversells() {
    let Some(_turn) = turn() else { return };
    let file = example("read-then-write.toml");
    let (output, pid) = run(&["app", &file, "--seeds", "10"]);
    let text = stdout(&output);
    assert_eq!(code(&output), Some(1), "{}", shown(&output));
    assert!(text.contains("no-oversell"), "{}", shown(&output));
    assert!(
        text.lines().any(|l| l.starts_with("first failure: seed ")),
        "{}",
        shown(&output)
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("  ") && (l.contains("waits for") || l.contains("BEGIN"))),
        "no trace line:\n{}",
        shown(&output)
    );
    assert!(
        text.contains(&format!("replay: stockrace app {file} --first-seed ")),
        "{}",
        shown(&output)
    );
    assert_nothing_left(pid, "text sweep");

    let (output, pid) = run(&["app", &file, "--seeds", "10", "--json"]);
    assert_eq!(code(&output), Some(1), "{}", shown(&output));
    let report = json_of(&output);
    assert_eq!(report["runs"], 10, "{report:#}");
    let violations = report["violations"].as_u64().expect("violations");
    assert!(violations > 0, "{report:#}");
    let by_check = report["by_check"].as_object().expect("by_check");
    assert!(
        by_check["no-oversell"].as_u64().unwrap_or(0) > 0,
        "{report:#}"
    );
    assert_eq!(
        by_check.values().map(|v| v.as_u64().unwrap()).sum::<u64>(),
        violations,
        "{report:#}"
    );
    let failing = report["failing_seeds"].as_array().expect("failing_seeds");
    assert_eq!(failing.len() as u64, violations.min(10), "{report:#}");
    // Two orders per run: each sold, found it out of stock, failed or did
    // not finish.
    let outcomes: u64 = ["sold", "out_of_stock", "failed", "unfinished"]
        .iter()
        .map(|k| {
            report[k]
                .as_u64()
                .unwrap_or_else(|| panic!("{k}: {report:#}"))
        })
        .sum();
    assert_eq!(outcomes, 20, "{report:#}");
    // An oversell is two sales in one run.
    assert!(
        report["sold"].as_u64().unwrap() >= 2 * violations,
        "{report:#}"
    );
    assert_eq!(report["failed"], 0, "{report:#}");
    assert_eq!(report["unfinished"], 0, "{report:#}");
    let first = &report["first_failure"];
    assert!(first["schedule"].is_array(), "{report:#}");
    let trace = first["trace"].as_array().expect("trace");
    assert!(!trace.is_empty(), "{report:#}");
    assert!(trace.iter().all(Value::is_string), "{report:#}");
    assert_eq!(first["seed"], failing[0], "{report:#}");
    assert_eq!(first["verdict"]["check"], "no-oversell", "{report:#}");
    let replay = first["replay"].as_str().expect("replay");
    assert_eq!(
        replay,
        format!("stockrace app {file} --first-seed {} --seeds 1", failing[0]),
        "{report:#}"
    );
    assert_nothing_left(pid, "JSON sweep");
}

// ---------------------------------------------------------------------------
// 2. The fix holds.

#[test]
fn guarded_holds() {
    let Some(_turn) = turn() else { return };
    let file = example("guarded.toml");
    let (output, pid) = run(&["app", &file, "--seeds", "10"]);
    assert_eq!(code(&output), Some(0), "{}", shown(&output));
    assert!(
        stdout(&output).contains("every check held"),
        "{}",
        shown(&output)
    );
    assert!(
        !stdout(&output).contains("first failure"),
        "{}",
        shown(&output)
    );
    assert_nothing_left(pid, "guarded sweep");

    let (output, _) = run(&["app", &file, "--seeds", "10", "--json"]);
    assert_eq!(code(&output), Some(0), "{}", shown(&output));
    let report = json_of(&output);
    assert_eq!(report["runs"], 10, "{report:#}");
    assert_eq!(report["violations"], 0, "{report:#}");
    assert!(report["first_failure"].is_null(), "{report:#}");
    // Exactly one of the two orders sells the last unit in every run.
    assert_eq!(report["sold"], 10, "{report:#}");
    assert_eq!(report["out_of_stock"], 10, "{report:#}");
}

// ---------------------------------------------------------------------------
// 3, 4. A seed is a schedule: it gives the same run again.

#[test]
fn seeds_reproduce_their_runs() {
    let Some(_turn) = turn() else { return };
    let file = example("read-then-write.toml");
    let (output, _) = run(&["app", &file, "--seeds", "8", "--repeat", "2"]);
    let text = stdout(&output);
    assert_eq!(code(&output), Some(1), "{}", shown(&output));
    let line = text
        .lines()
        .find(|l| l.starts_with("repeat: "))
        .unwrap_or_else(|| panic!("no repeat line:\n{}", shown(&output)));
    assert!(
        line.starts_with("repeat: 8 of 8 seeds reproduced"),
        "not every seed reproduced its run:\n{}",
        shown(&output)
    );
    // --repeat 2 counts every run.
    assert!(text.contains("seeds 0..8: 16 runs"), "{}", shown(&output));
}

#[test]
fn the_same_seed_gives_the_same_trace() {
    let Some(_turn) = turn() else { return };
    let file = example("read-then-write.toml");
    let runs: Vec<Value> = (0..2)
        .map(|_| {
            let (output, _) = run(&["app", &file, "--first-seed", "3", "--seeds", "1", "--json"]);
            assert!(matches!(code(&output), Some(0 | 1)), "{}", shown(&output));
            json_of(&output)
        })
        .collect();
    let (a, b) = (&runs[0], &runs[1]);
    assert_eq!(a["violations"], b["violations"]);
    assert_eq!(a["sold"], b["sold"]);
    assert_eq!(a["out_of_stock"], b["out_of_stock"]);
    // first_failure has no timings: all of it must be the same.
    assert_eq!(a["first_failure"], b["first_failure"]);
    if !a["first_failure"].is_null() {
        assert_eq!(
            a["first_failure"]["schedule"],
            b["first_failure"]["schedule"]
        );
        assert_eq!(a["first_failure"]["trace"], b["first_failure"]["trace"]);
    }

    // Seed 3 may hold; the first failing seed must give the same run too,
    // trace line for trace line.
    let (output, _) = run(&["app", &file, "--seeds", "10", "--json"]);
    let seed = json_of(&output)["failing_seeds"][0]
        .as_u64()
        .unwrap_or_else(|| panic!("no failing seed in 10:\n{}", shown(&output)))
        .to_string();
    let failures: Vec<Value> = (0..2)
        .map(|_| {
            let (output, _) = run(&[
                "app",
                &file,
                "--first-seed",
                &seed,
                "--seeds",
                "1",
                "--json",
            ]);
            assert_eq!(code(&output), Some(1), "{}", shown(&output));
            json_of(&output)["first_failure"].clone()
        })
        .collect();
    let (a, b) = (&failures[0], &failures[1]);
    assert!(a["schedule"].is_array() && a["trace"].is_array(), "{a:#}");
    assert_eq!(a["schedule"], b["schedule"], "seed {seed}");
    let (ta, tb) = (
        a["trace"].as_array().unwrap(),
        b["trace"].as_array().unwrap(),
    );
    for (i, (la, lb)) in ta.iter().zip(tb).enumerate() {
        assert_eq!(la, lb, "seed {seed}: trace line {}", i + 1);
    }
    assert_eq!(ta.len(), tb.len(), "seed {seed}: trace lengths");
    assert_eq!(a, b, "seed {seed}");
}

// ---------------------------------------------------------------------------
// 5. A failure kept with --save replays, and says when it does not.

#[test]
fn a_kept_failure_replays() {
    let Some(_turn) = turn() else { return };
    let file = example("read-then-write.toml");
    let seeds = tempfile::tempdir().unwrap();
    let seeds_dir = seeds.path().join("app");
    let seeds_dir_arg = seeds_dir.to_str().unwrap();
    let (output, _) = run(&[
        "app",
        &file,
        "--seeds",
        "10",
        "--save",
        "--seeds-dir",
        seeds_dir_arg,
    ]);
    assert_eq!(code(&output), Some(1), "{}", shown(&output));
    let kept: Vec<PathBuf> = std::fs::read_dir(&seeds_dir)
        .unwrap_or_else(|e| panic!("{}: {e}\n{}", seeds_dir.display(), shown(&output)))
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}\n{}", shown(&output));
    let saved = &kept[0];
    let name = saved.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with("app-read-then-write-") && name.ends_with(".toml"),
        "{name}"
    );
    assert!(
        stdout(&output).contains(&format!("kept as {}", saved.display())),
        "{}",
        shown(&output)
    );
    assert!(
        !stdout(&output).contains("already kept"),
        "{}",
        shown(&output)
    );

    // TOML, naming the app relative to the seeds folder.
    let text = std::fs::read_to_string(saved).unwrap();
    let kept_file = AppRegression::load(saved)
        .unwrap_or_else(|e| panic!("not an app regression file ({e}):\n{text}"));
    let app_line = text
        .lines()
        .find_map(|l| l.strip_prefix("app = "))
        .unwrap_or_else(|| panic!("no app line:\n{text}"));
    let app: String = serde_json::from_str(app_line)
        .unwrap_or_else(|e| panic!("app is not a plain string ({e}):\n{text}"));
    assert_eq!(app, kept_file.app);
    assert!(Path::new(&app).is_relative(), "{text}");
    assert_eq!(
        std::fs::canonicalize(seeds_dir.join(&app)).unwrap(),
        std::fs::canonicalize(&file).unwrap(),
        "{text}"
    );
    assert!(text.lines().any(|l| l == "expect = \"violates\""), "{text}");
    assert_eq!(kept_file.check.as_deref(), Some("no-oversell"), "{text}");
    assert!(!kept_file.schedule.is_empty(), "{text}");
    assert_eq!(kept_file.orders.len(), 2, "{text}");

    // It replays, and the expectation is met.
    let (output, pid) = run(&["app", "replay", saved.to_str().unwrap()]);
    assert_eq!(code(&output), Some(0), "{}", shown(&output));
    assert!(
        stdout(&output).contains("expectation: met"),
        "{}",
        shown(&output)
    );
    assert!(
        !stdout(&output).contains("divergence"),
        "{}",
        shown(&output)
    );
    assert_nothing_left(pid, "replay");

    // The same run expected to hold: the replay says it did not.
    let holds = seeds_dir.join("expects-holds.toml");
    let edited = text.replace("expect = \"violates\"", "expect = \"holds\"");
    assert_ne!(edited, text, "no expect line to edit:\n{text}");
    std::fs::write(&holds, edited).unwrap();
    let (output, _) = run(&["app", "replay", holds.to_str().unwrap()]);
    assert_eq!(code(&output), Some(1), "{}", shown(&output));
    assert!(
        stdout(&output).contains("expectation: NOT met"),
        "{}",
        shown(&output)
    );

    // Saving the same failure again keeps the one file as it is.
    let before = std::fs::metadata(saved).unwrap();
    let (output, _) = run(&[
        "app",
        &file,
        "--seeds",
        "10",
        "--save",
        "--seeds-dir",
        seeds_dir_arg,
    ]);
    assert_eq!(code(&output), Some(1), "{}", shown(&output));
    assert!(
        stdout(&output).contains(&format!("already kept as {}", saved.display())),
        "{}",
        shown(&output)
    );
    let after = std::fs::metadata(saved).unwrap();
    assert_eq!(std::fs::read_to_string(saved).unwrap(), text);
    assert_eq!(before.modified().unwrap(), after.modified().unwrap());
    let count = std::fs::read_dir(&seeds_dir).unwrap().count();
    assert_eq!(count, 2, "only the kept file and the edited copy");
}

/// A file kept by a Rust `App` (tests/app_sqlx.rs) has no app file to
/// run: `app replay` refuses it and says how to replay it from its test.
#[test]
fn a_file_kept_by_a_rust_app_says_how_to_replay_it() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds/app");
    let kept = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains("app-sqlx-read-then-write-"))
        .expect("the sqlx example's kept file");
    let file = kept.to_str().unwrap();
    let (output, _) = run(&["app", "replay", file]);
    assert_eq!(code(&output), Some(2), "{}", shown(&output));
    let message = command::stderr(&output);
    assert!(
        message.contains("kept by the Rust App \"sqlx-read-then-write\""),
        "{}",
        shown(&output)
    );
    assert!(
        message.contains(&format!("STOCKRACE_REPLAY={file} cargo test")),
        "{}",
        shown(&output)
    );
}

// ---------------------------------------------------------------------------
// 6. Reused order processes (`reuse = true`) serve every run of a sweep and
// give the same runs as fresh processes.

#[test]
fn reused_orders_serve_many_runs_and_give_the_same_runs() {
    let Some(_turn) = turn() else { return };
    let dir = tempfile::tempdir().unwrap();
    let examples = Path::new(&example("")).to_path_buf();
    for file in ["setup.sql", "read-then-write.sql"] {
        std::fs::copy(examples.join(file), dir.path().join(file)).unwrap();
    }
    // Each start of an order appends a line to starts.log; each run is one
    // psql session, started again when stockrace says `stockrace: next`.
    std::fs::write(
        dir.path().join("order.sh"),
        "echo start >> starts.log\n\
         while :; do\n\
           echo 'stockrace: ready'\n\
           psql -X -q -v ON_ERROR_STOP=1 -f read-then-write.sql\n\
           read line || exit 0\n\
           [ \"$line\" = 'stockrace: next' ] || exit 0\n\
         done\n",
    )
    .unwrap();
    let app = std::fs::read_to_string(examples.join("read-then-write.toml"))
        .unwrap()
        .replace("settle_ms = 2000", "settle_ms = 2000\nreuse = true");
    assert!(app.contains("reuse = true"), "{app}");
    let reused = dir.path().join("reused.toml");
    std::fs::write(&reused, app).unwrap();

    let (output, pid) = run(&["app", reused.to_str().unwrap(), "--seeds", "12", "--json"]);
    assert_eq!(code(&output), Some(1), "{}", shown(&output));
    let with_reuse = json_of(&output);
    assert_nothing_left(pid, "reused sweep");
    let starts = std::fs::read_to_string(dir.path().join("starts.log")).unwrap();
    assert_eq!(
        starts.lines().count(),
        2,
        "two orders, each started once for 12 runs"
    );

    let (output, _) = run(&[
        "app",
        &example("read-then-write.toml"),
        "--seeds",
        "12",
        "--json",
    ]);
    let fresh = json_of(&output);
    for field in [
        "runs",
        "violations",
        "failing_seeds",
        "sold",
        "out_of_stock",
        "by_check",
    ] {
        assert_eq!(
            with_reuse[field], fresh[field],
            "{field}: reused {with_reuse:#} fresh {fresh:#}"
        );
    }
    assert_eq!(
        with_reuse["first_failure"]["schedule"],
        fresh["first_failure"]["schedule"]
    );
    let trace = with_reuse["first_failure"]["trace"].as_array().unwrap();
    assert!(
        trace
            .iter()
            .any(|l| l.as_str().unwrap().contains("reported: sold 1")),
        "a reused order's outcome is a trace event: {trace:#?}"
    );
}

// ---------------------------------------------------------------------------
// 7. Pictures of app runs: `--svg` and `--html` on `app replay` and on `app`
// (its first failure).

/// A copy of the psql example in a fresh folder, with the kept
/// read-then-write failure beside it (naming the copy's app file), so no
/// test here can touch the repository's files.
fn app_copy() -> (tempfile::TempDir, String, String) {
    let dir = tempfile::tempdir().unwrap();
    for file in [
        "setup.sql",
        "order.sh",
        "read-then-write.sql",
        "read-then-write.toml",
    ] {
        std::fs::copy(example(file), dir.path().join(file)).unwrap();
    }
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds/app");
    let kept = std::fs::read_dir(&seeds)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains("app-read-then-write-"))
        .expect("the psql example's kept file");
    let text = std::fs::read_to_string(&kept).unwrap();
    let edited = text.replace(
        "app = \"../../examples/psql/read-then-write.toml\"",
        "app = \"read-then-write.toml\"",
    );
    assert_ne!(edited, text, "no app line to edit:\n{text}");
    let regression = dir.path().join("kept.toml");
    std::fs::write(&regression, edited).unwrap();
    let app = dir.path().join("read-then-write.toml");
    (
        dir,
        app.to_str().unwrap().to_string(),
        regression.to_str().unwrap().to_string(),
    )
}

/// What every picture of the kept failure shows: both orders' lanes with
/// the app's command, the statements, and the failed check highlighted.
fn assert_pictures_the_kept_failure(picture: &str, what: &str) {
    for text in [
        ">T1<",
        ">T2<",
        // Each lane's label (the command, STOCKRACE_ORDER and the
        // connection), in two lines.
        ">sh order.sh read-then-write.sql ·<",
        ">STOCKRACE_ORDER=0 · T1.c1<",
        ">STOCKRACE_ORDER=1 · T2.c1<",
        "UPDATE inventory_level SET stocked_quantity",
        "class=\"sr-commit\"",
        "exited (exit 0): sold 1",
        "class=\"sr-band\"",
        "no-oversell violated when the run ended",
        "(sold 2 unit(s) in 2 order(s))",
        "T2: sold 1 (4 statement(s) scheduled, 0 before ready)",
    ] {
        assert!(
            picture.contains(text),
            "{what}: {text:?} missing from:\n{picture}"
        );
    }
}

#[test]
fn app_replay_draws_the_run_as_svg_and_html() {
    let Some(_turn) = turn() else { return };
    let (dir, _app, kept) = app_copy();
    let svg = dir.path().join("run.svg");
    let html = dir.path().join("run.html");
    let (output, pid) = run(&[
        "app",
        "replay",
        &kept,
        "--svg",
        svg.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
    ]);
    assert_eq!(code(&output), Some(0), "{}", shown(&output));
    let text = stdout(&output);
    assert!(text.contains("expectation: met"), "{}", shown(&output));
    assert!(
        text.contains(&format!(
            "timeline: {}\npage: {}\n",
            svg.display(),
            html.display()
        )),
        "{}",
        shown(&output)
    );
    assert_nothing_left(pid, "replay with pictures");

    let picture = std::fs::read_to_string(&svg).unwrap();
    assert!(
        picture.starts_with("<?xml") && picture.trim_end().ends_with("</svg>"),
        "{picture}"
    );
    assert_pictures_the_kept_failure(&picture, "--svg");
    assert!(
        picture.contains(">stockrace app replay: read-then-write.toml<"),
        "{picture}"
    );
    assert!(
        picture.contains("seed 0 | schedule [1, 0, 1, 0, 1, 0]"),
        "{picture}"
    );
    // Every wait the text shows is a bar in the picture (the kept schedule
    // makes T1's UPDATE wait for T2's row lock).
    for line in text.lines().filter(|l| l.contains("→ waits for ")) {
        let on = line.split("→ ").last().unwrap();
        assert!(picture.contains(&format!("→ {on}<")), "{on}: {picture}");
        assert!(picture.contains("class=\"sr-wait\""), "{picture}");
    }
    assert!(text.contains("waits for T2.c1"), "{}", shown(&output));

    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"), "{page}");
    assert_pictures_the_kept_failure(&page, "--html");
    assert!(
        page.contains(&format!("stockrace app replay {kept}")),
        "the page shows the command that replays it:\n{page}"
    );
    assert!(
        page.contains("expectation: met"),
        "the run as text:\n{page}"
    );

    // `-` is stdout (the text goes to stderr), and the same run gives the
    // same bytes.
    let pictures: Vec<String> = (0..2)
        .map(|_| {
            let (output, _) = run(&["app", "replay", &kept, "--svg", "-"]);
            assert_eq!(code(&output), Some(0), "{}", shown(&output));
            assert!(
                command::stderr(&output).contains("expectation: met"),
                "{}",
                shown(&output)
            );
            stdout(&output)
        })
        .collect();
    assert_eq!(pictures[0], picture, "the same run, the same bytes");
    assert_eq!(pictures[1], picture, "the same run, the same bytes");
}

#[test]
fn app_draws_its_first_failure_and_nothing_when_every_check_held() {
    let Some(_turn) = turn() else { return };
    let (dir, app, _) = app_copy();
    let svg = dir.path().join("first.svg");
    let html = dir.path().join("first.html");
    let (output, pid) = run(&[
        "app",
        &app,
        "--seeds",
        "4",
        "--svg",
        svg.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
    ]);
    assert_eq!(code(&output), Some(1), "{}", shown(&output));
    assert!(
        stdout(&output).contains(&format!(
            "timeline: {}\npage: {}\n",
            svg.display(),
            html.display()
        )),
        "{}",
        shown(&output)
    );
    assert_nothing_left(pid, "sweep with pictures");
    for file in [&svg, &html] {
        let picture = std::fs::read_to_string(file).unwrap();
        assert!(
            picture.contains(">T1<") && picture.contains(">T2<"),
            "{picture}"
        );
        assert!(picture.contains("class=\"sr-band\""), "{picture}");
        assert!(
            picture.contains(" violated when the run ended"),
            "{picture}"
        );
        assert!(
            picture.contains("the first failure of seeds 0..4: "),
            "{picture}"
        );
    }
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.contains(&format!("stockrace app {app} --first-seed ")),
        "{page}"
    );

    // Every check held: no file, and a line saying why.
    let none = dir.path().join("none.svg");
    let (output, _) = run(&[
        "app",
        &example("guarded.toml"),
        "--seeds",
        "2",
        "--svg",
        none.to_str().unwrap(),
    ]);
    assert_eq!(code(&output), Some(0), "{}", shown(&output));
    assert!(
        command::stderr(&output).contains("there is no failing run to draw"),
        "{}",
        shown(&output)
    );
    assert!(!none.exists());
}

/// Bad picture paths are refused before any run (so without a server):
/// exit status 2, naming the file.
#[test]
fn bad_picture_paths_are_refused_before_any_run() {
    let (dir, app, kept) = app_copy();
    let missing = dir.path().join("no/such/dir/run.svg");
    let folder = dir.path().to_str().unwrap().to_string();
    let cases: Vec<(Vec<&str>, String)> = vec![
        (
            vec!["app", "replay", &kept, "--svg", missing.to_str().unwrap()],
            "no directory".into(),
        ),
        (
            vec!["app", "replay", &kept, "--html", &folder],
            "is a directory".into(),
        ),
        (
            vec!["app", "replay", &kept, "--svg", &kept],
            "is the file this command reads".into(),
        ),
        (
            vec!["app", "replay", &kept, "--html", &app],
            "is the file this command reads".into(),
        ),
        (
            vec!["app", "replay", &kept, "--json", "--svg", "-"],
            "both on stdout".into(),
        ),
        (
            vec!["app", "replay", &kept, "--svg", "-", "--html", "-"],
            "both on stdout".into(),
        ),
        (
            vec!["app", &app, "--html", &app],
            "is the file this command reads".into(),
        ),
        (
            vec!["app", &app, "--svg", missing.to_str().unwrap()],
            "no directory".into(),
        ),
    ];
    let before = std::fs::read_to_string(&kept).unwrap();
    let app_before = std::fs::read_to_string(&app).unwrap();
    for (args, want) in cases {
        let (output, _) = run(&args);
        assert_eq!(code(&output), Some(2), "{args:?}: {}", shown(&output));
        assert!(
            command::stderr(&output).contains(&want),
            "{args:?}: no {want:?}: {}",
            shown(&output)
        );
        assert!(stdout(&output).is_empty(), "{args:?}: {}", shown(&output));
    }
    assert_eq!(std::fs::read_to_string(&kept).unwrap(), before);
    assert_eq!(std::fs::read_to_string(&app).unwrap(), app_before);
}
