//! `compare --html FILE`: the scenario, the chart, the table (sortable),
//! which strategies were safe, and for each unsafe one the timeline of its
//! minimal failing run with the command that replays it.

use super::super::picture::{self, page};
use super::super::sweep::number;
use super::{safe_and_unsafe, Cell};
use std::ops::Range;

pub fn page(
    cells: &[Cell],
    base: &str,
    seeds: &Range<u64>,
    chart: &str,
    source: Option<String>,
) -> String {
    let headers = [
        "strategy",
        "orders",
        "safe?",
        "viol/10k",
        "violations",
        "sold",
        "no-stk",
        "failed",
        "retries",
        "40001",
        "40P01",
        "wait ms",
        "p50",
        "p99",
        "orders/s",
    ];
    let opt = |v: Option<f64>| page::Cell::number(number(v), v);
    let int = |v: u64| page::Cell::number(v.to_string(), Some(v as f64));
    let rows = cells
        .iter()
        .map(|cell| {
            let (t, f) = (&cell.tally, &cell.figures);
            let violations: Vec<String> = t
                .by_invariant
                .iter()
                .map(|(i, n)| format!("{i} {n}"))
                .collect();
            let rate = f.violations_per_10k_runs.unwrap_or(0.0);
            vec![
                page::Cell::text(cell.label.clone()),
                int(cell.concurrency as u64),
                page::Cell::text(if cell.safe { "safe" } else { "UNSAFE" }).alarm(!cell.safe),
                page::Cell::number(format!("{rate:.1}"), Some(rate)),
                page::Cell::text(if violations.is_empty() {
                    "-".to_string()
                } else {
                    violations.join(", ")
                }),
                int(t.sold),
                int(t.out_of_stock),
                int(t.failed),
                opt(f.retries_per_order),
                opt(f.errors_40001_per_order),
                opt(f.errors_40p01_per_order),
                opt(f.lock_wait_ms_per_order),
                opt(f.latency_p50_ms.map(|v| v as f64)),
                opt(f.latency_p99_ms.map(|v| v as f64)),
                page::Cell::number(
                    f.orders_per_virtual_s
                        .map_or("-".into(), |v| format!("{v:.0}")),
                    f.orders_per_virtual_s,
                ),
            ]
        })
        .collect();
    let (safe, unsafe_strategies) = safe_and_unsafe(cells);
    let list = |v: &[&String]| match v.is_empty() {
        true => "none".to_string(),
        false => v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "),
    };
    let findings = unsafe_strategies
        .iter()
        .filter_map(|strategy| {
            let cell = cells.iter().find(|c| &c.label == *strategy && !c.safe)?;
            let failure = cell.first_failure.as_ref()?;
            let mut lines = vec![format!(
                "{} at {} orders, seed {}: {}",
                failure.invariant, cell.concurrency, failure.seed, failure.detail
            )];
            lines.extend(failure.shrunk_text());
            let timeline = cell.minimal_run.as_ref().map(|(execution, scenario)| {
                let title = format!("{strategy}: its minimal failing run");
                let caption = picture::caption(&title, execution, scenario, None);
                picture::timeline(execution, scenario, &caption)
            });
            Some(page::Finding {
                heading: format!("{strategy}: UNSAFE"),
                lines,
                command: Some(failure.replay.clone()),
                timeline,
                text: cell
                    .minimal_run
                    .as_ref()
                    .map(|(execution, scenario)| execution.timeline(scenario)),
            })
        })
        .collect();
    let mut summary = vec![base.to_string()];
    summary.extend(source.map(|s| format!("scenario file: {s}")));
    summary.push(format!(
        "{} seeds per cell (seeds {}..{}); per order: retries, 40001 and 40P01 errors, lock wait; latency and throughput in virtual time",
        seeds.end - seeds.start,
        seeds.start,
        seeds.end
    ));
    page::render(&page::Report {
        title: "stockrace compare".into(),
        summary,
        chart: Some(chart.to_string()),
        table: Some(page::Table {
            headers: headers.iter().map(|h| h.to_string()).collect(),
            rows,
        }),
        verdicts: vec![
            ("safe at every level".into(), list(&safe)),
            ("UNSAFE".into(), list(&unsafe_strategies)),
        ],
        findings,
    })
}
