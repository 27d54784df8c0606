//! The README's "In your own tests", run: every ```rust block of that
//! section is in this file word for word (the last test checks it), so the
//! examples compile and pass or this fails.

// README: begin
use stockrace::{Assign, Builder, DbError, Guard, Order, Sale, Session, Strategy, Update};

async fn decrement_if_enough(mut db: Session, order: Order) -> Result<Sale, DbError> {
    db.begin(order.isolation).await?;
    for line in order.lines_to_lock() {
        let updated = db
            .update(Update {
                stocked: Assign::Add(-line.quantity),
                guard: Guard::StockedAtLeast(line.quantity),
                ..Update::new(line.level)
            })
            .await?;
        if updated.is_none() {
            db.rollback().await?;
            return Ok(Sale::OutOfStock);
        }
    }
    db.commit().await?;
    Ok(Sale::Sold)
}

#[test]
fn last_unit_is_sold_once() {
    Builder::new(Strategy::new("decrement-if-enough", decrement_if_enough))
        .orders(4)
        .stock(1)
        .run()
        .assert_holds();
}
// README: end

// README: begin
use stockrace::{Isolation, LockOrder};

#[test]
fn two_items_on_two_app_nodes() {
    Builder::new(Strategy::new("decrement-if-enough", decrement_if_enough))
        .orders(3)
        .items(2) // every second order lists them in reverse
        .stock(2)
        .quantity(1)
        .lock_order(LockOrder::Sorted)
        .nodes(2)
        .isolations([Isolation::ReadCommitted, Isolation::Serializable]) // order i: [i % 2]
        .latency_ms(2)
        .think_ms(1)
        .arrival_window_ms(8)
        .max_steps(20_000)
        .max_virtual_ms(120_000)
        .deadlock_timeout_ms(500)
        .seeds(500)
        .jobs(2)
        .run()
        .assert_holds();
}

#[test]
fn a_flash_sale_of_eight() {
    Builder::new(Strategy::new("decrement-if-enough", decrement_if_enough))
        .scenario_file("scenarios/flash-sale.toml") // relative to the crate
        .replace_strategies() // every order runs this strategy
        .orders(8)
        .run()
        .assert_holds();
}
// README: end

// README: begin
use stockrace::Invariant;

/// Checks with a plain read, then decrements: the check can be stale.
async fn check_then_decrement(mut db: Session, order: Order) -> Result<Sale, DbError> {
    db.begin(order.isolation).await?;
    for line in order.lines_to_lock() {
        let row = db.select(line.level).await?;
        if row.stocked < line.quantity {
            db.rollback().await?;
            return Ok(Sale::OutOfStock);
        }
        db.update(Update {
            stocked: Assign::Add(-line.quantity),
            ..Update::new(line.level)
        })
        .await?;
    }
    db.commit().await?;
    Ok(Sale::Sold)
}

#[test]
fn the_stale_check_oversells() {
    let report = Builder::new(Strategy::new("check-then-decrement", check_then_decrement))
        .stop_at_first_violation(false) // count every seed
        .run();
    println!("{}", report.summary()); // runs, violations per invariant
    let first = report.assert_violates();
    assert_eq!(
        first.verdict.violation().unwrap().invariant,
        Invariant::NoOversell
    );
}
// README: end

// README: begin
#[test]
fn replay_one_run() {
    let strategy = Strategy::new("check-then-decrement", check_then_decrement);
    // A kept file, as a failure names it (the file holds its scenario):
    let run = stockrace::replay(strategy.clone(), "seeds/check-then-decrement-0d43b0ba.toml");
    assert!(!run.verdict.holds());
    // A seed or a schedule of a builder's scenario:
    let builder = Builder::new(strategy);
    let run = builder.run_seed(0);
    assert_eq!(builder.replay(&run.schedule).verdict, run.verdict);
}
// README: end

// README: begin
use stockrace::{Execution, Report, SqlState};

fn carts_of_two_items(lock_order: LockOrder) -> Report {
    Builder::new(Strategy::new("decrement-if-enough", decrement_if_enough))
        .items(2)
        .stock(5)
        .lock_order(lock_order)
        .latency_ms(1)
        .invariant("no deadlocks", |run: &Execution| {
            run.errors_with(SqlState::DeadlockDetected) == 0
        })
        .invariant("every order ends within 50 ms", |run: &Execution| match run
            .end_times_ms()
            .iter()
            .position(|t| !t.is_some_and(|ms| ms <= 50))
        {
            Some(order) => Err(format!("T{} took longer", order + 1)),
            None => Ok(()),
        })
        .run()
}

#[test]
fn opposite_carts_deadlock_unless_rows_are_locked_in_order() {
    let listed = carts_of_two_items(LockOrder::Listed);
    let deadlock = listed.assert_violates();
    assert_eq!(
        deadlock.verdict.violation().unwrap().invariant.name(),
        "no deadlocks"
    );
    carts_of_two_items(LockOrder::Sorted).assert_holds();
}
// README: end

// README: begin
#[test]
fn compare_two_paths() {
    let comparison = Builder::new(Strategy::new("decrement-if-enough", decrement_if_enough))
        .stock(2)
        .compare_at(
            [
                Strategy::new("decrement-if-enough", decrement_if_enough),
                Strategy::new("check-then-decrement", check_then_decrement),
            ],
            [Some(2), Some(4), Some(8)], // orders per run
        );
    println!("{comparison}"); // safety, violations per 10k runs, p50/p99, throughput
    assert_eq!(comparison.safe(), ["decrement-if-enough"]);
    let cell = comparison.cell("check-then-decrement", 4).unwrap();
    assert!(cell.figures().violations_per_10k_runs.unwrap() > 0.0);
}
// README: end

/// Every ```rust block of the README's "In your own tests" section is one
/// of this file's `README: begin` .. `README: end` regions, in order.
#[test]
fn the_readme_shows_this_file() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let start = readme
        .find("\n## In your own tests\n")
        .expect("the README has the section");
    let section = &readme[start + 1..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |i| i + 3)];
    let blocks: Vec<&str> = section
        .split("```rust\n")
        .skip(1)
        .map(|b| &b[..b.find("```").expect("a closed block")])
        .collect();
    let this = include_str!("in_your_own_tests.rs");
    let regions: Vec<&str> = this
        .split("// README: begin\n")
        .skip(1)
        .map(|r| &r[..r.find("// README: end\n").expect("an end")])
        .collect();
    assert_eq!(blocks.len(), regions.len(), "one block per region");
    for (block, region) in blocks.iter().zip(&regions) {
        assert_eq!(block, region, "the README's block differs from the test's");
    }
}
