use super::{Actor, Choice, Chooser};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// At a quiet point that offers faults, one is taken with these odds (1
/// in `FAULT_ODDS`), and otherwise a step that is not a fault: as
/// FoundationDB's BUGGIFY does, so that a run's faults land anywhere in
/// it. Uniform among all options, a run took its faults within its first
/// few steps nearly always (every order had a fault option beside its
/// statement), and what a fault does late in a run went untried.
pub const FAULT_ODDS: u32 = 8;

/// Uniform random choices from a seed: the same seed, the same schedule.
/// Faults are the exception: see [`FAULT_ODDS`].
pub struct RandomChooser {
    rng: StdRng,
}

impl RandomChooser {
    pub fn new(seed: u64) -> RandomChooser {
        RandomChooser {
            rng: StdRng::seed_from_u64(seed),
        }
    }
}

impl Chooser for RandomChooser {
    fn choose(&mut self, options: &[Choice]) -> usize {
        let faults = options.iter().filter(|c| c.actor == Actor::Fault).count();
        self.choose_index_with_faults(options.len(), faults)
    }

    fn reads_options(&self) -> bool {
        false
    }

    fn choose_index(&mut self, count: usize) -> usize {
        self.rng.gen_range(0..count)
    }

    fn choose_index_with_faults(&mut self, count: usize, faults: usize) -> usize {
        if faults == 0 || faults == count {
            return self.choose_index(count);
        }
        let others = count - faults;
        if self.rng.gen_ratio(1, FAULT_ODDS) {
            others + self.rng.gen_range(0..faults)
        } else {
            self.rng.gen_range(0..others)
        }
    }
}
