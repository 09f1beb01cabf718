//! The tables of where each kind keeps its pod specs: the built-in kinds, and the widely used
//! workload CRDs ([`WORKLOAD_CRDS`]), whose pods the kubelet runs just the same.
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

/// One step of a path to a pod spec inside a custom resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// A mapping key.
    Key(&'static str),
    /// Every value of a mapping whose keys are names (Kubeflow's replica roles: `Master`,
    /// `Worker`, ...).
    EachValue,
    /// Every item of a list (Ray's worker groups, Volcano's tasks).
    EachItem,
}

/// A custom resource kind that makes pods, and where it keeps their templates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkloadCrd {
    pub group: &'static str,
    pub kind: &'static str,
    /// Every place a pod spec can be; a resource may have several (a head and workers).
    pub pod_specs: &'static [&'static [Step]],
}

use Step::{EachItem, EachValue, Key};

/// `spec.template.spec`: a `PodTemplateSpec` at `spec.template`.
const CRD_TEMPLATE: &[Step] = &[Key("spec"), Key("template"), Key("spec")];

/// Kubeflow training jobs: `spec.<x>ReplicaSpecs` maps a role to a `ReplicaSpec`, whose
/// `template` is a `PodTemplateSpec` (kubeflow/training-operator
/// `pkg/apis/kubeflow.org/v1/*_types.go`, e.g. `PyTorchReplicaSpecs
/// map[ReplicaType]*ReplicaSpec json:"pytorchReplicaSpecs"`; `ReplicaSpec.Template` in
/// `common_types.go`).
macro_rules! replica_specs {
    ($field:literal) => {
        &[&[
            Key("spec"),
            Key($field),
            EachValue,
            Key("template"),
            Key("spec"),
        ]]
    };
}

/// Ray: a head group and a list of worker groups, each with a `template`
/// (ray-project/kuberay `ray-operator/apis/ray/v1/raycluster_types.go`: `HeadGroupSpec.Template`,
/// `WorkerGroupSpecs []WorkerGroupSpec json:"workerGroupSpecs"`, `WorkerGroupSpec.Template`).
macro_rules! ray_cluster {
    ($($prefix:literal),*) => {
        &[
            &[Key("spec"), $(Key($prefix),)* Key("headGroupSpec"), Key("template"), Key("spec")],
            &[Key("spec"), $(Key($prefix),)* Key("workerGroupSpecs"), EachItem, Key("template"), Key("spec")],
        ]
    };
}

/// Widely used workload CRDs, sorted by group then kind (a test keeps it so). Argo Workflows'
/// `Workflow` is not here: its templates hold bare containers (`templates[].container`,
/// `.script`, `.containerSet`) and one workflow-wide `spec.imagePullSecrets`, not pod specs.
/// Spark Operator's `SparkApplication` likewise keeps `spec.image`/`spec.imagePullSecrets` only.
#[rustfmt::skip]
pub const WORKLOAD_CRDS: &[WorkloadCrd] = &[
    // OpenKruise (openkruise/kruise `apis/apps/v1alpha1`): `AdvancedCronJobSpec.Template` is a
    // `CronJobTemplate` holding a `jobTemplate` or a `broadcastJobTemplate` (advancedcronjob_types.go).
    WorkloadCrd { group: "apps.kruise.io", kind: "AdvancedCronJob", pod_specs: &[
        &[Key("spec"), Key("template"), Key("jobTemplate"), Key("spec"), Key("template"), Key("spec")],
        &[Key("spec"), Key("template"), Key("broadcastJobTemplate"), Key("spec"), Key("template"), Key("spec")],
    ] },
    // broadcastjob_types.go: `BroadcastJobSpec.Template corev1.PodTemplateSpec`.
    WorkloadCrd { group: "apps.kruise.io", kind: "BroadcastJob", pod_specs: &[CRD_TEMPLATE] },
    // cloneset_types.go: `CloneSetSpec.Template v1.PodTemplateSpec`.
    WorkloadCrd { group: "apps.kruise.io", kind: "CloneSet", pod_specs: &[CRD_TEMPLATE] },
    // Advanced DaemonSet, daemonset_types.go: `DaemonSetSpec.Template corev1.PodTemplateSpec`.
    WorkloadCrd { group: "apps.kruise.io", kind: "DaemonSet", pod_specs: &[CRD_TEMPLATE] },
    // Advanced StatefulSet, `apis/apps/v1beta1/statefulset_types.go`: `Template v1.PodTemplateSpec`.
    WorkloadCrd { group: "apps.kruise.io", kind: "StatefulSet", pod_specs: &[CRD_TEMPLATE] },
    // OpenShift (openshift/api `apps/v1/types.go`): `DeploymentConfigSpec.Template *corev1.PodTemplateSpec`.
    WorkloadCrd { group: "apps.openshift.io", kind: "DeploymentConfig", pod_specs: &[CRD_TEMPLATE] },
    // Argo Rollouts (argoproj/argo-rollouts `pkg/apis/rollouts/v1alpha1/types.go`):
    // `RolloutSpec.Template corev1.PodTemplateSpec` (absent with `workloadRef`).
    WorkloadCrd { group: "argoproj.io", kind: "Rollout", pod_specs: &[CRD_TEMPLATE] },
    // Volcano (volcano-sh/apis `pkg/apis/batch/v1alpha1/job.go`): `Tasks []TaskSpec
    // json:"tasks"`, `TaskSpec.Template v1.PodTemplateSpec`.
    WorkloadCrd { group: "batch.volcano.sh", kind: "Job", pod_specs: &[
        &[Key("spec"), Key("tasks"), EachItem, Key("template"), Key("spec")],
    ] },
    // JobSet (kubernetes-sigs/jobset `api/jobset/v1alpha2/jobset_types.go`): `ReplicatedJobs
    // []ReplicatedJob json:"replicatedJobs"`, `ReplicatedJob.Template batchv1.JobTemplateSpec`.
    WorkloadCrd { group: "jobset.x-k8s.io", kind: "JobSet", pod_specs: &[
        &[Key("spec"), Key("replicatedJobs"), EachItem, Key("template"), Key("spec"), Key("template"), Key("spec")],
    ] },
    // KEDA (kedacore/keda `apis/keda/v1alpha1/scaledjob_types.go`): `JobTargetRef *batchv1.JobSpec`.
    WorkloadCrd { group: "keda.sh", kind: "ScaledJob", pod_specs: &[
        &[Key("spec"), Key("jobTargetRef"), Key("template"), Key("spec")],
    ] },
    WorkloadCrd { group: "kubeflow.org", kind: "JAXJob", pod_specs: replica_specs!("jaxReplicaSpecs") },
    // kubeflow/mpi-operator `pkg/apis/kubeflow/v2beta1/types.go`: `MPIReplicaSpecs
    // map[MPIReplicaType]*common.ReplicaSpec json:"mpiReplicaSpecs"` (v1 in training-operator too).
    WorkloadCrd { group: "kubeflow.org", kind: "MPIJob", pod_specs: replica_specs!("mpiReplicaSpecs") },
    // Kubeflow notebooks (kubeflow/kubeflow `components/notebook-controller/api/v1/notebook_types.go`):
    // `NotebookSpec.Template NotebookTemplateSpec`, whose `Spec corev1.PodSpec`.
    WorkloadCrd { group: "kubeflow.org", kind: "Notebook", pod_specs: &[CRD_TEMPLATE] },
    WorkloadCrd { group: "kubeflow.org", kind: "PaddleJob", pod_specs: replica_specs!("paddleReplicaSpecs") },
    WorkloadCrd { group: "kubeflow.org", kind: "PyTorchJob", pod_specs: replica_specs!("pytorchReplicaSpecs") },
    WorkloadCrd { group: "kubeflow.org", kind: "TFJob", pod_specs: replica_specs!("tfReplicaSpecs") },
    WorkloadCrd { group: "kubeflow.org", kind: "XGBoostJob", pod_specs: replica_specs!("xgbReplicaSpecs") },
    // LeaderWorkerSet (kubernetes-sigs/lws `api/leaderworkerset/v1/leaderworkerset_types.go`):
    // `LeaderWorkerTemplate.LeaderTemplate *corev1.PodTemplateSpec`, `.WorkerTemplate`.
    WorkloadCrd { group: "leaderworkerset.x-k8s.io", kind: "LeaderWorkerSet", pod_specs: &[
        &[Key("spec"), Key("leaderWorkerTemplate"), Key("leaderTemplate"), Key("spec")],
        &[Key("spec"), Key("leaderWorkerTemplate"), Key("workerTemplate"), Key("spec")],
    ] },
    WorkloadCrd { group: "ray.io", kind: "RayCluster", pod_specs: ray_cluster!() },
    // rayjob_types.go: `RayClusterSpec *RayClusterSpec json:"rayClusterSpec"`, and
    // `SubmitterPodTemplate *corev1.PodTemplateSpec json:"submitterPodTemplate"`.
    WorkloadCrd { group: "ray.io", kind: "RayJob", pod_specs: &[
        &[Key("spec"), Key("rayClusterSpec"), Key("headGroupSpec"), Key("template"), Key("spec")],
        &[Key("spec"), Key("rayClusterSpec"), Key("workerGroupSpecs"), EachItem, Key("template"), Key("spec")],
        &[Key("spec"), Key("submitterPodTemplate"), Key("spec")],
    ] },
    // rayservice_types.go: `RayClusterSpec RayClusterSpec json:"rayClusterConfig"`.
    WorkloadCrd { group: "ray.io", kind: "RayService", pod_specs: ray_cluster!("rayClusterConfig") },
    // Knative Serving (knative/serving `pkg/apis/serving/v1`): a Service inlines a
    // `ConfigurationSpec`, whose `Template RevisionTemplateSpec` has `Spec RevisionSpec`, which
    // inlines `corev1.PodSpec` (service_types.go, configuration_types.go, revision_types.go).
    WorkloadCrd { group: "serving.knative.dev", kind: "Configuration", pod_specs: &[CRD_TEMPLATE] },
    WorkloadCrd { group: "serving.knative.dev", kind: "Revision", pod_specs: &[&[Key("spec")]] },
    WorkloadCrd { group: "serving.knative.dev", kind: "Service", pod_specs: &[CRD_TEMPLATE] },
    // Knative Eventing (knative/eventing `pkg/apis/sources/v1/container_types.go`):
    // `ContainerSourceSpec.Template corev1.PodTemplateSpec`.
    WorkloadCrd { group: "sources.knative.dev", kind: "ContainerSource", pod_specs: &[CRD_TEMPLATE] },
];

/// The workload CRD entry for this `apiVersion` and `kind`, if it is one.
pub fn workload_crd(api_version: &str, kind: &str) -> Option<&'static WorkloadCrd> {
    let group = api_version.rsplit_once('/').map(|(group, _)| group)?;
    WORKLOAD_CRDS
        .iter()
        .find(|c| c.kind == kind && c.group == group)
}

/// Whether any built-in kind or workload CRD of this name has pod specs.
pub fn may_hold_pods(kind: &str) -> bool {
    may_hold_pod_spec(kind) || WORKLOAD_CRDS.iter().any(|c| c.kind == kind)
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
    fn crd_table_is_sorted_unique_and_apart_from_built_ins() {
        let keys: Vec<_> = WORKLOAD_CRDS.iter().map(|c| (c.group, c.kind)).collect();
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(keys, sorted);
        for crd in WORKLOAD_CRDS {
            assert!(crd.group.contains('.'), "{crd:?}: CRD groups are DNS names");
            assert!(
                !POD_SPEC_PATHS.iter().any(|p| p.groups.contains(&crd.group)),
                "{crd:?}"
            );
            assert!(!crd.pod_specs.is_empty(), "{crd:?}");
            for path in crd.pod_specs {
                assert_eq!(path.first(), Some(&Key("spec")), "{crd:?}");
                assert_eq!(path.last(), Some(&Key("spec")), "{crd:?}");
            }
        }
    }

    /// Each entry as the CRD's documentation writes it, by dotted path (`*` for each value of
    /// a mapping, `[]` for each item of a list).
    #[test]
    fn every_crd_entry() {
        fn dotted(path: &[Step]) -> String {
            let parts: Vec<&str> = path
                .iter()
                .map(|s| match s {
                    Key(k) => k,
                    EachValue => "*",
                    EachItem => "[]",
                })
                .collect();
            parts.join(".")
        }
        let expect: &[(&str, &str, &[&str])] = &[
            (
                "apps.kruise.io",
                "AdvancedCronJob",
                &[
                    "spec.template.jobTemplate.spec.template.spec",
                    "spec.template.broadcastJobTemplate.spec.template.spec",
                ],
            ),
            ("apps.kruise.io", "BroadcastJob", &["spec.template.spec"]),
            ("apps.kruise.io", "CloneSet", &["spec.template.spec"]),
            ("apps.kruise.io", "DaemonSet", &["spec.template.spec"]),
            ("apps.kruise.io", "StatefulSet", &["spec.template.spec"]),
            (
                "apps.openshift.io",
                "DeploymentConfig",
                &["spec.template.spec"],
            ),
            ("argoproj.io", "Rollout", &["spec.template.spec"]),
            ("batch.volcano.sh", "Job", &["spec.tasks.[].template.spec"]),
            (
                "jobset.x-k8s.io",
                "JobSet",
                &["spec.replicatedJobs.[].template.spec.template.spec"],
            ),
            ("keda.sh", "ScaledJob", &["spec.jobTargetRef.template.spec"]),
            (
                "kubeflow.org",
                "JAXJob",
                &["spec.jaxReplicaSpecs.*.template.spec"],
            ),
            (
                "kubeflow.org",
                "MPIJob",
                &["spec.mpiReplicaSpecs.*.template.spec"],
            ),
            ("kubeflow.org", "Notebook", &["spec.template.spec"]),
            (
                "kubeflow.org",
                "PaddleJob",
                &["spec.paddleReplicaSpecs.*.template.spec"],
            ),
            (
                "kubeflow.org",
                "PyTorchJob",
                &["spec.pytorchReplicaSpecs.*.template.spec"],
            ),
            (
                "kubeflow.org",
                "TFJob",
                &["spec.tfReplicaSpecs.*.template.spec"],
            ),
            (
                "kubeflow.org",
                "XGBoostJob",
                &["spec.xgbReplicaSpecs.*.template.spec"],
            ),
            (
                "leaderworkerset.x-k8s.io",
                "LeaderWorkerSet",
                &[
                    "spec.leaderWorkerTemplate.leaderTemplate.spec",
                    "spec.leaderWorkerTemplate.workerTemplate.spec",
                ],
            ),
            (
                "ray.io",
                "RayCluster",
                &[
                    "spec.headGroupSpec.template.spec",
                    "spec.workerGroupSpecs.[].template.spec",
                ],
            ),
            (
                "ray.io",
                "RayJob",
                &[
                    "spec.rayClusterSpec.headGroupSpec.template.spec",
                    "spec.rayClusterSpec.workerGroupSpecs.[].template.spec",
                    "spec.submitterPodTemplate.spec",
                ],
            ),
            (
                "ray.io",
                "RayService",
                &[
                    "spec.rayClusterConfig.headGroupSpec.template.spec",
                    "spec.rayClusterConfig.workerGroupSpecs.[].template.spec",
                ],
            ),
            (
                "serving.knative.dev",
                "Configuration",
                &["spec.template.spec"],
            ),
            ("serving.knative.dev", "Revision", &["spec"]),
            ("serving.knative.dev", "Service", &["spec.template.spec"]),
            (
                "sources.knative.dev",
                "ContainerSource",
                &["spec.template.spec"],
            ),
        ];
        assert_eq!(WORKLOAD_CRDS.len(), expect.len());
        for (crd, (group, kind, paths)) in WORKLOAD_CRDS.iter().zip(expect) {
            assert_eq!((crd.group, crd.kind), (*group, *kind));
            let got: Vec<String> = crd.pod_specs.iter().map(|p| dotted(p)).collect();
            assert_eq!(got, *paths, "{kind}");
            let api_version = format!("{group}/v1");
            assert_eq!(workload_crd(&api_version, kind), Some(crd));
            assert!(may_hold_pods(kind));
        }
        assert!(workload_crd("v1", "Rollout").is_none());
        assert!(workload_crd("example.com/v1", "Rollout").is_none());
        assert!(workload_crd("apps/v1", "CloneSet").is_none());
        assert!(!may_hold_pods("ConfigMap"));
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
