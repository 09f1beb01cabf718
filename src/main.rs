//! The `helm-regcred` binary: parses flags, calls the library, maps results to exit codes.
//! Each subcommand lives in `commands/` and only adapts its input and output to the engine.

// On Linux with glibc (the static release build) the program starts from C's `main`: see there.
#![cfg_attr(all(target_os = "linux", target_env = "gnu", not(test)), no_main)]

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

mod commands;

#[derive(Parser)]
#[command(
    name = "helm-regcred",
    version,
    about = "Private registries that just work with Helm and Kustomize: adds imagePullSecrets \
             and the pull Secret to rendered manifests.",
    after_help = "Examples:
  helm-regcred render --diff -r regcred.yaml manifests.yaml
  helm install app ./chart --post-renderer helm-regcred --post-renderer-args post-render
  helm regcred install app ./chart -r regcred.yaml

Shell completion: `helm-regcred completion bash|zsh|fish|powershell`. Docs: README.md."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// `defer`: only the subcommand being run builds its arguments. Building all of them cost a
// post-render a tenth of its start-up instructions and a dozen page faults.
#[derive(Subcommand)]
#[command(defer = true)]
enum Command {
    /// Helm post-renderer: rendered manifests on stdin, the same with pull secrets on stdout.
    ///
    /// Helm 3: `helm install app ./chart --post-renderer helm-regcred --post-renderer-args post-render`
    #[command(after_help = "Examples:
  helm install app ./chart --post-renderer helm-regcred --post-renderer-args post-render
  helm template app ./chart --post-renderer regcred-postrender --post-renderer-args --rules=regcred.yaml
  helm-regcred post-render -r regcred.yaml --diff < manifests.yaml")]
    PostRender(commands::render::Args),
    /// Render files (or `-` for stdin) through the rules, to stdout.
    #[command(after_help = "Examples:
  helm-regcred render --diff -r regcred.yaml manifests.yaml
  helm template app ./chart | helm-regcred render -r regcred.yaml - > out.yaml")]
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
    #[command(after_help = "Examples:
  kpt fn eval ./manifests --exec \"helm-regcred krm\" --fn-config regcred.yaml
  kpt fn source ./manifests --fn-config regcred.yaml | helm-regcred krm")]
    Krm(commands::krm::Args),
    /// Kustomize legacy exec transformer: CONFIG is the RegcredConfig, resources on stdin.
    ///
    /// Installed by `scripts/install-kustomize-plugin`; run by `kubectl kustomize --enable-alpha-plugins`.
    #[command(after_help = "Examples:
  scripts/install-kustomize-plugin && kubectl kustomize --enable-alpha-plugins ./overlay
  helm-regcred kustomize regcred.yaml < resources.yaml")]
    Kustomize(commands::kustomize::Args),
    /// Write a Helm values override that fills the chart's pull secret keys from the rules.
    ///
    /// `helm-regcred values ./chart -r regcred.yaml -f my.yaml -o pull.yaml --verify`, then
    /// `helm install app ./chart -f my.yaml -f pull.yaml` (no post-renderer needed).
    #[command(after_help = "Examples:
  helm-regcred values ./chart -r regcred.yaml -o pull-secrets.yaml
  helm install app ./chart -f pull-secrets.yaml")]
    Values(commands::values::Args),
    /// `helm install` with helm-regcred as post-renderer (Helm 3 and Helm 4 alike).
    ///
    /// `helm regcred install RELEASE CHART [helm flags] [--regcred-rules FILE] [--regcred-set K=V]
    /// [--no-diff]`: Helm's flags, output and exit code pass through (your own `--post-renderer`
    /// runs before helm-regcred); what helm-regcred changed is printed on stderr.
    #[command(
        override_usage = "helm-regcred install RELEASE CHART [helm flags] [-r FILE] [--regcred-set K=V]... [--no-diff]",
        after_help = "Examples:
  helm regcred install app ./chart -n apps -r regcred.yaml
  helm regcred install app oci://registry.example.com/charts/app --version 1.2.3 -f values.yaml"
    )]
    Install(commands::helm::Args),
    /// `helm upgrade` with helm-regcred as post-renderer; see `install`.
    #[command(
        override_usage = "helm-regcred upgrade RELEASE CHART [helm flags] [-r FILE] [--no-diff]",
        after_help = "Examples:
  helm regcred upgrade --install app ./chart -n apps -r regcred.yaml"
    )]
    Upgrade(commands::helm::Args),
    /// `helm template` with helm-regcred as post-renderer; see `install`.
    #[command(
        override_usage = "helm-regcred template RELEASE CHART [helm flags] [-r FILE] [--no-diff]",
        after_help = "Examples:
  helm regcred template app ./chart -r regcred.yaml --show-only pull-secrets.yaml"
    )]
    Template(commands::helm::Args),
    /// Render a chart through helm-regcred and print only what it changes (installs nothing).
    #[command(
        override_usage = "helm-regcred diff RELEASE CHART [helm flags] [-r FILE]",
        after_help = "Examples:
  helm regcred diff app ./chart -r regcred.yaml -f values-prod.yaml"
    )]
    Diff(commands::helm::Args),
    /// Simulate the kubelet: every private pull without a credential is a finding (exit 1;
    /// 2 for usage or input errors). On files/stdin, or `check RELEASE CHART [helm flags]`.
    #[command(
        override_usage = "helm-regcred check RELEASE CHART [helm flags] [-r FILE] [-o text|json|github] [--strict]\n       \
                          helm-regcred check [-r FILE] [-n NAMESPACE] [--release NAME] [-o text|json|github] [FILE|-]...",
        after_help = "Examples:
  helm regcred check app ./chart -r regcred.yaml -f pull-secrets.yaml
  helm template app ./chart | helm-regcred check -r regcred.yaml -o github -"
    )]
    Check(commands::check::Args),
    /// Per pod: each rule matched or the first field that missed, the secrets kept, added or
    /// inherited, and for each image the registry that serves it and the Secret the kubelet sends.
    ///
    /// `helm-regcred explain manifests.yaml -r regcred.yaml --kind Deployment --name 'api-*'`
    #[command(after_help = "Examples:
  helm-regcred explain manifests.yaml -r regcred.yaml --kind Deployment --name 'api-*'
  helm template app ./chart | helm-regcred explain -r regcred.yaml -o json")]
    Explain(commands::explain::Args),
    /// Print a pull Secret, as `kubectl create secret docker-registry` would (password on stdin).
    ///
    /// `printf %s "$TOKEN" | helm-regcred create-secret NAME --server S --username U --password-stdin`;
    /// or `--from-rules regcred.yaml`, or `--from-docker-config [PATH]` (several registries).
    #[command(after_help = "Examples:
  printf %s \"$TOKEN\" | helm-regcred create-secret pull --server registry.example.com -u robot --password-stdin
  helm-regcred create-secret --from-rules regcred.yaml -n apps | kubectl apply -f -")]
    CreateSecret(commands::create_secret::Args),
    /// Print the JSON Schema of the rules file (committed as regcred.schema.json).
    #[command(after_help = "Examples:
  helm-regcred schema > regcred.schema.json")]
    Schema,
    /// Print the last error helm-regcred recorded (Helm 4 hides a post-renderer's stderr).
    #[command(after_help = "Examples:
  helm regcred last-error")]
    LastError,
    /// Print a shell completion script for helm-regcred.
    ///
    /// For `helm regcred ...` Helm completes through the plugin itself (no script needed beyond
    /// Helm's own: `helm completion bash`).
    #[command(after_help = "Examples:
  source <(helm-regcred completion bash)
  helm-regcred completion zsh > \"${fpath[1]}/_helm-regcred\"
  helm-regcred completion fish > ~/.config/fish/completions/helm-regcred.fish
  helm-regcred completion powershell >> $PROFILE")]
    Completion(commands::completion::Args),
    /// Copy this binary into a directory (and the Kustomize plugin beside it): for the
    /// container image, which has no shell to copy with.
    #[command(after_help = "Examples:
  helm-regcred install-binary /helm-regcred --kustomize-plugin-home /helm-regcred/kustomize-plugins
  (the Argo CD sidecar's init container: examples/argocd/repo-server-patch.yaml)")]
    InstallBinary(commands::install_binary::Args),
    /// Write the man pages (helm-regcred.1, helm-regcred-<command>.1) into a directory.
    #[command(
        hide = true,
        after_help = "Examples:
  helm-regcred man --out-dir target/man"
    )]
    Man(commands::manual::Args),
    /// Candidates for `helm regcred <TAB>` (Helm's plugin.complete protocol; run by Helm).
    #[command(name = "__complete-helm", hide = true)]
    CompleteHelm(commands::completion::HelmArgs),
}

#[cfg(not(all(target_os = "linux", target_env = "gnu", not(test))))]
fn main() -> ExitCode {
    run()
}

/// The entry point on Linux with glibc, in place of Rust's runtime start-up.
///
/// That start-up costs about 0.1 ms per process, most of it to report stack overflows: it
/// reads `/proc/self/maps` to find the main thread's stack and maps a signal stack. A
/// post-renderer runs inside every `helm install`, with about 1.5 ms for a whole small chart.
/// Kept, as the runtime does them: SIGPIPE ignored (a reader that went away is a write error,
/// which `write_stdout` handles), closed standard descriptors reopened on `/dev/null`, exit code
/// 101 after a panic, stdout flushed (`process::exit`). Given up: the "has overflowed its stack"
/// message (an overflow is a plain SIGSEGV) and the name `main` in panic messages. Arguments
/// still come from `std::env::args_os`, which glibc fills in before `main` runs.
#[cfg(all(target_os = "linux", target_env = "gnu", not(test)))]
#[unsafe(no_mangle)]
extern "C" fn main(_argc: libc::c_int, _argv: *const *const libc::c_char) -> libc::c_int {
    commands::note_closed_at_start(reopen_closed_standard_fds());
    // SAFETY: a plain libc call, made before any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
    let code = std::panic::catch_unwind(run).unwrap_or(ExitCode::from(101));
    // `ExitCode` has no stable conversion to an integer; every code we make is a `u8`.
    let status = (0..=u8::MAX)
        .find(|&n| ExitCode::from(n) == code)
        .unwrap_or(1);
    std::process::exit(status.into())
}

/// What Rust's runtime does first: a closed fd 0, 1 or 2 becomes `/dev/null`, so that a file
/// opened later cannot take its number (and, as stdout, receive the output stream). Returns
/// which were closed (bit 0 stdin, 1 stdout, 2 stderr): reading a closed stdin or writing a
/// closed stdout is an error, not an empty stream.
#[cfg(all(target_os = "linux", target_env = "gnu", not(test)))]
fn reopen_closed_standard_fds() -> u8 {
    let mut closed = 0;
    let mut fds = [0, 1, 2].map(|fd| libc::pollfd {
        fd,
        events: 0,
        revents: 0,
    });
    // SAFETY: `fds` holds three valid pollfds; `fcntl` and `open` take plain arguments.
    unsafe {
        while libc::poll(fds.as_mut_ptr(), 3, 0) == -1 {
            if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            // poll refused (RLIMIT_NOFILE, no memory): ask each descriptor instead.
            for fd in &mut fds {
                if libc::fcntl(fd.fd, libc::F_GETFD) == -1 {
                    fd.revents = libc::POLLNVAL;
                }
            }
            break;
        }
        for fd in fds {
            if fd.revents & libc::POLLNVAL != 0 {
                libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
                closed |= 1 << fd.fd;
            }
        }
    }
    closed
}

/// The CLI as `helm regcred` shows it (usage in Helm's terms, machine-facing commands hidden).
fn cli_in_helm_terms() -> clap::Command {
    commands::manual::in_helm_terms(Cli::command())
}

fn run() -> ExitCode {
    commands::install_panic_hook();
    // Debug builds only: lets the tests prove a panic prints and records no payload.
    #[cfg(debug_assertions)]
    if let Some(text) = std::env::var_os("HELM_REGCRED_DEBUG_PANIC") {
        panic!("debug panic quoting input: {}", text.to_string_lossy());
    }
    // Usage errors are recorded like any other: Helm 4 would hide them too.
    let cli = commands::manual::for_front_end(Cli::command())
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m))
        .unwrap_or_else(|e| commands::usage_error(e));
    let result = match cli.command {
        Command::PostRender(args) => Ok(commands::render::post_render(&args)),
        Command::Render { files, args } => commands::render::run(&args, &files),
        Command::Krm(args) => commands::krm::run(&args).map(|()| ExitCode::SUCCESS),
        Command::Kustomize(args) => commands::kustomize::run(&args).map(|()| ExitCode::SUCCESS),
        Command::Values(args) => commands::values::run(&args),
        Command::Install(args) => commands::helm::run(commands::helm::Action::Install, &args),
        Command::Upgrade(args) => commands::helm::run(commands::helm::Action::Upgrade, &args),
        Command::Template(args) => commands::helm::run(commands::helm::Action::Template, &args),
        Command::Diff(args) => commands::helm::run(commands::helm::Action::Diff, &args),
        Command::Check(args) => Ok(commands::check::run(&args)),
        Command::Explain(args) => commands::explain::run(&args),
        Command::LastError => commands::last_error::run(),
        Command::CreateSecret(args) => commands::create_secret::run(&args),
        Command::Schema => commands::schema::run(),
        Command::Completion(args) => commands::completion::run(&args, Cli::command()),
        Command::Man(args) => commands::manual::run(&args, Cli::command()),
        Command::InstallBinary(args) => commands::install_binary::run(&args),
        Command::CompleteHelm(args) => commands::completion::run_helm(&args, cli_in_helm_terms()),
    };
    match result {
        Ok(code) => code,
        Err(e) => commands::report_error(&e),
    }
}
