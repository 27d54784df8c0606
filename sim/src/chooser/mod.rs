//! Choosers: who picks the next step when more than one is possible.
//!
//! The scheduler asks only when there is a real choice (two or more options),
//! and records the answer; that list of answers is the run's schedule. The
//! options are always presented in the same order (by order id, then "let
//! time pass"), so a schedule means the same thing on every run.

mod random;
mod replay;

pub use random::RandomChooser;
pub use replay::ReplayChooser;

pub trait Chooser {
    /// Picks one of `options` (at least 2) possible next steps.
    fn choose(&mut self, options: usize) -> usize;

    /// Why the run did not follow the chooser's plan exactly, if it did not
    /// (a replayed schedule that no longer fits the code).
    fn divergence(&self) -> Option<String> {
        None
    }
}
