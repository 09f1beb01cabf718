//! The user's `helm`, for what only Helm knows: fetching a chart (`helm pull`, with the user's
//! repositories and registry logins) and rendering it (`helm template`, with the user's values).
//! Nothing of either is re-implemented here.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::ValuesError;

/// Which `helm`: `--helm`, else `$HELM_BIN` (what Helm sets for its plugins, passed in by the
/// front end), else `helm` on PATH.
#[derive(Debug, Clone)]
pub struct Helm {
    pub bin: OsString,
}

impl Helm {
    pub fn locate(flag: Option<&OsStr>, helm_bin_env: Option<OsString>) -> Helm {
        let bin = flag
            .map(OsStr::to_os_string)
            .or_else(|| helm_bin_env.filter(|b| !b.is_empty()))
            .unwrap_or_else(|| "helm".into());
        Helm { bin }
    }

    /// Runs helm; on failure, its stderr and the command line, with `shown` in place of the
    /// argument it stands for (the scratch copy of a chart is gone by the time anyone reads it).
    fn run(
        &self,
        what: &str,
        args: &[OsString],
        shown: Option<(&OsStr, &str)>,
    ) -> Result<Vec<u8>, ValuesError> {
        let out = Command::new(&self.bin)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .map_err(|source| ValuesError::HelmMissing {
                helm: self.bin.to_string_lossy().into_owned(),
                source,
            })?;
        if !out.status.success() {
            return Err(ValuesError::Helm {
                what: what.to_string(),
                command: format!(
                    "{} {}",
                    self.bin.to_string_lossy(),
                    args.iter()
                        .map(|a| match shown {
                            Some((arg, label)) if arg == a.as_os_str() => label.into(),
                            _ => a.to_string_lossy(),
                        })
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
                stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            });
        }
        Ok(out.stdout)
    }

    /// `helm pull REF -d DIR [flags]`; the path of the archive it wrote.
    pub fn pull(&self, reference: &str, fetch: &Fetch, dir: &Path) -> Result<PathBuf, ValuesError> {
        let mut args: Vec<OsString> = vec!["pull".into(), reference.into(), "-d".into()];
        args.push(dir.into());
        if let Some(v) = &fetch.version {
            args.extend(["--version".into(), v.into()]);
        }
        if fetch.devel {
            args.push("--devel".into());
        }
        if let Some(r) = &fetch.repo {
            args.extend(["--repo".into(), r.into()]);
        }
        if fetch.plain_http {
            args.push("--plain-http".into());
        }
        if fetch.insecure_skip_tls_verify {
            args.push("--insecure-skip-tls-verify".into());
        }
        for (flag, value) in [
            ("--ca-file", &fetch.ca_file),
            ("--cert-file", &fetch.cert_file),
            ("--key-file", &fetch.key_file),
        ] {
            if let Some(v) = value {
                args.extend([flag.into(), v.into()]);
            }
        }
        self.run(&format!("fetch chart {reference}"), &args, None)?;
        let mut archives: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|source| ValuesError::Read {
                path: dir.to_path_buf(),
                source,
            })?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "tgz"))
            .collect();
        match archives.len() {
            1 => Ok(archives.remove(0)),
            n => Err(ValuesError::Helm {
                what: format!("fetch chart {reference}"),
                command: "helm pull".into(),
                stderr: format!("expected one chart archive, found {n}"),
            }),
        }
    }

    /// `helm template RELEASE CHART -n NS <user values> -f EXTRA...`: the rendered stream.
    pub fn template(
        &self,
        chart: &Path,
        chart_label: &str,
        release: &Release,
        user: &UserValues,
        extra: &[&Path],
    ) -> Result<String, ValuesError> {
        let mut args: Vec<OsString> = vec!["template".into(), release.name.clone().into()];
        args.push(chart.into());
        if let Some(ns) = &release.namespace {
            args.extend(["--namespace".into(), ns.into()]);
        }
        if let Some(v) = &release.kube_version {
            args.extend(["--kube-version".into(), v.into()]);
        }
        for api in &release.api_versions {
            args.extend(["--api-versions".into(), api.into()]);
        }
        args.extend(user.helm_args());
        for file in extra {
            args.extend(["-f".into(), file.into()]);
        }
        let out = self.run(
            "render the chart",
            &args,
            Some((chart.as_os_str(), chart_label)),
        )?;
        String::from_utf8(out).map_err(|_| ValuesError::Helm {
            what: "render the chart".into(),
            command: "helm template".into(),
            stderr: "the output is not UTF-8".into(),
        })
    }
}

/// How to fetch a chart that is not on disk: `helm pull`'s own flags.
#[derive(Debug, Clone, Default)]
pub struct Fetch {
    pub version: Option<String>,
    pub devel: bool,
    pub repo: Option<String>,
    pub plain_http: bool,
    pub insecure_skip_tls_verify: bool,
    pub ca_file: Option<PathBuf>,
    pub cert_file: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
}

/// The release the values are for. Probes render with it, so conditions on the release's
/// name or namespace come out as they will at install time.
#[derive(Debug, Clone)]
pub struct Release {
    pub name: String,
    pub namespace: Option<String>,
    /// `helm template --kube-version` and `--api-versions`: what `.Capabilities` says, for
    /// charts that render pods only on some clusters.
    pub kube_version: Option<String>,
    pub api_versions: Vec<String>,
}

/// The user's values as Helm takes them. Helm applies `-f` files in order, then `--set-json`,
/// `--set`, `--set-string`, `--set-file`, `--set-literal` (helm's `values.Options.MergeValues`),
/// so only the order within each flag matters, and that is kept.
#[derive(Debug, Clone, Default)]
pub struct UserValues {
    pub files: Vec<PathBuf>,
    pub set: Vec<String>,
    pub set_string: Vec<String>,
    pub set_json: Vec<String>,
    pub set_file: Vec<String>,
    pub set_literal: Vec<String>,
}

impl UserValues {
    pub fn helm_args(&self) -> Vec<OsString> {
        let mut args: Vec<OsString> = Vec::new();
        for file in &self.files {
            args.extend(["-f".into(), file.into()]);
        }
        for (flag, values) in [
            ("--set-json", &self.set_json),
            ("--set", &self.set),
            ("--set-string", &self.set_string),
            ("--set-file", &self.set_file),
            ("--set-literal", &self.set_literal),
        ] {
            for v in values {
                args.extend([flag.into(), v.into()]);
            }
        }
        args
    }

    /// As a user would type them, for the generated file's header.
    pub fn describe(&self) -> String {
        self.helm_args()
            .iter()
            .map(|a| {
                let a = a.to_string_lossy();
                if a.contains([' ', '"', '\'']) {
                    format!("'{}'", a.replace('\'', r"'\''"))
                } else {
                    a.into_owned()
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}
