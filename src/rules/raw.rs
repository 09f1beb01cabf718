//! The rules file exactly as written: serde structs mirroring the YAML, with locations.
//!
//! Nothing here is checked beyond shape. Fields the validator must complain about when
//! missing are `Option` even if required, so that one missing field does not hide every other
//! problem behind serde's first error. Adding a rules-file field means adding it here and
//! turning it into the model in `validate.rs`.

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::{MapAccess, Visitor};
use serde_saphyr::Spanned;

use crate::registry::credentials::CredentialSource;

pub(super) type List = Spanned<Vec<Spanned<String>>>;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(rename = "RegcredConfig")]
pub(super) struct RawConfig {
    /// Always `helm-regcred/v1`.
    #[schemars(schema_with = "api_version_schema")]
    pub api_version: Option<Spanned<String>>,
    /// Always `RegcredConfig`.
    #[schemars(schema_with = "kind_schema")]
    pub kind: Option<Spanned<String>>,
    /// Ignored. Allowed so that one file is also a kustomize transformer config or a KRM
    /// functionConfig, which need `metadata.name`.
    #[schemars(with = "Option<serde_json::Map<String, serde_json::Value>>")]
    #[expect(
        dead_code,
        reason = "accepted only so other tools' wrappers of this file load"
    )]
    pub metadata: Option<serde::de::IgnoredAny>,
    /// The private registries: each gets a `kubernetes.io/dockerconfigjson` pull Secret.
    #[schemars(with = "Vec<RawRegistry>")]
    pub registries: Option<Spanned<Vec<Spanned<RawRegistry>>>>,
    /// Which pods get which secrets. None: every pod pulling from a listed registry gets its Secret.
    #[schemars(with = "Option<Vec<RawRule>>")]
    pub rules: Option<Spanned<Vec<Spanned<RawRule>>>>,
    /// Template variables: `{{ vars.NAME }}` in secret names; `--set NAME=VALUE` overrides.
    #[schemars(with = "Option<BTreeMap<String, serde_json::Value>>")]
    pub vars: Option<Spanned<BTreeMap<String, serde_json::Value>>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(rename = "Registry")]
pub(super) struct RawRegistry {
    /// Registry host as written in image references (`harbor.example.com`, `docker.io` for Docker Hub).
    #[schemars(with = "String")]
    pub server: Option<Spanned<String>>,
    /// Name of the pull Secret; may be a template: `coding-registry-cred-{{ vars.user_id }}`, `{{ release }}-pull`.
    #[schemars(with = "String")]
    pub secret: Option<Spanned<String>>,
    /// Optional email stored in the Secret, as `kubectl create secret docker-registry --docker-email`.
    #[schemars(with = "Option<String>")]
    pub email: Option<Spanned<String>>,
    /// Where the login comes from: exactly one of `env`, `file`, `dockerConfig`, `stdin`.
    #[schemars(with = "Option<CredentialSource>")]
    pub credentials: Option<Spanned<CredentialSource>>,
    /// Emit the Secret (default true); false: it already exists and is only referenced.
    #[schemars(with = "Option<bool>")]
    pub create: Option<Spanned<bool>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(rename = "Rule")]
pub(super) struct RawRule {
    /// Unique name, used in messages.
    #[schemars(with = "String")]
    pub name: Option<Spanned<String>>,
    #[serde(rename = "match")]
    /// Which resources the rule selects; absent matches everything.
    #[schemars(with = "Option<RawSelector>")]
    pub selector: Option<Spanned<RawSelector>>,
    /// Resources to leave out even when `match` selects them.
    #[schemars(with = "Option<RawSelector>")]
    pub exclude: Option<Spanned<RawSelector>>,
    /// Secret names to inject (each the `secret` of a registry, templates written the same way). Default: the secrets of the registries the pod pulls from.
    #[schemars(with = "Option<Vec<String>>")]
    pub secrets: Option<List>,
    #[schemars(with = "Option<RawTarget>")]
    pub target: Option<Spanned<RawTarget>>,
    #[schemars(with = "Option<super::Mode>")]
    pub mode: Option<Spanned<String>>,
    #[schemars(with = "Option<super::ImagePullPolicy>")]
    pub image_pull_policy: Option<Spanned<String>>,
    #[schemars(with = "Option<RawSecretNamespaces>")]
    pub secret_namespaces: Option<Spanned<RawSecretNamespaces>>,
    #[schemars(with = "Option<bool>")]
    pub rollout: Option<Spanned<bool>>,
    #[schemars(with = "Option<bool>")]
    pub create_service_accounts: Option<Spanned<bool>>,
}

/// `target:` — where the list goes when it is not the pod spec's `imagePullSecrets`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(rename = "Target")]
pub(super) struct RawTarget {
    #[schemars(with = "Option<String>")]
    pub field: Option<Spanned<String>>,
    #[schemars(with = "Option<super::Syntax>")]
    pub format: Option<Spanned<String>>,
    #[schemars(with = "Option<String>")]
    pub path: Option<Spanned<String>>,
    #[schemars(with = "Option<super::ItemShape>")]
    pub item_shape: Option<Spanned<String>>,
}

/// `secretNamespaces: [a, b]` or `secretNamespaces: {fromPath: $.x}`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
#[schemars(rename = "SecretNamespaces")]
pub(super) enum RawSecretNamespaces {
    List(#[schemars(with = "Vec<String>")] Vec<Spanned<String>>),
    FromPath(RawFromPath),
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(rename = "FromPath")]
pub(super) struct RawFromPath {
    #[schemars(with = "String")]
    pub from_path: Spanned<String>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(rename = "Selector")]
pub(super) struct RawSelector {
    #[schemars(with = "Option<Vec<String>>")]
    pub kinds: Option<List>,
    #[schemars(with = "Option<Vec<String>>")]
    pub names: Option<List>,
    #[schemars(with = "Option<Vec<String>>")]
    pub namespaces: Option<List>,
    #[schemars(with = "Option<RawLabels>")]
    pub labels: Option<Spanned<RawLabels>>,
    #[schemars(with = "Option<Vec<String>>")]
    pub images: Option<List>,
    #[schemars(with = "Option<Vec<String>>")]
    pub sources: Option<List>,
}

impl RawSelector {
    /// No condition at all (`{}`, or only `labels: {}`): matches every resource.
    pub fn is_empty(&self) -> bool {
        self.kinds.is_none()
            && self.names.is_none()
            && self.namespaces.is_none()
            && self.labels.as_ref().is_none_or(|l| l.value.0.is_empty())
            && self.images.is_none()
            && self.sources.is_none()
    }
}

/// `labels: {key: glob}` in file order, keeping each key's and value's location.
///
/// A hand-written visitor because the map types serde supports out of the box here either
/// lose the order (`BTreeMap`) or need an `indexmap` feature the crate does not enable.
#[derive(Debug, Default)]
pub(super) struct RawLabels(pub Vec<(Spanned<String>, Spanned<String>)>);

impl JsonSchema for RawLabels {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Labels".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "Label name to value pattern (a glob).",
            "type": "object",
            "additionalProperties": {"type": "string"}
        })
    }
}

fn api_version_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({"description": "Always `helm-regcred/v1`.", "const": super::API_VERSION})
}

fn kind_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({"description": "Always `RegcredConfig`.", "const": super::KIND})
}

impl<'de> Deserialize<'de> for RawLabels {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct LabelsVisitor;

        impl<'de> Visitor<'de> for LabelsVisitor {
            type Value = RawLabels;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a mapping of label names to value patterns")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawLabels, A::Error> {
                let mut labels = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    labels.push(entry);
                }
                Ok(RawLabels(labels))
            }
        }

        deserializer.deserialize_map(LabelsVisitor)
    }
}
