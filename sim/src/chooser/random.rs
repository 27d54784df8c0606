use super::{Choice, Chooser};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Uniform random choices from a seed: the same seed, the same schedule.
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
        self.choose_index(options.len())
    }

    fn reads_options(&self) -> bool {
        false
    }

    fn choose_index(&mut self, count: usize) -> usize {
        self.rng.gen_range(0..count)
    }
}
