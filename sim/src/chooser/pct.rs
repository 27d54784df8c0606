//! PCT, probabilistic concurrency testing (Burckhardt et al., ASPLOS 2010):
//! each actor gets a random priority and the highest-priority option always
//! runs, except at `depth - 1` random change points among the run's `k`
//! choice points, where the actor about to run drops below every other. A
//! bug that needs `d` ordering constraints is found with probability at
//! least 1 / (n k^(d-1)) per run. `k` is measured once per scenario by a
//! pilot run ([`Simulation::pct_steps`](crate::Simulation::pct_steps)), so a
//! seed is the same run whatever the jobs or shards.

use super::{Actor, Choice, Chooser};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

pub struct PctChooser {
    rng: StdRng,
    /// Priority of each actor seen so far (higher runs first).
    priorities: Vec<(Actor, i64)>,
    /// Choice points (from 1) at which the running actor is lowered.
    change_points: Vec<usize>,
    step: usize,
    /// The next priority given at a change point: below every initial one.
    next_low: i64,
}

impl PctChooser {
    /// `depth` ≥ 1; `k`: choice points in a typical run of the scenario.
    pub fn new(seed: u64, depth: u32, k: usize) -> PctChooser {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut change_points = Vec::new();
        let k = k.max(1);
        for _ in 1..depth.max(1) {
            change_points.push(rng.gen_range(1..=k));
        }
        PctChooser {
            rng,
            priorities: Vec::new(),
            change_points,
            step: 0,
            next_low: 0,
        }
    }

    fn priority(&mut self, actor: Actor) -> i64 {
        if let Some((_, p)) = self.priorities.iter().find(|(a, _)| *a == actor) {
            return *p;
        }
        // Initial priorities lie above every change-point priority.
        let p = 1_000_000 + i64::from(self.rng.gen::<u32>());
        self.priorities.push((actor, p));
        p
    }

    fn set_priority(&mut self, actor: Actor, priority: i64) {
        self.priority(actor);
        if let Some(entry) = self.priorities.iter_mut().find(|(a, _)| *a == actor) {
            entry.1 = priority;
        }
    }

    fn highest(&mut self, options: &[Choice]) -> usize {
        let mut best = 0;
        let mut best_priority = i64::MIN;
        for (i, option) in options.iter().enumerate() {
            let p = self.priority(option.actor);
            if p > best_priority {
                best = i;
                best_priority = p;
            }
        }
        best
    }
}

impl Chooser for PctChooser {
    fn choose(&mut self, options: &[Choice]) -> usize {
        self.step += 1;
        let step = self.step;
        let changes = self.change_points.iter().filter(|&&c| c == step).count();
        for _ in 0..changes {
            let top = self.highest(options);
            self.next_low -= 1;
            let low = self.next_low;
            self.set_priority(options[top].actor, low);
        }
        self.highest(options)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chooser::Action;

    fn options(n: u32) -> Vec<Choice> {
        (0..n)
            .map(|i| Choice {
                actor: Actor::Order(i),
                action: Action::Sql(String::new()),
            })
            .collect()
    }

    #[test]
    fn without_change_points_one_actor_runs_while_it_can() {
        let mut pct = PctChooser::new(7, 1, 10);
        let first = pct.choose(&options(3));
        for _ in 0..5 {
            assert_eq!(pct.choose(&options(3)), first);
        }
    }

    #[test]
    fn a_change_point_lowers_the_running_actor() {
        // Depth 2 on a run of 1 choice point: the change is at point 1.
        for seed in 0..20 {
            let mut pct = PctChooser::new(seed, 2, 1);
            let o = options(2);
            let chosen = pct.choose(&o);
            let lowered = 1 - chosen;
            let priority = |a: usize| {
                pct.priorities
                    .iter()
                    .find(|(x, _)| *x == o[a].actor)
                    .unwrap()
                    .1
            };
            assert!(
                priority(lowered) < 0,
                "the actor that would have run was lowered"
            );
            assert!(priority(chosen) > 0);
            assert_eq!(pct.choose(&o), chosen, "and stays below the other");
        }
    }

    #[test]
    fn the_same_seed_makes_the_same_choices() {
        let run = |seed| {
            let mut pct = PctChooser::new(seed, 3, 20);
            (0..20)
                .map(|i| pct.choose(&options(2 + i % 3)))
                .collect::<Vec<_>>()
        };
        assert_eq!(run(11), run(11));
    }
}
