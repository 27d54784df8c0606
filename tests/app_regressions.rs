//! Every kept app regression under seeds/app (but those kept by a Rust
//! `App`, which their own tests replay) replays on PostgreSQL and shows
//! what it expects; where the application took another path than recorded,
//! the test says where (the verdict is what must hold; the statements are
//! compared too, and must match for the psql example, which has no timers).

mod app;

use app::{have_server, one_at_a_time, repo, skip};
use stockrace::adapters::app::{AppFile, AppOptions, AppRegression, AppRunner};

#[test]
fn every_kept_app_regression_replays_as_expected() {
    let _turn = one_at_a_time();
    if !have_server() {
        return;
    }
    let dir = repo("seeds/app");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    assert!(
        files
            .iter()
            .any(|f| f.to_string_lossy().contains("read-then-write")),
        "the psql regression is not kept"
    );
    assert!(
        files
            .iter()
            .any(|f| f.to_string_lossy().contains("update-levels")),
        "the Medusa regression is not kept"
    );
    for file in files {
        let regression = AppRegression::load(&file).unwrap_or_else(|e| panic!("{e}"));
        if regression.rust_app.is_some() {
            // Kept by a Rust App: its test replays it (tests/app_sqlx.rs).
            continue;
        }
        let app_path = regression.app_path(&file);
        if app_path.to_string_lossy().contains("medusa")
            && !repo("examples/medusa/node_modules").is_dir()
        {
            skip("examples/medusa has no node_modules: run `npm ci` there");
            continue;
        }
        let app = AppFile::load(&app_path).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let mut runner = AppRunner::open(app, &AppOptions::default())
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let (execution, schedule_divergence) = runner
            .run_schedule(&regression.schedule, regression.seed)
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        if let Err(why) = regression.check(&execution) {
            panic!("{}: {why}\n\n{}", file.display(), execution.render());
        }
        let divergence = regression.divergence(&execution).or(schedule_divergence);
        if app_path.to_string_lossy().contains("psql") {
            assert_eq!(
                divergence,
                None,
                "{}:\n{}",
                file.display(),
                execution.render()
            );
        } else if let Some(d) = divergence {
            eprintln!(
                "{}: the run diverged from the recording: {d}",
                file.display()
            );
        }
    }
}
