//! Where a registry's username and password come from.

use serde::Deserialize;

/// One credential source of a registry entry in the rules file (`credentials:`).
///
/// Serialized as a single-key mapping, e.g. `env: {username: REG_USER, password: REG_PASSWORD}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub enum CredentialSource {
    /// Read both values from environment variables (named here, never the values themselves).
    Env { username: String, password: String },
}
