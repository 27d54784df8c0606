//! `stockrace replay`: one seed, or one regression file, with its trace.

use super::json::{execution_json, pretty};
use super::out::{out, outln};
use super::pictures::{PictureArgs, Shown};
use super::scenario_args::ScenarioArgs;
use super::{exit_for, Bad};
use clap::Args;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use stockrace::regression::Regression;
use stockrace::{Scenario, Simulation, Strategies};

#[derive(Args)]
pub struct ReplayArgs {
    /// A regression file to replay (instead of --strategy ... --seed).
    pub file: Option<PathBuf>,
    #[command(flatten)]
    pub scenario: ScenarioArgs,
    /// Seed to replay.
    #[arg(long)]
    pub seed: Option<u64>,
    #[command(flatten)]
    pub chooser: super::ChooserArgs,
    /// When a regression file's schedule no longer fits (it ends early, or
    /// names an option that is gone), finish the run with the first option
    /// at each later choice and judge it, instead of refusing the file.
    #[arg(long = "continue")]
    pub continue_past_end: bool,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub pictures: PictureArgs,
}

pub fn replay(args: ReplayArgs) -> Result<ExitCode, Bad> {
    let inputs = [
        args.file.as_deref(),
        args.scenario.shape.scenario.as_deref(),
    ];
    let pictures = args.pictures.outputs(args.json, &inputs)?;
    let (simulation, execution, expectation) = match &args.file {
        Some(path) => {
            if args.seed.is_some() || args.scenario.any() {
                return Err(Bad(
                    "give either a regression file or scenario flags and --seed, not both (the file holds its scenario)".into(),
                ));
            }
            let (simulation, regression) = load_regression(path)?;
            let execution = simulation.replay(&regression.schedule, regression.seed);
            let expectation = regression.check(&execution);
            (simulation, execution, Some(expectation))
        }
        None => {
            let simulation = args.scenario.simulation()?;
            let seed = args
                .seed
                .ok_or_else(|| Bad("--seed is required (or give a regression file)".into()))?;
            let execution = simulation.run_seed_with(args.chooser.seed_chooser(&simulation)?, seed);
            (simulation, execution, None)
        }
    };
    if let Some((order, message)) = execution.panic() {
        return Err(Bad(format!(
            "strategy {} panicked in order T{}: {message}",
            simulation.scenario().orders[order].strategy,
            order + 1
        )));
    }
    let mut text = execution.timeline(simulation.scenario());
    if let (Some(divergence), true) = (&execution.divergence, args.continue_past_end) {
        text += &format!("continued past the schedule: {divergence}\n");
    }
    match &expectation {
        Some(Ok(())) => text += "expectation: met\n",
        Some(Err(why)) => text += &format!("expectation: NOT met: {why}\n"),
        None => {}
    }
    let (source, command) = match &args.file {
        Some(path) => (
            Some(format!("regression file: {}", path.display())),
            format!("stockrace replay {}", quote(&path.display().to_string())),
        ),
        None => (
            args.scenario.source(),
            format!(
                "stockrace replay {} --seed {}{}",
                args.scenario.flags(simulation.scenario())?,
                execution.seed.unwrap_or(0),
                args.chooser.seed_chooser(&simulation)?.flags()
            ),
        ),
    };
    let written = pictures.write(&Shown {
        execution: &execution,
        scenario: simulation.scenario(),
        title: format!(
            "stockrace replay: {}",
            simulation.scenario().strategy_label()
        ),
        source,
        command: Some(command),
        text: text.clone(),
    })?;
    if args.json {
        let mut output = execution_json(&execution);
        output["strategy"] = json!(simulation.scenario().strategy_label());
        output["database"] = json!(simulation.scenario().database);
        if let Some(expectation) = &expectation {
            output["expectation_met"] = json!(expectation.is_ok());
        }
        outln!("{}", pretty(&output));
    } else {
        out!("{text}{written}");
    }
    // A regression file: exit on its expectation, unless its schedule no
    // longer fits the code (then what the run shows is not what was kept).
    if let (Some(path), Some(divergence), false) =
        (&args.file, &execution.divergence, args.continue_past_end)
    {
        return Err(Bad(format!(
            "{}: the schedule does not fit the strategies any more: {divergence}",
            path.display()
        )));
    }
    Ok(match &expectation {
        Some(expectation) => exit_for(expectation.is_err()),
        None => exit_for(!execution.verdict.holds()),
    })
}

/// `text` quoted for a shell where needed.
fn quote(text: &str) -> String {
    shlex::try_quote(text).map_or(text.to_string(), |q| q.into_owned())
}

pub fn load_regression(path: &Path) -> Result<(Simulation, Regression), Bad> {
    let (regression, simulation) = Regression::open(path, &Strategies::builtin()).map_err(|e| {
        // A scenario file given where a regression file goes: say so.
        if Scenario::load(path, |_| true).is_ok() {
            let shown = path.display().to_string();
            let quoted = shlex::try_quote(&shown).map_or(shown.clone(), |q| q.into_owned());
            Bad(format!(
                "{shown} is a scenario file, not a regression file: replay a seed of it with `stockrace replay --scenario {quoted} --seed S` (a failing seed is what `stockrace sweep --scenario {quoted}` reports)"
            ))
        } else {
            Bad(e.to_string())
        }
    })?;
    regression
        .require_judged(path, &simulation)
        .map_err(|e| Bad(e.to_string()))?;
    Ok((simulation, regression))
}
