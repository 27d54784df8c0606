//! One module per subcommand, plus what they share: the scenario flags,
//! JSON shapes, the progress bar, the chart and the pictures of runs.

pub mod app;
pub mod chart;
pub mod check;
pub mod compare;
pub mod diff;
pub mod files;
pub mod interrupt;
pub mod json;
pub mod listing;
pub mod merge;
pub mod out;
pub mod picture;
pub mod pictures;
pub mod progress;
pub mod replay;
pub mod scenario_args;
pub mod shrink;
pub mod sweep;

use clap::Args;
use std::process::ExitCode;

/// Bad input: the message, and exit status 2.
pub struct Bad(pub String);

/// 1 when an invariant was violated (or the backends disagreed), else 0.
pub fn exit_for(violated: bool) -> ExitCode {
    if violated {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Which seeds a sweep runs, and on how many threads.
#[derive(Args)]
pub struct SeedArgs {
    /// Number of seeds to run.
    #[arg(long, default_value_t = 1000)]
    pub seeds: u64,
    /// First seed of the range.
    #[arg(long, default_value_t = 0)]
    pub first_seed: u64,
    /// Threads to run seeds on [default: every core]. The result does not
    /// depend on it.
    #[arg(long)]
    pub jobs: Option<usize>,
    #[command(flatten)]
    pub chooser: ChooserArgs,
}

/// How each seed's choices are made.
#[derive(Args)]
pub struct ChooserArgs {
    /// random (uniform at every choice) or pct (random priorities with
    /// --depth - 1 change points: finds bugs that need an order to stall
    /// while others run several steps).
    #[arg(long, default_value = "random")]
    pub chooser: String,
    /// PCT's depth: the number of ordering constraints a bug may need.
    #[arg(long, default_value_t = 3)]
    pub depth: u32,
}

impl ChooserArgs {
    /// The chooser; for PCT, `k` is measured by one pilot run of the scenario.
    pub fn seed_chooser(
        &self,
        simulation: &stockrace::Simulation,
    ) -> Result<stockrace::SeedChooser, Bad> {
        match self.chooser.as_str() {
            "random" => Ok(stockrace::SeedChooser::Random),
            "pct" if self.depth >= 1 => Ok(stockrace::SeedChooser::Pct {
                depth: self.depth,
                k: simulation.pct_steps(),
            }),
            "pct" => Err(Bad("--depth 0: PCT needs a depth of at least 1".into())),
            other => Err(Bad(format!("--chooser {other:?}: expected random or pct"))),
        }
    }
}

impl SeedArgs {
    pub fn range(&self) -> Result<std::ops::Range<u64>, Bad> {
        seed_range(self.first_seed, self.seeds)
    }

    pub fn jobs(&self) -> Result<usize, Bad> {
        jobs(self.jobs)
    }
}

/// Seeds `first .. first + count`, or why not.
pub fn seed_range(first: u64, count: u64) -> Result<std::ops::Range<u64>, Bad> {
    if count == 0 {
        return Err(Bad("--seeds 0: nothing to run".into()));
    }
    let end = first.checked_add(count).ok_or_else(|| {
        Bad(format!(
            "--first-seed {first} --seeds {count}: the range passes the last seed ({})",
            u64::MAX - 1
        ))
    })?;
    Ok(first..end)
}

/// Threads for a sweep: `--jobs`, or every core.
pub fn jobs(requested: Option<usize>) -> Result<usize, Bad> {
    match requested {
        Some(0) => Err(Bad("--jobs 0: at least one job is needed".into())),
        Some(n) => Ok(n),
        None => Ok(std::thread::available_parallelism().map_or(1, |n| n.get())),
    }
}
