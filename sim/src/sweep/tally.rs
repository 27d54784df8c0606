//! What a sweep counts: safety (violations per invariant, the lowest failing
//! seeds) and cost (outcomes, retries, errors, lock waits, latency). A tally
//! merges with another, in any grouping, into exactly the tally of all
//! their runs together: that is what lets jobs, shards and `stockrace merge`
//! give the same result as one long sweep.

use crate::execution::{Execution, Outcome};
use crate::invariants::Invariant;
use crate::trace::{Fault, TraceEvent};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use stockrace_model::SqlState;

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// How many of the lowest failing seeds a tally keeps.
pub const FAILING_SEEDS_KEPT: usize = 10;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    pub runs: u64,
    /// Runs that broke an invariant.
    pub violations: u64,
    pub by_invariant: BTreeMap<Invariant, u64>,
    /// The lowest failing seeds, ascending (at most [`FAILING_SEEDS_KEPT`]).
    pub failing_seeds: Vec<u64>,
    /// Orders run, over all runs, and how they ended.
    pub orders: u64,
    pub sold: u64,
    pub out_of_stock: u64,
    /// Gave up after its retries, or returned an error.
    pub failed: u64,
    /// Still running when the run stopped (a budget ran out, or a hang).
    pub unfinished: u64,
    /// Stopped by a crash of their app node.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub crashed: u64,
    /// Faults injected: app node crashes, lost replies and pauses.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub crashes: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub lost_replies: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub pauses: u64,
    /// Transactions begun again by orders.
    pub retries: u64,
    /// Statements that failed with a serialization failure (PostgreSQL's
    /// 40001; MariaDB's 1020). Named for PostgreSQL's code, as reports were.
    pub errors_40001: u64,
    /// Statements that failed as a deadlock's victim (PostgreSQL's 40P01;
    /// MariaDB's 1213).
    pub errors_40p01: u64,
    /// Virtual milliseconds orders spent waiting for locks.
    pub lock_wait_ms: u64,
    /// Virtual milliseconds the runs took, end to end, summed.
    pub virtual_ms: u64,
    /// Each ended order's latency: virtual ms from the start of its run
    /// (when every order starts) to its end.
    pub latency_ms: Histogram,
}

impl Tally {
    /// Counts one run.
    pub fn add(&mut self, execution: &Execution) {
        let seed = execution.seed.expect("a sweep run is seeded");
        self.runs += 1;
        if let Some(violation) = execution.verdict.violation() {
            self.violations += 1;
            *self.by_invariant.entry(violation.invariant).or_default() += 1;
            if self.failing_seeds.len() < FAILING_SEEDS_KEPT {
                // Seeds arrive in ascending order within one tally.
                self.failing_seeds.push(seed);
            }
        }
        self.orders += execution.outcomes.len() as u64;
        for outcome in &execution.outcomes {
            match outcome {
                Outcome::Sold => self.sold += 1,
                Outcome::OutOfStock => self.out_of_stock += 1,
                Outcome::GaveUp | Outcome::Failed(_) | Outcome::Panicked(_) => self.failed += 1,
                Outcome::Unfinished => self.unfinished += 1,
                Outcome::Crashed => self.crashed += 1,
            }
        }
        self.retries += execution
            .retries()
            .iter()
            .map(|&r| u64::from(r))
            .sum::<u64>();
        for event in &execution.trace {
            match event {
                TraceEvent::Fault {
                    fault: Fault::Crash { .. },
                    ..
                } => self.crashes += 1,
                TraceEvent::Fault {
                    fault: Fault::LostReply,
                    ..
                } => self.lost_replies += 1,
                TraceEvent::Fault {
                    fault: Fault::Pause { .. },
                    ..
                } => self.pauses += 1,
                _ => {}
            }
        }
        self.errors_40001 += execution.errors_where(SqlState::is_serialization_failure) as u64;
        self.errors_40p01 += execution.errors_where(SqlState::is_deadlock) as u64;
        self.lock_wait_ms += execution.lock_wait_ms().iter().sum::<u64>();
        self.virtual_ms += execution.duration_ms();
        for end in execution.end_times_ms().into_iter().flatten() {
            self.latency_ms.add(end);
        }
    }

    /// Adds another tally's runs to this one.
    pub fn merge(&mut self, other: &Tally) {
        self.runs += other.runs;
        self.violations += other.violations;
        for (invariant, n) in &other.by_invariant {
            *self.by_invariant.entry(*invariant).or_default() += n;
        }
        self.failing_seeds.extend(&other.failing_seeds);
        self.failing_seeds.sort_unstable();
        self.failing_seeds.truncate(FAILING_SEEDS_KEPT);
        self.orders += other.orders;
        self.sold += other.sold;
        self.out_of_stock += other.out_of_stock;
        self.failed += other.failed;
        self.unfinished += other.unfinished;
        self.crashed += other.crashed;
        self.crashes += other.crashes;
        self.lost_replies += other.lost_replies;
        self.pauses += other.pauses;
        self.retries += other.retries;
        self.errors_40001 += other.errors_40001;
        self.errors_40p01 += other.errors_40p01;
        self.lock_wait_ms += other.lock_wait_ms;
        self.virtual_ms += other.virtual_ms;
        self.latency_ms.merge(&other.latency_ms);
    }

    /// The figures a user compares, derived from the counts.
    pub fn figures(&self) -> Figures {
        let per_order = |n: u64| ratio(n, self.orders);
        Figures {
            violations_per_10k_runs: ratio(self.violations * 10_000, self.runs),
            by_invariant_per_10k_runs: self
                .by_invariant
                .iter()
                .map(|(i, n)| (*i, ratio(n * 10_000, self.runs).unwrap_or(0.0)))
                .collect(),
            retries_per_order: per_order(self.retries),
            errors_40001_per_order: per_order(self.errors_40001),
            errors_40p01_per_order: per_order(self.errors_40p01),
            lock_wait_ms_per_order: per_order(self.lock_wait_ms),
            latency_p50_ms: self.latency_ms.percentile(50),
            latency_p99_ms: self.latency_ms.percentile(99),
            // Ended orders per second of virtual time; none if no time passed.
            orders_per_virtual_s: ratio(self.latency_ms.count() * 1000, self.virtual_ms),
        }
    }
}

fn ratio(numerator: u64, denominator: u64) -> Option<f64> {
    (denominator > 0).then(|| numerator as f64 / denominator as f64)
}

/// Derived from a [`Tally`]; `None` where the denominator is 0.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Figures {
    pub violations_per_10k_runs: Option<f64>,
    pub by_invariant_per_10k_runs: BTreeMap<Invariant, f64>,
    pub retries_per_order: Option<f64>,
    pub errors_40001_per_order: Option<f64>,
    pub errors_40p01_per_order: Option<f64>,
    pub lock_wait_ms_per_order: Option<f64>,
    pub latency_p50_ms: Option<u64>,
    pub latency_p99_ms: Option<u64>,
    pub orders_per_virtual_s: Option<f64>,
}

/// Counts per whole virtual millisecond: exact percentiles, and merging is
/// adding counts. In JSON: `[[value, count], ...]`, ascending.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "Vec<(u64, u64)>", into = "Vec<(u64, u64)>")]
pub struct Histogram(BTreeMap<u64, u64>);

impl From<Vec<(u64, u64)>> for Histogram {
    fn from(pairs: Vec<(u64, u64)>) -> Histogram {
        let mut histogram = Histogram::default();
        for (value, n) in pairs {
            *histogram.0.entry(value).or_default() += n;
        }
        histogram
    }
}

impl From<Histogram> for Vec<(u64, u64)> {
    fn from(histogram: Histogram) -> Vec<(u64, u64)> {
        histogram.0.into_iter().collect()
    }
}

impl Histogram {
    pub fn add(&mut self, value: u64) {
        *self.0.entry(value).or_default() += 1;
    }

    pub fn merge(&mut self, other: &Histogram) {
        for (value, n) in &other.0 {
            *self.0.entry(*value).or_default() += n;
        }
    }

    pub fn count(&self) -> u64 {
        self.0.values().sum()
    }

    /// The smallest value with at least `p` percent of the values at or
    /// below it (nearest rank); `None` when empty.
    pub fn percentile(&self, p: u64) -> Option<u64> {
        let count = self.count();
        if count == 0 {
            return None;
        }
        let rank = (count * p).div_ceil(100).max(1);
        let mut seen = 0;
        self.0.iter().find_map(|(value, n)| {
            seen += n;
            (seen >= rank).then_some(*value)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let mut h = Histogram::default();
        assert_eq!(h.percentile(50), None);
        for v in 1..=100 {
            h.add(v);
        }
        assert_eq!(h.percentile(50), Some(50));
        assert_eq!(h.percentile(99), Some(99));
        assert_eq!(h.percentile(100), Some(100));
        let mut one = Histogram::default();
        one.add(7);
        assert_eq!(one.percentile(1), Some(7));
        assert_eq!(one.percentile(99), Some(7));
    }

    #[test]
    fn merged_failing_seeds_are_the_lowest_in_order() {
        let mut a = Tally {
            failing_seeds: vec![3, 9, 40],
            ..Tally::default()
        };
        let b = Tally {
            failing_seeds: (0..FAILING_SEEDS_KEPT as u64).map(|s| s * 2).collect(),
            ..Tally::default()
        };
        a.merge(&b);
        assert_eq!(a.failing_seeds, vec![0, 2, 3, 4, 6, 8, 9, 10, 12, 14]);
    }
}
