//! Two id-ordered sequences walked side by side: what each holds for every id.
//!
//! The declared groups, the live ones and the baseline are all maps ordered by id, and the
//! planner pairs them group by group. Looking each id of one up in another compares ids about
//! log₂ n times a group (14 at 10,000 groups), and those comparisons were most of the planner's
//! time; one walk of both compares once a step.

use std::iter::Peekable;

/// The ids of `left` and `right` in order, each once, with what each side holds for it.
/// Both must be in strictly increasing key order (a map's iterator is).
pub fn side_by_side<K, A, B, L, R>(left: L, right: R) -> SideBySide<L::IntoIter, R::IntoIter>
where
    K: Ord,
    L: IntoIterator<Item = (K, A)>,
    R: IntoIterator<Item = (K, B)>,
{
    SideBySide {
        left: left.into_iter().peekable(),
        right: right.into_iter().peekable(),
    }
}

/// The iterator [`side_by_side`] returns.
pub struct SideBySide<L: Iterator, R: Iterator> {
    left: Peekable<L>,
    right: Peekable<R>,
}

/// What [`SideBySide`] yields for one id.
#[derive(Debug, PartialEq, Eq)]
pub enum Pair<K, A, B> {
    Left(K, A),
    Right(K, B),
    Both(K, A, B),
}

impl<K, A, B> Pair<K, A, B> {
    /// The id and what each side holds for it.
    pub fn sides(self) -> (K, Option<A>, Option<B>) {
        match self {
            Pair::Left(key, a) => (key, Some(a), None),
            Pair::Right(key, b) => (key, None, Some(b)),
            Pair::Both(key, a, b) => (key, Some(a), Some(b)),
        }
    }

    /// The left side's, if it holds the id.
    pub fn left(self) -> Option<(K, A, Option<B>)> {
        let (key, a, b) = self.sides();
        Some((key, a?, b))
    }
}

impl<K: Ord, A, B, L, R> Iterator for SideBySide<L, R>
where
    L: Iterator<Item = (K, A)>,
    R: Iterator<Item = (K, B)>,
{
    type Item = Pair<K, A, B>;

    fn next(&mut self) -> Option<Self::Item> {
        let order = match (self.left.peek(), self.right.peek()) {
            (None, None) => return None,
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (Some((a, _)), Some((b, _))) => a.cmp(b),
        };
        Some(match order {
            std::cmp::Ordering::Less => {
                let (key, a) = self.left.next()?;
                Pair::Left(key, a)
            }
            std::cmp::Ordering::Greater => {
                let (key, b) = self.right.next()?;
                Pair::Right(key, b)
            }
            std::cmp::Ordering::Equal => {
                let ((key, a), (_, b)) = (self.left.next()?, self.right.next()?);
                Pair::Both(key, a, b)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;

    #[test]
    fn each_id_comes_once_with_both_sides() {
        let left = BTreeMap::from([(1, 'a'), (3, 'c'), (4, 'd')]);
        let right = BTreeMap::from([(2, "two"), (3, "three"), (5, "five")]);
        let pairs: Vec<_> = side_by_side(&left, &right).collect();
        assert_eq!(
            pairs,
            vec![
                Pair::Left(&1, &'a'),
                Pair::Right(&2, &"two"),
                Pair::Both(&3, &'c', &"three"),
                Pair::Left(&4, &'d'),
                Pair::Right(&5, &"five"),
            ]
        );
    }

    proptest! {
        /// The walk answers what looking every id up in both maps answers.
        #[test]
        fn the_walk_agrees_with_look_ups(
            left in proptest::collection::btree_map(0u16..300, any::<u8>(), 0..80),
            right in proptest::collection::btree_map(0u16..300, any::<u8>(), 0..80),
        ) {
            let walked: Vec<_> = side_by_side(&left, &right)
                .map(|pair| {
                    let (k, a, b) = pair.sides();
                    (*k, a.copied(), b.copied())
                })
                .collect();
            let mut ids: Vec<u16> = left.keys().chain(right.keys()).copied().collect();
            ids.sort_unstable();
            ids.dedup();
            let looked_up: Vec<_> = ids
                .into_iter()
                .map(|k| (k, left.get(&k).copied(), right.get(&k).copied()))
                .collect();
            prop_assert_eq!(walked, looked_up);
        }
    }
}
