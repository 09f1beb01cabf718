//! A collection's children, as the tree keeps them, and how both parsers gather them.
//!
//! Most collections keep their children as nodes. A long one — an `args` list of a million
//! items, a mapping of a million labels, an `env` list, a `List`'s items — is only counted and
//! checked as it is read: a kept node costs 72 bytes, 5 to 20 times the text of a short scalar,
//! and such collections made the tree many times larger than its input (docs/performance.md).
//! Its children are read again from the text when someone asks: one at a time without keeping
//! them ([`Children::visit`], and `Node::get`'s key lookups), or all at once as a slice
//! (`Deref`), kept from then on. Every reader of the tree therefore sees the same children, read
//! or not; only what it costs differs.

use std::cell::OnceCell;
use std::fmt;
use std::ops::{ControlFlow, Deref};

use super::fast;
use super::{Checked, Checks, Node};

/// Where an unread collection is, for the parser that read it to read it again.
#[derive(Debug, Clone, Copy)]
pub(super) enum Rescan<'t> {
    Fast(fast::Rescan<'t>),
    Reference(super::Region<'t>),
}

impl<'t> From<fast::Rescan<'t>> for Rescan<'t> {
    fn from(rescan: fast::Rescan<'t>) -> Self {
        Rescan::Fast(rescan)
    }
}

impl<'t> From<super::Region<'t>> for Rescan<'t> {
    fn from(region: super::Region<'t>) -> Self {
        Rescan::Reference(region)
    }
}

impl<'t> Rescan<'t> {
    /// Hand each child to `f` in order, until it breaks.
    fn visit(&self, f: &mut dyn FnMut(Gathered<'t>) -> ControlFlow<()>) {
        match self {
            Rescan::Fast(rescan) => rescan.visit(f),
            Rescan::Reference(region) => region.visit(f),
        }
    }

    /// All `n` children.
    fn collect<T: Child<'t>>(&self, n: usize) -> Vec<T> {
        let mut out = Vec::with_capacity(n);
        self.visit(&mut |gathered| {
            out.push(T::from_gathered(gathered));
            ControlFlow::Continue(())
        });
        out
    }
}

/// Collections with fewer children than this keep them as nodes: re-reading costs more than
/// keeping them, and a pod spec's own short lists are looked at whole. The crate's unit tests
/// leave nearly every collection unread, so every reader of the tree is tested on unread
/// children.
#[cfg(not(test))]
pub(super) const UNREAD_MIN: usize = 64;
#[cfg(test)]
pub(super) const UNREAD_MIN: usize = 2;

/// How a collection keeps the children it reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Keep {
    /// As nodes.
    All,
    /// As nodes until [`UNREAD_MIN`] of them have been read: then only counted, if it may be.
    UntilLong,
    /// Counted: the collection's children stay unread.
    Count,
    /// Handed to a re-read's visitor, not kept (the fast path's [`fast::Rescan`]).
    Visit,
}

/// Keep or count one more child of a collection whose kept children are `kept[base..]`; `len`
/// counts them all. Once [`UNREAD_MIN`] are read, and `may` (asked then, once) allows it, the
/// kept ones are checked and dropped, and the rest only counted: read, checked and let go.
pub(super) fn gather<T: Checked>(
    keep: &mut Keep,
    len: &mut usize,
    kept: &mut Vec<T>,
    base: usize,
    child: T,
    checks: &mut Checks<'_>,
    may: impl FnOnce() -> bool,
) {
    if *keep == Keep::Count {
        child.check(checks);
    } else {
        kept.push(child);
        if *keep == Keep::UntilLong && *len + 1 >= UNREAD_MIN {
            if may() {
                kept[base..].iter().for_each(|c| c.check(checks));
                kept.truncate(base);
                *keep = Keep::Count;
            } else {
                *keep = Keep::All;
            }
        }
    }
    *len += 1;
}

/// A sequence's items once read: the kept ones, or unread (`len` counted, `checks` made, and
/// where to read them again).
pub(super) fn items<'t>(
    keep: Keep,
    rescan: impl FnOnce() -> Rescan<'t>,
    len: usize,
    kept: Vec<Node<'t>>,
    checks: Checks<'_>,
) -> Items<'t> {
    match keep {
        Keep::Count => {
            let mut items = Children::unread(rescan(), len);
            items.set_checked(checks.of_items());
            items
        }
        _ => Children::read(kept),
    }
}

/// [`items`] for a mapping's entries.
pub(super) fn entries<'t>(
    keep: Keep,
    rescan: impl FnOnce() -> Rescan<'t>,
    len: usize,
    kept: Vec<(Node<'t>, Node<'t>)>,
    checks: Checks<'_>,
) -> Entries<'t> {
    match keep {
        Keep::Count => {
            let mut entries = Children::unread(rescan(), len);
            let checked = checks.of_entries(&entries);
            entries.set_checked(checked);
            entries
        }
        _ => Children::read(kept),
    }
}

/// The items of a sequence.
pub type Items<'t> = Children<'t, Node<'t>, Node<'static>>;
/// The entries of a mapping.
pub type Entries<'t> = Children<'t, (Node<'t>, Node<'t>), (Node<'static>, Node<'static>)>;

/// A collection's children `T`, kept, or unread and read again on demand. Children read again
/// are kept as `L`, the same nodes borrowing no text (all read): that keeps the tree covariant
/// in `'t` (a tree of a longer-lived text passes where a shorter one is expected).
pub struct Children<'t, T, L> {
    repr: Repr<'t, T, L>,
}

enum Repr<'t, T, L> {
    Read(Vec<T>),
    Unread(Box<Unread<'t, L>>),
}

struct Unread<'t, L> {
    rescan: Rescan<'t>,
    len: usize,
    /// What `check_node` says of them, found as they were read (`super::Checks`).
    checked: Result<(), super::SyntaxError>,
    /// All of them, once someone asked for the slice.
    all: OnceCell<Vec<L>>,
    /// Entries found by key lookups, so `Node::get` can lend them out.
    found: elsa::FrozenVec<Box<L>>,
}

/// One child as a re-read hands it over.
#[doc(hidden)]
pub enum Gathered<'t> {
    Item(Node<'t>),
    Entry(Node<'t>, Node<'t>),
}

/// A sequence item or a mapping entry, and how it is kept when read again.
pub trait Child<'t>: Sized {
    /// The same child borrowing no text, every collection in it read.
    type Leaf;
    #[doc(hidden)]
    fn from_gathered(gathered: Gathered<'t>) -> Self;
    #[doc(hidden)]
    fn leaf(self) -> Self::Leaf;
    #[doc(hidden)]
    fn lend(leaves: &[Self::Leaf]) -> &[Self];
    #[doc(hidden)]
    fn lend_one(leaf: &Self::Leaf) -> &Self;
}

impl<'t> Child<'t> for Node<'t> {
    type Leaf = Node<'static>;

    fn from_gathered(gathered: Gathered<'t>) -> Self {
        match gathered {
            Gathered::Item(node) => node,
            Gathered::Entry(..) => unreachable!("a sequence re-read as a mapping"),
        }
    }

    fn leaf(self) -> Node<'static> {
        self.detached()
    }

    fn lend<'a>(leaves: &'a [Node<'static>]) -> &'a [Self] {
        leaves
    }

    fn lend_one<'a>(leaf: &'a Node<'static>) -> &'a Self {
        leaf
    }
}

impl<'t> Child<'t> for (Node<'t>, Node<'t>) {
    type Leaf = (Node<'static>, Node<'static>);

    fn from_gathered(gathered: Gathered<'t>) -> Self {
        match gathered {
            Gathered::Entry(key, value) => (key, value),
            Gathered::Item(_) => unreachable!("a mapping re-read as a sequence"),
        }
    }

    fn leaf(self) -> Self::Leaf {
        (self.0.detached(), self.1.detached())
    }

    fn lend(leaves: &[Self::Leaf]) -> &[Self] {
        leaves
    }

    fn lend_one(leaf: &Self::Leaf) -> &Self {
        leaf
    }
}

impl<'t, T, L> Children<'t, T, L> {
    pub(super) fn read(children: Vec<T>) -> Self {
        Children {
            repr: Repr::Read(children),
        }
    }

    fn unread(rescan: Rescan<'t>, len: usize) -> Self {
        Children {
            repr: Repr::Unread(Box::new(Unread {
                rescan,
                len,
                checked: Ok(()),
                all: OnceCell::new(),
                found: elsa::FrozenVec::new(),
            })),
        }
    }

    /// How many there are, without reading them.
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Read(children) => children.len(),
            Repr::Unread(unread) => unread.len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// What the checks of unread children found as they were read (`Ok` for kept ones, which
    /// are checked where they are kept).
    pub(super) fn checked(&self) -> Result<(), super::SyntaxError> {
        match &self.repr {
            Repr::Read(_) => Ok(()),
            Repr::Unread(unread) => unread.checked.clone(),
        }
    }

    fn set_checked(&mut self, checked: Result<(), super::SyntaxError>) {
        if let Repr::Unread(unread) = &mut self.repr {
            unread.checked = checked;
        }
    }

    /// Whether they are kept as nodes.
    pub fn is_read(&self) -> bool {
        matches!(self.repr, Repr::Read(_))
    }

    /// The kept children, to adjust in place; `None` when they are unread.
    pub(super) fn read_mut(&mut self) -> Option<&mut Vec<T>> {
        match &mut self.repr {
            Repr::Read(children) => Some(children),
            Repr::Unread(_) => None,
        }
    }
}

impl<'t, T: Child<'t, Leaf = L>, L> Children<'t, T, L> {
    /// All of them, as nodes.
    pub(super) fn into_vec(self) -> Vec<T> {
        match self.repr {
            Repr::Read(children) => children,
            Repr::Unread(unread) => unread.rescan.collect(unread.len),
        }
    }

    /// Each child in order, until `f` breaks; unread children are read one at a time and not
    /// kept.
    pub fn visit(&self, mut f: impl FnMut(&T) -> ControlFlow<()>) -> ControlFlow<()> {
        let unread = match &self.repr {
            Repr::Read(children) => return children.iter().try_for_each(f),
            Repr::Unread(unread) => unread,
        };
        if let Some(all) = unread.all.get() {
            return T::lend(all).iter().try_for_each(f);
        }
        let mut flow = ControlFlow::Continue(());
        unread.rescan.visit(&mut |gathered| {
            flow = f(&T::from_gathered(gathered));
            flow
        });
        flow
    }

    /// The first child `f` picks, read without keeping the others. Unread children are kept
    /// once found, so the reference can be lent out: meant for a few lookups (a mapping's
    /// keys), not for walking them all.
    pub fn find(&self, mut f: impl FnMut(&T) -> bool) -> Option<&T> {
        let unread = match &self.repr {
            Repr::Read(children) => return children.iter().find(|c| f(c)),
            Repr::Unread(unread) => unread,
        };
        if let Some(all) = unread.all.get() {
            return T::lend(all).iter().find(|c| f(c));
        }
        if let Some(found) = unread.found.iter().map(T::lend_one).find(|c| f(c)) {
            return Some(found);
        }
        let mut hit = None;
        unread.rescan.visit(&mut |gathered| {
            let child = T::from_gathered(gathered);
            if f(&child) {
                hit = Some(child.leaf());
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
        hit.map(|leaf| T::lend_one(unread.found.push_get(Box::new(leaf))))
    }
}

impl<'t, T: Child<'t, Leaf = L>, L> Deref for Children<'t, T, L> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        match &self.repr {
            Repr::Read(children) => children,
            Repr::Unread(unread) => T::lend(unread.all.get_or_init(|| {
                let mut all = Vec::with_capacity(unread.len);
                unread.rescan.visit(&mut |gathered| {
                    all.push(T::from_gathered(gathered).leaf());
                    ControlFlow::Continue(())
                });
                all
            })),
        }
    }
}

impl<'a, 't, T: Child<'t, Leaf = L>, L> IntoIterator for &'a Children<'t, T, L> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;

    /// All of them, read (see `Deref`).
    fn into_iter(self) -> Self::IntoIter {
        (**self).iter()
    }
}

impl<T: Clone, L: Clone> Clone for Children<'_, T, L> {
    fn clone(&self) -> Self {
        Children {
            repr: match &self.repr {
                Repr::Read(children) => Repr::Read(children.clone()),
                Repr::Unread(unread) => Repr::Unread(Box::new(Unread {
                    rescan: unread.rescan,
                    len: unread.len,
                    checked: unread.checked.clone(),
                    all: unread.all.clone(),
                    found: elsa::FrozenVec::new(),
                })),
            },
        }
    }
}

impl<'t, T: Child<'t, Leaf = L> + PartialEq, L> PartialEq for Children<'t, T, L> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && **self == **other
    }
}

impl<'t, T: Child<'t, Leaf = L> + fmt::Debug, L> fmt::Debug for Children<'t, T, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}
