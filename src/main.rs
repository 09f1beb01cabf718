//! The `helm-regcred` binary: parses flags, calls the library, maps results to exit codes.
//! Each subcommand lives in `commands/` and only adapts its input and output to the engine.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod commands;

#[derive(Parser)]
#[command(
    name = "helm-regcred",
    version,
    about = "Private registries that just work with Helm and Kustomize: adds imagePullSecrets \
             and the pull Secret to rendered manifests."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Helm post-renderer: rendered manifests on stdin, the same with pull secrets on stdout.
    ///
    /// Helm 3: `helm install app ./chart --post-renderer helm-regcred --post-renderer-args post-render`
    PostRender(commands::render::Args),
    /// Render files (or `-` for stdin) through the rules, to stdout.
    Render {
        /// Manifest files to read, in order; `-` reads stdin.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<std::path::PathBuf>,
        #[command(flatten)]
        args: commands::render::Args,
    },
    /// KRM function: a ResourceList on stdin (rules in its functionConfig), the same on stdout.
    ///
    /// kpt: `kpt fn eval DIR --exec "helm-regcred krm" --fn-config regcred.yaml`
    Krm(commands::krm::Args),
    /// Kustomize legacy exec transformer: CONFIG is the RegcredConfig, resources on stdin.
    ///
    /// Installed by `scripts/install-kustomize-plugin`; run by `kubectl kustomize --enable-alpha-plugins`.
    Kustomize(commands::kustomize::Args),
    /// Write a Helm values override that fills the chart's `imagePullSecrets` keys from the rules.
    ///
    /// `helm-regcred values ./chart -r regcred.yaml -f my.yaml -o pull.yaml`, then
    /// `helm install app ./chart -f my.yaml -f pull.yaml` (no post-renderer needed).
    Values(commands::values::Args),
    /// `helm install` with helm-regcred as post-renderer (Helm 3 and Helm 4 alike).
    ///
    /// `helm regcred install RELEASE CHART [helm flags] [--rules FILE] [--no-diff]`: Helm's flags,
    /// output and exit code pass through; what helm-regcred changed is printed on stderr.
    Install(commands::helm::Args),
    /// `helm upgrade` with helm-regcred as post-renderer; see `install`.
    Upgrade(commands::helm::Args),
    /// `helm template` with helm-regcred as post-renderer; see `install`.
    Template(commands::helm::Args),
    /// Render a chart through helm-regcred and print only what it changes (installs nothing).
    Diff(commands::helm::Args),
    /// List pod specs that pull from a registry in the rules without its pull secret; exit 1
    /// if any. On files/stdin, or `check RELEASE CHART [helm flags]` for a chart.
    Check(commands::check::Args),
    /// Print a pull Secret, as `kubectl create secret docker-registry` would (password on stdin).
    ///
    /// `printf %s "$TOKEN" | helm-regcred create-secret NAME --server S --username U --password-stdin`;
    /// or `--from-rules regcred.yaml`, or `--from-docker-config [PATH]` (several registries).
    CreateSecret(commands::create_secret::Args),
    /// Print the JSON Schema of the rules file (committed as regcred.schema.json).
    Schema,
    /// Print the last error helm-regcred recorded (Helm 4 hides a post-renderer's stderr).
    LastError,
}

fn main() -> ExitCode {
    // Usage errors are recorded like any other: Helm 4 would hide them too.
    let cli = Cli::try_parse().unwrap_or_else(|e| commands::usage_error(e));
    let result = match cli.command {
        Command::PostRender(args) => commands::render::run(&args, &[]),
        Command::Render { files, args } => commands::render::run(&args, &files),
        Command::Krm(args) => commands::krm::run(&args).map(|()| ExitCode::SUCCESS),
        Command::Kustomize(args) => commands::kustomize::run(&args).map(|()| ExitCode::SUCCESS),
        Command::Values(args) => commands::values::run(&args),
        Command::Install(args) => commands::helm::run(commands::helm::Action::Install, &args),
        Command::Upgrade(args) => commands::helm::run(commands::helm::Action::Upgrade, &args),
        Command::Template(args) => commands::helm::run(commands::helm::Action::Template, &args),
        Command::Diff(args) => commands::helm::run(commands::helm::Action::Diff, &args),
        Command::Check(args) => commands::check::run(&args),
        Command::LastError => commands::last_error::run(),
        Command::CreateSecret(args) => commands::create_secret::run(&args),
        Command::Schema => commands::schema::run(),
    };
    match result {
        Ok(code) => code,
        Err(e) => commands::report_error(&e),
    }
}
