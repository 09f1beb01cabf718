//! The rules file exactly as written: serde structs mirroring the YAML, with locations.
//!
//! Nothing here is checked beyond shape. Fields the validator must complain about when
//! missing are `Option` even if required, so that one missing field does not hide every other
//! problem behind serde's first error. Adding a rules-file field means adding it here and
//! turning it into the model in `validate.rs`.

use std::fmt;

use serde::Deserialize;
use serde::de::{MapAccess, Visitor};
use serde_saphyr::Spanned;

use crate::credentials::CredentialSource;

pub(super) type List = Spanned<Vec<Spanned<String>>>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawConfig {
    pub api_version: Option<Spanned<String>>,
    pub kind: Option<Spanned<String>>,
    pub registries: Option<Spanned<Vec<Spanned<RawRegistry>>>>,
    pub rules: Option<Spanned<Vec<Spanned<RawRule>>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawRegistry {
    pub server: Option<Spanned<String>>,
    pub secret: Option<Spanned<String>>,
    pub email: Option<Spanned<String>>,
    pub credentials: Option<Spanned<CredentialSource>>,
    pub create: Option<Spanned<bool>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawRule {
    pub name: Option<Spanned<String>>,
    #[serde(rename = "match")]
    pub selector: Option<Spanned<RawSelector>>,
    pub exclude: Option<Spanned<RawSelector>>,
    pub secrets: Option<List>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawSelector {
    pub kinds: Option<List>,
    pub names: Option<List>,
    pub namespaces: Option<List>,
    pub labels: Option<Spanned<RawLabels>>,
    pub images: Option<List>,
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
