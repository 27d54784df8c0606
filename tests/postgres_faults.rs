//! Fault runs on a real PostgreSQL: the schedule that crashed an app node,
//! lost a reply or paused a node on the model, replayed on the server,
//! gives the same statements and answers (the lease strategies' fencing
//! claims and token-guarded writes, and recoveries after a restart,
//! included). The server sees what a dead connection leaves
//! behind: the harness rolls back what it had open (as PostgreSQL does when
//! a client disconnects), and the order is handed 08006. Skipped, with the
//! reason, when no server is reachable (a failure under CI=true).

mod postgres;

use stockrace::adapters::diff::diff;
use stockrace::{Faults, Shape, Simulation, Strategies};

#[test]
fn fault_runs_agree_with_postgres() {
    let Some(server) = postgres::server() else {
        return;
    };
    let _turn = postgres::one_at_a_time();
    for strategy in [
        "guarded-decrement",
        "retry-on-error",
        "idempotent",
        "row-lock",
        "lease-lock",
        "lease-lock-fenced",
    ] {
        let mut scenario = Shape {
            orders: 3,
            stock: 3,
            nodes: 2,
            ..Shape::new(strategy)
        }
        .scenario();
        scenario.latency.statement_ms = 1;
        scenario.faults = Faults {
            crashes: 1,
            lost_replies: 1,
            pauses: 1,
            // The idempotent path's recovery runs after its node restarts.
            restart: true,
            ..Faults::default()
        };
        let simulation = Simulation::new(scenario, &Strategies::builtin()).unwrap();
        let report = diff(&simulation, server, 0..25, |_, _| {}).unwrap_or_else(|e| panic!("{e}"));
        if let Some(d) = &report.first {
            panic!("{strategy}: seed {} disagrees: {}", d.seed, d.what);
        }
        assert_eq!(report.compared, 25, "{strategy}");
        assert_eq!(report.agreeing, 25, "{strategy}");
    }
}
