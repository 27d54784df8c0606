//! `stockrace shrink`: a failing schedule (a regression file, or a seed of
//! a scenario) made as small as it can be, kept as a new regression file.

use super::out::outln;
use super::pictures::{PictureArgs, Shown};
use super::replay::load_regression;
use super::scenario_args::ScenarioArgs;
use super::Bad;
use clap::Args;
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;
use stockrace::regression::Regression;
use stockrace::{Simulation, Size};

#[derive(Args)]
pub struct ShrinkArgs {
    /// A regression file whose schedule fails (instead of scenario flags and --seed).
    pub file: Option<PathBuf>,
    #[command(flatten)]
    pub scenario: ScenarioArgs,
    /// The failing seed to shrink.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Where the smaller regression file goes.
    #[arg(long, default_value = "seeds")]
    pub seeds_dir: PathBuf,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub pictures: PictureArgs,
}

pub fn shrink(args: ShrinkArgs) -> Result<ExitCode, Bad> {
    let inputs = [
        args.file.as_deref(),
        args.scenario.shape.scenario.as_deref(),
    ];
    let pictures = args.pictures.outputs(args.json, &inputs)?;
    let (simulation, schedule): (Simulation, Vec<u32>) = match &args.file {
        Some(path) => {
            if args.seed.is_some() || args.scenario.any() {
                return Err(Bad(
                    "give either a regression file or scenario flags and --seed, not both".into(),
                ));
            }
            let (simulation, regression) = load_regression(path)?;
            (simulation, regression.schedule)
        }
        None => {
            let simulation = args.scenario.simulation()?;
            let seed = args
                .seed
                .ok_or_else(|| Bad("--seed is required (or give a regression file)".into()))?;
            let schedule = simulation.run_seed(seed).schedule;
            (simulation, schedule)
        }
    };
    let Some(shrunk) = simulation.shrink(&schedule) else {
        return Err(Bad(
            "this schedule breaks no invariant: there is nothing to shrink".into(),
        ));
    };
    let saved = Regression {
        seed: None,
        ..Regression::from_execution(&simulation, &shrunk.execution)
    }
    .save(&args.seeds_dir)
    .map_err(|e| {
        Bad(format!(
            "cannot save the regression in {}: {e}",
            args.seeds_dir.display()
        ))
    })?;
    let v = shrunk.execution.verdict.violation().expect("it fails");
    if args.json {
        let output = json!({
            "invariant": v.invariant.name(),
            "detail": v.detail,
            "original": shrunk.original,
            "minimal": shrunk.minimal,
            "schedule": shrunk.schedule,
            "tried": shrunk.tried,
            "saved": saved.path.display().to_string(),
        });
        outln!("{}", super::json::pretty(&output));
    } else {
        outln!(
            "shrink: {} | {}",
            simulation.scenario().strategy_label(),
            v.invariant
        );
        outln!("original: {}", size_text(&shrunk.original));
        outln!(
            "minimal:  {} ({} candidate runs)",
            size_text(&shrunk.minimal),
            shrunk.tried
        );
        outln!("schedule: {:?}", shrunk.schedule);
        outln!("{}", shrunk.execution.render().trim_end());
        let verb = if saved.new {
            "kept as"
        } else {
            "already kept as"
        };
        outln!(
            "{verb} {}; replay: stockrace replay {}",
            saved.path.display(),
            saved.path.display()
        );
    }
    let scenario = simulation.scenario();
    let written = pictures.write(&Shown {
        execution: &shrunk.execution,
        scenario,
        title: format!("stockrace shrink: {}", scenario.strategy_label()),
        source: match &args.file {
            Some(path) => Some(format!("regression file: {}", path.display())),
            None => args.scenario.source(),
        },
        command: Some(format!("stockrace replay {}", saved.path.display())),
        text: shrunk.execution.timeline(scenario),
    })?;
    if !args.json {
        super::out::out!("{written}");
    }
    Ok(ExitCode::SUCCESS)
}

pub fn size_text(size: &Size) -> String {
    format!(
        "{} order(s) involved, {} preemption(s), {} choice(s)",
        size.orders, size.preemptions, size.steps
    )
}
