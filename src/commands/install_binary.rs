//! `helm-regcred install-binary DIR`: the binary copies itself into a directory, optionally with
//! the Kustomize exec transformer plugin beside it.
//!
//! Why in the binary: the container image is `FROM scratch` (Containerfile) — no shell, no `cp`
//! — and Argo CD's Config Management Plugin needs the binary inside the repo server's sidecar,
//! which runs another image. An init container running this image with
//! `helm-regcred install-binary /shared-volume` is the only way to get it there. Everywhere
//! else `scripts/install-kustomize-plugin` does the same job.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

#[derive(clap::Args)]
pub struct Args {
    /// Directory to copy this binary into, as DIR/helm-regcred (created if missing).
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    /// Also install the Kustomize exec transformer plugin for kind RegcredConfig under this
    /// plugin home (the script scripts/install-kustomize-plugin writes), running DIR/helm-regcred.
    #[arg(long, value_name = "DIR")]
    kustomize_plugin_home: Option<PathBuf>,
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let exe = std::env::current_exe().context("cannot find this program's own file")?;
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("cannot create {}", args.dir.display()))?;
    let target = args.dir.join("helm-regcred");
    let bytes = std::fs::read(&exe).with_context(|| format!("cannot read {}", exe.display()))?;
    write_executable(&target, &bytes)?;
    eprintln!("helm-regcred: installed {}", target.display());
    if let Some(home) = &args.kustomize_plugin_home {
        // kustomize looks for <home>/<group>/<version>/<lowercase kind>/<Kind>: the rules'
        // apiVersion helm-regcred/v1, kind RegcredConfig.
        let plugin = home.join("helm-regcred/v1/regcredconfig/RegcredConfig");
        let target = target
            .to_str()
            .context("the directory is not valid UTF-8")?;
        anyhow::ensure!(
            !target.contains('\''),
            "the directory {target} has a quote in it; the plugin script cannot name it"
        );
        let script = format!(
            "#!/bin/sh\n# Kustomize transformer plugin for kind RegcredConfig (helm-regcred/v1), installed by\n# `helm-regcred install-binary`. Kustomize passes the config resource's temp file as $1 and\n# the resources on stdin.\nexec '{target}' kustomize \"$@\"\n"
        );
        std::fs::create_dir_all(plugin.parent().unwrap())
            .with_context(|| format!("cannot create {}", plugin.display()))?;
        write_executable(&plugin, script.as_bytes())?;
        eprintln!("helm-regcred: installed {}", plugin.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// Written beside and renamed into place: a process starting it never sees half a file.
fn write_executable(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755))
        .with_context(|| format!("cannot make {} executable", tmp.display()))?;
    std::fs::rename(&tmp, path)
        .with_context(|| format!("cannot rename {} to {}", tmp.display(), path.display()))
}
