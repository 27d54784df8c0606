//! Shrinking a failing schedule to the smallest story of the same failure:
//! fewest orders involved (orders that ran a statement before the
//! violation), then fewest preemptions, then fewest passes of time, then
//! the shortest schedule. The same invariant must still break.
//!
//! Candidates are written in a preemption encoding: at each choice point, 0
//! means "keep running the actor that moved last" (or the first option when
//! it cannot), and j > 0 "switch to the j-th other option". Non-zero entries
//! are preemptions, trailing zeros can be dropped, and an order can be left
//! out by "avoiding" it: it runs only when nothing else can. Passes, until
//! none helps: leave out each order; zero chunks (halves, quarters, ... single
//! entries); lower each entry. A candidate is kept only if it fails the same
//! way and is smaller. Greedy passes can stall where no single change keeps
//! the failure, so when preemptions remain, the preemption-bounded search
//! of [`super::dfs`] looks for the same failure with fewer, and what it
//! finds is shrunk in turn.

use super::dfs::{Dfs, Reductions};
use super::independence::AbortRules;
use crate::chooser::{Actor, Choice, Chooser, ReplayChooser};
use crate::execution::Execution;
use crate::invariants::Invariant;
use crate::simulation::Simulation;
use crate::trace::TraceEvent;

/// Candidate runs tried at most.
const BUDGET: usize = 3_000;

/// How big a failing run's story is.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(deny_unknown_fields)]
pub struct Size {
    /// Orders that ran a statement before the violation.
    pub orders: usize,
    /// Switches away from the actor that moved last while it could go on.
    pub preemptions: usize,
    /// Times virtual time was let pass before the violation.
    #[serde(skip)]
    pub time_passes: usize,
    /// Choices in the schedule.
    pub steps: usize,
}

pub struct Shrunk {
    /// The smallest failing schedule found (indices, as any schedule).
    pub schedule: Vec<u32>,
    pub execution: Execution,
    pub original: Size,
    pub minimal: Size,
    /// Candidate runs tried.
    pub tried: usize,
}

/// The option to take when nothing says otherwise: the actor that moved
/// last, else the first option not avoided.
fn default(options: &[Choice], last: Option<Actor>, avoid: &[Actor]) -> usize {
    last.and_then(|l| {
        options
            .iter()
            .position(|o| o.actor == l && !avoid.contains(&o.actor))
    })
    .or_else(|| options.iter().position(|o| !avoid.contains(&o.actor)))
    .unwrap_or(0)
}

/// Follows a raw schedule and writes it in the preemption encoding.
struct Encode {
    replay: ReplayChooser,
    last: Option<Actor>,
    plan: Vec<u32>,
}

impl Chooser for Encode {
    fn choose(&mut self, options: &[Choice]) -> usize {
        let pick = self.replay.choose(options);
        let d = default(options, self.last, &[]);
        let others: Vec<usize> = (0..options.len()).filter(|&i| i != d).collect();
        self.plan.push(if pick == d {
            0
        } else {
            1 + others.iter().position(|&i| i == pick).unwrap_or(0) as u32
        });
        pick
    }
    fn observe(&mut self, taken: &Choice) {
        self.last = Some(taken.actor);
    }
}

/// Runs a candidate written in the preemption encoding.
struct Decode<'a> {
    plan: &'a [u32],
    avoid: &'a [Actor],
    position: usize,
    last: Option<Actor>,
    raw: Vec<u32>,
    /// (position in the trace so far is unknown here) preemptions taken.
    preemptions: Vec<bool>,
}

impl Chooser for Decode<'_> {
    fn choose(&mut self, options: &[Choice]) -> usize {
        let d = default(options, self.last, self.avoid);
        let others: Vec<usize> = (0..options.len())
            .filter(|&i| i != d && !self.avoid.contains(&options[i].actor))
            .collect();
        let wanted = self.plan.get(self.position).copied().unwrap_or(0);
        self.position += 1;
        let pick = if wanted == 0 || others.is_empty() {
            d
        } else {
            others[(wanted as usize - 1) % others.len()]
        };
        let could_go_on = self
            .last
            .is_some_and(|l| options.iter().any(|o| o.actor == l));
        self.preemptions
            .push(could_go_on && Some(options[pick].actor) != self.last);
        self.raw.push(pick as u32);
        pick
    }
    fn observe(&mut self, taken: &Choice) {
        self.last = Some(taken.actor);
    }
}

/// The size of `execution`'s failure; `preempted` and `time` per choice.
fn size(execution: &Execution, preempted: &[bool]) -> Size {
    let step = execution
        .verdict
        .violation()
        .map_or(execution.trace.len(), |v| v.step);
    let mut orders: Vec<u32> = Vec::new();
    for event in &execution.trace[..step.min(execution.trace.len())] {
        if let TraceEvent::Statement { event, .. } = event {
            if !orders.contains(&event.session.0) {
                orders.push(event.session.0);
            }
        }
    }
    let time_passes = execution.trace[..step.min(execution.trace.len())]
        .windows(2)
        .filter(|w| w[1].time_ms() > w[0].time_ms())
        .count();
    Size {
        orders: orders.len(),
        preemptions: preempted.iter().filter(|p| **p).count(),
        time_passes,
        steps: execution.schedule.len(),
    }
}

/// A failing candidate: its size, its plan (preemption encoding), the orders
/// it avoids, and what it ran.
struct Candidate {
    size: Size,
    plan: Vec<u32>,
    avoid: Vec<Actor>,
    execution: Execution,
    raw: Vec<u32>,
}

impl Candidate {
    /// Smaller is better: orders, preemptions, passes of time, steps, then
    /// the plan's entries (so lowering one is progress).
    fn key(&self) -> (usize, usize, usize, usize, u64) {
        key(&self.size, &self.plan)
    }
}

fn key(size: &Size, plan: &[u32]) -> (usize, usize, usize, usize, u64) {
    (
        size.orders,
        size.preemptions,
        size.time_passes,
        size.steps,
        plan.iter().map(|&v| u64::from(v)).sum::<u64>(),
    )
}

/// Runs of the preemption-bounded search allowed per bound.
const BOUNDED_SEARCH_RUNS: u64 = 5_000;

/// Shrinks toward the failure of one invariant, counting the runs tried.
struct Shrinker<'a> {
    simulation: &'a Simulation,
    target: Invariant,
    tried: usize,
}

impl Shrinker<'_> {
    /// Runs `plan` avoiding `avoid`; `Some` if it breaks the target.
    fn attempt(&mut self, plan: &[u32], avoid: &[Actor]) -> Option<Candidate> {
        self.tried += 1;
        let mut decode = Decode {
            plan,
            avoid,
            position: 0,
            last: None,
            raw: Vec::new(),
            preemptions: Vec::new(),
        };
        let execution = self.simulation.run(&mut decode, None);
        let same = execution
            .verdict
            .violation()
            .is_some_and(|v| v.invariant == self.target);
        same.then(|| Candidate {
            size: size(&execution, &decode.preemptions),
            plan: plan.to_vec(),
            avoid: avoid.to_vec(),
            execution,
            raw: decode.raw,
        })
    }

    /// Takes `candidate` if it is smaller than `best`.
    fn keep_smaller(best: &mut Candidate, candidate: Option<Candidate>) {
        if let Some(candidate) = candidate {
            if candidate.key() < best.key() {
                *best = candidate;
            }
        }
    }

    /// Greedy passes from `start` until none helps: leave out each order,
    /// zero chunks of the plan, lower each entry.
    fn greedy(&mut self, start: Candidate) -> Candidate {
        let mut best = start;
        loop {
            let before = best.key();
            for order in (0..self.simulation.orders().len() as u32).rev() {
                let actor = Actor::Order(order);
                if best.avoid.contains(&actor) {
                    continue;
                }
                let mut avoid = best.avoid.clone();
                avoid.push(actor);
                let plan = best.plan.clone();
                let candidate = self.attempt(&plan, &avoid);
                Self::keep_smaller(&mut best, candidate);
            }
            // Zero chunks, largest first.
            let mut chunk = best.plan.len().max(1);
            while chunk >= 1 && self.tried < BUDGET {
                let mut start = 0;
                while start < best.plan.len() && self.tried < BUDGET {
                    let end = (start + chunk).min(best.plan.len());
                    if best.plan[start..end].iter().any(|&v| v != 0) {
                        let mut plan = best.plan.clone();
                        plan[start..end].iter_mut().for_each(|v| *v = 0);
                        let avoid = best.avoid.clone();
                        let candidate = self.attempt(&plan, &avoid);
                        Self::keep_smaller(&mut best, candidate);
                    }
                    start += chunk;
                }
                chunk /= 2;
            }
            // Lower each entry.
            for i in 0..best.plan.len() {
                if best.plan[i] > 1 && self.tried < BUDGET {
                    let mut plan = best.plan.clone();
                    plan[i] -= 1;
                    let avoid = best.avoid.clone();
                    let candidate = self.attempt(&plan, &avoid);
                    Self::keep_smaller(&mut best, candidate);
                }
            }
            while best.plan.last() == Some(&0) {
                best.plan.pop();
            }
            if best.key() >= before || self.tried >= BUDGET {
                return best;
            }
        }
    }

    /// The first run breaking the target with at most `bound` preemptions,
    /// by the preemption-bounded exhaustive search (sleep sets, symmetry and
    /// the cache on), within [`BOUNDED_SEARCH_RUNS`] runs.
    fn within_preemptions(&mut self, bound: u32) -> Option<Vec<u32>> {
        let simulation = self.simulation;
        let mut dfs = Dfs::new(
            Reductions {
                preemption_bound: Some(bound),
                ..Reductions::ALL
            },
            simulation.symmetry_classes(),
            AbortRules::of(simulation.scenario()),
        );
        let mut runs = 0;
        while let Some(mut run) = dfs.next_run() {
            if runs >= BOUNDED_SEARCH_RUNS {
                return None;
            }
            runs += 1;
            self.tried += 1;
            let execution = simulation.run(&mut run, None);
            run.finish();
            if execution
                .verdict
                .violation()
                .is_some_and(|v| v.invariant == self.target)
            {
                return Some(execution.schedule);
            }
        }
        None
    }
}

impl Simulation {
    /// Writes a raw schedule in the preemption encoding; what it ran.
    fn encode(&self, schedule: &[u32]) -> (Execution, Vec<u32>) {
        let mut encode = Encode {
            replay: ReplayChooser::new(schedule.to_vec()),
            last: None,
            plan: Vec::new(),
        };
        let execution = self.run(&mut encode, None);
        (execution, encode.plan)
    }

    /// The smallest schedule found that breaks the invariant `schedule`
    /// breaks; `None` if `schedule` breaks none.
    ///
    /// Greedy passes first; then, if the story still has preemptions, the
    /// preemption-bounded search looks for a failure with fewer (greedy
    /// passes can be stuck where no single change keeps the failure), from
    /// bound 0 up, and shrinks what it finds in turn.
    pub fn shrink(&self, schedule: &[u32]) -> Option<Shrunk> {
        let (original, plan) = self.encode(schedule);
        let target: Invariant = original.verdict.violation()?.invariant;
        let mut shrinker = Shrinker {
            simulation: self,
            target,
            tried: 0,
        };
        let start = shrinker
            .attempt(&plan, &[])
            .expect("the encoding replays the same run");
        let original_size = start.size;
        let mut best = shrinker.greedy(start);
        for bound in 0..best.size.preemptions as u32 {
            if shrinker.tried >= BUDGET {
                break;
            }
            let Some(schedule) = shrinker.within_preemptions(bound) else {
                continue;
            };
            let (_, plan) = self.encode(&schedule);
            if let Some(found) = shrinker.attempt(&plan, &[]) {
                let found = shrinker.greedy(found);
                Shrinker::keep_smaller(&mut best, Some(found));
            }
            break;
        }
        Some(Shrunk {
            schedule: best.raw,
            execution: best.execution,
            original: Size {
                steps: original.schedule.len(),
                ..original_size
            },
            minimal: best.size,
            tried: shrinker.tried,
        })
    }
}
