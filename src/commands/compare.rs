//! `stockrace compare`: every strategy over the same seeds at several
//! concurrency levels, safety and cost side by side — a terminal table,
//! and on request JSON with every figure and an SVG chart.

use super::chart::{self, Point, Series};
use super::files::{self, Output};
use super::json::pretty;
use super::out::out;
use super::progress::Progress;
use super::scenario_args::ShapeArgs;
use super::sweep::{describe_with_orders, number, panicked, FailureDocument, SweepDocument};
use super::{Bad, SeedArgs};
use clap::Args;
use serde::Serialize;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use stockrace::{Database, Figures, Sweep, Tally};

mod html;
mod plan;

use plan::{NotRun, Plan, Planned};

/// In `--strategies`: run a scenario file's orders with their own strategies.
const AS_WRITTEN: &str = "as-written";

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
    /// Databases, comma-separated: every strategy on each (postgres-15,
    /// mariadb-10.11) [default: --database, or as the scenario says]. A
    /// strategy that cannot run on one is listed as such, not run.
    #[arg(long, value_delimiter = ',', conflicts_with = "database")]
    pub databases: Vec<String>,
    /// Isolation levels, comma-separated: every strategy at each
    /// [default: --isolation, or as the scenario says].
    #[arg(long, value_delimiter = ',', conflicts_with = "isolation")]
    pub isolations: Vec<String>,
    /// Run every cell under a fault budget: one app node crash and one lost
    /// reply per run (`--crashes` and `--lost-replies` set others), so the
    /// table shows which paths survive crashes and retries.
    #[arg(long)]
    pub faults: bool,
    #[command(flatten)]
    pub shape: ShapeArgs,
    #[command(flatten)]
    pub seeds: SeedArgs,
    /// Print every figure as one JSON object instead of the table. (`--json
    /// FILE`, the old spelling of `--json-out FILE`, still works, with a note.)
    #[arg(long, value_name = "FILE", num_args = 0..=1)]
    pub json: Option<Option<PathBuf>>,
    /// Write every figure as JSON to FILE (`-`: stdout, and the table goes
    /// to stderr).
    #[arg(long, value_name = "FILE")]
    pub json_out: Option<PathBuf>,
    /// Write a chart to FILE (`-`: stdout, and the table goes to stderr):
    /// violation rate and p99 latency against concurrency, one line per
    /// strategy.
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
    /// Write a self-contained HTML report to FILE (`-`: stdout, and the
    /// table goes to stderr): the chart, the table, and the timeline of
    /// each unsafe strategy's minimal failing run.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

/// The JSON `--json` writes.
#[derive(Serialize)]
struct CompareDocument {
    scenario: String,
    first_seed: u64,
    seeds: u64,
    results: Vec<Cell>,
    /// Strategies that cannot run on a compared database, and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    not_run: Vec<NotRun>,
}

/// One strategy at one concurrency level (on one database at one isolation
/// level, when several are compared).
#[derive(Serialize)]
struct Cell {
    /// What the table's rows and the chart's lines are named: the strategy,
    /// with the database and isolation level when several are compared.
    #[serde(skip)]
    label: String,
    strategy: String,
    database: Database,
    /// The orders' isolation level (`mixed` for a scenario file that mixes them).
    isolation: String,
    /// Orders per run (the tally's `orders` counts them over all runs).
    concurrency: usize,
    safe: bool,
    #[serde(flatten)]
    tally: Tally,
    figures: Figures,
    first_failure: Option<FailureDocument>,
    /// The first failure shrunk, and its scenario, for the HTML report.
    #[serde(skip)]
    minimal_run: Option<(stockrace::Execution, stockrace::Scenario)>,
}

/// Where compare's outputs go: the JSON and the chart (files or stdout),
/// and whether the table is printed, on stdout or (when a file output is
/// `-`) on stderr.
struct Outputs {
    json: Option<(&'static str, Output)>,
    svg: Option<Output>,
    html: Option<Output>,
    /// `--json`: the JSON on stdout instead of the table.
    json_only: bool,
}

impl Outputs {
    fn new(args: &CompareArgs) -> Result<Outputs, Bad> {
        let json = match (&args.json, &args.json_out) {
            (Some(Some(_)), Some(_)) => {
                return Err(Bad(
                    "--json FILE and --json-out FILE: give one (--json-out)".into(),
                ))
            }
            (Some(Some(path)), None) => {
                eprintln!(
                    "stockrace: note: `--json FILE` is deprecated: use `--json-out FILE` (`--json` alone prints JSON on stdout)"
                );
                Some(("--json", Output::new("--json", path)?))
            }
            (_, Some(path)) => Some(("--json-out", Output::new("--json-out", path)?)),
            (_, None) => None,
        };
        let svg = args
            .svg
            .as_deref()
            .map(|p| Output::new("--svg", p))
            .transpose()?;
        let html = args
            .html
            .as_deref()
            .map(|p| Output::new("--html", p))
            .transpose()?;
        if let (Some(html), Some(input)) = (&html, &args.shape.scenario) {
            files::not_input("--html", html, input)?;
        }
        let json_only = matches!(args.json, Some(None));
        let named: Vec<(&str, &Output)> = json
            .iter()
            .map(|(f, o)| (*f, o))
            .chain(svg.iter().map(|o| ("--svg", o)))
            .chain(html.iter().map(|o| ("--html", o)))
            .collect();
        for (i, a) in named.iter().enumerate() {
            for b in &named[i + 1..] {
                files::distinct(*a, *b)?;
            }
            if json_only {
                files::distinct(("--json", &Output::Stdout), *a)?;
            }
        }
        Ok(Outputs {
            json,
            svg,
            html,
            json_only,
        })
    }

    /// Some output other than the table is on stdout.
    fn table_to_stderr(&self) -> bool {
        self.json.as_ref().is_some_and(|(_, o)| o.is_stdout())
            || self.svg.as_ref().is_some_and(Output::is_stdout)
            || self.html.as_ref().is_some_and(Output::is_stdout)
    }
}

pub fn compare(args: CompareArgs) -> Result<ExitCode, Bad> {
    let jobs = args.seeds.jobs()?;
    if args.seeds.chooser.chooser != "random" {
        return Err(Bad("--chooser: compare runs random seeds only (PCT's k is measured per scenario; use sweep --chooser pct per strategy)".into()));
    }
    let outputs = Outputs::new(&args)?;
    let Plan {
        cells: plan,
        not_run,
        several,
        levels,
    } = plan::plan(&args)?;
    let seeds = args.seeds.range()?;
    let progress = Progress::new(seeds.end.saturating_sub(seeds.start) * plan.len() as u64);
    let advance = |n| progress.advance(n);
    let mut cells = Vec::new();
    for Planned {
        simulation,
        flags,
        label,
        strategy,
        isolation,
    } in &plan
    {
        // Each first failure is shown as small as it can be made.
        let cell = stockrace::CompareCell::run(
            label,
            simulation,
            Sweep::new(simulation, seeds.clone())
                .jobs(jobs)
                .progress(&advance),
        );
        if let Err(bad) = panicked(simulation, &cell.report) {
            progress.finish();
            return Err(bad);
        }
        let document = SweepDocument::new(
            &cell.report,
            simulation.scenario(),
            flags,
            None,
            cell.shrunk.as_ref(),
        );
        cells.push(Cell {
            label: label.clone(),
            strategy: strategy.clone(),
            database: simulation.scenario().database,
            isolation: isolation.clone(),
            concurrency: cell.concurrency,
            safe: document.tally.violations == 0,
            tally: document.tally,
            figures: document.figures,
            first_failure: document.first_failure,
            minimal_run: cell
                .shrunk
                .map(|s| (s.execution, simulation.scenario().clone())),
        });
    }
    progress.finish();
    let concurrency: Vec<String> = plan
        .iter()
        .take(levels)
        .map(|p| p.simulation.scenario().orders.len().to_string())
        .collect();
    let base = plan
        .first()
        .map(|p| {
            let scenario = p.simulation.scenario();
            let mut base =
                describe_with_orders(scenario, &concurrency.join(",")) + &arrivals(scenario);
            if several {
                // Each row names its database and isolation level.
                base = base.replacen(&format!("{} | ", scenario.database), "", 1);
                base = base.replacen(&format!(" | {}", p.isolation), "", 1);
            }
            base
        })
        .unwrap_or_default();
    // Everything is rendered before anything is printed or written.
    let svg = match (&outputs.svg, &outputs.html) {
        (None, None) => None,
        _ => Some(
            chart::render_svg(&format!("stockrace compare: {base}"), &series(&cells))
                .map_err(|e| Bad(format!("cannot draw the chart: {e}")))?,
        ),
    };
    let html = match (&outputs.html, &svg) {
        (Some(_), Some(chart)) => Some(html::page(
            &cells,
            &base,
            &seeds,
            chart,
            args.shape
                .scenario
                .as_ref()
                .map(|p| p.display().to_string()),
        )),
        _ => None,
    };
    let mut table = table(&cells, &base, &seeds);
    for n in &not_run {
        table += &format!("not run: {}\n", n.reason);
    }
    let document = CompareDocument {
        scenario: base,
        first_seed: seeds.start,
        seeds: seeds.end - seeds.start,
        results: cells,
        not_run,
    };
    let json = pretty(&document) + "\n";
    if outputs.json_only {
        out!("{json}");
    }
    if let (Some(output), Some(svg)) = (&outputs.svg, svg) {
        output.write(&svg)?;
        if !output.is_stdout() {
            table += &format!("chart: {}\n", output.name());
        }
    }
    if let (Some(output), Some(html)) = (&outputs.html, html) {
        output.write(&html)?;
        if !output.is_stdout() {
            table += &format!("report: {}\n", output.name());
        }
    }
    if let Some((_, output)) = &outputs.json {
        output.write(&json)?;
        if !output.is_stdout() {
            table += &format!("figures: {}\n", output.name());
        }
    }
    if outputs.table_to_stderr() {
        eprint!("{table}");
    } else if !outputs.json_only {
        out!("{table}");
    }
    // The comparison is the product: unsafe strategies are findings, not errors.
    Ok(ExitCode::SUCCESS)
}

/// When orders arrive, for the header: a window spreads their starts,
/// without one they start together (and move in lockstep under a latency).
fn arrivals(scenario: &stockrace::Scenario) -> String {
    match scenario.arrival_window_ms() {
        0 => " | orders arrive together".to_string(),
        ms => format!(" | orders arrive within {ms} ms"),
    }
}

/// The table, the verdicts and the replay commands of unsafe strategies.
fn table(cells: &[Cell], base: &str, seeds: &std::ops::Range<u64>) -> String {
    let mut text = String::new();
    macro_rules! w {
        () => { text.push('\n') };
        ($($arg:tt)*) => {{
            let _ = writeln!(text, $($arg)*);
        }};
    }
    w!(
        "compare: {} seeds per cell (seeds {}..{}) | {base}",
        seeds.end - seeds.start,
        seeds.start,
        seeds.end
    );
    w!("per order: retries, serialization failures (40001; MariaDB 1020) and deadlocks (40P01; MariaDB 1213), lock wait; latency and throughput in virtual time\n");
    let width = cells
        .iter()
        .map(|c| c.label.len())
        .max()
        .unwrap_or(0)
        .max(24);
    w!(
        "{:<width$} {:>6}  {:<6} {:>9}  {:<30} {:>6} {:>7} {:>6} {:>7} {:>6} {:>6} {:>8} {:>5} {:>5} {:>8}",
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
        w!(
            "{:<width$} {:>6}  {:<6} {:>9.1}  {:<30} {:>6} {:>7} {:>6} {:>7} {:>6} {:>6} {:>8} {:>5} {:>5} {:>8}",
            cell.label,
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
    let (safe, unsafe_strategies) = safe_and_unsafe(cells);
    w!();
    let names = |v: &[&String]| v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ");
    w!(
        "safe at every level: {}",
        if safe.is_empty() {
            "none".into()
        } else {
            names(&safe)
        }
    );
    w!(
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
            .find(|c| &c.label == *strategy && !c.safe)
            .expect("unsafe");
        let failure = cell.first_failure.as_ref().expect("a failure");
        w!(
            "  {strategy}: {} at {} orders, seed {}: {}\n    {}",
            failure.invariant,
            cell.concurrency,
            failure.seed,
            failure.detail,
            failure.replay
        );
        if let Some(shrunk) = failure.shrunk_text() {
            w!("    {shrunk} (`stockrace shrink` with the replay's flags keeps it and shows its trace)");
        }
    }
    text
}

/// The strategies safe at every level, and the others, in table order.
fn safe_and_unsafe(cells: &[Cell]) -> (Vec<&String>, Vec<&String>) {
    let mut unsafe_strategies = Vec::new();
    let mut safe = Vec::new();
    for strategy in cells.iter().map(|c| &c.label) {
        if safe.contains(&strategy) || unsafe_strategies.contains(&strategy) {
            continue;
        }
        let mine = cells.iter().filter(|c| &c.label == strategy);
        match mine.clone().find(|c| !c.safe) {
            Some(_) => unsafe_strategies.push(strategy),
            None => safe.push(strategy),
        }
    }
    (safe, unsafe_strategies)
}

fn series(cells: &[Cell]) -> Vec<Series> {
    let mut series: Vec<Series> = Vec::new();
    for cell in cells {
        let point = Point {
            orders: cell.concurrency as u32,
            violations_per_10k: cell.figures.violations_per_10k_runs.unwrap_or(0.0),
            p99_latency_ms: cell.figures.latency_p99_ms,
        };
        match series.iter_mut().find(|s| s.strategy == cell.label) {
            Some(s) => s.points.push(point),
            None => series.push(Series {
                strategy: cell.label.clone(),
                points: vec![point],
            }),
        }
    }
    series
}
