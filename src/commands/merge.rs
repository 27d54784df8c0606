//! `stockrace merge`: the `--json` outputs of a sweep's shards joined into
//! the result of the whole sweep, as if it had run in one go.

use super::json::pretty;
use super::sweep::SweepDocument;
use super::{exit_for, Bad};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct MergeArgs {
    /// `stockrace sweep --shard I/N --json` outputs, in any order.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn merge(args: MergeArgs) -> Result<ExitCode, Bad> {
    let mut shards = Vec::new();
    for path in &args.files {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Bad(format!("{}: cannot read: {e}", path.display())))?;
        let document: SweepDocument = serde_json::from_str(&text).map_err(|e| {
            Bad(format!(
                "{}:{}: not the JSON of `stockrace sweep --json`: {e}",
                path.display(),
                e.line()
            ))
        })?;
        shards.push((path, document));
    }
    // An empty shard (more shards than seeds) sorts before its neighbour.
    shards.sort_by_key(|(_, d)| (d.first_seed, d.seeds));
    let (first_path, first) = &shards[0];
    let mut merged = first.clone();
    for (path, shard) in &shards[1..] {
        if shard.strategy != first.strategy || shard.scenario != first.scenario {
            let what = if shard.strategy != first.strategy {
                format!("strategy {} vs {}", shard.strategy, first.strategy)
            } else {
                "same strategy, different scenario".to_string()
            };
            return Err(Bad(format!(
                "{}: a sweep of another scenario than {} ({what})",
                path.display(),
                first_path.display(),
            )));
        }
        let end = merged.first_seed + merged.seeds;
        if shard.first_seed != end {
            let why = if shard.first_seed < end {
                "overlaps the shards before it"
            } else {
                "leaves a gap after the shards before it"
            };
            return Err(Bad(format!(
                "{}: covers seeds {}..{}, which {why} (they end at {end})",
                path.display(),
                shard.first_seed,
                shard.first_seed + shard.seeds
            )));
        }
        merged.seeds += shard.seeds;
        merged.tally.merge(&shard.tally);
        // Shards are in seed order: the first failure is the earliest shard's.
        if merged.first_failure.is_none() {
            merged.first_failure = shard.first_failure.clone();
        }
    }
    merged.figures = merged.tally.figures();
    if args.json {
        println!("{}", pretty(&merged));
    } else {
        merged.print(None);
    }
    Ok(exit_for(merged.tally.violations > 0))
}
