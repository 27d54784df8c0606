//! App runs per second, on PostgreSQL: `pg_virtualenv -t -v 15 cargo bench --bench app`.
//!
//! For the psql example and the Medusa update-levels path: runs per second
//! through the proxy and scheduler, where the time of a run goes (copying the
//! database, starting the order processes until they are ready, the
//! scheduled statements, the checks), and a baseline measured in the same
//! run: the same order processes on a fresh copy of the same database,
//! straight to the server, neither proxied nor scheduled. Without a server
//! (or without the Medusa example's node_modules) it says what it skipped.
//! `STOCKRACE_BENCH_APP_RUNS` sets the runs per figure (default 20 for psql,
//! a quarter of that for Medusa).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;
use stockrace::adapters::app::{AppFile, AppOptions, AppRunner};

fn psql(args: &[&str]) {
    let status = Command::new("psql")
        .args(["-XqAt", "-v", "ON_ERROR_STOP=1"])
        .args(args)
        .stdout(Stdio::null())
        .status()
        .expect("psql runs");
    assert!(status.success(), "psql {args:?} failed");
}

/// Runs per second of the same processes on a fresh copy, unscheduled.
fn baseline(app: &AppFile, runs: u64) -> f64 {
    let template = format!("stockrace_bench_{}", std::process::id());
    psql(&["-c", &format!("CREATE DATABASE {template}")]);
    let with_db = |command: &mut Command, db: &str| {
        command
            .current_dir(&app.dir)
            .env("PGDATABASE", db)
            .env("DATABASE_URL", database_url(db));
    };
    if let Some(prepare) = &app.prepare {
        let mut command = Command::new(&prepare[0]);
        command
            .args(&prepare[1..])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        with_db(&mut command, &template);
        assert!(command.status().expect("prepare runs").success());
    }
    if let Some(setup) = &app.setup {
        psql(&["-d", &template, "-f", &setup.display().to_string()]);
    }
    let start = Instant::now();
    for run in 0..runs {
        let db = format!("{template}_{run}");
        psql(&["-c", &format!("CREATE DATABASE {db} TEMPLATE {template}")]);
        let children: Vec<_> = (0..app.orders)
            .map(|order| {
                let mut command = Command::new(&app.command[0]);
                command
                    .args(&app.command[1..])
                    .env("STOCKRACE_ORDER", order.to_string())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null());
                with_db(&mut command, &db);
                command.spawn().expect("the order starts")
            })
            .collect();
        for mut child in children {
            child.wait().expect("the order ends");
        }
        psql(&["-c", &format!("DROP DATABASE {db}")]);
    }
    let rate = runs as f64 / start.elapsed().as_secs_f64();
    psql(&["-c", &format!("DROP DATABASE {template}")]);
    rate
}

fn database_url(db: &str) -> String {
    let var =
        |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_string());
    format!(
        "postgres://{}:{}@{}:{}/{db}",
        var("PGUSER", "postgres"),
        var("PGPASSWORD", ""),
        var("PGHOST", "localhost"),
        var("PGPORT", "5432")
    )
}

fn bench(path: &str, runs: u64) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let app = AppFile::load(&root.join(path)).unwrap_or_else(|e| panic!("{e}"));
    let mut runner = match AppRunner::open(app.clone(), &AppOptions::default()) {
        Ok(r) => r,
        Err(e) => {
            println!("{path}: skipped: {e}");
            return;
        }
    };
    let start = Instant::now();
    let sweep = runner
        .sweep(0..runs, 1, &|_| {})
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    let scheduled = runs as f64 / start.elapsed().as_secs_f64();
    drop(runner);
    let unscheduled = baseline(&app, runs);
    let t = &sweep.mean_timing;
    println!(
        "{path}: {scheduled:.2} runs/s scheduled, {unscheduled:.2} runs/s unscheduled on fresh copies: {:.2}x",
        scheduled / unscheduled
    );
    println!(
        "  per run {:.0} ms: database copy {:.0} ms, start to ready {:.0} ms, statements {:.0} ms, checks {:.0} ms ({} runs, {} violations)",
        t.copy_ms + t.boot_ms + t.steps_ms + t.checks_ms,
        t.copy_ms,
        t.boot_ms,
        t.steps_ms,
        t.checks_ms,
        sweep.runs,
        sweep.violations
    );
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let runs: u64 = std::env::var("STOCKRACE_BENCH_APP_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    bench("examples/psql/read-then-write.toml", runs);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    if root.join("examples/medusa/node_modules").is_dir() {
        bench("examples/medusa/update-levels.toml", (runs / 4).max(1));
    } else {
        println!("examples/medusa/update-levels.toml: skipped: run `npm ci` in examples/medusa");
    }
}
