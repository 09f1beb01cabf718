//! Front-end protocols that are part of the library: the KRM `ResourceList`, and Helm's command
//! line as the `helm regcred` wrappers and `check` read it.

pub mod helm;
pub mod krm;
