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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::PostRender(args) => commands::render::run(&args, &[]),
        Command::Render { files, args } => commands::render::run(&args, &files),
    };
    match result {
        Ok(code) => code,
        Err(e) => commands::report_error(&e),
    }
}
