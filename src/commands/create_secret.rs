//! `create-secret`: the pull Secret alone, as `kubectl create secret docker-registry` makes it.
//!
//! Three ways to say where the login comes from:
//!
//! * flags, as kubectl: `create-secret NAME --server S --username U --password-stdin`;
//! * a registry entry of the rules file: `create-secret [NAME] --from-rules regcred.yaml`
//!   (the same Secret post-render would emit, credentials from the entry's source);
//! * a docker config: `create-secret NAME --from-docker-config [PATH] [--server S]...`, one
//!   Secret holding every (or each selected) registry's login.
//!
//! The password never needs to be on the command line: stdin is the default, and `--password`
//! works only with a warning, as with `docker login`.

use std::io::{IsTerminal, Read as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use helm_regcred::Syntax;
use helm_regcred::names::{is_dns1123_label, is_dns1123_subdomain};
use helm_regcred::registry::credentials::{Context, Stdin};
use helm_regcred::registry::dockerconfig::{self, DockerConfig, Helpers};
use helm_regcred::registry::image::normalize_registry_host;
use helm_regcred::registry::secret::{RegistryAuth, docker_config_json, kubectl_secret};
use helm_regcred::rules::template::Renderer;

use super::{load_config, parse_set};

/// kubectl's `--docker-server` default.
const DOCKER_HUB_SERVER: &str = "https://index.docker.io/v1/";

/// `-o yaml|json`, kubectl's spelling.
fn output_format() -> impl clap::builder::TypedValueParser<Value = Syntax> {
    use clap::builder::TypedValueParser as _;
    clap::builder::PossibleValuesParser::new(["yaml", "json"])
        .map(|name| Syntax::from_name(&name).expect("one of the possible values"))
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Name of the Secret. With --from-rules it defaults to the registry entry's `secret`.
    #[arg(value_name = "NAME")]
    pub name: Option<String>,
    /// Registry server, as kubectl's --docker-server (default: Docker Hub). With
    /// --from-rules or --from-docker-config: which registries to take (repeatable).
    #[arg(long, value_name = "SERVER")]
    pub server: Vec<String>,
    /// Username for the registry.
    #[arg(short, long, value_name = "USER")]
    pub username: Option<String>,
    /// Read the password from stdin (the default when --password is not given).
    #[arg(long, conflicts_with = "password")]
    pub password_stdin: bool,
    /// The password on the command line: visible in the process list and shell history, so a
    /// warning is printed. Prefer --password-stdin.
    #[arg(long, value_name = "PASSWORD")]
    pub password: Option<String>,
    /// Email stored with the login (optional, as kubectl's --docker-email).
    #[arg(long, value_name = "EMAIL")]
    pub email: Option<String>,
    /// Namespace of the Secret (omitted from the output when not given, as with kubectl).
    #[arg(short, long, value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    /// Output format.
    #[arg(
        short,
        long,
        default_value = "yaml",
        value_name = "FORMAT",
        value_parser = output_format()
    )]
    pub output: Syntax,
    /// Write the Secret to this file (created with mode 0600) instead of stdout.
    #[arg(long, value_name = "PATH")]
    pub output_file: Option<PathBuf>,
    /// Take the login from this rules file's registry entry (selected by NAME or --server).
    #[arg(
        long,
        value_name = "RULES",
        conflicts_with_all = ["username", "password", "password_stdin", "email", "from_docker_config"]
    )]
    pub from_rules: Option<PathBuf>,
    /// Take the logins from a docker config.json (default: docker's own,
    /// $DOCKER_CONFIG/config.json or ~/.docker/config.json): every registry in it, or those
    /// named by --server.
    #[arg(
        long,
        value_name = "PATH",
        num_args = 0..=1,
        conflicts_with_all = ["username", "password", "password_stdin", "email"]
    )]
    pub from_docker_config: Option<Option<PathBuf>>,
    /// With --from-rules: set a template variable (`vars.KEY`).
    #[arg(long = "set", value_name = "KEY=VALUE", value_parser = parse_set, requires = "from_rules")]
    pub set: Vec<(String, String)>,
    /// With --from-rules: the release name, for `{{ release }}` in templated names.
    #[arg(long, env = "HELM_REGCRED_RELEASE", value_name = "NAME")]
    pub release: Option<String>,
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let env = |name: &str| std::env::var(name).ok();
    if let Some(namespace) = &args.namespace
        && !is_dns1123_label(namespace)
    {
        bail!(
            "namespace `{namespace}` is not a valid Kubernetes namespace name: lowercase letters, \
             digits and `-`, at most 63 characters"
        );
    }
    let (name, auths) = if let Some(rules) = &args.from_rules {
        from_rules(args, rules, &env)?
    } else if let Some(path) = &args.from_docker_config {
        from_docker_config(args, path.as_deref(), &env)?
    } else {
        from_flags(args)?
    };
    if !is_dns1123_subdomain(&name) {
        bail!(
            "`{name}` is not a valid Kubernetes Secret name: use lowercase letters, digits, `-` \
             and `.`, starting and ending with a letter or digit, at most 253 characters"
        );
    }
    let format = args.output;
    let text = kubectl_secret(
        &name,
        args.namespace.as_deref(),
        &docker_config_json(&auths),
        format,
    );
    match &args.output_file {
        Some(path) => super::write_private(path, text.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => super::write_stdout(text.as_bytes())?,
    }
    Ok(ExitCode::SUCCESS)
}

fn require_name(args: &Args) -> anyhow::Result<String> {
    args.name
        .clone()
        .context("the Secret's NAME is required: `helm-regcred create-secret NAME ...`")
}

/// kubectl-style flags; the password from stdin unless `--password` is given.
fn from_flags(args: &Args) -> anyhow::Result<(String, Vec<RegistryAuth>)> {
    let name = require_name(args)?;
    let server = match args.server.as_slice() {
        [] => DOCKER_HUB_SERVER.to_string(),
        [one] => one.clone(),
        _ => bail!(
            "one --server per Secret with --username; to put several registries in one Secret \
             use --from-docker-config or --from-rules"
        ),
    };
    if server.trim().is_empty() {
        bail!("--server is empty");
    }
    let username = args
        .username
        .clone()
        .filter(|u| !u.is_empty())
        .context("--username is required (or use --from-rules / --from-docker-config)")?;
    let password = match &args.password {
        Some(password) => {
            // As `docker login` warns: argv is readable by every user on the machine.
            eprintln!(
                "helm-regcred: warning: using --password on the command line is insecure (it \
                 shows in the process list and shell history); use --password-stdin"
            );
            password.clone()
        }
        None => {
            if !args.password_stdin && std::io::stdin().is_terminal() {
                bail!(
                    "no password: pipe it on stdin, e.g. `printf %s \"$TOKEN\" | helm-regcred \
                     create-secret {name} --server {server} --username {username} \
                     --password-stdin`"
                );
            }
            read_password_stdin()?
        }
    };
    if password.is_empty() {
        bail!("the password is empty");
    }
    Ok((
        name,
        vec![RegistryAuth {
            server,
            username,
            password,
            email: args.email.clone(),
        }],
    ))
}

/// Like `docker login --password-stdin`: everything on stdin, minus one trailing line break.
fn read_password_stdin() -> anyhow::Result<String> {
    let mut text = String::new();
    std::io::stdin()
        .lock()
        .read_to_string(&mut text)
        .context("cannot read the password from stdin")?;
    let text = text.strip_suffix('\n').unwrap_or(&text);
    let text = text.strip_suffix('\r').unwrap_or(text);
    Ok(text.to_string())
}

/// The registry entries of a rules file that make up Secret NAME (or the one --server names).
fn from_rules(
    args: &Args,
    rules: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> anyhow::Result<(String, Vec<RegistryAuth>)> {
    let policy = super::trust::from_env(helm_regcred::trust::Trust::Trusted)?;
    let config = load_config(rules, &args.set, &policy)?;
    let renderer = Renderer::with_process_env(&config.vars, args.release.as_deref())
        .with_policy(policy.clone());
    let namespace = args.namespace.as_deref();
    let hosts: Vec<String> = args
        .server
        .iter()
        .map(|s| normalize_registry_host(s))
        .collect();
    let mut candidates = Vec::new();
    for (i, registry) in config.registries.iter().enumerate() {
        if registry.credentials.is_none() {
            continue; // `create: false` without a source: the Secret exists elsewhere
        }
        if !hosts.is_empty() && !hosts.contains(&registry.host) {
            continue;
        }
        let secret = renderer
            .secret_name(&registry.secret, namespace)
            .with_context(|| format!("registry {} in {}", registry.server, config.origin))?;
        candidates.push((i, secret));
    }
    let mut names: Vec<&str> = Vec::new();
    for (_, secret) in &candidates {
        if !names.contains(&secret.as_str()) {
            names.push(secret);
        }
    }
    let name = match (&args.name, names.as_slice()) {
        (Some(name), _) => name.clone(),
        (None, [one]) => one.to_string(),
        (None, []) => bail!(
            "{} has no registry entry with credentials{}",
            config.origin,
            server_filter(&args.server)
        ),
        (None, several) => bail!(
            "{} has several Secrets ({}); name one: `helm-regcred create-secret NAME \
             --from-rules {}`, or select a registry with --server",
            config.origin,
            several.join(", "),
            rules.display()
        ),
    };
    let selected: Vec<usize> = candidates
        .iter()
        .filter(|(_, secret)| *secret == name)
        .map(|(i, _)| *i)
        .collect();
    if selected.is_empty() {
        let known: Vec<&str> = candidates.iter().map(|(_, s)| s.as_str()).collect();
        bail!(
            "no registry entry of {} makes Secret `{name}`{}; its Secrets: {}",
            config.origin,
            server_filter(&args.server),
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        );
    }
    let stdin = Stdin::process();
    let cx = Context {
        env,
        base_dir: config.dir(),
        stdin: &stdin,
        policy: &policy,
    };
    let mut auths = Vec::new();
    for i in selected {
        let registry = &config.registries[i];
        let source = registry
            .credentials
            .as_ref()
            .expect("candidates have credentials");
        let login = source.resolve(&registry.server, &cx).with_context(|| {
            format!(
                "registry {} (secret {name}, credentials from `{}`)",
                registry.server,
                source.kind()
            )
        })?;
        auths.push(RegistryAuth {
            server: registry.server.clone(),
            username: login.username,
            password: login.password,
            email: registry.email.clone(),
        });
    }
    Ok((name, auths))
}

fn server_filter(servers: &[String]) -> String {
    if servers.is_empty() {
        String::new()
    } else {
        format!(" for --server {}", servers.join(", "))
    }
}

/// Every (or each selected) registry of a docker config, in one Secret.
fn from_docker_config(
    args: &Args,
    path: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
) -> anyhow::Result<(String, Vec<RegistryAuth>)> {
    let name = require_name(args)?;
    let path = match path {
        Some(p) => p.to_path_buf(),
        None => dockerconfig::default_path(env)?,
    };
    let config = DockerConfig::load(&path)?;
    let helpers = Helpers::from_env(env);
    let servers = if args.server.is_empty() {
        config.servers()
    } else {
        args.server.clone()
    };
    if servers.is_empty() {
        bail!(
            "docker config {} lists no registries; run `docker login SERVER` first, or name \
             the server with --server",
            path.display()
        );
    }
    let mut auths: Vec<RegistryAuth> = Vec::new();
    for server in &servers {
        let login = config.login(server, &helpers).with_context(|| {
            if args.server.is_empty() {
                format!(
                    "taking every registry of {} (select some with --server)",
                    path.display()
                )
            } else {
                format!("--server {server}")
            }
        })?;
        if auths.iter().any(|a| a.server == login.server) {
            continue;
        }
        auths.push(RegistryAuth {
            server: login.server,
            username: login.username,
            password: login.password,
            email: login.email,
        });
    }
    // Go's encoding/json writes map keys sorted; so does `docker login` into config.json.
    auths.sort_by(|a, b| a.server.cmp(&b.server));
    Ok((name, auths))
}
