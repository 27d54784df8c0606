//! `stockrace merge`: the `--json` outputs of a sweep's shards joined into
//! the result of the whole sweep, as if it had run in one go.

use super::files::{self, Output};
use super::json::pretty;
use super::out::out;
use super::sweep::{ShardDocument, SweepDocument};
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
    /// Also write the JSON to FILE (`-`: stdout), the text still on stdout.
    #[arg(long, value_name = "FILE")]
    pub json_out: Option<PathBuf>,
}

pub fn merge(args: MergeArgs) -> Result<ExitCode, Bad> {
    let json_out = args
        .json_out
        .as_deref()
        .map(|p| Output::new("--json-out", p))
        .transpose()?;
    if let (true, Some(output)) = (args.json, &json_out) {
        files::distinct(("--json", &Output::Stdout), ("--json-out", output))?;
    }
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
        if document.interrupted {
            return Err(Bad(format!(
                "{}: an interrupted sweep (Ctrl-C) covers only some of its seeds; run it again",
                path.display()
            )));
        }
        shards.push((path, document));
    }
    same_sweep(&shards)?;
    complete(&shards)?;
    // An empty shard (more shards than seeds) sorts before its neighbour.
    shards.sort_by_key(|(_, d)| (d.first_seed, d.seeds));
    let (_, first) = &shards[0];
    let mut merged = first.clone();
    // The whole sweep: as if run in one go, not a shard.
    merged.shard = None;
    for (path, shard) in &shards[1..] {
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
    let json = pretty(&merged) + "\n";
    if args.json {
        out!("{json}");
    } else {
        merged.print(None)?;
    }
    if let Some(output) = &json_out {
        output.write(&json)?;
    }
    Ok(exit_for(merged.tally.violations > 0))
}

/// Shards record which they are (`--shard I/N`) and the whole sweep's
/// range: every one of the N must be there, once. Documents without a
/// shard (an unsharded sweep, or a shard written before shards were
/// recorded) are joined as ranges that must touch; the two kinds do not mix.
fn complete(shards: &[(&PathBuf, SweepDocument)]) -> Result<(), Bad> {
    let Some(sharded) = shards.iter().find_map(|(p, d)| d.shard.map(|s| (p, s))) else {
        return Ok(());
    };
    let (first_path, whole) = sharded;
    let whole = ShardDocument { index: 0, ..whole };
    let mut seen = std::collections::BTreeSet::new();
    for (path, document) in shards {
        let Some(shard) = document.shard else {
            return Err(Bad(format!(
                "{}: records no shard (an unsharded sweep, or written by an older stockrace), while {} is shard {}/{}; merge shards of one `--shard I/N` run",
                path.display(),
                first_path.display(),
                sharded.1.index,
                whole.count
            )));
        };
        if (ShardDocument { index: 0, ..shard }) != whole
            || shard.index == 0
            || shard.index > shard.count
        {
            return Err(Bad(format!(
                "{}: shard {}/{} of seeds {}..{}, but {} is a shard of {} of seeds {}..{}",
                path.display(),
                shard.index,
                shard.count,
                shard.first_seed,
                shard.first_seed + shard.seeds,
                first_path.display(),
                whole.count,
                whole.first_seed,
                whole.first_seed + whole.seeds
            )));
        }
        if !seen.insert(shard.index) {
            return Err(Bad(format!(
                "{}: shard {}/{} is given twice",
                path.display(),
                shard.index,
                shard.count
            )));
        }
    }
    // Named up to ten; the count says how many in all.
    let absent = (1..=whole.count).filter(|i| !seen.contains(i));
    let count = whole.count - seen.len() as u64;
    let mut missing: Vec<String> = absent
        .take(10)
        .map(|i| {
            let seeds = whole.range(i);
            format!("{i}/{} (seeds {}..{})", whole.count, seeds.start, seeds.end)
        })
        .collect();
    if count > 10 {
        missing.push(format!("and {} more", count - 10));
    }
    if missing.is_empty() {
        return Ok(());
    }
    Err(Bad(format!(
        "an incomplete sweep of seeds {}..{} in {} shards: missing shard{} {}",
        whole.first_seed,
        whole.first_seed + whole.seeds,
        whole.count,
        if count > 1 { "s" } else { "" },
        missing.join(", ")
    )))
}

/// Every document is a sweep of the same strategy and scenario.
fn same_sweep(shards: &[(&PathBuf, SweepDocument)]) -> Result<(), Bad> {
    let (first_path, first) = &shards[0];
    for (path, shard) in &shards[1..] {
        if shard.strategy != first.strategy
            || shard.scenario != first.scenario
            || shard.chooser != first.chooser
        {
            let what = if shard.strategy != first.strategy {
                format!("strategy {} vs {}", shard.strategy, first.strategy)
            } else if shard.chooser != first.chooser {
                format!("chooser {:?} vs {:?}", shard.chooser, first.chooser)
            } else {
                "same strategy, different scenario".to_string()
            };
            return Err(Bad(format!(
                "{}: a sweep of another scenario than {} ({what})",
                path.display(),
                first_path.display(),
            )));
        }
    }
    Ok(())
}
