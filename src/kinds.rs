//! The one table of where each built-in kind keeps its pod spec.
//!
//! Matching is on API group and kind, not version: `apps/v1` and the long-gone
//! `extensions/v1beta1` Deployment keep the pod spec in the same place, while a CRD that happens
//! to be called `Deployment` in another group is not a Deployment.

/// Where a kind keeps its pod spec, as a path of mapping keys from the resource's root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PodSpecPath {
    pub kind: &'static str,
    /// API groups this kind is served from; "" is the core group (`apiVersion: v1`).
    pub groups: &'static [&'static str],
    pub path: &'static [&'static str],
}

const TEMPLATE: &[&str] = &["spec", "template", "spec"];

/// Sorted by kind; a test keeps it that way so a newcomer can scan it.
#[rustfmt::skip]
pub const POD_SPEC_PATHS: &[PodSpecPath] = &[
    PodSpecPath { kind: "CronJob", groups: &["batch"], path: &["spec", "jobTemplate", "spec", "template", "spec"] },
    PodSpecPath { kind: "DaemonSet", groups: &["apps", "extensions"], path: TEMPLATE },
    PodSpecPath { kind: "Deployment", groups: &["apps", "extensions"], path: TEMPLATE },
    PodSpecPath { kind: "Job", groups: &["batch"], path: TEMPLATE },
    PodSpecPath { kind: "Pod", groups: &[""], path: &["spec"] },
    PodSpecPath { kind: "PodTemplate", groups: &[""], path: &["template", "spec"] },
    PodSpecPath { kind: "ReplicaSet", groups: &["apps", "extensions"], path: TEMPLATE },
    PodSpecPath { kind: "ReplicationController", groups: &[""], path: TEMPLATE },
    PodSpecPath { kind: "StatefulSet", groups: &["apps"], path: TEMPLATE },
];

/// The container lists of a pod spec whose images the kubelet pulls.
pub const CONTAINER_LISTS: &[&str] = &["initContainers", "containers", "ephemeralContainers"];

/// The pod spec location for a resource of this `apiVersion` and `kind`, if it has one.
pub fn pod_spec_path(api_version: &str, kind: &str) -> Option<&'static PodSpecPath> {
    let group = api_version.rsplit_once('/').map_or("", |(group, _)| group);
    POD_SPEC_PATHS
        .iter()
        .find(|p| p.kind == kind && p.groups.contains(&group))
}

/// Whether any built-in kind of this name has a pod spec (before the apiVersion is known).
pub fn may_hold_pod_spec(kind: &str) -> bool {
    POD_SPEC_PATHS.iter().any(|p| p.kind == kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_unique() {
        let kinds: Vec<_> = POD_SPEC_PATHS.iter().map(|p| p.kind).collect();
        let mut sorted = kinds.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(kinds, sorted);
    }

    #[test]
    fn every_path_ends_in_spec() {
        for p in POD_SPEC_PATHS {
            assert_eq!(p.path.last(), Some(&"spec"), "{}", p.kind);
        }
    }

    #[test]
    fn lookup_by_group() {
        let cron = pod_spec_path("batch/v1", "CronJob").unwrap();
        assert_eq!(
            cron.path,
            ["spec", "jobTemplate", "spec", "template", "spec"]
        );
        assert_eq!(pod_spec_path("batch/v1beta1", "CronJob"), Some(cron));
        assert_eq!(pod_spec_path("v1", "Pod").unwrap().path, ["spec"]);
        assert_eq!(
            pod_spec_path("v1", "PodTemplate").unwrap().path,
            ["template", "spec"]
        );
        assert!(pod_spec_path("apps/v1", "Deployment").is_some());
        assert!(pod_spec_path("extensions/v1beta1", "Deployment").is_some());
        assert!(pod_spec_path("example.com/v1", "Deployment").is_none());
        assert!(pod_spec_path("apps/v1", "Pod").is_none());
        assert!(pod_spec_path("v1", "ConfigMap").is_none());
    }
}
