//! The pull Secret: its `.dockerconfigjson` payload and the manifest that carries it.

use std::fmt;
use std::fmt::Write as _;

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
}

impl SecretManifest<'_> {
    /// One YAML document, starting with `---` and ending with a newline.
    pub fn render(&self) -> String {
        let mut out = String::from("---\n");
        // A comment ends at a line break, so one in `source` would spill into YAML.
        let comment_source: String = self
            .source
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        writeln!(out, "# Source: {comment_source}").unwrap();
        out.push_str("apiVersion: v1\nkind: Secret\nmetadata:\n");
        writeln!(out, "  name: {}", yaml_scalar(self.name)).unwrap();
        if let Some(namespace) = self.namespace {
            writeln!(out, "  namespace: {}", yaml_scalar(namespace)).unwrap();
        }
        if self.filename_annotation {
            out.push_str("  annotations:\n");
            writeln!(
                out,
                "    postrenderer.helm.sh/postrender-filename: {}",
                yaml_quoted(self.source)
            )
            .unwrap();
        }
        out.push_str("type: kubernetes.io/dockerconfigjson\ndata:\n");
        let data = match self.payload {
            Payload::Data(json) => BASE64.encode(json),
            Payload::Redacted => yaml_scalar("<redacted>"),
        };
        writeln!(out, "  .dockerconfigjson: {data}").unwrap();
        out
    }
}

/// `s` as a YAML string scalar: plain when every YAML 1.1 and 1.2 reader would read it back as
/// this same string, quoted otherwise.
///
/// DNS-1123 names are not automatically safe: `123`, `1e3`, `true`, `null`, `no` are all valid
/// names that a YAML reader would turn into a number, boolean or null.
fn yaml_scalar(s: &str) -> String {
    if is_plain_safe(s) {
        s.to_owned()
    } else {
        yaml_quoted(s)
    }
}

fn is_plain_safe(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    let printable_ascii = s.bytes().all(|b| (0x20..0x7f).contains(&b));
    let starts_with_indicator = "-?:,[]{}#&*!|>'\"%@`".contains(first);
    // Anything that could be a number in either YAML version: digits, signs, `.inf`, `.5`.
    let may_be_number = first.is_ascii_digit() || "+-.".contains(first);
    const KEYWORDS: &[&str] = &[
        "~", "null", "true", "false", "yes", "no", "y", "n", "on", "off", "=", "<<",
    ];
    let is_keyword = KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(s));
    printable_ascii
        && !starts_with_indicator
        && !may_be_number
        && !is_keyword
        && !s.starts_with(' ')
        && !s.ends_with(' ')
        && !s.ends_with(':')
        && !s.contains(": ")
        && !s.contains(" #")
}

/// Single-quoted unless `s` has characters a single-quoted scalar cannot carry verbatim (line
/// breaks fold, other control characters are not allowed); those get JSON's double-quoted
/// form, which is also valid YAML.
fn yaml_quoted(s: &str) -> String {
    if s.chars().any(char::is_control) {
        serde_json::to_string(s).expect("serializing a str cannot fail")
    } else {
        format!("'{}'", s.replace('\'', "''"))
    }
}

/// Whether `s` is a DNS-1123 subdomain, the form Kubernetes requires for Secret names:
/// at most 253 characters matching `[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*`.
pub fn is_dns1123_subdomain(s: &str) -> bool {
    fn is_label(label: &str) -> bool {
        let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
        let bytes = label.as_bytes();
        match (bytes.first(), bytes.last()) {
            (Some(first), Some(last)) => {
                alnum(first) && alnum(last) && bytes.iter().all(|b| alnum(b) || *b == b'-')
            }
            _ => false,
        }
    }
    s.len() <= 253 && s.split('.').all(is_label)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        }
    }

    #[test]
    fn renders_full_manifest() {
        let json = r#"{"auths":{}}"#;
        assert_eq!(
            manifest(Payload::Data(json)).render(),
            "---\n\
             # Source: helm-regcred/pull-secrets.yaml\n\
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

    #[test]
    fn dns1123_subdomain() {
        let ok = [
            "a",
            "0",
            "regcred",
            "reg-cred",
            "a.b",
            "a-1.b-2.c",
            "123",
            "a--b",
        ];
        for s in ok {
            assert!(is_dns1123_subdomain(s), "{s}");
        }
        let bad = [
            "", "-a", "a-", ".a", "a.", "a..b", "A", "a_b", "a b", "a.-b", "a-.b", "ü", "a/b",
        ];
        for s in bad {
            assert!(!is_dns1123_subdomain(s), "{s}");
        }
        let label = "a".repeat(63);
        let max = [label.as_str(); 4].join(".");
        assert_eq!(max.len(), 255);
        assert!(!is_dns1123_subdomain(&max));
        assert!(is_dns1123_subdomain(&max[..253]));
        // The subdomain regex has no per-label length limit, only the total one.
        assert!(is_dns1123_subdomain(&"a".repeat(253)));
        assert!(!is_dns1123_subdomain(&"a".repeat(254)));
    }
}
