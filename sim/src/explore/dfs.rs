//! Exhaustive depth-first search over schedules, stateless: each run
//! replays the path to the deepest choice point with siblings left, takes
//! the next sibling there, and goes on with the first option it may take.
//!
//! Reductions, each switchable:
//! - sleep sets: after exploring option `t` at a node, `t` sleeps in the
//!   siblings explored after it, and stays asleep below them for as long as
//!   the steps taken are independent of it (see [`super::independence`]);
//!   an asleep option is not taken.
//! - symmetry: among identical orders that have not started, only the one
//!   with the lowest id is started.
//! - a preemption bound: a preemption is choosing another actor while the
//!   one that moved last could have gone on.
//! - a visited-state cache: a choice point whose state was explored from
//!   before, with a sleep set no larger (and the same preemption
//!   bookkeeping), is not explored again (see [`super::cache`]).

use super::cache::Visited;
use super::independence::{independent, AbortRules};
use crate::chooser::{key_of, Actor, Choice, Chooser, StateKey};

/// What the search may skip.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reductions {
    pub sleep_sets: bool,
    pub symmetry: bool,
    /// The visited-state cache (it prunes nothing on a backend that cannot
    /// tell its state).
    pub cache: bool,
    pub preemption_bound: Option<u32>,
}

impl Reductions {
    pub const NONE: Reductions = Reductions {
        sleep_sets: false,
        symmetry: false,
        cache: false,
        preemption_bound: None,
    };
    pub const ALL: Reductions = Reductions {
        sleep_sets: true,
        symmetry: true,
        cache: true,
        preemption_bound: None,
    };
}

struct Node {
    options: Vec<Choice>,
    chosen: usize,
    /// Options taken here before `chosen`.
    done: Vec<usize>,
    /// Asleep on arrival here.
    sleep: Vec<Choice>,
    /// Options this node may take (not asleep, not symmetric to a lower
    /// one, within the preemption bound).
    allowed: Vec<bool>,
    /// Preemptions on the path before this node.
    preemptions: u32,
    last: Option<Actor>,
}

/// The search's state between runs.
pub struct Dfs {
    reductions: Reductions,
    /// Symmetry class of each order: equal classes are identical orders.
    classes: Vec<u32>,
    aborts: AbortRules,
    path: Vec<Node>,
    started: bool,
    /// Some option was left out for the preemption bound: not a proof.
    pub bounded: bool,
    /// The visited states, with the cache on.
    pub visited: Visited,
}

impl Dfs {
    pub fn new(reductions: Reductions, classes: Vec<u32>, aborts: AbortRules) -> Dfs {
        Dfs {
            reductions,
            classes,
            aborts,
            path: Vec::new(),
            started: false,
            bounded: false,
            visited: Visited::default(),
        }
    }

    /// The chooser for the next run, or `None` when every schedule (up to
    /// the reductions) has been run.
    pub fn next_run(&mut self) -> Option<DfsRun<'_>> {
        if self.started && self.path.is_empty() {
            return None;
        }
        self.started = true;
        Some(DfsRun {
            dfs: self,
            depth: 0,
            sleep: Vec::new(),
            ran: Vec::new(),
            last: None,
            preemptions: 0,
            blocked: false,
            key: None,
            cache_hit: false,
        })
    }

    /// After a run: go back to the deepest node with an allowed sibling left.
    fn backtrack(&mut self) {
        while let Some(node) = self.path.last_mut() {
            node.done.push(node.chosen);
            let next = (0..node.options.len()).find(|i| node.allowed[*i] && !node.done.contains(i));
            match next {
                Some(i) => {
                    node.chosen = i;
                    return;
                }
                None => {
                    self.path.pop();
                }
            }
        }
    }
}

/// One run of the search, as a chooser.
pub struct DfsRun<'a> {
    dfs: &'a mut Dfs,
    depth: usize,
    /// Asleep now (filtered through every step taken since the last node).
    sleep: Vec<Choice>,
    /// Actors that have taken a step in this run.
    ran: Vec<Actor>,
    last: Option<Actor>,
    preemptions: u32,
    /// Every option here was asleep or left out, or the state was explored
    /// from before: the run repeats others.
    pub blocked: bool,
    /// The state key of the coming choice point, when the cache asked.
    key: Option<StateKey>,
    /// The run was cut short at a state explored from before.
    pub cache_hit: bool,
}

impl DfsRun<'_> {
    /// Ends the run; the search moves on.
    pub fn finish(self) -> bool {
        let blocked = self.blocked;
        self.dfs.backtrack();
        blocked
    }

    fn allowed(&self, options: &[Choice]) -> Vec<bool> {
        let r = self.dfs.reductions;
        options
            .iter()
            .map(|option| {
                if r.sleep_sets && self.sleep.contains(option) {
                    return false;
                }
                if r.symmetry {
                    if let Actor::Order(o) = option.actor {
                        let class = self.dfs.classes[o as usize];
                        let unstarted = |a: Actor| !self.ran.contains(&a);
                        let lower_twin = options.iter().any(|other| match other.actor {
                            Actor::Order(p) => {
                                p < o
                                    && self.dfs.classes[p as usize] == class
                                    && unstarted(other.actor)
                            }
                            Actor::Clock | Actor::Fault => false,
                        });
                        if unstarted(option.actor) && lower_twin {
                            return false;
                        }
                    }
                }
                true
            })
            .collect()
    }

    /// Whether a visit of this state already covers this one (see
    /// [`super::cache`]); otherwise records this one.
    fn visited(&mut self, key: StateKey) -> bool {
        let r = self.dfs.reductions;
        // Which orders count as started decides what symmetry allows.
        let key = if r.symmetry {
            let mut ran = self.ran.clone();
            ran.sort_unstable();
            key_of(&(key, ran))
        } else {
            key
        };
        let sleep: &[Choice] = if r.sleep_sets { &self.sleep } else { &[] };
        self.dfs.visited.covered(
            key,
            sleep,
            self.preemptions,
            self.last,
            r.preemption_bound.is_some(),
        )
    }

    fn preempts(&self, option: &Choice, options: &[Choice]) -> bool {
        matches!(self.last, Some(last) if last != option.actor && options.iter().any(|o| o.actor == last))
    }
}

impl Chooser for DfsRun<'_> {
    fn wants_state_keys(&self) -> bool {
        self.dfs.reductions.cache
    }

    fn choose_keyed(
        &mut self,
        options: &[Choice],
        key: &mut dyn FnMut() -> Option<StateKey>,
    ) -> usize {
        // Only a new choice point is looked up (the replayed prefix was).
        if !self.blocked && self.depth == self.dfs.path.len() {
            self.key = key();
        }
        self.choose(options)
    }

    fn choose(&mut self, options: &[Choice]) -> usize {
        if self.blocked {
            // Below a node where everything was asleep (or whose state was
            // explored from before): finish the run the quickest way,
            // adding no nodes (the search backs out of it).
            return 0;
        }
        let depth = self.depth;
        self.depth += 1;
        if depth == self.dfs.path.len() {
            let mut allowed = self.allowed(options);
            if let Some(bound) = self.dfs.reductions.preemption_bound {
                for (i, option) in options.iter().enumerate() {
                    if allowed[i] && self.preempts(option, options) && self.preemptions >= bound {
                        allowed[i] = false;
                        self.dfs.bounded = true;
                    }
                }
            }
            let mut chosen = allowed.iter().position(|a| *a);
            let key = self.key.take();
            if let (Some(_), Some(key)) = (chosen, key) {
                if self.visited(key) {
                    self.cache_hit = true;
                    chosen = None;
                }
            }
            let chosen = chosen.unwrap_or_else(|| {
                self.blocked = true;
                0
            });
            if self.blocked {
                // Nothing new below: mark every option done so the search
                // backs out of here after this run.
                allowed = vec![false; options.len()];
            }
            self.dfs.path.push(Node {
                options: options.to_vec(),
                chosen,
                done: Vec::new(),
                sleep: self.sleep.clone(),
                allowed,
                preemptions: self.preemptions,
                last: self.last,
            });
        }
        let node = &self.dfs.path[depth];
        assert_eq!(
            node.options.len(),
            options.len(),
            "a replayed prefix met other options: the run is not a function of its schedule"
        );
        debug_assert_eq!(
            node.options.as_slice(),
            options,
            "a replayed prefix must meet the same options"
        );
        let chosen = node.chosen;
        // Asleep below this node: what was asleep here and the siblings
        // already explored, while independent of the step taken.
        if self.dfs.reductions.sleep_sets {
            let taken = &node.options[chosen];
            let mut sleep: Vec<Choice> = node.sleep.clone();
            sleep.extend(node.done.iter().map(|&i| node.options[i].clone()));
            let check = self.dfs.aborts;
            sleep.retain(|s| independent(s, taken, check));
            self.sleep = sleep;
        }
        self.preemptions = node.preemptions;
        self.last = node.last;
        if self.preempts(&options[chosen], options) {
            self.preemptions += 1;
        }
        chosen
    }

    fn observe(&mut self, taken: &Choice) {
        let check = self.dfs.aborts;
        // A forced step (the only option) also wakes what depends on it.
        self.sleep
            .retain(|s| s.actor != taken.actor && independent(s, taken, check));
        if !self.ran.contains(&taken.actor) {
            self.ran.push(taken.actor);
        }
        self.last = Some(taken.actor);
    }
}
