//! Templated names: `coding-registry-cred-{{ vars.user_id }}`, `{{ release }}-pull`.
//!
//! minijinja with strict undefined: a variable nobody set is an error naming it, never an empty
//! string (an empty `user_id` would silently give every user the same Secret). Variables:
//!
//! * `vars.NAME` — `vars:` of the rules file, overridden by `--set NAME=VALUE`;
//! * `env.NAME` — an environment variable;
//! * `release` — the release name, when the caller knows it (`--release`);
//! * `namespace` — the resource's namespace, else the release namespace (`--namespace`).
//!
//! Strings without `{{`, `{%` or `{#` are plain text and never go through minijinja, so the
//! common case costs a substring search.
//!
//! Rendered values never appear in messages: a name rendered from `env.*` may be a password
//! (`{{ env.REG_PASSWORD }}` by mistake, or on purpose in a hostile rules file), so errors
//! show the template and the names of the variables it uses. When the template reads the
//! environment, minijinja's own detail (which can quote values, e.g. a template name given
//! to `include`) is left out too. Templates run with limits — minijinja's fuel and a cap on
//! the rendered size — so a rules file cannot make a render run or grow without end.
//! Under an untrusted [`Policy`], `env.NAME` is only readable for the names it allows.

use std::cell::{OnceCell, RefCell};
use std::collections::{BTreeMap, HashMap};

use minijinja::{Environment, UndefinedBehavior, Value};
use thiserror::Error;

use crate::names::{is_dns1123_label, is_dns1123_subdomain};
use crate::trust::Policy;

const VARIABLES: &str = "templates can use vars.NAME, env.NAME, release and namespace";

/// Instructions one render may execute: names are a few dozen characters, and a loop over
/// every character of a long value stays far below this. A loop that would run for minutes
/// stops here in milliseconds.
pub const FUEL: u64 = 100_000;

/// The most bytes one render may produce (a Secret name is at most 253).
pub const MAX_RENDERED_BYTES: usize = 16 * 1024;

/// Whether `s` has template syntax at all.
pub fn is_template(s: &str) -> bool {
    s.contains("{{") || s.contains("{%") || s.contains("{#")
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_fuel(Some(FUEL));
    env
}

/// Syntax check at load time, so a typo is reported with its line in the rules file rather
/// than when the first resource needs the name.
pub fn check_syntax(source: &str) -> Result<(), String> {
    if !is_template(source) {
        return Ok(());
    }
    let env = environment();
    env.template_from_str(source)
        .map(|_| ())
        .map_err(|e| describe(&e))
}

/// `--set KEY=VALUE`: KEY a plain identifier (it becomes `vars.KEY`), VALUE taken verbatim.
pub fn parse_set(arg: &str) -> Result<(String, String), String> {
    let Some((key, value)) = arg.split_once('=') else {
        return Err(format!("--set {arg:?} is not KEY=VALUE"));
    };
    let mut chars = key.chars();
    let identifier = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !identifier {
        return Err(format!(
            "--set key {key:?} must be a name of letters, digits and `_` (it sets vars.{key})"
        ));
    }
    Ok((key.to_string(), value.to_string()))
}

/// A template that could not be turned into a value.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum TemplateError {
    #[error("template `{template}`: {message}")]
    Render { template: String, message: String },
    /// `uses` names the variables (`vars.user`, `env.CI_USER`), never their values.
    #[error(
        "secret name template `{template}`{} does not render to a valid Kubernetes Secret \
         name: {reason}",
        uses_list(uses)
    )]
    InvalidName {
        template: String,
        uses: Vec<String>,
        reason: String,
    },
    #[error(
        "secretNamespaces template `{template}`{} does not render to a valid namespace name: \
         use at most 63 lowercase letters, digits and `-`, starting and ending with a letter or \
         digit",
        uses_list(uses)
    )]
    InvalidNamespace { template: String, uses: Vec<String> },
}

fn uses_list(uses: &[String]) -> String {
    if uses.is_empty() {
        String::new()
    } else {
        format!(" (using {})", uses.join(", "))
    }
}

/// The writer a template renders into: stops at [`MAX_RENDERED_BYTES`].
struct Capped {
    out: Vec<u8>,
    over: bool,
}

impl std::io::Write for Capped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.out.len() + buf.len() > MAX_RENDERED_BYTES {
            self.over = true;
            return Err(std::io::Error::other("rendered text too large"));
        }
        self.out.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Renders templates against one set of variables; results are cached per namespace, since a
/// chart repeats the same few names in every document.
pub struct Renderer<'a> {
    /// Built for the first template: most rules files have none, and minijinja's environment
    /// (its builtin filters and tests) was a tenth of an empty post-render's instructions.
    env: OnceCell<Environment<'static>>,
    vars: &'a BTreeMap<String, serde_json::Value>,
    vars_value: Value,
    release: Option<&'a str>,
    lookup_env: EnvLookup<'a>,
    policy: Policy,
    cache: RefCell<HashMap<CacheKey, Result<String, TemplateError>>>,
}

/// (template source, namespace)
type CacheKey = (String, Option<String>);

type EnvLookup<'a> = Box<dyn Fn(&str) -> Option<String> + 'a>;

impl<'a> Renderer<'a> {
    pub fn new(
        vars: &'a BTreeMap<String, serde_json::Value>,
        release: Option<&'a str>,
        lookup_env: impl Fn(&str) -> Option<String> + 'a,
    ) -> Renderer<'a> {
        Renderer {
            env: OnceCell::new(),
            vars,
            vars_value: Value::from(
                vars.iter()
                    .map(|(k, v)| (k.clone(), to_value(v)))
                    .collect::<BTreeMap<_, _>>(),
            ),
            release,
            lookup_env: Box::new(lookup_env),
            policy: Policy::default(),
            cache: RefCell::new(HashMap::new()),
        }
    }

    /// Which `env.NAME` the templates may read (all, unless the policy is untrusted).
    pub fn with_policy(mut self, policy: Policy) -> Renderer<'a> {
        self.policy = policy;
        self
    }

    /// With the process environment for `env.NAME`.
    pub fn with_process_env(
        vars: &'a BTreeMap<String, serde_json::Value>,
        release: Option<&'a str>,
    ) -> Renderer<'a> {
        Renderer::new(vars, release, |name| std::env::var(name).ok())
    }

    /// `source` rendered for a resource in `namespace` (its own, else the release namespace).
    pub fn render(&self, source: &str, namespace: Option<&str>) -> Result<String, TemplateError> {
        if !is_template(source) {
            return Ok(source.to_string());
        }
        let key = (source.to_string(), namespace.map(str::to_string));
        if let Some(done) = self.cache.borrow().get(&key) {
            return done.clone();
        }
        let result = self.render_uncached(source, namespace);
        self.cache.borrow_mut().insert(key, result.clone());
        result
    }

    /// A Secret name: rendered, then checked to be a DNS-1123 subdomain.
    pub fn secret_name(
        &self,
        source: &str,
        namespace: Option<&str>,
    ) -> Result<String, TemplateError> {
        let rendered = self.render(source, namespace)?;
        if is_template(source) && !is_dns1123_subdomain(&rendered) {
            let reason = if rendered.len() > 253 {
                format!("{} characters, at most 253 are allowed", rendered.len())
            } else {
                "use lowercase letters, digits, `-` and `.`, starting and ending with a letter \
                 or digit (a filter helps: `{{ vars.user | lower }}`)"
                    .to_string()
            };
            return Err(TemplateError::InvalidName {
                template: source.to_string(),
                uses: variables(source),
                reason,
            });
        }
        Ok(rendered)
    }

    /// A namespace (`secretNamespaces:`): rendered, then checked to be a DNS-1123 label.
    pub fn namespace_name(
        &self,
        source: &str,
        namespace: Option<&str>,
    ) -> Result<String, TemplateError> {
        let rendered = self.render(source, namespace)?;
        if !is_dns1123_label(&rendered) {
            return Err(TemplateError::InvalidNamespace {
                template: source.to_string(),
                uses: variables(source),
            });
        }
        Ok(rendered)
    }

    fn render_uncached(
        &self,
        source: &str,
        namespace: Option<&str>,
    ) -> Result<String, TemplateError> {
        let fail = |message: String| TemplateError::Render {
            template: source.to_string(),
            message,
        };
        let template = self
            .env
            .get_or_init(environment)
            .template_from_str(source)
            .map_err(|e| fail(describe(&e)))?;
        // Checked by name first: minijinja's own strict-undefined message does not say which
        // variable was missing.
        let mut used: Vec<String> = template.undeclared_variables(true).into_iter().collect();
        used.sort();
        let mut env_values = BTreeMap::new();
        for name in &used {
            let mut parts = name.split('.');
            match parts.next().unwrap_or_default() {
                "vars" => {
                    let mut path = Vec::new();
                    let mut at: Option<&serde_json::Value> = None;
                    for part in parts {
                        path.push(part);
                        let next = match at {
                            None => self.vars.get(part),
                            Some(v) => v.get(part),
                        };
                        let Some(next) = next else {
                            let top = path[0];
                            return Err(fail(if path.len() == 1 {
                                format!(
                                    "undefined variable `vars.{top}`: set it under `vars:` in \
                                     the rules file, or with `--set {top}=VALUE` (`--regcred-set {top}=VALUE` \
                                     through `helm regcred`)"
                                )
                            } else {
                                format!(
                                    "undefined variable `vars.{}`: `vars:` in the rules file \
                                     has no such key",
                                    path.join(".")
                                )
                            }));
                        };
                        at = Some(next);
                    }
                }
                "env" => {
                    if let Some(var) = parts.next() {
                        self.policy
                            .check_template_env(var)
                            .map_err(|e| fail(e.to_string()))?;
                        match (self.lookup_env)(var) {
                            Some(value) => {
                                env_values.insert(var.to_string(), Value::from(value));
                            }
                            None => {
                                return Err(fail(format!(
                                    "undefined variable `env.{var}`: environment variable \
                                     {var} is not set"
                                )));
                            }
                        }
                    }
                }
                "release" if self.release.is_none() => {
                    return Err(fail(
                        "undefined variable `release`: the release name is not known here; \
                         pass --release NAME (or set HELM_REGCRED_RELEASE)"
                            .to_string(),
                    ));
                }
                "namespace" if namespace.is_none() => {
                    return Err(fail(
                        "undefined variable `namespace`: the resource has no \
                         metadata.namespace and the release namespace is not known; pass \
                         --namespace NAME (or set HELM_REGCRED_NAMESPACE)"
                            .to_string(),
                    ));
                }
                "release" | "namespace" => {}
                other => {
                    return Err(fail(format!("unknown variable `{other}`: {VARIABLES}")));
                }
            }
        }
        let mut context = BTreeMap::new();
        context.insert("vars", self.vars_value.clone());
        context.insert("env", Value::from(env_values));
        if let Some(release) = self.release {
            context.insert("release", Value::from(release));
        }
        if let Some(namespace) = namespace {
            context.insert("namespace", Value::from(namespace));
        }
        let reads_env = used
            .iter()
            .any(|name| name == "env" || name.starts_with("env."));
        let mut out = Capped {
            out: Vec::new(),
            over: false,
        };
        match template.render_captured_to(Value::from(context), &mut out) {
            Ok(_) => String::from_utf8(out.out)
                .map_err(|_| fail("rendered text is not UTF-8".to_string())),
            Err(_) if out.over => Err(fail(format!(
                "renders to more than {MAX_RENDERED_BYTES} bytes; a name is at most 253"
            ))),
            Err(e) if e.kind() == minijinja::ErrorKind::OutOfFuel => Err(fail(format!(
                "stopped after {FUEL} steps (a loop that does not end, or far too much work \
                 for a name)"
            ))),
            // Details may quote a value (a template name given to `include`, a string that
            // does not convert); with the environment among the inputs, only the kind.
            Err(e) if reads_env => Err(fail(format!(
                "{} (details are not shown: the template reads environment variables)",
                e.kind()
            ))),
            Err(e) => Err(fail(describe(&e))),
        }
    }
}

/// The variables a template reads (`vars.user`, `env.CI_USER`, `namespace`), sorted; for
/// messages, which must name them rather than show their values.
fn variables(source: &str) -> Vec<String> {
    let env = environment();
    let Ok(template) = env.template_from_str(source) else {
        return Vec::new();
    };
    let mut used: Vec<String> = template.undeclared_variables(true).into_iter().collect();
    used.sort();
    used
}

/// minijinja's message without its `(in <string>:1)` suffix, which names no file of ours.
fn describe(e: &minijinja::Error) -> String {
    let mut message = e.kind().to_string();
    if let Some(detail) = e.detail() {
        message.push_str(": ");
        message.push_str(detail);
    }
    if e.kind() == minijinja::ErrorKind::UndefinedError {
        message.push_str(&format!(" ({VARIABLES})"));
    }
    message
}

fn to_value(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::from(()),
        serde_json::Value::Bool(b) => Value::from(*b),
        serde_json::Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                Value::from(n.as_f64().unwrap_or_default())
            }
        }
        serde_json::Value::String(s) => Value::from(s.as_str()),
        serde_json::Value::Array(items) => {
            Value::from(items.iter().map(to_value).collect::<Vec<_>>())
        }
        serde_json::Value::Object(map) => Value::from(
            map.iter()
                .map(|(k, v)| (k.clone(), to_value(v)))
                .collect::<BTreeMap<_, _>>(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars(v: serde_json::Value) -> BTreeMap<String, serde_json::Value> {
        serde_json::from_value(v).unwrap()
    }

    fn env(name: &str) -> Option<String> {
        (name == "CI_USER").then(|| "ci-bot".to_string())
    }

    #[test]
    fn plain_strings_pass_through() {
        let v = vars(json!({}));
        let r = Renderer::new(&v, None, env);
        assert_eq!(r.render("harbor-pull", None).unwrap(), "harbor-pull");
        // Not a template, so not even `namespace` is needed.
        assert_eq!(r.secret_name("x", None).unwrap(), "x");
    }

    #[test]
    fn every_variable_kind() {
        let v = vars(json!({"user_id": 42, "team": {"name": "core"}}));
        let r = Renderer::new(&v, Some("shop"), env);
        assert_eq!(
            r.render("coding-registry-cred-{{ vars.user_id }}", None)
                .unwrap(),
            "coding-registry-cred-42"
        );
        assert_eq!(
            r.render(
                "{{ release }}-{{ namespace }}-{{ env.CI_USER }}-{{ vars.team.name }}",
                Some("apps")
            )
            .unwrap(),
            "shop-apps-ci-bot-core"
        );
        assert_eq!(
            r.render("{{ vars.team.name | upper }}", None).unwrap(),
            "CORE"
        );
    }

    #[test]
    fn undefined_variables_are_errors_naming_them() {
        let v = vars(json!({"team": {"name": "core"}}));
        let r = Renderer::new(&v, None, env);
        let cases = [
            (
                "cred-{{ vars.user_id }}",
                "undefined variable `vars.user_id`: set it under `vars:` in the rules file, or with `--set user_id=VALUE` (`--regcred-set user_id=VALUE` through `helm regcred`)",
            ),
            ("{{ vars.team.id }}", "undefined variable `vars.team.id`"),
            (
                "{{ env.NOPE }}",
                "undefined variable `env.NOPE`: environment variable NOPE is not set",
            ),
            (
                "{{ release }}-pull",
                "undefined variable `release`: the release name is not known here",
            ),
            ("{{ namespace }}", "undefined variable `namespace`"),
            ("{{ user }}", "unknown variable `user`"),
        ];
        for (template, expected) in cases {
            let err = r.render(template, None).unwrap_err().to_string();
            assert!(
                err.starts_with(&format!("template `{template}`: {expected}")),
                "{template}: {err}"
            );
        }
        let err = r.render("{{ vars['x'] }}", None).unwrap_err().to_string();
        assert!(err.contains("undefined"), "{err}");
    }

    #[test]
    fn rendered_secret_names_are_validated() {
        let v = vars(json!({"user": "Bob_1"}));
        let r = Renderer::new(&v, None, env);
        let err = r.secret_name("cred-{{ vars.user }}", None).unwrap_err();
        assert_eq!(
            err,
            TemplateError::InvalidName {
                template: "cred-{{ vars.user }}".into(),
                uses: vec!["vars.user".into()],
                reason: "use lowercase letters, digits, `-` and `.`, starting and ending with a \
                         letter or digit (a filter helps: `{{ vars.user | lower }}`)"
                    .into(),
            }
        );
        assert!(err.to_string().starts_with(
            "secret name template `cred-{{ vars.user }}` (using vars.user) does not render to a \
             valid"
        ));
        assert!(!err.to_string().contains("Bob_1"));
        let v = vars(json!({"long": "a".repeat(260)}));
        let r = Renderer::new(&v, None, env);
        let err = r
            .secret_name("{{ vars.long }}", None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("260 characters, at most 253"), "{err}");
    }

    #[test]
    fn values_never_appear_in_messages() {
        let v = vars(json!({}));
        let secret = |name: &str| (name == "PW").then(|| "Hunter2_secret".to_string());
        let r = Renderer::new(&v, None, secret);
        let err = r
            .secret_name("x-{{ env.PW }}", None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("(using env.PW)"), "{err}");
        assert!(!err.contains("Hunter2"), "{err}");
        let err = r
            .namespace_name("{{ env.PW }}", None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("env.PW") && !err.contains("Hunter2"), "{err}");
        // minijinja's detail could quote the value it failed to convert.
        let err = r
            .render("{{ env.PW | int }}", None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("details are not shown"), "{err}");
        assert!(!err.contains("Hunter2"), "{err}");
    }

    #[test]
    fn templates_run_with_limits() {
        let v = vars(json!({}));
        let r = Renderer::new(&v, None, env);
        let err = r
            .render(
                "{% for a in 'x' * 100000 %}{% for b in 'x' * 100000 %}{% endfor %}{% endfor %}",
                None,
            )
            .unwrap_err()
            .to_string();
        assert!(err.contains("stopped after"), "{err}");
        let err = r
            .render("{% for a in 'x' * 100 %}{{ 'x' * 1000 }}{% endfor %}", None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("more than 16384 bytes"), "{err}");
    }

    #[test]
    fn untrusted_templates_read_only_allowed_env() {
        let v = vars(json!({}));
        let settings = crate::trust::Settings {
            trust: Some(crate::trust::Trust::Untrusted),
            allow_template_env: vec!["CI_USER".into()],
            ..Default::default()
        };
        let policy = settings.policy(crate::trust::Trust::Trusted).unwrap();
        let r = Renderer::new(&v, None, |_: &str| Some("value".to_string())).with_policy(policy);
        assert_eq!(r.render("{{ env.CI_USER }}", None).unwrap(), "value");
        let err = r.render("{{ env.HOME }}", None).unwrap_err().to_string();
        assert!(err.contains("--allow-template-env HOME"), "{err}");
    }

    #[test]
    fn syntax_errors_are_found_at_load() {
        assert!(check_syntax("plain").is_ok());
        assert!(check_syntax("a-{{ vars.x }}").is_ok());
        let err = check_syntax("a-{{ vars.x ").unwrap_err();
        assert!(err.contains("syntax error"), "{err}");
    }

    #[test]
    fn results_are_cached_per_namespace() {
        let v = vars(json!({}));
        let r = Renderer::new(&v, None, env);
        assert_eq!(r.render("{{ namespace }}", Some("a")).unwrap(), "a");
        assert_eq!(r.render("{{ namespace }}", Some("b")).unwrap(), "b");
        assert_eq!(r.cache.borrow().len(), 2);
    }

    #[test]
    fn set_arguments() {
        assert_eq!(
            parse_set("user_id=a=b").unwrap(),
            ("user_id".to_string(), "a=b".to_string())
        );
        assert_eq!(parse_set("x=").unwrap(), ("x".to_string(), String::new()));
        assert!(parse_set("novalue").is_err());
        assert!(parse_set("a.b=c").is_err());
        assert!(parse_set("=c").is_err());
    }
}
