//! Helm 4 plugin discovery: is `regcred-postrender` installed, else where the checkout's is.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, bail};

use super::POSTRENDER_PLUGIN;

/// `HELM_PLUGINS` for Helm 4 when `regcred-postrender` is not installed: the current list plus
/// the checkout's `plugins/` (found beside the CLI plugin, or above this binary). `None` when
/// Helm already has the plugin.
pub fn helm4_plugins(helm: &OsStr, exe: &Path) -> anyhow::Result<Option<OsString>> {
    let dirs = plugin_dirs(helm)?;
    if dirs.iter().any(|d| has_postrender_plugin(d)) {
        return Ok(None);
    }
    let plugin_dir = std::env::var_os("HELM_PLUGIN_DIR").map(PathBuf::from);
    let bundled = plugin_dir
        .iter()
        .map(|d| d.join("plugins"))
        .chain(exe.ancestors().skip(1).map(|d| d.join("plugins")))
        .find(|d| d.join(POSTRENDER_PLUGIN).join("plugin.yaml").is_file());
    let Some(bundled) = bundled else {
        bail!(
            "Helm 4 runs post-renderers as plugins, and {POSTRENDER_PLUGIN} is not installed: run \
             scripts/install-plugin in the helm-regcred checkout, or `helm plugin install \
             <checkout>/plugins/{POSTRENDER_PLUGIN}`"
        );
    };
    let joined = std::env::join_paths(dirs.into_iter().chain([bundled]))
        .context("cannot extend HELM_PLUGINS")?;
    Ok(Some(joined))
}

/// Helm's plugin directories: `HELM_PLUGINS` (set for a CLI plugin), else what `helm env` says.
pub fn plugin_dirs(helm: &OsStr) -> anyhow::Result<Vec<PathBuf>> {
    let current = match std::env::var_os("HELM_PLUGINS").filter(|p| !p.is_empty()) {
        Some(p) => p,
        None => {
            let out = Command::new(helm)
                .args(["env", "HELM_PLUGINS"])
                .stdin(Stdio::null())
                .output()
                .context("helm env HELM_PLUGINS")?;
            String::from_utf8_lossy(&out.stdout).trim().into()
        }
    };
    Ok(std::env::split_paths(&current).collect())
}

/// Does `dir` hold a plugin named regcred-postrender? Helm names the directory after where the
/// plugin was installed from, so read each plugin.yaml's top-level `name:`.
fn has_postrender_plugin(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().any(|entry| {
        std::fs::read_to_string(entry.path().join("plugin.yaml")).is_ok_and(|text| {
            text.lines().any(|line| {
                line.strip_prefix("name:")
                    .map(|v| v.trim().trim_matches(['"', '\'']))
                    == Some(POSTRENDER_PLUGIN)
            })
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_postrender_plugin_by_name_not_directory() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!has_postrender_plugin(dir.path()));
        std::fs::create_dir(dir.path().join("whatever")).unwrap();
        std::fs::write(
            dir.path().join("whatever/plugin.yaml"),
            "apiVersion: v1\nname: \"regcred-postrender\"\n",
        )
        .unwrap();
        assert!(has_postrender_plugin(dir.path()));
    }
}
