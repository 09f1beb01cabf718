//! Reading Helm's stderr: ownership conflicts on our Secret, failed pre-install hooks.

use helm_regcred::Config;

/// Helm 3 says a pre-install/pre-upgrade hook failed (`failed pre-install: ...`).
pub fn failed_pre_hook(stderr: &str) -> bool {
    stderr.contains("failed pre-install") || stderr.contains("failed pre-upgrade")
}

/// Helm refusing to adopt an existing object into a release (pkg/action/validate.go):
/// `Secret "N" in namespace "NS" exists and cannot be imported into the current release:
/// invalid ownership metadata; ...`.
#[derive(Debug, PartialEq, Eq)]
pub struct Conflict {
    pub name: String,
    pub namespace: String,
    /// The release that owns it (`current value is "..."`); `None`: not created by Helm.
    pub owner: Option<String>,
}

pub fn ownership_conflicts(stderr: &str) -> Vec<Conflict> {
    const MARK: &str = "exists and cannot be imported into the current release";
    let mut out = Vec::new();
    for (at, _) in stderr.match_indices("Secret \"") {
        let rest = &stderr[at + "Secret \"".len()..];
        let Some((name, rest)) = rest.split_once('"') else {
            continue;
        };
        let Some(rest) = rest.strip_prefix(" in namespace \"") else {
            continue;
        };
        let Some((namespace, rest)) = rest.split_once('"') else {
            continue;
        };
        let rest = rest.trim_start();
        if !rest.starts_with(MARK) || !rest.contains("invalid ownership metadata") {
            continue;
        }
        let detail = rest.lines().next().unwrap_or_default();
        let owner = detail
            .split_once("\"meta.helm.sh/release-name\" must equal ")
            .and_then(|(_, r)| r.split_once("current value is \""))
            .and_then(|(_, r)| r.split_once('"'))
            .map(|(owner, _)| owner.to_string());
        let conflict = Conflict {
            name: name.to_string(),
            namespace: namespace.to_string(),
            owner,
        };
        if !out.contains(&conflict) {
            out.push(conflict);
        }
    }
    out
}

/// Is `name` a Secret helm-regcred adds? Its rules name it, or this run's diff added it.
pub fn is_ours(name: &str, config: &Config, diff: Option<&str>) -> bool {
    config.registries.iter().any(|r| r.secret == name)
        || diff.is_some_and(|d| {
            d.lines()
                .any(|l| l.trim_start_matches('+').trim() == format!("name: {name}"))
        })
}

impl Conflict {
    pub fn explain(&self) -> String {
        let Conflict {
            name, namespace, ..
        } = self;
        match &self.owner {
            Some(owner) => format!(
                "helm-regcred: Secret {name} in namespace {namespace} is the pull Secret helm-regcred \
                 adds, and release {owner:?} already owns it: Helm lets one release own an object, so \
                 two releases in one namespace cannot both add a Secret of that name. Fix, either:\n  \
                 - name the Secret per release in the rules: `secret: \"{{{{ release }}}}-pull\"` \
                 (and `secrets: [\"{{{{ release }}}}-pull\"]` in rules that name it), or\n  \
                 - let one release (or `helm regcred create-secret`) own it and give the other \
                 releases rules with `create: false` for that registry: they then only reference it."
            ),
            None => format!(
                "helm-regcred: Secret {name} in namespace {namespace} exists but was not created by \
                 Helm (kubectl, `helm regcred create-secret`, ...), so Helm will not add it to this \
                 release. Fix, either:\n  \
                 - keep it and set `create: false` for that registry in the rules: pods still get \
                 `imagePullSecrets: [{name}]`, no Secret is emitted, or\n  \
                 - delete it and run again, or let Helm adopt it with --take-ownership."
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_helms_ownership_errors() {
        let owned = "Error: INSTALLATION FAILED: Unable to continue with install: Secret \"demo-pull\" \
            in namespace \"apps\" exists and cannot be imported into the current release: invalid \
            ownership metadata; annotation validation error: key \"meta.helm.sh/release-name\" must \
            equal \"rel2\": current value is \"rel1\"\n";
        assert_eq!(
            ownership_conflicts(owned),
            [Conflict {
                name: "demo-pull".into(),
                namespace: "apps".into(),
                owner: Some("rel1".into()),
            }]
        );
        let foreign = "Error: Unable to continue with install: Secret \"regcred\" in namespace \"d\" \
            exists and cannot be imported into the current release: invalid ownership metadata; label \
            validation error: missing key \"app.kubernetes.io/managed-by\": must be set to \"Helm\"; \
            annotation validation error: missing key \"meta.helm.sh/release-name\": must be set to \"x\"";
        let found = ownership_conflicts(foreign);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].owner, None);
        assert!(found[0].explain().contains("create: false"));
        let other = "Error: ServiceAccount \"sa\" in namespace \"d\" exists and cannot be imported into \
            the current release: invalid ownership metadata";
        assert!(ownership_conflicts(other).is_empty());
        let explained = ownership_conflicts(owned)[0].explain();
        assert!(explained.contains("{{ release }}-pull"), "{explained}");
        assert!(explained.contains("\"rel1\""), "{explained}");
    }

    #[test]
    fn recognises_a_failed_pre_hook() {
        assert!(failed_pre_hook(
            "Error: INSTALLATION FAILED: failed pre-install: 1 error occurred:\n\t* timed out waiting for the condition\n"
        ));
        assert!(failed_pre_hook(
            "Error: UPGRADE FAILED: failed pre-upgrade: job failed: BackoffLimitExceeded"
        ));
        assert!(!failed_pre_hook(
            "Error: INSTALLATION FAILED: failed post-install: x"
        ));
    }
}
