//! The registry side of the domain: image references, the pull Secret's payload, where
//! usernames and passwords come from, and which `auths` key the kubelet sends for an image
//! (`keyring`).

pub mod credentials;
pub mod dockerconfig;
pub mod image;
pub mod keyring;
pub mod secret;
