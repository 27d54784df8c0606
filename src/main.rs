//! The `stockrace` command line. Exit status: 0 every invariant held, 1 a
//! violation was found, 2 bad input or setup.

mod commands;

use clap::{Parser, Subcommand};
use commands::{app, compare, diff, merge, replay, sweep, Bad};
use std::process::ExitCode;
use stockrace::Strategies;

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
    /// Run the application's own order processes through a scheduling proxy
    /// on a real PostgreSQL, over many seeds; `app replay FILE` replays a kept run.
    App(app::AppArgs),
    /// List the built-in strategies.
    Strategies,
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
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Sweep(args) => sweep::sweep(args),
        Command::Replay(args) => replay::replay(args),
        Command::Compare(args) => compare::compare(args),
        Command::Merge(args) => merge::merge(args),
        Command::Diff(args) => diff::diff(args),
        Command::App(args) => app::app(args),
        Command::Strategies => {
            for name in Strategies::BUILTIN {
                println!("{name}");
            }
            Ok(ExitCode::SUCCESS)
        }
    };
    result.unwrap_or_else(|Bad(message)| {
        eprintln!("stockrace: {message}");
        ExitCode::from(2)
    })
}
