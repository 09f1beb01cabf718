//! Views of a plan: the output stream, its redacted before/after texts, and the diff.

pub mod diff;
pub mod stream;
