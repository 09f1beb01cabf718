//! Shell completion and manuals: `helm regcred <TAB>` through the real Helm 3 and Helm 4
//! (`helm __complete` is what Helm's bash/zsh/fish scripts call), the binary's own scripts, and
//! the man pages.

use std::process::Command;

use crate::helm::{Helm, ok};
use crate::util::regcred;

/// `helm __complete regcred WORDS...`: the candidates (value before any tab) and the directive.
fn complete(helm: &Helm, words: &[&str]) -> (Vec<String>, String) {
    let out = helm
        .user()
        .args(["__complete", "regcred"])
        .args(words)
        .output()
        .unwrap();
    let (stdout, _) = ok(&out);
    let mut lines: Vec<&str> = stdout.lines().collect();
    let directive = lines.pop().unwrap_or_default().to_string();
    let values = lines
        .iter()
        .map(|l| l.split('\t').next().unwrap().to_string())
        .collect();
    (values, directive)
}

fn helm_completes_helm_regcred(helm: Helm) {
    let helm = helm.with_plugins(&["--no-postrender"]);

    let (commands, directive) = complete(&helm, &[""]);
    for name in [
        "install",
        "upgrade",
        "template",
        "diff",
        "check",
        "values",
        "last-error",
    ] {
        assert!(commands.contains(&name.to_string()), "{commands:?}");
    }
    // Commands Helm, kustomize and kpt call are not offered.
    for name in ["post-render", "krm", "kustomize", "completion"] {
        assert!(!commands.contains(&name.to_string()), "{commands:?}");
    }
    assert_eq!(directive, ":4", "no file names among commands");

    // The wrappers complete Helm's own flags for that command, plus their own.
    let (flags, _) = complete(&helm, &["install", "demo", "--no"]);
    assert!(flags.contains(&"--no-hooks".to_string()), "{flags:?}");
    assert!(flags.contains(&"--no-diff".to_string()), "{flags:?}");
    let (flags, _) = complete(&helm, &["template", "demo", "-r", "x.yaml", "--show"]);
    assert!(flags.contains(&"--show-only".to_string()), "{flags:?}");

    // helm-regcred's own commands: flags and their values.
    let (flags, _) = complete(&helm, &["values", "--"]);
    assert!(flags.contains(&"--rules".to_string()), "{flags:?}");
    // (Not `render --color`: Helm 4 has a global --color and takes it for itself.)
    let (values, _) = complete(&helm, &["create-secret", "-o", ""]);
    assert_eq!(values, ["yaml", "json"]);
    let (_, directive) = complete(&helm, &["values", "--rules", ""]);
    assert_eq!(directive, ":0", "a file name follows --rules");
}

#[test]
fn helm3_completes_helm_regcred() {
    helm_completes_helm_regcred(Helm::v3());
}

#[test]
fn helm4_completes_helm_regcred() {
    helm_completes_helm_regcred(Helm::v4());
}

#[test]
fn completion_scripts_for_every_shell() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef helm-regcred"),
        ("fish", "complete -c helm-regcred"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let out = regcred().args(["completion", shell]).output().unwrap();
        let (stdout, _) = ok(&out);
        assert!(stdout.contains(marker), "{shell}:\n{stdout}");
        assert!(stdout.contains("create-secret"), "{shell}");
        assert!(stdout.contains("diff-file"), "{shell}: subcommand flags");
    }
    // bash loads it; completing `helm-regcred ren` offers render.
    let out = Command::new("bash")
        .arg("-c")
        .arg(
            "source <(\"$0\" completion bash) && COMP_WORDS=(helm-regcred ren) COMP_CWORD=1 \
             && _helm__regcred helm-regcred ren helm-regcred && printf '%s\\n' \"${COMPREPLY[@]}\"",
        )
        .arg(crate::util::bin())
        .output()
        .unwrap();
    let (stdout, _) = ok(&out);
    assert_eq!(stdout.trim(), "render");
}

#[test]
fn man_pages_for_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let out = regcred()
        .args(["man", "--out-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    ok(&out);
    let mut pages: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    pages.sort();
    for page in [
        "helm-regcred.1",
        "helm-regcred-install.1",
        "helm-regcred-values.1",
    ] {
        assert!(pages.contains(&page.to_string()), "{pages:?}");
    }
    assert!(
        !pages
            .iter()
            .any(|p| p.contains("man") || p.contains("complete-helm"))
    );
    let page = std::fs::read_to_string(dir.path().join("helm-regcred-values.1")).unwrap();
    assert!(page.contains(".TH"), "{page}");
    assert!(
        page.contains("helm\\-regcred values ./chart"),
        "examples are in the page"
    );
}

#[test]
fn every_command_shows_an_example() {
    let out = regcred().arg("--help").output().unwrap();
    let (help, _) = ok(&out);
    let commands: Vec<&str> = help
        .split("Commands:")
        .nth(1)
        .unwrap()
        .split("Options:")
        .next()
        .unwrap()
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .collect();
    assert!(commands.len() >= 14, "{commands:?}");
    for command in commands {
        let out = regcred().args([command, "--help"]).output().unwrap();
        let (help, _) = ok(&out);
        assert!(
            help.contains("Examples:\n  "),
            "{command} --help has no example:\n{help}"
        );
    }
}

/// Under Helm (HELM_PLUGIN_NAME set), usage reads in Helm's terms.
#[test]
fn help_in_helm_terms_under_helm() {
    let out = regcred()
        .env("HELM_PLUGIN_NAME", "regcred")
        .args(["install", "--help"])
        .output()
        .unwrap();
    let (help, _) = ok(&out);
    assert!(
        help.contains("Usage: helm regcred install RELEASE CHART [helm flags]"),
        "{help}"
    );
    let out = regcred().args(["install", "--help"]).output().unwrap();
    let (help, _) = ok(&out);
    assert!(
        help.contains("Usage: helm-regcred install RELEASE CHART"),
        "{help}"
    );
    // The machine-facing commands still run under Helm: they are only hidden.
    let out = regcred()
        .env("HELM_PLUGIN_NAME", "regcred")
        .args(["post-render", "--help"])
        .output()
        .unwrap();
    ok(&out);
}
