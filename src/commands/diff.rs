//! `stockrace diff`: each seed's schedule on the model and on a real server
//! of the scenario's database (PostgreSQL or MariaDB), compared.

use super::json::{execution_json, pretty};
use super::out::{out, outln};
use super::scenario_args::ScenarioArgs;
use super::{exit_for, seed_range, Bad};
use clap::Args;
use serde_json::json;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use stockrace::adapters::diff::{DiffReport, Server};
use stockrace::adapters::mariadb::MariaDbServer;
use stockrace::adapters::postgres::{Pacing, PgServer};
use stockrace::{Database, Simulation};

/// `--pacing` unless given.
const DEFAULT_PACING: f64 = 0.1;

#[derive(Args)]
pub struct DiffArgs {
    #[command(flatten)]
    pub scenario: ScenarioArgs,
    /// Number of seeds to compare.
    #[arg(long, default_value_t = 100)]
    pub seeds: u64,
    /// First seed of the range.
    #[arg(long, default_value_t = 0)]
    pub first_seed: u64,
    /// PostgreSQL connection string, for a postgres-15 scenario (default:
    /// the PG* environment variables).
    #[arg(long)]
    pub pg: Option<String>,
    /// MariaDB URL (mysql://user:password@host:port/), for a mariadb-10.11
    /// scenario (default: STOCKRACE_MARIADB, else the MARIADB_* / MYSQL_*
    /// environment variables).
    #[arg(long)]
    pub mariadb: Option<String>,
    /// Real milliseconds per virtual millisecond when pacing PostgreSQL's
    /// timeouts [default: 0.1]. MariaDB's pace is its
    /// innodb_lock_wait_timeout (3 s for the model's 50 s).
    #[arg(long)]
    pub pacing: Option<f64>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn diff(args: DiffArgs) -> Result<ExitCode, Bad> {
    let simulation = args.scenario.simulation()?;
    let flags = args.scenario.flags(simulation.scenario())?;
    let database = simulation.scenario().database;
    // A flag for the other database's server would be ignored: say so.
    let misplaced = |flag: &str, server: Database| {
        Bad(format!(
            "{flag} is for a {server} scenario (--database {server}); this one runs on {database}"
        ))
    };
    match database {
        Database::Postgres15 => {
            if args.mariadb.is_some() {
                return Err(misplaced("--mariadb", Database::MariaDb1011));
            }
            let pacing = args.pacing.unwrap_or(DEFAULT_PACING);
            if !(pacing > 0.0 && pacing.is_finite()) {
                return Err(Bad(format!("--pacing {pacing}: must be a positive number")));
            }
            let mut server =
                PgServer::connect(args.pg.as_deref()).map_err(|e| Bad(e.to_string()))?;
            server.pacing = Pacing {
                real_per_virtual: pacing,
            };
            run(&args, &simulation, &flags, &server)
        }
        Database::MariaDb1011 => {
            if args.pg.is_some() {
                return Err(misplaced("--pg", Database::Postgres15));
            }
            if args.pacing.is_some() {
                return Err(misplaced("--pacing", Database::Postgres15));
            }
            let server =
                MariaDbServer::connect(args.mariadb.as_deref()).map_err(|e| Bad(e.to_string()))?;
            run(&args, &simulation, &flags, &server)
        }
    }
}

/// Compares every seed on `server` and reports.
fn run<S: Server>(
    args: &DiffArgs,
    simulation: &Simulation,
    flags: &str,
    server: &S,
) -> Result<ExitCode, Bad> {
    let seeds = seed_range(args.first_seed, args.seeds)?;
    // Ctrl-C stops between seeds: a run that ends normally lets the server's
    // paused backends go (see stockrace::adapters::postgres), where a killed
    // process would leave them stopped.
    let interrupted = super::interrupt::catch();
    let mut report = DiffReport::default();
    for seed in seeds {
        if interrupted.load(Ordering::SeqCst) {
            break;
        }
        let one = stockrace::adapters::diff::diff(simulation, server, seed..seed + 1, |_, _| {})
            .map_err(|e| Bad(e.to_string()))?;
        report.absorb(one);
    }
    if args.json {
        print_json(simulation, server, &report)?;
    } else {
        print_text(simulation, flags, server, &report)?;
    }
    if interrupted.load(Ordering::SeqCst) {
        eprintln!(
            "stockrace: interrupted after {} of {} seeds; the figures above are for those",
            report.compared, args.seeds
        );
        return Ok(ExitCode::from(super::interrupt::INTERRUPTED));
    }
    Ok(exit_for(report.first.is_some()))
}

fn print_json<S: Server>(
    simulation: &Simulation,
    server: &S,
    report: &DiffReport,
) -> Result<(), Bad> {
    let first = report.first.as_ref().map(|d| {
        json!({
            "seed": d.seed,
            "what": d.what,
            "schedule": d.model.schedule,
            "model": execution_json(&d.model),
            "server": execution_json(&d.database),
        })
    });
    // Only PostgreSQL's waiting sessions can be paused at all.
    let unpaused = (S::DATABASE == Database::Postgres15).then_some(report.unpaused);
    let output = json!({
        "strategy": simulation.scenario().strategy_label(),
        "database": S::DATABASE.name(),
        "server": server.description(),
        "compared": report.compared,
        "agreeing": report.agreeing,
        "agreed_on_retry": report.retried,
        "agreed_on_retry_seeds": report.retried_seeds,
        "agreed_on_retry_first_replay": report.retried_what,
        "runs_unpaused": unpaused,
        "disagreements": report
            .disagreeing
            .iter()
            .map(|(seed, what)| json!({ "seed": seed, "what": what }))
            .collect::<Vec<_>>(),
        "first_disagreement": first,
    });
    outln!("{}", pretty(&output));
    Ok(())
}

fn print_text<S: Server>(
    simulation: &Simulation,
    flags: &str,
    server: &S,
    report: &DiffReport,
) -> Result<(), Bad> {
    outln!(
        "diff: {} | {flags} | {} at {}",
        simulation.scenario().strategy_label(),
        S::NAME,
        server.description()
    );
    outln!(
        "agreement: {} / {} runs ({} agreed only when replayed again on the server)",
        report.agreeing,
        report.compared,
        report.retried
    );
    if !report.retried_seeds.is_empty() {
        outln!(
            "agreed only when replayed again: seed{} {}",
            if report.retried_seeds.len() == 1 {
                ""
            } else {
                "s"
            },
            report
                .retried_seeds
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        );
        for (seed, what) in report.retried_seeds.iter().zip(&report.retried_what) {
            outln!("  seed {seed}, first replay: {what}");
        }
        if S::DATABASE == Database::MariaDb1011 {
            outln!(
                "note: MariaDB's waiting sessions cannot be paused: who of several woken waiters \
                 gets a row, or times out first, is the server's own race"
            );
        }
    }
    if report.unpaused > 0 {
        outln!(
            "note: in {} of these runs the server's waiting backends could not be paused and woken one at a time \
             (the server is not on this machine, or stockrace may not signal its processes): \
             who of several woken waiters gets a row was the server's own race",
            report.unpaused
        );
    }
    if report.disagreeing.len() > 1 {
        let seeds: Vec<String> = report
            .disagreeing
            .iter()
            .map(|(s, _)| s.to_string())
            .collect();
        outln!("disagreeing seeds: {}", seeds.join(", "));
    }
    if let Some(d) = &report.first {
        outln!("first disagreement: seed {}: {}", d.seed, d.what);
        outln!("schedule: {:?}\n", d.model.schedule);
        out!("{}", d.side_by_side());
    }
    Ok(())
}
