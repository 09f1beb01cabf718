//! `match:` and `exclude:`: kinds, names, namespaces, labels, images, sources.

use super::*;

impl Validator<'_> {
    pub(super) fn selector(&mut self, raw: RawSelector, block: &str) -> Selector {
        let RawSelector {
            kinds,
            names,
            namespaces,
            labels,
            images,
            sources,
        } = raw;
        let mut selector = Selector::default();
        if let Some(kinds) = kinds
            && self.non_empty(&kinds, block, "kinds", "any kind")
        {
            for kind in &kinds.value {
                if let Err((message, hint)) = check_kind(&kind.value) {
                    self.report(
                        ProblemKind::InvalidKind,
                        pos(&kind.referenced),
                        message,
                        hint,
                    );
                }
            }
            selector = selector.with_kinds(kinds.value.into_iter().map(|k| k.value));
        }
        if let Some(set) = self.patterns(names, block, "names", "any name") {
            selector = selector.with_names(set);
        }
        if let Some(set) = self.patterns(namespaces, block, "namespaces", "any namespace") {
            selector = selector.with_namespaces(set);
        }
        for (key, value) in labels.map(|l| l.value.0).unwrap_or_default() {
            if crate::rules::template::is_template(&value.value) {
                // Rendered once per run (vars, --set, env, release), before matching.
                match crate::rules::template::check_syntax(&value.value) {
                    Ok(()) => selector = selector.with_label_template(key.value, value.value),
                    Err(e) => self.report(
                        ProblemKind::InvalidPattern,
                        pos(&value.referenced),
                        format!("in `{block}.labels.{}`: {e}", key.value),
                        "write a minijinja expression such as `{{ vars.team }}`",
                    ),
                }
                continue;
            }
            match Pattern::new(&value.value) {
                Ok(pattern) => selector = selector.with_label(key.value, pattern),
                Err(e) => self.report(
                    ProblemKind::InvalidPattern,
                    pos(&value.referenced),
                    format!("in `{block}.labels.{}`: {e}", key.value),
                    e.hint(),
                ),
            }
        }
        if let Some(set) = self.patterns(images, block, "images", "any image") {
            selector = selector.with_images(set);
        }
        if let Some(set) = self.patterns(sources, block, "sources", "any source file") {
            selector = selector.with_sources(set);
        }
        selector
    }

    /// Reports `field: []`, which would make the selector match nothing.
    pub(super) fn non_empty(&mut self, list: &List, block: &str, field: &str, any: &str) -> bool {
        if !list.value.is_empty() {
            return true;
        }
        self.report(
            ProblemKind::EmptyList,
            pos(&list.referenced),
            format!("`{block}.{field}: []` matches nothing"),
            format!("delete `{field}` to match {any}, or list at least one entry"),
        );
        false
    }

    pub(super) fn patterns(
        &mut self,
        list: Option<List>,
        block: &str,
        field: &str,
        any: &str,
    ) -> Option<PatternSet> {
        let list = list?;
        if !self.non_empty(&list, block, field, any) {
            return None;
        }
        let mut patterns = Vec::new();
        for text in &list.value {
            match Pattern::new(&text.value) {
                Ok(p) => patterns.push(p),
                Err(e) => self.report(
                    ProblemKind::InvalidPattern,
                    pos(&text.referenced),
                    format!("in `{block}.{field}`: {e}"),
                    e.hint(),
                ),
            }
        }
        Some(PatternSet::new(patterns))
    }
}

pub(super) fn dedup<'a>(names: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for n in names {
        if !out.contains(&n) {
            out.push(n);
        }
    }
    out
}

/// `Err((message, hint))` for a `kinds:` entry that cannot be meant as written.
pub(super) fn check_kind(kind: &str) -> Result<(), (String, String)> {
    let known = POD_SPEC_PATHS
        .iter()
        .map(|p| p.kind)
        .find(|k| k.eq_ignore_ascii_case(kind));
    if is_kind_name(kind) {
        // `Statefulset` looks like a kind, but would silently never match.
        return match known {
            Some(k) if k != kind => Err((
                format!("kind `{kind}` never matches: kinds are case-sensitive"),
                format!("write `{k}`"),
            )),
            _ => Ok(()),
        };
    }
    if kind.contains(['*', '?', '[', '{']) {
        return Err((
            format!("`{kind}` is not a kind: `kinds` are exact names, not globs"),
            "list each kind, e.g. `kinds: [Deployment, StatefulSet]`, or delete `kinds` to \
             match any kind"
                .to_string(),
        ));
    }
    let message = format!(
        "`{kind}` is not a Kubernetes kind name (CamelCase letters and digits, as in a \
         manifest's `kind:`)"
    );
    let suggestion = known.map(str::to_string).or_else(|| camel_case(kind));
    let hint = match suggestion {
        Some(s) => format!("write `{s}`"),
        None => "write the kind as in the manifest's `kind:` field, e.g. `Deployment`".to_string(),
    };
    Err((message, hint))
}

/// `stateful-set` -> `StatefulSet`; `None` if that still is not a kind name.
pub(super) fn camel_case(text: &str) -> Option<String> {
    let out: String = text
        .split(|c: char| !c.is_ascii_alphanumeric())
        .flat_map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase())
                .into_iter()
                .chain(chars)
        })
        .collect();
    is_kind_name(&out).then_some(out)
}
