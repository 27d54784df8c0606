//! `stockrace sweep`: many seeds of one scenario, on every core, or one
//! shard of the seed range; text or JSON. The JSON is a [`SweepDocument`],
//! which `stockrace merge` reads back.

use super::files::{self, Output};
use super::interrupt;
use super::json::pretty;
use super::out::{out, outln};
use super::progress::Progress;
use super::scenario_args::ScenarioArgs;
use super::{exit_for, Bad, SeedArgs};
use clap::Args;
use serde::{Deserialize, Serialize};
use std::ops::Range;
use std::path::PathBuf;
use std::process::ExitCode;
use stockrace::regression::{Regression, Saved};
use stockrace::{
    Database, Figures, Invariant, Scenario, SeedChooser, Shrunk, Simulation, Size, Sweep,
    SweepReport, Tally,
};

mod html;

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
    /// Also write the JSON to FILE (`-`: stdout), the text still on stdout.
    #[arg(long, value_name = "FILE")]
    pub json_out: Option<PathBuf>,
    /// Write a self-contained HTML report to FILE (`-`: stdout, and the
    /// text goes to stderr): the figures, and the timeline of the first
    /// failure shrunk.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

/// A sweep's result as JSON: every count, the figures derived from them,
/// and the first failure. Shards of one sweep merge into the document of
/// the whole sweep.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepDocument {
    pub strategy: String,
    /// The scenario's database, said even when it is the default (the
    /// scenario leaves the default out). Documents written before there
    /// was a choice read as postgres-15.
    #[serde(default)]
    pub database: Database,
    pub scenario: Scenario,
    /// The chooser's flags when it is not uniform random (`--chooser pct
    /// --depth 3`): a seed means a run only with its chooser.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub chooser: String,
    pub first_seed: u64,
    /// Seeds in the range (`first_seed..first_seed + seeds`); when
    /// interrupted, the seeds that ran.
    pub seeds: u64,
    /// A shard of a sweep: which one, and the whole sweep's range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardDocument>,
    /// Stopped by Ctrl-C before every seed ran.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub interrupted: bool,
    #[serde(flatten)]
    pub tally: Tally,
    /// Derived from the counts; recomputed, not read, by `merge`.
    #[serde(skip_deserializing)]
    pub figures: Figures,
    pub first_failure: Option<FailureDocument>,
}

/// `--shard I/N` of the sweep of `first_seed..first_seed + seeds`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShardDocument {
    pub index: u64,
    pub count: u64,
    pub first_seed: u64,
    pub seeds: u64,
}

impl ShardDocument {
    /// The seeds of shard `index` (from 1).
    pub fn range(&self, index: u64) -> Range<u64> {
        let total = u128::from(self.seeds);
        let at = |k: u64| self.first_seed + (total * u128::from(k) / u128::from(self.count)) as u64;
        at(index - 1)..at(index)
    }
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
    /// The regression file it was kept as (`--save`): the minimal schedule.
    pub saved: Option<String>,
    /// How big the failing run's story was, and how small shrinking made it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original: Option<Size>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimal: Option<Size>,
    /// The shrunk schedule (the seed replays the original).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimal_schedule: Option<Vec<u32>>,
}

/// A sweep's first failure made as small as it can be: what sweep and
/// compare show, and what `--save` keeps.
pub fn shrink_first_failure(simulation: &Simulation, report: &SweepReport) -> Option<Shrunk> {
    report
        .first_failure
        .as_ref()
        .and_then(|e| simulation.shrink(&e.schedule))
}

impl SweepDocument {
    /// `shrunk`: the first failure shrunk ([`shrink_first_failure`]), whose
    /// sizes and schedule the document records beside the seed's.
    pub fn new(
        report: &SweepReport,
        scenario: &Scenario,
        replay_flags: &str,
        saved: Option<&Saved>,
        shrunk: Option<&Shrunk>,
    ) -> SweepDocument {
        SweepDocument {
            strategy: report.strategy.clone(),
            database: scenario.database,
            scenario: scenario.clone(),
            chooser: String::new(),
            first_seed: report.seeds.start,
            seeds: if report.interrupted {
                report.tally.runs
            } else {
                report.seeds.end - report.seeds.start
            },
            shard: None,
            interrupted: report.interrupted,
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
                    original: shrunk.map(|s| s.original),
                    minimal: shrunk.map(|s| s.minimal),
                    minimal_schedule: shrunk.map(|s| s.schedule.clone()),
                }
            }),
        }
    }

    /// Prints the text report.
    pub fn print(&self, saved: Option<&Saved>) -> Result<(), Bad> {
        let t = &self.tally;
        outln!("sweep: {} | {}", self.strategy, describe(&self.scenario));
        let shard = self.shard.map_or(String::new(), |s| {
            format!(
                " (shard {}/{} of seeds {}..{})",
                s.index,
                s.count,
                s.first_seed,
                s.first_seed + s.seeds
            )
        });
        let interrupted = if self.interrupted {
            " (interrupted by Ctrl-C: counts cover the seeds done)"
        } else {
            ""
        };
        outln!(
            "seeds {}..{}{shard}: {} runs, {} violations{interrupted}",
            self.first_seed,
            self.first_seed + self.seeds,
            t.runs,
            t.violations
        );
        for (invariant, count) in &t.by_invariant {
            outln!("  {invariant}: {count}");
        }
        outln!(
            "orders: {} sold, {} out of stock, {} failed, {} unfinished{}",
            t.sold,
            t.out_of_stock,
            t.failed,
            t.unfinished,
            if t.crashed > 0 {
                format!(", {} crashed", t.crashed)
            } else {
                String::new()
            }
        );
        if !self.scenario.faults.is_none() {
            let budget = self.scenario.faults;
            outln!(
                "faults injected: {} app node crash(es), {} lost repl(ies), {} pause(s) of {} ms (budget per run: {}, {} and {})",
                t.crashes,
                t.lost_replies,
                t.pauses,
                budget.pause_ms,
                budget.crashes,
                budget.lost_replies,
                budget.pauses
            );
        }
        let (serialization_failures, deadlocks) = self.scenario.database.failure_names();
        outln!(
            "{serialization_failures}: {}, {deadlocks}: {}, retries: {}",
            t.errors_40001,
            t.errors_40p01,
            t.retries
        );
        let f = &self.figures;
        if self.scenario.latency.statement_ms == 0 {
            // Without a statement latency, time passes only on timeouts and
            // app stalls the scheduler explores: no meaningful cost.
            outln!("cost: give statements a latency (--latency-ms, or [latency] in a scenario) for latency, lock-wait and throughput figures");
        } else if let (Some(p50), Some(p99)) = (f.latency_p50_ms, f.latency_p99_ms) {
            outln!(
                "virtual time: latency p50 {p50} ms, p99 {p99} ms; lock wait {} ms per order; {} orders per second",
                number(f.lock_wait_ms_per_order),
                number(f.orders_per_virtual_s)
            );
        }
        match &self.first_failure {
            Some(failure) => {
                outln!(
                    "first failure: seed {}, {} at step {}: {}",
                    failure.seed,
                    failure.invariant,
                    failure.step,
                    failure.detail
                );
                if t.failing_seeds.len() > 1 {
                    let seeds: Vec<String> = t.failing_seeds.iter().map(u64::to_string).collect();
                    outln!("lowest failing seeds: {}", seeds.join(", "));
                }
                outln!("schedule: {:?}", failure.schedule);
                outln!("replay: {}", failure.replay);
                if let Some(shrunk) = failure.shrunk_text() {
                    outln!("{shrunk} (--save keeps it; `stockrace shrink` shows its trace)");
                }
                match (saved, &failure.saved) {
                    (Some(saved), _) if !saved.new => {
                        outln!("already kept as {}", saved.path.display())
                    }
                    (_, Some(path)) => outln!("kept as {path}"),
                    _ => {}
                }
            }
            None => outln!("every invariant held"),
        }
        Ok(())
    }
}

impl FailureDocument {
    /// "shrunk: from SIZE to SIZE; schedule [...]", when it was shrunk.
    pub fn shrunk_text(&self) -> Option<String> {
        let (Some(original), Some(minimal), Some(schedule)) =
            (&self.original, &self.minimal, &self.minimal_schedule)
        else {
            return None;
        };
        Some(format!(
            "shrunk: from {} to {}; schedule {schedule:?}",
            super::shrink::size_text(original),
            super::shrink::size_text(minimal)
        ))
    }
}

/// A figure for text output: "-" when there is none.
pub fn number(value: Option<f64>) -> String {
    value.map_or("-".into(), |v| format!("{v:.2}"))
}

/// One line about a scenario: database, orders, stock, isolation, nodes, latency.
pub fn describe(scenario: &Scenario) -> String {
    describe_with_orders(scenario, &scenario.orders.len().to_string())
}

/// [`describe`] with the number of orders given as text (compare's levels).
pub fn describe_with_orders(scenario: &Scenario, orders: &str) -> String {
    // Many levels are summarised: a header line, not a page of numbers.
    let stocked = scenario.levels.iter().map(|l| l.stocked);
    let stock = match (stocked.clone().min(), stocked.clone().max()) {
        _ if scenario.levels.len() <= 8 => stocked
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .join(", "),
        (Some(min), Some(max)) if min == max => format!("{min} each"),
        (Some(min), Some(max)) => format!("{min} to {max}"),
        _ => String::new(),
    };
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
        "{} | {orders} orders against {} level(s) stocked {} | {isolation} | {} node(s)",
        scenario.database,
        scenario.levels.len(),
        stock,
        scenario.nodes
    );
    if !scenario.latency.is_zero() {
        text += &format!(
            " | latency {} ms, think {} ms",
            scenario.latency.statement_ms, scenario.latency.think_ms
        );
    }
    if scenario.innodb_snapshot_isolation {
        text += " | innodb_snapshot_isolation";
    }
    text
}

/// `I/N` → the I-th of N slices of `seeds` (I from 1), none empty.
pub fn shard(text: &str, seeds: Range<u64>) -> Result<(Range<u64>, ShardDocument), Bad> {
    let bad = |why: &str| Bad(format!("--shard {text:?}: {why}"));
    let (i, n) = text
        .split_once('/')
        .ok_or_else(|| bad("expected I/N, such as 1/4"))?;
    let (i, n): (u64, u64) = match (i.trim().parse(), n.trim().parse()) {
        (Ok(i), Ok(n)) => (i, n),
        _ => return Err(bad("expected I/N with whole numbers, such as 1/4")),
    };
    if n == 0 {
        return Err(bad("N must be at least 1"));
    }
    if i == 0 || i > n {
        return Err(bad("I must run from 1 to N"));
    }
    let total = seeds.end - seeds.start;
    if n > total {
        // Some shard would run no seeds: refused, as --seeds 0 is.
        return Err(bad(&format!(
            "more shards than the {total} seeds of the sweep; use at most {total}"
        )));
    }
    let document = ShardDocument {
        index: i,
        count: n,
        first_seed: seeds.start,
        seeds: total,
    };
    Ok((document.range(i), document))
}

/// Runs a sweep with a progress bar, stopping early on Ctrl-C; a strategy
/// panic is bad input.
pub fn run(
    simulation: &Simulation,
    seeds: Range<u64>,
    jobs: usize,
    chooser: SeedChooser,
) -> Result<SweepReport, Bad> {
    let progress = Progress::new(seeds.end - seeds.start);
    let advance = |n| progress.advance(n);
    let report = Sweep::new(simulation, seeds)
        .chooser(chooser)
        .jobs(jobs)
        .progress(&advance)
        .cancel(interrupt::catch())
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
    let chooser = args.seeds.chooser.seed_chooser(&simulation)?;
    // The replay command carries the chooser: a seed means a run only with it.
    let flags = args.scenario.flags(simulation.scenario())? + &chooser.flags();
    let jobs = args.seeds.jobs()?;
    let mut seeds = args.seeds.range()?;
    let mut shard_document = None;
    if let Some(text) = &args.shard {
        let (range, document) = shard(text, seeds)?;
        seeds = range;
        shard_document = Some(document);
    }
    if args.save && args.seeds_dir.exists() && !args.seeds_dir.is_dir() {
        return Err(Bad(format!(
            "--seeds-dir {}: not a directory",
            args.seeds_dir.display()
        )));
    }
    let json_out = args
        .json_out
        .as_deref()
        .map(|p| Output::new("--json-out", p))
        .transpose()?;
    if let (true, Some(output)) = (args.json, &json_out) {
        files::distinct(("--json", &Output::Stdout), ("--json-out", output))?;
    }
    let html_out = args
        .html
        .as_deref()
        .map(|p| Output::new("--html", p))
        .transpose()?;
    if let Some(html) = &html_out {
        if html.is_stdout() {
            super::out::text_to_stderr();
        }
        if let Some(json) = &json_out {
            files::distinct(("--json-out", json), ("--html", html))?;
        }
        if args.json {
            files::distinct(("--json", &Output::Stdout), ("--html", html))?;
        }
        if let Some(input) = &args.scenario.shape.scenario {
            files::not_input("--html", html, input)?;
        }
    }
    let report = run(&simulation, seeds, jobs, chooser)?;
    // The first failure is shown, and kept, as small as it can be made.
    let shrunk = shrink_first_failure(&simulation, &report);
    // The report is printed whether or not the failure could be kept; a
    // save error comes after it.
    let (saved, save_error) = match (&shrunk, args.save) {
        (Some(shrunk), true) => {
            let regression = Regression {
                seed: None,
                ..Regression::from_execution(&simulation, &shrunk.execution)
            };
            match regression.save(&args.seeds_dir) {
                Ok(saved) => (Some(saved), None),
                Err(e) => (
                    None,
                    Some(Bad(format!(
                        "cannot save the regression in {}: {e}",
                        args.seeds_dir.display()
                    ))),
                ),
            }
        }
        _ => (None, None),
    };
    let mut document = SweepDocument::new(
        &report,
        simulation.scenario(),
        &flags,
        saved.as_ref(),
        shrunk.as_ref(),
    );
    document.shard = shard_document;
    document.chooser = chooser.flags().trim().to_string();
    let json = pretty(&document) + "\n";
    if args.json {
        out!("{json}");
    } else {
        document.print(saved.as_ref())?;
    }
    if let Some(output) = &json_out {
        output.write(&json)?;
    }
    if let Some(output) = &html_out {
        output.write(&html::page(
            &document,
            shrunk.as_ref(),
            args.scenario.source(),
        ))?;
        if !output.is_stdout() && !args.json {
            outln!("report: {}", output.name());
        }
    }
    if let Some(error) = save_error {
        return Err(error);
    }
    Ok(if report.interrupted {
        ExitCode::from(interrupt::INTERRUPTED)
    } else {
        exit_for(report.tally.violations > 0)
    })
}
