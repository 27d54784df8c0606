//! The scenario flags every command takes: a scenario file, or the shape
//! the flags describe, plus overrides that apply to either.

use super::Bad;
use clap::Args;
use std::path::PathBuf;
use stockrace::scenario::{LockOrder, Overrides, Shape, MAX_ORDERS};
use stockrace::{Database, Isolation, Latency, Scenario, Simulation, Strategies};

/// One scenario: `--strategy` and `--orders`, then the rest of its shape.
#[derive(Args)]
pub struct ScenarioArgs {
    /// Decrement path to test (see `stockrace strategies`); with --scenario
    /// it replaces every order's strategy.
    #[arg(long)]
    pub strategy: Option<String>,
    /// Concurrent orders [default: 2]; with --scenario, this many orders
    /// taken in turn from the file's.
    #[arg(long, allow_negative_numbers = true)]
    pub orders: Option<i64>,
    #[command(flatten)]
    pub shape: ShapeArgs,
}

/// Everything about a scenario but its strategy and number of orders: a
/// scenario file, or `--items` items stocked `--stock` each of which every
/// order buys `--qty`.
#[derive(Args, Clone)]
pub struct ShapeArgs {
    /// A scenario file (TOML; see scenarios/). The shape flags cannot be
    /// combined with it; --strategy, --orders, --isolation, --latency-ms,
    /// --think-ms, --max-steps, --max-virtual-ms, --deadlock-timeout-ms,
    /// --arrival-window-ms, --database and --innodb-snapshot-isolation apply
    /// to it.
    #[arg(long)]
    pub scenario: Option<PathBuf>,
    /// Initial stocked_quantity of each item [default: 1].
    #[arg(long, allow_negative_numbers = true, conflicts_with = "scenario")]
    stock: Option<i64>,
    /// Units of each item each order buys [default: 1].
    #[arg(long, allow_negative_numbers = true, conflicts_with = "scenario")]
    qty: Option<i64>,
    /// Items every order buys; with 2 or more, every second order lists them
    /// in reverse [default: 1].
    #[arg(long, allow_negative_numbers = true, conflicts_with = "scenario")]
    items: Option<i64>,
    /// App processes; orders are spread over them round-robin [default: 1].
    #[arg(long, allow_negative_numbers = true, conflicts_with = "scenario")]
    nodes: Option<i64>,
    /// Row locking order of multi-item orders: listed or sorted [default: listed].
    #[arg(long, conflicts_with = "scenario")]
    lock_order: Option<String>,
    /// read-committed, repeatable-read or serializable [default:
    /// read-committed, or as the scenario file says].
    #[arg(long)]
    isolation: Option<String>,
    /// Virtual round trip of every statement, ms [default: as the scenario
    /// file says, else 0; compare: 1 unless the file sets more].
    #[arg(long)]
    latency_ms: Option<u64>,
    /// Virtual application time before each statement of an order but its
    /// first, ms [default: 0, or as the scenario file says].
    #[arg(long)]
    think_ms: Option<u64>,
    /// Scheduling steps a run may take before it is a termination violation
    /// [default: as the scenario file says, else scaled with the orders and
    /// their lines, at least 10000].
    #[arg(long)]
    max_steps: Option<u32>,
    /// Virtual ms a run may take before it is a termination violation
    /// [default: as the scenario file says, else scaled with the orders,
    /// lines, latencies and deadlock timeout, at least 60000].
    #[arg(long)]
    max_virtual_ms: Option<u64>,
    /// PostgreSQL's deadlock_timeout in virtual ms: how long a lock waiter
    /// waits before it checks for a deadlock [default: 1000, or as the
    /// scenario file says].
    #[arg(long)]
    deadlock_timeout_ms: Option<u64>,
    /// Orders arrive each at an offset within this many virtual ms, chosen
    /// like any other choice [default: as the scenario file says, else 4
    /// statement latencies: 0 without a latency].
    #[arg(long)]
    arrival_window_ms: Option<u64>,
    /// Whose rules the statements follow: postgres-15 or mariadb-10.11
    /// [default: postgres-15, or as the scenario file says].
    #[arg(long)]
    database: Option<String>,
    /// MariaDB's innodb_snapshot_isolation (off in 10.11, on from 11.6.2):
    /// a REPEATABLE READ write to a row changed since the read view fails
    /// with 1020 [default: off, or as the scenario file says].
    #[arg(long)]
    innodb_snapshot_isolation: bool,
    /// App node crashes the scheduler may inject in a run, each a choice
    /// like any other [default: 0, or as the scenario's [faults] says].
    #[arg(long)]
    crashes: Option<u32>,
    /// Lost replies the scheduler may inject in a run: a statement runs but
    /// the order sees 08006 [default: 0, or as the scenario's [faults] says].
    #[arg(long)]
    lost_replies: Option<u32>,
    /// App node pauses the scheduler may inject in a run (a GC pause, a VM
    /// stall of --pause-ms) [default: 0, or as the scenario's [faults] says].
    #[arg(long)]
    pauses: Option<u32>,
    /// How long a pause lasts, in virtual ms [default: 250, or as the
    /// scenario's [faults] says].
    #[arg(long)]
    pause_ms: Option<u64>,
    /// A crashed app node restarts at once and runs the recovery of each
    /// order it was running (strategies that have one: `strategies` says)
    /// [default: off, or as the scenario's [faults] says].
    #[arg(long)]
    restart: bool,
    /// The TTL of a lease from the lease-lock service, in virtual ms
    /// [default: 100, or as the scenario file says].
    #[arg(long)]
    lease_ttl_ms: Option<u64>,
}

impl ScenarioArgs {
    pub fn simulation(&self) -> Result<Simulation, Bad> {
        let scenario =
            self.shape
                .scenario(self.strategy.as_deref(), self.orders, Latency::default())?;
        simulation(scenario)
    }

    /// Whether any scenario flag was given.
    pub fn any(&self) -> bool {
        let s = &self.shape;
        self.strategy.is_some()
            || self.orders.is_some()
            || s.scenario.is_some()
            || s.stock.is_some()
            || s.qty.is_some()
            || s.items.is_some()
            || s.nodes.is_some()
            || s.lock_order.is_some()
            || s.isolation.is_some()
            || s.latency_ms.is_some()
            || s.think_ms.is_some()
            || s.max_steps.is_some()
            || s.max_virtual_ms.is_some()
            || s.deadlock_timeout_ms.is_some()
            || s.arrival_window_ms.is_some()
            || s.database.is_some()
            || s.innodb_snapshot_isolation
            || s.crashes.is_some()
            || s.lost_replies.is_some()
            || s.pauses.is_some()
            || s.pause_ms.is_some()
            || s.restart
            || s.lease_ttl_ms.is_some()
    }

    /// `scenario file: PATH`, when the scenario came from a file.
    pub fn source(&self) -> Option<String> {
        let path = self.shape.scenario.as_ref()?;
        Some(format!("scenario file: {}", path.display()))
    }

    /// The flags that reproduce `scenario` (this one's) on the command line.
    pub fn flags(&self, scenario: &Scenario) -> Result<String, Bad> {
        self.shape
            .flags(self.strategy.as_deref(), self.orders, scenario)
    }
}

/// Resolves the strategies of `scenario` in the built-in registry.
pub fn simulation(scenario: Scenario) -> Result<Simulation, Bad> {
    Simulation::new(scenario, &Strategies::builtin()).map_err(|e| Bad(e.to_string()))
}

impl ShapeArgs {
    /// The scenario with `strategy` for every order (None: as the file says)
    /// and `orders` orders; `latency` when neither flags nor file set one
    /// (a file's statement latency of 0 counts as not set).
    pub fn scenario(
        &self,
        strategy: Option<&str>,
        orders: Option<i64>,
        latency: Latency,
    ) -> Result<Scenario, Bad> {
        let registry = Strategies::builtin();
        if let Some(name) = strategy.filter(|n| registry.get(n).is_none()) {
            let known: Vec<&str> = registry.names().collect();
            return Err(Bad(format!(
                "unknown strategy {name:?}; known: {}",
                known.join(", ")
            )));
        }
        let orders = match orders {
            None => None,
            Some(n) if n < 1 => {
                return Err(Bad(format!(
                    "--orders {n}: a scenario needs at least one order"
                )))
            }
            Some(n) if n > MAX_ORDERS as i64 => {
                return Err(Bad(format!(
                    "--orders {n}: at most {MAX_ORDERS} are supported"
                )))
            }
            Some(n) => Some(n as usize),
        };
        let isolation = self
            .isolation
            .as_deref()
            .map(|name| {
                Isolation::from_name(name).ok_or_else(|| {
                    Bad(format!("--isolation {name:?}: expected read-committed, repeatable-read or serializable"))
                })
            })
            .transpose()?;
        let base = match &self.scenario {
            Some(path) => {
                let mut file = Scenario::load(path, |name| {
                    registry.get(name).is_some() || strategy.is_some()
                })
                .map_err(|e| Bad(e.to_string()))?;
                if file.latency.statement_ms == 0 {
                    file.latency.statement_ms = latency.statement_ms;
                }
                file
            }
            None => {
                let strategy = strategy.ok_or_else(|| {
                    Bad(
                        "--strategy is required (or give a scenario file or a regression file)"
                            .into(),
                    )
                })?;
                let mut scenario = self.shape(strategy, orders.unwrap_or(2))?.scenario();
                scenario.latency = latency;
                scenario
            }
        };
        let scenario = Overrides {
            strategy: strategy.map(str::to_string),
            orders: orders.filter(|_| self.scenario.is_some()),
            isolation: isolation.into_iter().collect(),
            statement_ms: self.latency_ms,
            think_ms: self.think_ms,
            max_steps: self.max_steps,
            max_virtual_ms: self.max_virtual_ms,
            deadlock_timeout_ms: self.deadlock_timeout_ms,
            arrival_window_ms: self.arrival_window_ms,
            database: self.database()?,
            innodb_snapshot_isolation: self.innodb_snapshot_isolation.then_some(true),
            crashes: self.crashes,
            lost_replies: self.lost_replies,
            pauses: self.pauses,
            pause_ms: self.pause_ms,
            restart: self.restart.then_some(true),
            lease_ttl_ms: self.lease_ttl_ms,
        }
        .apply(&base);
        // Overrides are checked like the file: one message, naming the flag.
        let from_file = self.scenario.is_some();
        scenario
            .validate(|name| registry.get(name).is_some())
            .and_then(|()| {
                scenario.validate_strategies_run(|name, database| registry.refusal(name, database))
            })
            .map_err(|e| {
                let field = e.field.as_str();
                let flag = match Overrides::setting_of(field) {
                    Some(setting) => setting.flag(),
                    _ if from_file => "the scenario",
                    _ if field.starts_with("levels[") => "--stock",
                    _ if field.ends_with(".quantity") => "--qty",
                    _ => "the scenario",
                };
                Bad(format!("{flag}: {e}"))
            })?;
        Ok(scenario)
    }

    /// These flags with `--database` and `--isolation` set (where given),
    /// as `compare --databases` and `--isolations` run them.
    pub fn with(&self, database: Option<Database>, isolation: Option<Isolation>) -> ShapeArgs {
        let mut shape = self.clone();
        if let Some(database) = database {
            shape.database = Some(database.name().to_string());
        }
        if let Some(isolation) = isolation {
            shape.isolation = Some(isolation.name().to_string());
        }
        shape
    }

    /// The database the scenario runs on: `--database`, else the scenario
    /// file's, else the default.
    pub fn database_of_scenario(&self) -> Result<Database, Bad> {
        if let Some(database) = self.database()? {
            return Ok(database);
        }
        Ok(match &self.scenario {
            Some(path) => {
                Scenario::load(path, |_| true)
                    .map_err(|e| Bad(e.to_string()))?
                    .database
            }
            None => Database::default(),
        })
    }

    /// These flags with a fault budget of one crash, one lost reply and one
    /// pause per run where `--crashes`, `--lost-replies` and `--pauses` give
    /// none (`compare --faults`).
    pub fn with_default_faults(&self) -> ShapeArgs {
        let mut shape = self.clone();
        shape.crashes = shape.crashes.or(Some(1));
        shape.lost_replies = shape.lost_replies.or(Some(1));
        shape.pauses = shape.pauses.or(Some(1));
        shape
    }

    /// `--database`, if given.
    fn database(&self) -> Result<Option<Database>, Bad> {
        self.database
            .as_deref()
            .map(|name| {
                Database::from_name(name).ok_or_else(|| {
                    Bad(format!(
                        "--database {name:?}: expected one of {}",
                        Database::names()
                    ))
                })
            })
            .transpose()
    }

    fn shape(&self, strategy: &str, orders: usize) -> Result<Shape, Bad> {
        let positive = |flag: &str, value: Option<i64>, what: &str| match value {
            None => Ok(1),
            Some(v) if v < 1 => Err(Bad(format!("--{flag} {v}: {what}"))),
            Some(v) => Ok(v),
        };
        let stock = self.stock.unwrap_or(1);
        if stock < 0 {
            return Err(Bad(format!("--stock {stock}: stock cannot be negative")));
        }
        let lock_order = match self.lock_order.as_deref() {
            None => LockOrder::Listed,
            Some(name) => LockOrder::from_name(name)
                .ok_or_else(|| Bad(format!("--lock-order {name:?}: expected listed or sorted")))?,
        };
        let nodes = positive("nodes", self.nodes, "orders need at least one app node")?;
        Ok(Shape {
            strategy: strategy.to_string(),
            orders,
            items: positive("items", self.items, "orders must buy at least one item")? as usize,
            stock,
            quantity: positive("qty", self.qty, "each order must buy at least 1 unit")?,
            isolation: Isolation::ReadCommitted,
            nodes: u32::try_from(nodes).map_err(|_| Bad(format!("--nodes {nodes}: too many")))?,
            lock_order,
        })
    }

    /// The flags that give `scenario` (what [`ShapeArgs::scenario`] built
    /// from `strategy` and `orders`) to `replay`.
    pub fn flags(
        &self,
        strategy: Option<&str>,
        orders: Option<i64>,
        scenario: &Scenario,
    ) -> Result<String, Bad> {
        let mut flags = Vec::new();
        // Quoted for a shell where needed (a path with a space, say), so the
        // printed command runs as it reads.
        // A value that starts with a dash is joined to its flag (`--scenario=-x.toml`),
        // or it would read as a flag itself.
        let mut flag = |name: &str, value: String| {
            let quoted = shlex::try_quote(&value).map_or(value.clone(), |v| v.into_owned());
            let separator = if value.starts_with('-') { "=" } else { " " };
            flags.push(format!("--{name}{separator}{quoted}"))
        };
        // What replay would use without a latency flag.
        let baseline = match &self.scenario {
            Some(path) => {
                flag("scenario", path.display().to_string());
                let file = Scenario::load(path, |_| true).map_err(|e| Bad(e.to_string()))?;
                file.latency
            }
            None => Latency::default(),
        };
        if let Some(name) = strategy {
            flag("strategy", name.to_string());
        }
        if self.scenario.is_none() || orders.is_some() {
            flag("orders", scenario.orders.len().to_string());
        }
        if self.scenario.is_none() {
            let shape = self.shape(strategy.unwrap_or(""), scenario.orders.len())?;
            flag("stock", shape.stock.to_string());
            flag("qty", shape.quantity.to_string());
            flag("items", shape.items.to_string());
            flag("nodes", shape.nodes.to_string());
            flag("lock-order", shape.lock_order.name().to_string());
        }
        if let Some(isolation) = &self.isolation {
            flag("isolation", isolation.clone());
        } else if self.scenario.is_none() {
            flag("isolation", Isolation::ReadCommitted.name().to_string());
        }
        if scenario.latency.statement_ms != baseline.statement_ms {
            flag("latency-ms", scenario.latency.statement_ms.to_string());
        }
        if scenario.latency.think_ms != baseline.think_ms {
            flag("think-ms", scenario.latency.think_ms.to_string());
        }
        if let Some(database) = &self.database {
            flag("database", database.clone());
        }
        for (name, value) in [
            ("crashes", self.crashes.map(u64::from)),
            ("lost-replies", self.lost_replies.map(u64::from)),
            ("pauses", self.pauses.map(u64::from)),
            ("pause-ms", self.pause_ms),
            ("lease-ttl-ms", self.lease_ttl_ms),
            ("max-steps", self.max_steps.map(u64::from)),
            ("max-virtual-ms", self.max_virtual_ms),
            ("deadlock-timeout-ms", self.deadlock_timeout_ms),
            ("arrival-window-ms", self.arrival_window_ms),
        ] {
            if let Some(value) = value {
                flag(name, value.to_string());
            }
        }
        if self.innodb_snapshot_isolation {
            flags.push("--innodb-snapshot-isolation".to_string());
        }
        if self.restart {
            flags.push("--restart".to_string());
        }
        Ok(flags.join(" "))
    }
}
