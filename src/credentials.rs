//! Where a registry's username and password come from.

use std::fmt;

use serde::Deserialize;
use thiserror::Error;

/// One credential source of a registry entry in the rules file (`credentials:`).
///
/// Serialized as a single-key mapping, e.g. `env: {username: REG_USER, password: REG_PASSWORD}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub enum CredentialSource {
    /// Read both values from environment variables (named here, never the values themselves).
    Env { username: String, password: String },
}

/// A resolved username and password.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Which half of a credential a source failed to provide.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CredentialField {
    Username,
    Password,
}

impl fmt::Display for CredentialField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CredentialField::Username => "username",
            CredentialField::Password => "password",
        })
    }
}

/// Why a credential source could not be resolved.
///
/// Messages name where the value was looked for and never contain the value: they end up in
/// CI logs.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum CredentialError {
    #[error("{field} environment variable {var} is not set")]
    EnvUnset { field: CredentialField, var: String },
    /// Reported separately from unset because an empty value usually means a CI secret that
    /// was declared but not populated, which is a different fix.
    #[error("{field} environment variable {var} is set but empty")]
    EnvEmpty { field: CredentialField, var: String },
}

impl CredentialSource {
    /// Reads the credentials this source names.
    ///
    /// `env` looks up an environment variable; it is a parameter so callers can resolve
    /// against a snapshot or a test map instead of the process environment.
    pub fn resolve(
        &self,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Credentials, CredentialError> {
        match self {
            CredentialSource::Env { username, password } => Ok(Credentials {
                username: env_value(env, CredentialField::Username, username)?,
                password: env_value(env, CredentialField::Password, password)?,
            }),
        }
    }
}

fn env_value(
    env: &dyn Fn(&str) -> Option<String>,
    field: CredentialField,
    var: &str,
) -> Result<String, CredentialError> {
    match env(var) {
        None => Err(CredentialError::EnvUnset {
            field,
            var: var.to_owned(),
        }),
        Some(value) if value.is_empty() => Err(CredentialError::EnvEmpty {
            field,
            var: var.to_owned(),
        }),
        Some(value) => Ok(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source() -> CredentialSource {
        CredentialSource::Env {
            username: "REG_USER".to_owned(),
            password: "REG_PASSWORD".to_owned(),
        }
    }

    fn lookup<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn deserializes_env_source() {
        let parsed: CredentialSource =
            serde_json::from_str(r#"{"env":{"username":"REG_USER","password":"REG_PASSWORD"}}"#)
                .unwrap();
        assert_eq!(parsed, source());
        assert!(
            serde_json::from_str::<CredentialSource>(
                r#"{"env":{"username":"U","password":"P","extra":"X"}}"#
            )
            .is_err()
        );
    }

    #[test]
    fn resolves_from_env() {
        let env = lookup(&[("REG_USER", "robot"), ("REG_PASSWORD", "s3cr<t&")]);
        assert_eq!(
            source().resolve(&env),
            Ok(Credentials {
                username: "robot".to_owned(),
                password: "s3cr<t&".to_owned(),
            })
        );
    }

    #[test]
    fn unset_variable_is_named() {
        let env = lookup(&[("REG_USER", "robot")]);
        let err = source().resolve(&env).unwrap_err();
        assert_eq!(
            err,
            CredentialError::EnvUnset {
                field: CredentialField::Password,
                var: "REG_PASSWORD".to_owned()
            }
        );
        assert_eq!(
            err.to_string(),
            "password environment variable REG_PASSWORD is not set"
        );
    }

    #[test]
    fn empty_variable_is_named_without_values() {
        let env = lookup(&[("REG_USER", ""), ("REG_PASSWORD", "hunter2")]);
        let err = source().resolve(&env).unwrap_err();
        assert_eq!(
            err.to_string(),
            "username environment variable REG_USER is set but empty"
        );

        let env = lookup(&[("REG_USER", "robot"), ("REG_PASSWORD", "")]);
        let message = source().resolve(&env).unwrap_err().to_string();
        assert_eq!(
            message,
            "password environment variable REG_PASSWORD is set but empty"
        );
        assert!(!message.contains("robot"));
    }

    #[test]
    fn debug_redacts_password() {
        let credentials = Credentials {
            username: "robot".to_owned(),
            password: "hunter2".to_owned(),
        };
        let debug = format!("{credentials:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(
            debug.contains("robot") && debug.contains("<redacted>"),
            "{debug}"
        );
    }
}
