//! `stockrace sweep`: many seeds of one scenario, on every core, or one
//! shard of the seed range; text or JSON. The JSON is a [`SweepDocument`],
//! which `stockrace merge` reads back.

use super::json::pretty;
use super::progress::Progress;
use super::scenario_args::ScenarioArgs;
use super::{exit_for, Bad, SeedArgs};
use clap::Args;
use serde::{Deserialize, Serialize};
use std::ops::Range;
use std::path::PathBuf;
use std::process::ExitCode;
use stockrace::regression::{Regression, Saved};
use stockrace::{Figures, Invariant, Scenario, Simulation, Sweep, SweepReport, Tally};

#[derive(Args)]
pub struct SweepArgs {
    #[command(flatten)]
    pub scenario: ScenarioArgs,
    #[command(flatten)]
    pub seeds: SeedArgs,
    /// Run only the I-th of N equal slices of the seed range (from 1/N to
    /// N/N); `stockrace merge` joins the shards' --json outputs.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Keep the first failing schedule as a regression file.
    #[arg(long)]
    pub save: bool,
    /// Where --save writes regression files.
    #[arg(long, default_value = "seeds")]
    pub seeds_dir: PathBuf,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// A sweep's result as JSON: every count, the figures derived from them,
/// and the first failure. Shards of one sweep merge into the document of
/// the whole sweep.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepDocument {
    pub strategy: String,
    pub scenario: Scenario,
    pub first_seed: u64,
    /// Seeds in the range (`first_seed..first_seed + seeds`).
    pub seeds: u64,
    #[serde(flatten)]
    pub tally: Tally,
    /// Derived from the counts; recomputed, not read, by `merge`.
    #[serde(skip_deserializing)]
    pub figures: Figures,
    pub first_failure: Option<FailureDocument>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailureDocument {
    pub seed: u64,
    pub invariant: Invariant,
    pub step: usize,
    pub detail: String,
    pub schedule: Vec<u32>,
    /// The command that replays it.
    pub replay: String,
    /// The regression file it was kept as (`--save`).
    pub saved: Option<String>,
}

impl SweepDocument {
    pub fn new(
        report: &SweepReport,
        scenario: &Scenario,
        replay_flags: &str,
        saved: Option<&Saved>,
    ) -> SweepDocument {
        SweepDocument {
            strategy: report.strategy.clone(),
            scenario: scenario.clone(),
            first_seed: report.seeds.start,
            seeds: report.seeds.end - report.seeds.start,
            figures: report.tally.figures(),
            tally: report.tally.clone(),
            first_failure: report.first_failure.as_ref().map(|e| {
                let v = e.verdict.violation().expect("a failure");
                let seed = e.seed.expect("seeded");
                FailureDocument {
                    seed,
                    invariant: v.invariant,
                    step: v.step,
                    detail: v.detail.clone(),
                    schedule: e.schedule.clone(),
                    replay: format!("stockrace replay {replay_flags} --seed {seed}"),
                    saved: saved.map(|s| s.path.display().to_string()),
                }
            }),
        }
    }

    /// Prints the text report.
    pub fn print(&self, saved: Option<&Saved>) {
        let t = &self.tally;
        println!("sweep: {} | {}", self.strategy, describe(&self.scenario));
        println!(
            "seeds {}..{}: {} runs, {} violations",
            self.first_seed,
            self.first_seed + self.seeds,
            t.runs,
            t.violations
        );
        for (invariant, count) in &t.by_invariant {
            println!("  {invariant}: {count}");
        }
        println!(
            "orders: {} sold, {} out of stock, {} failed, {} unfinished",
            t.sold, t.out_of_stock, t.failed, t.unfinished
        );
        println!(
            "40001 serialization failures: {}, 40P01 deadlocks: {}, retries: {}",
            t.errors_40001, t.errors_40p01, t.retries
        );
        let f = &self.figures;
        if self.scenario.latency.statement_ms == 0 {
            // Without a statement latency, time passes only on timeouts and
            // app stalls the scheduler explores: no meaningful cost.
            println!("cost: give statements a latency (--latency-ms, or [latency] in a scenario) for latency, lock-wait and throughput figures");
        } else if let (Some(p50), Some(p99)) = (f.latency_p50_ms, f.latency_p99_ms) {
            println!(
                "virtual time: latency p50 {p50} ms, p99 {p99} ms; lock wait {} ms per order; {} orders per second",
                number(f.lock_wait_ms_per_order),
                number(f.orders_per_virtual_s)
            );
        }
        match &self.first_failure {
            Some(failure) => {
                println!(
                    "first failure: seed {}, {} at step {}: {}",
                    failure.seed, failure.invariant, failure.step, failure.detail
                );
                if t.failing_seeds.len() > 1 {
                    let seeds: Vec<String> = t.failing_seeds.iter().map(u64::to_string).collect();
                    println!("lowest failing seeds: {}", seeds.join(", "));
                }
                println!("schedule: {:?}", failure.schedule);
                println!("replay: {}", failure.replay);
                match (saved, &failure.saved) {
                    (Some(saved), _) if !saved.new => {
                        println!("already kept as {}", saved.path.display())
                    }
                    (_, Some(path)) => println!("kept as {path}"),
                    _ => {}
                }
            }
            None => println!("every invariant held"),
        }
    }
}

/// A figure for text output: "-" when there is none.
pub fn number(value: Option<f64>) -> String {
    value.map_or("-".into(), |v| format!("{v:.2}"))
}

/// One line about a scenario: orders, stock, isolation, nodes, latency.
pub fn describe(scenario: &Scenario) -> String {
    describe_with_orders(scenario, &scenario.orders.len().to_string())
}

/// [`describe`] with the number of orders given as text (compare's levels).
pub fn describe_with_orders(scenario: &Scenario, orders: &str) -> String {
    let stock: Vec<String> = scenario
        .levels
        .iter()
        .map(|l| l.stocked.to_string())
        .collect();
    let isolation = match scenario.orders.first() {
        Some(first)
            if scenario
                .orders
                .iter()
                .all(|o| o.isolation == first.isolation) =>
        {
            first.isolation.name()
        }
        _ => "mixed isolation",
    };
    let mut text = format!(
        "{orders} orders against {} level(s) stocked {} | {isolation} | {} node(s)",
        scenario.levels.len(),
        stock.join(", "),
        scenario.nodes
    );
    if !scenario.latency.is_zero() {
        text += &format!(
            " | latency {} ms, think {} ms",
            scenario.latency.statement_ms, scenario.latency.think_ms
        );
    }
    text
}

/// `I/N` → the I-th of N slices of `seeds` (I from 1).
pub fn shard(text: &str, seeds: Range<u64>) -> Result<Range<u64>, Bad> {
    let bad = |why: &str| Bad(format!("--shard {text:?}: {why}"));
    let (i, n) = text
        .split_once('/')
        .ok_or_else(|| bad("expected I/N, such as 1/4"))?;
    let (i, n): (u64, u64) = match (i.trim().parse(), n.trim().parse()) {
        (Ok(i), Ok(n)) => (i, n),
        _ => return Err(bad("expected I/N with whole numbers, such as 1/4")),
    };
    if n == 0 || i == 0 || i > n {
        return Err(bad("I must run from 1 to N"));
    }
    let total = u128::from(seeds.end - seeds.start);
    let at = |k: u64| seeds.start + (total * u128::from(k) / u128::from(n)) as u64;
    Ok(at(i - 1)..at(i))
}

/// Runs a sweep with a progress bar; a strategy panic is bad input.
pub fn run(simulation: &Simulation, seeds: Range<u64>, jobs: usize) -> Result<SweepReport, Bad> {
    let progress = Progress::new(seeds.end - seeds.start);
    let advance = |n| progress.advance(n);
    let report = Sweep::new(simulation, seeds)
        .jobs(jobs)
        .progress(&advance)
        .run();
    progress.finish();
    panicked(simulation, &report)?;
    Ok(report)
}

/// A strategy that panicked is a bug in it: bad input, named.
pub fn panicked(simulation: &Simulation, report: &SweepReport) -> Result<(), Bad> {
    match &report.panic {
        Some((seed, order, message)) => Err(Bad(format!(
            "strategy {} panicked in order T{} at seed {seed}: {message}",
            simulation.scenario().orders[*order].strategy,
            order + 1
        ))),
        None => Ok(()),
    }
}

pub fn sweep(args: SweepArgs) -> Result<ExitCode, Bad> {
    let simulation = args.scenario.simulation()?;
    let flags = args.scenario.flags(simulation.scenario())?;
    let jobs = args.seeds.jobs()?;
    let mut seeds = args.seeds.range()?;
    if let Some(text) = &args.shard {
        seeds = shard(text, seeds)?;
    }
    let report = run(&simulation, seeds, jobs)?;
    let saved = match (&report.first_failure, args.save) {
        (Some(execution), true) => Some(
            Regression::from_execution(&simulation, execution)
                .save(&args.seeds_dir)
                .map_err(|e| {
                    Bad(format!(
                        "cannot save the regression in {}: {e}",
                        args.seeds_dir.display()
                    ))
                })?,
        ),
        _ => None,
    };
    let document = SweepDocument::new(&report, simulation.scenario(), &flags, saved.as_ref());
    if args.json {
        println!("{}", pretty(&document));
    } else {
        document.print(saved.as_ref());
    }
    Ok(exit_for(report.tally.violations > 0))
}
