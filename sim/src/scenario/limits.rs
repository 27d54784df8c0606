//! The bounds of a run that follow from its scenario: default budgets that
//! grow with the work the orders can do, and the arrival window.

use super::{Budget, Scenario};
use crate::strategies::MAX_ATTEMPTS;

/// The step budget of a small scenario (and the least any default gets).
pub const DEFAULT_MAX_STEPS: u32 = 10_000;
/// The virtual-time budget of a small scenario (and the least any default gets).
pub const DEFAULT_MAX_VIRTUAL_MS: u64 = 60_000;
/// The longest virtual time any setting may name (about 11.6 days): timers
/// add such values to the clock, and figures sum run times over millions of
/// runs, all in u64, so bounding each keeps every sum far from overflow.
pub const MAX_MS: u64 = 1_000_000_000;
/// Without `[arrivals] window_ms`, orders arrive within this many statement
/// latencies (so no window without a latency).
pub const ARRIVAL_WINDOW_LATENCIES: u64 = 4;
/// Most distinct arrival offsets a window offers: a wider window is cut into
/// this many equal parts, so a choice has at most this many + 1 options.
pub const ARRIVAL_OFFSETS: u64 = 64;

impl Scenario {
    /// The step budget: `budget.max_steps`, or else one that grows with the
    /// orders and their lines:
    ///
    /// ```text
    /// Σ over orders  MAX_ATTEMPTS × (4 × (3 + 3 × lines) + 1)
    /// ```
    ///
    /// An attempt sends at most about 3 + 3 × lines statements (BEGIN, a
    /// read, a write and a lock or insert per line, COMMIT or ROLLBACK, the
    /// ROLLBACK of the closing connection); each is one step, plus at most
    /// three clock advances it causes (its round trip, the think time before
    /// it, the deadline of a lock wait it begins); plus one for the backoff
    /// sleep before the next attempt. A built-in strategy makes at most
    /// [`MAX_ATTEMPTS`] attempts. Never below [`DEFAULT_MAX_STEPS`], so small
    /// scenarios (and every kept regression file) keep their budget.
    pub fn max_steps(&self) -> u32 {
        if let Some(steps) = self.budget.max_steps {
            return steps;
        }
        let per_attempt = |lines: u64| 4 * (3 + 3 * lines) + 1;
        let work: u64 = self.order_lines().map(|(count, lines)| count.saturating_mul(u64::from(MAX_ATTEMPTS) * per_attempt(lines))).fold(0, u64::saturating_add);
        work.clamp(u64::from(DEFAULT_MAX_STEPS), u64::from(u32::MAX)) as u32
    }

    /// The virtual-time budget: `budget.max_virtual_ms`, or else the time the
    /// orders need if each waits for all the ones before it (a convoy on one
    /// row, the worst a safe strategy does) plus the arrival window:
    ///
    /// ```text
    /// window + Σ over orders  MAX_ATTEMPTS × ((3 + 3 × lines) × (2 × statement_ms + think_ms)
    ///                                         + lines × deadlock_timeout_ms + 1024)
    /// ```
    ///
    /// Per attempt: every statement's round trip (the database runs it up to
    /// a latency after it was sent, and the reply takes another) and think
    /// time; each line's lock wait until its deadlock check (a cycle is
    /// broken there; a wait behind a live holder ends sooner); a backoff of
    /// at most 1024 ms. Never below [`DEFAULT_MAX_VIRTUAL_MS`], never above
    /// [`MAX_MS`].
    pub fn max_virtual_ms(&self) -> u64 {
        if let Some(ms) = self.budget.max_virtual_ms {
            return ms;
        }
        let statement = 2 * self.latency.statement_ms + self.latency.think_ms;
        let per_attempt = |lines: u64| {
            (3 + 3 * lines)
                .saturating_mul(statement)
                .saturating_add(lines.saturating_mul(self.deadlock_timeout_ms))
                .saturating_add(1024)
        };
        let work = self
            .order_lines()
            .map(|(count, lines)| count.saturating_mul(per_attempt(lines).saturating_mul(u64::from(MAX_ATTEMPTS))))
            .fold(self.arrival_window_ms(), u64::saturating_add);
        work.clamp(DEFAULT_MAX_VIRTUAL_MS, MAX_MS.max(DEFAULT_MAX_VIRTUAL_MS))
    }

    /// The window within which orders arrive: `arrivals.window_ms`, or
    /// [`ARRIVAL_WINDOW_LATENCIES`] statement latencies (0 without one, so
    /// that scenarios without latency run as they always did).
    pub fn arrival_window_ms(&self) -> u64 {
        self.arrivals
            .window_ms
            .unwrap_or(ARRIVAL_WINDOW_LATENCIES.saturating_mul(self.latency.statement_ms))
    }

    /// The offsets an order may arrive at: every millisecond of the window,
    /// or, for a window wider than [`ARRIVAL_OFFSETS`] ms, that many equal
    /// steps across it (both ends included).
    pub fn arrival_offsets(&self) -> impl Iterator<Item = u64> {
        let window = self.arrival_window_ms();
        let parts = window.min(ARRIVAL_OFFSETS);
        (0..=parts).map(move |k| if parts == 0 { 0 } else { window / parts * k + window % parts * k / parts })
    }

    /// This scenario with both budgets written out (what it would get
    /// unset), so that a run, and a regression file made from it, says what
    /// bounded it.
    pub fn with_budget_resolved(mut self) -> Scenario {
        self.budget = Budget {
            max_steps: Some(self.max_steps()),
            max_virtual_ms: Some(self.max_virtual_ms()),
        };
        self
    }

    /// (how many orders, lines each) per order spec and generator.
    fn order_lines(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        let listed = self.orders.iter().map(|o| (u64::from(o.count), o.lines.len() as u64));
        let generated = self.generate.iter().map(|g| (u64::from(g.count), g.levels.len() as u64));
        listed.chain(generated)
    }
}
