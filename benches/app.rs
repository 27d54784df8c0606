//! App runs per second, on PostgreSQL: `pg_virtualenv -t -v 15 cargo bench --bench app`.
//!
//! For the psql example and the Medusa update-levels path: runs per second
//! through the proxy and scheduler, where the time of a run goes (copying the
//! database, starting the order processes until they are ready, the
//! scheduled statements, the checks), and a baseline measured in the same
//! run: the same order processes, started afresh for each run on a fresh
//! copy of the same database, straight to the server, neither proxied nor
//! scheduled. (The Medusa app file reuses its processes across runs, so its
//! ratio shows what `reuse = true` saves as well as what scheduling costs.) Without a server
//! (or without the Medusa example's node_modules) it says what it skipped.
//! `STOCKRACE_BENCH_APP_RUNS` sets the runs per figure (default 20 for psql,
//! half of that for Medusa).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;
use stockrace::adapters::app::database::Server;
use stockrace::adapters::app::{AppFile, AppOptions, AppRunner};

/// Runs per second of the same processes, started afresh for each run on a
/// fresh copy made the same way (same template, same copy and drop
/// statements), straight to the server: what a run costs without the proxy,
/// the scheduler and the checks.
fn baseline(app: &AppFile, runs: u64) -> f64 {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut server = Server::connect(None)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let template = server
            .make_template(app)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let start = Instant::now();
        for _ in 0..runs {
            let db = server
                .copy(&template)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            let children: Vec<_> = (0..app.orders)
                .map(|order| {
                    Command::new(&app.command[0])
                        .args(&app.command[1..])
                        .current_dir(&app.dir)
                        .envs(server.environment(&db, None))
                        .env("STOCKRACE_ORDER", order.to_string())
                        .stdin(Stdio::null())
                        .stdout(Stdio::null())
                        .stderr(Stdio::null())
                        .spawn()
                        .expect("the order starts")
                })
                .collect();
            for mut child in children {
                child.wait().expect("the order ends");
            }
            server
                .drop_database(&db)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
        }
        let rate = runs as f64 / start.elapsed().as_secs_f64();
        server.drop_all().await;
        rate
    })
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
        bench("examples/medusa/update-levels.toml", (runs / 2).max(1));
    } else {
        println!("examples/medusa/update-levels.toml: skipped: run `npm ci` in examples/medusa");
    }
}
