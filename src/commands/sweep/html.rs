//! `sweep --html FILE`: the scenario, the counts and figures, and the
//! timeline of the first failure made as small as it can be, with the
//! command that replays it.

use super::super::picture::{self, page};
use super::{describe, number, SweepDocument};
use stockrace::Shrunk;

/// `source`: `scenario file: PATH`, when there was one.
pub fn page(document: &SweepDocument, shrunk: Option<&Shrunk>, source: Option<String>) -> String {
    let t = &document.tally;
    let f = &document.figures;
    let mut summary = vec![describe(&document.scenario)];
    summary.extend(source);
    summary.push(format!(
        "seeds {}..{}: {} runs, {} violations{}",
        document.first_seed,
        document.first_seed + document.seeds,
        t.runs,
        t.violations,
        if document.interrupted {
            " (interrupted by Ctrl-C: counts cover the seeds done)"
        } else {
            ""
        }
    ));
    let count = |name: &str, v: u64| {
        vec![
            page::Cell::text(name),
            page::Cell::number(v.to_string(), Some(v as f64)),
        ]
    };
    let figure =
        |name: &str, v: Option<f64>| vec![page::Cell::text(name), page::Cell::number(number(v), v)];
    let mut rows = vec![count("runs", t.runs), count("violations", t.violations)];
    for (invariant, n) in &t.by_invariant {
        rows.push(count(&format!("  {invariant}"), *n));
    }
    rows.extend([
        count("orders sold", t.sold),
        count("orders out of stock", t.out_of_stock),
        count("orders failed", t.failed),
        count("orders unfinished", t.unfinished),
        count("orders crashed", t.crashed),
        count("app node crashes injected", t.crashes),
        count("lost replies injected", t.lost_replies),
        count("app node pauses injected", t.pauses),
        count("retries", t.retries),
        count(document.scenario.database.failure_names().0, t.errors_40001),
        count(document.scenario.database.failure_names().1, t.errors_40p01),
        figure("violations per 10k runs", f.violations_per_10k_runs),
        figure("lock wait ms per order", f.lock_wait_ms_per_order),
        figure("latency p50 ms", f.latency_p50_ms.map(|v| v as f64)),
        figure("latency p99 ms", f.latency_p99_ms.map(|v| v as f64)),
        figure("orders per virtual second", f.orders_per_virtual_s),
    ]);
    let findings = document
        .first_failure
        .iter()
        .map(|failure| {
            let mut lines = vec![format!(
                "seed {}, {} at step {}: {}",
                failure.seed, failure.invariant, failure.step, failure.detail
            )];
            if t.failing_seeds.len() > 1 {
                let seeds: Vec<String> = t.failing_seeds.iter().map(u64::to_string).collect();
                lines.push(format!("lowest failing seeds: {}", seeds.join(", ")));
            }
            lines.extend(failure.shrunk_text());
            lines.extend(failure.saved.as_ref().map(|p| format!("kept as {p}")));
            let run = shrunk.map(|s| (&s.execution, &document.scenario));
            page::Finding {
                heading: "first failure, shrunk".into(),
                lines,
                command: Some(failure.replay.clone()),
                timeline: run.map(|(execution, scenario)| {
                    let title = format!("{}: the minimal failing run", document.strategy);
                    let caption = picture::caption(&title, execution, scenario, None);
                    picture::timeline(execution, scenario, &caption)
                }),
                text: run.map(|(execution, scenario)| execution.timeline(scenario)),
            }
        })
        .collect();
    page::render(&page::Report {
        title: format!("stockrace sweep: {}", document.strategy),
        summary,
        chart: None,
        table: Some(page::Table {
            headers: vec!["figure".into(), "value".into()],
            rows,
        }),
        verdicts: vec![(
            "verdict".into(),
            match t.violations {
                0 => "every invariant held".into(),
                n => format!("{n} of {} runs broke an invariant", t.runs),
            },
        )],
        findings,
    })
}
