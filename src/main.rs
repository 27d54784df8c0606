//! The `stockrace` command line. Exit status: 0 every invariant held, 1 a
//! violation was found, 2 bad input or setup.

use clap::{Args, Parser, Subcommand};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use stockrace::adapters::postgres::{Pacing, PgServer};
use stockrace::regression::{Regression, Saved};
use stockrace::scenario::{LockOrder, Shape};
use stockrace::trace::{process_lock_text, result_text, TraceEvent};
use stockrace::{Execution, Isolation, Scenario, Simulation, Strategies, SweepReport};

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
    Sweep(SweepArgs),
    /// Run one seed, or one regression file, and print its trace.
    Replay(ReplayArgs),
    /// Run each seed's schedule on the model and on a real PostgreSQL, and compare.
    Diff(DiffArgs),
    /// List the built-in strategies.
    Strategies,
}

/// The scenario: a scenario file, or the one the flags describe (`--orders`
/// orders, each buying `--qty` of every one of `--items` items stocked
/// `--stock` each).
#[derive(Args)]
struct ScenarioArgs {
    /// A scenario file (TOML; see scenarios/). The shape flags below cannot be
    /// combined with it; --strategy replaces every order's strategy.
    #[arg(long)]
    scenario: Option<PathBuf>,
    /// Decrement path to test (see `stockrace strategies`).
    #[arg(long)]
    strategy: Option<String>,
    /// Concurrent orders.
    #[arg(
        long,
        default_value_t = 2,
        allow_negative_numbers = true,
        conflicts_with = "scenario"
    )]
    orders: i64,
    /// Initial stocked_quantity of each item.
    #[arg(
        long,
        default_value_t = 1,
        allow_negative_numbers = true,
        conflicts_with = "scenario"
    )]
    stock: i64,
    /// Units of each item each order buys.
    #[arg(
        long,
        default_value_t = 1,
        allow_negative_numbers = true,
        conflicts_with = "scenario"
    )]
    qty: i64,
    /// Items every order buys; with 2 or more, every second order lists them in reverse.
    #[arg(
        long,
        default_value_t = 1,
        allow_negative_numbers = true,
        conflicts_with = "scenario"
    )]
    items: i64,
    /// read-committed, repeatable-read or serializable.
    #[arg(long, default_value = "read-committed", conflicts_with = "scenario")]
    isolation: String,
    /// App processes; orders are spread over them round-robin.
    #[arg(
        long,
        default_value_t = 1,
        allow_negative_numbers = true,
        conflicts_with = "scenario"
    )]
    nodes: i64,
    /// Row locking order of multi-item orders: listed or sorted.
    #[arg(long, default_value = "listed", conflicts_with = "scenario")]
    lock_order: String,
}

#[derive(Args)]
struct SweepArgs {
    #[command(flatten)]
    scenario: ScenarioArgs,
    /// Number of seeds to run.
    #[arg(long, default_value_t = 1000)]
    seeds: u64,
    /// First seed of the range.
    #[arg(long, default_value_t = 0)]
    first_seed: u64,
    /// Keep the first failing schedule as a regression file.
    #[arg(long)]
    save: bool,
    /// Where --save writes regression files.
    #[arg(long, default_value = "seeds")]
    seeds_dir: PathBuf,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct ReplayArgs {
    /// A regression file to replay (instead of --strategy ... --seed).
    file: Option<PathBuf>,
    #[command(flatten)]
    scenario: ScenarioArgs,
    /// Seed to replay.
    #[arg(long)]
    seed: Option<u64>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct DiffArgs {
    #[command(flatten)]
    scenario: ScenarioArgs,
    /// Number of seeds to compare.
    #[arg(long, default_value_t = 100)]
    seeds: u64,
    /// First seed of the range.
    #[arg(long, default_value_t = 0)]
    first_seed: u64,
    /// PostgreSQL connection string (default: the PG* environment variables).
    #[arg(long)]
    pg: Option<String>,
    /// Real milliseconds per virtual millisecond when pacing the server's timeouts.
    #[arg(long, default_value_t = 0.1)]
    pacing: f64,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

/// Bad input: the message, and exit status 2.
struct Bad(String);

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
        Command::Sweep(args) => sweep(args),
        Command::Replay(args) => replay(args),
        Command::Diff(args) => diff(args),
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

impl ScenarioArgs {
    fn simulation(&self) -> Result<Simulation, Bad> {
        let registry = Strategies::builtin();
        if let Some(path) = &self.scenario {
            if let Some(name) = self
                .strategy
                .as_deref()
                .filter(|n| registry.get(n).is_none())
            {
                let known: Vec<&str> = registry.names().collect();
                return Err(Bad(format!(
                    "unknown strategy {name:?}; known: {}",
                    known.join(", ")
                )));
            }
            let mut scenario = Scenario::load(path, |name| {
                registry.get(name).is_some() || self.strategy.is_some()
            })
            .map_err(|e| Bad(e.to_string()))?;
            if let Some(name) = &self.strategy {
                scenario
                    .orders
                    .iter_mut()
                    .for_each(|o| o.strategy = name.clone());
            }
            return Simulation::new(scenario, &registry)
                .map_err(|e| Bad(format!("{}: {e}", path.display())));
        }
        let strategy = self.strategy.as_deref().ok_or_else(|| {
            Bad("--strategy is required (or give a regression file to replay)".into())
        })?;
        if registry.get(strategy).is_none() {
            let known: Vec<&str> = registry.names().collect();
            return Err(Bad(format!(
                "unknown strategy {strategy:?}; known: {}",
                known.join(", ")
            )));
        }
        let positive = |flag: &str, value: i64, what: &str| {
            if value < 1 {
                Err(Bad(format!("--{flag} {value}: {what}")))
            } else {
                Ok(value)
            }
        };
        let orders = positive("orders", self.orders, "a scenario needs at least one order")?;
        if orders > stockrace::scenario::MAX_ORDERS as i64 {
            return Err(Bad(format!(
                "--orders {orders}: at most {} are supported",
                stockrace::scenario::MAX_ORDERS
            )));
        }
        if self.stock < 0 {
            return Err(Bad(format!(
                "--stock {}: stock cannot be negative",
                self.stock
            )));
        }
        let quantity = positive("qty", self.qty, "each order must buy at least 1 unit")?;
        let items = positive("items", self.items, "orders must buy at least one item")?;
        let nodes = positive("nodes", self.nodes, "orders need at least one app node")?;
        let isolation = Isolation::from_name(&self.isolation).ok_or_else(|| {
            Bad(format!(
                "--isolation {:?}: expected read-committed, repeatable-read or serializable",
                self.isolation
            ))
        })?;
        let lock_order = LockOrder::from_name(&self.lock_order).ok_or_else(|| {
            Bad(format!(
                "--lock-order {:?}: expected listed or sorted",
                self.lock_order
            ))
        })?;
        let scenario = Shape {
            strategy: strategy.to_string(),
            orders: orders as usize,
            items: items as usize,
            stock: self.stock,
            quantity,
            isolation,
            nodes: u32::try_from(nodes).map_err(|_| Bad(format!("--nodes {nodes}: too many")))?,
            lock_order,
        }
        .scenario();
        Simulation::new(scenario, &registry).map_err(|e| Bad(e.to_string()))
    }

    /// The flags that reproduce this scenario on the command line.
    fn flags(&self) -> String {
        if let Some(path) = &self.scenario {
            return match &self.strategy {
                Some(name) => format!("--scenario {} --strategy {name}", path.display()),
                None => format!("--scenario {}", path.display()),
            };
        }
        format!(
            "--strategy {} --orders {} --stock {} --qty {} --items {} --isolation {} --nodes {} --lock-order {}",
            self.strategy.as_deref().unwrap_or(""),
            self.orders,
            self.stock,
            self.qty,
            self.items,
            self.isolation,
            self.nodes,
            self.lock_order
        )
    }
}

fn sweep(args: SweepArgs) -> Result<ExitCode, Bad> {
    let simulation = args.scenario.simulation()?;
    let seeds = args.first_seed..args.first_seed.saturating_add(args.seeds);
    let report = stockrace::sweep(&simulation, seeds, false);
    if let Some((seed, order, message)) = &report.panic {
        return Err(Bad(format!(
            "strategy {} panicked in order T{} at seed {seed}: {message}",
            report.strategy,
            order + 1
        )));
    }
    let saved = match (&report.first_failure, args.save) {
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
    let replay_command =
        |seed: u64| format!("stockrace replay {} --seed {seed}", args.scenario.flags());
    if args.json {
        let first_failure = report.first_failure.as_ref().map(|e| {
            let v = e.verdict.violation().expect("failure");
            json!({
                "seed": e.seed,
                "invariant": v.invariant.name(),
                "step": v.step,
                "detail": v.detail,
                "schedule": e.schedule,
                "replay": replay_command(e.seed.expect("seeded")),
                "saved": saved.as_ref().map(|s| s.path.display().to_string()),
            })
        });
        let output = json!({
            "strategy": report.strategy,
            "scenario": scenario_json(simulation.scenario()),
            "first_seed": report.seeds.start,
            "seeds": report.runs,
            "violations": report.violations,
            "by_invariant": by_invariant_json(&report),
            "first_failure": first_failure,
            "errors_40001": report.serialization_failures,
            "errors_40p01": report.deadlocks,
            "retries": report.retries,
        });
        println!("{}", serde_json::to_string_pretty(&output).expect("json"));
    } else {
        print_sweep(&report, &args, saved.as_ref(), &replay_command);
    }
    Ok(exit_for(report.violations > 0))
}

fn print_sweep(
    report: &SweepReport,
    args: &SweepArgs,
    saved: Option<&Saved>,
    replay: &dyn Fn(u64) -> String,
) {
    let s = &args.scenario;
    match &s.scenario {
        Some(path) => println!("sweep: {} | {}", report.strategy, path.display()),
        None => println!(
            "sweep: {} | {} orders of {} x {} item(s) against stock {} | {} | {} node(s), {} lock order",
            report.strategy, s.orders, s.qty, s.items, s.stock, s.isolation, s.nodes, s.lock_order
        ),
    }
    println!(
        "seeds {}..{}: {} runs, {} violations",
        report.seeds.start,
        report.seeds.start + report.runs,
        report.runs,
        report.violations
    );
    for (invariant, count) in &report.by_invariant {
        println!("  {invariant}: {count}");
    }
    println!(
        "40001 serialization failures: {}, 40P01 deadlocks: {}, retries: {}",
        report.serialization_failures, report.deadlocks, report.retries
    );
    if let Some(e) = &report.first_failure {
        let v = e.verdict.violation().expect("failure");
        let seed = e.seed.expect("seeded");
        println!(
            "first failure: seed {seed}, {} at step {}: {}",
            v.invariant, v.step, v.detail
        );
        println!("schedule: {:?}", e.schedule);
        println!("replay: {}", replay(seed));
        if let Some(saved) = saved {
            let how = if saved.new {
                "kept as"
            } else {
                "already kept as"
            };
            println!("{how} {}", saved.path.display());
        }
    } else {
        println!("every invariant held");
    }
}

fn replay(args: ReplayArgs) -> Result<ExitCode, Bad> {
    let (simulation, execution, expectation) = match &args.file {
        Some(path) => {
            if args.seed.is_some()
                || args.scenario.strategy.is_some()
                || args.scenario.scenario.is_some()
            {
                return Err(Bad(
                    "give either a regression file or --strategy/--seed, not both".into(),
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
        println!("{}", serde_json::to_string_pretty(&output).expect("json"));
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

fn diff(args: DiffArgs) -> Result<ExitCode, Bad> {
    let simulation = args.scenario.simulation()?;
    if !(args.pacing > 0.0 && args.pacing.is_finite()) {
        return Err(Bad(format!(
            "--pacing {}: must be a positive number",
            args.pacing
        )));
    }
    let mut server = PgServer::connect(args.pg.as_deref()).map_err(|e| Bad(e.to_string()))?;
    server.pacing = Pacing {
        real_per_virtual: args.pacing,
    };
    let seeds = args.first_seed..args.first_seed.saturating_add(args.seeds);
    let report = stockrace::adapters::diff::diff(&simulation, &server, seeds, |_, _| {})
        .map_err(|e| Bad(e.to_string()))?;
    if args.json {
        let first = report.first.as_ref().map(|d| {
            json!({
                "seed": d.seed,
                "what": d.what,
                "schedule": d.model.schedule,
                "model": execution_json(&d.model),
                "postgres": execution_json(&d.database),
            })
        });
        let output = json!({
            "strategy": simulation.scenario().strategy_label(),
            "server": server.description,
            "compared": report.compared,
            "agreeing": report.agreeing,
            "agreed_on_retry": report.retried,
            "first_disagreement": first,
        });
        println!("{}", serde_json::to_string_pretty(&output).expect("json"));
    } else {
        println!(
            "diff: {} | {} | PostgreSQL at {}",
            simulation.scenario().strategy_label(),
            args.scenario.flags(),
            server.description
        );
        println!(
            "agreement: {} / {} runs ({} agreed only when replayed again on the server)",
            report.agreeing, report.compared, report.retried
        );
        if let Some(d) = &report.first {
            println!("first disagreement: seed {}: {}", d.seed, d.what);
            println!("schedule: {:?}\n", d.model.schedule);
            print!(
                "{}",
                stockrace::adapters::diff::side_by_side(&d.model, &d.database)
            );
        }
    }
    Ok(exit_for(report.first.is_some()))
}

fn load_regression(path: &Path) -> Result<(Simulation, Regression), Bad> {
    let regression = Regression::load(path).map_err(|e| Bad(e.to_string()))?;
    let simulation = Simulation::new(regression.scenario.clone(), &Strategies::builtin())
        .map_err(|e| Bad(format!("{}: scenario.{e}", path.display())))?;
    Ok((simulation, regression))
}

fn exit_for(violated: bool) -> ExitCode {
    if violated {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn by_invariant_json(report: &SweepReport) -> Value {
    report
        .by_invariant
        .iter()
        .map(|(i, n)| (i.name().to_string(), json!(n)))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

fn scenario_json(scenario: &Scenario) -> Value {
    serde_json::to_value(scenario).expect("scenario serializes")
}

fn execution_json(execution: &Execution) -> Value {
    let trace: Vec<Value> = execution
        .trace
        .iter()
        .enumerate()
        .map(|(i, event)| {
            let mut line = json!({
                "step": i + 1,
                "time_ms": event.time_ms(),
                "order": event.order().to_string(),
            });
            match event {
                TraceEvent::Statement { event, .. } => {
                    line["statement"] = json!(event.statement.to_string());
                    line["result"] = json!(result_text(event));
                    line["resumed"] = json!(event.resumed);
                    line["row"] = json!(event.row.map(|r| r.to_string()));
                }
                TraceEvent::Sleep { until_ms, .. } => line["sleep_until_ms"] = json!(until_ms),
                TraceEvent::Wake { .. } => line["wake"] = json!(true),
                TraceEvent::ProcessLock { key, event, .. } => {
                    line["process_lock"] = json!(process_lock_text(*key, *event))
                }
                TraceEvent::Finished { order, .. } => {
                    line["finished"] = json!(execution.outcomes[*order as usize].to_string())
                }
            }
            line
        })
        .collect();
    let verdict = match execution.verdict.violation() {
        None => json!({"holds": true}),
        Some(v) => {
            json!({"holds": false, "invariant": v.invariant.name(), "step": v.step, "detail": v.detail})
        }
    };
    json!({
        "seed": execution.seed,
        "schedule": execution.schedule,
        "verdict": verdict,
        "trace": trace,
        "outcomes": execution.outcomes.iter().map(|o| o.to_string()).collect::<Vec<_>>(),
        "final": execution.final_rows.iter().zip(&execution.final_reservations).enumerate().map(|(i, (r, rows))| json!({
            "id": i + 1, "stocked": r.stocked, "reserved": r.reserved, "version": r.version, "reservation_rows": rows
        })).collect::<Vec<_>>(),
        "divergence": execution.divergence,
    })
}
