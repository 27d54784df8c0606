//! What `compare` runs: a cell per database x isolation level x strategy x
//! concurrency level, each scenario built (and so checked) before anything
//! runs, and the strategies a database cannot run set aside with why.

use super::{CompareArgs, AS_WRITTEN};
use crate::commands::scenario_args::simulation;
use crate::commands::Bad;
use serde::Serialize;
use stockrace::{Database, Isolation, Simulation, Strategies, COMPARE_LATENCY, COMPARE_ORDERS};

pub(super) struct Plan {
    pub cells: Vec<Planned>,
    pub not_run: Vec<NotRun>,
    /// More than one database or isolation level: rows name theirs.
    pub several: bool,
    /// Concurrency levels per strategy.
    pub levels: usize,
}

/// A strategy left out on a database it cannot run on.
#[derive(Serialize)]
pub(super) struct NotRun {
    pub strategy: String,
    pub database: Database,
    pub reason: String,
}

/// One cell to run: its simulation, the flags that replay it, its row's
/// label, its strategy and isolation level.
pub(super) struct Planned {
    pub simulation: Simulation,
    pub flags: String,
    pub label: String,
    pub strategy: String,
    pub isolation: String,
}

/// `list` (a comma-separated flag's values) parsed by `parse`, each once;
/// empty: one `None`, "as the scenario says".
fn names<T: PartialEq + Copy>(
    list: &[String],
    flag: &str,
    parse: fn(&str) -> Option<T>,
    expected: &str,
) -> Result<Vec<Option<T>>, Bad> {
    if list.is_empty() {
        return Ok(vec![None]);
    }
    let mut parsed: Vec<Option<T>> = Vec::new();
    for name in list {
        let value =
            parse(name).ok_or_else(|| Bad(format!("{flag} {name:?}: expected {expected}")))?;
        if parsed.contains(&Some(value)) {
            return Err(Bad(format!("{flag}: {name} is listed twice")));
        }
        parsed.push(Some(value));
    }
    Ok(parsed)
}

/// The orders' isolation level, or `mixed`.
fn isolation_name(scenario: &stockrace::Scenario) -> String {
    let mut levels = scenario.orders.iter().map(|o| o.isolation);
    match levels.next() {
        Some(first) if levels.all(|l| l == first) => first.name().to_string(),
        Some(_) => "mixed".to_string(),
        None => String::new(),
    }
}

/// Every cell `args` asks for.
pub(super) fn plan(args: &CompareArgs) -> Result<Plan, Bad> {
    let strategies: Vec<Option<String>> = if args.strategies.is_empty() {
        Strategies::BUILTIN
            .iter()
            .map(|s| Some(s.to_string()))
            .collect()
    } else {
        args.strategies
            .iter()
            .map(|s| match s.as_str() {
                AS_WRITTEN if args.shape.scenario.is_some() => Ok(None),
                AS_WRITTEN => Err(Bad(format!("--strategies {AS_WRITTEN}: needs --scenario"))),
                name => Ok(Some(name.to_string())),
            })
            .collect::<Result<_, _>>()?
    };
    let levels: Vec<Option<i64>> = match (&args.shape.scenario, args.orders.is_empty()) {
        (_, false) => args.orders.iter().map(|&n| Some(n)).collect(),
        (Some(_), true) => vec![None],
        (None, true) => COMPARE_ORDERS.into_iter().map(|n| Some(n as i64)).collect(),
    };
    let databases = names(
        &args.databases,
        "--databases",
        Database::from_name,
        &Database::names(),
    )?;
    let isolations = names(
        &args.isolations,
        "--isolations",
        Isolation::from_name,
        "read-committed, repeatable-read, serializable",
    )?;
    let several = databases.len() > 1 || isolations.len() > 1;
    // Every scenario is built (and so checked) before anything runs.
    let mut plan: Vec<Planned> = Vec::new();
    let mut not_run: Vec<NotRun> = Vec::new();
    let registry = Strategies::builtin();
    for &database in &databases {
        for &isolation in &isolations {
            for strategy in &strategies {
                for &orders in &levels {
                    let mut shape = args.shape.with(database, isolation);
                    if args.faults {
                        shape = shape.with_default_faults();
                    }
                    // A strategy the database cannot run is listed as not run.
                    if let Some(name) = strategy {
                        let on = shape.database_of_scenario()?;
                        if let Some(reason) = registry.refusal(name, on) {
                            if !not_run.iter().any(|n| n.reason == reason) {
                                not_run.push(NotRun {
                                    strategy: name.clone(),
                                    database: on,
                                    reason,
                                });
                            }
                            continue;
                        }
                    }
                    let scenario = shape.scenario(strategy.as_deref(), orders, COMPARE_LATENCY)?;
                    let flags = shape.flags(strategy.as_deref(), orders, &scenario)?;
                    let strategy = strategy.clone().unwrap_or_else(|| AS_WRITTEN.to_string());
                    let isolation = isolation_name(&scenario);
                    let label = match several {
                        false => strategy.clone(),
                        true => format!("{strategy} | {} | {isolation}", scenario.database),
                    };
                    plan.push(Planned {
                        simulation: simulation(scenario)?,
                        flags,
                        label,
                        strategy,
                        isolation,
                    });
                }
            }
        }
    }
    Ok(Plan {
        cells: plan,
        not_run,
        several,
        levels: levels.len(),
    })
}
