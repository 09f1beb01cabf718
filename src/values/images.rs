//! The images named next to a key, for keys that reach no pod spec in the render: settings
//! such as `scheduler.config.imagePullSecrets`, which an application reads from a ConfigMap to
//! start pods itself. The pods are not in the chart, so the registries of the images the values
//! around the key name decide (the heuristic `values` used for every key before probe renders).
//!
//! * the key's **scope** is the mapping holding it; a chart's top level leaves out its subcharts'
//!   keys and `global`; a mapping deeper down with its own pull secret key is left out.
//! * **images**: a string under a key named `image`/`images` or ending in `Image`, a mapping
//!   with `repository` (`{registry, repository}`), a mapping under an image key with `name`
//!   (`image: {name: spaceone/console}`) or only `registry`. A reference without a host takes
//!   the mapping's `registry`, else `global.imageRegistry` / `global.image.registry` /
//!   `global.registry`, else `docker.io`. Templated strings and URLs are not images.
//! * the scope's images go through the rules as one pod's would: a rule applies when its
//!   `images` patterns match one of them (its other conditions cannot be known from values and
//!   are assumed to match; an `exclude` applies when it is purely an `images` condition matched
//!   by every image).
//! * a scope without any image gets nothing: a Secret nobody creates is noise (issue 14, item 8).

use crate::registry::image::ImageRef;
use crate::rules::Config;
use crate::rules::selector::Selector;

use super::chart::{Chart, instances};
use super::keys::{get_map, is_pull_secret_key};
use super::tree::{Map, Yaml};

/// The secrets the rules give a key that reaches no pod, from the images next to it, and the
/// registry hosts of those images.
pub fn secrets_near(
    chart: &Chart,
    values: &Map,
    path: &[String],
    config: &Config,
) -> (Vec<String>, Vec<String>) {
    let all = instances(chart);
    let images = key_scope_images(values, &all, path);
    let mut hosts: Vec<String> = Vec::new();
    crate::names::append_missing(&mut hosts, images.iter().map(|f| f.host.clone()));
    if images.is_empty() {
        return (Vec::new(), hosts);
    }
    (secrets_for(&images, &hosts, config), hosts)
}

/// An image a scope references: its registry host always, the whole reference when known.
#[derive(Debug, Clone)]
struct Found {
    host: String,
    image: Option<ImageRef>,
}

fn instance_of<'a, 'c>(
    all: &'a [(Vec<String>, &'c Chart)],
    path: &[String],
) -> &'a (Vec<String>, &'c Chart) {
    // The deepest chart whose prefix starts the path.
    all.iter()
        .filter(|(prefix, _)| path.starts_with(prefix))
        .max_by_key(|(prefix, _)| prefix.len())
        .expect("the root chart's prefix is empty")
}

fn default_registry(tree: &Map, prefix: &[String]) -> Option<String> {
    let global = get_map(tree, prefix)?.get("global")?.as_map()?;
    fn text(v: Option<&Yaml>) -> Option<&str> {
        v.and_then(Yaml::as_str).filter(|s| !s.is_empty())
    }
    text(global.get("imageRegistry"))
        .or_else(|| {
            text(
                global
                    .get("image")
                    .and_then(|i| i.as_map()?.get("registry")),
            )
        })
        .or_else(|| text(global.get("registry")))
        .map(str::to_string)
}

fn key_scope_images(tree: &Map, all: &[(Vec<String>, &Chart)], path: &[String]) -> Vec<Found> {
    let (prefix, chart) = instance_of(all, path);
    let holder = &path[..path.len() - 1];
    let default = default_registry(tree, prefix);
    let mut out = Vec::new();
    if let Some(map) = get_map(tree, holder) {
        let skip: Vec<&str> = if holder == prefix.as_slice() {
            let mut s: Vec<&str> = chart.subcharts.iter().map(|(k, _)| k.as_str()).collect();
            s.push("global");
            s
        } else {
            Vec::new()
        };
        scan_map(map, None, &skip, default.as_deref(), &mut out);
    }
    out
}

fn is_image_key(key: &str) -> bool {
    let lower = key.to_ascii_lowercase();
    lower.ends_with("image") || lower.ends_with("images")
}

/// Docker's rule: the first component is a host only with a `.` or `:` in it, or `localhost`.
fn has_explicit_host(reference: &str) -> bool {
    match reference.split_once('/') {
        Some((first, _)) => first.contains(['.', ':']) || first == "localhost",
        None => false,
    }
}

fn scalar(v: Option<&Yaml>) -> Option<String> {
    match v? {
        Yaml::Seq(_) | Yaml::Map(_) | Yaml::Null => None,
        other => other.scalar_text().filter(|s| !s.is_empty()),
    }
}

/// `registry` + `path` (+ tag/digest when they make a valid reference), resolved the way the
/// runtime would pull it.
fn resolve(
    path: &str,
    registry: Option<&str>,
    default: Option<&str>,
    tag: Option<&str>,
    digest: Option<&str>,
) -> Option<Found> {
    let base = if has_explicit_host(path) {
        path.to_string()
    } else {
        match registry.or(default) {
            Some(r) => format!("{}/{path}", r.trim_end_matches('/')),
            None => path.to_string(),
        }
    };
    let mut candidates = Vec::new();
    if tag.is_some() || digest.is_some() {
        let mut full = base.clone();
        if let Some(t) = tag {
            full.push(':');
            full.push_str(t);
        }
        if let Some(d) = digest {
            full.push('@');
            full.push_str(d);
        }
        candidates.push(full);
    }
    candidates.push(base);
    candidates.into_iter().find_map(|c| {
        let image = ImageRef::parse(&c).ok()?;
        Some(Found {
            host: image.registry().to_string(),
            image: Some(image),
        })
    })
}

fn scan_map(
    map: &Map,
    parent_key: Option<&str>,
    skip: &[&str],
    default: Option<&str>,
    out: &mut Vec<Found>,
) {
    let registry = scalar(map.get("registry"));
    let tag = scalar(map.get("tag"));
    let digest = scalar(map.get("digest"));
    let under_image_key = parent_key.is_some_and(is_image_key);
    let mut referenced = false;
    let mut push = |found: Option<Found>, out: &mut Vec<Found>| {
        if let Some(f) = found {
            referenced = true;
            out.push(f);
        }
    };

    // `{registry, repository}`, `{repository: host/repo}`.
    if let Some(repo) = scalar(map.get("repository")) {
        let found = resolve(
            &repo,
            registry.as_deref(),
            default,
            tag.as_deref(),
            digest.as_deref(),
        );
        push(found, out);
    }
    // `image: {name: spaceone/console, version: x}`.
    if under_image_key
        && !map.contains_key("repository")
        && let Some(name) = scalar(map.get("name"))
    {
        let version = tag.clone().or_else(|| scalar(map.get("version")));
        let found = resolve(
            &name,
            registry.as_deref(),
            default,
            version.as_deref(),
            digest.as_deref(),
        );
        push(found, out);
    }
    for (k, v) in map {
        if skip.contains(&k.as_str()) || is_pull_secret_key(k) {
            continue;
        }
        match v {
            // `image: host/repo:tag`, and `{registry, image: repo, tag}` (ingress-nginx).
            Yaml::Str(s) if is_image_key(k) && !s.is_empty() => {
                let in_map = map.contains_key("tag") || map.contains_key("digest");
                let found = if in_map && !s.contains([':', '@']) {
                    resolve(
                        s,
                        registry.as_deref(),
                        default,
                        tag.as_deref(),
                        digest.as_deref(),
                    )
                } else {
                    resolve(s, registry.as_deref(), default, None, None)
                };
                push(found, out);
            }
            Yaml::Seq(items) if is_image_key(k) => {
                for item in items {
                    if let Yaml::Str(s) = item {
                        push(resolve(s, None, default, None, None), out);
                    } else {
                        scan_value(item, Some(k), default, out);
                    }
                }
            }
            // A mapping with its own key: its images belong to that key.
            Yaml::Map(m) if m.keys().any(|k| is_pull_secret_key(k)) => {}
            other => scan_value(other, Some(k), default, out),
        }
    }
    // `image: {registry: host}` with the repository elsewhere.
    if !referenced
        && under_image_key
        && let Some(r) = &registry
    {
        out.push(Found {
            host: crate::registry::image::normalize_registry_host(r),
            image: None,
        });
    }
}

fn scan_value(value: &Yaml, key: Option<&str>, default: Option<&str>, out: &mut Vec<Found>) {
    match value {
        Yaml::Map(m) => scan_map(m, key, &[], default, out),
        Yaml::Seq(items) => {
            for item in items {
                scan_value(item, key, default, out);
            }
        }
        _ => {}
    }
}

/// The secrets the rules give a scope with these images.
fn secrets_for(images: &[Found], hosts: &[String], config: &Config) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let add = |name: &str, names: &mut Vec<String>| {
        if !names.iter().any(|n| n == name) {
            names.push(name.to_string());
        }
    };
    let from_images = |names: &mut Vec<String>| {
        for host in hosts {
            for r in config.registries_for_host(host) {
                add(&r.secret, names);
            }
        }
    };
    if config.rules.is_empty() {
        from_images(&mut names);
    } else {
        for rule in &config.rules {
            if !may_match(&rule.selector, images)
                || rule
                    .exclude
                    .as_ref()
                    .is_some_and(|e| excludes_all(e, images))
            {
                continue;
            }
            match &rule.secrets {
                Some(secrets) => secrets.iter().for_each(|s| add(s, &mut names)),
                None => from_images(&mut names),
            }
        }
    }
    names
}

/// Only the `images` condition can be judged from values; the rest is assumed to match.
fn may_match(selector: &Selector, images: &[Found]) -> bool {
    let Some(patterns) = selector.images() else {
        return true;
    };
    let known: Vec<&ImageRef> = images.iter().filter_map(|f| f.image.as_ref()).collect();
    // Only hosts known: cannot tell, so do not rule it out.
    known.is_empty() || known.iter().any(|i| patterns.matches_image(i))
}

fn excludes_all(exclude: &Selector, images: &[Found]) -> bool {
    let pure_images = exclude.kinds().is_none()
        && exclude.names().is_none()
        && exclude.namespaces().is_none()
        && exclude.labels().is_empty()
        && exclude.sources().is_none();
    let Some(patterns) = exclude.images() else {
        return false;
    };
    pure_images
        && images
            .iter()
            .all(|f| f.image.as_ref().is_some_and(|i| patterns.matches_image(i)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::archive::{Budget, Files};

    const TWO_REGISTRIES: &str = "apiVersion: helm-regcred/v1\nkind: RegcredConfig\nregistries:\n  - server: registry.example.com\n    secret: main-pull\n    credentials: {env: {username: U, password: P}}\n  - server: jobs.example.com\n    secret: jobs-pull\n    credentials: {env: {username: U, password: P}}\n";

    fn chart(values: &str) -> Chart {
        let files: Files = [
            ("Chart.yaml".to_string(), b"name: c\nversion: 1\n".to_vec()),
            ("values.yaml".to_string(), values.as_bytes().to_vec()),
        ]
        .into();
        Chart::from_files(&files, "test", &mut Budget::default()).unwrap()
    }

    fn near(c: &Chart, key: &str, rules: &str) -> (Vec<String>, Vec<String>) {
        let config = Config::parse(rules, "<test>").unwrap();
        let path: Vec<String> = format!("{key}.imagePullSecrets")
            .split('.')
            .map(str::to_string)
            .collect();
        secrets_near(c, &c.values, &path, &config)
    }

    #[test]
    fn image_forms() {
        let c = chart(concat!(
            "global: {image: {registry: mirror.example.com}}\n",
            "a: {image: {registry: r1.example.com, repository: x/a}, imagePullSecrets: []}\n",
            "b: {image: {name: r2.example.com/b, version: '1'}, imagePullSecrets: []}\n",
            "c: {image: 'r3.example.com:5000/c:1', imagePullSecrets: []}\n",
            "d: {image: {image: ingress-nginx/controller, tag: v1, digest: 'sha256:0123456789012345678901234567890123456789012345678901234567890123'}, imagePullSecrets: []}\n",
            "e: {image: {registry: '', repository: nginx}, imagePullSecrets: []}\n",
            "f: {initImage: 'r4.example.com/i:1', imagePullSecrets: []}\n",
            "g: {settings: {url: 'https://example.com'}, imagePullSecrets: []}\n",
            "h: {image: '{{ .Values.x }}', imagePullSecrets: []}\n",
            "i: {image: {registry: r5.example.com}, imagePullSecrets: []}\n",
            "j: {config: {runnerImage: jobs.example.com/runner:1}, imagePullSecrets: []}\n",
        ));
        let hosts = |k: &str| near(&c, k, TWO_REGISTRIES).1.join(",");
        assert_eq!(hosts("a"), "r1.example.com");
        assert_eq!(hosts("b"), "r2.example.com");
        assert_eq!(hosts("c"), "r3.example.com:5000");
        assert_eq!(hosts("d"), "mirror.example.com", "global registry default");
        assert_eq!(
            hosts("e"),
            "mirror.example.com",
            "empty registry falls back"
        );
        assert_eq!(hosts("f"), "r4.example.com");
        assert_eq!(hosts("h"), "", "templated strings are not images");
        assert_eq!(hosts("i"), "r5.example.com");
        assert_eq!(near(&c, "j", TWO_REGISTRIES).0, ["jobs-pull"]);
        // Issue 14 item 8: no image next to the key, no secret (not every secret of the rules).
        assert_eq!(near(&c, "g", TWO_REGISTRIES), (Vec::new(), Vec::new()));
    }

    #[test]
    fn rules_with_image_patterns_and_explicit_secrets() {
        let c = chart(
            "config: {runnerImage: jobs.example.com/runner:1, imagePullSecrets: []}\napi: {image: registry.example.com/api:1, imagePullSecrets: []}\n",
        );
        let rules = format!(
            "{TWO_REGISTRIES}rules:\n  - name: jobs\n    match: {{images: ['jobs.example.com/**']}}\n    secrets: [jobs-pull, main-pull]\n  - name: kinds-only\n    match: {{kinds: [CronJob]}}\n    exclude: {{images: ['registry.example.com/**']}}\n"
        );
        // The runner image matches rule `jobs`; rule `kinds-only` cannot be judged from values
        // and would match, but its exclude holds for every image of the scope.
        assert_eq!(near(&c, "config", &rules).0, ["jobs-pull", "main-pull"]);
        assert!(near(&c, "api", &rules).0.is_empty());
    }
}
