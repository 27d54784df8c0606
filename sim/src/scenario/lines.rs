//! [`Lines`]: an order's lines, cheap to hand to every run.

use super::Line;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

/// An order's lines. It reads like the `Vec<Line>` it was (index it,
/// iterate it, `for line in &order.lines`, `len`), and cloning it costs a
/// reference count rather than a copy: every order of every run gets an
/// [`super::Order`] of its own, and copying its lines was an allocation and
/// a free per order per run.
#[derive(Clone, PartialEq, Eq)]
pub struct Lines(Arc<[Line]>);

impl Deref for Lines {
    type Target = [Line];
    fn deref(&self) -> &[Line] {
        &self.0
    }
}

impl fmt::Debug for Lines {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // As the `Vec<Line>` it was: a list.
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl From<Vec<Line>> for Lines {
    fn from(lines: Vec<Line>) -> Lines {
        Lines(lines.into())
    }
}

impl FromIterator<Line> for Lines {
    fn from_iter<I: IntoIterator<Item = Line>>(lines: I) -> Lines {
        Lines(lines.into_iter().collect())
    }
}

impl<'a> IntoIterator for &'a Lines {
    type Item = &'a Line;
    type IntoIter = std::slice::Iter<'a, Line>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}
