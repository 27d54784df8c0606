//! Strategies side by side over the same seeds: what `stockrace compare`
//! and [`crate::Builder::compare`] compute, cell by cell (one strategy at
//! one concurrency level), with every count a sweep keeps and each first
//! failure shrunk.

use super::{Figures, Sweep, SweepReport};
use crate::explore::shrink::Shrunk;
use crate::scenario::Latency;
use crate::simulation::Simulation;
use std::fmt;
use std::ops::Range;

/// The statement latency a comparison gives a scenario that sets none:
/// without time per statement, waiting would cost nothing.
pub const COMPARE_LATENCY: Latency = Latency {
    statement_ms: 1,
    think_ms: 0,
};

/// The concurrency levels (orders per run) compared when none are given.
pub const COMPARE_ORDERS: [usize; 5] = [2, 4, 8, 16, 32];

/// One strategy at one concurrency level: every seed run (a full tally,
/// never stopped at the first violation), and its first failure shrunk.
pub struct CompareCell {
    pub strategy: String,
    /// Orders per run.
    pub concurrency: usize,
    pub report: SweepReport,
    /// The first failure made as small as it can be (none if it held, or a
    /// strategy panicked).
    pub shrunk: Option<Shrunk>,
}

impl CompareCell {
    /// Runs `sweep` (of `simulation`, to the last seed) and shrinks its first failure.
    pub fn run(strategy: &str, simulation: &Simulation, sweep: Sweep<'_>) -> CompareCell {
        let report = sweep.stop_at_first_violation(false).run();
        let shrunk = match (&report.panic, &report.first_failure) {
            (None, Some(failure)) => simulation.shrink(&failure.schedule),
            _ => None,
        };
        CompareCell {
            strategy: strategy.to_string(),
            concurrency: simulation.scenario().orders.len(),
            report,
            shrunk,
        }
    }

    /// No run broke an invariant and no strategy panicked.
    pub fn safe(&self) -> bool {
        self.report.tally.violations == 0 && self.report.panic.is_none()
    }

    pub fn figures(&self) -> Figures {
        self.report.tally.figures()
    }
}

impl fmt::Debug for CompareCell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompareCell")
            .field("strategy", &self.strategy)
            .field("concurrency", &self.concurrency)
            .field("report", &self.report)
            .field(
                "shrunk_schedule",
                &self.shrunk.as_ref().map(|s| &s.schedule),
            )
            .finish()
    }
}

/// Every cell of a comparison, strategy by strategy, each at every level.
#[derive(Debug)]
pub struct Comparison {
    pub seeds: Range<u64>,
    pub cells: Vec<CompareCell>,
}

impl Comparison {
    /// The strategies in the order they were compared.
    pub fn strategies(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for cell in &self.cells {
            if !names.contains(&cell.strategy.as_str()) {
                names.push(&cell.strategy);
            }
        }
        names
    }

    /// The strategies safe at every level.
    pub fn safe(&self) -> Vec<&str> {
        let cells = &self.cells;
        self.strategies()
            .into_iter()
            .filter(|s| cells.iter().all(|c| c.strategy != *s || c.safe()))
            .collect()
    }

    /// The strategies unsafe at some level.
    pub fn unsafe_strategies(&self) -> Vec<&str> {
        let safe = self.safe();
        self.strategies()
            .into_iter()
            .filter(|s| !safe.contains(s))
            .collect()
    }

    /// The cell of `strategy` at `orders` orders per run.
    pub fn cell(&self, strategy: &str, orders: usize) -> Option<&CompareCell> {
        self.cells
            .iter()
            .find(|c| c.strategy == strategy && c.concurrency == orders)
    }
}

/// A short table: one line per cell (safety, violation rate, latency,
/// throughput), then which strategies were safe at every level.
impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (start, end) = (self.seeds.start, self.seeds.end);
        writeln!(f, "compare: seeds {start}..{end} per cell")?;
        writeln!(
            f,
            "{:<28} {:>6}  {:<6} {:>9} {:>6} {:>6} {:>9}",
            "strategy", "orders", "safe?", "viol/10k", "p50", "p99", "orders/s"
        )?;
        let ms = |v: Option<u64>| v.map_or("-".to_string(), |v| v.to_string());
        for cell in &self.cells {
            let figures = cell.figures();
            writeln!(
                f,
                "{:<28} {:>6}  {:<6} {:>9.1} {:>6} {:>6} {:>9}",
                cell.strategy,
                cell.concurrency,
                if cell.safe() { "safe" } else { "UNSAFE" },
                figures.violations_per_10k_runs.unwrap_or(0.0),
                ms(figures.latency_p50_ms),
                ms(figures.latency_p99_ms),
                figures
                    .orders_per_virtual_s
                    .map_or("-".to_string(), |v| format!("{v:.0}")),
            )?;
        }
        let list = |names: Vec<&str>| match names.is_empty() {
            true => "none".to_string(),
            false => names.join(", "),
        };
        writeln!(f, "safe at every level: {}", list(self.safe()))?;
        writeln!(f, "UNSAFE: {}", list(self.unsafe_strategies()))
    }
}
