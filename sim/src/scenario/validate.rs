//! Checking a scenario before anything runs: every number and reference,
//! and the values whose arithmetic could overflow.

use super::{Scenario, ScenarioError, DEFAULT_MAX_VIRTUAL_MS, MAX_MS, MAX_ORDERS};
use stockrace_model::Database;

impl Scenario {
    /// Checks every number and reference; `known_strategy` says whether a
    /// strategy name can be run.
    pub fn validate(&self, known_strategy: impl Fn(&str) -> bool) -> Result<(), ScenarioError> {
        let error = |field: String, reason: String| Err(ScenarioError { field, reason });
        if self.levels.is_empty() {
            return error(
                "levels".into(),
                "a scenario needs at least one inventory level".into(),
            );
        }
        for (i, level) in self.levels.iter().enumerate() {
            if level.stocked < 0 {
                return error(
                    format!("levels[{i}].stocked"),
                    format!("{} is negative; stock starts at 0 or more", level.stocked),
                );
            }
            if level.reserved < 0 {
                return error(
                    format!("levels[{i}].reserved"),
                    format!("{} is negative", level.reserved),
                );
            }
        }
        for (g, generator) in self.generate.iter().enumerate() {
            if generator.count == 0 {
                return error(format!("generate[{g}].count"), "must be at least 1".into());
            }
            if generator.strategies.is_empty() {
                return error(format!("generate[{g}].strategies"), "name at least one strategy".into());
            }
            if let Some((s, name)) = generator.strategies.iter().enumerate().find(|(_, n)| !known_strategy(n)) {
                return error(format!("generate[{g}].strategies[{s}]"), format!("unknown strategy {name:?}"));
            }
            if generator.quantities.is_empty() {
                return error(format!("generate[{g}].quantities"), "give at least one quantity".into());
            }
            if let Some((q, n)) = generator.quantities.iter().enumerate().find(|(_, n)| **n < 1) {
                return error(format!("generate[{g}].quantities[{q}]"), format!("{n} is not a positive quantity"));
            }
            if generator.levels.is_empty() {
                return error(format!("generate[{g}].levels"), "give at least one inventory level id".into());
            }
            if let Some((l, id)) = generator.levels.iter().enumerate().find(|(_, id)| **id == 0 || **id as usize > self.levels.len()) {
                return error(
                    format!("generate[{g}].levels[{l}]"),
                    format!("no inventory level with id {id} (ids run from 1 to {})", self.levels.len()),
                );
            }
        }
        if let Some(o) = self.orders.iter().position(|o| o.count == 0) {
            return error(format!("orders[{o}].count"), "must be at least 1".into());
        }
        let total: u64 = self.orders.iter().map(|o| u64::from(o.count)).sum::<u64>()
            + self.generate.iter().map(|g| u64::from(g.count)).sum::<u64>();
        if total == 0 {
            return error(
                "orders".into(),
                "a scenario needs at least one order (an [[orders]] table or a [[generate]] rule)".into(),
            );
        }
        if total > MAX_ORDERS as u64 {
            return error(
                if self.generate.is_empty() { "orders" } else { "generate" }.into(),
                format!("{total} orders in all; at most {MAX_ORDERS} are supported"),
            );
        }
        for (o, order) in self.orders.iter().enumerate() {
            if !known_strategy(&order.strategy) {
                return error(
                    format!("orders[{o}].strategy"),
                    format!("unknown strategy {:?}", order.strategy),
                );
            }
            if order.lines.is_empty() {
                return error(
                    format!("orders[{o}].lines"),
                    "an order needs at least one line".into(),
                );
            }
            for (l, line) in order.lines.iter().enumerate() {
                if line.level == 0 || line.level as usize > self.levels.len() {
                    return error(
                        format!("orders[{o}].lines[{l}].level"),
                        format!(
                            "no inventory level with id {} (ids run from 1 to {})",
                            line.level,
                            self.levels.len()
                        ),
                    );
                }
                if line.quantity < 1 {
                    return error(
                        format!("orders[{o}].lines[{l}].quantity"),
                        format!("{} is not a positive quantity", line.quantity),
                    );
                }
            }
        }
        if self.nodes == 0 {
            return error("nodes".into(), "a scenario needs at least one app node".into());
        }
        for (o, order) in self.orders.iter().enumerate() {
            if let Some(node) = order.node.filter(|n| *n >= self.nodes) {
                return error(format!("orders[{o}].node"), format!("node {node} does not exist (nodes run from 0 to {})", self.nodes - 1));
            }
        }
        if self.deadlock_timeout_ms == 0 {
            return error("deadlock_timeout_ms".into(), "must be at least 1".into());
        }
        if self.faults.pause_ms == 0 {
            return error("faults.pause_ms".into(), "a pause must last at least 1 ms".into());
        }
        if self.lease_ttl_ms == 0 {
            return error("lease_ttl_ms".into(), "a lease must last at least 1 ms".into());
        }
        self.validate_database_settings()?;
        // A latency longer than the whole run is a typo. Without a budget of
        // its own the run gets at least the default.
        let (budget_field, run_ms) = match self.budget.max_virtual_ms {
            Some(ms) => ("budget.max_virtual_ms", ms),
            None => ("budget.max_virtual_ms, default at least", DEFAULT_MAX_VIRTUAL_MS),
        };
        for (field, ms) in [("latency.statement_ms", self.latency.statement_ms), ("latency.think_ms", self.latency.think_ms)] {
            if ms > run_ms {
                return error(
                    field.into(),
                    format!("{ms} ms is longer than the whole run may take ({budget_field} = {run_ms})"),
                );
            }
        }
        if self.budget.max_steps == Some(0) {
            return error("budget.max_steps".into(), "must be at least 1".into());
        }
        if self.budget.max_virtual_ms == Some(0) {
            return error("budget.max_virtual_ms".into(), "must be at least 1".into());
        }
        self.validate_arithmetic()
    }

    /// Settings only one of the databases has.
    fn validate_database_settings(&self) -> Result<(), ScenarioError> {
        let error = |field: String, reason: String| Err(ScenarioError { field, reason });
        match self.database {
            Database::Postgres15 if self.innodb_snapshot_isolation => error(
                "innodb_snapshot_isolation".into(),
                format!(
                    "is a MariaDB setting; this scenario runs on {} (set database = \"{}\")",
                    self.database,
                    Database::MariaDb1011
                ),
            ),
            Database::MariaDb1011 => match self.orders.iter().position(|o| o.lock_timeout_ms.is_some()) {
                Some(o) => error(
                    format!("orders[{o}].lock_timeout_ms"),
                    format!(
                        "is PostgreSQL's lock_timeout; on {} a lock wait ends after innodb_lock_wait_timeout (50 s) with 1205",
                        self.database
                    ),
                ),
                None => Ok(()),
            },
            Database::Postgres15 => Ok(()),
        }
    }

    /// Every order's strategy can run on the scenario's database:
    /// `refusal(name, database)` says why a strategy cannot, if it cannot.
    pub fn validate_strategies_run(
        &self,
        refusal: impl Fn(&str, Database) -> Option<String>,
    ) -> Result<(), ScenarioError> {
        let orders = self.orders.iter().enumerate().map(|(o, order)| (format!("orders[{o}].strategy"), &order.strategy));
        let generated = self.generate.iter().enumerate().flat_map(|(g, generator)| {
            generator.strategies.iter().enumerate().map(move |(s, name)| (format!("generate[{g}].strategies[{s}]"), name))
        });
        for (field, name) in orders.chain(generated) {
            if let Some(reason) = refusal(name, self.database) {
                return Err(ScenarioError { field, reason });
            }
        }
        Ok(())
    }

    /// Numbers whose arithmetic could overflow: virtual times beyond
    /// [`MAX_MS`] (timers add them to the clock, figures sum them over runs),
    /// reserved above stocked, and units beyond what 64-bit sums can hold.
    fn validate_arithmetic(&self) -> Result<(), ScenarioError> {
        let error = |field: String, reason: String| Err(ScenarioError { field, reason });
        let times = [
            ("deadlock_timeout_ms", Some(self.deadlock_timeout_ms)),
            ("latency.statement_ms", Some(self.latency.statement_ms)),
            ("latency.think_ms", Some(self.latency.think_ms)),
            ("budget.max_virtual_ms", self.budget.max_virtual_ms),
            ("arrivals.window_ms", self.arrivals.window_ms),
            ("faults.pause_ms", Some(self.faults.pause_ms)),
            ("lease_ttl_ms", Some(self.lease_ttl_ms)),
        ];
        let lock_timeouts = self.orders.iter().enumerate().map(|(o, order)| (o, order.lock_timeout_ms));
        let too_long = |ms: u64| format!("{ms} ms is more than the {MAX_MS} ms (about 11 days) of virtual time a run may span");
        for (field, ms) in times {
            if let Some(ms) = ms.filter(|ms| *ms > MAX_MS) {
                return error(field.into(), too_long(ms));
            }
        }
        for (o, ms) in lock_timeouts {
            if let Some(ms) = ms.filter(|ms| *ms > MAX_MS) {
                return error(format!("orders[{o}].lock_timeout_ms"), too_long(ms));
            }
        }
        for (i, level) in self.levels.iter().enumerate() {
            if level.reserved > level.stocked {
                return error(
                    format!("levels[{i}].reserved"),
                    format!(
                        "{} reserved but only {} stocked: reserved cannot exceed stocked (every run would break the reservations invariant)",
                        level.reserved, level.stocked
                    ),
                );
            }
        }
        // Every unit any order could sell of a level, on top of what it holds,
        // must fit in an i64: sales are summed, and stock moves by them.
        let mut demand = vec![0i128; self.levels.len()];
        let mut largest: Vec<Option<(String, i64)>> = vec![None; self.levels.len()];
        let mut note = |level: u32, quantity: i64, count: u32, field: String| {
            if let Some(i) = (level as usize).checked_sub(1).filter(|i| *i < demand.len()) {
                demand[i] += i128::from(quantity) * i128::from(count);
                if largest[i].as_ref().map_or(true, |(_, q)| quantity > *q) {
                    largest[i] = Some((field, quantity));
                }
            }
        };
        for (o, order) in self.orders.iter().enumerate() {
            for (l, line) in order.lines.iter().enumerate() {
                note(line.level, line.quantity, order.count, format!("orders[{o}].lines[{l}].quantity"));
            }
        }
        for (g, generator) in self.generate.iter().enumerate() {
            let quantity = generator.quantities.iter().copied().max().unwrap_or(0);
            let q = generator.quantities.iter().position(|x| *x == quantity).unwrap_or(0);
            for &level in &generator.levels {
                note(level, quantity, generator.count, format!("generate[{g}].quantities[{q}]"));
            }
        }
        for (i, level) in self.levels.iter().enumerate() {
            let held = i128::from(level.stocked) + i128::from(level.reserved);
            if held + demand[i] > i128::from(i64::MAX) {
                let (field, what) = match &largest[i] {
                    Some((field, quantity)) if i128::from(*quantity) * 2 > held => {
                        (field.clone(), format!("{quantity} units per order"))
                    }
                    _ => (format!("levels[{i}].stocked"), format!("{} units stocked", level.stocked)),
                };
                return error(
                    field,
                    format!(
                        "{what} is too many: id={} holds {held} units and its orders may sell {} more, which overflows 64-bit arithmetic (the total may be at most {})",
                        i + 1,
                        demand[i],
                        i64::MAX
                    ),
                );
            }
        }
        Ok(())
    }
}

/// The line of a field path such as `orders[2].lines[0].quantity` in a
/// scenario file's text: the n-th `[[orders]]` table (or `orders` key), then
/// within it the next segment, and so on. Best effort: `None` if not found.
pub(crate) fn locate(text: &str, field: &str) -> Option<usize> {
    let lines: Vec<&str> = text.lines().collect();
    let mut from = 0;
    let mut found = None;
    let mut prefix = String::new();
    for segment in field.split('.') {
        let (name, index) = match segment.split_once('[') {
            Some((name, rest)) => (name, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (segment, None),
        };
        let table = if prefix.is_empty() { name.to_string() } else { format!("{prefix}.{name}") };
        let header = format!("[[{table}]]");
        let single = format!("[{table}]");
        let key = |l: &str| {
            let l = l.trim_start();
            l.starts_with(name) && l[name.len()..].trim_start().starts_with('=')
        };
        let mut hits = (from..lines.len())
            .filter(|&i| lines[i].trim() == header || lines[i].trim() == single || key(lines[i]));
        let hit = match index {
            Some(n) if lines.iter().skip(from).any(|l| l.trim() == header) => {
                (from..lines.len()).filter(|&i| lines[i].trim() == header).nth(n)
            }
            _ => hits.next(),
        };
        match hit {
            Some(i) => {
                found = Some(i + 1);
                from = i;
            }
            None => break,
        }
        prefix = table;
    }
    found
}
