//! The `stockrace` command line. Exit status: 0 every invariant held, 1 a
//! violation was found, 2 bad input or setup.

mod commands;

use clap::{Parser, Subcommand};
use commands::{app, check, compare, diff, listing, merge, out, replay, shrink, sweep, Bad};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "stockrace",
    version,
    about = "Deterministic race tests for the code that sells stock"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run many seeds of a scenario and report invariant violations.
    Sweep(sweep::SweepArgs),
    /// Run one seed, or one regression file, and print its trace.
    Replay(replay::ReplayArgs),
    /// Run strategies side by side at several concurrency levels: safety and cost.
    Compare(compare::CompareArgs),
    /// Join the --json outputs of a sweep's shards into the whole sweep's result.
    Merge(merge::MergeArgs),
    /// Run each seed's schedule on the model and on a real PostgreSQL, and compare.
    Diff(diff::DiffArgs),
    /// Run every schedule of a small scenario (up to equivalence): a proof at
    /// this scope, or the first violation with its trace. Exit 3: clean but bounded.
    Check(check::CheckArgs),
    /// Make a failing schedule (a regression file, or a seed) as small as it can be.
    Shrink(shrink::ShrinkArgs),
    /// Run the application's own order processes through a scheduling proxy
    /// on a real PostgreSQL, over many seeds; `app replay FILE` replays a kept run.
    App(app::AppArgs),
    /// List the built-in strategies: what each does, and whether it
    /// reserves or decrements stock.
    Strategies,
    /// List the scenario files in a directory (default: scenarios/) with
    /// their first comment line.
    Scenarios(listing::ScenariosArgs),
}

fn main() -> ExitCode {
    // Quiet unless asked: RUST_LOG=stockrace=debug shows scheduler decisions
    // and statement execution, on stderr.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("off"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .without_time()
        .init();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // --help and --version print on stdout (exit 0), usage errors on
        // stderr (exit 2); a failed write is exit 2 either way.
        Err(e) => {
            let code = e.exit_code() as u8;
            return match out::with(|| e.print()) {
                Ok(()) => ExitCode::from(code),
                Err(bad) => fail(bad),
            };
        }
    };
    let result = match cli.command {
        Command::Sweep(args) => sweep::sweep(args),
        Command::Replay(args) => replay::replay(args),
        Command::Compare(args) => compare::compare(args),
        Command::Merge(args) => merge::merge(args),
        Command::Diff(args) => diff::diff(args),
        Command::Check(args) => check::check(args),
        Command::Shrink(args) => shrink::shrink(args),
        Command::App(args) => app::app(args),
        Command::Strategies => listing::strategies(),
        Command::Scenarios(args) => listing::scenarios(args),
    };
    // What is still buffered goes out now, under the same rules as the rest.
    match result.and_then(|code| out::flush().map(|()| code)) {
        Ok(code) => code,
        Err(bad) => fail(bad),
    }
}

fn fail(Bad(message): Bad) -> ExitCode {
    eprintln!("stockrace: {message}");
    ExitCode::from(2)
}
