//! `stockrace check`: every schedule of a small scenario, up to
//! equivalence, on the model. A proof at this scope (COMPLETE), a clean but
//! partial search (BOUNDED), or the first violation found, with its trace.

use super::json::{execution_json, pretty};
use super::out::outln;
use super::pictures::{PictureArgs, Shown};
use super::scenario_args::ScenarioArgs;
use super::sweep::describe;
use super::Bad;
use clap::Args;
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;
use stockrace::regression::Regression;
use stockrace::{CheckConfig, CheckResult, Reductions};

#[derive(Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub scenario: ScenarioArgs,
    /// Turn every reduction off: each schedule runs (for testing the reductions).
    #[arg(long)]
    pub no_reduction: bool,
    /// Do not use sleep sets.
    #[arg(long)]
    pub no_sleep_sets: bool,
    /// Do not treat identical orders as interchangeable.
    #[arg(long)]
    pub no_symmetry: bool,
    /// Do not remember visited states (a state explored from before is
    /// explored again).
    #[arg(long)]
    pub no_cache: bool,
    /// Explore only schedules with at most K preemptions (a switch away from
    /// the order that moved last while it could go on). The result is then
    /// BOUNDED at best.
    #[arg(long, value_name = "K")]
    pub preemption_bound: Option<u32>,
    /// Stop after N runs (the result is then BOUNDED at best).
    #[arg(long, value_name = "N")]
    pub max_runs: Option<u64>,
    /// Keep the violating schedule as a regression file.
    #[arg(long)]
    pub save: bool,
    /// Where --save writes regression files.
    #[arg(long, default_value = "seeds")]
    pub seeds_dir: PathBuf,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub pictures: PictureArgs,
}

/// Exit status of a clean search that was cut short: not a proof.
const BOUNDED: u8 = 3;

pub fn check(args: CheckArgs) -> Result<ExitCode, Bad> {
    let simulation = args.scenario.simulation()?;
    let scenario_file = args.scenario.shape.scenario.as_deref();
    let pictures = args.pictures.outputs(args.json, &[scenario_file])?;
    if args.max_runs == Some(0) {
        return Err(Bad("--max-runs 0: nothing to run".into()));
    }
    let reductions = if args.no_reduction {
        Reductions::NONE
    } else {
        Reductions {
            sleep_sets: !args.no_sleep_sets,
            symmetry: !args.no_symmetry,
            cache: !args.no_cache,
            preemption_bound: None,
        }
    };
    let config = CheckConfig {
        reductions: Reductions {
            preemption_bound: args.preemption_bound,
            ..reductions
        },
        max_runs: args.max_runs,
        stop_at_violation: true,
    };
    let report = simulation.check(config);
    if let Some((order, message)) = report.violation.as_ref().and_then(|v| v.panic()) {
        return Err(Bad(format!(
            "strategy {} panicked in order T{}: {message}",
            simulation.scenario().orders[order].strategy,
            order + 1
        )));
    }
    // The violation is shown, and kept, as small as it can be made.
    let shrunk = report
        .violation
        .as_ref()
        .and_then(|v| simulation.shrink(&v.schedule));
    let violation = shrunk
        .as_ref()
        .map(|s| &s.execution)
        .or(report.violation.as_ref());
    let saved = match (violation, args.save) {
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
    let result = match report.result {
        CheckResult::Complete => "complete",
        CheckResult::Bounded => "bounded",
        CheckResult::Violated => "violated",
    };
    let used: Vec<String> = [
        (config.reductions.sleep_sets, "sleep sets".to_string()),
        (config.reductions.symmetry, "symmetry".to_string()),
        (config.reductions.cache, "visited-state cache".to_string()),
        (
            config.reductions.preemption_bound.is_some(),
            format!(
                "at most {} preemption(s)",
                config.reductions.preemption_bound.unwrap_or(0)
            ),
        ),
        (
            config.max_runs.is_some(),
            format!("at most {} runs", config.max_runs.unwrap_or(0)),
        ),
    ]
    .into_iter()
    .filter_map(|(on, name)| on.then_some(name))
    .collect();
    if args.json {
        let outcomes: Vec<_> = report
            .outcomes
            .iter()
            .map(|(outcome, runs)| json!({"outcome": outcome, "runs": runs}))
            .collect();
        let output = json!({
            "strategy": simulation.scenario().strategy_label(),
            "database": simulation.scenario().database,
            "scenario": simulation.scenario(),
            "reductions": used,
            "result": result,
            "runs": report.runs,
            "runs_pruned": report.pruned,
            "runs_pruned_by_cache": report.cache_hits,
            "states_cached": report.states_cached,
            "cut_by_max_runs": report.cut_by_max_runs,
            "cut_by_preemption_bound": report.cut_by_preemption_bound,
            "outcomes": outcomes,
            "violation": violation.map(|e| {
                let mut v = execution_json(e);
                v["saved"] = json!(saved.as_ref().map(|s| s.path.display().to_string()));
                v["original"] = json!(shrunk.as_ref().map(|s| s.original));
                v["minimal"] = json!(shrunk.as_ref().map(|s| s.minimal));
                v
            }),
        });
        outln!("{}", pretty(&output));
    } else {
        outln!(
            "check: {} | {}",
            simulation.scenario().strategy_label(),
            describe(simulation.scenario())
        );
        outln!(
            "reductions: {}",
            if used.is_empty() {
                "none".to_string()
            } else {
                used.join(", ")
            }
        );
        let by_cache = if config.reductions.cache {
            format!(
                ", {} of them at a state explored before; {} states cached",
                report.cache_hits, report.states_cached
            )
        } else {
            String::new()
        };
        outln!(
            "runs: {} ({} repeated an equivalent run and were cut short{by_cache}); distinct terminal outcomes: {}",
            report.runs,
            report.pruned,
            report.outcomes.len()
        );
        for (outcome, runs) in &report.outcomes {
            outln!("  {outcome}  ({runs} runs)");
        }
        match (violation, report.result) {
            (Some(execution), _) => {
                let v = execution.verdict.violation().expect("a violation");
                outln!("result: VIOLATED: {} at step {}: {}", v.invariant, v.step, v.detail);
                if let Some(s) = &shrunk {
                    outln!(
                        "shrunk: from {} to {}",
                        super::shrink::size_text(&s.original),
                        super::shrink::size_text(&s.minimal)
                    );
                }
                outln!("schedule: {:?}", execution.schedule);
                outln!("{}", execution.render().trim_end());
                match &saved {
                    Some(s) => outln!("kept as {}; replay: stockrace replay {}", s.path.display(), s.path.display()),
                    None => outln!("keep it with --save, then replay it with `stockrace replay FILE`"),
                }
            }
            (None, CheckResult::Complete) => outln!(
                "result: COMPLETE: every schedule of this scenario (up to equivalence) ran on the model, and every invariant held"
            ),
            (None, _) => outln!(
                "result: BOUNDED: every run held, but the search was cut ({}): not a proof",
                [
                    report.cut_by_preemption_bound.then_some("preemption bound"),
                    report.cut_by_max_runs.then_some("--max-runs"),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(", ")
            ),
        }
    }
    match violation {
        Some(execution) => {
            let scenario = simulation.scenario();
            let written = pictures.write(&Shown {
                execution,
                scenario,
                title: format!("stockrace check: {}", scenario.strategy_label()),
                source: args.scenario.source(),
                command: saved
                    .as_ref()
                    .map(|s| format!("stockrace replay {}", s.path.display())),
                text: execution.timeline(scenario),
            })?;
            if !args.json {
                super::out::out!("{written}");
            }
        }
        None if pictures.any() => {
            eprintln!("stockrace: every run held: there is no failing run to draw (no --svg or --html file written)")
        }
        None => {}
    }
    Ok(match report.result {
        CheckResult::Complete => ExitCode::SUCCESS,
        CheckResult::Violated => ExitCode::from(1),
        CheckResult::Bounded => ExitCode::from(BOUNDED),
    })
}
