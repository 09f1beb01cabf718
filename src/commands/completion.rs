//! Shell completion: scripts for `helm-regcred` (clap_complete), and the candidates Helm asks
//! the `regcred` plugin for when someone presses TAB after `helm regcred`.
//!
//! Helm 3.17 and Helm 4.1 complete a plugin's arguments by running the executable
//! `plugin.complete` in the plugin's directory with the words typed after `helm regcred` (the
//! last one being the word under the cursor), and read one candidate per line (`value\tdescription`)
//! followed by cobra's `:<directive>` line (helm/helm `cmd/helm/load_plugins.go`
//! `pluginDynamicComp` in v3.17; `pkg/cmd/load_plugins.go` in v4.1, where stderr is read too,
//! so nothing may be printed there). The plugin's `plugin.complete` runs `helm-regcred
//! __complete-helm WORDS...`, answered here from the same clap definitions as `--help`.

use std::io::Write;
use std::process::ExitCode;

/// cobra's ShellCompDirective bits (spf13/cobra `completions.go`).
const DIRECTIVE_DEFAULT: u32 = 0; // the shell completes file names
const DIRECTIVE_NO_FILE_COMP: u32 = 4;

/// The commands that wrap a Helm command: after them come Helm's own arguments and flags, which
/// Helm itself knows how to complete. `diff` and `check` render with `helm template`.
const HELM_WRAPPERS: &[(&str, &str)] = &[
    ("install", "install"),
    ("upgrade", "upgrade"),
    ("template", "template"),
    ("diff", "template"),
    ("check", "template"),
];

/// The wrappers' own flags, mixed in with Helm's (src/commands/helm.rs `split`).
const WRAPPER_FLAGS: &[(&str, &str)] = &[
    (
        "--rules",
        "the rules file (else $HELM_REGCRED_RULES, else ./regcred.yaml)",
    ),
    ("--no-diff", "do not print what helm-regcred changed"),
];

#[derive(clap::Args)]
pub struct Args {
    /// The shell to write a completion script for.
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

#[derive(clap::Args)]
pub struct HelmArgs {
    /// The words after `helm regcred`; the last is the one being completed.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    words: Vec<String>,
}

/// `helm-regcred completion SHELL`: the script on stdout.
pub fn run(args: &Args, mut cmd: clap::Command) -> anyhow::Result<ExitCode> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "helm-regcred", &mut script);
    super::write_stdout(&script)?;
    Ok(ExitCode::SUCCESS)
}

/// One answer to Helm: candidates and the directive telling the shell what else to do.
#[derive(Debug, PartialEq, Eq)]
pub struct Answer {
    pub candidates: Vec<(String, String)>,
    pub directive: u32,
}

impl Answer {
    fn files() -> Answer {
        Answer {
            candidates: Vec::new(),
            directive: DIRECTIVE_DEFAULT,
        }
    }

    fn of(candidates: Vec<(String, String)>) -> Answer {
        Answer {
            candidates,
            directive: DIRECTIVE_NO_FILE_COMP,
        }
    }

    fn render(&self) -> String {
        let mut out = String::new();
        for (value, help) in &self.candidates {
            out.push_str(value);
            if !help.is_empty() {
                out.push('\t');
                out.push_str(help);
            }
            out.push('\n');
        }
        out.push_str(&format!(":{}\n", self.directive));
        out
    }
}

/// `helm-regcred __complete-helm WORDS...`. Never fails: a completion that errors would print
/// its message into the user's command line.
/// `cmd` is the CLI in Helm's terms (what `helm regcred --help` shows).
pub fn run_helm(args: &HelmArgs, cmd: clap::Command) -> anyhow::Result<ExitCode> {
    let (typed, current) = match args.words.split_last() {
        Some((current, typed)) => (typed, current.as_str()),
        None => (&[][..], ""),
    };
    let answer = complete(cmd, typed, current, &mut helm_complete);
    let _ = std::io::stdout().write_all(answer.render().as_bytes());
    Ok(ExitCode::SUCCESS)
}

/// Asks the Helm that runs the plugin (`$HELM_BIN __complete ...`) to complete its own command.
fn helm_complete(words: &[String]) -> Option<String> {
    let helm = std::env::var_os("HELM_BIN")?;
    let out = std::process::Command::new(helm)
        .arg("__complete")
        .args(words)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The candidates for `current`, after the words `typed` (both after `helm regcred`).
/// `helm` completes a Helm command line (`__complete` protocol output), if one can be asked.
pub fn complete(
    mut cmd: clap::Command,
    typed: &[String],
    current: &str,
    helm: &mut dyn FnMut(&[String]) -> Option<String>,
) -> Answer {
    cmd.build();
    let Some((index, sub)) = typed.iter().enumerate().find_map(|(i, word)| {
        cmd.get_subcommands()
            .find(|s| s.get_name() == word && !s.is_hide_set())
            .map(|s| (i, s))
    }) else {
        if current.starts_with('-') {
            return Answer::of(flags(&cmd, current));
        }
        let commands = cmd
            .get_subcommands()
            .filter(|s| !s.is_hide_set() && s.get_name().starts_with(current))
            .map(|s| (s.get_name().to_string(), about(s)))
            .collect();
        return Answer::of(commands);
    };
    let after = &typed[index + 1..];
    if let Some((_, helm_command)) = HELM_WRAPPERS.iter().find(|(n, _)| *n == sub.get_name()) {
        return wrapper(helm_command, after, current, helm);
    }
    if let Some(previous) = after.last()
        && let Some(arg) = option_named(sub, previous)
        && arg.get_action().takes_values()
    {
        let values: Vec<(String, String)> = arg
            .get_possible_values()
            .iter()
            .filter(|v| !v.is_hide_set() && v.get_name().starts_with(current))
            .map(|v| {
                let help = v.get_help().map(|h| h.to_string()).unwrap_or_default();
                (v.get_name().to_string(), help)
            })
            .collect();
        return if arg.get_possible_values().is_empty() {
            Answer::files()
        } else {
            Answer::of(values)
        };
    }
    if current.starts_with('-') {
        return Answer::of(flags(sub, current));
    }
    let positional = sub
        .get_arguments()
        .any(|a| a.is_positional() && !a.is_hide_set());
    if positional {
        Answer::files()
    } else {
        Answer::of(Vec::new())
    }
}

/// `helm regcred install ...`: Helm completes the Helm part (releases, charts, its flags); the
/// wrapper adds its own flags. Without a Helm to ask, the shell completes file names.
fn wrapper(
    helm_command: &str,
    after: &[String],
    current: &str,
    helm: &mut dyn FnMut(&[String]) -> Option<String>,
) -> Answer {
    if matches!(after.last().map(String::as_str), Some("-r" | "--rules")) {
        return Answer::files();
    }
    // The wrapper's own flags mean nothing to Helm: leave them out of what Helm sees.
    let mut words = vec![helm_command.to_string()];
    let mut rest = after.iter();
    while let Some(word) = rest.next() {
        match word.as_str() {
            "-r" | "--rules" => {
                rest.next();
            }
            "--no-diff" => {}
            w if w.starts_with("--rules=") => {}
            _ => words.push(word.clone()),
        }
    }
    words.push(current.to_string());
    let mut answer = match helm(&words).as_deref().and_then(parse_cobra) {
        Some(answer) => answer,
        None => Answer::files(),
    };
    if current.starts_with('-') {
        for (flag, help) in WRAPPER_FLAGS {
            if flag.starts_with(current) {
                answer.candidates.push((flag.to_string(), help.to_string()));
            }
        }
    }
    answer
}

/// cobra's `__complete` output: candidate lines, then `:<directive>`.
fn parse_cobra(output: &str) -> Option<Answer> {
    let mut lines: Vec<&str> = output.lines().filter(|l| !l.is_empty()).collect();
    let directive = lines.pop()?.strip_prefix(':')?.parse().ok()?;
    let candidates = lines
        .into_iter()
        .map(|line| match line.split_once('\t') {
            Some((value, help)) => (value.to_string(), help.to_string()),
            None => (line.to_string(), String::new()),
        })
        .collect();
    Some(Answer {
        candidates,
        directive,
    })
}

fn about(cmd: &clap::Command) -> String {
    cmd.get_about()
        .map(|a| a.to_string())
        .unwrap_or_default()
        .trim_end_matches('.')
        .to_string()
}

/// The visible long flags of `cmd` that start with `current` (and `--help`).
fn flags(cmd: &clap::Command, current: &str) -> Vec<(String, String)> {
    let mut flags: Vec<(String, String)> = cmd
        .get_arguments()
        .filter(|a| !a.is_hide_set())
        .filter_map(|a| {
            let long = format!("--{}", a.get_long()?);
            let help = a.get_help().map(|h| h.to_string()).unwrap_or_default();
            long.starts_with(current)
                .then_some((long, first_sentence(&help)))
        })
        .collect();
    flags.sort();
    flags
}

fn first_sentence(help: &str) -> String {
    let line = help.lines().next().unwrap_or_default();
    match line.find(". ") {
        Some(end) => line[..end].to_string(),
        None => line.trim_end_matches('.').to_string(),
    }
}

/// The option `word` names (`--rules`, `-r`, or `--rules=x` which needs no further value).
fn option_named<'a>(cmd: &'a clap::Command, word: &str) -> Option<&'a clap::Arg> {
    if let Some(long) = word.strip_prefix("--") {
        if long.contains('=') {
            return None;
        }
        return cmd.get_arguments().find(|a| a.get_long() == Some(long));
    }
    let short = word.strip_prefix('-')?;
    let mut chars = short.chars();
    let (Some(c), None) = (chars.next(), chars.next()) else {
        return None;
    };
    cmd.get_arguments().find(|a| a.get_short() == Some(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cli() -> clap::Command {
        crate::cli_in_helm_terms()
    }

    fn words(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn no_helm(_: &[String]) -> Option<String> {
        None
    }

    fn names(answer: &Answer) -> Vec<&str> {
        answer.candidates.iter().map(|(v, _)| v.as_str()).collect()
    }

    #[test]
    fn commands_people_type_and_not_the_ones_helm_calls() {
        let answer = complete(cli(), &[], "", &mut no_helm);
        let offered = names(&answer);
        for name in [
            "install",
            "upgrade",
            "template",
            "diff",
            "check",
            "values",
            "last-error",
        ] {
            assert!(offered.contains(&name), "{name} missing from {offered:?}");
        }
        for hidden in ["post-render", "krm", "kustomize", "man", "__complete-helm"] {
            assert!(!offered.contains(&hidden), "{hidden} offered: {offered:?}");
        }
        assert_eq!(answer.directive, DIRECTIVE_NO_FILE_COMP);
        let answer = complete(cli(), &[], "up", &mut no_helm);
        assert_eq!(names(&answer), ["upgrade"]);
    }

    #[test]
    fn flags_and_their_values() {
        let answer = complete(cli(), &words(&["values"]), "--", &mut no_helm);
        assert!(names(&answer).contains(&"--rules"), "{answer:?}");
        assert!(names(&answer).contains(&"--output"), "{answer:?}");
        let answer = complete(cli(), &words(&["values", "-r"]), "", &mut no_helm);
        assert_eq!(answer, Answer::files());
        let answer = complete(cli(), &words(&["render"]), "", &mut no_helm);
        assert_eq!(answer, Answer::files());
        let answer = complete(cli(), &words(&["render", "--color"]), "", &mut no_helm);
        assert_eq!(names(&answer), ["auto", "always", "never"]);
    }

    #[test]
    fn wrappers_ask_helm_without_their_own_flags() {
        let mut asked = Vec::new();
        let mut helm = |w: &[String]| {
            asked.push(w.to_vec());
            Some("--namespace\tnamespace scope\n--no-hooks\tprevent hooks\n:4\n".to_string())
        };
        let typed = words(&["diff", "-r", "x.yaml", "app", "--no-diff"]);
        let answer = complete(cli(), &typed, "--n", &mut helm);
        assert_eq!(names(&answer), ["--namespace", "--no-hooks", "--no-diff"]);
        assert_eq!(answer.directive, 4);
        let answer = complete(cli(), &words(&["install", "--rules"]), "", &mut helm);
        assert_eq!(answer, Answer::files());
        assert_eq!(
            asked,
            [words(&["template", "app", "--n"])],
            "--rules asks no one"
        );
    }
}
