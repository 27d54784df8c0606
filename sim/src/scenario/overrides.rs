//! Settings laid over a scenario, whether it came from a file or a
//! [`Shape`](super::Shape): what the command line's `--strategy`,
//! `--orders`, `--isolation`, `--latency-ms` ... flags do to `--scenario`,
//! and what a [`crate::Builder`]'s settings do to its scenario.

use super::Scenario;
use stockrace_model::{Database, Isolation};

/// Each `Some` replaces what the scenario says; `None` leaves it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Overrides {
    /// Every order's strategy.
    pub strategy: Option<String>,
    /// This many orders, taken in turn from the scenario's (expanded) orders.
    pub orders: Option<usize>,
    /// Order i runs at `isolation[i % len]` (empty: as the scenario says).
    pub isolation: Vec<Isolation>,
    pub statement_ms: Option<u64>,
    pub think_ms: Option<u64>,
    pub max_steps: Option<u32>,
    pub max_virtual_ms: Option<u64>,
    pub deadlock_timeout_ms: Option<u64>,
    pub arrival_window_ms: Option<u64>,
    pub database: Option<Database>,
    pub innodb_snapshot_isolation: Option<bool>,
    pub crashes: Option<u32>,
    pub lost_replies: Option<u32>,
    pub pauses: Option<u32>,
    pub pause_ms: Option<u64>,
    pub restart: Option<bool>,
    pub lease_ttl_ms: Option<u64>,
}

impl Overrides {
    /// `scenario` expanded (every `count` and generator spelled out) with
    /// these settings laid over it. Not validated: the caller validates, and
    /// names the setting at fault its own way.
    pub fn apply(&self, scenario: &Scenario) -> Scenario {
        let mut scenario = match self.orders {
            Some(n) => scenario.with_order_count(n),
            None => scenario.expanded(),
        };
        for (i, order) in scenario.orders.iter_mut().enumerate() {
            if let Some(name) = &self.strategy {
                order.strategy = name.clone();
            }
            if !self.isolation.is_empty() {
                order.isolation = self.isolation[i % self.isolation.len()];
            }
        }
        if let Some(ms) = self.statement_ms {
            scenario.latency.statement_ms = ms;
        }
        if let Some(ms) = self.think_ms {
            scenario.latency.think_ms = ms;
        }
        if let Some(steps) = self.max_steps {
            scenario.budget.max_steps = Some(steps);
        }
        if let Some(ms) = self.max_virtual_ms {
            scenario.budget.max_virtual_ms = Some(ms);
        }
        if let Some(ms) = self.deadlock_timeout_ms {
            scenario.deadlock_timeout_ms = ms;
        }
        if let Some(ms) = self.arrival_window_ms {
            scenario.arrivals.window_ms = Some(ms);
        }
        if let Some(database) = self.database {
            scenario.database = database;
        }
        if let Some(on) = self.innodb_snapshot_isolation {
            scenario.innodb_snapshot_isolation = on;
        }
        if let Some(n) = self.crashes {
            scenario.faults.crashes = n;
        }
        if let Some(n) = self.lost_replies {
            scenario.faults.lost_replies = n;
        }
        if let Some(n) = self.pauses {
            scenario.faults.pauses = n;
        }
        if let Some(ms) = self.pause_ms {
            scenario.faults.pause_ms = ms;
        }
        if let Some(on) = self.restart {
            scenario.faults.restart = on;
        }
        if let Some(ms) = self.lease_ttl_ms {
            scenario.lease_ttl_ms = ms;
        }
        scenario
    }

    /// The override that names `field` of a scenario (as
    /// [`Scenario::validate`] names it), for a message: `"latency.think_ms"`
    /// is the think time's.
    pub fn setting_of(field: &str) -> Option<Setting> {
        Some(match field {
            "latency.statement_ms" => Setting::StatementMs,
            "latency.think_ms" => Setting::ThinkMs,
            "budget.max_steps" => Setting::MaxSteps,
            "budget.max_virtual_ms" => Setting::MaxVirtualMs,
            "deadlock_timeout_ms" => Setting::DeadlockTimeoutMs,
            "arrivals.window_ms" => Setting::ArrivalWindowMs,
            "innodb_snapshot_isolation" => Setting::InnoDbSnapshotIsolation,
            "faults.pause_ms" => Setting::PauseMs,
            "lease_ttl_ms" => Setting::LeaseTtlMs,
            _ => return None,
        })
    }
}

/// An override that a scenario's validation can fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Setting {
    StatementMs,
    ThinkMs,
    MaxSteps,
    MaxVirtualMs,
    DeadlockTimeoutMs,
    ArrivalWindowMs,
    InnoDbSnapshotIsolation,
    PauseMs,
    LeaseTtlMs,
}

impl Setting {
    /// The command line's flag.
    pub fn flag(self) -> &'static str {
        match self {
            Setting::StatementMs => "--latency-ms",
            Setting::ThinkMs => "--think-ms",
            Setting::MaxSteps => "--max-steps",
            Setting::MaxVirtualMs => "--max-virtual-ms",
            Setting::DeadlockTimeoutMs => "--deadlock-timeout-ms",
            Setting::ArrivalWindowMs => "--arrival-window-ms",
            Setting::InnoDbSnapshotIsolation => "--innodb-snapshot-isolation",
            Setting::PauseMs => "--pause-ms",
            Setting::LeaseTtlMs => "--lease-ttl-ms",
        }
    }

    /// The [`crate::Builder`]'s method.
    pub fn method(self) -> &'static str {
        match self {
            Setting::StatementMs => ".latency_ms()",
            Setting::ThinkMs => ".think_ms()",
            Setting::MaxSteps => ".max_steps()",
            Setting::MaxVirtualMs => ".max_virtual_ms()",
            Setting::DeadlockTimeoutMs => ".deadlock_timeout_ms()",
            Setting::ArrivalWindowMs => ".arrival_window_ms()",
            Setting::InnoDbSnapshotIsolation => ".innodb_snapshot_isolation()",
            Setting::PauseMs => ".pause_ms()",
            Setting::LeaseTtlMs => ".lease_ttl_ms()",
        }
    }
}
