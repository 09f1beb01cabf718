//! Views of a plan: the output stream, its redacted before/after texts, and the diff. None of
//! them plans or reads credentials; they print what [`crate::engine::Outcome`] holds.

pub mod check;
pub mod diff;
pub mod explain;
pub mod kubelet;
pub(crate) mod redact;
pub mod stream;
