//! A Rust team's own sqlx checkout, run by stockrace's Rust entry for
//! applications (`stockrace::adapters::app::App`) under seeded schedules on
//! PostgreSQL, from `#[tokio::test]`s: a read-then-write checkout oversells
//! (and its kept file, seeds/app/app-sqlx-read-then-write-*.toml, replays
//! exactly), a guarded UPDATE holds, and the assertions fail when they
//! should.
//!
//! The server is the one the PG* variables name. Without one every test
//! says it was skipped; under `CI=true` a missing server is a failure. The
//! tests take turns with the other app tests (one app run at a time).

mod app;

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::ConnectOptions;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::MutexGuard;
use stockrace::adapters::app::{App, AppRegression, Outcome, REPLAY_ENV, SEED_ENV};

// ---------------------------------------------------------------------------
// The application code under test: what a team would have in its own crate.

/// One inventory level with the last unit in stock.
const SETUP: &str = "
    CREATE TABLE inventory_level (id text PRIMARY KEY, stocked_quantity integer NOT NULL);
    INSERT INTO inventory_level VALUES ('ilev_1', 1);
";

/// The race: read the level, decide in Rust, write back an absolute value.
async fn read_then_write(pool: &PgPool, id: &str) -> Result<bool, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let stocked: i32 =
        sqlx::query_scalar("SELECT stocked_quantity FROM inventory_level WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
    if stocked < 1 {
        tx.rollback().await?;
        return Ok(false);
    }
    sqlx::query("UPDATE inventory_level SET stocked_quantity = $1 WHERE id = $2")
        .bind(stocked - 1)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(true)
}

/// The fix: one statement that checks and decrements.
async fn guarded(pool: &PgPool, id: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE inventory_level SET stocked_quantity = stocked_quantity - 1
          WHERE id = $1 AND stocked_quantity >= 1",
    )
    .bind(id)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

async fn connect(url: &str) -> Result<PgPool, sqlx::Error> {
    PgPoolOptions::new().max_connections(2).connect(url).await
}

// ---------------------------------------------------------------------------
// The tests.

/// The App with the setup and the checks; the orders are the test's.
fn shop(name: &str) -> App {
    App::new(name)
        .setup(SETUP)
        .check("no-oversell", "SELECT :sold AS sold WHERE :sold > 1")
        .check(
            "conservation",
            "SELECT id, stocked_quantity FROM inventory_level WHERE stocked_quantity <> 1 - :sold",
        )
}

#[tokio::test]
#[allow(clippy::await_holding_lock)] // one app run at a time, across test threads
async fn sqlx_read_then_write_oversells() {
    let Some(_turn) = turn().await else { return };
    let report = shop("sqlx-read-then-write")
        .orders(2, |url| async move {
            let pool = connect(&url).await?;
            read_then_write(&pool, "ilev_1").await
        })
        .seeds(10)
        .run()
        .await;
    let failure = report.assert_violates();
    assert_eq!(
        failure.violation.as_ref().unwrap().check,
        "no-oversell",
        "{}",
        failure.render()
    );

    // The kept file replayed first, exactly: the same statements, and the
    // oversell it recorded.
    let kept: Vec<_> = report.kept.iter().collect();
    assert!(
        !kept.is_empty(),
        "seeds/app/app-sqlx-read-then-write-*.toml is not kept"
    );
    for k in &kept {
        assert_eq!(k.expectation, Ok(()), "{}", k.execution.render());
        assert_eq!(k.divergence, None, "{}", k.execution.render());
        assert!(!k.execution.holds(), "{}", k.execution.render());
        assert_eq!(k.execution.sold(), 2, "{}", k.execution.render());
    }

    // The sweep finds it too, and every order sold or found no stock.
    let sweep = report.sweep.as_ref().expect("a sweep");
    assert_eq!(sweep.runs, 10);
    assert!(sweep.violations > 0, "{sweep:?}");
    assert_eq!(sweep.failed + sweep.unfinished, 0, "{sweep:?}");
    assert_eq!(sweep.sold + sweep.out_of_stock, 20, "{sweep:?}");
    // Each statement is two steps (sqlx's Parse, then Bind/Execute), and
    // the trace names them.
    let trace = failure.trace.join("\n");
    assert!(
        trace.contains("SELECT stocked_quantity FROM inventory_level WHERE id = $1"),
        "{trace}"
    );
    assert!(trace.contains("T1     returned: sold 1"), "{trace}");
    assert!(trace.contains("T2     returned: sold 1"), "{trace}");
}

#[tokio::test]
#[allow(clippy::await_holding_lock)]
async fn sqlx_guarded_update_holds() {
    let Some(_turn) = turn().await else { return };
    let report = shop("sqlx-guarded")
        .orders(2, |url| async move {
            guarded(&connect(&url).await?, "ilev_1").await
        })
        .seeds(10)
        .run()
        .await;
    report.assert_holds();
    let sweep = report.sweep.as_ref().expect("a sweep");
    assert_eq!(sweep.runs, 10);
    // The last unit sold once in every run; the other order found none.
    assert_eq!((sweep.sold, sweep.out_of_stock), (10, 10), "{sweep:?}");
    assert!(report.kept.is_empty(), "no file should be kept for it");
}

/// assert_holds on the race fails with the seed, the schedule and the
/// trace, and keeps the run; the kept file replays with STOCKRACE_REPLAY,
/// and the seed with STOCKRACE_SEED.
#[tokio::test]
#[allow(clippy::await_holding_lock)]
async fn a_race_fails_assert_holds_and_replays_from_its_file_and_seed() {
    let Some(_turn) = turn().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let racy = || {
        shop("racy")
            .seeds_dir(dir.path())
            .orders(2, |url| async move {
                read_then_write(&connect(&url).await?, "ilev_1").await
            })
    };
    let report = racy().seeds(4).run().await;
    let message = panic_message(|| report.assert_holds());
    assert!(
        message.contains("app \"racy\" violated no-oversell at seed "),
        "{message}"
    );
    assert!(message.contains("schedule: ["), "{message}");
    assert!(message.contains("kept as "), "{message}");
    assert!(
        message.contains(&format!("replay: {REPLAY_ENV}=")),
        "{message}"
    );
    assert!(
        message.contains(&format!("run it again: {SEED_ENV}=")),
        "{message}"
    );
    assert!(message.contains("→ UPDATE 1"), "{message}");
    let files: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let kept = AppRegression::load(&files[0]).unwrap();
    assert_eq!(kept.rust_app.as_deref(), Some("racy"));
    let seed = kept.seed.expect("seeded");

    // STOCKRACE_REPLAY=FILE: just that file, no sweep.
    std::env::set_var(REPLAY_ENV, &files[0]);
    let replayed = racy().run().await;
    std::env::remove_var(REPLAY_ENV);
    assert!(replayed.error.is_none(), "{:?}", replayed.error);
    assert!(replayed.sweep.is_none());
    assert_eq!(replayed.kept.len(), 1);
    let k = &replayed.kept[0];
    assert_eq!(k.expectation, Ok(()), "{}", k.execution.render());
    assert_eq!(k.divergence, None, "{}", k.execution.render());
    assert_eq!(k.execution.schedule, kept.schedule);
    replayed.assert_violates();

    // STOCKRACE_SEED=N: just that seed (and no kept file), the same run.
    std::env::set_var(SEED_ENV, seed.to_string());
    let again = racy().run().await;
    std::env::remove_var(SEED_ENV);
    assert!(again.kept.is_empty());
    let sweep = again.sweep.as_ref().expect("one seed");
    assert_eq!((sweep.first_seed, sweep.runs), (seed, 1));
    let run = again.assert_violates();
    assert_eq!(run.schedule, kept.schedule, "{}", run.render());
    assert_eq!(run.trace, k.execution.trace);

    // The same name with fixed code: the kept file no longer shows what it
    // expects, and says what to do.
    let fixed = shop("racy")
        .seeds_dir(dir.path())
        .orders(2, |url| async move {
            guarded(&connect(&url).await?, "ilev_1").await
        })
        .seeds(2)
        .run()
        .await;
    let message = panic_message(|| fixed.assert_holds());
    assert!(
        message.contains("expected a violation of no-oversell, but every check held"),
        "{message}"
    );
    assert!(
        message.contains("delete the file, or set `expect = \"holds\"`"),
        "{message}"
    );
}

/// An order whose code fails (here: a table that does not exist) fails
/// assert_holds, though no check is violated; a panic is a failure too.
#[tokio::test]
#[allow(clippy::await_holding_lock)]
async fn failing_orders_fail_assert_holds() {
    let Some(_turn) = turn().await else { return };
    let report = shop("broken")
        .orders(1, |url| async move {
            let pool = connect(&url).await?;
            sqlx::query("UPDATE no_such_table SET n = n - 1")
                .execute(&pool)
                .await
                .map(|_| true)
        })
        .orders(1, |url| async move {
            assert!(url.is_empty(), "out of cheese");
            Outcome::OutOfStock
        })
        .seeds(2)
        .run()
        .await;
    let message = panic_message(|| report.assert_holds());
    assert!(
        message.contains("4 order(s) failed over 2 run(s)"),
        "{message}"
    );
    assert!(message.contains("no_such_table"), "{message}");
    let run = report.sweep.as_ref().unwrap();
    assert_eq!(run.failures.len(), 4, "{run:?}");
    assert!(
        run.failures.iter().any(|f| f == "panicked: out of cheese"),
        "{run:?}"
    );
}

/// With `orders_with`, statements before `order.ready()` are a warm-up:
/// they pass unscheduled and are not part of the order's statements.
#[tokio::test]
#[allow(clippy::await_holding_lock)]
async fn statements_before_ready_are_not_scheduled() {
    let Some(_turn) = turn().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let report = shop("warm-up")
        .seeds_dir(dir.path())
        // Every run "violates" this, so the report keeps a run to look at.
        .check("show-a-run", "SELECT 1")
        .orders_with(2, |order| async move {
            let pool = connect(order.url()).await?;
            sqlx::query("SELECT 1").execute(&pool).await?;
            order.ready();
            guarded(&pool, "ilev_1").await
        })
        .seeds(3)
        .run()
        .await;
    let run = report.assert_violates();
    assert_eq!(run.violation.as_ref().unwrap().check, "show-a-run");
    for order in &run.orders {
        assert_eq!(order.unscheduled, 1, "{}", run.render());
        assert!(
            order.statements.iter().all(|s| s.starts_with("UPDATE")),
            "{}",
            run.render()
        );
    }
    assert_eq!(run.sold(), 1, "{}", run.render());

    // An order that never says it is ready is named.
    let report = shop("never-ready")
        .ready_timeout_ms(500)
        .orders_with(1, |_order| async move {
            tokio::time::sleep(std::time::Duration::from_secs(5)).await;
            false
        })
        .seeds(1)
        .run()
        .await;
    let message = panic_message(|| report.assert_holds());
    assert!(
        message.contains("order T1 did not call `order.ready()` within ready_timeout_ms"),
        "{message}"
    );
}

/// A run whose future the test drops (a select around it) leaves no
/// database behind: its session drops them from a thread of its own.
#[tokio::test]
#[allow(clippy::await_holding_lock)]
async fn a_run_dropped_midway_leaves_no_database() {
    let Some(_turn) = turn().await else { return };
    let app = shop("dropped").orders(1, |_url| async move {
        tokio::time::sleep(std::time::Duration::from_secs(60)).await;
        true
    });
    let ours = || async {
        let mut admin = sqlx::postgres::PgConnectOptions::new()
            .connect()
            .await
            .unwrap();
        sqlx::query_scalar::<_, String>("SELECT datname FROM pg_database WHERE datname LIKE $1")
            .bind(format!("stockrace\\_%\\_{}\\_%", std::process::id()))
            .fetch_all(&mut admin)
            .await
            .unwrap()
    };
    // The run is dropped as soon as both databases exist (however long a
    // loaded machine takes to make them), its order still asleep.
    let during = tokio::select! {
        _ = app.run() => panic!("the run should still have been going"),
        during = async {
            let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
            loop {
                let during = ours().await;
                if during.len() >= 2 || tokio::time::Instant::now() > deadline {
                    break during;
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        } => during,
    };
    assert_eq!(
        during.len(),
        2,
        "the template and the run's copy: {during:?}"
    );
    assert_eq!(ours().await, Vec::<String>::new());
}

// ---------------------------------------------------------------------------
// Helpers.

/// This test's turn at the server, or None (skipped) without one.
#[allow(clippy::await_holding_lock)] // the turn is held across the whole test
async fn turn() -> Option<MutexGuard<'static, ()>> {
    let turn = app::one_at_a_time();
    // The check opens a runtime of its own: off this one's thread.
    let have = tokio::task::spawn_blocking(app::have_server).await.unwrap();
    have.then_some(turn)
}

/// The message `assertion` panics with; fails if it does not panic.
fn panic_message(assertion: impl FnOnce()) -> String {
    match catch_unwind(AssertUnwindSafe(assertion)) {
        Ok(()) => panic!("the assertion passed, but it should have failed"),
        Err(panic) => panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default(),
    }
}
