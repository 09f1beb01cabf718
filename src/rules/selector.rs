//! Compiled resource selectors: the `match:` and `exclude:` blocks of a rule.
//!
//! A selector is built once from the rules file and then asked [`Selector::matches`] for every
//! resource in the input, so everything that can fail (glob syntax) fails while building and
//! matching itself is infallible.
//!
//! Semantics: every field that is present must match (AND); within a list any entry may match
//! (OR). An absent field matches everything, so `Selector::default()` (and `match: {}`) matches
//! every resource.

use globset::{ErrorKind, GlobBuilder, GlobMatcher};

use crate::registry::image::ImageRef;

/// What a selector looks at: the parts of one resource that rules can select on.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    pub kind: &'a str,
    pub name: &'a str,
    /// Effective namespace (the resource's own, else the release namespace); `""` when unknown.
    pub namespace: &'a str,
    pub labels: &'a dyn Labels,
    /// Every container image of the pod spec (init, ephemeral and regular containers).
    pub images: &'a [ImageRef],
    /// The `# Source:` path (Helm 3) or filename annotation (Helm 4), when known.
    pub source: Option<&'a str>,
}

/// A resource's labels, looked up by key: a resource can carry many (a mapping of them is not
/// copied to be matched, see `yaml::StringMap`).
pub trait Labels: std::fmt::Debug {
    fn label(&self, key: &str) -> Option<&str>;
}

impl Labels for Vec<(String, String)> {
    fn label(&self, key: &str) -> Option<&str> {
        self.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

impl Labels for crate::yaml::StringMap<'_, '_> {
    fn label(&self, key: &str) -> Option<&str> {
        self.get(key)
    }
}

/// One glob, compiled. `*` stays within a `/`-separated segment; `**` as a whole segment
/// crosses segments.
#[derive(Debug, Clone)]
pub struct Pattern {
    text: String,
    matcher: GlobMatcher,
}

/// Why a glob was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    #[error("empty pattern `\"\"` matches nothing")]
    Empty,
    #[error("invalid glob `{pattern}`: {kind}")]
    Invalid { pattern: String, kind: ErrorKind },
    /// globset silently treats such a `**` as `*`, which never crosses `/`; almost always the
    /// author expected it to.
    #[error(
        "`**` in `{pattern}` is not a whole path segment, so it acts like `*` (within one `/`)"
    )]
    PartialRecursive { pattern: String },
}

impl PatternError {
    /// What to write instead, for the rules file's `hint:` line.
    pub fn hint(&self) -> String {
        match self {
            PatternError::Empty => {
                "remove the empty entry, or write `\"*\"` to match anything".to_string()
            }
            PatternError::PartialRecursive { .. } => {
                "make `**` a whole segment (`prefix/**`, `**/suffix`, `a/**/b`), or write `*` to \
                 stay within one segment"
                    .to_string()
            }
            PatternError::Invalid { kind, .. } => match kind {
                ErrorKind::UnclosedClass => {
                    "close the `[...]` class, or escape a literal bracket as `\\[`".to_string()
                }
                ErrorKind::UnopenedAlternates
                | ErrorKind::UnclosedAlternates
                | ErrorKind::TooManyNestedAlternates => {
                    "balance the braces of `{a,b}` alternatives, or escape a literal brace as `\\{`"
                        .to_string()
                }
                ErrorKind::InvalidRange(..) => {
                    "write character ranges low to high, e.g. `[a-z]`".to_string()
                }
                ErrorKind::DanglingEscape => {
                    "escape a trailing backslash as `\\\\`, or remove it".to_string()
                }
                _ => "use `*` (within one `/` segment), `**` (across segments), `?`, `[abc]` or \
                      `{a,b}`"
                    .to_string(),
            },
        }
    }
}

impl Pattern {
    pub fn new(text: &str) -> Result<Pattern, PatternError> {
        if text.is_empty() {
            return Err(PatternError::Empty);
        }
        let glob = GlobBuilder::new(text)
            .literal_separator(true)
            // Pinned so a rules file means the same on every platform.
            .backslash_escape(true)
            .build()
            .map_err(|e| PatternError::Invalid {
                pattern: text.to_string(),
                kind: e.kind().clone(),
            })?;
        // After building, so that a pattern with a syntax error reports that first.
        check_recursive_segments(text)?;
        Ok(Pattern {
            text: text.to_string(),
            matcher: glob.compile_matcher(),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn is_match(&self, candidate: &str) -> bool {
        self.matcher.is_match(candidate)
    }
}

/// Rejects `**` that globset would quietly downgrade to `*`
/// (see [`PatternError::PartialRecursive`]).
fn check_recursive_segments(text: &str) -> Result<(), PatternError> {
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let mut in_class = false;
    let mut brace_depth = 0usize;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' {
            i += 2;
            continue;
        }
        if in_class {
            if c == ']' {
                in_class = false;
            }
            i += 1;
            continue;
        }
        match c {
            '[' => {
                in_class = true;
                // A `]` right after `[` (or `[!`) is literal, not the end of the class.
                if chars.get(i + 1) == Some(&'!') {
                    i += 1;
                }
                if chars.get(i + 1) == Some(&']') {
                    i += 1;
                }
            }
            '{' => brace_depth += 1,
            '}' => brace_depth = brace_depth.saturating_sub(1),
            '*' => {
                let start = i;
                while chars.get(i + 1) == Some(&'*') {
                    i += 1;
                }
                let run = i - start + 1;
                if run >= 2 {
                    let in_alt = brace_depth > 0;
                    let before_ok = start == 0
                        || chars[start - 1] == '/'
                        || (in_alt && matches!(chars[start - 1], '{' | ','));
                    let after_ok = i + 1 == chars.len()
                        || chars[i + 1] == '/'
                        || (in_alt && matches!(chars[i + 1], '}' | ','));
                    if run > 2 || !before_ok || !after_ok {
                        return Err(PatternError::PartialRecursive {
                            pattern: text.to_string(),
                        });
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

/// Any-of list of globs.
#[derive(Debug, Clone)]
pub struct PatternSet {
    patterns: Vec<Pattern>,
}

impl PatternSet {
    pub fn new(patterns: Vec<Pattern>) -> PatternSet {
        PatternSet { patterns }
    }

    /// Compiles every text; the first bad one is the error.
    pub fn parse<I, S>(texts: I) -> Result<PatternSet, PatternError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let patterns = texts
            .into_iter()
            .map(|t| Pattern::new(t.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(PatternSet { patterns })
    }

    pub fn patterns(&self) -> &[Pattern] {
        &self.patterns
    }

    /// Whether an image matches, as written in the manifest or in full
    /// (`docker.io/library/nginx:latest` for `nginx`).
    pub fn matches_image(&self, image: &ImageRef) -> bool {
        self.is_match(image.written()) || self.is_match(image.full())
    }

    pub fn is_match(&self, candidate: &str) -> bool {
        self.patterns.iter().any(|p| p.is_match(candidate))
    }
}

/// A compiled `match:`/`exclude:` block. `Default` matches everything.
#[derive(Debug, Clone, Default)]
pub struct Selector {
    kinds: Option<Vec<String>>,
    names: Option<PatternSet>,
    namespaces: Option<PatternSet>,
    labels: Vec<(String, Pattern)>,
    /// Label values written as templates (`{{ vars.team }}`): rendered into `labels` by
    /// [`Selector::render_templates`] before matching; an unrendered one never matches.
    label_templates: Vec<(String, String)>,
    images: Option<PatternSet>,
    sources: Option<PatternSet>,
}

impl Selector {
    /// Exact, case-sensitive kind names (validate them with [`is_kind_name`] first).
    pub fn with_kinds<I, S>(mut self, kinds: I) -> Selector
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.kinds = Some(kinds.into_iter().map(Into::into).collect());
        self
    }

    pub fn with_names(mut self, names: PatternSet) -> Selector {
        self.names = Some(names);
        self
    }

    pub fn with_namespaces(mut self, namespaces: PatternSet) -> Selector {
        self.namespaces = Some(namespaces);
        self
    }

    /// Requires label `key` to exist with a value matching `value`; call once per label.
    pub fn with_label(mut self, key: impl Into<String>, value: Pattern) -> Selector {
        self.labels.push((key.into(), value));
        self
    }

    pub fn with_images(mut self, images: PatternSet) -> Selector {
        self.images = Some(images);
        self
    }

    pub fn with_sources(mut self, sources: PatternSet) -> Selector {
        self.sources = Some(sources);
        self
    }

    /// Which kinds this selector can match at all; `None` = any kind. Lets the engine skip
    /// parsing documents whose kind no rule can touch.
    pub fn kinds(&self) -> Option<&[String]> {
        self.kinds.as_deref()
    }

    pub fn names(&self) -> Option<&PatternSet> {
        self.names.as_ref()
    }

    pub fn namespaces(&self) -> Option<&PatternSet> {
        self.namespaces.as_ref()
    }

    /// A label whose value pattern is a template, rendered per run.
    pub fn with_label_template(
        mut self,
        key: impl Into<String>,
        template: impl Into<String>,
    ) -> Selector {
        self.label_templates.push((key.into(), template.into()));
        self
    }

    /// Whether some label value still has to be rendered.
    pub fn has_templates(&self) -> bool {
        !self.label_templates.is_empty()
    }

    /// This selector with its templated label values rendered by `render` and compiled.
    pub fn render_templates<E>(
        &self,
        render: impl Fn(&str) -> Result<String, E>,
        invalid: impl Fn(&str, PatternError) -> E,
    ) -> Result<Selector, E> {
        let mut out = self.clone();
        for (key, template) in std::mem::take(&mut out.label_templates) {
            let rendered = render(&template)?;
            let pattern = Pattern::new(&rendered).map_err(|e| invalid(&template, e))?;
            out.labels.push((key, pattern));
        }
        Ok(out)
    }

    pub fn labels(&self) -> &[(String, Pattern)] {
        &self.labels
    }

    pub fn images(&self) -> Option<&PatternSet> {
        self.images.as_ref()
    }

    pub fn sources(&self) -> Option<&PatternSet> {
        self.sources.as_ref()
    }

    /// True when no field is set, i.e. the selector matches every resource.
    pub fn is_empty(&self) -> bool {
        self.kinds.is_none()
            && self.label_templates.is_empty()
            && self.names.is_none()
            && self.namespaces.is_none()
            && self.labels.is_empty()
            && self.images.is_none()
            && self.sources.is_none()
    }

    pub fn matches(&self, s: &Subject) -> bool {
        // Cheapest checks first: kind and name reject most resources.
        if let Some(kinds) = &self.kinds
            && !kinds.iter().any(|k| k == s.kind)
        {
            return false;
        }
        if let Some(names) = &self.names
            && !names.is_match(s.name)
        {
            return false;
        }
        if let Some(namespaces) = &self.namespaces
            && !namespaces.is_match(s.namespace)
        {
            return false;
        }
        if !self.label_templates.is_empty() {
            return false;
        }
        for (key, value) in &self.labels {
            if !s.labels.label(key).is_some_and(|v| value.is_match(v)) {
                return false;
            }
        }
        if let Some(sources) = &self.sources {
            match s.source {
                Some(source) if sources.is_match(source) => {}
                _ => return false,
            }
        }
        if let Some(images) = &self.images {
            let any = s.images.iter().any(|image| images.matches_image(image));
            if !any {
                return false;
            }
        }
        true
    }
}

/// The first field of a selector that rejects a resource, and what the resource has there:
/// what `explain` says for a rule that missed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// The field as the rules file spells it: `kinds`, `names`, `namespaces`, `labels.KEY`,
    /// `sources`, `images`.
    pub field: String,
    /// The field's patterns (or kinds) as written.
    pub wanted: Vec<String>,
    /// The resource's value; `None` when it has none (no namespace, label, source or image).
    pub actual: Option<String>,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let actual = self
            .actual
            .as_deref()
            .map_or("none".into(), |a| format!("`{a}`"));
        write!(
            f,
            "{} {:?} does not match {actual}",
            self.field, self.wanted
        )
    }
}

impl Selector {
    /// Why [`Selector::matches`] is false: the first field that fails, in the order `matches`
    /// checks them. `None` exactly when the selector matches.
    pub fn mismatch(&self, s: &Subject) -> Option<Mismatch> {
        let texts = |set: &PatternSet| -> Vec<String> {
            set.patterns()
                .iter()
                .map(|p| p.as_str().to_string())
                .collect()
        };
        let miss = |field: &str, wanted: Vec<String>, actual: Option<&str>| Mismatch {
            field: field.to_string(),
            wanted,
            actual: actual.map(str::to_string),
        };
        if let Some(kinds) = &self.kinds
            && !kinds.iter().any(|k| k == s.kind)
        {
            return Some(miss("kinds", kinds.clone(), Some(s.kind)));
        }
        if let Some(names) = &self.names
            && !names.is_match(s.name)
        {
            return Some(miss("names", texts(names), Some(s.name)));
        }
        if let Some(namespaces) = &self.namespaces
            && !namespaces.is_match(s.namespace)
        {
            let actual = Some(s.namespace).filter(|ns| !ns.is_empty());
            return Some(miss("namespaces", texts(namespaces), actual));
        }
        if let Some((key, template)) = self.label_templates.first() {
            return Some(miss(
                &format!("labels.{key}"),
                vec![format!("{template} (not rendered)")],
                None,
            ));
        }
        for (key, value) in &self.labels {
            let actual = s.labels.label(key);
            if !actual.is_some_and(|v| value.is_match(v)) {
                return Some(miss(
                    &format!("labels.{key}"),
                    vec![value.as_str().to_string()],
                    actual,
                ));
            }
        }
        if let Some(sources) = &self.sources
            && !s.source.is_some_and(|source| sources.is_match(source))
        {
            return Some(miss("sources", texts(sources), s.source));
        }
        if let Some(images) = &self.images
            && !s
                .images
                .iter()
                .any(|image| images.is_match(image.written()) || images.is_match(image.full()))
        {
            let written: Vec<&str> = s.images.iter().map(ImageRef::written).collect();
            let actual = Some(written.join(", ")).filter(|a| !a.is_empty());
            return Some(miss("images", texts(images), actual.as_deref()));
        }
        None
    }
}

/// Whether `kind` looks like a Kubernetes kind name (`[A-Z][A-Za-z0-9]*`).
pub fn is_kind_name(kind: &str) -> bool {
    let mut chars = kind.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_uppercase())
        && chars.all(|c| c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(texts: &[&str]) -> PatternSet {
        PatternSet::parse(texts).unwrap()
    }

    fn image(text: &str) -> ImageRef {
        ImageRef::parse(text).unwrap()
    }

    struct Res {
        kind: &'static str,
        name: &'static str,
        namespace: &'static str,
        labels: Vec<(String, String)>,
        images: Vec<ImageRef>,
        source: Option<&'static str>,
    }

    impl Res {
        fn new() -> Res {
            Res {
                kind: "Deployment",
                name: "console",
                namespace: "spaceone",
                labels: vec![
                    (
                        "app.kubernetes.io/part-of".to_string(),
                        "cloudforet".to_string(),
                    ),
                    ("tier".to_string(), "backend".to_string()),
                ],
                images: vec![image("harbor.example.com/cloudforet/console:1.12")],
                source: Some("spaceone/charts/console/templates/deployment.yaml"),
            }
        }

        fn subject(&self) -> Subject<'_> {
            Subject {
                kind: self.kind,
                name: self.name,
                namespace: self.namespace,
                labels: &self.labels,
                images: &self.images,
                source: self.source,
            }
        }
    }

    #[test]
    fn default_selector_matches_everything() {
        let sel = Selector::default();
        assert!(sel.is_empty());
        assert!(sel.kinds().is_none());
        assert!(sel.matches(&Res::new().subject()));
        let mut bare = Res::new();
        bare.labels.clear();
        bare.images.clear();
        bare.source = None;
        bare.namespace = "";
        assert!(sel.matches(&bare.subject()));
    }

    #[test]
    fn kinds_are_exact_and_case_sensitive() {
        let sel = Selector::default().with_kinds(["Deployment", "StatefulSet"]);
        assert_eq!(
            sel.kinds(),
            Some(&["Deployment".to_string(), "StatefulSet".to_string()][..])
        );
        assert!(sel.matches(&Res::new().subject()));
        let mut r = Res::new();
        r.kind = "deployment";
        assert!(!sel.matches(&r.subject()));
        r.kind = "DaemonSet";
        assert!(!sel.matches(&r.subject()));
        // Not a glob: `Deploy*` is a literal kind name that never matches.
        let sel = Selector::default().with_kinds(["Deploy*"]);
        assert!(!sel.matches(&Res::new().subject()));
    }

    #[test]
    fn names_any_of_globs() {
        let sel = Selector::default().with_names(set(&["console", "supervisor-*"]));
        assert!(sel.matches(&Res::new().subject()));
        let mut r = Res::new();
        r.name = "supervisor-scheduler";
        assert!(sel.matches(&r.subject()));
        r.name = "identity";
        assert!(!sel.matches(&r.subject()));
    }

    #[test]
    fn namespaces_match_effective_namespace() {
        let sel = Selector::default().with_namespaces(set(&["space*"]));
        assert!(sel.matches(&Res::new().subject()));
        let mut r = Res::new();
        r.namespace = "default";
        assert!(!sel.matches(&r.subject()));
        r.namespace = "";
        assert!(!sel.matches(&r.subject()));
    }

    #[test]
    fn labels_need_key_and_matching_value() {
        let sel = Selector::default()
            .with_label("app.kubernetes.io/part-of", Pattern::new("cloud*").unwrap())
            .with_label("tier", Pattern::new("back*").unwrap());
        assert!(sel.matches(&Res::new().subject()));

        let mut r = Res::new();
        r.labels[1].1 = "frontend".to_string();
        assert!(!sel.matches(&r.subject()), "value must match");

        let mut r = Res::new();
        r.labels.remove(1);
        assert!(!sel.matches(&r.subject()), "key must exist");

        // A value pattern of `*` still requires the key.
        let sel = Selector::default().with_label("missing", Pattern::new("*").unwrap());
        assert!(!sel.matches(&Res::new().subject()));
    }

    #[test]
    fn single_star_stays_in_segment_double_star_crosses() {
        let one = Selector::default().with_images(set(&["harbor.example.com/*"]));
        let two = Selector::default().with_images(set(&["harbor.example.com/**"]));
        let r = Res::new(); // harbor.example.com/cloudforet/console:1.12
        assert!(!one.matches(&r.subject()));
        assert!(two.matches(&r.subject()));

        let mid = Selector::default().with_sources(set(&["spaceone/**/deployment.yaml"]));
        assert!(mid.matches(&r.subject()));
        let shallow = Selector::default().with_sources(set(&["spaceone/*/deployment.yaml"]));
        assert!(!shallow.matches(&r.subject()));
    }

    #[test]
    fn images_match_written_or_fully_qualified() {
        let mut r = Res::new();
        r.images = vec![image("nginx:1.14.2")];
        for pattern in ["nginx*", "docker.io/library/nginx*", "docker.io/**"] {
            let sel = Selector::default().with_images(set(&[pattern]));
            assert!(sel.matches(&r.subject()), "{pattern} should match nginx");
        }
        let sel = Selector::default().with_images(set(&["library/nginx*"]));
        assert!(!sel.matches(&r.subject()));
        let sel = Selector::default().with_images(set(&["harbor.example.com/**"]));
        assert!(!sel.matches(&r.subject()));
    }

    #[test]
    fn images_need_at_least_one_matching_container() {
        let sel = Selector::default().with_images(set(&["harbor.example.com/**"]));
        let mut r = Res::new();
        r.images = vec![
            image("busybox"),
            image("harbor.example.com/cloudforet/console:1.12"),
        ];
        assert!(sel.matches(&r.subject()));
        r.images = vec![image("busybox")];
        assert!(!sel.matches(&r.subject()));
        r.images.clear();
        assert!(!sel.matches(&r.subject()));
    }

    #[test]
    fn sources_never_match_without_a_source() {
        let sel = Selector::default().with_sources(set(&["spaceone/charts/console/**"]));
        assert!(sel.matches(&Res::new().subject()));
        let mut r = Res::new();
        r.source = None;
        assert!(!sel.matches(&r.subject()));
        let everything = Selector::default().with_sources(set(&["**"]));
        assert!(!everything.matches(&r.subject()));
        r.source = Some("spaceone/charts/supervisor/templates/deployment.yaml");
        assert!(!sel.matches(&r.subject()));
    }

    #[test]
    fn all_fields_must_match() {
        let sel = Selector::default()
            .with_kinds(["Deployment"])
            .with_names(set(&["console"]))
            .with_namespaces(set(&["spaceone"]))
            .with_label("tier", Pattern::new("backend").unwrap())
            .with_images(set(&["harbor.example.com/**"]))
            .with_sources(set(&["spaceone/**"]));
        assert!(sel.matches(&Res::new().subject()));
        let mut r = Res::new();
        r.namespace = "other";
        assert!(!sel.matches(&r.subject()));
    }

    #[test]
    fn mismatch_names_the_first_failing_field_and_agrees_with_matches() {
        let sel = Selector::default()
            .with_kinds(["Deployment"])
            .with_names(set(&["consol"]))
            .with_namespaces(set(&["spaceone"]));
        let r = Res::new();
        let miss = sel.mismatch(&r.subject()).unwrap();
        assert_eq!(miss.field, "names");
        assert_eq!(miss.wanted, ["consol"]);
        assert_eq!(miss.actual.as_deref(), Some("console"));
        assert_eq!(
            miss.to_string(),
            "names [\"consol\"] does not match `console`"
        );

        let selectors = [
            Selector::default(),
            Selector::default().with_kinds(["StatefulSet"]),
            Selector::default().with_namespaces(set(&["other"])),
            Selector::default().with_label("tier", Pattern::new("front*").unwrap()),
            Selector::default().with_label("missing", Pattern::new("*").unwrap()),
            Selector::default().with_label_template("tier", "{{ vars.tier }}"),
            Selector::default().with_sources(set(&["other/**"])),
            Selector::default().with_images(set(&["quay.io/**"])),
            Selector::default().with_images(set(&["harbor.example.com/**"])),
        ];
        let mut bare = Res::new();
        bare.namespace = "";
        bare.source = None;
        bare.images.clear();
        for sel in &selectors {
            for r in [&Res::new(), &bare] {
                let subject = r.subject();
                assert_eq!(
                    sel.matches(&subject),
                    sel.mismatch(&subject).is_none(),
                    "{sel:?}"
                );
            }
        }
        let sel = Selector::default().with_label("missing", Pattern::new("*").unwrap());
        let miss = sel.mismatch(&Res::new().subject()).unwrap();
        assert_eq!((miss.field.as_str(), miss.actual), ("labels.missing", None));
        let sel = Selector::default().with_namespaces(set(&["x"]));
        assert_eq!(sel.mismatch(&bare.subject()).unwrap().actual, None);
    }

    #[test]
    fn pattern_errors_say_why() {
        assert_eq!(Pattern::new("").unwrap_err(), PatternError::Empty);
        let err = Pattern::new("app-[a").unwrap_err();
        assert!(
            matches!(&err, PatternError::Invalid { pattern, kind: ErrorKind::UnclosedClass }
                if pattern == "app-[a"),
            "{err:?}"
        );
        assert!(err.hint().contains("[...]"));
        let err = Pattern::new("{a,b").unwrap_err();
        assert!(err.to_string().contains("`{a,b`"), "{err}");
        assert!(err.hint().contains("braces"));
        assert!(
            err.to_string().contains("unclosed alternate group"),
            "{err}"
        );
        let err = Pattern::new("[z-a]").unwrap_err();
        assert!(err.hint().contains("low to high"), "{}", err.hint());
        let err = Pattern::new("trailing\\").unwrap_err();
        assert!(err.hint().contains("backslash"), "{}", err.hint());
    }

    #[test]
    fn partial_double_star_is_rejected() {
        for bad in [
            "harbor.example.com**",
            "**nginx",
            "a/**b",
            "a/***",
            "a/b**/c",
        ] {
            assert!(
                matches!(
                    Pattern::new(bad),
                    Err(PatternError::PartialRecursive { .. })
                ),
                "{bad}"
            );
        }
        for good in [
            "**", "a/**", "**/b", "a/**/b", "{a,**}/x", "a\\*\\*b", "[*]*", "a*",
        ] {
            assert!(Pattern::new(good).is_ok(), "{good}");
        }
    }

    #[test]
    fn kind_names() {
        for good in ["Deployment", "StatefulSet", "CronJob", "V1Thing"] {
            assert!(is_kind_name(good), "{good}");
        }
        for bad in ["", "deployment", "Deploy*", "Stateful-Set", "1Pod", "Pod "] {
            assert!(!is_kind_name(bad), "{bad}");
        }
    }
}
