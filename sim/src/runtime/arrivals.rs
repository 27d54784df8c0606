//! When orders arrive: with an arrival window, each order's start is a
//! choice the chooser makes, recorded in the schedule like any other.

use super::Prepared;
use crate::chooser::{Action, Actor, Choice, Chooser};

impl Prepared {
    /// When each order arrives (virtual ms): with an arrival window, the
    /// chooser picks each order's offset in turn, order by order, before
    /// anything runs; these choices open the schedule. Without one, every
    /// order arrives at 0 and nothing is chosen.
    pub(super) fn choose_arrivals(
        &self,
        chooser: &mut dyn Chooser,
        schedule: &mut Vec<u32>,
    ) -> Vec<u64> {
        let n = self.orders.len();
        if self.scenario.arrival_window_ms() == 0 {
            return vec![0; n];
        }
        let mut options = Vec::new();
        (0..n)
            .map(|order| {
                options.clear();
                options.extend(self.scenario.arrival_offsets().map(|at_ms| Choice {
                    actor: Actor::Order(order as u32),
                    action: Action::Arrive { at_ms },
                }));
                let choice = chooser.choose(&options);
                schedule.push(choice as u32);
                chooser.observe(&options[choice]);
                match options[choice].action {
                    Action::Arrive { at_ms } => at_ms,
                    _ => unreachable!("only arrivals were offered"),
                }
            })
            .collect()
    }
}
