//! Helm 3 never post-renders hooks: find the hook pods in what it printed that still lack their
//! pull secret and would fail without it.

use helm_regcred::engine::{self, Env, Request};
use helm_regcred::{Config, Options, Stream};

/// What Helm 3 cannot do for hooks, and where the ways around it are (docs/helm.md, "Hooks").
pub const HELM3_HOOKS: &str = "\
helm-regcred: Helm 3 never post-renders hooks, so hook pods get no pull secret: pre-install and \
pre-upgrade hooks run before the Secret exists, post-delete hooks after it is gone: use Helm 4, or \
see docs/helm.md#hooks (--no-diff quiets this)";

/// Pre-install, pre-upgrade and post-delete hook pods in what Helm 3 printed that lack a pull
/// secret the rules give them, as `Kind/name (source) lacks secret`.
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
    // Only the hooks at whose events the release's Secret is not there are planned: before it
    // is created, after it is deleted (other hook pods find it, when the chart lists it). They
    // are planned on their own, so another document the rules cannot handle does not hide them
    // (Helm 3 post-rendered, and so checked, the rest already).
    let mut hooks = String::new();
    for doc in &printed.docs {
        let text = printed.doc_text(doc);
        if text.contains("helm.sh/hook")
            && ["pre-install", "pre-upgrade", "post-delete"]
                .iter()
                .any(|event| text.contains(event))
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
            // The Secret the chart should list, not the hook Secret Helm 4 would get.
            let names: Vec<&str> = c
                .added
                .iter()
                .map(|name| outcome.plan.stands_for(name))
                .collect();
            format!("{what}{from} lacks {}", names.join(", "))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use helm_regcred::engine::no_env;

    #[test]
    fn finds_unserved_pre_and_post_delete_hooks_in_dry_run_output() {
        let config = Config::parse(
            "apiVersion: helm-regcred/v1\nkind: RegcredConfig\nregistries:\n  - server: r.example.com\n    secret: pull\n    credentials: {env: {username: U, password: P}}\n",
            "<test>",
        )
        .unwrap();
        let printed = "NAME: x\nHOOKS:\n---\n# Source: c/templates/job.yaml\napiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\n  annotations:\n    helm.sh/hook: pre-install\nspec:\n  template:\n    spec:\n      containers: [{name: m, image: r.example.com/m:1}]\n---\n# Source: c/templates/test.yaml\napiVersion: v1\nkind: Pod\nmetadata:\n  name: t\n  annotations:\n    helm.sh/hook: test\nspec:\n  containers: [{name: t, image: r.example.com/t:1}]\n---\n# Source: c/templates/cleanup.yaml\napiVersion: v1\nkind: Pod\nmetadata:\n  name: cleanup\n  annotations:\n    helm.sh/hook: post-delete\nspec:\n  containers: [{name: c, image: r.example.com/c:1}]\nMANIFEST:\n---\n# Source: c/templates/pod.yaml\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers: [{name: p, image: r.example.com/p:1}]\n\nNOTES:\nhello: [\n";
        assert_eq!(
            helm3_unserved_hooks(printed.as_bytes(), &config, &Options::default(), &no_env),
            // Named by the Secret the chart should list, not Helm 4's hook Secret; the test
            // hook runs when the release's Secret exists.
            [
                "Job/migrate (c/templates/job.yaml) lacks pull",
                "Pod/cleanup (c/templates/cleanup.yaml) lacks pull"
            ]
        );
    }
}
