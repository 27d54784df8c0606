//! `stockrace diff`: each seed's schedule on the model and on a real
//! PostgreSQL, compared.

use super::json::{execution_json, pretty};
use super::out::{out, outln};
use super::scenario_args::ScenarioArgs;
use super::{exit_for, seed_range, Bad};
use clap::Args;
use serde_json::json;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use stockrace::adapters::diff::DiffReport;
use stockrace::adapters::postgres::{Pacing, PgServer};

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
    /// PostgreSQL connection string (default: the PG* environment variables).
    #[arg(long)]
    pub pg: Option<String>,
    /// Real milliseconds per virtual millisecond when pacing the server's timeouts.
    #[arg(long, default_value_t = 0.1)]
    pub pacing: f64,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn diff(args: DiffArgs) -> Result<ExitCode, Bad> {
    let simulation = args.scenario.simulation()?;
    let flags = args.scenario.flags(simulation.scenario())?;
    if !(args.pacing > 0.0 && args.pacing.is_finite()) {
        return Err(Bad(format!(
            "--pacing {}: must be a positive number",
            args.pacing
        )));
    }
    let mut server = PgServer::connect(args.pg.as_deref()).map_err(|e| Bad(e.to_string()))?;
    server.pacing = Pacing {
        real_per_virtual: args.pacing,
    };
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
        let one = stockrace::adapters::diff::diff(&simulation, &server, seed..seed + 1, |_, _| {})
            .map_err(|e| Bad(e.to_string()))?;
        report.absorb(one);
    }
    if args.json {
        let first = report.first.as_ref().map(|d| {
            json!({
                "seed": d.seed,
                "what": d.what,
                "schedule": d.model.schedule,
                "model": execution_json(&d.model),
                "postgres": execution_json(&d.database),
            })
        });
        let output = json!({
            "strategy": simulation.scenario().strategy_label(),
            "server": server.description,
            "compared": report.compared,
            "agreeing": report.agreeing,
            "agreed_on_retry": report.retried,
            "agreed_on_retry_seeds": report.retried_seeds,
            "runs_unpaused": report.unpaused,
            "first_disagreement": first,
        });
        outln!("{}", pretty(&output));
    } else {
        outln!(
            "diff: {} | {flags} | PostgreSQL at {}",
            simulation.scenario().strategy_label(),
            server.description
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
        }
        if report.unpaused > 0 {
            outln!(
                "note: in {} of these runs the server's waiting backends could not be paused and woken one at a time \
                 (the server is not on this machine, or stockrace may not signal its processes): \
                 who of several woken waiters gets a row was the server's own race",
                report.unpaused
            );
        }
        if let Some(d) = &report.first {
            outln!("first disagreement: seed {}: {}", d.seed, d.what);
            outln!("schedule: {:?}\n", d.model.schedule);
            out!(
                "{}",
                stockrace::adapters::diff::side_by_side(&d.model, &d.database)
            );
        }
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
