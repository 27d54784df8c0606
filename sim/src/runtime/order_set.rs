//! [`OrderSet`]: a set of orders as bits, taken out lowest order id first.
//!
//! The scheduler keeps two: the orders to poll, and the orders that parked
//! with a request since it last looked (the new options). A step adds an
//! order or two to each and takes them out again. (The count is kept, so
//! that an empty set is seen without looking at its words.)

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct OrderSet {
    /// Bit `o % 64` of word `o / 64`: order `o` is a member.
    words: Vec<u64>,
    /// How many members.
    len: usize,
}

impl OrderSet {
    /// Empty, with room for orders `0..n`.
    pub fn reset(&mut self, n: usize) {
        self.words.clear();
        self.words.resize(n.div_ceil(64), 0);
        self.len = 0;
    }

    #[inline]
    pub fn insert(&mut self, order: usize) {
        let word = &mut self.words[order / 64];
        let bit = 1 << (order % 64);
        self.len += usize::from(*word & bit == 0);
        *word |= bit;
    }

    #[inline]
    pub fn remove(&mut self, order: usize) {
        let word = &mut self.words[order / 64];
        let bit = 1 << (order % 64);
        self.len -= usize::from(*word & bit != 0);
        *word &= !bit;
    }

    #[inline]
    pub fn contains(&self, order: usize) -> bool {
        self.words[order / 64] & (1 << (order % 64)) != 0
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Takes the lowest member out.
    #[inline]
    pub fn pop_first(&mut self) -> Option<usize> {
        if self.len == 0 {
            return None;
        }
        let w = self.words.iter().position(|w| *w != 0)?;
        let bit = self.words[w].trailing_zeros() as usize;
        self.words[w] &= self.words[w] - 1;
        self.len -= 1;
        Some(w * 64 + bit)
    }
}

#[cfg(test)]
mod tests {
    use super::OrderSet;

    #[test]
    fn takes_out_the_lowest_first() {
        let mut set = OrderSet::default();
        set.reset(130);
        for o in [129, 3, 64, 0, 70, 3] {
            set.insert(o);
        }
        assert!(set.contains(64) && !set.contains(65));
        set.remove(64);
        set.remove(65);
        assert!(!set.contains(64));
        let mut taken = Vec::new();
        while let Some(o) = set.pop_first() {
            taken.push(o);
        }
        assert_eq!(taken, vec![0, 3, 70, 129]);
        assert!(set.is_empty());
    }
}
