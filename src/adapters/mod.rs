//! Front-end protocols that are part of the engine: the KRM `ResourceList`.

pub mod krm;
