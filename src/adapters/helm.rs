//! Helm's command line, as the `helm regcred` wrappers and `check RELEASE CHART` read it: which
//! arguments are helm-regcred's and which are Helm's, the release and namespace they name, and
//! which `helm` to run. Shared here so no command imports another.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::engine::Env;
use crate::rules::{self, Config, RulesError};

/// Arguments the wrappers cannot pass on.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ArgsError {
    #[error("{0} needs a value")]
    NeedsValue(String),
    #[error("--regcred-set: {0}")]
    BadSet(String),
    #[error("--color {0}: expected auto, always or never")]
    BadColor(String),
    #[error(
        "--post-renderer-args {0:?} without --post-renderer: there is no post-renderer of yours to give it to"
    )]
    ArgsWithoutPostRenderer(String),
}

/// `--color` of the wrappers (also `--colour`): helm-regcred's diff. Helm 4 has a flag of that
/// name too; the wrappers take it, and Helm colours nothing the wrappers show.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Color {
    #[default]
    Auto,
    Always,
    Never,
}

/// The wrapper's arguments, sorted into helm-regcred's and Helm's.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Split {
    /// `--regcred-rules FILE` (also `-r`/`--rules`, which Helm has not taken).
    pub rules: Option<PathBuf>,
    /// `--regcred-set KEY=VALUE`, in order: template variables of the rules.
    pub sets: Vec<(String, String)>,
    /// `--no-diff`: print nothing of what helm-regcred changed (also quiets its warnings about
    /// what Helm 3 cannot do).
    pub no_diff: bool,
    pub color: Color,
    /// The user's own `--post-renderer`: run before helm-regcred's.
    pub post_renderer: Option<String>,
    /// Its `--post-renderer-args`, in order.
    pub post_renderer_args: Vec<String>,
    /// `--output-dir` was given (Helm 3 then post-renders nothing).
    pub output_dir: bool,
    /// Everything for Helm, in the order given.
    pub helm_args: Vec<String>,
    pub positionals: Vec<String>,
    /// The last `-n`/`--namespace` among the arguments.
    pub namespace: Option<String>,
    pub generate_name: bool,
}

/// Long flags of `helm install|upgrade|template` (3.17 and 4.1, global ones included) that take
/// a value as the next argument. Needed to tell `-f values.yaml RELEASE CHART` apart; flags
/// with optional values (`--dry-run`, `--wait` in Helm 4) only take one after `=`.
const VALUE_FLAGS: &[&str] = &[
    "api-versions",
    "burst-limit",
    "ca-file",
    "cert-file",
    "color",
    "colour",
    "content-cache",
    "description",
    "history-max",
    "key-file",
    "keyring",
    "kube-apiserver",
    "kube-as-group",
    "kube-as-user",
    "kube-ca-file",
    "kube-context",
    "kube-tls-server-name",
    "kube-token",
    "kube-version",
    "kubeconfig",
    "labels",
    "name-template",
    "namespace",
    "output",
    "output-dir",
    "password",
    "qps",
    "registry-config",
    "repo",
    "repository-cache",
    "repository-config",
    "set",
    "set-file",
    "set-json",
    "set-literal",
    "set-string",
    "show-only",
    "timeout",
    "username",
    "values",
    "version",
];
/// Short flags that take a value: -a -f -l -n -o -s.
const VALUE_SHORTS: &str = "aflnos";

/// Sort `args` (what follows `helm regcred <action>`) for `helm <command>`; `check` also knows
/// its own `--release NAME`.
pub fn split(command: &str, args: &[String]) -> Result<Split, ArgsError> {
    let mut s = Split::default();
    let mut i = 0;
    let value = |i: usize, flag: &str| -> Result<String, ArgsError> {
        args.get(i + 1)
            .cloned()
            .ok_or_else(|| ArgsError::NeedsValue(flag.to_string()))
    };
    while i < args.len() {
        let arg = &args[i];
        if arg == "--" {
            s.helm_args.extend(args[i..].iter().cloned());
            s.positionals.extend(args[i + 1..].iter().cloned());
            break;
        }
        // helm-regcred's own flags: `--regcred-*` can never be Helm's; `--rules`, `--no-diff`
        // and `--color` are not Helm 3's, and Helm 4's `--color` colours nothing we show.
        let (name, inline) = match arg.strip_prefix("--").map(|l| l.split_once('=')) {
            Some(Some((n, v))) => (n, Some(v.to_string())),
            Some(None) => (&arg[2..], None),
            None => ("", None),
        };
        let own_value = |i: &mut usize| -> Result<String, ArgsError> {
            match &inline {
                Some(v) => Ok(v.clone()),
                None => {
                    let v = value(*i, arg)?;
                    *i += 1;
                    Ok(v)
                }
            }
        };
        if arg == "--no-diff" || arg == "--regcred-no-diff" {
            s.no_diff = true;
        } else if arg == "-r" {
            s.rules = Some(value(i, arg)?.into());
            i += 1;
        } else if name == "rules" || name == "regcred-rules" {
            s.rules = Some(own_value(&mut i)?.into());
        } else if name == "regcred-set" {
            let v = own_value(&mut i)?;
            let set = rules::template::parse_set(&v).map_err(ArgsError::BadSet)?;
            s.sets.push(set);
        } else if name == "color" || name == "colour" || name == "regcred-color" {
            let v = own_value(&mut i)?;
            s.color = match v.as_str() {
                "auto" => Color::Auto,
                "always" => Color::Always,
                "never" => Color::Never,
                _ => return Err(ArgsError::BadColor(v)),
            };
        } else if name == "post-renderer" {
            s.post_renderer = Some(own_value(&mut i)?);
        } else if name == "post-renderer-args" {
            s.post_renderer_args.push(own_value(&mut i)?);
        } else if let Some(long) = arg.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            let takes_value = VALUE_FLAGS.contains(&name)
                || (name == "server-side" && command == "upgrade")
                || (name == "release" && command == "check");
            s.helm_args.push(arg.clone());
            let v = match inline {
                Some(v) => Some(v),
                None if takes_value => {
                    let v = value(i, arg)?;
                    s.helm_args.push(v.clone());
                    i += 1;
                    Some(v)
                }
                None => None,
            };
            match name {
                "namespace" => s.namespace = v,
                "generate-name" => s.generate_name = true,
                "output-dir" => s.output_dir = true,
                _ => {}
            }
        } else if arg.len() >= 2 && arg.starts_with('-') {
            let mut chars = arg[1..].chars();
            let flag = chars.next().unwrap_or_default();
            let attached = chars.as_str();
            s.helm_args.push(arg.clone());
            if flag == 'g' {
                s.generate_name = true;
            }
            if VALUE_SHORTS.contains(flag) {
                let v = if !attached.is_empty() {
                    attached.trim_start_matches('=').to_string()
                } else {
                    let v = value(i, arg)?;
                    s.helm_args.push(v.clone());
                    i += 1;
                    v
                };
                if flag == 'n' {
                    s.namespace = Some(v);
                }
            }
        } else {
            s.helm_args.push(arg.clone());
            s.positionals.push(arg.clone());
        }
        i += 1;
    }
    if s.post_renderer.is_none()
        && let Some(first) = s.post_renderer_args.first()
    {
        return Err(ArgsError::ArgsWithoutPostRenderer(first.clone()));
    }
    Ok(s)
}

impl Split {
    /// The release name Helm will use, when the arguments say it.
    pub fn release(&self, command: &str) -> Option<String> {
        if self.generate_name {
            return None;
        }
        match self.positionals.as_slice() {
            [release, _chart, ..] => Some(release.clone()),
            // `helm template CHART` names the release `release-name`.
            [_chart] if command == "template" => Some("release-name".into()),
            _ => None,
        }
    }

    /// `-n` from the arguments, else `HELM_NAMESPACE` (Helm sets it for CLI plugins, with
    /// `-n` already taken off the arguments and the kube context's default applied).
    pub fn namespace(&self, env: Env) -> Option<String> {
        self.namespace
            .clone()
            .or_else(|| env("HELM_NAMESPACE"))
            .filter(|ns| !ns.is_empty())
    }

    /// The rules file: `--rules`, else `$HELM_REGCRED_RULES`, else `./regcred.yaml`.
    pub fn rules_path(&self, env: Env) -> std::io::Result<PathBuf> {
        rules::find_file(self.rules.as_deref(), env)
    }

    /// The rules file, with `--regcred-set` applied.
    pub fn config(&self, env: Env) -> Result<Config, RulesError> {
        let path = self.rules_path(env).map_err(|source| RulesError::Read {
            path: ".".into(),
            source,
        })?;
        let mut config = Config::load(&path)?;
        for (key, value) in &self.sets {
            config.set_var(key, value);
        }
        Ok(config)
    }
}

/// `$HELM_BIN` (set by Helm for its plugins), else `helm` on PATH.
pub fn helm_bin(env: Env) -> OsString {
    env("HELM_BIN")
        .filter(|b| !b.is_empty())
        .map_or_else(|| "helm".into(), OsString::from)
}

/// Helm's exit code, as ours.
pub fn exit_code(status: std::process::ExitStatus) -> ExitCode {
    match status.code() {
        Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        None => ExitCode::FAILURE, // killed by a signal
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn split_finds_release_chart_namespace_and_our_flags() {
        let args = strings(&[
            "-f",
            "values.yaml",
            "--rules",
            "r.yaml",
            "app",
            "--set=a=b",
            "--namespace",
            "ns1",
            "./chart",
            "--no-diff",
            "--dry-run",
            "-nns2",
            "--wait",
            "--timeout",
            "5m",
        ]);
        let s = split("install", &args).unwrap();
        assert_eq!(s.positionals, ["app", "./chart"]);
        assert_eq!(s.rules, Some(PathBuf::from("r.yaml")));
        assert!(s.no_diff);
        assert_eq!(s.namespace.as_deref(), Some("ns2"));
        assert_eq!(s.release("install").as_deref(), Some("app"));
        assert_eq!(
            s.helm_args,
            strings(&[
                "-f",
                "values.yaml",
                "app",
                "--set=a=b",
                "--namespace",
                "ns1",
                "./chart",
                "--dry-run",
                "-nns2",
                "--wait",
                "--timeout",
                "5m",
            ])
        );
    }

    #[test]
    fn split_generate_name_and_template_defaults() {
        let s = split("install", &strings(&["./chart", "-g"])).unwrap();
        assert_eq!(s.release("install"), None);
        let s = split("template", &strings(&["./chart"])).unwrap();
        assert_eq!(s.release("template").as_deref(), Some("release-name"));
        let s = split("upgrade", &strings(&["--server-side", "true", "r", "c"])).unwrap();
        assert_eq!(s.positionals, ["r", "c"]);
        let s = split("install", &strings(&["--server-side", "r", "c"])).unwrap();
        assert_eq!(s.positionals, ["r", "c"]);
        let s = split(
            "template",
            &strings(&["-é", "-n=ns", "r", "--", "c", "--x"]),
        )
        .unwrap();
        assert_eq!(s.namespace.as_deref(), Some("ns"));
        assert_eq!(s.positionals, ["r", "c", "--x"]);
        assert_eq!(s.helm_args, ["-é", "-n=ns", "r", "--", "c", "--x"]);
    }

    #[test]
    fn split_takes_our_flags_and_the_users_post_renderer() {
        let s = split(
            "template",
            &strings(&[
                "r",
                "c",
                "--post-renderer",
                "./mine.sh",
                "--post-renderer-args=a b",
                "--post-renderer-args",
                "--x",
                "--regcred-set",
                "user_id=1001",
                "--regcred-set=team=ops",
                "--regcred-rules=r.yaml",
                "--set",
                "image.tag=1",
                "--color",
                "never",
                "--output-dir",
                "out",
            ]),
        )
        .unwrap();
        assert_eq!(s.post_renderer.as_deref(), Some("./mine.sh"));
        assert_eq!(s.post_renderer_args, ["a b", "--x"]);
        assert_eq!(
            s.sets,
            [
                ("user_id".to_string(), "1001".to_string()),
                ("team".to_string(), "ops".to_string())
            ]
        );
        assert_eq!(s.rules, Some(PathBuf::from("r.yaml")));
        assert_eq!(s.color, Color::Never);
        assert!(s.output_dir);
        // Helm gets its own flags, and none of ours or the chained post-renderer's.
        assert_eq!(
            s.helm_args,
            strings(&["r", "c", "--set", "image.tag=1", "--output-dir", "out"])
        );
    }

    #[test]
    fn split_rejects_what_it_cannot_honour() {
        let e = split("install", &strings(&["r", "c", "--rules"])).unwrap_err();
        assert!(e.to_string().contains("--rules needs a value"), "{e}");
        let e = split(
            "install",
            &strings(&["r", "c", "--post-renderer-args", "x"]),
        )
        .unwrap_err();
        assert!(e.to_string().contains("without --post-renderer"), "{e}");
        let e = split("install", &strings(&["r", "c", "--regcred-set", "1x=2"])).unwrap_err();
        assert!(e.to_string().starts_with("--regcred-set: "), "{e}");
        let e = split("install", &strings(&["r", "c", "--color=sometimes"])).unwrap_err();
        assert!(e.to_string().contains("auto, always or never"), "{e}");
    }
}
