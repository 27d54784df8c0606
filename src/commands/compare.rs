//! `stockrace compare`: every strategy over the same seeds at several
//! concurrency levels, safety and cost side by side — a terminal table,
//! and on request JSON with every figure and an SVG chart.

use super::chart::{self, Point, Series};
use super::json::pretty;
use super::progress::Progress;
use super::scenario_args::{simulation, ShapeArgs};
use super::sweep::{describe_with_orders, number, panicked, FailureDocument, SweepDocument};
use super::{Bad, SeedArgs};
use clap::Args;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use stockrace::{Figures, Latency, Simulation, Strategies, Sweep, Tally};

/// In `--strategies`: run a scenario file's orders with their own strategies.
const AS_WRITTEN: &str = "as-written";

/// What compare uses when neither flags nor a scenario file set latencies:
/// with no time per statement, waiting would cost nothing.
const DEFAULT_LATENCY: Latency = Latency {
    statement_ms: 1,
    think_ms: 0,
};

#[derive(Args)]
pub struct CompareArgs {
    /// Strategies, comma-separated [default: every built-in]; with
    /// --scenario, `as-written` runs the file's own strategies.
    #[arg(long, value_delimiter = ',')]
    pub strategies: Vec<String>,
    /// Concurrency levels: orders per run, comma-separated [default:
    /// 2,4,8,16,32; with --scenario, the file's orders].
    #[arg(long, value_delimiter = ',', allow_negative_numbers = true)]
    pub orders: Vec<i64>,
    #[command(flatten)]
    pub shape: ShapeArgs,
    #[command(flatten)]
    pub seeds: SeedArgs,
    /// Write every figure as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write a chart to FILE: violation rate and p99 latency against
    /// concurrency, one line per strategy.
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
}

/// The JSON `--json` writes.
#[derive(Serialize)]
struct CompareDocument {
    scenario: String,
    first_seed: u64,
    seeds: u64,
    results: Vec<Cell>,
}

/// One strategy at one concurrency level.
#[derive(Serialize)]
struct Cell {
    strategy: String,
    /// Orders per run (the tally's `orders` counts them over all runs).
    concurrency: usize,
    safe: bool,
    #[serde(flatten)]
    tally: Tally,
    figures: Figures,
    first_failure: Option<FailureDocument>,
}

pub fn compare(args: CompareArgs) -> Result<ExitCode, Bad> {
    let jobs = args.seeds.jobs()?;
    for path in args.json.iter().chain(&args.svg) {
        check_writable(path)?;
    }
    if args.json.is_some() && args.json == args.svg {
        return Err(Bad(
            "--json and --svg name the same file; give each its own".into(),
        ));
    }
    let strategies: Vec<Option<String>> = if args.strategies.is_empty() {
        Strategies::BUILTIN
            .iter()
            .map(|s| Some(s.to_string()))
            .collect()
    } else {
        args.strategies
            .iter()
            .map(|s| match s.as_str() {
                AS_WRITTEN if args.shape.scenario.is_some() => Ok(None),
                AS_WRITTEN => Err(Bad(format!("--strategies {AS_WRITTEN}: needs --scenario"))),
                name => Ok(Some(name.to_string())),
            })
            .collect::<Result<_, _>>()?
    };
    let levels: Vec<Option<i64>> = match (&args.shape.scenario, args.orders.is_empty()) {
        (_, false) => args.orders.iter().map(|&n| Some(n)).collect(),
        (Some(_), true) => vec![None],
        (None, true) => [2, 4, 8, 16, 32].into_iter().map(Some).collect(),
    };
    // Every scenario is built (and so checked) before anything runs.
    // A cell: its simulation, the flags that replay it, its strategy label.
    let mut plan: Vec<(Simulation, String, String)> = Vec::new();
    for strategy in &strategies {
        for &orders in &levels {
            let scenario = args
                .shape
                .scenario(strategy.as_deref(), orders, DEFAULT_LATENCY)?;
            let flags = args.shape.flags(strategy.as_deref(), orders, &scenario)?;
            let label = strategy.clone().unwrap_or_else(|| AS_WRITTEN.to_string());
            plan.push((simulation(scenario)?, flags, label));
        }
    }
    let seeds = args.seeds.range()?;
    let progress = Progress::new(seeds.end.saturating_sub(seeds.start) * plan.len() as u64);
    let advance = |n| progress.advance(n);
    let mut cells = Vec::new();
    for (simulation, flags, label) in &plan {
        let report = Sweep::new(simulation, seeds.clone())
            .jobs(jobs)
            .progress(&advance)
            .run();
        if let Err(bad) = panicked(simulation, &report) {
            progress.finish();
            return Err(bad);
        }
        let document = SweepDocument::new(&report, simulation.scenario(), flags, None);
        cells.push(Cell {
            strategy: label.clone(),
            concurrency: simulation.scenario().orders.len(),
            safe: document.tally.violations == 0,
            tally: document.tally,
            figures: document.figures,
            first_failure: document.first_failure,
        });
    }
    progress.finish();
    let concurrency: Vec<String> = plan
        .iter()
        .take(levels.len())
        .map(|(s, _, _)| s.scenario().orders.len().to_string())
        .collect();
    let base = plan
        .first()
        .map(|(s, _, _)| describe_with_orders(s.scenario(), &concurrency.join(",")))
        .unwrap_or_default();
    // Everything is rendered before anything is printed or written.
    let svg = match &args.svg {
        Some(_) => Some(
            chart::render_svg(&format!("stockrace compare: {base}"), &series(&cells))
                .map_err(|e| Bad(format!("cannot draw the chart: {e}")))?,
        ),
        None => None,
    };
    print_table(&cells, &base, &seeds);
    let document = CompareDocument {
        scenario: base,
        first_seed: seeds.start,
        seeds: seeds.end - seeds.start,
        results: cells,
    };
    if let (Some(path), Some(svg)) = (&args.svg, svg) {
        write(path, &svg)?;
        println!("chart: {}", path.display());
    }
    if let Some(path) = &args.json {
        write(path, &(pretty(&document) + "\n"))?;
        println!("figures: {}", path.display());
    }
    // The comparison is the product: unsafe strategies are findings, not errors.
    Ok(ExitCode::SUCCESS)
}

fn print_table(cells: &[Cell], base: &str, seeds: &std::ops::Range<u64>) {
    println!(
        "compare: {} seeds per cell (seeds {}..{}) | {base}",
        seeds.end - seeds.start,
        seeds.start,
        seeds.end
    );
    println!("per order: retries, 40001 and 40P01 errors, lock wait; latency and throughput in virtual time\n");
    println!(
        "{:<24} {:>6}  {:<6} {:>9}  {:<30} {:>6} {:>7} {:>6} {:>7} {:>6} {:>6} {:>8} {:>5} {:>5} {:>8}",
        "strategy", "orders", "safe?", "viol/10k", "violations", "sold", "no-stk", "failed", "retries", "40001", "40P01", "wait ms", "p50", "p99", "orders/s"
    );
    for cell in cells {
        let t = &cell.tally;
        let f = &cell.figures;
        let violations: Vec<String> = t
            .by_invariant
            .iter()
            .map(|(i, n)| format!("{i} {n}"))
            .collect();
        println!(
            "{:<24} {:>6}  {:<6} {:>9.1}  {:<30} {:>6} {:>7} {:>6} {:>7} {:>6} {:>6} {:>8} {:>5} {:>5} {:>8}",
            cell.strategy,
            cell.concurrency,
            if cell.safe { "safe" } else { "UNSAFE" },
            f.violations_per_10k_runs.unwrap_or(0.0),
            if violations.is_empty() { "-".to_string() } else { violations.join(", ") },
            t.sold,
            t.out_of_stock,
            t.failed,
            number(f.retries_per_order),
            number(f.errors_40001_per_order),
            number(f.errors_40p01_per_order),
            number(f.lock_wait_ms_per_order),
            f.latency_p50_ms.map_or("-".into(), |v| v.to_string()),
            f.latency_p99_ms.map_or("-".into(), |v| v.to_string()),
            f.orders_per_virtual_s.map_or("-".into(), |v| format!("{v:.0}")),
        );
    }
    let mut unsafe_strategies = Vec::new();
    let mut safe = Vec::new();
    for strategy in cells.iter().map(|c| &c.strategy) {
        if safe.contains(&strategy) || unsafe_strategies.contains(&strategy) {
            continue;
        }
        let mine = cells.iter().filter(|c| &c.strategy == strategy);
        match mine.clone().find(|c| !c.safe) {
            Some(_) => unsafe_strategies.push(strategy),
            None => safe.push(strategy),
        }
    }
    println!();
    let names = |v: &[&String]| v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ");
    println!(
        "safe at every level: {}",
        if safe.is_empty() {
            "none".into()
        } else {
            names(&safe)
        }
    );
    println!(
        "UNSAFE: {}",
        if unsafe_strategies.is_empty() {
            "none".into()
        } else {
            names(&unsafe_strategies)
        }
    );
    for strategy in &unsafe_strategies {
        let cell = cells
            .iter()
            .find(|c| &c.strategy == *strategy && !c.safe)
            .expect("unsafe");
        let failure = cell.first_failure.as_ref().expect("a failure");
        println!(
            "  {strategy}: {} at {} orders, seed {}: {}\n    {}",
            failure.invariant, cell.concurrency, failure.seed, failure.detail, failure.replay
        );
    }
}

fn series(cells: &[Cell]) -> Vec<Series> {
    let mut series: Vec<Series> = Vec::new();
    for cell in cells {
        let point = Point {
            orders: cell.concurrency as u32,
            violations_per_10k: cell.figures.violations_per_10k_runs.unwrap_or(0.0),
            p99_latency_ms: cell.figures.latency_p99_ms,
        };
        match series.iter_mut().find(|s| s.strategy == cell.strategy) {
            Some(s) => s.points.push(point),
            None => series.push(Series {
                strategy: cell.strategy.clone(),
                points: vec![point],
            }),
        }
    }
    series
}

/// Fails before any work if `path` cannot be written: no such directory,
/// a directory, or a directory we may not write in (tried with a file that
/// is removed at once).
fn check_writable(path: &Path) -> Result<(), Bad> {
    let dir = parent(path);
    if !dir.is_dir() {
        return Err(Bad(format!(
            "{}: no directory {} to write it in",
            path.display(),
            dir.display()
        )));
    }
    if path.is_dir() {
        return Err(Bad(format!("{}: is a directory", path.display())));
    }
    let probe = temporary(path);
    std::fs::write(&probe, "")
        .and_then(|()| std::fs::remove_file(&probe))
        .map_err(|e| {
            Bad(format!(
                "{}: cannot write in {}: {e}",
                path.display(),
                dir.display()
            ))
        })
}

fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// A hidden file next to `path`, for writing before renaming over it.
fn temporary(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map_or("out".into(), |n| n.to_string_lossy());
    parent(path).join(format!(".{name}.tmp-{}", std::process::id()))
}

/// Writes `text` to `path` whole or not at all (a temporary file renamed
/// over it), so an interrupted run never leaves half a file.
fn write(path: &Path, text: &str) -> Result<(), Bad> {
    let tmp = temporary(path);
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            Bad(format!("cannot write {}: {e}", path.display()))
        })
}
