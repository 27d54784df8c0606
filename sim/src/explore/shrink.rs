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
//! way and is smaller.

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

impl Simulation {
    /// The smallest schedule found that breaks the invariant `schedule`
    /// breaks; `None` if `schedule` breaks none.
    pub fn shrink(&self, schedule: &[u32]) -> Option<Shrunk> {
        let mut encode = Encode {
            replay: ReplayChooser::new(schedule.to_vec()),
            last: None,
            plan: Vec::new(),
        };
        let original = self.run(&mut encode, None);
        let target: Invariant = original.verdict.violation()?.invariant;
        let tried = std::cell::Cell::new(0usize);
        let attempt = |plan: &[u32], avoid: &[Actor]| -> Option<(Size, Execution, Vec<u32>)> {
            tried.set(tried.get() + 1);
            let mut decode = Decode {
                plan,
                avoid,
                position: 0,
                last: None,
                raw: Vec::new(),
                preemptions: Vec::new(),
            };
            let execution = self.run(&mut decode, None);
            let same = execution
                .verdict
                .violation()
                .is_some_and(|v| v.invariant == target);
            same.then(|| (size(&execution, &decode.preemptions), execution, decode.raw))
        };
        let (start_size, start_execution, start_raw) =
            attempt(&encode.plan, &[]).expect("the encoding replays the same run");
        let original_size = start_size;
        let mut best = (
            start_size,
            encode.plan.clone(),
            Vec::<Actor>::new(),
            start_execution,
            start_raw,
        );
        let key = |s: &Size, plan: &[u32]| {
            (
                s.orders,
                s.preemptions,
                s.time_passes,
                s.steps,
                plan.iter().map(|&v| u64::from(v)).sum::<u64>(),
            )
        };
        loop {
            let before = key(&best.0, &best.1);
            // Leave out each order that took part.
            for order in (0..self.orders().len() as u32).rev() {
                let actor = Actor::Order(order);
                if best.2.contains(&actor) {
                    continue;
                }
                let mut avoid = best.2.clone();
                avoid.push(actor);
                if let Some((s, e, raw)) = attempt(&best.1, &avoid) {
                    if key(&s, &best.1) < key(&best.0, &best.1) {
                        best = (s, best.1.clone(), avoid, e, raw);
                    }
                }
            }
            // Zero chunks, largest first.
            let mut chunk = best.1.len().max(1);
            while chunk >= 1 && tried.get() < BUDGET {
                let mut start = 0;
                while start < best.1.len() && tried.get() < BUDGET {
                    let end = (start + chunk).min(best.1.len());
                    if best.1[start..end].iter().any(|&v| v != 0) {
                        let mut plan = best.1.clone();
                        plan[start..end].iter_mut().for_each(|v| *v = 0);
                        if let Some((s, e, raw)) = attempt(&plan, &best.2) {
                            if key(&s, &plan) < key(&best.0, &best.1) {
                                best = (s, plan, best.2.clone(), e, raw);
                            }
                        }
                    }
                    start += chunk;
                }
                chunk /= 2;
            }
            // Lower each entry.
            for i in 0..best.1.len() {
                if best.1[i] > 1 && tried.get() < BUDGET {
                    let mut plan = best.1.clone();
                    plan[i] -= 1;
                    if let Some((s, e, raw)) = attempt(&plan, &best.2) {
                        if key(&s, &plan) < key(&best.0, &best.1) {
                            best = (s, plan, best.2.clone(), e, raw);
                        }
                    }
                }
            }
            while best.1.last() == Some(&0) {
                best.1.pop();
            }
            if key(&best.0, &best.1) >= before || tried.get() >= BUDGET {
                break;
            }
        }
        let (minimal, _, _, execution, raw) = best;
        Some(Shrunk {
            schedule: raw,
            execution,
            original: Size {
                steps: original.schedule.len(),
                ..original_size
            },
            minimal,
            tried: tried.get(),
        })
    }
}
