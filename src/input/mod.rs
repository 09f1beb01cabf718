//! Input: the stream of documents, where it comes from, and what its source says about it.

pub mod stream;
