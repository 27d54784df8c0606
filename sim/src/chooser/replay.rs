use super::{Choice, Chooser};

/// Follows a recorded schedule. If the code changed so that the schedule no
/// longer fits (it runs out, or names an option that does not exist), the run
/// goes on with the first option and the divergence is reported.
pub struct ReplayChooser {
    schedule: Vec<u32>,
    position: usize,
    divergence: Option<String>,
}

impl ReplayChooser {
    pub fn new(schedule: Vec<u32>) -> ReplayChooser {
        ReplayChooser {
            schedule,
            position: 0,
            divergence: None,
        }
    }
}

impl Chooser for ReplayChooser {
    fn choose(&mut self, options: &[Choice]) -> usize {
        self.choose_index(options.len())
    }

    fn reads_options(&self) -> bool {
        false
    }

    fn choose_index(&mut self, options: usize) -> usize {
        let step = self.position;
        self.position += 1;
        match self.schedule.get(step) {
            Some(&choice) if (choice as usize) < options => choice as usize,
            Some(&choice) => {
                self.divergence.get_or_insert_with(|| {
                    format!("choice {step} of the schedule is {choice}, but only {options} options were possible; continued with option 0")
                });
                0
            }
            None => {
                self.divergence.get_or_insert_with(|| {
                    format!(
                        "the schedule ran out after {} choices; continued with option 0",
                        self.schedule.len()
                    )
                });
                0
            }
        }
    }

    fn divergence(&self) -> Option<String> {
        if self.divergence.is_none() && self.position < self.schedule.len() {
            return Some(format!(
                "the run ended after {} of the schedule's {} choices",
                self.position,
                self.schedule.len()
            ));
        }
        self.divergence.clone()
    }
}
