//! All integration tests, in one binary (one link, shared helpers).

mod cli;
mod corpus;
mod helm;
mod util;
