//! `stockrace replay`: one seed, or one regression file, with its trace.

use super::json::{execution_json, pretty};
use super::scenario_args::{simulation, ScenarioArgs};
use super::{exit_for, Bad};
use clap::Args;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use stockrace::regression::Regression;
use stockrace::Simulation;

#[derive(Args)]
pub struct ReplayArgs {
    /// A regression file to replay (instead of --strategy ... --seed).
    pub file: Option<PathBuf>,
    #[command(flatten)]
    pub scenario: ScenarioArgs,
    /// Seed to replay.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn replay(args: ReplayArgs) -> Result<ExitCode, Bad> {
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
            let execution = simulation.run_seed(seed);
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
    if args.json {
        let mut output = execution_json(&execution);
        output["strategy"] = json!(simulation.scenario().strategy_label());
        if let Some(expectation) = &expectation {
            output["expectation_met"] = json!(expectation.is_ok());
        }
        println!("{}", pretty(&output));
    } else {
        let scenario = simulation.scenario();
        println!(
            "replay: {} | {} orders | seed {} | schedule {:?}",
            scenario.strategy_label(),
            scenario.orders.len(),
            execution.seed.map_or("none".to_string(), |s| s.to_string()),
            execution.schedule
        );
        print!("{}", execution.render());
        match &expectation {
            Some(Ok(())) => println!("expectation: met"),
            Some(Err(why)) => println!("expectation: NOT met: {why}"),
            None => {}
        }
    }
    Ok(exit_for(!execution.verdict.holds()))
}

fn load_regression(path: &Path) -> Result<(Simulation, Regression), Bad> {
    let regression = Regression::load(path).map_err(|e| Bad(e.to_string()))?;
    let simulation = simulation(regression.scenario.clone())
        .map_err(|Bad(e)| Bad(format!("{}: scenario.{e}", path.display())))?;
    Ok((simulation, regression))
}
