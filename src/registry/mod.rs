//! The registry side of the domain: image references, the pull Secret's payload, and where
//! usernames and passwords come from.

pub mod credentials;
pub mod dockerconfig;
pub mod image;
pub mod secret;
