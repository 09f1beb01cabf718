//! `check`: the CI gate, as a front end of [`helm_regcred::check`].
//!
//! * `helm-regcred check [-r RULES] [-n NS] [--release R] [--output text|json|github]
//!   [--strict] [FILE|-]...` reads manifests (stdin when no file is given);
//! * `helm regcred check RELEASE CHART [helm flags]` renders the chart with `helm template`
//!   (not through helm-regcred, only through the user's own `--post-renderer` if given: the
//!   question is what the chart itself pulls) and checks that; Helm's
//!   command line is read by [`helm_regcred::adapters::helm`].
//!
//! Exit codes: 0 every private pull is covered, 1 findings (warnings too with `--strict`),
//! 2 a usage or input error (bad flags, unreadable file, invalid rules or YAML).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use anyhow::{Context, bail};
use helm_regcred::adapters::helm;
use helm_regcred::trust::Trust;
use helm_regcred::views::check::{Format, Report, check, report_schema};
use helm_regcred::{Config, Options, Stream};

use super::process_env;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Manifest files (`-` or none: stdin), or RELEASE CHART [helm flags] to render a chart
    /// with `helm template` (chosen when the first argument is not an existing file).
    /// Own flags: `--rules FILE` (`-r`; else $HELM_REGCRED_RULES, else ./regcred.yaml),
    /// `--output text|json|github` (`-o`), `--strict` (warnings fail too), `--print-schema`
    /// (the JSON Schema of `--output json`); for files also `-n NS` and `--release NAME`.
    #[arg(
        value_name = "FILE... | RELEASE CHART [FLAGS]",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub args: Vec<String>,
}

/// Exit code of a usage or input error.
pub const USAGE_OR_INPUT_ERROR: u8 = 2;

/// The flags only `check` knows; everything else is left in `rest` (file names, or Helm's
/// arguments for a chart).
#[derive(Debug, Default)]
pub struct Flags {
    pub format: Format,
    pub strict: bool,
    pub print_schema: bool,
    pub rest: Vec<String>,
}

impl Flags {
    pub fn parse(args: &[String]) -> anyhow::Result<Flags> {
        let mut flags = Flags::default();
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            if arg == "--" {
                flags.rest.push(arg.clone());
                flags.rest.extend(it.by_ref().cloned());
                break;
            }
            let format = match arg.as_str() {
                "--output" | "-o" => Some(it.next().cloned().context("--output needs a value")?),
                a => a.strip_prefix("--output=").map(str::to_string),
            };
            if let Some(format) = format {
                flags.format = match format.as_str() {
                    "text" => Format::Text,
                    "json" => Format::Json,
                    "github" => Format::Github,
                    other => bail!("--output {other}: expected text, json or github"),
                };
            } else if arg == "--strict" {
                flags.strict = true;
            } else if arg == "--print-schema" {
                flags.print_schema = true;
            } else {
                flags.rest.push(arg.clone());
            }
        }
        Ok(flags)
    }
}

/// `check`: files (or stdin), or a chart when the arguments are `RELEASE CHART [helm flags]`.
pub fn run(args: &Args) -> ExitCode {
    let flags = match Flags::parse(&args.args) {
        Ok(flags) => flags,
        Err(e) => return input_error(&e),
    };
    if flags.print_schema {
        return print_schema();
    }
    let split = match helm::split("check", &flags.rest) {
        Ok(split) => split,
        Err(e) => return input_error(&e.into()),
    };
    // A chart needs RELEASE CHART; one argument is a file (so a typo says "cannot read").
    let file_mode = match split.positionals.as_slice() {
        [] | [_] => true,
        [first, ..] => first == "-" || Path::new(first).is_file(),
    };
    if file_mode {
        files(&flags)
    } else {
        chart(&flags, &split)
    }
}

/// `helm regcred check RELEASE CHART [helm flags]`: exit 2 when Helm cannot render it.
fn chart(flags: &Flags, split: &helm::Split) -> ExitCode {
    let run = || -> anyhow::Result<Option<Report>> {
        let trust = super::trust::from_env(Trust::Trusted)?;
        let rules = split.rules_path(&process_env)?;
        trust.check_rules_path(&rules)?;
        let mut config = Config::load(&rules)?;
        for (key, value) in &split.sets {
            config.set_var(key, value);
        }
        let helm = helm::helm_bin(&process_env);
        let out = Command::new(&helm)
            .arg("template")
            // The user's own post-renderer is part of what gets installed: Helm runs it here
            // (before Helm's own arguments, which may end in `--`).
            .args(
                split
                    .post_renderer
                    .iter()
                    .flat_map(|p| ["--post-renderer".to_string(), p.clone()]),
            )
            .args(
                split
                    .post_renderer_args
                    .iter()
                    .map(|a| format!("--post-renderer-args={a}")),
            )
            .args(&split.helm_args)
            .stdin(Stdio::inherit())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .output()
            .with_context(|| format!("cannot run {}", helm.to_string_lossy()))?;
        if !out.status.success() {
            return Ok(None);
        }
        let options = Options {
            namespace: split.namespace(&process_env),
            release: split.release("template"),
            trust,
        };
        run_check(&out.stdout, &config, &options, flags.strict).map(Some)
    };
    match run() {
        Ok(Some(report)) => conclude(&report, flags, None),
        // Helm said why on stderr.
        Ok(None) => ExitCode::from(USAGE_OR_INPUT_ERROR),
        Err(e) => input_error(&e),
    }
}

/// `check [-r RULES] [-n NS] [--release R] [FILE|-]...`, with `flags.rest` holding those.
fn files(flags: &Flags) -> ExitCode {
    let run = || -> anyhow::Result<(Report, Option<String>)> {
        let mut rules = None;
        let mut options = Options::default();
        let mut files: Vec<PathBuf> = Vec::new();
        let mut it = flags.rest.iter();
        while let Some(arg) = it.next() {
            let mut value = |flag: &str| {
                it.next()
                    .cloned()
                    .with_context(|| format!("{flag} needs a value"))
            };
            match arg.as_str() {
                "-r" | "--rules" => rules = Some(PathBuf::from(value(arg)?)),
                "-n" | "--namespace" => options.namespace = Some(value(arg)?),
                "--release" => options.release = Some(value(arg)?),
                a if a.starts_with("--rules=") => rules = Some(a["--rules=".len()..].into()),
                a if a.starts_with("--namespace=") => {
                    options.namespace = Some(a["--namespace=".len()..].into());
                }
                a if a.starts_with("--release=") => {
                    options.release = Some(a["--release=".len()..].into())
                }
                a if a.starts_with('-') && a != "-" => bail!(
                    "check: unknown flag {a} for files (a chart is `check RELEASE CHART [helm flags]`)"
                ),
                _ => files.push(arg.into()),
            }
        }
        if options.namespace.is_none() {
            options.namespace = process_env("HELM_REGCRED_NAMESPACE").filter(|n| !n.is_empty());
        }
        options.trust = super::trust::from_env(Trust::Trusted)?;
        let path = helm_regcred::rules::find_file(rules.as_deref(), &process_env)?;
        options.trust.check_rules_path(&path)?;
        let config = Config::load(&path)?;
        let input = super::read_input(&files)?;
        let name = match files.as_slice() {
            [one] if one.as_os_str() != "-" => Some(one.display().to_string()),
            _ => None,
        };
        Ok((run_check(&input, &config, &options, flags.strict)?, name))
    };
    match run() {
        Ok((report, name)) => conclude(&report, flags, name.as_deref()),
        Err(e) => input_error(&e),
    }
}

/// The check of one stream.
pub fn run_check(
    input: &[u8],
    config: &Config,
    options: &Options,
    strict: bool,
) -> anyhow::Result<Report> {
    let stream = Stream::parse(input)?;
    Ok(check(&stream, config, options, &process_env, strict)?)
}

/// Prints the report (stdout) and its summary (stderr); the exit code says whether it passed.
pub fn conclude(report: &Report, flags: &Flags, input: Option<&str>) -> ExitCode {
    let out = report.render(flags.format, input);
    if let Err(e) = super::write_stdout(out.as_bytes()) {
        return input_error(&e);
    }
    eprintln!("helm-regcred: check: {}", report.summary_line());
    ExitCode::from(report.summary.exit_code)
}

/// A usage or input error: reported like every error, with exit code 2 (1 means findings).
pub fn input_error(e: &anyhow::Error) -> ExitCode {
    super::report_error(e);
    ExitCode::from(USAGE_OR_INPUT_ERROR)
}

pub fn print_schema() -> ExitCode {
    let mut text = serde_json::to_string_pretty(&report_schema()).expect("a schema serializes");
    text.push('\n');
    match super::write_stdout(text.as_bytes()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => input_error(&e),
    }
}
