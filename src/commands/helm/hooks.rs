//! Helm 3 never post-renders hooks: find the pre-install/pre-upgrade hook pods in what it
//! printed that still lack their pull secret.

use helm_regcred::engine::{self, Env, Request};
use helm_regcred::{Config, Options, Stream};

/// What Helm 3 cannot do for hooks, and where the ways around it are (docs/helm.md, "Hooks").
pub const HELM3_HOOKS: &str = "\
helm-regcred: Helm 3 never post-renders hooks, so hook pods get no pull secret and pre-install hooks run \
before the Secret exists: use Helm 4, or see docs/helm.md#hooks (--no-diff quiets this)";

/// Pre-install/pre-upgrade hook pods in what Helm 3 printed that lack a pull secret the rules
/// give them, as `Kind/name (source) lacks secret`.
pub fn helm3_unserved_hooks(
    printed: &[u8],
    config: &Config,
    options: &Options,
    env: Env,
) -> Vec<String> {
    let text = String::from_utf8_lossy(printed);
    // `install --dry-run` prints `HOOKS:` and `MANIFEST:` sections around YAML; `template`
    // prints YAML only.
    let yaml = match text.split_once("\nHOOKS:\n") {
        Some((_, rest)) => rest.split("\nMANIFEST:\n").next().unwrap_or_default(),
        None => &text,
    };
    let Ok(printed) = Stream::parse(yaml.as_bytes()) else {
        return Vec::new();
    };
    // Only the pre-install/pre-upgrade hooks are planned: another document the rules cannot
    // handle must not hide them (Helm 3 post-rendered, and so checked, the rest already).
    let mut hooks = String::new();
    for doc in &printed.docs {
        let text = printed.doc_text(doc);
        if text.contains("helm.sh/hook")
            && (text.contains("pre-install") || text.contains("pre-upgrade"))
        {
            if !doc.explicit_start {
                hooks.push_str("---\n");
            }
            hooks.push_str(text);
            if !hooks.ends_with('\n') {
                hooks.push('\n');
            }
        }
    }
    if hooks.is_empty() {
        return Vec::new();
    }
    let Ok(stream) = Stream::parse(hooks.as_bytes()) else {
        return Vec::new();
    };
    let request = Request::new(config, &stream)
        .options(options.clone())
        .env(env)
        .plan_only();
    let Ok(outcome) = engine::run(request) else {
        return Vec::new();
    };
    outcome
        .plan
        .lacking()
        .map(|c| {
            let what = match (&c.at.kind, &c.at.name) {
                (Some(k), Some(n)) => format!("{k}/{n}"),
                _ => format!("document {}", c.at.doc),
            };
            let from =
                c.at.source
                    .as_deref()
                    .map(|s| format!(" ({s})"))
                    .unwrap_or_default();
            format!("{what}{from} lacks {}", c.added.join(", "))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use helm_regcred::engine::no_env;

    #[test]
    fn finds_unserved_pre_hooks_in_dry_run_output() {
        let config = Config::parse(
            "apiVersion: helm-regcred/v1\nkind: RegcredConfig\nregistries:\n  - server: r.example.com\n    secret: pull\n    credentials: {env: {username: U, password: P}}\n",
            "<test>",
        )
        .unwrap();
        let printed = "NAME: x\nHOOKS:\n---\n# Source: c/templates/job.yaml\napiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\n  annotations:\n    helm.sh/hook: pre-install\nspec:\n  template:\n    spec:\n      containers: [{name: m, image: r.example.com/m:1}]\n---\n# Source: c/templates/test.yaml\napiVersion: v1\nkind: Pod\nmetadata:\n  name: t\n  annotations:\n    helm.sh/hook: test\nspec:\n  containers: [{name: t, image: r.example.com/t:1}]\nMANIFEST:\n---\n# Source: c/templates/pod.yaml\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers: [{name: p, image: r.example.com/p:1}]\n\nNOTES:\nhello: [\n";
        assert_eq!(
            helm3_unserved_hooks(printed.as_bytes(), &config, &Options::default(), &no_env),
            ["Job/migrate (c/templates/job.yaml) lacks pull"]
        );
    }
}
