//! One scenario, two databases: `database = "mariadb-10.11"` (or
//! `--database`) runs the same strategies on the InnoDB model, with
//! MariaDB's errors, its lock wait timeout and its own refusals; and a run
//! there is as deterministic as on PostgreSQL.

mod command;
mod sweeping;
use sweeping::tally;

use command::{stderr, stdout, stockrace};

use std::path::Path;
use stockrace::model::Database;
use stockrace::trace::TraceEvent;
use stockrace::{Isolation, Progress, Scenario, Shape, Simulation, SqlState, Strategies};

fn on(database: Database, mut scenario: Scenario) -> Simulation {
    scenario.database = database;
    Simulation::new(scenario, &Strategies::builtin()).unwrap()
}

fn example() -> Scenario {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/read-then-write-on-mariadb.toml");
    Scenario::load(&path, |name| Strategies::builtin().get(name).is_some()).unwrap()
}

/// The example scenario: Medusa's read-then-absolute-write at REPEATABLE
/// READ is safe on PostgreSQL (40001, no lost unit) and loses updates on
/// MariaDB 10.11, unless innodb_snapshot_isolation turns them into 1020.
#[test]
fn read_then_write_at_repeatable_read_is_safe_on_postgres_and_loses_updates_on_mariadb() {
    let scenario = example();
    assert_eq!(scenario.database, Database::MariaDb1011);

    let postgres = tally(&on(Database::Postgres15, scenario.clone()), 200);
    assert_eq!(postgres.violations, 0, "{postgres:?}");
    assert!(postgres.errors_40001 > 0, "{postgres:?}");

    let mariadb = tally(&on(Database::MariaDb1011, scenario.clone()), 200);
    assert!(mariadb.violations > 0, "{mariadb:?}");
    assert_eq!(
        mariadb
            .by_invariant
            .keys()
            .map(|i| i.name())
            .collect::<Vec<_>>(),
        ["conservation"],
        "a lost update, not an oversell"
    );
    assert_eq!(mariadb.errors_40001, 0);
    assert_eq!(mariadb.failed, 0, "every order was told it sold");

    let mut snapshot = scenario;
    snapshot.innodb_snapshot_isolation = true;
    let strict = tally(&on(Database::MariaDb1011, snapshot), 200);
    assert_eq!(strict.violations, 0, "{strict:?}");
    assert_eq!(
        strict.errors_40001, postgres.errors_40001,
        "1020 where PostgreSQL said 40001"
    );
}

/// The sweep's concrete-store path and a single run's `ModelStore` path
/// give the same runs, and the same seed gives the same trace twice.
#[test]
fn a_mariadb_run_is_a_pure_function_of_the_seed() {
    for strategy in [
        "plain-update",
        "row-lock",
        "optimistic",
        "reservation",
        "medusa-update-levels",
    ] {
        let scenario = Shape {
            orders: 4,
            items: 2,
            stock: 2,
            isolation: Isolation::RepeatableRead,
            ..Shape::new(strategy)
        }
        .scenario();
        let simulation = on(Database::MariaDb1011, scenario);
        let mut swept = Vec::new();
        simulation.run_seeds(0..40, |execution| {
            swept.push(execution);
            true
        });
        for (seed, from_sweep) in swept.iter().enumerate() {
            let single = simulation.run_seed(seed as u64);
            let again = simulation.run_seed(seed as u64);
            assert_eq!(single.trace, from_sweep.trace, "{strategy} seed {seed}");
            assert_eq!(single.render(), again.render(), "{strategy} seed {seed}");
            let replayed = simulation.replay(&single.schedule, Some(seed as u64 + 99));
            assert_eq!(replayed.trace, single.trace, "{strategy} seed {seed}");
        }
    }
}

/// Deadlocks on MariaDB are found at once (no deadlock_timeout passes),
/// counted as deadlocks, and the retry helper retries them.
#[test]
fn mariadb_deadlocks_are_immediate_and_retried_by_the_retry_helper() {
    // With a statement latency, so that no app stalls 50 s (a 1205).
    let shape = |strategy: &str| {
        let mut scenario = Shape {
            orders: 2,
            items: 2,
            stock: 4,
            isolation: Isolation::Serializable,
            ..Shape::new(strategy)
        }
        .scenario();
        scenario.latency.statement_ms = 1;
        scenario
    };
    let simulation = on(Database::MariaDb1011, shape("serializable-retry"));
    let mut deadlocks = 0;
    simulation.run_seeds(0..300, |execution| {
        let mut last_statement_ms = 0;
        for event in &execution.trace {
            if let TraceEvent::Statement { event, time_ms } = event {
                if let Progress::Done(Err(e)) = event.progress {
                    assert_eq!(e.state, SqlState::MariaDbDeadlock, "{}", execution.render());
                    // Decided by the statement that closed the cycle (this
                    // one, or the one just before a waiting victim's
                    // answer), at its time: no deadlock_timeout passed.
                    assert!(
                        !event.resumed || *time_ms == last_statement_ms,
                        "found at once:\n{}",
                        execution.render()
                    );
                    deadlocks += 1;
                }
                last_statement_ms = *time_ms;
            }
        }
        assert!(execution.verdict.holds(), "{}", execution.render());
        true
    });
    assert!(deadlocks > 0, "the opposite carts deadlock sometimes");
    let retried = tally(&simulation, 300);
    assert_eq!(retried.errors_40p01, deadlocks, "1213 counts as a deadlock");
    assert!(retried.retries > 0);
    assert_eq!(retried.failed, 0, "every deadlock was retried: {retried:?}");
    // row-lock does not retry: its victims fail.
    let row_lock = tally(&on(Database::MariaDb1011, shape("row-lock")), 300);
    assert!(
        row_lock.errors_40p01 > 0 && row_lock.failed > 0,
        "{row_lock:?}"
    );
}

/// A lock wait that nothing ends fails with 1205 after
/// innodb_lock_wait_timeout (50 s of virtual time), not PostgreSQL's
/// 55P03, and only when time may pass (no statement latency: an app stall).
#[test]
fn a_mariadb_lock_wait_times_out_after_fifty_virtual_seconds_with_1205() {
    let simulation = on(
        Database::MariaDb1011,
        Scenario::single("row-lock", 2, 1, 1, Isolation::ReadCommitted),
    );
    let mut timeouts = 0;
    simulation.run_seeds(0..100, |execution| {
        let mut began = None;
        for event in &execution.trace {
            if let TraceEvent::Statement { event, time_ms } = event {
                match event.progress {
                    Progress::Waiting { .. } if !event.resumed => began = Some(*time_ms),
                    Progress::Done(Err(e)) => {
                        assert_eq!(e.state, SqlState::MariaDbLockWaitTimeout);
                        assert_eq!(e.mariadb_code(), Some(1205));
                        assert_eq!(
                            Some(*time_ms),
                            began.map(|b| b + 50_000),
                            "{}",
                            execution.render()
                        );
                        timeouts += 1;
                    }
                    _ => {}
                }
            }
        }
        true
    });
    assert!(timeouts > 0);
}

#[test]
fn settings_and_strategies_a_database_lacks_are_refused_with_the_reason() {
    let refused = |database: Database, scenario: Scenario| {
        let mut scenario = scenario;
        scenario.database = database;
        Simulation::new(scenario, &Strategies::builtin())
            .unwrap_err()
            .to_string()
    };
    let advisory = Scenario::single("advisory-lock", 2, 1, 1, Isolation::ReadCommitted);
    let why = refused(Database::MariaDb1011, advisory.clone());
    assert!(
        why.starts_with("orders[0].strategy: advisory-lock runs on postgres-15 only"),
        "{why}"
    );
    assert!(why.contains("pg_advisory_xact_lock"), "{why}");
    assert!(Simulation::new(advisory, &Strategies::builtin()).is_ok());

    let mut snapshot = Scenario::single("row-lock", 2, 1, 1, Isolation::ReadCommitted);
    snapshot.innodb_snapshot_isolation = true;
    let why = refused(Database::Postgres15, snapshot);
    assert!(
        why.starts_with("innodb_snapshot_isolation: is a MariaDB setting"),
        "{why}"
    );

    let mut timeout = Scenario::single("row-lock", 2, 1, 1, Isolation::ReadCommitted);
    timeout.orders[1].lock_timeout_ms = Some(100);
    let why = refused(Database::MariaDb1011, timeout);
    assert!(
        why.starts_with("orders[1].lock_timeout_ms: is PostgreSQL's lock_timeout"),
        "{why}"
    );
}

#[test]
fn the_command_line_names_the_database_everywhere_and_refuses_unknown_ones() {
    let output = stockrace(&["sweep", "--strategy", "row-lock", "--database", "mysql"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output)
            .contains("--database \"mysql\": expected one of postgres-15, mariadb-10.11"),
        "{}",
        stderr(&output)
    );

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("oracle.toml");
    std::fs::write(
        &file,
        "database = \"oracle-23\"\n\n[[levels]]\nitem = \"a\"\nlocation = \"b\"\nstocked = 1\n",
    )
    .unwrap();
    let output = stockrace(&["sweep", "--scenario", file.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.contains("oracle.toml:1: unknown variant `oracle-23`"),
        "{message}"
    );

    let output = stockrace(&[
        "sweep",
        "--strategy",
        "advisory-lock",
        "--database",
        "mariadb-10.11",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("advisory-lock runs on postgres-15 only"),
        "{}",
        stderr(&output)
    );

    let output = stockrace(&[
        "sweep",
        "--strategy",
        "plain-update",
        "--database",
        "mariadb-10.11",
        "--isolation",
        "repeatable-read",
        "--json",
    ]);
    let json: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(json["database"], "mariadb-10.11");
    let replay = json["first_failure"]["replay"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(replay.contains("--database mariadb-10.11"), "{replay}");

    let args: Vec<&str> = replay
        .strip_prefix("stockrace ")
        .unwrap()
        .split(' ')
        .collect();
    let output = stockrace(&args);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.starts_with("replay: plain-update | mariadb-10.11 | 2 orders"),
        "{text}"
    );

    let output = stockrace(&["sweep", "--strategy", "plain-update", "--seeds", "10"]);
    assert!(
        stdout(&output).starts_with("sweep: plain-update | postgres-15 | 2 orders"),
        "{}",
        stdout(&output)
    );
}

/// `compare --databases --isolations`: a row per database × strategy ×
/// isolation level, replay commands that say where they ran, and the
/// strategies a database cannot run listed as not run.
#[test]
fn compare_puts_databases_and_isolation_levels_side_by_side() {
    let output = stockrace(&[
        "compare",
        "--databases",
        "postgres-15,mariadb-10.11",
        "--isolations",
        "read-committed,repeatable-read",
        "--strategies",
        "medusa-adjust,advisory-lock",
        "--orders",
        "2",
        "--stock",
        "2",
        "--seeds",
        "100",
        "--json",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let cells = json["results"].as_array().unwrap();
    let safe = |strategy: &str, database: &str, isolation: &str| {
        let cell = cells
            .iter()
            .find(|c| {
                c["strategy"] == strategy
                    && c["database"] == database
                    && c["isolation"] == isolation
            })
            .unwrap_or_else(|| panic!("no cell {strategy} {database} {isolation}"));
        cell["safe"].as_bool().unwrap()
    };
    assert!(safe("medusa-adjust", "postgres-15", "repeatable-read"));
    assert!(!safe("medusa-adjust", "mariadb-10.11", "repeatable-read"));
    assert!(!safe("medusa-adjust", "postgres-15", "read-committed"));
    assert!(safe("advisory-lock", "postgres-15", "read-committed"));
    assert_eq!(
        cells.len(),
        2 * 2 + 2,
        "advisory-lock runs on PostgreSQL only"
    );
    assert_eq!(json["not_run"][0]["strategy"], "advisory-lock");
    assert_eq!(json["not_run"][0]["database"], "mariadb-10.11");

    let output = stockrace(&[
        "compare",
        "--databases",
        "postgres-15,mariadb-10.11",
        "--isolations",
        "repeatable-read",
        "--strategies",
        "medusa-adjust,advisory-lock",
        "--orders",
        "2",
        "--stock",
        "2",
        "--seeds",
        "100",
    ]);
    let text = stdout(&output);
    assert!(
        text.contains("medusa-adjust | mariadb-10.11 | repeatable-read"),
        "{text}"
    );
    assert!(
        text.contains("not run: advisory-lock runs on postgres-15 only"),
        "{text}"
    );
    let replay = text
        .lines()
        .find(|l| l.contains("stockrace replay") && l.contains("mariadb-10.11"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(replay.contains("--isolation repeatable-read"), "{replay}");
    assert_eq!(replay.matches("--isolation").count(), 1, "{replay}");

    let output = stockrace(&["compare", "--databases", "postgres-15,postgres-15"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("listed twice"),
        "{}",
        stderr(&output)
    );
}
