//! Which Helm major runs: 3 takes a post-renderer path, 4 a plugin name.

use std::ffi::OsStr;
use std::process::{Command, Stdio};

use anyhow::{Context, bail};

/// The major version of `helm` (3 or 4).
pub fn helm_major(helm: &OsStr) -> anyhow::Result<u32> {
    let out = Command::new(helm)
        .args(["version", "--short"])
        .stdin(Stdio::null())
        .output()
        .with_context(|| {
            format!(
                "cannot run {} (set HELM_BIN or put helm on PATH)",
                helm.to_string_lossy()
            )
        })?;
    let text = String::from_utf8_lossy(&out.stdout);
    let major = text
        .trim()
        .strip_prefix('v')
        .and_then(|v| v.split('.').next())
        .and_then(|m| m.parse().ok());
    match major {
        Some(m @ (3 | 4)) if out.status.success() => Ok(m),
        _ => bail!(
            "{} version --short said {:?}: helm-regcred needs Helm 3 or Helm 4",
            helm.to_string_lossy(),
            text.trim()
        ),
    }
}
