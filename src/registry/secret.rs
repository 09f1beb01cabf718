//! The pull Secret: its `.dockerconfigjson` payload and the manifest that carries it.

use std::fmt;
use std::fmt::Write as _;

use crate::edit::Syntax;
use crate::edit::document::NewDocument;
use crate::yaml::yaml_scalar;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

/// One `auths` entry of a `.dockerconfigjson`.
#[derive(Clone, PartialEq, Eq)]
pub struct RegistryAuth {
    pub server: String,
    pub username: String,
    pub password: String,
    pub email: Option<String>,
}

impl fmt::Debug for RegistryAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegistryAuth")
            .field("server", &self.server)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("email", &self.email)
            .finish()
    }
}

/// The decoded `.dockerconfigjson` exactly as `kubectl create secret docker-registry` stores it.
///
/// Byte equality with kubectl matters: `helm diff` and GitOps tools compare rendered Secrets,
/// so a semantically equal but differently encoded payload shows up as a spurious change when
/// users switch between kubectl-made and helm-regcred-made Secrets.
///
/// kubectl marshals a Go struct whose fields are all `omitempty`, so empty strings (including an
/// empty `email`) are left out, and `auth` is `base64(username:password)`. Servers are written in
/// the order given; callers pass each server once. (kubectl only ever writes one server; Go would
/// sort several, which no consumer depends on.)
pub fn docker_config_json(auths: &[RegistryAuth]) -> String {
    let mut out = String::from(r#"{"auths":{"#);
    for (i, entry) in auths.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_go_json_string(&mut out, &entry.server);
        out.push_str(":{");
        let auth = BASE64.encode(format!("{}:{}", entry.username, entry.password));
        let fields = [
            ("username", entry.username.as_str()),
            ("password", entry.password.as_str()),
            ("email", entry.email.as_deref().unwrap_or("")),
            ("auth", auth.as_str()),
        ];
        let mut first = true;
        for (key, value) in fields.into_iter().filter(|(_, v)| !v.is_empty()) {
            if !first {
                out.push(',');
            }
            first = false;
            push_go_json_string(&mut out, key);
            out.push(':');
            push_go_json_string(&mut out, value);
        }
        out.push('}');
    }
    out.push_str("}}");
    out
}

/// Appends `s` as Go's `encoding/json` (`json.Marshal`, HTML escaping on) encodes a string.
///
/// serde_json cannot be used: it leaves `<`, `>`, `&`, U+2028 and U+2029 unescaped and writes
/// other control characters differently, so its output would not be byte-identical to
/// kubectl's for passwords containing them.
fn push_go_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' | '\0'..='\u{1f}' => {
                // Go writes lowercase hex digits.
                write!(out, "\\u{:04x}", u32::from(c)).expect("writing to a String cannot fail");
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// What goes under `data.".dockerconfigjson"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Payload<'a> {
    /// The decoded `.dockerconfigjson`; rendered base64-encoded.
    Data(&'a str),
    /// For diffs and logs: the literal `<redacted>` in place of the encoded payload.
    Redacted,
}

/// A `kubernetes.io/dockerconfigjson` Secret, ready to append to the rendered stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SecretManifest<'a> {
    pub name: &'a str,
    pub namespace: Option<&'a str>,
    pub payload: Payload<'a>,
    /// Shown in the `# Source:` comment, the way Helm labels each template's output.
    pub source: &'a str,
    /// Helm 4 post-renderers must tag every document with the file it belongs to.
    pub filename_annotation: bool,
    /// Make it a pre-install/pre-upgrade Helm hook: hook pods that pull with it run before
    /// Helm creates the release's other resources.
    pub hook: bool,
}

/// The hook annotations of a pull Secret that pre-install hooks need. The weight puts it before
/// any chart hook; `before-hook-creation` replaces it on each upgrade and keeps it afterwards,
/// so the release's ordinary pods find it too.
pub const HOOK_ANNOTATIONS: &[(&str, &str)] = &[
    ("helm.sh/hook", "pre-install,pre-upgrade"),
    ("helm.sh/hook-weight", "'-1000'"),
    ("helm.sh/hook-delete-policy", "before-hook-creation"),
];

impl SecretManifest<'_> {
    /// One YAML document, starting with `---` and ending with a newline.
    pub fn render(&self) -> String {
        let annotations: &[(&str, &str)] = if self.hook { HOOK_ANNOTATIONS } else { &[] };
        let mut out = NewDocument {
            api_version: "v1",
            kind: "Secret",
            name: self.name,
            namespace: self.namespace,
            source: self.source,
            filename_annotation: self.filename_annotation,
            annotations,
        }
        .header();
        out.push_str("type: kubernetes.io/dockerconfigjson\ndata:\n");
        let data = match self.payload {
            Payload::Data(json) => BASE64.encode(json),
            Payload::Redacted => yaml_scalar("<redacted>"),
        };
        writeln!(out, "  .dockerconfigjson: {data}").unwrap();
        out
    }
}

/// The Secret exactly as `kubectl create secret docker-registry NAME --dry-run=client -o
/// yaml|json` prints it (kubectl 1.32 layout: field order, indentation, the
/// `creationTimestamp: null` that the client-side object carries), so a file made with either
/// tool diffs clean against the other.
pub fn kubectl_secret(
    name: &str,
    namespace: Option<&str>,
    docker_config_json: &str,
    format: Syntax,
) -> String {
    let data = BASE64.encode(docker_config_json);
    match format {
        Syntax::Yaml => {
            // sigs.k8s.io/yaml sorts keys and double-quotes strings a YAML reader would
            // otherwise take for numbers, booleans or null.
            let scalar = |s: &str| {
                if crate::yaml::is_plain_safe(s) {
                    s.to_string()
                } else {
                    serde_json::to_string(s).expect("serializing a str cannot fail")
                }
            };
            let mut out = String::from("apiVersion: v1\ndata:\n");
            writeln!(out, "  .dockerconfigjson: {data}").unwrap();
            out.push_str("kind: Secret\nmetadata:\n  creationTimestamp: null\n");
            writeln!(out, "  name: {}", scalar(name)).unwrap();
            if let Some(namespace) = namespace {
                writeln!(out, "  namespace: {}", scalar(namespace)).unwrap();
            }
            out.push_str("type: kubernetes.io/dockerconfigjson\n");
            out
        }
        Syntax::Json => {
            #[derive(serde::Serialize)]
            struct Metadata<'a> {
                name: &'a str,
                #[serde(skip_serializing_if = "Option::is_none")]
                namespace: Option<&'a str>,
                #[serde(rename = "creationTimestamp")]
                creation_timestamp: (),
            }
            #[derive(serde::Serialize)]
            struct Data {
                #[serde(rename = ".dockerconfigjson")]
                docker_config_json: String,
            }
            #[derive(serde::Serialize)]
            struct Object<'a> {
                kind: &'static str,
                #[serde(rename = "apiVersion")]
                api_version: &'static str,
                metadata: Metadata<'a>,
                data: Data,
                #[serde(rename = "type")]
                secret_type: &'static str,
            }
            let object = Object {
                kind: "Secret",
                api_version: "v1",
                metadata: Metadata {
                    name,
                    namespace,
                    creation_timestamp: (),
                },
                data: Data {
                    docker_config_json: data,
                },
                secret_type: "kubernetes.io/dockerconfigjson",
            };
            let mut out = Vec::new();
            let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
            let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
            serde::Serialize::serialize(&object, &mut serializer)
                .expect("serializing a Secret cannot fail");
            let mut text = String::from_utf8(out).expect("serde_json writes UTF-8");
            text.push('\n');
            text
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::is_plain_safe;

    fn auth(server: &str, username: &str, password: &str, email: Option<&str>) -> RegistryAuth {
        RegistryAuth {
            server: server.to_owned(),
            username: username.to_owned(),
            password: password.to_owned(),
            email: email.map(str::to_owned),
        }
    }

    #[test]
    fn debug_redacts_password() {
        let debug = format!("{:?}", auth("s", "user", "hunter2", None));
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(debug.contains("<redacted>"), "{debug}");
        assert!(debug.contains("user"), "{debug}");
    }

    #[test]
    fn plain_entry() {
        assert_eq!(
            docker_config_json(&[auth("docker.io", "u", "p", None)]),
            r#"{"auths":{"docker.io":{"username":"u","password":"p","auth":"dTpw"}}}"#
        );
    }

    #[test]
    fn email_is_kept_or_omitted_when_empty() {
        assert_eq!(
            docker_config_json(&[auth("x", "u", "p", Some("a@b.c"))]),
            r#"{"auths":{"x":{"username":"u","password":"p","email":"a@b.c","auth":"dTpw"}}}"#
        );
        assert_eq!(
            docker_config_json(&[auth("x", "u", "p", Some(""))]),
            docker_config_json(&[auth("x", "u", "p", None)])
        );
    }

    #[test]
    fn empty_username_and_password_are_omitted_like_go_omitempty() {
        assert_eq!(
            docker_config_json(&[auth("x", "", "", None)]),
            r#"{"auths":{"x":{"auth":"Og=="}}}"#
        );
    }

    #[test]
    fn several_servers_in_given_order() {
        assert_eq!(
            docker_config_json(&[auth("b.io", "u", "p", None), auth("a.io", "v", "q", None)]),
            concat!(
                r#"{"auths":{"b.io":{"username":"u","password":"p","auth":"dTpw"},"#,
                r#""a.io":{"username":"v","password":"q","auth":"djpx"}}}"#
            )
        );
        assert_eq!(docker_config_json(&[]), r#"{"auths":{}}"#);
    }

    #[test]
    fn go_string_escaping() {
        let mut out = String::new();
        push_go_json_string(
            &mut out,
            "<>&\"\\\u{1}\u{8}\u{c}\t\n\r\u{1f}\u{7f}\u{2028}\u{2029}ü密/'",
        );
        assert_eq!(
            out,
            "\"\\u003c\\u003e\\u0026\\\"\\\\\\u0001\\b\\f\\t\\n\\r\\u001f\u{7f}\\u2028\\u2029ü密/'\""
        );
    }

    #[test]
    fn auth_is_base64_of_raw_utf8() {
        let json = docker_config_json(&[auth("x", "ü", "密", None)]);
        let expected = BASE64.encode("ü:密");
        assert!(json.contains(&format!(r#""auth":"{expected}""#)), "{json}");
    }

    fn manifest<'a>(payload: Payload<'a>) -> SecretManifest<'a> {
        SecretManifest {
            name: "regcred-docker-io",
            namespace: Some("apps"),
            payload,
            source: "helm-regcred/pull-secrets.yaml",
            filename_annotation: true,
            hook: false,
        }
    }

    #[test]
    fn renders_full_manifest() {
        let json = r#"{"auths":{}}"#;
        assert_eq!(
            manifest(Payload::Data(json)).render(),
            // Helm 4 (filename annotation): Helm writes the `# Source:` line from the annotation.
            "---\n\
             apiVersion: v1\n\
             kind: Secret\n\
             metadata:\n\
             \x20 name: regcred-docker-io\n\
             \x20 namespace: apps\n\
             \x20 annotations:\n\
             \x20   postrenderer.helm.sh/postrender-filename: 'helm-regcred/pull-secrets.yaml'\n\
             type: kubernetes.io/dockerconfigjson\n\
             data:\n\
             \x20 .dockerconfigjson: eyJhdXRocyI6e319\n"
        );
    }

    #[test]
    fn renders_minimal_manifest() {
        let secret = SecretManifest {
            namespace: None,
            filename_annotation: false,
            hook: false,
            ..manifest(Payload::Redacted)
        };
        assert_eq!(
            secret.render(),
            "---\n\
             # Source: helm-regcred/pull-secrets.yaml\n\
             apiVersion: v1\n\
             kind: Secret\n\
             metadata:\n\
             \x20 name: regcred-docker-io\n\
             type: kubernetes.io/dockerconfigjson\n\
             data:\n\
             \x20 .dockerconfigjson: <redacted>\n"
        );
    }

    #[test]
    fn rendered_values_read_back_as_the_same_strings() {
        let awkward = [
            "123", "1e3", "0x1f", "true", "No", "null", "~", "-x", "a: b", "it's", "a #b", "ünï",
            "x\ny", "",
        ];
        for value in awkward {
            let secret = SecretManifest {
                name: value,
                namespace: Some(value),
                payload: Payload::Redacted,
                source: value,
                filename_annotation: true,
                hook: false,
            };
            let yaml = secret.render();
            let parsed: serde_json::Value =
                serde_saphyr::from_str(&yaml).unwrap_or_else(|e| panic!("{value:?}: {e}\n{yaml}"));
            let metadata = &parsed["metadata"];
            assert_eq!(metadata["name"], value, "{yaml}");
            assert_eq!(metadata["namespace"], value, "{yaml}");
            assert_eq!(
                metadata["annotations"]["postrenderer.helm.sh/postrender-filename"], value,
                "{yaml}"
            );
            assert_eq!(parsed["data"][".dockerconfigjson"], "<redacted>", "{yaml}");
        }
    }

    #[test]
    fn ordinary_names_stay_plain() {
        for value in ["regcred", "regcred-docker-io", "a.b-c", "x1", "<redacted>"] {
            assert!(is_plain_safe(value), "{value}");
        }
        for value in ["1abc", "true", "yes", "-a", ".a", "a:", "'a", ""] {
            assert!(!is_plain_safe(value), "{value}");
        }
    }
}
